//! The blind judge: it reads the transcripts of one cell (every arm's conversation with the
//! same simulated user) side by side, in an order drawn from the seed, and never sees a
//! prompt or an arm's name. It scores each on the 11 metrics (0..100) and says in a few
//! short reasons what went wrong, which is what the reflective optimizer reads.

use converra_api::conversations::Message;
use converra_api::insights::Metric;
use serde_json::{json, Value};

use super::client::{ChatMessage, Schema};
use super::prompts::{
    check_scale, indexed_transcript, json_value, metrics_schema, read_metrics, strict_object,
};
use crate::engine::rng::SeededRng;
use crate::engine::{EngineError, Verdict};

/// Reasons kept per verdict, and the characters kept of each.
const MAX_REASONS: usize = 5;
const MAX_REASON_CHARS: usize = 300;

/// The order the judge reads the transcripts in: `order[k]` is the transcript shown as
/// conversation `k + 1`. A Fisher–Yates shuffle drawn from the seed.
pub fn reading_order(count: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut rng = SeededRng::derive(seed, "judge-order");
    for i in (1..count).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

fn instructions() -> String {
    let metrics = Metric::ALL
        .iter()
        .map(|m| format!("\"{}\"", m.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "You are a strict, fair judge of conversations between an AI agent (the assistant) \
and a user. You are shown one or more conversations, numbered; each message starts with its \
index in brackets. Judge each conversation on its own merits: the assistant's work, not the \
user's. Answer with one JSON object and nothing else: {{\"verdicts\": [one entry per \
conversation: {{\"conversation\": its number, \"metrics\": an object with exactly the keys \
{metrics}, each an integer from 0 to 100 where higher is always better (100 is flawless, 0 is \
a complete failure; never a 0..10 scale), \"taskCompleted\": true when what the user came for \
was fully handled, \"reasons\": a list of short sentences saying what the assistant got wrong \
and what it should have done or known instead, each specific enough for someone improving \
the assistant to act on (an empty list when nothing went wrong)}}]}}."
    )
}

/// The messages of one judge call over `transcripts`, shown in `order`.
pub fn judge_request(transcripts: &[&[Message]], order: &[usize]) -> Vec<ChatMessage> {
    let mut text = String::new();
    for (shown, &index) in order.iter().enumerate() {
        text.push_str(&format!(
            "Conversation {} ({} messages):\n{}\n\n",
            shown + 1,
            transcripts[index].len(),
            indexed_transcript(transcripts[index])
        ));
    }
    text.push_str(&format!(
        "Answer with the JSON object holding {} verdicts.",
        order.len()
    ));
    vec![ChatMessage::system(instructions()), ChatMessage::user(text)]
}

pub fn judge_schema() -> Schema {
    Schema {
        name: "blind_verdicts",
        schema: strict_object(json!({
            "verdicts": {
                "type": "array",
                "items": strict_object(json!({
                    "conversation": {"type": "integer"},
                    "metrics": metrics_schema(),
                    "taskCompleted": {"type": "boolean"},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                })),
            }
        })),
    }
}

/// Reads the judge's reply into one verdict per transcript, in the transcripts' own order
/// (the reading order undone). Every conversation needs exactly one verdict with all 11
/// metrics on the 0..100 scale; anything else refuses the whole reply. The caller fills
/// `engine_tokens`.
pub fn parse_verdicts(reply: &str, order: &[usize]) -> Result<Vec<Verdict>, EngineError> {
    let value = json_value(reply, "the judge's verdicts")?;
    let list = match &value {
        Value::Object(object) => object.get("verdicts").and_then(Value::as_array),
        Value::Array(list) => Some(list),
        _ => None,
    }
    .ok_or_else(|| {
        EngineError::MalformedReply(
            "the judge's verdicts are not a JSON object with a \"verdicts\" list".to_owned(),
        )
    })?;
    let mut verdicts: Vec<Option<Verdict>> = vec![None; order.len()];
    for (position, item) in list.iter().enumerate() {
        let object = item.as_object().ok_or_else(|| {
            EngineError::MalformedReply("a verdict of the judge is not an object".to_owned())
        })?;
        // A verdict without its number is taken to follow the list's order.
        let shown = match object.get("conversation") {
            None => position + 1,
            Some(number) => number
                .as_u64()
                .or_else(|| number.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    EngineError::MalformedReply(
                        "a verdict names its conversation with something other than a number"
                            .to_owned(),
                    )
                })?,
        };
        let Some(&index) = shown.checked_sub(1).and_then(|k| order.get(k)) else {
            return Err(EngineError::MalformedReply(format!(
                "the judge gave a verdict on conversation {shown} of {}",
                order.len()
            )));
        };
        let what = format!("the judge's verdict on conversation {shown}");
        let metrics = read_metrics(object, &what)?;
        let task_completed = match object.get("taskCompleted") {
            Some(Value::Bool(done)) => *done,
            _ => {
                return Err(EngineError::MalformedReply(format!(
                    "{what} has no true or false \"taskCompleted\""
                )))
            }
        };
        check_scale(&metrics, Some(task_completed), &what)?;
        let reasons = object
            .get("reasons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .take(MAX_REASONS)
            .map(|r| r.chars().take(MAX_REASON_CHARS).collect())
            .collect();
        if verdicts[index].is_some() {
            return Err(EngineError::MalformedReply(format!(
                "the judge gave two verdicts on conversation {shown}"
            )));
        }
        verdicts[index] = Some(Verdict {
            metrics,
            task_completed,
            reasons,
            engine_tokens: 0,
        });
    }
    let missing = verdicts.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        return Err(EngineError::MalformedReply(format!(
            "the judge gave no verdict on {missing} of {} conversations",
            order.len()
        )));
    }
    Ok(verdicts.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::Role;

    fn verdict(conversation: usize, score: u32, done: bool, reason: &str) -> Value {
        let metrics: serde_json::Map<String, Value> = Metric::ALL
            .iter()
            .map(|m| (m.as_str().to_owned(), json!(score)))
            .collect();
        json!({"conversation": conversation, "metrics": metrics, "taskCompleted": done, "reasons": [reason]})
    }

    #[test]
    fn the_order_is_a_seeded_permutation() {
        for count in 0..6 {
            let mut order = reading_order(count, 9);
            assert_eq!(order, reading_order(count, 9));
            order.sort_unstable();
            assert_eq!(order, (0..count).collect::<Vec<_>>());
        }
        let orders: std::collections::BTreeSet<Vec<usize>> =
            (0..50).map(|seed| reading_order(3, seed)).collect();
        assert!(orders.len() > 3, "{orders:?}");
    }

    #[test]
    fn the_judge_sees_only_transcripts_and_its_answers_are_put_back_in_order() {
        let first = [Message::new(Role::User, "first arm")];
        let second = [Message::new(Role::User, "second arm")];
        let third = [Message::new(Role::User, "third arm")];
        let transcripts: [&[Message]; 3] = [&first, &second, &third];
        let order = vec![2, 0, 1];
        let messages = judge_request(&transcripts, &order);
        let shown = &messages[1].content;
        let at = |needle: &str| shown.find(needle).expect(needle);
        assert!(at("third arm") < at("first arm") && at("first arm") < at("second arm"));
        assert!(!messages[0].content.contains("prompt"));

        // Answers listed out of order, each naming its conversation.
        let reply = json!({"verdicts": [
            verdict(2, 60, true, "first"),
            verdict(1, 90, true, "third"),
            verdict(3, 20, false, "second"),
        ]})
        .to_string();
        let verdicts = parse_verdicts(&reply, &order).expect("parses");
        let reasons: Vec<&str> = verdicts.iter().map(|v| v.reasons[0].as_str()).collect();
        assert_eq!(reasons, ["first", "second", "third"]);
        assert_eq!(verdicts[1].metrics.get(Metric::Clarity), 20.0);
        assert!(!verdicts[1].task_completed);
    }

    #[test]
    fn an_out_of_scale_or_incomplete_reply_is_malformed() {
        let order = vec![0, 1];
        let cases = [
            // 0..10 numbers for conversations called completed.
            json!({"verdicts": [verdict(1, 8, true, "a"), verdict(2, 9, true, "b")]}),
            // Beyond 100.
            json!({"verdicts": [verdict(1, 80, true, "a"), verdict(2, 101, true, "b")]}),
            // One conversation without a verdict.
            json!({"verdicts": [verdict(1, 80, true, "a")]}),
            // Two verdicts on one conversation.
            json!({"verdicts": [verdict(1, 80, true, "a"), verdict(1, 70, true, "b")]}),
            // A conversation that was not shown.
            json!({"verdicts": [verdict(1, 80, true, "a"), verdict(3, 70, true, "b")]}),
        ];
        for reply in cases {
            let error = parse_verdicts(&reply.to_string(), &order).expect_err("malformed");
            assert_eq!(error.code(), "MODEL_MALFORMED_REPLY", "{reply}");
        }
        let mut missing = verdict(2, 80, true, "b");
        missing["metrics"]
            .as_object_mut()
            .expect("object")
            .remove("clarity");
        let reply = json!({"verdicts": [verdict(1, 80, true, "a"), missing]}).to_string();
        let error = parse_verdicts(&reply, &order).expect_err("a missing metric");
        assert!(error.to_string().contains("clarity"), "{error}");
    }
}
