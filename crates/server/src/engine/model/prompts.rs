//! What the model engine says to the model, and how it reads the answers: the judge, the
//! prompt rewriter and the simulated user, each with the checks its reply must pass.

use converra_api::conversations::{Message, Role};
use converra_api::insights::{Metric, Sentiment, Severity};
use serde_json::{Map, Value};

use super::client::{ChatMessage, ChatToolCall, Schema};
use crate::engine::{
    Behaviour, ConversationAnalysis, EngineError, IssueFrequency, IssueKind, MetricScores,
    OptimizationIntent, Persona, Scenario, VariantProposal,
};

/// What the simulated user writes when the conversation is over for them.
pub const DONE_MARKER: &str = "[DONE]";

/// The gated score's ceiling for a conversation whose task failed or that shows a critical
/// issue: a polite failure must not pass for a good conversation.
pub const GATED_SCORE_CAP: f64 = 40.0;

/// The judge's instructions: the system message of every `analyze` call.
pub fn judge_instructions() -> String {
    let metrics = Metric::ALL
        .iter()
        .map(|m| format!("    \"{}\": {}", m.as_str(), metric_meaning(*m)))
        .collect::<Vec<_>>()
        .join("\n");
    let kinds = IssueKind::ALL
        .iter()
        .map(|k| {
            format!(
                "    \"{}\": {}",
                issue_kind_name(*k),
                issue_kind_meaning(*k)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "You are a strict, fair judge of conversations between an AI agent (the assistant) \
and a user. Read the transcript: each message starts with its index in brackets. Judge the \
assistant, not the user. Answer with one JSON object and nothing else, with these keys:\n\
- \"title\": a short title for the conversation, at most 8 words.\n\
- \"executiveSummary\": one sentence for a busy manager.\n\
- \"summary\": two to four sentences on what happened.\n\
- \"userFacingSummary\": one or two sentences addressed to the user, or null.\n\
- \"metrics\": an object with exactly these 11 keys, each an integer from 0 to 100 where \
higher is always better:\n{metrics}\n\
- \"issues\": the assistant's problems, a list of objects {{\"kind\", \"title\", \
\"description\", \"severity\", \"messageIndexes\"}}. \"kind\" is one of:\n{kinds}\n  \
\"severity\" is one of \"low\", \"medium\", \"high\", \"critical\"; \"messageIndexes\" lists \
the indexes of the messages where the issue shows. An empty list when there is none.\n\
- \"additionalConcerns\": a list of other concerns, in short sentences (may be empty).\n\
- \"nextSteps\": a list of what the team behind the agent should do next.\n\
- \"keywords\": up to 8 lowercase keywords.\n\
- \"topics\": up to 5 short topics.\n\
- \"sentiment\": the user's sentiment by the end: \"positive\", \"neutral\" or \"negative\".\n\
- \"sentimentScore\": a number from 0 (most negative) to 1 (most positive).\n\
- \"taskCompleted\": true when what the user came for was fully handled, else false.\n\
- \"businessImpact\": one sentence on the effect for the business, or null."
    )
}

/// The messages of one `analyze` call.
pub fn analysis_request(messages: &[Message], agent_prompt: Option<&str>) -> Vec<ChatMessage> {
    let mut text = String::new();
    if let Some(prompt) = agent_prompt {
        text.push_str("The agent's instructions (its system prompt):\n<<<\n");
        text.push_str(prompt.trim());
        text.push_str("\n>>>\n\n");
    }
    text.push_str(&format!("The transcript ({} messages):\n", messages.len()));
    text.push_str(&indexed_transcript(messages));
    text.push_str("\n\nAnswer with the JSON object.");
    vec![
        ChatMessage::system(judge_instructions()),
        ChatMessage::user(text),
    ]
}

/// `[i] Role: text` lines, tool calls indented under their message, so that the judge can
/// point at messages by index.
pub fn indexed_transcript(messages: &[Message]) -> String {
    let mut lines = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        lines.push(format!(
            "[{index}] {}: {}",
            message.role.label(),
            message.content.trim()
        ));
        for call in message.tool_calls.iter().flatten() {
            let outcome = match (&call.error, &call.result) {
                (Some(error), _) => format!(" -> error: {error}"),
                (None, Some(result)) => format!(" -> {result}"),
                (None, None) => String::new(),
            };
            lines.push(format!(
                "    tool call {}({}){outcome}",
                call.name, call.arguments
            ));
        }
    }
    lines.join("\n")
}

/// Reads the judge's reply for a conversation of `message_count` messages. The 11 metrics
/// must all be there on the 0..100 scale (see [`read_metrics`] and [`check_scale`]); the
/// rest is checked and brought into range. The caller fills `steps` and `engine_tokens`.
pub fn parse_analysis(
    reply: &str,
    message_count: usize,
) -> Result<ConversationAnalysis, EngineError> {
    let object = json_object(reply, "the judge's analysis")?;

    let metrics = read_metrics(&object, "the judge's analysis")?;
    let task_completed = lookup(&object, "taskCompleted").and_then(boolean);
    check_scale(&metrics, task_completed, "the judge's analysis")?;

    let issues: Vec<_> = object
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|issue| parse_issue(issue, message_count))
        .collect();

    let quality_score = metrics.overall();
    let task_completed = task_completed.unwrap_or(metrics.get(Metric::TaskCompletion) >= 50.0);
    let critical = issues.iter().any(|i| i.severity == Severity::Critical);
    let gated_score = if !task_completed || critical {
        quality_score.min(GATED_SCORE_CAP)
    } else {
        quality_score
    };

    let sentiment_score = lookup(&object, "sentimentScore")
        .and_then(number)
        // Some models answer on the metrics' 0..100 scale.
        .map(|s| if s > 1.0 { s / 100.0 } else { s })
        .unwrap_or(metrics.get(Metric::Sentiment) / 100.0)
        .clamp(0.0, 1.0);
    let sentiment = lookup(&object, "sentiment")
        .and_then(Value::as_str)
        .and_then(parse_sentiment)
        .unwrap_or(if sentiment_score >= 0.6 {
            Sentiment::Positive
        } else if sentiment_score <= 0.4 {
            Sentiment::Negative
        } else {
            Sentiment::Neutral
        });

    let summary = text(&object, "summary");
    let executive_summary = text(&object, "executiveSummary");
    let title = text(&object, "title").unwrap_or_else(|| "Conversation".to_owned());
    Ok(ConversationAnalysis {
        title: first_chars(&title, 120),
        executive_summary: executive_summary
            .clone()
            .or_else(|| summary.clone())
            .unwrap_or_default(),
        summary: summary.or(executive_summary).unwrap_or_default(),
        user_facing_summary: text(&object, "userFacingSummary"),
        metrics,
        quality_score,
        gated_score,
        objective_multiplier: 1.0,
        issues,
        additional_concerns: strings(&object, "additionalConcerns"),
        next_steps: strings(&object, "nextSteps"),
        keywords: strings(&object, "keywords")
            .into_iter()
            .map(|k| k.to_lowercase())
            .collect(),
        topics: strings(&object, "topics"),
        sentiment,
        sentiment_score,
        task_completed,
        business_impact: text(&object, "businessImpact"),
        steps: Vec::new(),
        engine_tokens: 0,
    })
}

