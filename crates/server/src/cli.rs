//! The command line: `serve`, `keys create|revoke`, `accounts list|set-limits`, `demo`.
//! Every flag can also come from the environment (`CONVERRA_DB`, `CONVERRA_ADDR`,
//! `CONVERRA_DIST`, …).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use converra_api::PlanId;

mod accounts;

use crate::clock::{Clock, SystemClock};
use crate::engine::registry::ModelDefaults;
use crate::state::{AppState, ServerConfig};
use crate::store::{Database, Durability, Store};

#[derive(Debug, Parser)]
#[command(
    name = "converra-server",
    version,
    about = "The Converra REST API server"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "CONVERRA_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API under /api/v1 (and the dashboard, with --dist).
    Serve(ServeArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Fill a database with demo data and print a demo API key.
    Demo(DbArgs),
    /// See every account's limits and usage, and set one account's limits.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database: a SQLite file (created if missing), or a `postgres://` URL of a
    /// PostgreSQL database that several `serve` processes may share.
    #[arg(long, env = "CONVERRA_DB")]
    pub db: Database,
    /// `full` also survives power loss; `normal` survives a crash of the process.
    #[arg(long, env = "CONVERRA_DURABILITY", value_enum, default_value = "full")]
    pub durability: Durability,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "CONVERRA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Serve Prometheus metrics at `/metrics` on this address (apart from the API, so it
    /// can stay inside the operators' network). Without it, no metrics are served.
    #[arg(long, env = "CONVERRA_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// The dashboard's built files (trunk's dist/), served at /.
    #[arg(long, env = "CONVERRA_DIST")]
    pub dist: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CONVERRA_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Seconds an API request may take before it is abandoned with 503 REQUEST_TIMEOUT.
    #[arg(long, env = "CONVERRA_REQUEST_TIMEOUT", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// Requests with a missing or bad API key one client address may make a minute; past
    /// them it gets 429 RATE_LIMITED with Retry-After instead of 401.
    #[arg(long, env = "CONVERRA_BAD_KEYS_PER_MINUTE",
        default_value_t = crate::limits::bad_keys::BAD_KEYS_PER_MINUTE,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub bad_keys_per_minute: u32,
    /// Let webhooks and accounts' model endpoints reach private, loopback and link-local
    /// addresses, and webhooks use plain http (development only). `--allow-private-webhooks`
    /// and `CONVERRA_ALLOW_PRIVATE_WEBHOOKS` are its older names.
    #[arg(long, alias = "allow-private-webhooks", env = "CONVERRA_ALLOW_PRIVATE_NETWORK",
        value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_private_network: bool,
    /// Origins the dashboard may call besides its own (comma-separated), for an API served
    /// elsewhere: they join the dashboard's Content-Security-Policy `connect-src`.
    #[arg(long, env = "CONVERRA_DASHBOARD_CONNECT_SRC", value_delimiter = ',')]
    pub dashboard_connect_src: Vec<String>,
    /// An OpenAI-compatible API root (https://api.openai.com/v1, http://localhost:11434/v1
    /// for Ollama…) for accounts whose settings name none. Without it, and without
    /// `llm.baseUrl` in an account's settings, the offline engine serves.
    #[arg(long, env = "CONVERRA_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// The model to ask at that endpoint.
    #[arg(long, env = "CONVERRA_LLM_MODEL")]
    pub llm_model: Option<String>,
    /// The key for that endpoint (the environment is safer than the command line for it).
    #[arg(long, env = "CONVERRA_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key (and the account, if it is new); prints the key alone on the last line.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The account's name.
        #[arg(long)]
        account: String,
        /// The plan of a new account.
        #[arg(long, value_parser = parse_plan, default_value = "free")]
        plan: PlanId,
        /// The key stops working after this long: a number and a unit, `90d`, `12h` or `30m`.
        /// Without it the key lives until revoked.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<std::time::Duration>,
    },
    /// Revoke an API key: it then answers 401.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// The key to revoke.
        #[arg(long)]
        key: String,
    },
}

fn parse_plan(text: &str) -> Result<PlanId, String> {
    text.parse()
}

