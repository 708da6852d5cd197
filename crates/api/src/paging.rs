//! Paging parameters shared by every list endpoint.

use serde::{Deserialize, Serialize};

/// `limit` (1..100), `offset`, or `cursor` (opaque keyset; takes precedence over `offset`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(maximum = 1000000000))]
    pub offset: Option<u64>,
    /// As issued in `pagination.nextCursor` (hex of the position it continues from).
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(2[dD])?(3[0-9]){1,18}3[aA]([2-7][0-9a-fA-F])*$")
    )]
    pub cursor: Option<String>,
}

impl Paging {
    pub const MAX_LIMIT: u32 = 100;
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The largest `offset`: past it a cursor is the way to go on.
    pub const MAX_OFFSET: u64 = 1_000_000_000;
}
