//! The agents pages' pure parts: the list's and the diff's URL state, the agent form's
//! rules (the server's, said first by the browser) and the numbers the table shows.
#![cfg(target_arch = "wasm32")]

use converra_api::agents::{Agent, AgentFilter, AgentStatus, UpdateAgent};
use converra_api::{ErrorCode, FieldError};
use converra_dashboard::api::agents::agents_query;
use converra_dashboard::api::ClientError;
use converra_dashboard::components::agent_form::{server_field_error, AgentForm};
use converra_dashboard::format::quality_text;
use converra_dashboard::pages::agent::DiffQuery;
use converra_dashboard::pages::agents::AgentListQuery;
use converra_dashboard::query::QueryState;
use leptos_router::params::ParamsMap;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn list_query_round_trips_through_the_url() {
    let query = AgentListQuery {
        q: "refund & returns ünicode".to_owned(),
        status: Some(AgentStatus::Deprecated),
    };
    let url = query.to_url_query();
    assert_eq!(
        url,
        "?q=refund%20%26%20returns%20%C3%BCnicode&status=deprecated"
    );
    assert_eq!(AgentListQuery::from_search(&url), query);
    // A form-encoded space and an unknown status are read the forgiving way.
    assert_eq!(
        AgentListQuery::from_search("?q=+acme++&status=sleeping"),
        AgentListQuery {
            q: "acme".to_owned(),
            status: None
        }
    );
    assert_eq!(AgentListQuery::default().to_url_query(), "");
    assert!(!AgentListQuery::default().is_filtered());
}

#[wasm_bindgen_test]
fn list_query_reads_the_routers_map_and_asks_the_api_for_the_same() {
    let params: ParamsMap = [("q", "support"), ("status", "active")]
        .into_iter()
        .collect();
    let query = AgentListQuery::from_params(&params);
    assert_eq!(
        query.filter(),
        AgentFilter {
            status: Some(AgentStatus::Active),
            tag: None,
            search: Some("support".to_owned())
        }
    );
    assert_eq!(
        agents_query(&query.filter(), 100, Some("c/1")),
        "?status=active&search=support&limit=100&cursor=c%2F1"
    );
    assert_eq!(
        agents_query(&AgentFilter::default(), 100, None),
        "?limit=100"
    );
}

#[wasm_bindgen_test]
fn diff_query_round_trips_and_falls_back_to_the_latest_change() {
    let params: ParamsMap = [("diffBase", "2"), ("diffTarget", "4"), ("diffOnly", "1")]
        .into_iter()
        .collect();
    let query = DiffQuery::from_params(&params);
    assert_eq!(
        query,
        DiffQuery {
            base: Some(2),
            target: Some(4),
            differences_only: true
        }
    );
    assert_eq!(query.to_url_query(), "?diffBase=2&diffTarget=4&diffOnly=1");
    let versions = [4, 3, 2, 1];
    assert_eq!(query.resolve(&versions), Some((2, 4)));
    // Nothing asked: the newest against the one before it.
    assert_eq!(DiffQuery::default().resolve(&versions), Some((3, 4)));
    // Versions that do not exist fall back; a target alone gets its predecessor.
    let odd = DiffQuery {
        base: Some(9),
        target: Some(2),
        differences_only: false,
    };
    assert_eq!(odd.resolve(&versions), Some((1, 2)));
    let oldest = DiffQuery {
        target: Some(1),
        ..DiffQuery::default()
    };
    assert_eq!(oldest.resolve(&versions), Some((2, 1)));
    assert_eq!(DiffQuery::default().resolve(&[1]), None);
}

fn agent() -> Agent {
    Agent {
        id: "agt_1".to_owned(),
        name: "Acme Support".to_owned(),
        content: "Be helpful.".to_owned(),
        llm_model: "gpt-4o-mini".to_owned(),
        description: None,
        tags: vec![],
        status: AgentStatus::Active,
        is_active: true,
        conversation_count: 12,
        last_optimized_at: None,
        last_activity_at: None,
        objective: None,
        constraints: None,
        temperature: None,
        top_p: None,
        max_tokens: None,
        reasoning_effort: None,
        version: 3,
        content_hash: "ab".repeat(32),
        avg_quality_score: Some(72.449),
        created_at: "2026-01-01T00:00:00.000Z".to_owned(),
        updated_at: "2026-02-01T00:00:00.000Z".to_owned(),
    }
}

