//! Errors for forms posted without JavaScript: instead of a serialized error, the person
//! gets a translated page with the request id (for the help desk) and a way back. The
//! hydrated app gets the serialized `AppError` as usual.

use app::{
    api::{AppError, ssr::RequestMeta},
    i18n::{Locale, Msg},
};
use axum::{
    body::{Body, to_bytes},
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

/// A serialized `AppError` is small; a larger body is not one.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

/// Whether the request is a plain form post from a browser (not the hydrated app).
fn wants_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Replaces the body of failed server-function answers to plain form posts.
pub async fn render_for_forms(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let html = wants_html(request.headers());
    let meta = request.extensions().get::<RequestMeta>().cloned();
    let response = next.run(request).await;
    let status = response.status();
    if !(is_api && html && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    let Some(meta) = meta else { return response };
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    // The server function's own error when its body holds one, else one from the status.
    let body = to_bytes(response.into_body(), ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let error = serde_json::from_slice::<AppError>(&body)
        .ok()
        .filter(|error| !matches!(error, AppError::Transport(_)))
        .unwrap_or_else(|| match status {
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => AppError::Busy {
                retry_after_secs: 2,
            },
            StatusCode::FORBIDDEN => AppError::Forbidden,
            _ => AppError::Internal {
                request_id: meta.request_id.clone(),
            },
        });
    let mut page = html_page(meta.locale, status, &error, &meta.request_id);
    if let Some(value) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    page
}

/// An error answer in the form the client expects: a page, or the serialized error.
pub fn respond(
    headers: &http::HeaderMap,
    meta: &RequestMeta,
    status: StatusCode,
    error: AppError,
) -> Response {
    if wants_html(headers) {
        return html_page(meta.locale, status, &error, &meta.request_id);
    }
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn html_page(locale: Locale, status: StatusCode, error: &AppError, request_id: &str) -> Response {
    let title = locale.text(Msg::ErrorTitle);
    let message = locale.text(error.message());
    let reference = locale.format(Msg::ErrorRequestId, &[("id", request_id)]);
    let back = locale.text(Msg::ErrorBackHome);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/sesame.css\"></head>\
         <body><main id=\"main\" class=\"site-main\"><h1>{title}</h1>\
         <div class=\"notice notice--error\" role=\"alert\"><p>{message}</p></div>\
         <p class=\"help\">{reference}</p><p><a href=\"/\">{back}</a></p></main></body></html>",
        lang = locale.code(),
        title = html_escape::encode_text(title),
        message = html_escape::encode_text(message),
        reference = html_escape::encode_text(&reference),
        back = html_escape::encode_text(back),
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
