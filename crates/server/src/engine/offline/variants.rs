//! The offline engine's prompt variants: targeted edits of the control prompt. Each variant
//! adds one instruction block per behaviour it targets (or swaps it in for a sentence that
//! asks for the opposite), so that a variant's effect can be traced to the issue it answers.
//! Keyword rules also tell which behaviours a prompt already asks for ([`behaviours_in`]),
//! which the simulation uses to decide how the agent behaves.

use std::collections::BTreeSet;

use super::negation::affirms;
use crate::engine::personas::Behaviour;
use crate::engine::rng::SeededRng;
use crate::engine::{
    IssueFrequency, IssueKind, OptimizationIntent, VariantProposal, VariantRequest,
};

/// How the offline engine recognises, writes and names one behaviour.
struct Rule {
    behaviour: Behaviour,
    /// How a change summary names the instruction.
    summary: &'static str,
    /// Ways to write the instruction; the seed picks one. Each is recognised by `markers`.
    phrasings: &'static [&'static str],
    /// A sentence containing one of these asks for the behaviour…
    markers: &'static [&'static str],
    /// …unless it also contains one of these, which ask for the opposite; a variant replaces
    /// such a sentence rather than contradicting it.
    weak: &'static [&'static str],
    /// Words in an optimization intent that ask for the behaviour.
    intent_words: &'static [&'static str],
}

