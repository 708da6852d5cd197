//! `converra-server demo`: fills a database with a demo account and prints its key.

use converra_api::PlanId;

use crate::store::Store;

pub const DEMO_ACCOUNT: &str = "Acme Support (demo)";

/// Seeds the demo data and returns a new API key for the demo account.
pub async fn seed(store: &Store, now_ms: i64) -> anyhow::Result<String> {
    let issued = store.issue_key(DEMO_ACCOUNT, PlanId::Pro, now_ms).await?;
    Ok(issued.key)
}