/// The 11 scores of a judge's `metrics` object, each a number within 0..100. A missing
/// score or one out of range refuses the reply: a judge answering on another scale must not
/// be read as if it answered on ours, and its numbers are not rescaled.
pub(super) fn read_metrics(
    object: &Map<String, Value>,
    what: &str,
) -> Result<MetricScores, EngineError> {
    let metrics_value = object
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            EngineError::MalformedReply(format!(
                "{what} has no \"metrics\" object with the 11 scores"
            ))
        })?;
    let mut metrics = MetricScores::default();
    let mut missing = Vec::new();
    let mut out_of_range = Vec::new();
    for metric in Metric::ALL {
        match lookup(metrics_value, metric.as_str()).and_then(number) {
            Some(score) if (0.0..=100.0).contains(&score) => metrics.set(metric, score),
            Some(_) => out_of_range.push(metric.as_str()),
            None => missing.push(metric.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(EngineError::MalformedReply(format!(
            "{what} lacks a 0..100 score for {}",
            missing.join(", ")
        )));
    }
    if !out_of_range.is_empty() {
        return Err(EngineError::MalformedReply(format!(
            "{what} scores {} outside 0..100",
            out_of_range.join(", ")
        )));
    }
    Ok(metrics)
}

/// Refuses scores that read as a 0..10 scale: a conversation the judge calls completed,
/// yet with no metric above 10 of 100, is a judge counting to 10.
pub(super) fn check_scale(
    metrics: &MetricScores,
    task_completed: Option<bool>,
    what: &str,
) -> Result<(), EngineError> {
    let highest = metrics.0.iter().copied().fold(0.0, f64::max);
    if task_completed == Some(true) && highest <= 10.0 {
        return Err(EngineError::MalformedReply(format!(
            "{what} calls the task completed with no score above {highest} of 100: the scores \
look like a 0..10 scale"
        )));
    }
    Ok(())
}

/// A strict schema's object: every property required, no others.
pub(super) fn strict_object(properties: Value) -> Value {
    let required: Vec<Value> = properties
        .as_object()
        .map(|p| p.keys().map(|k| Value::String(k.clone())).collect())
        .unwrap_or_default();
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The 11 metrics as a strict object of integers.
pub(super) fn metrics_schema() -> Value {
    strict_object(Value::Object(
        Metric::ALL
            .iter()
            .map(|m| {
                (
                    m.as_str().to_owned(),
                    serde_json::json!({"type": "integer"}),
                )
            })
            .collect(),
    ))
}

/// The schema of the judge's analysis (see [`judge_instructions`]).
pub fn analysis_schema() -> Schema {
    use serde_json::json;
    let kinds: Vec<&str> = IssueKind::ALL.iter().map(|k| issue_kind_name(*k)).collect();
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let issue = strict_object(json!({
        "kind": {"type": "string", "enum": kinds},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
        "messageIndexes": {"type": "array", "items": {"type": "integer"}},
    }));
    Schema {
        name: "conversation_analysis",
        schema: strict_object(json!({
            "title": {"type": "string"},
            "executiveSummary": {"type": "string"},
            "summary": {"type": "string"},
            "userFacingSummary": {"type": ["string", "null"]},
            "metrics": metrics_schema(),
            "issues": {"type": "array", "items": issue},
            "additionalConcerns": strings,
            "nextSteps": strings,
            "keywords": strings,
            "topics": strings,
            "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
            "sentimentScore": {"type": "number"},
            "taskCompleted": {"type": "boolean"},
            "businessImpact": {"type": ["string", "null"]},
        })),
    }
}

/// The schema of the rewriter's reply (see [`variant_instructions`]).
pub fn variants_schema() -> Schema {
    use serde_json::json;
    let kinds: Vec<&str> = IssueKind::ALL.iter().map(|k| issue_kind_name(*k)).collect();
    let variant = strict_object(json!({
        "content": {"type": "string"},
        "changeSummary": {"type": "string"},
        "addresses": {"type": "array", "items": {"type": "string", "enum": kinds}},
    }));
    Schema {
        name: "prompt_variants",
        schema: strict_object(json!({"variants": {"type": "array", "items": variant}})),
    }
}

/// One issue of the judge's list, or `None` when its kind is not one we know.
fn parse_issue(value: &Value, message_count: usize) -> Option<crate::engine::DetectedIssue> {
    let object = value.as_object()?;
    let kind = parse_issue_kind(object.get("kind")?.as_str()?)?;
    let mut message_indexes: Vec<usize> = lookup(object, "messageIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(number)
        .filter(|i| i.fract() == 0.0 && *i >= 0.0 && *i < message_count as f64)
        .map(|i| i as usize)
        .collect();
    message_indexes.sort_unstable();
    message_indexes.dedup();
    Some(crate::engine::DetectedIssue {
        kind,
        title: text(object, "title").unwrap_or_else(|| issue_kind_title(kind).to_owned()),
        description: text(object, "description")
            .unwrap_or_else(|| issue_kind_meaning(kind).to_owned()),
        severity: object
            .get("severity")
            .and_then(Value::as_str)
            .and_then(parse_severity)
            .unwrap_or(Severity::Medium),
        message_indexes,
    })
}

/// The rewriter's instructions: the system message of every `propose_variants` call.
pub fn variant_instructions(count: usize) -> String {
    let kinds = IssueKind::ALL
        .iter()
        .map(|k| format!("\"{}\"", issue_kind_name(*k)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "You improve the system prompts of AI agents. You are given an agent's current \
prompt, the issues found in its conversations with how often each shows, and what the team \
wants improved. Write {count} rewrites of the prompt. Each rewrite is the complete new prompt, \
not a diff: it keeps everything the current prompt asks that is not part of a problem, and \
changes what answers the issues, the most frequent first. Make the rewrites differ from each \
other in approach, so that a test can tell which works best. Answer with one JSON object and \
nothing else: {{\"variants\": [{{\"content\": the complete new prompt, \"changeSummary\": one or \
two sentences on what changed and which issue it answers, \"addresses\": the issue kinds it \
answers, from {kinds}}}]}}. The list holds exactly {count} variants."
    )
}

/// The messages of one `propose_variants` call.
pub fn variants_request(
    prompt: &str,
    issues: &[IssueFrequency],
    intent: Option<&OptimizationIntent>,
    count: usize,
) -> Vec<ChatMessage> {
    let mut text = format!("The current prompt:\n<<<\n{}\n>>>\n\n", prompt.trim());
    if issues.is_empty() {
        text.push_str(
            "No issues are recorded yet: make the prompt clearer, more specific and more \
robust.\n",
        );
    } else {
        text.push_str("Issues, with the share of conversations that show each:\n");
        for issue in issues {
            text.push_str(&format!(
                "- {} ({:.0}%): {} A prompt answers it by asking the agent to {}.\n",
                issue_kind_name(issue.kind),
                (issue.frequency * 100.0).clamp(0.0, 100.0),
                issue_kind_meaning(issue.kind),
                behaviour_meaning(issue.kind.remedy()),
            ));
        }
    }
    if let Some(intent) = intent {
        if !intent.target_improvements.is_empty() {
            text.push_str(&format!(
                "\nThe team wants to improve: {}.\n",
                intent.target_improvements.join(", ")
            ));
        }
        if let Some(hypothesis) = &intent.hypothesis {
            text.push_str(&format!("The team's hypothesis: {}\n", hypothesis.trim()));
        }
    }
    text.push_str(&format!("\nVariants wanted: {count}\n"));
    vec![
        ChatMessage::system(variant_instructions(count)),
        ChatMessage::user(text),
    ]
}

/// Reads the rewriter's reply: exactly `count` usable variants (a non-empty prompt that
/// differs from the current one and from the others) or an error saying how many there were.
/// The caller fills `engine_tokens`.
pub fn parse_variants(
    reply: &str,
    prompt: &str,
    count: usize,
) -> Result<Vec<VariantProposal>, EngineError> {
    let value = json_value(reply, "the proposed variants")?;
    let list = match &value {
        Value::Array(list) => Some(list),
        Value::Object(object) => object.get("variants").and_then(Value::as_array),
        _ => None,
    }
    .ok_or_else(|| {
        EngineError::MalformedReply(
            "the proposed variants are not a JSON object with a \"variants\" list".to_owned(),
        )
    })?;
    let mut proposals: Vec<VariantProposal> = Vec::new();
    for item in list {
        let Some(object) = item.as_object() else {
            continue;
        };
        let Some(content) = text(object, "content") else {
            continue;
        };
        let same = |other: &str| other.trim() == content.trim();
        if same(prompt) || proposals.iter().any(|p| same(&p.content)) {
            continue;
        }
        let mut addresses: Vec<IssueKind> = lookup(object, "addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(parse_issue_kind)
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        proposals.push(VariantProposal {
            content,
            change_summary: text(object, "changeSummary")
                .unwrap_or_else(|| "Rewrote the prompt.".to_owned()),
            addresses,
            engine_tokens: 0,
        });
    }
    if proposals.len() < count {
        return Err(EngineError::MalformedReply(format!(
            "asked for {count} prompt variants, the reply held {} usable (each needs a \
non-empty \"content\" that differs from the current prompt and the other variants)",
            proposals.len()
        )));
    }
    proposals.truncate(count);
    Ok(proposals)
}

/// The simulated user's instructions.
pub fn user_instructions(persona: &Persona, scenario: &Scenario) -> String {
    let mut text = format!(
        "You are {}: {}. Your situation: {}. You are chatting with a company's AI assistant; \
its messages reach you as the other side of this chat. Stay in character: write as this user \
would, in the first person and briefly, and never write the assistant's part.",
        persona.name.trim_end_matches('.'),
        persona.description.trim_end_matches('.'),
        scenario.title.trim_end_matches('.'),
    );
    if let Some(detail) = scenario.missing_detail {
        text.push_str(&format!(
            " You have not given {detail} yet; give a plausible one only when asked for it."
        ));
    }
    if persona.impatience >= 0.66 {
        text.push_str(" You are impatient: you give up after two unhelpful answers.");
    } else if persona.impatience <= 0.33 {
        text.push_str(" You are patient and give the assistant a fair chance.");
    }
    text.push_str(&format!(
        " Reply only with the user's next message; write {DONE_MARKER} when your issue is \
resolved or you give up."
    ));
    text
}

/// The simulated user's side of the conversation so far: its own messages are the
/// assistant's turns here, the agent's the user's. A first user turn keeps chat templates
/// that insist on starting with the user happy. The agent's tool calls stay out of sight:
/// a user sees only what the agent says.
pub fn user_side(persona: &Persona, scenario: &Scenario, messages: &[Message]) -> Vec<ChatMessage> {
    let mut chat = vec![
        ChatMessage::system(user_instructions(persona, scenario)),
        ChatMessage::user("(The chat opens. Write your first message.)"),
    ];
    for message in messages {
        match message.role {
            Role::User => chat.push(ChatMessage::assistant(message.content.clone())),
            Role::Assistant if !message.content.trim().is_empty() => {
                chat.push(ChatMessage::user(message.content.clone()))
            }
            _ => {}
        }
    }
    chat
}

/// The agent's side of the conversation so far, under the prompt being tested: its tool
/// calls and their answers included, in the chat-completions shape.
pub fn agent_side(prompt: &str, messages: &[Message]) -> Vec<ChatMessage> {
    let mut chat = vec![ChatMessage::system(prompt)];
    for message in messages {
        let calls = message.tool_calls.as_deref().unwrap_or(&[]);
        match message.role {
            Role::Assistant if !calls.is_empty() => {
                let ids: Vec<String> = calls
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.id.clone().unwrap_or_else(|| format!("call_{i}")))
                    .collect();
                chat.push(ChatMessage::assistant_calls(
                    message.content.clone(),
                    calls
                        .iter()
                        .zip(&ids)
                        .map(|(call, id)| ChatToolCall {
                            id: id.clone(),
                            name: call.name.clone(),
                            arguments: match &call.arguments {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            },
                        })
                        .collect(),
                ));
                for (call, id) in calls.iter().zip(ids) {
                    let answer = match (&call.error, &call.result) {
                        (Some(error), _) => serde_json::json!({ "error": error }).to_string(),
                        (None, Some(Value::String(text))) => text.clone(),
                        (None, Some(result)) => result.to_string(),
                        (None, None) => "null".to_owned(),
                    };
                    chat.push(ChatMessage::tool(id, answer));
                }
            }
            Role::Assistant => chat.push(ChatMessage::assistant(message.content.clone())),
            _ => chat.push(ChatMessage::user(message.content.clone())),
        }
    }
    chat
}

/// The simulated user's reply without the end marker, and whether it ended the chat.
pub fn read_user_turn(reply: &str) -> (String, bool) {
    let text = strip_reasoning(reply);
    let done = text.contains(DONE_MARKER);
    let text = text.replace(DONE_MARKER, "");
    let text = text.trim();
    // A model sometimes labels the line it writes; the label is not the user's words.
    let text = text
        .strip_prefix("User:")
        .or_else(|| text.strip_prefix("user:"))
        .unwrap_or(text)
        .trim();
    // An empty reply leaves nothing to answer: the chat is over.
    (text.to_owned(), done || text.is_empty())
}

/// The text after a leading `<think>…</think>` block, which reasoning models served by
/// Ollama or vLLM put before their answer.
pub fn strip_reasoning(reply: &str) -> &str {
    let trimmed = reply.trim_start();
    match trimmed
        .strip_prefix("<think>")
        .and_then(|rest| rest.split_once("</think>"))
    {
        Some((_, answer)) => answer.trim(),
        None => reply.trim(),
    }
}

/// The `snake_case` name of an issue kind, as the model reads and writes it.
pub fn issue_kind_name(kind: IssueKind) -> &'static str {
    // Every id is `issue_` followed by the kind's serde name (pinned by a test below).
    kind.id().trim_start_matches("issue_")
}

/// An issue kind from a model's spelling of it: case, spaces, dashes and an `issue_`
/// prefix are forgiven; anything else is not a kind we know.
pub fn parse_issue_kind(name: &str) -> Option<IssueKind> {
    let normalised = name.trim().to_lowercase().replace([' ', '-'], "_");
    let normalised = normalised.trim_start_matches("issue_");
    IssueKind::ALL
        .into_iter()
        .find(|k| issue_kind_name(*k) == normalised)
}

fn issue_kind_title(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Refusal => "Refusal",
        IssueKind::RepeatedAnswer => "Repeated answer",
        IssueKind::ApologyLoop => "Apology loop",
        IssueKind::UnansweredQuestion => "Unanswered question",
        IssueKind::FailedToolCall => "Failed tool call",
        IssueKind::HumanRequested => "Human requested",
        IssueKind::Frustration => "User frustration",
        IssueKind::Verbose => "Verbose answers",
        IssueKind::MissingDetails => "Acted without needed details",
        IssueKind::UnsupportedClaim => "Unsupported claim",
    }
}

fn issue_kind_meaning(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Refusal => "the assistant declined something it should have done.",
        IssueKind::RepeatedAnswer => "the assistant said (nearly) the same thing twice.",
        IssueKind::ApologyLoop => "apology after apology without progress.",
        IssueKind::UnansweredQuestion => "a user question got no answer.",
        IssueKind::FailedToolCall => "a tool call failed.",
        IssueKind::HumanRequested => "the user asked for a human.",
        IssueKind::Frustration => "the user grew frustrated or angry.",
        IssueKind::Verbose => "answers far longer than the questions warrant.",
        IssueKind::MissingDetails => "the assistant acted without details it needed.",
        IssueKind::UnsupportedClaim => "the assistant claimed something it had no source for.",
    }
}

fn behaviour_meaning(behaviour: Behaviour) -> &'static str {
    match behaviour {
        Behaviour::EscalationPolicy => "hand over to a human when asked or when stuck",
        Behaviour::AskForMissingDetails => {
            "ask for order numbers, account details and the like before acting"
        }
        Behaviour::LengthLimit => "keep answers short",
        Behaviour::ToolErrorHandling => {
            "say what failed and offer an alternative when a tool errors"
        }
        Behaviour::EmpatheticTone => "acknowledge the user's feelings and stay calm",
        Behaviour::AnswerDirectly => "answer the question asked and not refuse what policy allows",
        Behaviour::VaryAndProgress => "not repeat itself and move the conversation forward",
        Behaviour::GroundedAnswers => {
            "only state facts from tools or the prompt, and say when unsure"
        }
    }
}

