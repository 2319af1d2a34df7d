//! Small endpoints outside the Leptos app.

use app::i18n::Locale;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;

use crate::{cookies, state::Sesame};

/// 200 when the database answers, 503 otherwise (load balancers probe this).
pub async fn healthz(State(sesame): State<Sesame>) -> Response {
    if sesame.store.ping().await {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
    }
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `/lang/en?next=/signin?flow=…`: remembers the language and goes back to the same page.
pub async fn switch_language(
    State(sesame): State<Sesame>,
    Path(code): Path<String>,
    Query(query): Query<Next>,
) -> Response {
    let Some(locale) = Locale::from_code(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only paths on this site: never an open redirect. Browsers drop tabs and newlines
    // from a URL, so `/\t/evil.example` would become `//evil.example`: no control characters.
    let next = query
        .next
        .filter(|n| {
            n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
        })
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&next).into_response();
    let cookie = cookies::set(
        cookies::LANGUAGE,
        locale.code(),
        sesame.config.is_https(),
        false,
        Some(365 * 24 * 3600),
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The institution's colours as CSS custom properties (designers' tokens use them).
pub async fn branding_css(State(sesame): State<Sesame>) -> Response {
    let institution = &sesame.config.institution;
    let clean = |value: &str| {
        value
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "#(),.% ".contains(*c))
            .collect::<String>()
    };
    let css = format!(
        ":root {{ --brand-primary: {}; }}\n@media (prefers-color-scheme: dark) {{ :root {{ --brand-primary: {}; }} }}\n",
        clean(&institution.color_primary),
        clean(&institution.color_primary_dark),
    );
    let mut response = css.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