/// `90d`, `12h`, `30m`: a whole, positive number of days, hours or minutes.
fn parse_lifetime(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' has no unit: write 90d, 12h or 30m"))?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' must start with a whole number, like 90d"))?;
    let seconds_per_unit = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(format!("'{unit}' is not a unit: use d, h or m")),
    };
    if number == 0 || number > 3_650 * 86_400 / seconds_per_unit {
        return Err(format!(
            "'{text}' must be more than zero and at most ten years"
        ));
    }
    Ok(std::time::Duration::from_secs(number * seconds_per_unit))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Keys(KeysCommand::Create {
            db,
            account,
            plan,
            expires_in,
        }) => {
            let account = account.trim();
            anyhow::ensure!(!account.is_empty(), "--account must not be empty");
            let store = Store::connect(&db.db, db.durability).await?;
            let now = SystemClock.now_ms();
            let expires_at =
                expires_in.map(|d| now + i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let issued = store
                .issue_key_until(account, plan, now, expires_at)
                .await?;
            println!(
                "account: {} ({}, plan {})",
                issued.account.name,
                issued.account.id,
                issued.account.plan.as_str()
            );
            if let Some(at) = expires_at {
                println!("expires: {}", crate::clock::rfc3339(at));
            }
            println!("{}", issued.key);
            Ok(())
        }
        Command::Keys(KeysCommand::Revoke { db, key }) => {
            let store = Store::connect(&db.db, db.durability).await?;
            anyhow::ensure!(
                store.revoke_key(&key, SystemClock.now_ms()).await?,
                "no active key matches"
            );
            println!("revoked");
            Ok(())
        }
        Command::Accounts(command) => accounts::run(command).await,
        Command::Demo(db) => {
            let store = Store::connect(&db.db, db.durability).await?;
            let key = crate::demo::seed(&store, SystemClock.now_ms()).await?;
            println!("demo account: {}", crate::demo::DEMO_ACCOUNT);
            println!("{key}");
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if let Some(dist) = &args.dist {
        if !dist.join("index.html").is_file() {
            // scripts/up.sh starts the API before the first dashboard build finishes.
            tracing::warn!(
                dist = %dist.display(),
                "--dist has no index.html yet: the dashboard answers with a 'being built' \
                 page until `trunk build --release` writes it"
            );
        }
    }
    let store = Store::connect(&args.db.db, args.db.durability).await?;
    let config = ServerConfig {
        dist: args.dist,
        body_limit: args.body_limit,
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        bad_keys_per_minute: args.bad_keys_per_minute,
        allow_private_network: args.allow_private_network || legacy_allow_private_network(),
        dashboard_connect_src: args.dashboard_connect_src,
        model_defaults: ModelDefaults {
            base_url: args.llm_base_url,
            model: args.llm_model,
            api_key: args.llm_api_key,
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(store, Arc::new(SystemClock), config);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "serving the API under /api/v1");
    let metrics = match args.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for metrics on {addr}"))?;
            tracing::info!(addr = %listener.local_addr()?, "serving Prometheus metrics at /metrics");
            let metrics = crate::app::metrics_router(state.clone());
            Some(tokio::spawn(
                async move { axum::serve(listener, metrics).await },
            ))
        }
        None => None,
    };
    let served = crate::app::serve(listener, state, shutdown_signal()).await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}

/// `CONVERRA_ALLOW_PRIVATE_WEBHOOKS`, the environment's older name for
/// `CONVERRA_ALLOW_PRIVATE_NETWORK` (clap reads one variable per flag), read as clap reads
/// a boolean: `1`, `y`, `yes`, `t`, `true` or `on`.
fn legacy_allow_private_network() -> bool {
    std::env::var("CONVERRA_ALLOW_PRIVATE_WEBHOOKS").is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "y" | "yes" | "t" | "true" | "on"
        )
    })
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONVERRA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.compact().init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows_private_network(args: &[&str]) -> bool {
        let cli = Cli::try_parse_from(
            ["converra-server", "serve", "--db", "converra.db"]
                .iter()
                .chain(args),
        )
        .expect("parses");
        match cli.command {
            Command::Serve(serve) => serve.allow_private_network,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn allow_private_network_keeps_its_webhook_only_name_as_an_alias() {
        assert!(!allows_private_network(&[]));
        assert!(allows_private_network(&["--allow-private-network"]));
        assert!(allows_private_network(&["--allow-private-webhooks"]));
    }

    #[test]
    fn key_lifetimes_are_days_hours_or_minutes_and_bad_ones_are_refused() {
        assert_eq!(
            parse_lifetime("90d"),
            Ok(std::time::Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            parse_lifetime("12h"),
            Ok(std::time::Duration::from_secs(12 * 3_600))
        );
        assert_eq!(
            parse_lifetime("30m"),
            Ok(std::time::Duration::from_secs(1_800))
        );
        for bad in [
            "90",
            "d",
            "0d",
            "-1d",
            "1.5d",
            "90 days",
            "3651d",
            "99999999999999999999d",
        ] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
        let cli = Cli::try_parse_from([
            "converra-server",
            "keys",
            "create",
            "--db",
            "x.db",
            "--account",
            "A",
            "--expires-in",
            "90d",
        ])
        .expect("parses");
        match cli.command {
            Command::Keys(KeysCommand::Create { expires_in, .. }) => {
                assert_eq!(
                    expires_in,
                    Some(std::time::Duration::from_secs(90 * 86_400))
                )
            }
            other => panic!("not keys create: {other:?}"),
        }
    }
}
