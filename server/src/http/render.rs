//! Page renders. The portal context (institution, CSRF token, who is signed in) is loaded
//! once, before the render, and every part of the page reads it from context: the header,
//! the footer and the page each awaiting it cost a suspense boundary apiece per request.

use app::{
    PageSettings,
    api::{
        AppError,
        portal::LoadedPortal,
        ssr::{RequestMeta, Services},
    },
    shell,
};
use axum::{
    body::Body,
    extract::{Request, State},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_http::services::ServeDir;

use super::{HttpState, headers};
use crate::{error::set_response_status, state::Sesame};

/// A page of the app.
pub async fn page(State(state): State<HttpState>, request: Request) -> Response {
    render(state, request).await
}

/// A file of the built site (precompressed when the browser accepts it), or else the
/// not-found page.
pub async fn file_or_not_found(State(state): State<HttpState>, request: Request) -> Response {
    let mut file_request = Request::new(Body::empty());
    *file_request.uri_mut() = request.uri().clone();
    if let Some(encodings) = request.headers().get(header::ACCEPT_ENCODING) {
        file_request
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, encodings.clone());
    }
    let file = ServeDir::new(super::site_root(&state.leptos_options))
        .precompressed_br()
        .precompressed_gzip()
        .try_call(file_request)
        .await;
    match file {
        Ok(file) if file.status() == StatusCode::OK => file.map(Body::new),
        Ok(_) => {
            let mut response = render(state, request).await;
            // A redirect decided by the page stays one.
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::NOT_FOUND;
            }
            response
        }
        Err(error) => {
            tracing::error!(%error, path = %request.uri().path(), "reading a site file failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn render(state: HttpState, request: Request) -> Response {
    let portal = match request.extensions().get::<RequestMeta>() {
        Some(meta) => state.services.portal.context(meta).await,
        None => Err(AppError::Internal {
            request_id: String::from("-"),
        }),
    };
    let context = page_context(
        state.sesame.clone(),
        state.services.clone(),
        Some(LoadedPortal(portal)),
    );
    let options = state.leptos_options.clone();
    let handler =
        leptos_axum::render_app_async_with_context(context, move || shell(options.clone()));
    handler(request).await
}

/// What every page render and server function gets: the flows' services, the page's
/// language and CSRF token, a CSP allowing this response's hydration script, and for a page
/// its portal context.
pub fn page_context(
    sesame: Sesame,
    services: Services,
    portal: Option<LoadedPortal>,
) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(services.clone());
        let parts = use_context::<http::request::Parts>();
        let meta = parts.and_then(|p| p.extensions.get::<RequestMeta>().cloned());
        if let Some(meta) = meta {
            provide_context(PageSettings {
                locale: meta.locale,
                csrf_token: sesame.key.csrf_token(&meta.device_id),
            });
        }
        let response = use_context::<ResponseOptions>();
        if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), &response)
            && let Ok(value) =
                HeaderValue::from_str(&headers::content_security_policy(Some(&nonce)))
        {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
        if let Some(portal) = &portal {
            // Loaded before the render: the status its error calls for is given here.
            if let (Err(error), Some(response)) = (&portal.0, &response) {
                set_response_status(error, response);
            }
            provide_context(portal.clone());
        }
    }
}
