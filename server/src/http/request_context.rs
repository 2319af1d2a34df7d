//! Attaches the request's facts (`RequestMeta`) for pages and server functions: request
//! id, client address, language, this browser's device id and session cookie.

use std::net::{IpAddr, SocketAddr};

use app::{api::ssr::RequestMeta, i18n::Locale};
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use http::{HeaderMap, HeaderValue, header};

use crate::{cookies, crypto::tokens::random_hex, state::Sesame};

/// A device cookie lives a year; it only binds flows and CSRF tokens to this browser.
const DEVICE_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

pub async fn attach(State(sesame): State<Sesame>, mut request: Request, next: Next) -> Response {
    let secure = sesame.config.is_https();
    let headers = request.headers();
    let cookie_header = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    let existing_device = cookies::read(&cookie_header, cookies::DEVICE, secure)
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    let new_device = existing_device.is_none();
    let device_id = existing_device.unwrap_or_else(|| random_hex(16));
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let meta = RequestMeta {
        request_id: random_hex(8),
        client_ip: client_ip(headers, peer, &sesame.config.client_ip_header),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        locale: locale(request.uri().query(), &cookie_header, headers, secure),
        device_id: device_id.clone(),
        session_token: cookies::read(&cookie_header, cookies::SESSION, secure),
        secure,
    };
    let request_id = meta.request_id.clone();
    request.extensions_mut().insert(meta);

    let mut response = next.run(request).await;
    let response_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response_headers.insert("x-request-id", value);
    }
    if new_device
        && let Ok(value) = HeaderValue::from_str(&cookies::set(
            cookies::DEVICE,
            &device_id,
            secure,
            true,
            Some(DEVICE_COOKIE_MAX_AGE),
        ))
    {
        response_headers.append(header::SET_COOKIE, value);
    }
    response
}

/// The client address: the TCP peer, or the last address of the configured proxy header
/// (the one our own proxy appended) when one is configured.
fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, proxy_header: &str) -> IpAddr {
    let from_proxy = (!proxy_header.is_empty())
        .then(|| headers.get(proxy_header))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    from_proxy.or(peer).unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// `?lang=` first, then the language cookie, then the browser's preference, then French.
fn locale(query: Option<&str>, cookie_header: &str, headers: &HeaderMap, secure: bool) -> Locale {
    query
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Locale::from_code(&v))
        })
        .or_else(|| {
            cookies::read(cookie_header, cookies::LANGUAGE, secure)
                .and_then(|v| Locale::from_code(&v))
        })
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_the_url_then_the_cookie_then_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-CA,en;q=0.9"),
        );
        assert_eq!(
            locale(Some("lang=fr"), "sesame-lang=en", &headers, false),
            Locale::Fr
        );
        assert_eq!(locale(None, "sesame-lang=fr", &headers, false), Locale::Fr);
        assert_eq!(locale(None, "", &headers, false), Locale::En);
        assert_eq!(locale(None, "", &HeaderMap::new(), false), Locale::Fr);
    }

    #[test]
    fn the_proxy_header_is_read_only_when_configured() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        assert_eq!(client_ip(&headers, peer, ""), IpAddr::from([10, 0, 0, 1]));
        assert_eq!(
            client_ip(&headers, peer, "x-forwarded-for"),
            IpAddr::from([198, 51, 100, 7])
        );
    }
}
