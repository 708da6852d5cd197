//! Success envelopes: `{"data": …}` for one thing, `{"data": [...], "pagination": …}` for lists.

use serde::{Deserialize, Serialize};

/// `{"data": T}`: the body of every single-object success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Data<T> {
    pub data: T,
}

impl<T> Data<T> {
    pub fn new(data: T) -> Self {
        Data { data }
    }
}

/// Where a list page sits in the whole result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
    pub has_more: bool,
    /// Opaque keyset cursor for the next page; walking by it never repeats or skips rows.
    pub next_cursor: Option<String>,
}

/// `{"data": [...], "pagination": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}
