//! HTTP: the axum router around the Leptos app, and the middleware every request goes
//! through (request facts, logs and metrics, CSRF, security headers, error pages,
//! compression, limits).

mod csrf;
mod deadline;
mod error_page;
mod headers;
mod mailbox;
mod metrics;
mod nul_bytes;
mod observe;
mod pages;
mod request_context;

use std::path::PathBuf;

use app::{PageSettings, api::ssr::RequestMeta, shell};
use axum::{Router, extract::DefaultBodyLimit, middleware, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, ResponseOptions, generate_route_list};
use tower_http::compression::CompressionLayer;

use crate::{flows, state::Sesame};

/// Largest request body accepted: forms are small, and 1 MB bodies are refused early.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone, axum::extract::FromRef)]
pub struct HttpState {
    pub sesame: Sesame,
    pub leptos_options: LeptosOptions,
}

/// Leptos' site options: the embedded `Leptos.toml`, overridden by `LEPTOS_*` variables.
pub fn leptos_options() -> LeptosOptions {
    const LEPTOS_TOML: &str = include_str!("../../../Leptos.toml");
    let file: toml::Table = toml::from_str(LEPTOS_TOML).unwrap_or_default();
    let setting = |env: &str, key: &str, default: &str| {
        std::env::var(env)
            .ok()
            .or_else(|| file.get(key).and_then(|v| v.as_str()).map(str::to_owned))
            .unwrap_or_else(|| default.to_owned())
    };
    let site_addr = setting("LEPTOS_SITE_ADDR", "site-addr", "127.0.0.1:3000");
    LeptosOptions::builder()
        .output_name(env!("CARGO_PKG_NAME"))
        .site_root(setting("LEPTOS_SITE_ROOT", "site-root", "target/site"))
        .site_pkg_dir(setting("LEPTOS_SITE_PKG_DIR", "site-pkg-dir", "pkg"))
        .site_addr(
            site_addr
                .parse::<std::net::SocketAddr>()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 3000).into()),
        )
        .env(leptos::config::Env::PROD)
        .build()
}

pub fn router(sesame: Sesame, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(app::App);
    let context = page_context(sesame.clone());
    let state = HttpState {
        sesame: sesame.clone(),
        leptos_options: leptos_options.clone(),
    };

    let mut router = Router::new()
        .route("/healthz", get(pages::healthz))
        .route("/metrics", get(metrics::scrape))
        .route("/lang/{code}", get(pages::switch_language))
        .route("/branding.css", get(pages::branding_css));
    if sesame.demo {
        router = router
            .route("/dev/mailbox", get(mailbox::index))
            .route("/dev/mailbox/{name}", get(mailbox::message));
    }
    router
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            HttpState,
            _,
        >(context, shell))
        .layer(middleware::from_fn(error_page::render_for_forms))
        .layer(middleware::from_fn_with_state(
            sesame.clone(),
            csrf::protect,
        ))
        .layer(middleware::from_fn(nul_bytes::replace))
        .layer(middleware::from_fn(deadline::limit))
        .layer(middleware::from_fn(observe::observe))
        .layer(middleware::from_fn_with_state(
            sesame.clone(),
            request_context::attach,
        ))
        .layer(middleware::from_fn_with_state(
            sesame.clone(),
            headers::secure,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// What every page render and server function gets: the flows' services, the page's
/// language and CSRF token, and a CSP allowing this response's hydration script.
fn page_context(sesame: Sesame) -> impl Fn() + Clone + Send + 'static {
    let services = flows::services(&sesame);
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
        if let (Some(nonce), Some(response)) =
            (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
            && let Ok(value) =
                http::HeaderValue::from_str(&headers::content_security_policy(Some(&nonce)))
        {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Where the built site (WASM, JS, CSS, public assets) is served from.
pub fn site_root(options: &LeptosOptions) -> PathBuf {
    PathBuf::from(options.site_root.as_ref())
}
