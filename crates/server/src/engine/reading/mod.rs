//! What both engines read from a transcript: its text prepared once, the turns that failed
//! (refusals, unanswered questions), and one step per tool call with its root cause. Depends
//! on neither engine; both build on it.

pub mod lexicon;
pub mod steps;
pub mod text;
pub mod tools;
pub mod transcript;
pub mod turns;
