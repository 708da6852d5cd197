//! `GET /settings` and `PATCH /settings` over real HTTP: the defaults, the deep merge, the
//! field paths of each refusal, and the write-only model API key.

use crate::common::{send, TestServer};
use converra_api::PlanId;
use reqwest::Method;
use serde_json::{json, Value};

fn fields(body: &Value) -> Vec<String> {
    body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors in {body}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn account_id(server: &TestServer, key: &str) -> String {
    let (_, body) = server.get("/account", key).await;
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_account_that_saved_nothing_reads_the_defaults() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let (status, body) = server.get("/settings", &key).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": {
            "general": {"name": null, "industry": null, "preferredLLM": "gpt-4o-mini",
                "objectives": null, "kpis": null, "insightRequirements": null,
                "excludedDataAndTopics": null},
            "optimization": {"optimizationStrategy": null, "variantsPerGeneration": 3,
                "deploymentMode": "manual", "maxIterations": 10,
                "simulation": {"personaCount": 5, "scenariosPerSimulation": 3, "maxTurns": 10,
                    "confidenceMode": "moderate", "userTemperature": 0.7}},
            "llm": {"baseUrl": null, "model": null, "hasApiKey": false, "judgeModel": null,
                "structuredOutputs": "auto"},
            "insights": {"autoGenerate": true},
            "businessImpact": {"valuePerConversation": null, "currency": "USD"}
        }})
    );
    let id = account_id(&server, &key).await;
    let settings = server.store.settings(&id).await.unwrap();
    assert_eq!(settings, converra_api::settings::Settings::default());
    assert_eq!(server.store.llm_api_key(&id).await.unwrap(), None);
}

#[tokio::test]
async fn patch_merges_deeply_and_answers_with_data_success_and_settings() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"optimization": {"simulation": {"maxTurns": 20}}, "general": {"name": " Acme "}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"], body["settings"]);
    let settings = &body["data"];
    assert_eq!(settings["optimization"]["simulation"]["maxTurns"], 20);
    assert_eq!(settings["optimization"]["simulation"]["personaCount"], 5);
    assert_eq!(settings["optimization"]["variantsPerGeneration"], 3);
    assert_eq!(settings["general"]["name"], "Acme");

    // A second patch keeps what the first set.
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"optimization": {"simulation": {"confidenceMode": "strict"},
                   "deploymentMode": "semi-automatic"},
                   "insights": {"autoGenerate": false},
                   "businessImpact": {"valuePerConversation": 12.5, "currency": "eur"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, read) = server.get("/settings", &key).await;
    assert_eq!(read["data"], body["data"]);
    let settings = &read["data"];
    assert_eq!(settings["optimization"]["simulation"]["maxTurns"], 20);
    assert_eq!(
        settings["optimization"]["simulation"]["confidenceMode"],
        "strict"
    );
    assert_eq!(settings["optimization"]["deploymentMode"], "semi-automatic");
    assert_eq!(settings["general"]["name"], "Acme");
    assert_eq!(settings["insights"]["autoGenerate"], false);
    assert_eq!(
        settings["businessImpact"],
        json!({"valuePerConversation": 12.5, "currency": "EUR"})
    );

    // What other modules read is what the API shows.
    let id = account_id(&server, &key).await;
    let stored = server.store.settings(&id).await.unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), read["data"]);

    // null restores a default; an empty text clears.
    let (_, body) = server
        .patch(
            "/settings",
            &key,
            json!({"optimization": {"simulation": {"maxTurns": null}}, "general": {"name": ""}}),
        )
        .await;
    assert_eq!(body["data"]["optimization"]["simulation"]["maxTurns"], 10);
    assert_eq!(
        body["data"]["optimization"]["simulation"]["confidenceMode"],
        "strict"
    );
    assert_eq!(body["data"]["general"]["name"], Value::Null);

    // An empty patch changes nothing.
    let (status, body) = server.patch("/settings", &key, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["insights"]["autoGenerate"], false);
}

