//! The router called in-process as a browser without JavaScript (form posts answered by
//! redirects), and the few page readers its tests need (`http.rs`, `hostile_http.rs`,
//! `helpdesk.rs`).

use axum::{Router, body::Body};
use http::{Request, Response, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Leptos keeps its reactive runtime in process-wide state, and every `#[tokio::test]`
/// brings its own tokio runtime: renders from two tests at once sometimes never finish
/// (about one run in five, the GET of a page waits forever), which cannot happen in the
/// server's single runtime. Tests that render therefore take this lock first, and run one
/// at a time (within their test binary: each binary is a process of its own).
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static RENDERING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    RENDERING.lock().await
}

/// Calls the router and reads the whole answer, each within 20 s (a render that hangs fails
/// the test rather than the run); answers the response (its body taken out) and the body.
pub async fn send(router: &Router, request: Request<Body>) -> (Response<Body>, String) {
    let what = format!("{} {}", request.method(), request.uri());
    let limit = std::time::Duration::from_secs(20);
    let response = tokio::time::timeout(limit, router.clone().oneshot(request))
        .await
        .unwrap_or_else(|_| panic!("no response to {what} in 20 s"))
        .expect("response");
    let (parts, body) = response.into_parts();
    let bytes = tokio::time::timeout(limit, body.collect())
        .await
        .unwrap_or_else(|_| panic!("no complete body for {what} in 20 s"))
        .expect("body")
        .to_bytes();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Every page the tests load: one loader of the client if the page holds an island, and
/// none (nor any WASM) if it holds none (`app/src/components/client.rs`). Leptos' inline
/// render data, which loads nothing, is on every page.
fn assert_client_matches_islands(what: &str, html: &str) {
    if !html.starts_with("<!DOCTYPE html>") {
        return;
    }
    let islands = html.matches("<leptos-island").count();
    let loaders = html.matches("<script type=\"module\"").count();
    if islands > 0 {
        assert_eq!(
            loaders, 1,
            "{what}: {islands} island(s), {loaders} loader(s)\n{html}"
        );
    } else {
        assert_eq!(loaders, 0, "{what}: a loader without an island\n{html}");
        assert!(
            !html.contains(".wasm"),
            "{what}: WASM without an island\n{html}"
        );
    }
}

/// A browser: keeps the cookies the router sets and sends them back.
pub struct Browser {
    pub router: Router,
    pub cookies: Vec<(String, String)>,
    /// The `Host` (and `Origin`) it sends.
    pub host: String,
    /// Sent with every request.
    pub extra_headers: Vec<(String, String)>,
}

impl Browser {
    pub fn new(router: Router) -> Browser {
        Browser {
            router,
            cookies: Vec::new(),
            host: "127.0.0.1:3000".into(),
            extra_headers: Vec::new(),
        }
    }

    /// A browser holding this session cookie.
    pub fn signed_in(router: Router, session_token: &str) -> Browser {
        let mut browser = Browser::new(router);
        browser
            .cookies
            .push(("sesame-session".into(), session_token.into()));
        browser
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn remember(&mut self, response: &Response<Body>) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let Some((pair, _)) = value.to_str().unwrap_or("").split_once(';') else {
                continue;
            };
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    /// Sends `request` as it is (no cookie, host or extra header added) and keeps the
    /// cookies of the answer; answers the response (its body taken out) and the body.
    pub async fn send(&mut self, request: Request<Body>) -> (Response<Body>, String) {
        let what = format!("{} {}", request.method(), request.uri());
        let (response, body) = send(&self.router, request).await;
        self.remember(&response);
        assert_client_matches_islands(&what, &body);
        (response, body)
    }

    pub fn with_extra_headers(
        &self,
        mut request: http::request::Builder,
    ) -> http::request::Builder {
        for (name, value) in &self.extra_headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request
    }

    pub async fn get(&mut self, path: &str) -> (Response<Body>, String) {
        let request = Request::get(path)
            .header(header::ACCEPT, "text/html")
            .header(header::HOST, self.host.as_str())
            .header(header::COOKIE, self.cookie_header());
        let request = self
            .with_extra_headers(request)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// Posts a form like a browser without JavaScript would.
    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (Response<Body>, String) {
        self.post_form_with(path, fields, &[]).await
    }

    /// `post_form` with more headers (a proxy's `x-forwarded-for`, say).
    pub async fn post_form_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (Response<Body>, String) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = Request::post(path)
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, self.host.as_str())
            .header(header::ORIGIN, format!("http://{}", self.host))
            .header(header::COOKIE, self.cookie_header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = self
            .with_extra_headers(request)
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }
}

/// The value of the first `attribute="…"` after the first `before` in the page.
pub fn attribute<'a>(html: &'a str, before: &str, attribute: &str) -> Option<&'a str> {
    let start = html.find(before)?;
    let rest = &html[start..];
    let at = rest.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    let end = rest[at..].find('"')?;
    Some(&rest[at..at + end])
}

/// The page's CSRF token, from its `<meta name="csrf-token">`.
pub fn csrf(html: &str) -> String {
    attribute(html, "name=\"csrf-token\"", "content")
        .expect("csrf meta")
        .to_owned()
}

/// The `action` of the page's form for the server function `server_fn`.
pub fn form_action(html: &str, server_fn: &str) -> String {
    let marker = format!("action=\"/api/{server_fn}");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form for {server_fn} in {html}"))
        + 8;
    let end = html[start..].find('"').expect("end of action");
    // Decoded as the browser would before posting to it.
    html[start..start + end].replace("&amp;", "&")
}

/// Where a redirect sends the browser; empty if it is not one.
pub fn location(response: &Response<Body>) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}
