//! Every request's log line and metrics: a span carrying the request id (so each log line
//! a request causes names it, and the id shown on error pages finds them), the route
//! pattern, status and latency.

use std::time::Instant;

use app::api::ssr::RequestMeta;
use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::metrics;

pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned());
    let request_id = request
        .extensions()
        .get::<RequestMeta>()
        .map(|meta| meta.request_id.clone())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %request.uri().path(),
    );
    let response = next.run(request).instrument(span.clone()).await;

    let status = response.status();
    let elapsed = started.elapsed();
    // Outside the router's routes (static files, unknown paths) the path is not a label:
    // anyone can make up paths, and series must stay few.
    let route = pattern.unwrap_or_else(|| {
        if status.is_success() || status.is_redirection() {
            "(static)".to_owned()
        } else {
            "(unmatched)".to_owned()
        }
    });
    metrics::http_request(
        &route,
        method.as_str(),
        status.as_u16(),
        elapsed.as_secs_f64(),
    );
    let _entered = span.enter();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::warn!(target: "sesame::access", status = status.as_u16(), latency_ms, route, "answered");
    } else {
        tracing::info!(target: "sesame::access", status = status.as_u16(), latency_ms, route, "answered");
    }
    response
}
