//! `GET /metrics`: the gateway's Prometheus metrics in the OpenMetrics text format, for any
//! caller the other routes accept (anonymous on loopback, a wrong token refused).

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{auth::authenticate, error::GatewayError, metrics::CONTENT_TYPE, state::Gateway};

pub async fn metrics(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    authenticate(&gateway.runtime(), &headers)?;
    let Ok(text) = gateway.metrics().encode() else {
        // Encoding into a String fails only if a label value cannot be written.
        tracing::error!("cannot encode the metrics");
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}
