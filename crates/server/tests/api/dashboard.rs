//! Serving the dashboard's build: files as they are or their precompressed copies,
//! index.html (under the Content-Security-Policy) for every other path, and how long a
//! browser may keep each.

use crate::common::TestServer;
use converra_server::state::ServerConfig;

/// A build with one script, its brotli and gzip copies (stand-ins: the server must send the
/// file it finds, not compress anything itself), and index.html.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write(
        "index.html",
        b"<!doctype html><html><body>dashboard</body></html>",
    );
    write("app.js", b"console.log('plain');");
    write("app.js.br", b"brotli bytes");
    write("app.js.gz", b"gzip bytes");
    std::fs::create_dir(dir.path().join("pkg-0123456789abcdef")).unwrap();
    write("pkg-0123456789abcdef/app_bg.wasm", b"\0asm");
    dir
}

async fn start(dist: &tempfile::TempDir) -> (TestServer, String) {
    let server = TestServer::start_with(ServerConfig {
        dist: Some(dist.path().to_owned()),
        ..ServerConfig::default()
    })
    .await;
    let origin = server
        .base
        .trim_end_matches(converra_api::BASE_PATH)
        .to_owned();
    (server, origin)
}

async fn fetch(server: &TestServer, url: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = server.http.get(url);
    if let Some(encodings) = accept_encoding {
        request = request.header("accept-encoding", encodings);
    }
    request.send().await.expect("request")
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_client_gets_the_best_precompressed_copy_it_accepts() {
    let dist = dist();
    let (server, origin) = start(&dist).await;
    let url = format!("{origin}/app.js");

    for (accepts, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "console.log('plain');"),
    ] {
        let response = fetch(&server, &url, accepts).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-encoding"),
            encoding,
            "{accepts:?}"
        );
        assert!(
            header(&response, "content-type").is_some_and(|t| t.contains("javascript")),
            "the type is the file's, not the copy's"
        );
        assert_eq!(response.text().await.unwrap(), body);
    }
    server.stop().await;
}

#[tokio::test]
async fn any_other_path_is_index_html_under_the_policy() {
    let dist = dist();
    let (server, origin) = start(&dist).await;

    let response = fetch(
        &server,
        &format!("{origin}/conversations/conv_1"),
        Some("br"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let policy = header(&response, "content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert!(response.text().await.unwrap().contains("dashboard"));
    server.stop().await;
}

#[tokio::test]
async fn hashed_files_are_kept_a_year_and_everything_else_is_revalidated() {
    let dist = dist();
    let (server, origin) = start(&dist).await;

    for (path, policy) in [
        (
            "/pkg-0123456789abcdef/app_bg.wasm",
            "public, max-age=31536000, immutable",
        ),
        // A missing hashed file is answered with index.html, which must not stick.
        ("/pkg-0123456789abcdef/gone.wasm", "no-cache"),
        ("/app.js", "no-cache"),
        ("/", "no-cache"),
        ("/agents/agent_1", "no-cache"),
    ] {
        let response = fetch(&server, &format!("{origin}{path}"), None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), Some(policy), "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn before_the_first_build_every_page_says_it_is_being_built_until_index_html_appears() {
    let dist = tempfile::tempdir().expect("temp dir");
    let (server, origin) = start(&dist).await;

    let building = fetch(&server, &format!("{origin}/conversations"), None).await;
    assert_eq!(building.status(), 503);
    assert_eq!(header(&building, "retry-after"), Some("5"));
    assert_eq!(header(&building, "cache-control"), Some("no-cache"));
    assert!(header(&building, "content-security-policy").is_some());
    let text = building.text().await.expect("body");
    assert!(text.contains("still being built"), "{text}");
    assert!(text.contains("http-equiv=\"refresh\""), "{text}");

    // The API does not wait for the dashboard.
    let api = fetch(&server, &format!("{}/account", server.base), None).await;
    assert_ne!(api.status(), 503);

    std::fs::write(
        dist.path().join("index.html"),
        b"<!doctype html><html><body>dashboard</body></html>",
    )
    .expect("write index.html");
    let built = fetch(&server, &format!("{origin}/conversations"), None).await;
    assert_eq!(built.status(), 200);
    assert!(built.text().await.expect("body").contains("dashboard"));
}
