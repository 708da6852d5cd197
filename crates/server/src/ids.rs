//! Prefixed random identifiers (`agent_…`, `conv_…`) and API key material.

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

/// A new id such as `conv_4f9Qx…`: the prefix, an underscore, 24 random alphanumerics.
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 24)
    )
}

/// A new secret API key (`sk_live_…` or `sk_test_…`), 32 random alphanumerics after the prefix.
pub fn new_api_key(live: bool) -> String {
    let prefix = if live { "sk_live_" } else { "sk_test_" };
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 32)
    )
}

/// How a key is stored: hex SHA-256. Keys carry 190 bits of entropy, so a fast hash is
/// enough; a slow password hash would only slow every request down.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_differ() {
        let a = new_id("agent");
        assert!(a.starts_with("agent_") && a.len() == 30);
        assert_ne!(a, new_id("agent"));
        let key = new_api_key(true);
        assert!(key.starts_with("sk_live_"));
        assert_eq!(hash_api_key(&key).len(), 64);
        assert_ne!(hash_api_key(&key), key);
    }
}