static RULES: [Rule; 8] = [
    Rule {
        behaviour: Behaviour::LengthLimit,
        summary: "a length limit (about three sentences unless the user asks for more)",
        phrasings: &[
            "Keep answers short: at most three sentences, unless the user asks for more.",
            "Be concise: answer in 60 words or fewer and leave out background the user did not ask for.",
        ],
        markers: &[
            "concise",
            "brief",
            "succinct",
            "answers short",
            "replies short",
            "keep it short",
            "short answers",
            "short replies",
            "at most three sentences",
            "at most two sentences",
            "sentences or fewer",
            "words or fewer",
            "word limit",
        ],
        weak: &[
            "detailed",
            "thorough",
            "comprehensive",
            "in depth",
            "in-depth",
            "as much detail",
            "long answers",
            "explain everything",
            "exhaustive",
            "elaborate",
        ],
        intent_words: &["short", "concise", "brief", "length", "verbos", "long", "wordy", "token", "cost"],
    },
    Rule {
        behaviour: Behaviour::EscalationPolicy,
        summary: "an escalation policy (hand over to a human on request or after two failed attempts)",
        phrasings: &[
            "If the user asks for a human, or the problem is still unresolved after two attempts, offer to hand the conversation over to a human agent and do it without arguing.",
            "When a user asks to speak to a person, or you have tried twice without solving the problem, transfer them to a human colleague and tell them you are doing so.",
        ],
        markers: &[
            "escalat",
            "human agent",
            "human colleague",
            "to a human",
            "a human",
            "hand over",
            "hand the conversation over",
            "handover",
            "hand-over",
            "hand off",
            "transfer them",
            "transfer the user",
            "transfer the customer",
            "live agent",
            "real person",
            "supervisor",
        ],
        weak: &[
            "never transfer",
            "do not transfer",
            "don't transfer",
            "never escalate",
            "do not escalate",
            "don't escalate",
            "never hand over",
            "do not hand over",
            "don't hand over",
            "handle everything yourself",
            "no human",
        ],
        intent_words: &["escalat", "human", "hand over", "handover", "hand-over", "transfer"],
    },
    Rule {
        behaviour: Behaviour::AskForMissingDetails,
        summary: "a rule to ask for missing details (order number, account email…) before acting",
        phrasings: &[
            "Before you look anything up or take an action, check that you have the details it needs (order number, account email, plan name); if one is missing, ask for it in one short question.",
            "If a request lacks a detail you need, such as an order number or the account's email, ask the user for it first instead of working from assumptions.",
        ],
        markers: &[
            "ask for it",
            "ask for any missing",
            "ask for missing",
            "ask the user for",
            "ask the customer for",
            "clarifying question",
            "missing detail",
            "missing information",
            "before acting",
            "before you act",
            "request any missing",
            "details it needs",
            "details you need",
        ],
        weak: &[
            "never ask",
            "do not ask",
            "don't ask",
            "without asking",
            "assume the",
            "avoid asking",
            "avoid questions",
        ],
        intent_words: &["detail", "clarif", "missing", "order number", "ask for"],
    },
    Rule {
        behaviour: Behaviour::ToolErrorHandling,
        summary: "tool-error handling (say what failed, retry once, then offer an alternative)",
        phrasings: &[
            "If a tool call fails or returns an error, tell the user plainly that the lookup did not work, retry once, and otherwise offer another way forward, such as a ticket or an email follow-up.",
            "When a tool returns an error, do not pretend it worked: say what failed and offer an alternative, such as trying again later or opening a ticket.",
        ],
        markers: &[
            "tool call fails",
            "tool fails",
            "tool returns an error",
            "tool error",
            "if a tool",
            "when a tool",
            "lookup fails",
            "lookup did not work",
            "not pretend it worked",
            "never pretend it worked",
            "don't pretend it worked",
            "system is down",
            "if the call fails",
        ],
        weak: &[
            "ignore errors",
            "ignore tool errors",
            "never mention errors",
            "do not mention errors",
            "don't mention errors",
            "hide errors",
            "never mention failures",
        ],
        intent_words: &["tool", "error", "failure", "fail", "reliab"],
    },
    Rule {
        behaviour: Behaviour::EmpatheticTone,
        summary: "an empathetic tone (acknowledge the user's frustration before solving)",
        phrasings: &[
            "When the user is upset, acknowledge their frustration in one sentence before solving the problem; stay calm and never blame the user.",
            "Be warm and empathetic: recognise how the user feels, then move straight to what you can do.",
        ],
        markers: &[
            "empath",
            "acknowledge their frustration",
            "acknowledge the user's frustration",
            "acknowledge how",
            "how the user feels",
            "their feelings",
            "stay calm",
            "remain calm",
            "be patient",
            "compassion",
            "frustrat",
        ],
        weak: &[
            "never apologi",
            "do not apologi",
            "don't apologi",
            "be blunt",
            "be curt",
        ],
        intent_words: &[
            "empath",
            "tone",
            "sentiment",
            "frustrat",
            "polite",
            "friendl",
            "warm",
            "satisfaction",
            "angry",
        ],
    },
    Rule {
        behaviour: Behaviour::AnswerDirectly,
        summary: "a rule to answer the question asked, first and directly (no deflection, no needless refusal)",
        phrasings: &[
            "Answer the user's actual question in your first sentence; do not deflect, and decline only what policy forbids, saying why.",
            "Lead with a direct answer to what was asked; refuse only requests that are clearly out of policy, and then say what you can do instead.",
        ],
        markers: &[
            "answer directly",
            "direct answer",
            "actual question",
            "answer the question",
            "answer the user's question",
            "do not deflect",
            "don't deflect",
            "never deflect",
            "lead with",
            "first sentence",
            "get to the point",
        ],
        weak: &[
            "when in doubt, refuse",
            "if in doubt, refuse",
            "if unsure, refuse",
            "if in doubt, decline",
            "when in doubt, decline",
            "refuse anything",
            "decline anything",
        ],
        intent_words: &["relevan", "direct", "refus", "deflect", "clarity", "to the point", "unanswered"],
    },
    Rule {
        behaviour: Behaviour::VaryAndProgress,
        summary: "a rule against repeating itself (every reply must add something new)",
        phrasings: &[
            "Never repeat a previous reply; if the user is still stuck, try a different approach or a next step.",
            "Do not repeat yourself or apologise more than once: every reply must move the conversation forward with new information or a next step.",
        ],
        markers: &[
            "never repeat",
            "do not repeat",
            "don't repeat",
            "avoid repeating",
            "without repeating",
            "move the conversation forward",
            "different approach",
        ],
        weak: &[
            "always restate",
            "always repeat",
            "repeat the question",
            "always apologi",
        ],
        intent_words: &["repeat", "repetit", "apolog", "loop", "stuck", "progress"],
    },
    Rule {
        behaviour: Behaviour::GroundedAnswers,
        summary: "a grounding rule (state only facts from tools or this prompt; say when unsure)",
        phrasings: &[
            "Only state facts (dates, prices, numbers, policies) that come from tool results or this prompt; if you are unsure, say so rather than inventing an answer.",
            "Never make up order details, prices or dates: use only what your tools return or what this prompt says, and say you are not sure when you lack the facts.",
        ],
        markers: &[
            "only state facts",
            "only use facts",
            "never invent",
            "do not invent",
            "don't invent",
            "never make up",
            "do not make up",
            "don't make up",
            "rather than inventing",
            "say you are not sure",
            "say you're not sure",
            "say you don't know",
            "if you are unsure",
            "if unsure, say",
            "grounded",
            "hallucinat",
            "what your tools return",
        ],
        weak: &[
            "always give a specific",
            "always give an exact",
            "never say you don't know",
            "never admit",
            "always provide a date",
            "educated guess",
            "best guess",
        ],
        intent_words: &[
            "hallucinat",
            "accura",
            "ground",
            "fact",
            "made up",
            "make up",
            "invent",
            "correct",
            "truth",
        ],
    },
];

