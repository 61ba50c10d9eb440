//! The gateway's errors. Each becomes a response in the caller's API shape: OpenAI-shaped JSON
//! (`{"error":{"message","type","code"}}`) on OpenAI and Hearth routes, Anthropic's
//! `{"type":"error","error":{"type","message"}}` on `/v1/messages`, `{"error":"..."}` on
//! Ollama routes. Messages say what the caller can fix and never carry secrets or internals.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("missing or invalid token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("this route needs the admin token")]
    AdminOnly,
    #[error("requests to this route must use a loopback Host (localhost, 127.0.0.1 or [::1])")]
    ForeignHost,
    #[error("a web page from another origin needs a token to call Hearth")]
    ForeignOrigin,
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    BadRequest { message: String, code: &'static str },
    #[error("{message}")]
    ToolDenied { message: String },
    #[error("{message}")]
    ModelNotFound { message: String },
    /// The caller may not use the model (anonymous and cloud, or outside the agent's `models`).
    #[error("{message}")]
    ModelNotAllowed { message: String },
    #[error("{message}")]
    ContextTooLong { message: String },
    /// The model's service is not running (exclusive residency unloaded it).
    #[error("{message}")]
    NotResident { message: String },
    /// A service would not start, stop or answer.
    #[error("{message}")]
    ServiceFailed { message: String },
    #[error(transparent)]
    Backend(#[from] crate::providers::BackendError),
}

impl GatewayError {
    /// A body that does not parse as its API's request; the message names the JSON path.
    pub fn invalid_body(error: impl std::fmt::Display) -> GatewayError {
        GatewayError::BadRequest {
            message: format!("invalid request body: {error}"),
            code: "invalid_request",
        }
    }

    /// A request that parses but cannot be put into the canonical form.
    pub fn untranslatable(error: impl std::fmt::Display) -> GatewayError {
        GatewayError::BadRequest {
            message: format!("invalid request: {error}"),
            code: "invalid_request",
        }
    }

    pub fn status(&self) -> StatusCode {
        use crate::providers::BackendError;
        match self {
            GatewayError::Unauthorized => StatusCode::UNAUTHORIZED,
            GatewayError::AdminOnly
            | GatewayError::ForeignHost
            | GatewayError::ForeignOrigin
            | GatewayError::ToolDenied { .. }
            | GatewayError::ModelNotAllowed { .. } => StatusCode::FORBIDDEN,
            GatewayError::NotFound(_) | GatewayError::ModelNotFound { .. } => StatusCode::NOT_FOUND,
            GatewayError::BadRequest { .. } | GatewayError::ContextTooLong { .. } => {
                StatusCode::BAD_REQUEST
            }
            GatewayError::NotResident { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::ServiceFailed { .. } => StatusCode::BAD_GATEWAY,
            GatewayError::Backend(BackendError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::Backend(
                BackendError::Connect { .. } | BackendError::Unsupported { .. },
            ) => StatusCode::SERVICE_UNAVAILABLE,
            // A backend's own client error (a bad parameter) is the caller's to fix — but not
            // its 401, 403 or 407: those refuse Hearth's key for the provider, not the caller's
            // token, and a client reading 401 would think its own token wrong.
            GatewayError::Backend(BackendError::Status { status, .. })
                if (400..500).contains(status) && !matches!(status, 401 | 403 | 407) =>
            {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            GatewayError::Backend(_) => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "invalid_api_key",
            GatewayError::AdminOnly => "admin_only",
            GatewayError::ForeignHost => "foreign_host",
            GatewayError::ForeignOrigin => "foreign_origin",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::BadRequest { code, .. } => code,
            GatewayError::ToolDenied { .. } => "tool_denied",
            GatewayError::ModelNotAllowed { .. } => "model_not_allowed",
            GatewayError::ModelNotFound { .. } => "model_not_found",
            GatewayError::ContextTooLong { .. } => "context_length_exceeded",
            GatewayError::NotResident { .. } => "model_not_resident",
            GatewayError::ServiceFailed { .. } => "service_failed",
            GatewayError::Backend(crate::providers::BackendError::Timeout { .. }) => {
                "backend_timeout"
            }
            GatewayError::Backend(crate::providers::BackendError::Connect { .. }) => {
                "backend_unavailable"
            }
            GatewayError::Backend(crate::providers::BackendError::TooLarge { .. }) => {
                "backend_answer_too_large"
            }
            GatewayError::Backend(_) => "backend_error",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "authentication_error",
            GatewayError::AdminOnly
            | GatewayError::ForeignHost
            | GatewayError::ForeignOrigin
            | GatewayError::ToolDenied { .. }
            | GatewayError::ModelNotAllowed { .. } => "permission_error",
            GatewayError::NotFound(_)
            | GatewayError::BadRequest { .. }
            | GatewayError::ModelNotFound { .. }
            | GatewayError::ContextTooLong { .. } => "invalid_request_error",
            GatewayError::NotResident { .. }
            | GatewayError::ServiceFailed { .. }
            | GatewayError::Backend(_) => "server_error",
        }
    }

    /// The error in Anthropic's shape (`{"type":"error","error":{"type","message"}}`), for
    /// `/v1/messages`.
    pub fn into_anthropic_response(self) -> Response {
        let status = self.status();
        let kind = hearth_protocol::anthropic::error_type_for_status(status.as_u16());
        let body = hearth_protocol::anthropic::ErrorResponse::new(kind, self.to_string());
        (status, Json(body)).into_response()
    }

    /// The error in Ollama's shape, for the `/api/*` routes.
    pub fn into_ollama_response(self) -> Response {
        let body = json!({ "error": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "message": self.to_string(), "type": self.kind(), "code": self.code() }
        });
        (self.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::BackendError;

    #[test]
    fn a_backend_refusing_hearths_key_is_a_bad_gateway_not_the_callers_401() {
        let status = |status: u16| {
            GatewayError::Backend(BackendError::Status {
                provider: "cloud".to_owned(),
                status,
                message: String::new(),
            })
            .status()
            .as_u16()
        };
        assert_eq!(
            [401, 403, 407, 400, 404, 422, 429, 500, 503].map(status),
            [502, 502, 502, 400, 404, 422, 429, 502, 502]
        );
    }
}
