//! The gateway's errors. Each becomes a response in the caller's API shape: OpenAI-shaped JSON
//! (`{"error":{"message","type","code"}}`) on OpenAI and Hearth routes, `{"error":"..."}` on
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
    #[error("{0}")]
    NotFound(String),
}

impl GatewayError {
    fn status(&self) -> StatusCode {
        match self {
            GatewayError::Unauthorized => StatusCode::UNAUTHORIZED,
            GatewayError::AdminOnly | GatewayError::ForeignHost => StatusCode::FORBIDDEN,
            GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "invalid_api_key",
            GatewayError::AdminOnly => "admin_only",
            GatewayError::ForeignHost => "foreign_host",
            GatewayError::NotFound(_) => "not_found",
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "authentication_error",
            GatewayError::AdminOnly | GatewayError::ForeignHost => "permission_error",
            GatewayError::NotFound(_) => "invalid_request_error",
        }
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
