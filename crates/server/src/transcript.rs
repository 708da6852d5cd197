//! Between the two forms a conversation arrives in: `content` (a transcript of labelled
//! lines) and `messages` (structured turns).

use converra_api::conversations::{ConversationFilter, Message, Role};

/// The role a transcript label names: User/Human/Customer, Assistant/AI/Agent/Bot, System, Tool.
fn role_of_label(label: &str) -> Option<Role> {
    match label.trim().to_ascii_lowercase().as_str() {
        "user" | "human" | "customer" => Some(Role::User),
        "assistant" | "ai" | "agent" | "bot" => Some(Role::Assistant),
        "system" => Some(Role::System),
        "tool" => Some(Role::Tool),
        _ => None,
    }
}

/// Parses a transcript of `Label: text` lines. A line without a known label continues the
/// message before it. `None` when no line carries a label: the text is not a transcript.
pub fn parse_transcript(content: &str) -> Option<Vec<Message>> {
    let mut messages: Vec<Message> = Vec::new();
    let mut preamble: Vec<&str> = Vec::new();
    for line in content.lines() {
        let labelled = line
            .split_once(':')
            .and_then(|(label, rest)| Some((role_of_label(label)?, rest.trim_start())));
        match (labelled, messages.last_mut()) {
            (Some((role, text)), _) => messages.push(Message::new(role, text.to_owned())),
            (None, Some(last)) => {
                last.content.push('\n');
                last.content.push_str(line);
            }
            (None, None) => preamble.push(line),
        }
    }
    if messages.is_empty() {
        return None;
    }
    let preamble = preamble.join("\n");
    if !preamble.trim().is_empty() {
        messages.insert(0, Message::new(Role::User, preamble.trim().to_owned()));
    }
    for m in &mut messages {
        m.content = m.content.trim_end().to_owned();
    }
    Some(messages)
}

/// Renders messages as `User: …` / `Assistant: …` lines (system prompts left out).
pub fn render_transcript(messages: &[Message]) -> String {
    messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| format!("{}: {}", m.role.label(), m.content))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text the full-text index holds for a conversation: its title and what the user, the
/// assistant and the tools said. Never the system prompt: the agent's instructions are in
/// every conversation, so a word of them would match them all.
pub fn searchable_text(title: Option<&str>, messages: &[Message]) -> String {
    let mut text = String::new();
    let mut line = |part: &str| {
        text.push_str(part);
        text.push('\n');
    };
    if let Some(title) = title {
        line(title);
    }
    for m in messages.iter().filter(|m| m.role != Role::System) {
        line(&m.content);
        for call in m.tool_calls.iter().flatten() {
            line(&call.name);
            match &call.result {
                Some(serde_json::Value::String(result)) => line(result),
                Some(result) => line(&result.to_string()),
                None => {}
            }
            if let Some(error) = &call.error {
                line(error);
            }
        }
    }
    text
}

/// Why a search cannot run.
pub const SEARCH_TOO_SHORT: &str = "needs a word of at least 3 letters or digits";

/// A user's search words as an FTS5 query that cannot be a syntax error: each word quoted,
/// all required, the last one as a prefix (so results appear while typing) when it has at
/// least `ConversationFilter::MIN_PREFIX_CHARS` characters, else as a whole word. `Ok(None)` for no words;
/// `Err` when the only word is too short to search by.
pub fn fts_query(q: &str) -> Result<Option<String>, &'static str> {
    let words: Vec<&str> = ConversationFilter::search_words(q).take(16).collect();
    let Some((last, rest)) = words.split_last() else {
        return Ok(None);
    };
    // A shorter prefix would match a large share of the index, at a cost no other word bounds.
    if !ConversationFilter::is_searchable(q) {
        return Err(SEARCH_TOO_SHORT);
    }
    let prefix = last.chars().count() >= ConversationFilter::MIN_PREFIX_CHARS;
    let mut query: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    query.push(format!("\"{last}\"{}", if prefix { "*" } else { "" }));
    Ok(Some(query.join(" ")))
}

