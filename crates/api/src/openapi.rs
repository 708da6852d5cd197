//! Schema pieces for fields whose values a rule narrows further than their Rust type says
//! (a fixed set of strings or numbers, non-blank items), so that the OpenAPI document states
//! what the server accepts. Each type's module names its own field schemas from these
//! (`schema_with`), so this module depends on none of them.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

/// What the server requires of a text it trims: a character that is not whitespace.
pub const NON_BLANK: &str = "\\S";

fn nullable(of: Type) -> SchemaType {
    SchemaType::from_iter([of, Type::Null])
}

/// One of `values`, or also `null` when `nullable_field`.
pub fn one_of_strings(values: &[&str], nullable_field: bool) -> Schema {
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

/// One of `values`, or `null`.
pub fn one_of_numbers_or_null(values: &[u32]) -> Schema {
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(nullable(Type::Integer))
        .enum_values(Some(values))
        .into()
}

/// An array (or `null`) of at most `max_items` non-blank texts of at most `max_chars`.
pub fn non_blank_texts_or_null(max_items: usize, max_chars: usize) -> Schema {
    let text = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(NON_BLANK));
    ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(text)
        .max_items(Some(max_items))
        .into()
}

/// An array of one or more of `values`.
pub fn some_of_strings(values: &[&str]) -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(one_of_strings(values, false)))
        .min_items(Some(1))
        .into()
}

/// A text (or `null`) matching `pattern`.
pub fn text_or_null_matching(pattern: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .pattern(Some(pattern))
        .into()
}
