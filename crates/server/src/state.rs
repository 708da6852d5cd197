//! The state every handler, background job and limit shares: the store, the clock, the
//! server's configuration and the in-memory parts (rate-limit windows, worker wake-ups).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::engine::model::ModelConfig;
use crate::engine::registry::{EngineRegistry, ModelDefaults};
use crate::engine::Engine;
use crate::store::notify::Channel;
use crate::store::{Backend, Store};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    pub config: Arc<ServerConfig>,
    /// Rate-limit windows and requests counted but not yet written to `usage_daily`.
    pub limiter: Arc<crate::limits::rate::RateLimiter>,
    /// Failed authentications per client address.
    pub bad_keys: Arc<crate::limits::bad_keys::BadKeyGuard>,
    /// Wakes each queue's workers after a commit that queued work for them.
    pub wakeups: Arc<Wakeups>,
    pub engines: Arc<EngineRegistry>,
    /// Requests and webhook attempts counted for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// How long an announcement waits for more writes to cover.
const ANNOUNCE_COALESCE: std::time::Duration = std::time::Duration::from_millis(20);

/// Per channel: this process's workers waiting for work, and whether an announcement to
/// the other processes is on its way.
#[derive(Default)]
pub struct Wakeups {
    workers: [tokio::sync::Notify; Channel::ALL.len()],
    announcing: [AtomicBool; Channel::ALL.len()],
}

impl Wakeups {
    /// What the workers of `channel` wait on.
    pub fn of(&self, channel: Channel) -> &tokio::sync::Notify {
        &self.workers[channel.index()]
    }
}

impl AppState {
    /// Tells the workers of `channel` (this process's, and on PostgreSQL every process's)
    /// that work was queued for them; call it after the commit.
    pub fn wake(&self, channel: Channel) {
        self.wake_local(channel);
        self.announce(channel);
    }

    /// Wakes this process's workers of `channel`.
    pub fn wake_local(&self, channel: Channel) {
        let workers = self.wakeups.of(channel);
        // Every waiting worker, and a stored permit: a wake-up sent while a worker is
        // busy is not lost.
        workers.notify_waiters();
        workers.notify_one();
    }

    /// Announces `channel` to the other processes without holding up the caller; a lost
    /// announcement costs only the wait until their next poll. Announcements within
    /// [`ANNOUNCE_COALESCE`] of each other go out as one, so a burst of writes does not
    /// wake every process once a write.
    fn announce(&self, channel: Channel) {
        if self.store.backend() != Backend::Postgres {
            return;
        }
        if self.wakeups.announcing[channel.index()].swap(true, Ordering::AcqRel) {
            return; // one is on its way and will cover this write too
        }
        let (store, wakeups) = (self.store.clone(), self.wakeups.clone());
        tokio::spawn(async move {
            tokio::time::sleep(ANNOUNCE_COALESCE).await;
            wakeups.announcing[channel.index()].store(false, Ordering::Release);
            if let Err(error) = store.announce(channel).await {
                tracing::warn!(?channel, %error, "announcing queued work failed");
            }
        });
    }

    /// The engine that serves this account now (its settings may change at any time).
    pub async fn engine_for(&self, account_id: &str) -> anyhow::Result<Arc<dyn Engine>> {
        let settings = self.store.settings(account_id).await?;
        let key = self.store.llm_api_key(account_id).await?;
        Ok(self.engines.for_settings(account_id, &settings, key))
    }

    /// The state of a server over `store`; in-memory parts (rate-limit windows, wake-ups of
    /// background workers) start empty.
    pub fn new(store: Store, clock: SharedClock, config: ServerConfig) -> AppState {
        let config_model_defaults = config.model_defaults.clone();
        let config_tune_model = config.tune_model;
        let allow_private_network = config.allow_private_network;
        let bad_keys = crate::limits::bad_keys::BadKeyGuard::new(config.bad_keys_per_minute);
        AppState {
            store,
            clock,
            config: Arc::new(config),
            limiter: Arc::new(crate::limits::rate::RateLimiter::new()),
            bad_keys: Arc::new(bad_keys),
            wakeups: Arc::default(),
            engines: Arc::new(EngineRegistry::new(
                config_model_defaults,
                allow_private_network,
                config_tune_model,
            )),
            metrics: Arc::default(),
        }
    }
}

/// Settings of a running server that come from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The dashboard's built files (`dist/`), served at `/` when set.
    pub dist: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long an API request may take before it is abandoned with 503 `REQUEST_TIMEOUT`.
    pub request_timeout: std::time::Duration,
    /// Requests with a missing or bad key one client address may make a minute before the
    /// rest answer 429 instead of 401.
    pub bad_keys_per_minute: u32,
    /// Lets webhooks and accounts' model endpoints (`llm.baseUrl`) reach private, loopback
    /// or link-local addresses, and webhooks use plain http: for local development and
    /// tests only, since it lets callers reach the server's network.
    pub allow_private_network: bool,
    /// The first retry delay of a failed webhook delivery; each retry doubles it.
    pub webhook_retry_base_ms: u64,
    /// The first retry delay of failed insights; each retry doubles it.
    pub insights_retry_base_ms: u64,
    /// How long an idle job worker sleeps before looking for due work it was not woken for
    /// (retries whose time came, announcements missed while disconnected).
    pub job_poll: std::time::Duration,
    /// Origins besides this one the dashboard may call (its CSP `connect-src`): an API
    /// served elsewhere than the dashboard.
    pub dashboard_connect_src: Vec<String>,
    /// The model the server's flags name, for accounts whose settings name none.
    pub model_defaults: ModelDefaults,
    /// Adjusts every model client's configuration (tests shorten timeouts with it).
    pub tune_model: fn(&mut ModelConfig),
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            dist: None,
            body_limit: 1024 * 1024,
            request_timeout: std::time::Duration::from_secs(30),
            bad_keys_per_minute: crate::limits::bad_keys::BAD_KEYS_PER_MINUTE,
            allow_private_network: false,
            webhook_retry_base_ms: 10_000,
            insights_retry_base_ms: 30_000,
            job_poll: std::time::Duration::from_millis(500),
            dashboard_connect_src: Vec::new(),
            model_defaults: ModelDefaults::default(),
            tune_model: |_| {},
        }
    }
}
