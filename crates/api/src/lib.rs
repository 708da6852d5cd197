//! Wire types of the Converra REST API (`/api/v1`): requests, responses, envelopes and
//! error codes. The server and the dashboard both depend on this crate, so the two can
//! never disagree on the wire format. No I/O lives here.

pub mod account;
pub mod agents;
pub mod benchmarks;
pub mod conversations;
pub mod envelope;
pub mod error;
pub mod insights;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod optimizations;
pub mod paging;
pub mod sdk;
pub mod settings;
pub mod usage;
pub mod webhooks;

pub use account::{Account, Plan, PlanId, PlanLimits};
pub use envelope::{Data, List, Pagination};
pub use error::{ErrorBody, ErrorCode, ErrorDetail, FieldError};
pub use paging::Paging;

/// The path every endpoint lives under.
pub const BASE_PATH: &str = "/api/v1";
