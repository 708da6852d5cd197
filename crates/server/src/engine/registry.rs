//! Which engine serves an account: the model named by its settings (`llm.baseUrl`,
//! `llm.model`, `llm.apiKey`), else the one named by the server's flags, else the offline
//! engine. Model clients are kept per connection so that their concurrency limit, and what
//! they learnt about the endpoint, hold across all the jobs that use them; each engine
//! wraps one with the account's other options (judge model, the simulated user's
//! temperature).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use converra_api::settings::{Settings, StructuredOutputs};

use super::model::client::EndpointOwner;
use super::model::{ChatClient, ModelConfig, ModelEngine, ModelOptions};
use super::offline::OfflineEngine;
use super::Engine;

/// The model connection the server's command line names (`CONVERRA_LLM_*`), used by
/// accounts whose settings name none.
#[derive(Clone, Default)]
pub struct ModelDefaults {
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<String>,
}

// Written by hand so the key never reaches a log line.
impl std::fmt::Debug for ModelDefaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelDefaults")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The model every engine call uses when none is named.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Base URL, model, key, whose endpoint it is and how structured replies are asked for:
/// one model client each, so an account naming the operator's URL still gets a guarded
/// client.
type ModelConnection = (
    String,
    String,
    Option<String>,
    EndpointOwner,
    StructuredOutputs,
);

/// Model clients kept at most; past that the least recently used is dropped (its calls in
/// flight finish; the next call on that connection builds a new client).
pub const MAX_CLIENTS: usize = 256;

/// Model calls one account may have in flight at once through a client, out of its
/// [`ModelConfig::DEFAULT_MAX_CONCURRENCY`] (4).
pub const ACCOUNT_SHARE: usize = 2;

pub struct EngineRegistry {
    offline: Arc<OfflineEngine>,
    defaults: ModelDefaults,
    /// Whether accounts' endpoints may be on private networks (`--allow-private-network`).
    allow_private_network: bool,
    /// Tests shorten the model client's timeout and backoff through this.
    tune: fn(&mut ModelConfig),
    clients: Mutex<Lru<ModelConnection, ChatClient>>,
    /// Each account's share of the clients' slots, by account id.
    shares: Mutex<Lru<String, Arc<Semaphore>>>,
}

/// A map that keeps its `cap` most recently used entries.
struct Lru<K, V> {
    entries: HashMap<K, (V, u64)>,
    clock: u64,
    cap: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Lru<K, V> {
    fn new(cap: usize) -> Self {
        Lru {
            entries: HashMap::new(),
            clock: 0,
            cap: cap.max(1),
        }
    }

    /// The value for `key`, made by `make` if absent; either way it becomes the newest.
    fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> V {
        self.clock += 1;
        let now = self.clock;
        if let Some((value, used)) = self.entries.get_mut(&key) {
            *used = now;
            return value.clone();
        }
        if self.entries.len() >= self.cap {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        let value = make();
        self.entries.insert(key, (value.clone(), now));
        value
    }
}

impl EngineRegistry {
    pub fn new(
        defaults: ModelDefaults,
        allow_private_network: bool,
        tune: fn(&mut ModelConfig),
    ) -> Self {
        EngineRegistry {
            offline: Arc::new(OfflineEngine::new()),
            defaults,
            allow_private_network,
            tune,
            clients: Mutex::new(Lru::new(MAX_CLIENTS)),
            shares: Mutex::new(Lru::new(MAX_CLIENTS * 4)),
        }
    }

    /// The engine for an account's settings and saved model key.
    pub fn for_settings(
        &self,
        account_id: &str,
        settings: &Settings,
        account_key: Option<String>,
    ) -> Arc<dyn Engine> {
        let llm = &settings.llm;
        let (base_url, api_key, owner) = match llm.base_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => (
                url.to_owned(),
                account_key,
                EndpointOwner::Account {
                    allow_private: self.allow_private_network,
                },
            ),
            None => match &self.defaults.base_url {
                Some(url) => (
                    url.clone(),
                    account_key.or(self.defaults.api_key.clone()),
                    EndpointOwner::Operator,
                ),
                None => return self.offline.clone(),
            },
        };
        let model = llm
            .model
            .clone()
            .or(self.defaults.model.clone())
            .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
        let key = (base_url, model, api_key, owner, llm.structured_outputs);
        let client = {
            // A poisoned lock only means another thread panicked while inserting; the map
            // itself is still a valid cache.
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.get_or_insert_with(key.clone(), || {
                let mut config = ModelConfig::new(key.0.clone(), key.1.clone());
                config.api_key = key.2.clone();
                config.owner = key.3;
                config.structured_outputs = key.4;
                (self.tune)(&mut config);
                ChatClient::new(config)
            })
        };
        let share = self
            .shares
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(account_id.to_owned(), || {
                Arc::new(Semaphore::new(ACCOUNT_SHARE))
            });
        let client = client.for_account(share);
        Arc::new(ModelEngine::with_options(
            client,
            ModelOptions {
                user_temperature: settings.optimization.simulation.user_temperature,
                judge_model: llm.judge_model.clone(),
            },
        ))
    }
}

#[cfg(test)]
mod lru_tests {
    use super::Lru;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut lru = Lru::new(2);
        assert_eq!(lru.get_or_insert_with("a", || 1), 1);
        assert_eq!(lru.get_or_insert_with("b", || 2), 2);
        // Using `a` makes `b` the oldest.
        assert_eq!(lru.get_or_insert_with("a", || 9), 1);
        assert_eq!(lru.get_or_insert_with("c", || 3), 3);
        assert_eq!(lru.entries.len(), 2);
        assert_eq!(lru.get_or_insert_with("a", || 9), 1, "a was kept");
        assert_eq!(
            lru.get_or_insert_with("b", || 4),
            4,
            "b was dropped and rebuilt"
        );
    }
}
