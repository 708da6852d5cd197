//! A word-level diff of two texts (prompt versions, an optimization's variant against its
//! control): the pure [`word_diff`] and the `<WordDiff/>` view that renders it.
//!
//! Texts are split into runs of non-whitespace (words) and runs of whitespace, so the
//! whitespace survives the round trip; the runs are diffed with Myers' linear-space
//! algorithm (O((N+M)·D) time, O(N+M) memory), which stays fast on 5,000-word prompts
//! whose versions differ in a few places. A work budget bounds pathological inputs: past
//! it, the rest of a region is reported as removed and re-added, which is still a correct
//! (if less minimal) diff.

use std::collections::HashMap;

use leptos::prelude::*;

/// One run of a diff, in reading order. Concatenating the `Same` and `Removed` texts gives
/// the old text back; the `Same` and `Added` texts give the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffSpan {
    Same(String),
    Added(String),
    Removed(String),
}

impl DiffSpan {
    pub fn text(&self) -> &str {
        match self {
            DiffSpan::Same(t) | DiffSpan::Added(t) | DiffSpan::Removed(t) => t,
        }
    }
}

/// How much a diff changed, in words (whitespace runs do not count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffSummary {
    pub added_words: usize,
    pub removed_words: usize,
    /// Whether any span changed at all (a whitespace-only change has zero words).
    pub changed: bool,
}

impl DiffSummary {
    /// "12 words added, 3 removed"; "No differences"; "Only whitespace changed".
    pub fn describe(&self) -> String {
        if !self.changed {
            return "No differences".to_owned();
        }
        if self.added_words == 0 && self.removed_words == 0 {
            return "Only whitespace changed".to_owned();
        }
        let noun = if self.added_words == 1 {
            "word"
        } else {
            "words"
        };
        format!(
            "{} {noun} added, {} removed",
            self.added_words, self.removed_words
        )
    }
}

/// A piece of a diff as shown with unchanged runs collapsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffPiece {
    Span(DiffSpan),
    /// Unchanged words left out of the view.
    Skipped {
        words: usize,
    },
}

/// How many words of unchanged context stay on each side of a change when collapsing.
pub const CONTEXT_WORDS: usize = 6;

/// Work units (diagonal steps and snake probes) one diff may spend before it settles for a
/// less minimal answer: a tenth of a second or so of wasm. Two 5,000-word texts with
/// nothing in common reach it; edits of a real prompt spend a tiny part of it.
const WORK_BUDGET: u64 = 10_000_000;

/// The word-level diff of `old` → `new`. Adjacent runs of one kind are merged, and within a
/// changed region the removed text comes before the added text.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffSpan> {
    let old_tokens = tokenize(old);
    let new_tokens = tokenize(new);
    // Intern tokens so the inner loops compare integers, not strings.
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let a = intern(&mut ids, &old_tokens);
    let b = intern(&mut ids, &new_tokens);

    let mut ops = Vec::new();
    let mut myers = Myers::new(a.len() + b.len());
    myers.conquer(&a, 0, a.len(), &b, 0, b.len(), &mut ops);

    let mut spans: Vec<DiffSpan> = Vec::new();
    for op in ops {
        let span = match op {
            Op::Same { old_at, len } => DiffSpan::Same(old_tokens[old_at..old_at + len].concat()),
            Op::Removed { old_at, len } => {
                DiffSpan::Removed(old_tokens[old_at..old_at + len].concat())
            }
            Op::Added { new_at, len } => DiffSpan::Added(new_tokens[new_at..new_at + len].concat()),
        };
        spans.push(span);
    }
    tidy(spans)
}

/// Counts the words a diff added and removed.
pub fn summarize(spans: &[DiffSpan]) -> DiffSummary {
    let mut summary = DiffSummary::default();
    for span in spans {
        match span {
            DiffSpan::Same(_) => {}
            DiffSpan::Added(t) => {
                summary.changed = true;
                summary.added_words += t.split_whitespace().count();
            }
            DiffSpan::Removed(t) => {
                summary.changed = true;
                summary.removed_words += t.split_whitespace().count();
            }
        }
    }
    summary
}