/// The same search as a PostgreSQL `tsquery` over the folded words the server indexes
/// there ([`crate::search_snippet::folded_words`]): every word required, the last a prefix
/// on the same rule. Words are letters and digits only, so quoting them is enough.
pub fn tsquery(q: &str) -> Result<Option<String>, &'static str> {
    let words: Vec<String> = ConversationFilter::search_words(q)
        .take(16)
        .map(crate::search_snippet::fold)
        .collect();
    let Some((last, rest)) = words.split_last() else {
        return Ok(None);
    };
    if !ConversationFilter::is_searchable(q) {
        return Err(SEARCH_TOO_SHORT);
    }
    let prefix = last.chars().count() >= ConversationFilter::MIN_PREFIX_CHARS;
    let mut query: Vec<String> = rest.iter().map(|w| format!("'{w}'")).collect();
    query.push(format!("'{last}'{}", if prefix { ":*" } else { "" }));
    Ok(Some(query.join(" & ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_label_and_continuation_lines() {
        let messages =
            parse_transcript("Customer: my order\nis late\nAgent: Sorry!\nHuman: ok\nAI: bye")
                .unwrap();
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [Role::User, Role::Assistant, Role::User, Role::Assistant]
        );
        assert_eq!(messages[0].content, "my order\nis late");
        assert_eq!(parse_transcript("just some text"), None);
    }

    #[test]
    fn a_label_needs_a_colon_and_a_known_name() {
        let messages = parse_transcript("User: see note: urgent\nNote: not a role").unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].content, "see note: urgent\nNote: not a role");
    }

    #[test]
    fn renders_without_the_system_prompt() {
        let messages = vec![
            Message::new(Role::System, "be nice"),
            Message::new(Role::User, "hi"),
            Message::new(Role::Assistant, "hello"),
        ];
        assert_eq!(render_transcript(&messages), "User: hi\nAssistant: hello");
    }

    #[test]
    fn the_index_holds_what_was_said_and_never_the_instructions() {
        let mut reply = Message::new(Role::Assistant, "Let me check.");
        reply.tool_calls = Some(vec![converra_api::conversations::ToolCall {
            id: None,
            name: "lookup_order".into(),
            arguments: serde_json::json!({"orderId": 7}),
            result: Some(serde_json::json!({"status": "shipped"})),
            error: Some("slow upstream".into()),
            nested_trace: None,
        }]);
        let text = searchable_text(
            Some("Late order"),
            &[
                Message::new(Role::System, "Offer refunds generously."),
                Message::new(Role::User, "Is the backpack waterproof?"),
                reply,
            ],
        );
        assert!(!text.contains("refunds"), "{text}");
        for said in [
            "Late order",
            "waterproof",
            "lookup_order",
            "shipped",
            "slow upstream",
        ] {
            assert!(text.contains(said), "{said} missing from {text}");
        }
    }

    #[test]
    fn fts_queries_quote_words_and_prefix_the_last_when_it_is_long_enough() {
        assert_eq!(
            fts_query("refund AND\"ret"),
            Ok(Some("\"refund\" \"AND\" \"ret\"*".into()))
        );
        assert_eq!(fts_query("refund x"), Ok(Some("\"refund\" \"x\"".into())));
        assert_eq!(fts_query("  ;; "), Ok(None));
        assert_eq!(fts_query("ab"), Err(SEARCH_TOO_SHORT));
        assert_eq!(fts_query("é"), Err(SEARCH_TOO_SHORT));
    }

    #[test]
    fn tsqueries_fold_words_and_prefix_the_last_on_the_same_rule() {
        assert_eq!(
            tsquery("Refund AND'Crème"),
            Ok(Some("'refund' & 'and' & 'creme':*".into()))
        );
        assert_eq!(tsquery("refund x"), Ok(Some("'refund' & 'x'".into())));
        assert_eq!(tsquery("  ;; "), Ok(None));
        assert_eq!(tsquery("ab"), Err(SEARCH_TOO_SHORT));
    }
}

/// Property tests: whatever text arrives, the parsers neither panic nor produce more than
/// they were given.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text rich in what the parsers look for: labels, colons, newlines, quotes, operators.
    fn transcript_like() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("User: ".to_owned()),
                Just("Assistant:".to_owned()),
                Just("AI: ".to_owned()),
                Just("Note: ".to_owned()),
                Just("\n".to_owned()),
                Just("\r\n".to_owned()),
                Just("\"".to_owned()),
                Just("*".to_owned()),
                Just(" AND ".to_owned()),
                Just(" NEAR(".to_owned()),
                "\\PC{0,12}",
            ],
            0..64,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn a_transcript_parses_to_no_more_text_than_it_holds(text in transcript_like()) {
            if let Some(messages) = parse_transcript(&text) {
                prop_assert!(!messages.is_empty());
                let content: usize = messages.iter().map(|m| m.content.chars().count()).sum();
                prop_assert!(content <= text.chars().count());
                // Rendered back, it stays within the input plus one label per message.
                let rendered = render_transcript(&messages);
                prop_assert!(rendered.chars().count() <= text.chars().count() + 12 * messages.len());
            }
        }

        #[test]
        fn a_search_is_a_bounded_query_of_quoted_words(text in transcript_like()) {
            match fts_query(&text) {
                Ok(Some(query)) => {
                    // Every word quoted (so FTS5 syntax cannot leak in), at most 16 of them.
                    let words = ConversationFilter::search_words(&text).take(16).count();
                    prop_assert_eq!(query.matches('"').count(), 2 * words);
                    prop_assert!(query.chars().count() <= text.chars().count() + 4 * words);
                }
                Ok(None) => prop_assert_eq!(ConversationFilter::search_words(&text).count(), 0),
                Err(_) => prop_assert!(!ConversationFilter::is_searchable(&text)),
            }
        }

        #[test]
        fn any_query_string_is_a_filter_or_a_refusal(query in "[a-zA-Z=&%0-9,._:+-]{0,80}") {
            let uri: axum::http::Uri = match format!("/conversations?{query}").parse() {
                Ok(uri) => uri,
                Err(_) => return Ok(()),
            };
            if let Ok(axum::extract::Query(filter)) =
                axum::extract::Query::<ConversationFilter>::try_from_uri(&uri)
            {
                if let Some(q) = filter.q.as_deref() {
                    let _ = fts_query(q);
                }
            }
        }
    }
}
