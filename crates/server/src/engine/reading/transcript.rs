//! A transcript prepared once for reading: each message lowercased and split into words,
//! the assistant's replies, and the exchanges (user messages and the reply that answers them).

use converra_api::conversations::{Message, Role};

use super::text::{capped, normalise, tokenize, MAX_ANALYSED_BYTES};

/// One message, lowercased and split into words.
pub(crate) struct Line<'a> {
    pub(crate) role: Role,
    pub(crate) raw: &'a str,
    pub(crate) lower: &'a str,
    pub(crate) words: Vec<&'a str>,
}

impl Line<'_> {
    pub(crate) fn has(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.lower.contains(p))
    }

    pub(crate) fn first(&self, phrases: &[&'static str]) -> Option<&'static str> {
        phrases.iter().copied().find(|p| self.lower.contains(p))
    }

    pub(crate) fn asks(&self) -> bool {
        self.lower.contains('?')
    }

    pub(crate) fn has_word(&self, wanted: &[&str]) -> bool {
        self.words.iter().any(|w| wanted.contains(w))
    }
}

/// User messages since the previous reply, and the reply that answers them.
pub(crate) struct Exchange {
    pub(crate) users: Vec<usize>,
    pub(crate) reply: Option<usize>,
    /// 1-based position of the reply among the assistant's replies.
    pub(crate) turn: usize,
}

pub(crate) struct Transcript<'a> {
    pub(crate) messages: &'a [Message],
    pub(crate) lines: Vec<Line<'a>>,
    /// Message indexes of assistant messages with text, in order.
    pub(crate) replies: Vec<usize>,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) truncated: bool,
}

pub(crate) fn lowered(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| normalise(capped(&m.content)))
        .collect()
}

impl<'a> Transcript<'a> {
    pub(crate) fn new(messages: &'a [Message], lowered: &'a [String]) -> Self {
        let lines: Vec<Line<'a>> = messages
            .iter()
            .zip(lowered)
            .map(|(m, lower)| Line {
                role: m.role,
                raw: capped(&m.content),
                lower,
                words: tokenize(lower),
            })
            .collect();
        let replies: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.role == Role::Assistant && !l.words.is_empty())
            .map(|(i, _)| i)
            .collect();
        let mut exchanges = Vec::new();
        let mut users = Vec::new();
        let mut turn = 0;
        for (i, line) in lines.iter().enumerate() {
            match line.role {
                Role::User if !line.raw.trim().is_empty() => users.push(i),
                Role::Assistant if !line.words.is_empty() => {
                    turn += 1;
                    exchanges.push(Exchange {
                        users: std::mem::take(&mut users),
                        reply: Some(i),
                        turn,
                    });
                }
                _ => {}
            }
        }
        if !users.is_empty() {
            exchanges.push(Exchange {
                users,
                reply: None,
                turn: 0,
            });
        }
        let truncated = messages
            .iter()
            .any(|m| m.content.len() > MAX_ANALYSED_BYTES);
        Transcript {
            messages,
            lines,
            replies,
            exchanges,
            truncated,
        }
    }

    pub(crate) fn line(&self, index: usize) -> Option<&Line<'a>> {
        self.lines.get(index)
    }

    pub(crate) fn users(&self) -> impl Iterator<Item = (usize, &Line<'a>)> + '_ {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.role == Role::User && !l.raw.trim().is_empty())
    }

    /// The first reply at or after `from`, unless a user speaks first.
    pub(crate) fn reply_from(&self, from: usize) -> Option<usize> {
        for (i, line) in self.lines.iter().enumerate().skip(from) {
            match line.role {
                Role::Assistant if !line.words.is_empty() => return Some(i),
                Role::User if i > from && !line.raw.trim().is_empty() => return None,
                _ => {}
            }
        }
        None
    }
}
