//! Every request is answered within a deadline. A database that stops answering in the
//! middle of a request (a network partition, a frozen server) would otherwise hold the
//! request, its connection and the person's browser for as long as TCP retries (minutes);
//! past the deadline the request is dropped (its transaction rolls back with its
//! connection) and the person gets the translated 503 page with the request id.

use std::time::Duration;

use app::api::{AppError, ssr::RequestMeta};
use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

use super::error_page;
use crate::error::UNAVAILABLE_RETRY_AFTER_SECS;

/// Longer than any step takes when its parts answer (the database pool waits 5 s for a
/// connection, a directory 5 s per operation), far shorter than TCP's retries.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(15);

pub async fn limit(request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let meta = request.extensions().get::<RequestMeta>().cloned();
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let Some(meta) = meta else {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            tracing::error!(request_id = %meta.request_id, "no answer within the request deadline");
            let error = AppError::Unavailable {
                request_id: meta.request_id.clone(),
            };
            let mut response =
                error_page::respond(&headers, &meta, StatusCode::SERVICE_UNAVAILABLE, error);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
            response
        }
    }
}
