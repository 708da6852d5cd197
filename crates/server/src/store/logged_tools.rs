//! The tools an agent called in its logged conversations, for its simulated agent.

use converra_api::conversations::{Message, ToolDefinition};
use sqlx::Row;

use super::Store;
use crate::engine::logged_tools::{collect, LoggedTool};

/// The newest conversations read for tools: enough to see every tool an agent uses and
/// how each fails, few enough to read on every run.
const CONVERSATIONS_READ: i64 = 200;

impl Store {
    /// The agent's tools with outcomes sampled from its newest conversations that show
    /// tool calls (see [`collect`]); empty when it never called one.
    pub async fn logged_tools(
        &self,
        account_id: &str,
        agent_id: &str,
    ) -> anyhow::Result<Vec<LoggedTool>> {
        // The text match only narrows the read; what counts as a call is decided on the
        // parsed messages.
        let rows = sqlx::query(
            "SELECT tool_definitions, messages FROM conversations \
             WHERE account_id = $1 AND agent_id = $2 \
               AND (messages LIKE '%\"toolCalls\"%' OR messages LIKE '%\"role\":\"tool\"%') \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(CONVERSATIONS_READ)
        .fetch_all(self.pool())
        .await?;
        let mut conversations: Vec<(Option<Vec<ToolDefinition>>, Vec<Message>)> =
            Vec::with_capacity(rows.len());
        for row in &rows {
            let definitions: Option<String> = row.try_get("tool_definitions")?;
            let messages: String = row.try_get("messages")?;
            // A row that does not parse is someone else's bug; the tools of the others
            // still make a better simulation than none.
            let Ok(messages) = serde_json::from_str::<Vec<Message>>(&messages) else {
                tracing::warn!(agent = %agent_id, "a stored conversation's messages do not parse");
                continue;
            };
            let definitions = definitions.and_then(|d| serde_json::from_str(&d).ok());
            conversations.push((definitions, messages));
        }
        // Oldest first, so that the samples kept are in log order.
        conversations.reverse();
        Ok(collect(
            conversations
                .iter()
                .map(|(d, m)| (d.as_deref(), m.as_slice())),
        ))
    }
}