fn metric_meaning(metric: Metric) -> &'static str {
    match metric {
        Metric::SuccessScore => "the conversation achieved what the user came for",
        Metric::AiRelevancy => "the answers address what was asked",
        Metric::Sentiment => "how the user feels by the end (100 = delighted)",
        Metric::HallucinationScore => "groundedness: 100 means no invented or unsupported claims",
        Metric::RepetitionScore => "100 means the assistant never repeats itself",
        Metric::ConsistencyScore => {
            "the answers agree with each other and with the agent's instructions"
        }
        Metric::NaturalLanguageScore => "fluent, natural phrasing",
        Metric::ContextRetentionScore => "the assistant remembers what was said earlier",
        Metric::VerbosityScore => {
            "100 means answers of the right length; low for rambling or curt ones"
        }
        Metric::TaskCompletion => "the task was carried through to the end",
        Metric::Clarity => "the answers are easy to understand",
    }
}

/// The reply as a JSON object, forgiving code fences, reasoning blocks and text around
/// the object.
fn json_object(reply: &str, what: &str) -> Result<Map<String, Value>, EngineError> {
    match json_value(reply, what)? {
        Value::Object(object) => Ok(object),
        // The reply's text stays out of the error, which callers get to read.
        _ => Err(EngineError::MalformedReply(format!(
            "{what} is JSON but not an object"
        ))),
    }
}

