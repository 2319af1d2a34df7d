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
mod render;
mod request_context;

use std::path::PathBuf;

use app::{api::ssr::Services, shell};
use axum::{Router, extract::DefaultBodyLimit, middleware, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;

use crate::{flows, state::Sesame};

/// Largest request body accepted: forms are small, and 1 MB bodies are refused early.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone, axum::extract::FromRef)]
pub struct HttpState {
    pub sesame: Sesame,
    pub services: Services,
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
    let services = flows::services(&sesame);
    let state = HttpState {
        sesame: sesame.clone(),
        services: services.clone(),
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
    // Leptos registers the server functions (and starts its task executor) here; the pages
    // get a handler that loads their portal context before the render.
    let no_pages = Vec::new();
    router
        .leptos_routes_with_context(
            &state,
            no_pages,
            render::page_context(sesame.clone(), services, None),
            move || shell(leptos_options.clone()),
        )
        .leptos_routes_with_handler(routes, get(render::page))
        .fallback(render::file_or_not_found)
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

/// Where the built site (WASM, JS, CSS, public assets) is served from.
pub fn site_root(options: &LeptosOptions) -> PathBuf {
    PathBuf::from(options.site_root.as_ref())
}
