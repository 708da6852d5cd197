//! Counter slots. The counters every conversation create adds to (the month's usage, an
//! agent's conversations and latest activity) are rows split into slots, summed on read:
//! on PostgreSQL a row updated by one transaction is held until its commit reaches the
//! disk, so creates adding to one row would commit one after another. A create adds to
//! the slot its conversation's id picks, so concurrent creates mostly touch different rows.
//! SQLite has one writer at a time, so its rows stay in slot 0.

use super::sql::Backend;

/// How many slots a counter is split into on PostgreSQL: enough that the connections of a
/// few instances seldom share one, few enough that a month of one account's usage stays a
/// short read (31 days × 32 slots).
const SLOTS: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(i64);

impl Slot {
    /// For counts that are not on the hot path (requests flushed from memory, optimizations,
    /// benchmarks): their writes are few, so sharing a slot costs nothing.
    pub const SHARED: Slot = Slot(0);

    /// The slot of what `key` names (a conversation's id): always the same one for the
    /// same key, spread evenly over random ids.
    pub fn of(backend: Backend, key: &str) -> Slot {
        match backend {
            Backend::Sqlite => Slot::SHARED,
            Backend::Postgres => {
                // FNV-1a: stable across processes and releases, unlike std's hasher.
                let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                    (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
                });
                Slot(i64::try_from(hash % SLOTS).unwrap_or(0))
            }
        }
    }

    pub fn index(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_counts_in_one_slot() {
        assert_eq!(Slot::of(Backend::Sqlite, "conv_abc"), Slot::SHARED);
    }

    #[test]
    fn postgres_spreads_ids_over_every_slot_and_keeps_each_in_one() {
        let slots: std::collections::HashSet<i64> = (0..2000)
            .map(|i| Slot::of(Backend::Postgres, &format!("conv_{i:08x}")).index())
            .collect();
        assert_eq!(slots.len(), SLOTS as usize);
        assert!(slots.iter().all(|slot| (0..SLOTS as i64).contains(slot)));
        assert_eq!(
            Slot::of(Backend::Postgres, "conv_1"),
            Slot::of(Backend::Postgres, "conv_1")
        );
    }
}