/// Added when the prompt already asks for every behaviour: a self-check that reinforces them.
const SELF_CHECKS: [&str; 3] = [
    "Before sending each reply, check it against the rules above: it answers what was asked, stays short, states only what you know and offers a next step.",
    "Re-read your draft before sending: remove anything the user did not ask for, anything you cannot back with a tool result or this prompt, and anything you already said.",
    "Priorities, in order: solve the user's problem, be accurate, be brief, be kind. When two rules pull apart, follow this order.",
];

fn rule(behaviour: Behaviour) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.behaviour == behaviour)
        // Every behaviour has a rule (a test pins it); LengthLimit is a harmless stand-in.
        .unwrap_or(&RULES[0])
}

/// A sentence of a prompt, as a byte range (delimiter included), and its lowercase text.
struct Sentence {
    start: usize,
    end: usize,
    lower: String,
}

fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut push = |start: usize, end: usize| {
        let piece = &text[start..end];
        let trimmed = piece.trim_start();
        let start = start + (piece.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        if !trimmed.is_empty() {
            out.push(Sentence {
                start,
                end: start + trimmed.len(),
                lower: trimmed
                    .to_lowercase()
                    .replace(['\u{2018}', '\u{2019}'], "'"),
            });
        }
    };
    for (i, c) in text.char_indices() {
        match c {
            // Delimiters are ASCII, so i + 1 is a char boundary.
            '.' | '!' | '?' => {
                push(start, i + 1);
                start = i + 1;
            }
            '\n' => {
                push(start, i);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        push(start, text.len());
    }
    out
}

fn asks_for(rule: &Rule, sentence: &str) -> bool {
    rule.markers.iter().any(|m| affirms(sentence, m))
        && !rule.weak.iter().any(|w| sentence.contains(w))
}

/// The offline engine's standard wording of an instruction asking for a behaviour.
pub fn instruction(behaviour: Behaviour) -> &'static str {
    rule(behaviour)
        .phrasings
        .first()
        .copied()
        .unwrap_or_default()
}

/// The behaviours a prompt asks for, by keyword rules applied sentence by sentence (a
/// sentence that also asks for the opposite, "never transfer to a human", does not count,
/// nor does a marker the sentence denies: "you are an AI, not a human").
pub fn behaviours_in(prompt: &str) -> BTreeSet<Behaviour> {
    let mut found = BTreeSet::new();
    for sentence in sentences(prompt) {
        for rule in &RULES {
            if asks_for(rule, &sentence.lower) {
                found.insert(rule.behaviour);
            }
        }
    }
    found
}

/// The first sentence that asks for the opposite of a behaviour.
fn weak_sentence(text: &str, rule: &Rule) -> Option<(usize, usize)> {
    sentences(text)
        .into_iter()
        .find(|s| rule.weak.iter().any(|w| s.lower.contains(w)))
        .map(|s| (s.start, s.end))
}

/// Why a behaviour is targeted.
#[derive(Debug, Clone, Default)]
struct Reasons<'a> {
    issues: Vec<&'a IssueFrequency>,
    intent: Option<String>,
}