#[wasm_bindgen_test]
fn the_form_says_what_the_server_would_refuse() {
    let editing = agent();
    let fields = |form: &AgentForm, editing: Option<&Agent>| -> Vec<String> {
        form.validate(editing)
            .into_iter()
            .map(|e| e.field)
            .collect()
    };
    let blank = AgentForm {
        name: "   ".to_owned(),
        content: "\n".to_owned(),
        ..AgentForm::default()
    };
    assert_eq!(fields(&blank, None), ["name", "content"]);
    assert_eq!(
        fields(&blank, Some(&editing)),
        ["name", "content", "llmModel"]
    );
    let too_long = AgentForm {
        name: "n".repeat(201),
        content: "p".repeat(100_001),
        llm_model: "m".repeat(101),
        description: "d".repeat(2_001),
        tags: "t".repeat(51),
        objective: "o".repeat(2_001),
        temperature: "2.5".to_owned(),
        max_tokens: "0".to_owned(),
        ..AgentForm::default()
    };
    assert_eq!(
        fields(&too_long, None),
        [
            "name",
            "content",
            "llmModel",
            "description",
            "tags",
            "objective",
            "temperature",
            "maxTokens"
        ]
    );
    let many_tags = AgentForm {
        name: "ok".to_owned(),
        content: "ok".to_owned(),
        tags: (0..21)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(","),
        temperature: "warm".to_owned(),
        max_tokens: "1.5".to_owned(),
        ..AgentForm::default()
    };
    assert_eq!(
        fields(&many_tags, None),
        ["tags", "temperature", "maxTokens"]
    );
    // The limits count characters, not bytes, as the server does.
    let wide = AgentForm {
        name: "é".repeat(200),
        content: "ok".to_owned(),
        temperature: " 0.7 ".to_owned(),
        max_tokens: "1024".to_owned(),
        tags: " support , , billing ".to_owned(),
        ..AgentForm::default()
    };
    assert!(wide.validate(None).is_empty());
    assert_eq!(wide.tag_list(), ["support", "billing"]);
    // A set number cannot be emptied: the API keeps what it is not sent.
    let tuned = Agent {
        temperature: Some(0.3),
        max_tokens: Some(500),
        ..agent()
    };
    let emptied = AgentForm {
        temperature: String::new(),
        max_tokens: " ".to_owned(),
        ..AgentForm::of(&tuned)
    };
    assert_eq!(fields(&emptied, Some(&tuned)), ["temperature", "maxTokens"]);
    assert!(AgentForm::of(&tuned).validate(Some(&tuned)).is_empty());
}

#[wasm_bindgen_test]
fn the_form_sends_only_what_changed() {
    let agent = agent();
    let form = AgentForm::of(&agent);
    assert_eq!(form.to_update(&agent), None);
    let edited = AgentForm {
        content: "  Be helpful and brief.  ".to_owned(),
        status: AgentStatus::Draft,
        ..form.clone()
    };
    assert_eq!(
        edited.to_update(&agent),
        Some(UpdateAgent {
            content: Some("Be helpful and brief.".to_owned()),
            status: Some(AgentStatus::Draft),
            ..UpdateAgent::default()
        })
    );
    let tuned = AgentForm {
        tags: "billing, support".to_owned(),
        temperature: "0.4".to_owned(),
        max_tokens: "800".to_owned(),
        objective: " Resolve refunds on the first contact. ".to_owned(),
        ..form.clone()
    };
    assert_eq!(
        tuned.to_update(&agent),
        Some(UpdateAgent {
            tags: Some(vec!["billing".to_owned(), "support".to_owned()]),
            temperature: Some(0.4),
            max_tokens: Some(800),
            objective: Some("Resolve refunds on the first contact.".to_owned()),
            ..UpdateAgent::default()
        })
    );
    let created = AgentForm {
        name: " New ".to_owned(),
        content: "Prompt".to_owned(),
        ..AgentForm::default()
    }
    .to_create();
    assert_eq!(created.name, "New");
    assert_eq!(created.llm_model, None);
    assert_eq!(created.status, Some(AgentStatus::Active));
    assert_eq!(
        (created.tags, created.temperature, created.max_tokens),
        (None, None, None)
    );
    let full = AgentForm {
        name: "New".to_owned(),
        content: "Prompt".to_owned(),
        tags: "a, b".to_owned(),
        temperature: "1".to_owned(),
        max_tokens: "256".to_owned(),
        ..AgentForm::default()
    }
    .to_create();
    assert_eq!(full.tags, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!((full.temperature, full.max_tokens), (Some(1.0), Some(256)));
}

#[wasm_bindgen_test]
fn a_single_field_validation_error_lands_on_its_field() {
    let error = ClientError {
        status: 400,
        code: ErrorCode::ValidationError,
        message: "name: must be at most 200 characters".to_owned(),
        retry_after: None,
        fields: Vec::new(),
    };
    let field = server_field_error(&error).unwrap();
    assert_eq!(field.field, "name");
    assert_eq!(
        field.message,
        "The server says: Must be at most 200 characters."
    );
    let many = ClientError {
        message: "2 fields are invalid".to_owned(),
        ..error.clone()
    };
    assert_eq!(server_field_error(&many), None);
    // With the body's field list, the form's own field is found among the others.
    let listed = ClientError {
        fields: vec![
            FieldError {
                field: "tags[0]".to_owned(),
                message: "must not be empty".to_owned(),
            },
            FieldError {
                field: "llmModel".to_owned(),
                message: "unknown model".to_owned(),
            },
        ],
        ..many
    };
    let field = server_field_error(&listed).unwrap();
    assert_eq!(field.field, "llmModel");
    assert_eq!(field.message, "The server says: Unknown model.");
    let other = ClientError {
        code: ErrorCode::Conflict,
        ..error
    };
    assert_eq!(server_field_error(&other), None);
}

#[wasm_bindgen_test]
fn table_numbers_read_well() {
    assert_eq!(quality_text(Some(72.449)), "72.4");
    assert_eq!(quality_text(Some(80.0)), "80.0");
    assert_eq!(quality_text(None), "—");
}
