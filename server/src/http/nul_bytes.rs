//! NUL characters in what a browser sends (a form field, the query string) become U+FFFD
//! before anything reads them. PostgreSQL cannot store or compare a NUL in text, so a
//! lookup with one failed as an internal error where SQLite simply found nobody; no stored
//! value holds U+FFFD either, so now both engines find nobody, and the person gets the
//! same answer as for any unknown account.

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{StatusCode, Uri, header};

use app::{
    api::{AppError, ssr::RequestMeta},
    i18n::Msg,
};

use super::{BODY_LIMIT, error_page};

/// U+FFFD, percent-encoded as in a form or a query string.
const REPLACEMENT: &[u8] = b"%EF%BF%BD";

pub async fn replace(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Some(query) = parts.uri.query()
        && has_nul(query.as_bytes())
        && let Some(uri) = with_query(&parts.uri, &replaced(query.as_bytes()))
    {
        parts.uri = uri;
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return match parts.extensions.get::<RequestMeta>() {
            Some(meta) => error_page::respond(
                &parts.headers,
                meta,
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::Refused(Msg::ErrorGeneric),
            ),
            None => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
    };
    let body = if has_nul(&bytes) {
        let cleaned = replaced(&bytes);
        parts.headers.remove(header::CONTENT_LENGTH);
        Body::from(cleaned)
    } else {
        Body::from(bytes)
    };
    next.run(Request::from_parts(parts, body)).await
}

fn has_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0) || encoded.windows(3).any(|w| w == b"%00")
}

/// `encoded` with each NUL, raw or percent-encoded, as U+FFFD.
fn replaced(encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() + 16);
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == 0 {
            out.extend_from_slice(REPLACEMENT);
            i += 1;
        } else if encoded[i..].starts_with(b"%00") {
            out.extend_from_slice(REPLACEMENT);
            i += 3;
        } else {
            out.push(encoded[i]);
            i += 1;
        }
    }
    out
}

fn with_query(uri: &Uri, query: &[u8]) -> Option<Uri> {
    let query = std::str::from_utf8(query).ok()?;
    let path_and_query = format!("{}?{query}", uri.path());
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_become_the_replacement_character() {
        assert_eq!(
            replaced(b"login=a%00b&x=%000"),
            b"login=a%EF%BF%BDb&x=%EF%BF%BD0"
        );
        assert_eq!(replaced(b"a\0b"), b"a%EF%BF%BDb");
        assert!(
            !has_nul(b"login=a%2500"),
            "an encoded percent sign is not a NUL"
        );
        let uri: Uri = "/api/x?flow=%00".parse().expect("uri");
        assert_eq!(
            with_query(&uri, &replaced(b"flow=%00")).map(|u| u.to_string()),
            Some("/api/x?flow=%EF%BF%BD".to_owned())
        );
    }
}