#[derive(Debug, Clone)]
struct Target<'a> {
    behaviour: Behaviour,
    reasons: Reasons<'a>,
}

/// Behaviours to target, most wanted first: those the intent names, then the remedies of
/// the issues (most frequent first), without those the prompt already asks for.
fn targets<'a>(
    present: &BTreeSet<Behaviour>,
    issues: &'a [IssueFrequency],
    intent: Option<&OptimizationIntent>,
) -> Vec<Target<'a>> {
    let mut out: Vec<Target<'a>> = Vec::new();
    if let Some(intent) = intent {
        let wishes = intent
            .target_improvements
            .iter()
            .chain(intent.hypothesis.iter());
        for wish in wishes {
            let lower = wish.to_lowercase();
            // The rule whose word shows first in the wish comes first ("shorter answers").
            let mut matched: Vec<(usize, Behaviour)> = RULES
                .iter()
                .filter_map(|r| {
                    r.intent_words
                        .iter()
                        .filter_map(|w| lower.find(w))
                        .min()
                        .map(|at| (at, r.behaviour))
                })
                .collect();
            matched.sort();
            for (_, behaviour) in matched {
                if !out.iter().any(|t| t.behaviour == behaviour) {
                    out.push(Target {
                        behaviour,
                        reasons: Reasons {
                            issues: Vec::new(),
                            intent: Some(wish.trim().to_owned()),
                        },
                    });
                }
            }
        }
    }
    let mut ranked: Vec<&IssueFrequency> = issues.iter().collect();
    ranked.sort_by(|a, b| b.frequency.total_cmp(&a.frequency));
    for issue in ranked {
        let behaviour = issue.kind.remedy();
        match out.iter_mut().find(|t| t.behaviour == behaviour) {
            Some(target) => target.reasons.issues.push(issue),
            None => out.push(Target {
                behaviour,
                reasons: Reasons {
                    issues: vec![issue],
                    intent: None,
                },
            }),
        }
    }
    out.retain(|t| !present.contains(&t.behaviour));
    out
}

fn percent(frequency: f64) -> String {
    let p = (frequency * 100.0).round();
    if frequency > 0.0 && p < 1.0 {
        "under 1%".to_owned()
    } else {
        format!("{p:.0}%")
    }
}

fn reason_text(reasons: &Reasons) -> String {
    let issues: Vec<String> = reasons
        .issues
        .iter()
        .map(|i| {
            format!(
                "'{}' seen in {} of conversations",
                i.kind.title(),
                percent(i.frequency)
            )
        })
        .collect();
    let issues = (!issues.is_empty()).then(|| format!("answers {}", issues.join(" and ")));
    let intent = reasons.intent.as_ref().map(|w| {
        format!(
            "asked for in the optimization intent (\"{}\")",
            short(w, 60)
        )
    });
    match (intent, issues) {
        (Some(intent), Some(issues)) => format!("{intent}; {issues}"),
        (Some(intent), None) => intent,
        (None, Some(issues)) => issues,
        (None, None) => {
            "a general best practice, as no recorded issue calls for another change".to_owned()
        }
    }
}

fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
        None => text.to_owned(),
    }
}

