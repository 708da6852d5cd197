//! OpenTelemetry ingest: what OTLP traces and logs say about an agent's conversations. It
//! knows no database and no HTTP: routes decode a body with [`decode`], read it into turns
//! with [`spans`] and [`logs`], and merge the turns into transcripts with [`merge`].

pub mod attributes;
pub mod decode;
pub mod logs;
pub mod merge;
pub mod messages;
pub mod spans;

use converra_api::conversations::{Message, ToolCall};
use serde::{Deserialize, Serialize};

/// The conversation a turn belongs to: the one its conversation or session id names, else
/// its trace's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupKey {
    Conversation(String),
    Trace(String),
}

impl GroupKey {
    /// The form stored on the conversation.
    pub fn stored(&self) -> String {
        match self {
            GroupKey::Conversation(id) => format!("conversation:{id}"),
            GroupKey::Trace(id) => format!("trace:{id}"),
        }
    }
}

/// A span's numbers: tokens, latency and model, set on the message the span produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub latency_ms: Option<f64>,
    pub model: Option<String>,
}

impl Figures {
    pub fn is_empty(&self) -> bool {
        self.input_tokens.is_none() && self.output_tokens.is_none() && self.model.is_none()
    }
}

/// What one span, or one span's log records, add to a conversation.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    /// `span:<trace>/<span>` for a span, `log:<digest>` per log record: what a retried export repeats.
    pub item_keys: Vec<String>,
    pub trace_id: String,
    pub span_id: String,
    /// `gen_ai.conversation.id` or `session.id`.
    pub conversation_id: Option<String>,
    /// `gen_ai.agent.name` or OpenInference's `agent.name`.
    pub agent_name: Option<String>,
    /// The resource's `service.name`, the agent when nothing names one.
    pub service_name: Option<String>,
    pub system_prompt: Option<String>,
    /// The prompt's messages, history included, system prompt left out.
    pub input: Vec<Message>,
    /// What the model answered.
    pub output: Vec<Message>,
    /// An `execute_tool` span's call, with its result or its error.
    pub tool: Option<ToolCall>,
    pub figures: Figures,
    pub start_ns: u64,
    pub end_ns: u64,
}

impl Turn {
    /// Holds no message, no system prompt and no tool call.
    pub fn has_no_content(&self) -> bool {
        self.input.is_empty()
            && self.output.is_empty()
            && self.tool.is_none()
            && self.system_prompt.is_none()
    }

    /// The conversation this turn belongs to, before other turns of its trace are consulted.
    pub fn own_group(&self) -> Option<GroupKey> {
        self.conversation_id.clone().map(GroupKey::Conversation)
    }
}

/// The key a span is remembered by: span ids are only unique within their trace.
pub fn span_key(trace_id: &str, span_id: &str) -> String {
    format!("span:{trace_id}/{span_id}")
}

/// Hex of an OTLP id; empty for an empty id.
pub fn hex_id(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
