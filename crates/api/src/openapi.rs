//! Schemas for fields whose values a rule narrows further than their Rust type says (a
//! fixed set of strings or numbers, non-blank items), so that the OpenAPI document states
//! what the server accepts. Used through `schema_with` on the wire types.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::Schema;

use crate::agents::CreateAgent;
use crate::insights::AgentInsightsQuery;
use crate::sdk::ActiveVariantQuery;
use crate::webhooks::WEBHOOK_EVENTS;

/// What the server requires of a text it trims: a character that is not whitespace.
pub const NON_BLANK: &str = "\\S";

fn nullable(of: Type) -> SchemaType {
    SchemaType::from_iter([of, Type::Null])
}

fn one_of_strings(values: &[&str], nullable_field: bool) -> Schema {
    let schema_type = if nullable_field {
        nullable(Type::String)
    } else {
        SchemaType::Type(Type::String)
    };
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable_field {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(values))
        .into()
}

/// `tags` of an agent: at most [`CreateAgent::MAX_TAGS`], each non-blank and at most
/// [`CreateAgent::MAX_TAG_CHARS`] characters.
pub fn agent_tags() -> Schema {
    let tag = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(CreateAgent::MAX_TAG_CHARS))
        .pattern(Some(NON_BLANK));
    ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(tag)
        .max_items(Some(CreateAgent::MAX_TAGS))
        .into()
}

/// `reasoningEffort` of an agent.
pub fn reasoning_effort() -> Schema {
    one_of_strings(&CreateAgent::REASONING_EFFORTS, true)
}

/// `trafficType` of `GET /sdk/agents/:id/active-variant`.
pub fn traffic_type() -> Schema {
    one_of_strings(&ActiveVariantQuery::TRAFFIC_TYPES, true)
}

/// `status` of `POST /conversations/:id/messages`: a conversation goes on or completes.
pub fn appended_status() -> Schema {
    one_of_strings(&["active", "completed"], true)
}

/// `days` of `GET /agents/:id/insights`.
pub fn insight_days() -> Schema {
    let mut values: Vec<serde_json::Value> = AgentInsightsQuery::DAYS
        .iter()
        .map(|d| (*d).into())
        .collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(nullable(Type::Integer))
        .enum_values(Some(values))
        .into()
}

/// `events` of `POST /webhooks`: one or more of [`WEBHOOK_EVENTS`].
pub fn webhook_events() -> Schema {
    ArrayBuilder::new()
        .items(utoipa::openapi::RefOr::T(one_of_strings(
            &WEBHOOK_EVENTS,
            false,
        )))
        .min_items(Some(1))
        .into()
}

/// `q` of `GET /conversations`: no word at all (no search), a word of at least 3 letters
/// or digits, or two words (`ConversationFilter::is_searchable`).
pub fn search_query() -> Schema {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .pattern(Some("^[\\W_]*$|[^\\W_]{3}|[^\\W_][\\W_]+[^\\W_]"))
        .into()
}