pub(super) fn json_value(reply: &str, what: &str) -> Result<Value, EngineError> {
    let text = strip_reasoning(reply);
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    // Prose around the object ("Here is the analysis: {…}").
    let embedded = match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => serde_json::from_str(&text[start..=end]).ok(),
        _ => None,
    };
    embedded.ok_or_else(|| {
        let why = if text.is_empty() {
            "is empty"
        } else {
            "is not JSON"
        };
        EngineError::MalformedReply(format!("{what} {why}"))
    })
}

/// A key, or its snake_case spelling (`taskCompleted` or `task_completed`).
fn lookup<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| {
        let squashed = key.to_lowercase();
        object
            .iter()
            .find(|(k, _)| k.replace('_', "").to_lowercase() == squashed)
            .map(|(_, v)| v)
    })
}

/// A number, or a string holding one (`"85"`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A non-empty trimmed string.
pub(super) fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    lookup(object, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The non-empty strings of a list (a lone string counts as a list of one).
fn strings(object: &Map<String, Value>, key: &str) -> Vec<String> {
    let items: Vec<&Value> = match lookup(object, key) {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single @ Value::String(_)) => vec![single],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_severity(name: &str) -> Option<Severity> {
    match name.trim().to_lowercase().as_str() {
        "low" | "minor" => Some(Severity::Low),
        "medium" | "moderate" => Some(Severity::Medium),
        "high" | "major" => Some(Severity::High),
        "critical" | "severe" => Some(Severity::Critical),
        _ => None,
    }
}

fn parse_sentiment(name: &str) -> Option<Sentiment> {
    match name.trim().to_lowercase().as_str() {
        "positive" => Some(Sentiment::Positive),
        "neutral" | "mixed" => Some(Sentiment::Neutral),
        "negative" => Some(Sentiment::Negative),
        _ => None,
    }
}

fn first_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metrics(score: Value) -> Value {
        Value::Object(
            Metric::ALL
                .iter()
                .map(|m| (m.as_str().to_owned(), score.clone()))
                .collect(),
        )
    }

    #[test]
    fn issue_kind_names_are_the_serde_names() {
        for kind in IssueKind::ALL {
            let serde = serde_json::to_value(kind).expect("serialises");
            assert_eq!(serde, json!(issue_kind_name(kind)));
            assert_eq!(parse_issue_kind(issue_kind_name(kind)), Some(kind));
        }
        assert_eq!(
            parse_issue_kind("Missing Details"),
            Some(IssueKind::MissingDetails)
        );
        assert_eq!(
            parse_issue_kind("issue_apology-loop"),
            Some(IssueKind::ApologyLoop)
        );
        assert_eq!(parse_issue_kind("rudeness"), None);
    }

    #[test]
    fn fenced_and_reasoned_json_is_read() {
        let reply = "<think>let me see</think>\n```json\n{\"a\": 1}\n```";
        assert_eq!(json_value(reply, "x").expect("parses"), json!({"a": 1}));
        let prose = "Here it is: {\"a\": 2} hope it helps";
        assert_eq!(json_value(prose, "x").expect("parses"), json!({"a": 2}));
    }

    #[test]
    fn analysis_values_are_forgiven_within_the_scale() {
        let reply = json!({
            "title": "Refund",
            "metrics": metrics(json!("100")),
            "issues": [
                {"kind": "refusal", "severity": "HIGH", "messageIndexes": [3, 1, 1, 9, -1, 1.5]},
                {"kind": "rudeness", "title": "dropped"}
            ],
            "sentimentScore": 80,
            "task_completed": "yes",
            "keywords": "Refund",
        })
        .to_string();
        let analysis = parse_analysis(&reply, 4).expect("parses");
        assert_eq!(analysis.metrics.get(Metric::Clarity), 100.0);
        assert_eq!(analysis.issues.len(), 1);
        assert_eq!(analysis.issues[0].message_indexes, vec![1, 3]);
        assert_eq!(analysis.issues[0].severity, Severity::High);
        assert_eq!(analysis.issues[0].title, "Refusal");
        assert!((analysis.sentiment_score - 0.8).abs() < 1e-9);
        assert_eq!(analysis.sentiment, Sentiment::Positive);
        assert!(analysis.task_completed);
        assert_eq!(analysis.keywords, vec!["refund"]);
        assert_eq!(analysis.gated_score, 100.0);
    }

    #[test]
    fn scores_off_the_0_to_100_scale_are_refused_not_rescaled() {
        let over = json!({"metrics": metrics(json!(150))}).to_string();
        let error = parse_analysis(&over, 2).expect_err("out of range");
        assert!(error.to_string().contains("outside 0..100"), "{error}");
        let tenths = json!({"metrics": metrics(json!(8)), "taskCompleted": true}).to_string();
        let error = parse_analysis(&tenths, 2).expect_err("a 0..10 scale");
        assert_eq!(error.code(), "MODEL_MALFORMED_REPLY");
        assert!(error.to_string().contains("0..10 scale"), "{error}");
        // Low scores for a failed conversation are on our scale.
        let failed = json!({"metrics": metrics(json!(8)), "taskCompleted": false}).to_string();
        assert_eq!(
            parse_analysis(&failed, 2)
                .expect("parses")
                .metrics
                .get(Metric::Clarity),
            8.0
        );
    }

    #[test]
    fn the_schemas_are_strict() {
        fn check(value: &Value) {
            match value {
                Value::Object(object) => {
                    if object.get("type") == Some(&json!("object")) {
                        assert_eq!(object["additionalProperties"], json!(false), "{value}");
                        let properties = object["properties"].as_object().expect("properties");
                        assert_eq!(
                            object["required"].as_array().expect("required").len(),
                            properties.len()
                        );
                    }
                    object.values().for_each(check);
                }
                Value::Array(items) => items.iter().for_each(check),
                _ => {}
            }
        }
        for schema in [analysis_schema(), variants_schema()] {
            check(&schema.schema);
        }
    }

    #[test]
    fn a_missing_metric_is_named() {
        let mut m = metrics(json!(70));
        m.as_object_mut().expect("object").remove("clarity");
        let reply = json!({"metrics": m}).to_string();
        let error = parse_analysis(&reply, 2).expect_err("malformed");
        assert_eq!(
            error,
            EngineError::MalformedReply(
                "the judge's analysis lacks a 0..100 score for clarity".to_owned()
            )
        );
    }

    #[test]
    fn user_turns_end_on_the_marker() {
        assert_eq!(
            read_user_turn("Thanks, that works! [DONE]"),
            ("Thanks, that works!".to_owned(), true)
        );
        assert_eq!(read_user_turn("[DONE]"), (String::new(), true));
        assert_eq!(
            read_user_turn("User: Where is it?"),
            ("Where is it?".to_owned(), false)
        );
    }

    #[test]
    fn variants_must_differ_from_the_prompt_and_each_other() {
        let reply = json!({"variants": [
            {"content": "Be kind.", "changeSummary": "same as before"},
            {"content": "Be kind. Ask for the order number.", "addresses": ["missing_details", "nonsense"]},
            {"content": "Be kind. Ask for the order number."},
        ]})
        .to_string();
        let variants = parse_variants(&reply, "Be kind.", 1).expect("one usable");
        assert_eq!(variants[0].addresses, vec![IssueKind::MissingDetails]);
        let error = parse_variants(&reply, "Be kind.", 2).expect_err("only one usable");
        assert!(error
            .to_string()
            .contains("asked for 2 prompt variants, the reply held 1"));
    }
}
