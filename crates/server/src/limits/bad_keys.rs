//! Requests that fail authentication, counted per client address: past a few a minute, the
//! address's bad keys get 429 with `Retry-After` instead of 401, which tells a client stuck
//! in a retry loop to back off. Kept in memory; it knows nothing of HTTP state.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use super::rate::WINDOW_MS;

/// Failed authentications an address may make in one window before it is refused, unless
/// the operator sets another number (`serve --bad-keys-per-minute`).
pub const BAD_KEYS_PER_MINUTE: u32 = 20;

/// Addresses kept before stale windows are dropped (doubling, as for the rate windows).
const MIN_PRUNE_AT: usize = 1_024;

pub struct BadKeyGuard {
    per_minute: u32,
    state: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    /// Client (see [`client_of`]) -> (window start, failures in it).
    windows: HashMap<IpAddr, (i64, u32)>,
    prune_at: usize,
}

/// Who a limit applies to: the address, or for IPv6 its /64, which one client usually holds
/// whole, so rotating through it gains nothing.
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

impl BadKeyGuard {
    /// A guard that refuses an address after `per_minute` failures in one window.
    pub fn new(per_minute: u32) -> Self {
        BadKeyGuard {
            per_minute,
            state: Mutex::default(),
        }
    }

    /// Seconds until `address` may try again, when it has used up its failures this window.
    pub fn refused_for(&self, address: IpAddr, now_ms: i64) -> Option<u64> {
        let start = now_ms - now_ms.rem_euclid(WINDOW_MS);
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.windows.get(&client_of(address)) {
            Some(&(window, failures)) if window == start && failures >= self.per_minute => {
                let wait_ms = u64::try_from(start + WINDOW_MS - now_ms).unwrap_or(0);
                Some(wait_ms.div_ceil(1000).max(1))
            }
            _ => None,
        }
    }

    /// Counts one failed authentication from `address`.
    pub fn record_failure(&self, address: IpAddr, now_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(WINDOW_MS);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.windows.len() >= state.prune_at.max(MIN_PRUNE_AT) {
            state.windows.retain(|_, (window, _)| *window == start);
            state.prune_at = state.windows.len() * 2;
        }
        let entry = state
            .windows
            .entry(client_of(address))
            .or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_turns() {
        let guard = BadKeyGuard::new(BAD_KEYS_PER_MINUTE);
        let address: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        let now = 10 * WINDOW_MS + 15_000;
        for _ in 0..BAD_KEYS_PER_MINUTE {
            assert_eq!(guard.refused_for(address, now), None);
            guard.record_failure(address, now);
        }
        assert_eq!(guard.refused_for(address, now), Some(45));
        assert_eq!(guard.refused_for(other, now), None);
        assert_eq!(guard.refused_for(address, 11 * WINDOW_MS), None);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let guard = BadKeyGuard::new(BAD_KEYS_PER_MINUTE);
        let now = WINDOW_MS;
        for i in 0..BAD_KEYS_PER_MINUTE {
            let rotating: IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
            guard.record_failure(rotating, now);
        }
        assert!(guard
            .refused_for("2001:db8:1:2:ffff::1".parse().unwrap(), now)
            .is_some());
        assert!(guard
            .refused_for("2001:db8:1:3::1".parse().unwrap(), now)
            .is_none());
    }
}