/// The diff with each long unchanged run cut down to `context` words beside the changes
/// (none at all when nothing changed), the rest counted in a [`DiffPiece::Skipped`].
pub fn collapse_unchanged(spans: &[DiffSpan], context: usize) -> Vec<DiffPiece> {
    let mut pieces = Vec::new();
    let last = spans.len().saturating_sub(1);
    for (i, span) in spans.iter().enumerate() {
        let DiffSpan::Same(text) = span else {
            pieces.push(DiffPiece::Span(span.clone()));
            continue;
        };
        let tokens = tokenize(text);
        let words = tokens.iter().filter(|t| !is_space(t)).count();
        // Context is kept towards a change: after one (head) and before one (tail).
        let keep_head = if i > 0 { context } else { 0 };
        let keep_tail = if i < last { context } else { 0 };
        if words <= keep_head + keep_tail {
            pieces.push(DiffPiece::Span(span.clone()));
            continue;
        }
        let head_end = token_index_after_words(&tokens, keep_head);
        let tail_start = token_index_before_last_words(&tokens, keep_tail);
        if head_end > 0 {
            pieces.push(DiffPiece::Span(DiffSpan::Same(tokens[..head_end].concat())));
        }
        pieces.push(DiffPiece::Skipped {
            words: words - keep_head - keep_tail,
        });
        if tail_start < tokens.len() {
            pieces.push(DiffPiece::Span(DiffSpan::Same(
                tokens[tail_start..].concat(),
            )));
        }
    }
    pieces
}

/// The end of the first `words` words, with the whitespace after them.
fn token_index_after_words(tokens: &[&str], words: usize) -> usize {
    if words == 0 {
        return 0;
    }
    let mut seen = 0;
    for (i, t) in tokens.iter().enumerate() {
        if !is_space(t) {
            seen += 1;
            if seen == words {
                // Keep the whitespace that follows the last kept word.
                return if tokens.get(i + 1).is_some_and(|t| is_space(t)) {
                    i + 2
                } else {
                    i + 1
                };
            }
        }
    }
    tokens.len()
}

/// The start of the last `words` words, with the whitespace before them.
fn token_index_before_last_words(tokens: &[&str], words: usize) -> usize {
    if words == 0 {
        return tokens.len();
    }
    let mut seen = 0;
    for (i, t) in tokens.iter().enumerate().rev() {
        if !is_space(t) {
            seen += 1;
            if seen == words {
                return if i > 0 && is_space(tokens[i - 1]) {
                    i - 1
                } else {
                    i
                };
            }
        }
    }
    0
}

fn is_space(token: &str) -> bool {
    token.starts_with(char::is_whitespace)
}

/// Each token's number in `ids`, numbering new tokens as they come.
fn intern<'a>(ids: &mut HashMap<&'a str, u32>, tokens: &[&'a str]) -> Vec<u32> {
    tokens
        .iter()
        .map(|t| {
            let next = ids.len() as u32;
            *ids.entry(t).or_insert(next)
        })
        .collect()
}

