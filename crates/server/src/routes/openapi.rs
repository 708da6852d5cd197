//! `GET /openapi.json`: OpenAPI 3.1 generated from the wire types and the route annotations.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Converra API", description = "Agents, conversations, insights and optimizations. \
        No text the API takes may hold the character U+0000 (NUL): a body, a path or a query \
        with one is refused with 400 VALIDATION_ERROR."),
    servers((url = "/api/v1")),
    paths(super::account::get_account, super::usage::get_usage,
        super::settings::get_settings, super::settings::update_settings,
        super::webhooks::list_webhooks, super::webhooks::create_webhook,
        super::webhooks::delete_webhook, super::webhooks::list_deliveries,
        super::webhooks::redeliver, super::webhooks::send_test_event,
        super::agents::list_agents, super::agents::create_agent, super::agents::get_agent,
        super::agents::update_agent, super::agents::list_versions,
        super::conversations::list_conversations, super::conversations::create_conversation,
        super::conversations::get_conversation, super::conversations::append_messages,
        super::otel::export_traces, super::otel::export_logs,
        super::sdk::sdk_config, super::sdk::match_agent, super::sdk::active_variant,
        super::insights::conversation_insights, super::insights::regenerate_conversation_insights,
        super::insights::agent_insights, super::insights::regenerate_agent_insights,
        super::insights::step_failures, super::insights::deployments_impact,
        super::optimizations::list_optimizations, super::optimizations::create_optimization,
        super::optimizations::get_optimization, super::optimizations::list_variants,
        super::optimizations::apply_variant, super::optimizations::stop_optimization,
        super::optimizations::get_simulation,
        super::benchmarks::list_benchmarks, super::benchmarks::create_benchmark,
        super::benchmarks::get_benchmark, super::benchmarks::bulk_benchmarks),
    components(schemas(converra_api::conversations::ConversationSort)),
    modifiers(&BearerAuth, &SharedResponses, &ProtobufBodies),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The answers any operation may give besides its own, declared once under
/// `components.responses` and referenced from every operation that can give them, so the
/// document names every status the server returns: a bad parameter or body (400), a
/// missing or bad key (401), a rate limit (429), a request that ran out of time (503),
/// an unknown id in the path (404), and for a body a size (413) or a media type (415) the
/// server does not take.
struct SharedResponses;

/// Each shared response: the status, its name under `components.responses`, what it means.
const SHARED_RESPONSES: [(&str, &str, &str); 7] = [
    (
        "400",
        "BadRequest",
        "A parameter or the body is invalid (VALIDATION_ERROR names the fields)",
    ),
    (
        "401",
        "Unauthorized",
        "The API key is missing, unknown, revoked or expired",
    ),
    ("404", "NotFound", "No such resource in this account"),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than the server takes",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not JSON (Content-Type: application/json)",
    ),
    (
        "429",
        "RateLimited",
        "Too many requests; Retry-After says when to try again",
    ),
    (
        "503",
        "Unavailable",
        "The request ran out of time; Retry-After says when to try again",
    ),
];

impl SharedResponses {
    /// The shared responses `operation` can give.
    fn statuses_of(operation: &Operation) -> impl Iterator<Item = (&'static str, &'static str)> {
        let has_body = operation.request_body.is_some();
        let has_path_id = operation.parameters.iter().flatten().any(|parameter| {
            matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Path)
        });
        SHARED_RESPONSES
            .into_iter()
            .filter(move |(status, _, _)| match *status {
                "404" => has_path_id,
                "413" | "415" => has_body,
                _ => true,
            })
            .map(|(status, name, _)| (status, name))
    }

    fn error_response(description: &str) -> Response {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    }
}

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in SHARED_RESPONSES {
            components
                .responses
                .insert(name.to_owned(), RefOr::T(Self::error_response(description)));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let shared: Vec<_> = Self::statuses_of(operation).collect();
                for (status, name) in shared {
                    // An operation's own description of a status stays.
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

/// OTLP's protobuf bodies as what they are, bytes (`type: string, format: binary`), where
/// the derive would describe `[u8]` as an array of integers.
struct ProtobufBodies;

impl Modify for ProtobufBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let Some(RefOr::T(body)) = item.post.as_mut().and_then(|op| op.request_body.as_mut())
            else {
                continue;
            };
            if let Some(RefOr::T(content)) = body.content.get_mut("application/x-protobuf") {
                content.schema = Some(RefOr::T(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                        .into(),
                ));
            }
        }
    }
}

/// The document as served, generated and serialized on first use: it depends only on the
/// code, and generating it walks every schema, too much work to repeat per request.
static OPENAPI_JSON: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    serde_json::to_vec(&ApiDoc::openapi())
        .map(Bytes::from)
        .map_err(|err| err.to_string())
});

async fn openapi_json() -> ApiResult<impl IntoResponse> {
    let json = OPENAPI_JSON.as_ref().map_err(|err| {
        ApiError::Internal(anyhow::anyhow!("serializing the OpenAPI document: {err}"))
    })?;
    // Cloning `Bytes` shares the one buffer.
    Ok(([(CONTENT_TYPE, "application/json")], json.clone()))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_document_is_serialized_once_and_served_as_the_same_bytes() {
        let first = axum::body::to_bytes(
            openapi_json().await.unwrap().into_response().into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        let second = axum::body::to_bytes(
            openapi_json().await.unwrap().into_response().into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        assert_eq!(first, second);
        // The same buffer, not an equal copy: the document was not built again.
        let cached = OPENAPI_JSON.as_ref().unwrap();
        assert_eq!(first.as_ptr(), cached.as_ptr());
        let doc: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert!(doc["paths"]["/webhooks"]["post"].is_object());
    }

    /// Every status the server can give is declared: the shared ones on every operation,
    /// 404 wherever a path names a resource, and query parameters are in the query and
    /// optional.
    #[test]
    fn every_operation_declares_the_shared_answers_and_its_query_parameters() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                operations += 1;
                let responses = operation["responses"].as_object().unwrap();
                for status in ["400", "401", "429", "503"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
                if path.contains('{') {
                    assert!(responses.contains_key("404"), "{method} {path}: 404");
                }
                if operation.get("requestBody").is_some() {
                    assert!(responses.contains_key("413"), "{method} {path}: 413");
                    assert!(responses.contains_key("415"), "{method} {path}: 415");
                }
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().unwrap();
                    let placeholder = format!("{{{name}}}");
                    let in_path = path.contains(&placeholder);
                    let expected = if in_path { "path" } else { "query" };
                    assert_eq!(parameter["in"], expected, "{method} {path}: {name}");
                    assert_eq!(parameter["required"], in_path, "{method} {path}: {name}");
                }
            }
        }
        assert!(operations >= 41, "{operations} operations");
        let responses = &doc["components"]["responses"];
        assert_eq!(
            responses["RateLimited"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }
}
