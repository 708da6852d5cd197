//! The server as a process: durability across `kill -9`, and a graceful stop on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use converra_server::store::Database;
use serde_json::json;

use crate::common::{db_arg, test_database};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_converra-server");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn spawn_server(db: &Database, port: u16) -> Child {
    Command::new(BIN)
        .args(["serve", "--db"])
        .arg(db_arg(db))
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server")
}

pub(crate) async fn wait_until_up(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_create_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let out = Command::new(BIN)
        .args(["keys", "create", "--db"])
        .arg(db_arg(&db))
        .args(["--account", "Crash Test", "--plan", "enterprise"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let mut server = spawn_server(&db, port);
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await;

    // Eight clients create conversations until the server dies under them.
    let mut clients = Vec::new();
    for client in 0..8 {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let body = json!({"agentName": "Crash Bot", "content": format!("User: client {client} message {n}\nAssistant: ok")});
                let sent = http.post(format!("{base}/conversations")).bearer_auth(&key).json(&body).send().await;
                let Ok(response) = sent else { break };
                if response.status() != 200 {
                    continue;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else { break };
                acknowledged.push(body["data"]["id"].as_str().unwrap().to_owned());
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    assert!(
        acknowledged.len() > 20,
        "too few creates before the kill: {}",
        acknowledged.len()
    );

    let mut server = spawn_server(&db, port);
    wait_until_up(&http, &base).await;
    let mut missing = Vec::new();
    for id in &acknowledged {
        let response = http
            .get(format!("{base}/conversations/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            missing.push(id.clone());
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged creates lost: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    use std::io::{Read, Write};

    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let out = Command::new(BIN)
        .args(["keys", "create", "--db"])
        .arg(db_arg(&db))
        .args(["--account", "Stop Test"])
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let port = free_port();
    let mut server = spawn_server(&db, port);
    wait_until_up(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{port}/api/v1"),
    )
    .await;

    // Half a request: the headers and the first part of the body.
    let body = r#"{"agentName": "Stopper", "content": "User: are you still there?"}"#;
    let (head, tail) = body.split_at(20);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/v1/conversations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );

    // The rest of the body: the request completes, then the server exits by itself.
    stream.write_all(tail.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
