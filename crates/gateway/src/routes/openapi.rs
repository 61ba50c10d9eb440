//! `GET /admin/openapi.json`: the admin API as an OpenAPI 3.1 document. The request bodies'
//! schemas are generated from the very types the routes deserialize (schemars), as are the
//! switch progress and the configuration document; the table below lists every admin route
//! once, and a test calls each of them, so the document cannot name a route that is not there.

use axum::{Json, extract::State, http::HeaderMap};
use hearth_core::config::ConfigFile;
use serde_json::{Map, Value, json};

use super::{
    admin_config::{Set, Unset},
    admin_models::Activate,
    admin_services::Install,
};
use crate::{auth::require_admin, error::GatewayError, residency::Progress, state::Gateway};

/// What an operation takes and gives.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<fn() -> Value>,
    response: Response,
}

enum Response {
    Json(Option<fn() -> Value>),
    Ndjson(fn() -> Value),
    EventStream,
    Text(&'static str),
}

fn schema<T: schemars::JsonSchema>() -> Value {
    schemars::schema_for!(T).to_value()
}

/// Every admin route.
const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/admin/status",
        summary: "What the gateway serves, its services and resident models, refused changes",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/services",
        summary: "Every service with its definition and state",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/services",
        summary: "Install a service from a template (written to the configuration file)",
        request: Some(schema::<Install>),
        response: Response::Json(None),
    },
    Operation {
        method: "delete",
        path: "/admin/services/{name}",
        summary: "Stop a service and remove it from the configuration",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/services/{name}/{action}",
        summary: "start, stop or restart a service (start answers once it is healthy)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/services/{name}/logs",
        summary: "The last lines of a service's log (?lines=N, at most 5000)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/services/{name}/plist",
        summary: "The LaunchAgent property list of a service",
        request: None,
        response: Response::Text("application/x-plist"),
    },
    Operation {
        method: "get",
        path: "/admin/models",
        summary: "Every model: resident, active, size, estimated peak; memory; contention; the last switch",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/models/activate",
        summary: "Switch the active model; one progress object per line, the last one done or failed",
        request: Some(schema::<Activate>),
        response: Response::Ndjson(schema::<Progress>),
    },
    Operation {
        method: "post",
        path: "/admin/models/unload",
        summary: "Unload every resident model",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/setup",
        summary: "What discovery finds on this machine (running servers, programs, model files) and the providers, services and primary model it proposes",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/setup/apply",
        summary: "Discover again and add what is proposed, never overwriting the configuration's own entries; a new primary model's service starts",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/providers",
        summary: "Every provider: whether its server answers, the models it lists and the configuration lists, its service",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/memory",
        summary: "Total, available, swap and pressure",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/bench",
        summary: "The history of `hearth bench`",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/events",
        summary: "Server-sent events: service state changes and switch progress",
        request: None,
        response: Response::EventStream,
    },
    Operation {
        method: "get",
        path: "/admin/config",
        summary: "The configuration file as written, and the warnings in force",
        request: None,
        response: Response::Json(Some(schema::<ConfigFile>)),
    },
    Operation {
        method: "post",
        path: "/admin/config/set",
        summary: "Set a value by dotted path; validated first, a 400 lists every problem with its path",
        request: Some(schema::<Set>),
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/config/unset",
        summary: "Remove a value by dotted path; validated first",
        request: Some(schema::<Unset>),
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/route",
        summary: "The route simulator (?client=&channel=&account=&peerKind=&peerId=)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/policy/{agent}",
        summary: "An agent's effective tool policy; ?tool=NAME decides names",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/stats",
        summary: "Requests in flight, the last requests' speed, the last blocked tool calls",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/tokens",
        summary: "The tokens' names and references (never their values)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/tokens/{name}/{action}",
        summary: "reveal or rotate a token (`admin` or a client's name)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "post",
        path: "/admin/login-link",
        summary: "A one-time link that signs a browser in to /ui (two minutes, once)",
        request: None,
        response: Response::Json(None),
    },
    Operation {
        method: "get",
        path: "/admin/openapi.json",
        summary: "This document",
        request: None,
        response: Response::Json(None),
    },
];

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut entry = json!({
            "summary": operation.summary,
            "security": [{ "bearer": [] }, { "session": [] }],
            "responses": {
                "200": { "description": "OK" },
                "400": { "description": "Bad input; the message says what to change" },
                "401": { "description": "A token that matches nothing" },
                "403": { "description": "Not the admin, a foreign Host, or a cross-origin write" },
            },
        });
        let content = match &operation.response {
            Response::Json(schema) => {
                json!({ "application/json": { "schema": schema.map_or_else(|| json!({ "type": "object" }), |make| make()) } })
            }
            Response::Ndjson(make) => json!({ "application/x-ndjson": { "schema": make() } }),
            Response::EventStream => {
                json!({ "text/event-stream": { "schema": { "type": "string" } } })
            }
            Response::Text(kind) => json!({ *kind: { "schema": { "type": "string" } } }),
        };
        entry["responses"]["200"]["content"] = content;
        if let Some(make) = operation.request {
            entry["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": make() } },
            });
        }
        let parameters: Vec<Value> = operation
            .path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if !parameters.is_empty() {
            entry["parameters"] = Value::Array(parameters);
        }
        let item = paths
            .entry(operation.path.to_owned())
            .or_insert_with(|| json!({}));
        item[operation.method] = entry;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Hearth admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Needs the admin token (Authorization: Bearer) or the UI's session (the `x-hearth-session` header, from `POST /ui/session`), and a loopback Host and peer.",
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "header", "name": crate::session::HEADER },
            },
        },
        "paths": paths,
    })
}

/// `GET /admin/openapi.json`.
pub async fn openapi(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    Ok(Json(document()))
}