/// Alternating runs of whitespace and non-whitespace, covering the whole text.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        match in_space {
            Some(previous) if previous != space => {
                tokens.push(&text[start..i]);
                start = i;
            }
            _ => {}
        }
        in_space = Some(space);
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// Merges neighbours of one kind, folds whitespace-only unchanged runs that sit between two
/// changes into the change (so "a b c" → "x y z" reads as one replacement, not three), and
/// orders each changed region as removed-then-added.
fn tidy(spans: Vec<DiffSpan>) -> Vec<DiffSpan> {
    let mut out: Vec<DiffSpan> = Vec::new();
    // The changed region being gathered: (removed, added, whether anything is in it).
    let mut removed = String::new();
    let mut added = String::new();
    let mut in_change = false;
    let flush = |out: &mut Vec<DiffSpan>, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            out.push(DiffSpan::Removed(std::mem::take(removed)));
        }
        if !added.is_empty() {
            out.push(DiffSpan::Added(std::mem::take(added)));
        }
    };
    let mut iter = spans.into_iter().peekable();
    while let Some(span) = iter.next() {
        match span {
            DiffSpan::Removed(t) => {
                removed.push_str(&t);
                in_change = true;
            }
            DiffSpan::Added(t) => {
                added.push_str(&t);
                in_change = true;
            }
            DiffSpan::Same(t) => {
                let between_changes = in_change
                    && t.chars().all(char::is_whitespace)
                    && iter
                        .peek()
                        .is_some_and(|next| !matches!(next, DiffSpan::Same(_)));
                if between_changes {
                    removed.push_str(&t);
                    added.push_str(&t);
                    continue;
                }
                flush(&mut out, &mut removed, &mut added);
                in_change = false;
                match out.last_mut() {
                    Some(DiffSpan::Same(previous)) => previous.push_str(&t),
                    _ if t.is_empty() => {}
                    _ => out.push(DiffSpan::Same(t)),
                }
            }
        }
    }
    flush(&mut out, &mut removed, &mut added);
    out
}

/// One step of the edit script, in token indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same { old_at: usize, len: usize },
    Removed { old_at: usize, len: usize },
    Added { new_at: usize, len: usize },
}

/// Myers' divide-and-conquer diff with the "middle snake" (Myers 1986, section 4b), after
/// the `similar` crate's implementation. `vf`/`vb` are the forward and backward furthest
/// reaching x per diagonal, indexed from `offset` so negative diagonals fit.
struct Myers {
    vf: Vec<usize>,
    vb: Vec<usize>,
    offset: isize,
    work: u64,
}

impl Myers {
    fn new(total_len: usize) -> Self {
        let max_d = total_len.div_ceil(2) + 1;
        Myers {
            vf: vec![0; 2 * max_d + 2],
            vb: vec![0; 2 * max_d + 2],
            offset: max_d as isize,
            work: 0,
        }
    }

    fn idx(&self, k: isize) -> usize {
        (k + self.offset) as usize
    }

    #[allow(clippy::too_many_arguments)]
    fn conquer(
        &mut self,
        a: &[u32],
        mut a_start: usize,
        mut a_end: usize,
        b: &[u32],
        mut b_start: usize,
        mut b_end: usize,
        ops: &mut Vec<Op>,
    ) {
        let prefix = common_prefix(&a[a_start..a_end], &b[b_start..b_end]);
        if prefix > 0 {
            ops.push(Op::Same {
                old_at: a_start,
                len: prefix,
            });
        }
        a_start += prefix;
        b_start += prefix;
        let suffix = common_suffix(&a[a_start..a_end], &b[b_start..b_end]);
        a_end -= suffix;
        b_end -= suffix;

        if a_start == a_end && b_start == b_end {
            // Nothing between the common ends.
        } else if b_start == b_end {
            ops.push(Op::Removed {
                old_at: a_start,
                len: a_end - a_start,
            });
        } else if a_start == a_end {
            ops.push(Op::Added {
                new_at: b_start,
                len: b_end - b_start,
            });
        } else {
            match self.middle_snake(a, a_start, a_end, b, b_start, b_end) {
                // A split strictly inside the region makes progress on both halves.
                Some((x, y)) if (x, y) != (a_start, b_start) && (x, y) != (a_end, b_end) => {
                    self.conquer(a, a_start, x, b, b_start, y, ops);
                    self.conquer(a, x, a_end, b, y, b_end, ops);
                }
                _ => {
                    ops.push(Op::Removed {
                        old_at: a_start,
                        len: a_end - a_start,
                    });
                    ops.push(Op::Added {
                        new_at: b_start,
                        len: b_end - b_start,
                    });
                }
            }
        }
        if suffix > 0 {
            ops.push(Op::Same {
                old_at: a_end,
                len: suffix,
            });
        }
    }

