//! `GET /metrics`: the Prometheus text format, for this host's loopback or a scraper
//! holding the configured bearer token. Anyone else gets 404, as if there were none.

use std::net::IpAddr;

use app::api::ssr::RequestMeta;
use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::{metrics, state::Sesame, store::outbox};

pub async fn scrape(
    State(sesame): State<Sesame>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
) -> Response {
    if !allowed(&sesame.config.metrics.token, meta.client_ip, &headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // A database that does not answer shows as -1 rather than hiding every other figure.
    let outbox_depth = outbox::depth(&sesame.store.pool).await.unwrap_or(-1);
    let text = metrics::render(&metrics::Gauges {
        outbox_depth,
        hash_queue_depth: sesame.hasher.queue_depth(),
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

fn allowed(token: &str, client_ip: IpAddr, headers: &HeaderMap) -> bool {
    if client_ip.is_loopback() {
        return true;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(presented) if !token.is_empty() => presented.as_bytes().ct_eq(token.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_or_the_token_only() {
        let remote = IpAddr::from([203, 0, 113, 7]);
        let mut with_token = HeaderMap::new();
        with_token.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(allowed("", IpAddr::from([127, 0, 0, 1]), &HeaderMap::new()));
        assert!(allowed(
            "",
            "::1".parse().unwrap_or(remote),
            &HeaderMap::new()
        ));
        assert!(!allowed("", remote, &HeaderMap::new()));
        assert!(
            !allowed("", remote, &with_token),
            "no token configured: none works"
        );
        assert!(allowed("s3cret", remote, &with_token));
        assert!(!allowed("other", remote, &with_token));
    }
}
