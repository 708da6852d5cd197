//! What an operator does from the command line, against a running server process: list the
//! accounts, and lift or lower one account's limits, which hold from its next request.

use std::process::{Command, Output};

use converra_server::store::Database;
use serde_json::{json, Value};

use crate::common::{db_arg, test_database};

use crate::process::{free_port, spawn_server, wait_until_up, BIN};

fn run(db: &Database, args: &[&str]) -> Output {
    let (command, rest) = args.split_first().unwrap();
    let (sub, flags) = rest.split_first().unwrap();
    Command::new(BIN)
        .args([command, sub, "--db"])
        .arg(db_arg(db))
        .args(flags)
        .output()
        .expect("run the server binary")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_limits_lifts_or_lowers_one_account_and_list_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let key = stdout(&run(
        &db,
        &[
            "keys",
            "create",
            "--account",
            "Big Co",
            "--plan",
            "enterprise",
        ],
    ))
    .lines()
    .last()
    .unwrap()
    .to_owned();
    run(&db, &["keys", "create", "--account", "Small Co"]);

    // Refusals: an unknown account, nothing to set, a limit of zero.
    let unknown = run(
        &db,
        &[
            "accounts",
            "set-limits",
            "--account",
            "Nobody",
            "--agents",
            "5",
        ],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account is called 'Nobody'"));
    let nothing = run(&db, &["accounts", "set-limits", "--account", "Big Co"]);
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("at least one limit"));
    let zero = run(
        &db,
        &[
            "accounts",
            "set-limits",
            "--account",
            "Big Co",
            "--agents",
            "0",
        ],
    );
    assert!(!zero.status.success());

    let set = stdout(&run(
        &db,
        &[
            "accounts",
            "set-limits",
            "--account",
            "Big Co",
            "--requests-per-minute",
            "3",
            "--tokens-per-month",
            "100",
        ],
    ));
    assert!(set.contains("limits set for this account"), "{set}");
    assert!(set.contains("requests/minute      3"), "{set}");
    let listed = stdout(&run(&db, &["accounts", "list"]));
    assert!(listed.contains("Big Co"), "{listed}");
    assert!(
        listed.contains("Small Co") && listed.contains("plan free, the plan's limits"),
        "{listed}"
    );
    assert!(listed.contains("tokens/month         0 of 100"), "{listed}");

    let port = free_port();
    let mut server = spawn_server(&db, port);
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await;

    // The account's own limits: on the wire, in the rate limit and in the token quota.
    let account = http
        .get(format!("{base}/account"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(account.headers()["x-ratelimit-limit"], "3");
    let account: Value = account.json().await.unwrap();
    assert_eq!(account["data"]["plan"]["limits"]["requestsPerMinute"], 3);
    assert_eq!(account["data"]["plan"]["limits"]["tokensPerMonth"], 100);
    let log = |tokens: u64| {
        http.post(format!("{base}/conversations"))
            .bearer_auth(&key)
            .json(&json!({"agentName": "Bot", "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello", "usage": {"promptTokens": tokens, "completionTokens": 0}}
            ]}))
            .send()
    };
    assert_eq!(log(150).await.unwrap().status(), 200);
    let refused = log(1).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "LIMIT_EXCEEDED");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("This account's limits allow 100 tokens a month"),
        "{message}"
    );
    // The fourth request this minute: past the account's own 3.
    let limited = http
        .get(format!("{base}/usage"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);

    // Back to the plan's limits, from the next request on, with the server still running.
    let reset = stdout(&run(
        &db,
        &["accounts", "set-limits", "--account", "Big Co", "--reset"],
    ));
    assert!(
        reset.contains("plan enterprise, the plan's limits"),
        "{reset}"
    );
    let usage = http
        .get(format!("{base}/usage"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_ne!(usage.headers()["x-ratelimit-limit"], "3");
    let usage: Value = usage.json().await.unwrap();
    assert_eq!(usage["data"]["tokens"]["limit"], Value::Null);

    server.kill().unwrap();
    server.wait().unwrap();
}
