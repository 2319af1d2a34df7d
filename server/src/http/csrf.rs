//! CSRF protection for every state change: a request with an unsafe method must come from
//! our own pages (`Origin`/`Sec-Fetch-Site`) and carry this browser's token, as the form
//! field `csrf` (every form has it) or the `x-csrf-token` header.

use app::api::{AppError, ssr::RequestMeta};
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{Method, StatusCode, header};

use super::{BODY_LIMIT, error_page};
use crate::state::Sesame;

pub async fn protect(State(sesame): State<Sesame>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Some(meta) = request.extensions().get::<RequestMeta>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if !same_origin(&request) {
        return refuse(&request, &meta);
    }
    let header_token = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return error_page::respond(
            &parts.headers,
            &meta,
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Refused(app::i18n::Msg::ErrorGeneric),
        );
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let token = header_token.or_else(|| {
        is_form
            .then(|| {
                form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "csrf")
                    .map(|(_, v)| v.into_owned())
            })
            .flatten()
    });
    let request = Request::from_parts(parts, Body::from(bytes));
    match token {
        Some(token) if sesame.key.csrf_token_is_valid(&meta.device_id, &token) => {
            next.run(request).await
        }
        _ => refuse(&request, &meta),
    }
}

/// A browser says where a request comes from; refuse what another site sent. Under
/// `Referrer-Policy: no-referrer` browsers send `Origin: null` on form posts, so `null`
/// tells nothing: then `Sec-Fetch-Site` and the token decide.
fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host),
        _ => true,
    }
}

fn refuse(request: &Request, meta: &RequestMeta) -> Response {
    tracing::warn!(request_id = %meta.request_id, path = %request.uri().path(), "CSRF check failed");
    error_page::respond(
        request.headers(),
        meta,
        StatusCode::FORBIDDEN,
        AppError::Forbidden,
    )
}