#[tokio::test]
async fn settings_belong_to_one_account() {
    let server = TestServer::start().await;
    let acme = server.key("Acme", PlanId::Free).await;
    let globex = server.key("Globex", PlanId::Free).await;
    let (status, _) = server
        .patch(
            "/settings",
            &acme,
            json!({"general": {"preferredLLM": "claude-sonnet-4"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, mine) = server.get("/settings", &acme).await;
    let (_, theirs) = server.get("/settings", &globex).await;
    assert_eq!(mine["data"]["general"]["preferredLLM"], "claude-sonnet-4");
    assert_eq!(theirs["data"]["general"]["preferredLLM"], "gpt-4o-mini");
}

#[tokio::test]
async fn unknown_keys_are_refused_with_their_path() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    for (patch, field) in [
        (json!({"colour": "blue"}), "colour"),
        (json!({"general": {"nickname": "A"}}), "general.nickname"),
        (
            json!({"optimization": {"simulation": {"personas": 3}}}),
            "optimization.simulation.personas",
        ),
        (json!({"llm": {"hasApiKey": true}}), "llm.hasApiKey"),
    ] {
        let (status, body) = server.patch("/settings", &key, patch.clone()).await;
        assert_eq!(status, 400, "{patch}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(fields(&body), vec![field.to_owned()], "{patch}: {body}");
    }
    // Nothing was saved by the refused patches.
    let (_, body) = server.get("/settings", &key).await;
    assert_eq!(body["data"]["general"]["name"], Value::Null);
}

#[tokio::test]
async fn values_out_of_range_are_refused_with_every_path() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"optimization": {"variantsPerGeneration": 6, "maxIterations": 0,
                   "simulation": {"personaCount": 0, "scenariosPerSimulation": 11, "maxTurns": 31,
                       "userTemperature": 2.5}},
                   "businessImpact": {"valuePerConversation": -1, "currency": "dollars"},
                   "llm": {"baseUrl": "ftp://models.test"},
                   "general": {"preferredLLM": "  "}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let mut got = fields(&body);
    got.sort();
    assert_eq!(
        got,
        vec![
            "businessImpact.currency",
            "businessImpact.valuePerConversation",
            "general.preferredLLM",
            "llm.baseUrl",
            "optimization.maxIterations",
            "optimization.simulation.maxTurns",
            "optimization.simulation.personaCount",
            "optimization.simulation.scenariosPerSimulation",
            "optimization.simulation.userTemperature",
            "optimization.variantsPerGeneration",
        ]
    );

    // The edges of each range are accepted.
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"optimization": {"variantsPerGeneration": 5,
                   "simulation": {"personaCount": 20, "scenariosPerSimulation": 1, "maxTurns": 2,
                       "userTemperature": 0}},
                   "llm": {"judgeModel": " gpt-4o ", "structuredOutputs": "json_object"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["llm"]["judgeModel"], "gpt-4o");
    assert_eq!(body["data"]["llm"]["structuredOutputs"], "json_object");
    assert_eq!(
        body["data"]["optimization"]["simulation"]["userTemperature"],
        0.0
    );

    for (patch, field) in [
        (
            json!({"optimization": {"simulation": {"confidenceMode": "loose"}}}),
            "optimization.simulation.confidenceMode",
        ),
        (
            json!({"optimization": {"deploymentMode": "automatic"}}),
            "optimization.deploymentMode",
        ),
        (
            json!({"llm": {"structuredOutputs": "xml"}}),
            "llm.structuredOutputs",
        ),
        (
            json!({"optimization": {"simulation": {"userTemperature": -0.5}}}),
            "optimization.simulation.userTemperature",
        ),
        (
            json!({"optimization": {"variantsPerGeneration": "three"}}),
            "optimization.variantsPerGeneration",
        ),
        (
            json!({"optimization": {"maxIterations": -2}}),
            "optimization.maxIterations",
        ),
        (
            json!({"insights": {"autoGenerate": "yes"}}),
            "insights.autoGenerate",
        ),
        (json!({"insights": 1}), "insights"),
    ] {
        let (status, body) = server.patch("/settings", &key, patch.clone()).await;
        assert_eq!(status, 400, "{patch}: {body}");
        assert_eq!(fields(&body), vec![field.to_owned()], "{patch}: {body}");
    }
}

#[tokio::test]
async fn the_model_api_key_is_stored_but_never_returned() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let secret = "sk-proj-supersecret-123";
    let response = server
        .request(Method::PATCH, "/settings", Some(&key))
        .json(&json!({"llm": {"baseUrl": "https://llm.example.com/v1", "model": "gpt-4o", "apiKey": secret}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(secret), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["data"]["llm"],
        json!({"baseUrl": "https://llm.example.com/v1", "model": "gpt-4o", "hasApiKey": true,
            "judgeModel": null, "structuredOutputs": "auto"})
    );
    let response = server
        .request(Method::GET, "/settings", Some(&key))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(secret) && text.contains("\"hasApiKey\":true"),
        "{text}"
    );

    let id = account_id(&server, &key).await;
    assert_eq!(
        server.store.llm_api_key(&id).await.unwrap().as_deref(),
        Some(secret)
    );
    assert!(server.store.settings(&id).await.unwrap().llm.has_api_key);

    // Other patches keep the key; null removes it.
    let (_, body) = server
        .patch("/settings", &key, json!({"llm": {"model": "gpt-4.1"}}))
        .await;
    assert_eq!(body["data"]["llm"]["hasApiKey"], true);
    assert_eq!(
        server.store.llm_api_key(&id).await.unwrap().as_deref(),
        Some(secret)
    );
    let (_, body) = server
        .patch("/settings", &key, json!({"llm": {"apiKey": null}}))
        .await;
    assert_eq!(body["data"]["llm"]["hasApiKey"], false);
    assert_eq!(server.store.llm_api_key(&id).await.unwrap(), None);
    assert_eq!(body["data"]["llm"]["model"], "gpt-4.1");

    let (status, body) = server
        .patch("/settings", &key, json!({"llm": {"apiKey": 42}}))
        .await;
    assert_eq!(
        (status, fields(&body)),
        (400, vec!["llm.apiKey".to_owned()])
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let (status, body) = server.patch("/settings", &key, json!([1, 2])).await;
    assert_eq!((status, fields(&body)), (400, vec!["body".to_owned()]));
    // Nor is a section: serde would read it by position, and the merge would replace the
    // whole section with it.
    for (patch, field) in [
        (json!({"llm": [null, null]}), "llm"),
        (
            json!({"optimization": {"simulation": [5, 3]}}),
            "optimization.simulation",
        ),
    ] {
        let (status, body) = server.patch("/settings", &key, patch).await;
        assert_eq!((status, fields(&body)), (400, vec![field.to_owned()]));
    }

    let raw = |content_type: &'static str, body: &'static str| {
        server
            .request(Method::PATCH, "/settings", Some(&key))
            .header("content-type", content_type)
            .body(body)
    };
    let (status, body) = send(raw("application/json", "{\"general\": ")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_JSON"))
    );
    let (status, body) = send(raw("text/plain", "{}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );

    let (status, body) = send(server.request(Method::GET, "/settings", None)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
}

#[tokio::test]
async fn changing_only_the_base_url_drops_the_saved_key() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let id = account_id(&server, &key).await;
    server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": "https://llm.example.com/v1", "apiKey": "sk-old"}}),
        )
        .await;

    // Same URL again (after trimming): the key stays.
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": " https://llm.example.com/v1 "}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["llm"]["hasApiKey"], true);

    // Another host: the key given for the old one is not sent there.
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": "https://attacker.example.net/v1"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["llm"]["hasApiKey"], false);
    let (_, body) = server.get("/settings", &key).await;
    assert_eq!(body["data"]["llm"]["hasApiKey"], false, "{body}");
    assert_eq!(server.store.llm_api_key(&id).await.unwrap(), None);

    // A new URL with a new key in the same patch keeps that key.
    let (_, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": "https://other.example.org/v1", "apiKey": "sk-new"}}),
        )
        .await;
    assert_eq!(body["data"]["llm"]["hasApiKey"], true);
    assert_eq!(
        server.store.llm_api_key(&id).await.unwrap().as_deref(),
        Some("sk-new")
    );

    // Back to the server's own endpoint (baseUrl removed): the key goes too.
    let (_, body) = server
        .patch("/settings", &key, json!({"llm": {"baseUrl": null}}))
        .await;
    assert_eq!(body["data"]["llm"]["hasApiKey"], false);
}

#[tokio::test]
async fn a_base_url_with_a_query_fragment_or_internal_address_is_refused() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    for url in [
        "https://llm.example.com/v1?x=",
        "https://llm.example.com/v1#",
        "https://llm.example.com/v1?",
        "http://127.0.0.1:8080/v1",
        "http://169.254.169.254/latest",
        "http://[::1]/v1",
        "http://[2001::1]/v1",
    ] {
        let (status, body) = server
            .patch("/settings", &key, json!({"llm": {"baseUrl": url}}))
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{url}: {body}");
        assert_eq!(fields(&body), vec!["llm.baseUrl".to_owned()], "{url}");
    }

    // With private networks allowed, loopback is accepted but a query still is not.
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Free).await;
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": "http://127.0.0.1:8080/v1"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": "http://127.0.0.1:8080/v1?a=b"}}),
        )
        .await;
    assert_eq!(
        (status, fields(&body)),
        (400, vec!["llm.baseUrl".to_owned()])
    );
}
