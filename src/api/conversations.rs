//! `GET /conversations` (a page, or every page of a view for export) and
//! `GET /conversations/:id`. Their insights are in [`super::insights`].

use converra_api::conversations::Conversation;
use converra_api::{Data, List};

use super::{ApiClient, ClientError};
use crate::query::{encode_component, ConversationQuery};

/// One page of conversations (without transcripts) for a view of the list.
pub async fn list_conversations(
    client: &ApiClient,
    query: &ConversationQuery,
    limit: u32,
) -> Result<List<Conversation>, ClientError> {
    client
        .get(&format!("/conversations{}", query.to_api_query(limit)))
        .await
}

/// One conversation with its messages.
pub async fn get_conversation(client: &ApiClient, id: &str) -> Result<Conversation, ClientError> {
    client
        .get::<Data<Conversation>>(&format!("/conversations/{}", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// Every page of a view, 100 rows a request, up to `max_rows`; `progress` hears the row
/// count after each page. Time orders walk by cursor, quality orders by offset.
pub async fn list_all_conversations(
    client: &ApiClient,
    query: &ConversationQuery,
    max_rows: usize,
    progress: impl Fn(usize, u64),
) -> Result<Vec<Conversation>, ClientError> {
    const PAGE: u32 = converra_api::Paging::MAX_LIMIT;
    let mut page_query = query.first_page();
    let mut rows: Vec<Conversation> = Vec::new();
    while rows.len() < max_rows {
        let page = list_conversations(client, &page_query, PAGE).await?;
        let fetched = page.data.len();
        rows.extend(page.data);
        progress(rows.len().min(max_rows), page.pagination.total);
        if !page.pagination.has_more || fetched == 0 {
            break;
        }
        match page.pagination.next_cursor {
            Some(cursor) if crate::query::sort_pages_by_cursor(query.sort) => {
                page_query.cursor = Some(cursor);
            }
            _ => {
                page_query.cursor = None;
                page_query.offset =
                    Some(page_query.offset.unwrap_or(0) + u64::try_from(fetched).unwrap_or(0));
            }
        }
    }
    rows.truncate(max_rows);
    Ok(rows)
}