/// Applies the plan to the prompt: each behaviour replaces the first sentence asking for
/// its opposite, or joins a block appended after the prompt.
fn edit(prompt: &str, plan: &[(&Target, &'static str)]) -> (String, String) {
    let mut content = prompt.to_owned();
    let mut added: Vec<&str> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    for (target, phrasing) in plan {
        let rule = rule(target.behaviour);
        let verb = match weak_sentence(&content, rule) {
            Some((start, end)) => {
                let old = content[start..end].to_owned();
                content.replace_range(start..end, phrasing);
                format!("Replaces \"{}\" with {}", short(&old, 60), rule.summary)
            }
            None => {
                added.push(phrasing);
                format!("Adds {}", rule.summary)
            }
        };
        summary.push(format!("{verb}; {}.", reason_text(&target.reasons)));
    }
    if !added.is_empty() {
        let block = added.join("\n");
        content = if content.trim().is_empty() {
            block
        } else {
            format!("{}\n\n{block}", content.trim_end())
        };
    }
    (content, summary.join(" "))
}

/// Proposes `count` variants of the prompt. Variant 1 targets the most wanted behaviour
/// (the intent's, else the top issue's remedy), variant 2 the next, and so on; then pairs
/// of the top ones, then general best practices the prompt lacks, then self-checks. The
/// seed only picks among phrasings, so the same request gives the same variants.
pub fn propose_variants(request: &VariantRequest) -> Vec<VariantProposal> {
    let present = behaviours_in(request.prompt);
    let specific = targets(&present, request.issues, request.intent);
    let generic: Vec<Target> = Behaviour::ALL
        .into_iter()
        .filter(|b| !present.contains(b) && !specific.iter().any(|t| t.behaviour == *b))
        .map(|behaviour| Target {
            behaviour,
            reasons: Reasons::default(),
        })
        .collect();

    let mut plans: Vec<Vec<&Target>> = specific.iter().map(|t| vec![t]).collect();
    let top = specific.len().min(3);
    for i in 0..top {
        for j in i + 1..top {
            plans.push(vec![&specific[i], &specific[j]]);
        }
    }
    plans.extend(generic.iter().map(|t| vec![t]));

    let mut rng = SeededRng::derive(request.seed, "variant-phrasing");
    let mut variants = Vec::with_capacity(request.count);
    for plan in plans.iter().take(request.count) {
        let picked: Vec<(&Target, &'static str)> = plan
            .iter()
            .map(|t| (*t, *rng.pick(rule(t.behaviour).phrasings)))
            .collect();
        let (content, change_summary) = edit(request.prompt, &picked);
        let mut addresses: Vec<IssueKind> = plan
            .iter()
            .flat_map(|t| t.reasons.issues.iter().map(|i| i.kind))
            .collect();
        if addresses.is_empty() {
            addresses = IssueKind::ALL
                .into_iter()
                .filter(|k| plan.iter().any(|t| t.behaviour == k.remedy()))
                .collect();
        }
        variants.push(VariantProposal {
            content,
            change_summary,
            addresses,
            engine_tokens: 0,
        });
    }

    // The prompt asks for everything already: reinforce it instead.
    let mut k = 0;
    while variants.len() < request.count {
        let check = SELF_CHECKS[k % SELF_CHECKS.len()];
        let round = k / SELF_CHECKS.len();
        let text = if round == 0 {
            check.to_owned()
        } else {
            format!("{check} (Check {}.)", round + 1)
        };
        let content = if request.prompt.trim().is_empty() {
            text
        } else {
            format!("{}\n\n{text}", request.prompt.trim_end())
        };
        let top_issues: Vec<&IssueFrequency> = request.issues.iter().take(2).collect();
        let reason = if top_issues.is_empty() {
            "the prompt already asks for every behaviour the offline engine knows".to_owned()
        } else {
            reason_text(&Reasons {
                issues: top_issues.clone(),
                intent: None,
            })
        };
        variants.push(VariantProposal {
            content,
            change_summary: format!(
                "Adds a self-check before each reply that reinforces the prompt's existing rules; {reason}."
            ),
            addresses: top_issues.iter().map(|i| i.kind).collect(),
            engine_tokens: 0,
        });
        k += 1;
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "You are the support assistant of Acme, an online shop. Help customers with orders, refunds and accounts.";

    fn freq(kind: IssueKind, frequency: f64) -> IssueFrequency {
        IssueFrequency { kind, frequency }
    }

    fn request<'a>(
        prompt: &'a str,
        issues: &'a [IssueFrequency],
        intent: Option<&'a OptimizationIntent>,
        count: usize,
    ) -> VariantRequest<'a> {
        VariantRequest {
            prompt,
            issues,
            intent,
            count,
            seed: 7,
        }
    }

    #[test]
    fn every_phrasing_is_recognised_as_its_own_behaviour_only() {
        for rule in &RULES {
            for phrasing in rule.phrasings {
                assert_eq!(
                    behaviours_in(phrasing),
                    BTreeSet::from([rule.behaviour]),
                    "{phrasing}"
                );
            }
        }
        for behaviour in Behaviour::ALL {
            assert_eq!(rule(behaviour).behaviour, behaviour);
        }
        assert!(behaviours_in(PLAIN).is_empty());
        assert!(behaviours_in("").is_empty());
    }

    #[test]
    fn a_contradicting_sentence_does_not_count_and_is_replaced() {
        let prompt = "You help with orders. Never transfer the chat to a human. Be nice.";
        assert!(!behaviours_in(prompt).contains(&Behaviour::EscalationPolicy));
        let issues = [freq(IssueKind::HumanRequested, 0.18)];
        let variants = propose_variants(&request(prompt, &issues, None, 1));
        let v = &variants[0];
        assert!(!v.content.contains("Never transfer"), "{}", v.content);
        assert!(v.content.starts_with("You help with orders. "));
        assert!(v.content.ends_with("Be nice."));
        assert!(v
            .change_summary
            .starts_with("Replaces \"Never transfer the chat to a human.\""));
        assert!(behaviours_in(&v.content).contains(&Behaviour::EscalationPolicy));
    }

    #[test]
    fn a_denied_marker_asks_for_nothing() {
        for prompt in [
            "You are an AI, not a human.",
            "You are not a supervisor and cannot act as one.",
            "Escalation is not allowed.",
            "You are never brief with new customers.",
            "Do not answer directly questions about pricing.",
        ] {
            assert!(behaviours_in(prompt).is_empty(), "{prompt}");
        }
        let denied_then_asked =
            "You are an AI, not a human. Do not hesitate to hand over to a human agent.";
        assert_eq!(
            behaviours_in(denied_then_asked),
            BTreeSet::from([Behaviour::EscalationPolicy])
        );
        // The denial is not a contradiction: a variant adds the policy and keeps the sentence.
        let issues = [freq(IssueKind::HumanRequested, 0.18)];
        let prompt = "You help with orders. You are an AI, not a human.";
        let v = &propose_variants(&request(prompt, &issues, None, 1))[0];
        assert!(v.content.starts_with(prompt), "{}", v.content);
        assert!(behaviours_in(&v.content).contains(&Behaviour::EscalationPolicy));
    }

    #[test]
    fn variants_answer_the_top_issues_in_order_and_differ() {
        let issues = [
            freq(IssueKind::HumanRequested, 0.18),
            freq(IssueKind::FailedToolCall, 0.12),
            freq(IssueKind::Verbose, 0.05),
        ];
        let variants = propose_variants(&request(PLAIN, &issues, None, 5));
        assert_eq!(variants.len(), 5);
        assert_eq!(variants[0].addresses, [IssueKind::HumanRequested]);
        assert_eq!(variants[1].addresses, [IssueKind::FailedToolCall]);
        assert_eq!(variants[2].addresses, [IssueKind::Verbose]);
        // Then a pair of the top two.
        assert_eq!(
            variants[3].addresses,
            [IssueKind::HumanRequested, IssueKind::FailedToolCall]
        );
        assert_eq!(
            variants[0].change_summary,
            "Adds an escalation policy (hand over to a human on request or after two failed attempts); answers 'The user asked for a human' seen in 18% of conversations."
        );
        let added: Vec<BTreeSet<Behaviour>> =
            variants.iter().map(|v| behaviours_in(&v.content)).collect();
        assert_eq!(added[0], BTreeSet::from([Behaviour::EscalationPolicy]));
        assert_eq!(added[1], BTreeSet::from([Behaviour::ToolErrorHandling]));
        assert_eq!(added[2], BTreeSet::from([Behaviour::LengthLimit]));
        let contents: BTreeSet<&str> = variants.iter().map(|v| v.content.as_str()).collect();
        assert_eq!(contents.len(), 5);
        for v in &variants {
            assert_ne!(v.content, PLAIN);
            assert!(
                v.content.starts_with(PLAIN),
                "a targeted edit keeps the prompt"
            );
            assert_eq!(v.engine_tokens, 0);
        }
    }

    #[test]
    fn the_intent_comes_first_and_present_behaviours_are_not_added_again() {
        let prompt = format!("{PLAIN} If the user asks for a human, hand over to a human agent.");
        let issues = [
            freq(IssueKind::HumanRequested, 0.3),
            freq(IssueKind::UnsupportedClaim, 0.1),
        ];
        let intent = OptimizationIntent {
            target_improvements: vec!["shorter answers".to_owned()],
            hypothesis: None,
        };
        let variants = propose_variants(&request(&prompt, &issues, Some(&intent), 3));
        assert!(variants[0]
            .change_summary
            .starts_with("Adds a length limit"));
        assert!(variants[0].change_summary.contains("(\"shorter answers\")"));
        assert_eq!(variants[1].addresses, [IssueKind::UnsupportedClaim]);
        for v in &variants {
            assert!(
                !v.change_summary.contains("escalation"),
                "{}",
                v.change_summary
            );
            assert_eq!(v.content.matches("human agent").count(), 1);
        }
    }

    #[test]
    fn without_issues_general_best_practices_and_then_self_checks() {
        let variants = propose_variants(&request(PLAIN, &[], None, 3));
        assert_eq!(variants.len(), 3);
        assert!(variants[0].change_summary.contains("general best practice"));
        assert!(behaviours_in(&variants[0].content).contains(&Behaviour::GroundedAnswers));

        let everything: String = RULES
            .iter()
            .map(|r| r.phrasings[0])
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(behaviours_in(&everything).len(), 8);
        let variants = propose_variants(&request(
            &everything,
            &[freq(IssueKind::Verbose, 0.2)],
            None,
            4,
        ));
        let contents: BTreeSet<&str> = variants.iter().map(|v| v.content.as_str()).collect();
        assert_eq!(contents.len(), 4);
        assert!(variants.iter().all(|v| v.content != everything));
        assert_eq!(variants[0].addresses, [IssueKind::Verbose]);
    }

    #[test]
    fn the_seed_picks_phrasings_and_nothing_else() {
        let issues = [freq(IssueKind::Frustration, 0.4)];
        let a = propose_variants(&request(PLAIN, &issues, None, 2));
        let b = propose_variants(&request(PLAIN, &issues, None, 2));
        assert_eq!(a, b);
        let mut seen = BTreeSet::new();
        for seed in 0..20 {
            let mut r = request(PLAIN, &issues, None, 2);
            r.seed = seed;
            let v = propose_variants(&r);
            assert_eq!(v[0].addresses, [IssueKind::Frustration]);
            seen.insert(v[0].content.clone());
        }
        assert!(seen.len() > 1, "the seed varies the phrasing");
    }

    #[test]
    fn odd_prompts_do_not_panic() {
        let issues = [freq(IssueKind::Refusal, 1.0)];
        for prompt in [
            "",
            "   ",
            "Ünïcödé… prompt!? Never transfer to a human¿",
            "\n\n\n",
        ] {
            let v = propose_variants(&request(prompt, &issues, None, 5));
            assert_eq!(v.len(), 5);
        }
        assert!(propose_variants(&request(PLAIN, &issues, None, 0)).is_empty());
    }
}
