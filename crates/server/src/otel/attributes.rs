//! Reading OTLP attributes: typed look-ups by key, values as JSON, and the flattened
//! `prefix.N.field` lists that OpenLLMetry and OpenInference write messages as.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use serde_json::{Map, Value};

/// An attribute value as JSON: kvlists become objects, arrays arrays, bytes hex text.
pub fn to_json(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(Any::StringValue(s)) => Value::String(s.clone()),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::from(*i),
        Some(Any::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Some(Any::ArrayValue(array)) => Value::Array(array.values.iter().map(to_json).collect()),
        Some(Any::KvlistValue(list)) => Value::Object(object(&list.values)),
        Some(Any::BytesValue(bytes)) => Value::String(hex::encode(bytes)),
        Some(Any::StringValueStrindex(_)) => Value::Null,
    }
}

/// Key-values as one JSON object (a later duplicate key wins).
pub fn object(values: &[KeyValue]) -> Map<String, Value> {
    values
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().map(to_json).unwrap_or(Value::Null);
            (kv.key.clone(), value)
        })
        .collect()
}

/// The attributes of a span, an event, a log record or a resource, looked up by key.
#[derive(Clone, Copy)]
pub struct Attributes<'a>(pub &'a [KeyValue]);

impl<'a> Attributes<'a> {
    pub fn get(&self, key: &str) -> Option<&'a AnyValue> {
        self.0
            .iter()
            .rev()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
    }

    /// A non-empty string value (numbers and booleans are rendered).
    pub fn text(&self, key: &str) -> Option<String> {
        let text = match &self.get(key)?.value {
            Some(Any::StringValue(s)) => s.clone(),
            Some(Any::IntValue(i)) => i.to_string(),
            Some(Any::DoubleValue(d)) => d.to_string(),
            Some(Any::BoolValue(b)) => b.to_string(),
            _ => return None,
        };
        (!text.trim().is_empty()).then_some(text)
    }

    /// The first of `keys` that holds a non-empty string.
    pub fn first_text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| self.text(key))
    }

    /// A non-negative count, from an int, a whole double or a numeric string.
    pub fn count(&self, key: &str) -> Option<u64> {
        match &self.get(key)?.value {
            Some(Any::IntValue(i)) => u64::try_from(*i).ok(),
            Some(Any::DoubleValue(d)) if d.is_finite() && *d >= 0.0 && d.fract() == 0.0 => {
                Some(*d as u64)
            }
            Some(Any::StringValue(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The first of `keys` that holds a count.
    pub fn first_count(&self, keys: &[&str]) -> Option<u64> {
        keys.iter().find_map(|key| self.count(key))
    }

    /// A structured value: a JSON string is parsed, an array or kvlist converted; a string
    /// that is not JSON stays a string.
    pub fn structured(&self, key: &str) -> Option<Value> {
        let value = self.get(key)?;
        Some(match &value.value {
            Some(Any::StringValue(s)) => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
            }
            _ => to_json(value),
        })
    }

    /// The flattened list under `prefix`: `prefix.0.role`, `prefix.0.content`, `prefix.1.…`
    /// become `{0: {"role": …, "content": …}, 1: …}`, each item's keys relative to its index.
    pub fn indexed(&self, prefix: &str) -> BTreeMap<usize, Vec<(&'a str, &'a AnyValue)>> {
        let mut items: BTreeMap<usize, Vec<(&'a str, &'a AnyValue)>> = BTreeMap::new();
        for kv in self.0 {
            let Some(rest) = kv
                .key
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
            else {
                continue;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let (Ok(index), Some(value)) = (index.parse::<usize>(), kv.value.as_ref()) else {
                continue;
            };
            items.entry(index).or_default().push((field, value));
        }
        items
    }
}

/// A flattened item's fields as one JSON object.
pub fn fields_object(fields: &[(&str, &AnyValue)]) -> Map<String, Value> {
    fields
        .iter()
        .map(|(key, value)| ((*key).to_owned(), to_json(value)))
        .collect()
}

/// The text of a flattened item's field.
pub fn field_text(fields: &[(&str, &AnyValue)], key: &str) -> Option<String> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| match &v.value {
            Some(Any::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn indexed_lists_group_fields_by_position() {
        let attrs = vec![
            kv("gen_ai.prompt.1.role", Any::StringValue("user".into())),
            kv("gen_ai.prompt.0.role", Any::StringValue("system".into())),
            kv(
                "gen_ai.prompt.0.content",
                Any::StringValue("Be brief.".into()),
            ),
            kv("gen_ai.prompt.x.role", Any::StringValue("ignored".into())),
            kv("gen_ai.prompts", Any::StringValue("ignored".into())),
        ];
        let items = Attributes(&attrs).indexed("gen_ai.prompt");
        assert_eq!(items.len(), 2);
        assert_eq!(
            field_text(&items[&0], "content").as_deref(),
            Some("Be brief.")
        );
        assert_eq!(field_text(&items[&1], "role").as_deref(), Some("user"));
    }

    #[test]
    fn counts_accept_ints_whole_doubles_and_numeric_strings_only() {
        let attrs = vec![
            kv("a", Any::IntValue(12)),
            kv("b", Any::DoubleValue(3.0)),
            kv("c", Any::StringValue(" 7 ".into())),
            kv("d", Any::IntValue(-1)),
            kv("e", Any::DoubleValue(2.5)),
        ];
        let attrs = Attributes(&attrs);
        assert_eq!(attrs.count("a"), Some(12));
        assert_eq!(attrs.count("b"), Some(3));
        assert_eq!(attrs.count("c"), Some(7));
        assert_eq!(attrs.count("d"), None);
        assert_eq!(attrs.count("e"), None);
    }

    #[test]
    fn structured_values_parse_json_strings() {
        let attrs = vec![kv("m", Any::StringValue(r#"[{"role":"user"}]"#.into()))];
        assert_eq!(
            Attributes(&attrs).structured("m"),
            Some(serde_json::json!([{"role": "user"}]))
        );
    }
}
