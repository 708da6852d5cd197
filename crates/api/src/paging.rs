//! Paging parameters shared by every list endpoint.

use serde::{Deserialize, Serialize};

/// `limit` (1..100), `offset`, or `cursor` (opaque keyset; takes precedence over `offset`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub limit: Option<u32>,
    pub offset: Option<u64>,
    pub cursor: Option<String>,
}

impl Paging {
    pub const MAX_LIMIT: u32 = 100;
    pub const DEFAULT_LIMIT: u32 = 20;
}