    /// The start of a snake on an optimal path through the middle of the edit graph, or
    /// `None` once the work budget is spent.
    fn middle_snake(
        &mut self,
        a: &[u32],
        a_start: usize,
        a_end: usize,
        b: &[u32],
        b_start: usize,
        b_end: usize,
    ) -> Option<(usize, usize)> {
        let n = a_end - a_start;
        let m = b_end - b_start;
        let delta = n as isize - m as isize;
        let odd = delta & 1 == 1;
        let one = self.idx(1);
        self.vf[one] = 0;
        self.vb[one] = 0;
        let d_max = (n + m).div_ceil(2) as isize + 1;
        for d in 0..d_max {
            self.work += 2 * d as u64 + 2;
            if self.work > WORK_BUDGET {
                return None;
            }
            // Forward: from the top-left corner.
            let mut k = d;
            while k >= -d {
                let (km, kp) = (self.idx(k - 1), self.idx(k + 1));
                let mut x = if k == -d || (k != d && self.vf[km] < self.vf[kp]) {
                    self.vf[kp]
                } else {
                    self.vf[km] + 1
                };
                let y = (x as isize - k) as usize;
                let (x0, y0) = (x, y);
                if x < n && y < m {
                    let run = common_prefix(&a[a_start + x..a_end], &b[b_start + y..b_end]);
                    self.work += run as u64;
                    x += run;
                }
                let ki = self.idx(k);
                self.vf[ki] = x;
                if odd && (k - delta).abs() < d {
                    let back = self.vb[self.idx(-(k - delta))];
                    if x + back >= n {
                        return Some((a_start + x0, b_start + y0));
                    }
                }
                k -= 2;
            }
            // Backward: from the bottom-right corner, x counted from the end.
            let mut k = d;
            while k >= -d {
                let (km, kp) = (self.idx(k - 1), self.idx(k + 1));
                let mut x = if k == -d || (k != d && self.vb[km] < self.vb[kp]) {
                    self.vb[kp]
                } else {
                    self.vb[km] + 1
                };
                let mut y = (x as isize - k) as usize;
                if x < n && y < m {
                    let run = common_suffix(&a[a_start..a_end - x], &b[b_start..b_end - y]);
                    self.work += run as u64;
                    x += run;
                    y += run;
                }
                let ki = self.idx(k);
                self.vb[ki] = x;
                if !odd && (k - delta).abs() <= d {
                    let forward = self.vf[self.idx(-(k - delta))];
                    if x + forward >= n {
                        return Some((a_start + n - x, b_start + m - y));
                    }
                }
                k -= 2;
            }
        }
        None
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[u32], b: &[u32]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The diff of `old` → `new` as text with `<del>`/`<ins>` (each announced as "removed" /
/// "added" to screen readers) under a summary line; with `differences_only`, long unchanged
/// runs shrink to a few words of context and a count of what was left out.
#[component]
pub fn WordDiff(
    /// The earlier text (a previous version, the control).
    #[prop(into)]
    old: Signal<String>,
    /// The later text (the version compared, the variant).
    #[prop(into)]
    new: Signal<String>,
    /// Collapse unchanged runs.
    #[prop(into, optional)]
    differences_only: Signal<bool>,
) -> impl IntoView {
    let spans = Memo::new(move |_| word_diff(&old.get(), &new.get()));
    let summary = move || summarize(&spans.get()).describe();
    let body = move || {
        let spans = spans.get();
        let pieces = if differences_only.get() {
            collapse_unchanged(&spans, CONTEXT_WORDS)
        } else {
            spans.into_iter().map(DiffPiece::Span).collect()
        };
        pieces.into_iter().map(render_piece).collect_view()
    };
    view! {
        <div class="word-diff">
            <p class="diff-summary" aria-live="polite">{summary}</p>
            <div class="diff-body">{body}</div>
        </div>
    }
}

fn render_piece(piece: DiffPiece) -> AnyView {
    match piece {
        DiffPiece::Span(DiffSpan::Same(text)) => view! { <span>{text}</span> }.into_any(),
        DiffPiece::Span(DiffSpan::Added(text)) => view! {
            <ins><span class="visually-hidden">"[added: "</span>{text}<span class="visually-hidden">"]"</span></ins>
        }
        .into_any(),
        DiffPiece::Span(DiffSpan::Removed(text)) => view! {
            <del><span class="visually-hidden">"[removed: "</span>{text}<span class="visually-hidden">"]"</span></del>
        }
        .into_any(),
        DiffPiece::Skipped { words } => {
            let label = if words == 1 {
                "… 1 unchanged word …".to_owned()
            } else {
                format!("… {words} unchanged words …")
            };
            view! { <span class="diff-skip">{label}</span> }.into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuild(spans: &[DiffSpan]) -> (String, String) {
        let mut old = String::new();
        let mut new = String::new();
        for span in spans {
            match span {
                DiffSpan::Same(t) => {
                    old.push_str(t);
                    new.push_str(t);
                }
                DiffSpan::Removed(t) => old.push_str(t),
                DiffSpan::Added(t) => new.push_str(t),
            }
        }
        (old, new)
    }

    /// Tokens in common, by the textbook O(n·m) table (small inputs only).
    fn lcs_len(a: &[&str], b: &[&str]) -> usize {
        let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                table[i][j] = if a[i] == b[j] {
                    table[i + 1][j + 1] + 1
                } else {
                    table[i + 1][j].max(table[i][j + 1])
                };
            }
        }
        table[0][0]
    }

    /// A small deterministic generator, so the property test needs no crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
    }

    fn random_text(rng: &mut Lcg, words: usize) -> String {
        const VOCAB: [&str; 6] = ["a", "b", "c", "dé", "e", "f"];
        const SPACES: [&str; 3] = [" ", "\n", "  "];
        let mut text = String::new();
        for i in 0..words {
            if i > 0 {
                text.push_str(SPACES[(rng.next() % 3) as usize]);
            }
            text.push_str(VOCAB[(rng.next() % 6) as usize]);
        }
        text
    }

    #[test]
    fn random_diffs_rebuild_both_texts_and_are_minimal() {
        let mut rng = Lcg(7);
        for _ in 0..2_000 {
            let old_words = (rng.next() % 12) as usize;
            let old = random_text(&mut rng, old_words);
            let new_words = (rng.next() % 12) as usize;
            let new = random_text(&mut rng, new_words);
            // Untidied ops are minimal: their Same tokens equal the LCS.
            let a = tokenize(&old);
            let b = tokenize(&new);
            let mut ids: HashMap<&str, u32> = HashMap::new();
            let ai = intern(&mut ids, &a);
            let bi = intern(&mut ids, &b);
            let mut ops = Vec::new();
            Myers::new(ai.len() + bi.len()).conquer(&ai, 0, ai.len(), &bi, 0, bi.len(), &mut ops);
            let same: usize = ops
                .iter()
                .map(|op| match op {
                    Op::Same { len, .. } => *len,
                    _ => 0,
                })
                .sum();
            assert_eq!(same, lcs_len(&a, &b), "{old:?} → {new:?}");
            let spans = word_diff(&old, &new);
            assert_eq!(rebuild(&spans), (old.clone(), new.clone()));
        }
    }

    #[test]
    fn large_prompts_diff_quickly() {
        let mut rng = Lcg(42);
        let old = random_text(&mut rng, 5_000);
        let new = random_text(&mut rng, 5_000);
        let spans = word_diff(&old, &new);
        assert_eq!(rebuild(&spans), (old, new));
    }
}
