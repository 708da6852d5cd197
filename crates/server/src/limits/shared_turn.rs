//! A conversation create's quota check, taken alongside the account's other creates while
//! it is far from its monthly limit (PostgreSQL).
//!
//! A check and the write it allows take the account's turn, so that a limit holds exactly
//! across instances. Taken alone, that turn lasts until the commit reaches the disk, so an
//! account's creates commit one after another. Far from the limit they need not: a check
//! holding the turn shared misses at most the creates in flight, and there are never more
//! of those than the database's `max_connections` (`in_flight` below). So a shared check
//! passes only with more than `in_flight` conversations left; with fewer, checks take the
//! turn alone and count exactly. Whenever a shared check passes, the committed count plus
//! the creates in flight stays within the limit, and a check alone waits until none is in
//! flight: the limit is never exceeded.
//!
//! A token limit cannot be bounded this way (one conversation may carry any number of
//! tokens), so an account with one always checks alone.

use sqlx::AnyConnection;

use super::{ensure_conversation_quota, limits_lock};
use crate::error::ApiResult;
use crate::store::accounts::AccountRecord;
use crate::store::sql::lock_named_shared;
use crate::store::usage;

/// What a shared check found.
#[must_use = "a check that needs the turn alone must be redone alone"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedCheck {
    Passed,
    /// Between a first look and taking the turn shared, the account came within `in_flight`
    /// of its limit. The turn cannot be taken alone while it is held shared (two creates
    /// doing so would wait for each other), so the transaction must be rolled back and the
    /// create redone with [`ensure_conversation_quota`].
    NeedsTurnAlone,
}

/// [`ensure_conversation_quota`], holding the account's turn shared when more than
/// `in_flight` conversations are left, and alone otherwise.
pub async fn ensure_conversation_quota_shared(
    conn: &mut AnyConnection,
    account: &AccountRecord,
    now_ms: i64,
    in_flight: u64,
) -> ApiResult<SharedCheck> {
    let limit = u64::from(account.limits.conversations_per_month);
    let left = |used: i64| limit.saturating_sub(u64::try_from(used).unwrap_or(0));
    let far_from_limit = |used: i64| left(used) > in_flight;
    if account.limits.tokens_per_month.is_none() {
        // A first look without the turn: a create near the limit goes straight to checking
        // alone, rather than taking the turn shared and then being sent back.
        let seen = usage::period_totals(conn, &account.id, now_ms).await?;
        if left(seen.conversations) > in_flight.saturating_mul(2) {
            lock_named_shared(conn, &limits_lock(account)).await?;
            let used = usage::period_totals(conn, &account.id, now_ms).await?;
            return Ok(if far_from_limit(used.conversations) {
                SharedCheck::Passed
            } else {
                SharedCheck::NeedsTurnAlone
            });
        }
    }
    ensure_conversation_quota(conn, account, now_ms).await?;
    Ok(SharedCheck::Passed)
}
