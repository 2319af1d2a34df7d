//! Sessions: the person's signed-in browsers (which browser, from where, when last seen),
//! and ending one of them or every other one.
//!
//! The page names a session by a handle derived from what the database keeps, so neither
//! the cookie nor its stored hash ever reaches a page.

use app::api::{
    AppError,
    account::{SessionSummary, SessionsView},
    ssr::RequestMeta,
};
use serde_json::json;

use super::Request;
use crate::{
    error::Result,
    flows::audit_request,
    state::Sesame,
    store::{audit::AuditKind, sessions},
};

pub(super) async fn view(sesame: &Sesame, meta: &RequestMeta) -> Result<SessionsView> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(SessionsView::default());
    };
    let this_session = request.this_session();
    let mut summaries: Vec<SessionSummary> = request
        .live_sessions()
        .await?
        .into_iter()
        .map(|row| {
            let (browser, system) = describe_user_agent(&row.user_agent);
            SessionSummary {
                handle: request.handle(&row.id_hash),
                browser: browser.map(str::to_owned),
                system: system.map(str::to_owned),
                address: row.client_ip.clone(),
                signed_in_minutes_ago: (request.now - row.created_at).max(0) / 60,
                last_seen_minutes_ago: (request.now - row.last_seen_at).max(0) / 60,
                current: row.id_hash == this_session,
            }
        })
        .collect();
    // This browser first; the rest keep the store's most-recently-seen order.
    summaries.sort_by_key(|s| !s.current);
    Ok(SessionsView {
        signed_in: true,
        sessions: summaries,
    })
}

/// Ends the session named by `handle`, or every session but this browser's.
pub(super) async fn end(
    sesame: &Sesame,
    meta: &RequestMeta,
    handle: Option<String>,
) -> Result<std::result::Result<u32, AppError>> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let pool = &sesame.store.pool;
    let this_session = request.this_session();
    let ended = match handle {
        None => sessions::delete_others_for(pool, &request.person.id, &this_session).await?,
        Some(handle) => {
            let target = request
                .live_sessions()
                .await?
                .into_iter()
                .find(|row| request.handle(&row.id_hash) == handle);
            match target {
                Some(row) => u64::from(sessions::delete(pool, &row.id_hash).await?),
                // Already ended (a second click, another tab): nothing to do.
                None => 0,
            }
        }
    };
    if ended > 0 {
        audit_request(
            pool,
            sesame,
            meta,
            AuditKind::SessionsEndedByOwner,
            Some(&request.person.id),
            json!({ "ended": ended }),
        )
        .await?;
    }
    Ok(Ok(u32::try_from(ended).unwrap_or(u32::MAX)))
}

impl Request<'_> {
    fn handle(&self, id_hash: &str) -> String {
        self.sesame.key.keyed_hash("session-handle", id_hash)
    }

    async fn live_sessions(&self) -> Result<Vec<sessions::SessionRow>> {
        let idle = self.sesame.config.sessions.idle_timeout_minutes * 60;
        sessions::list_live_for(&self.sesame.store.pool, &self.person.id, self.now, idle).await
    }
}

/// The browser and operating system a `User-Agent` names, as people know them. Product
/// names are the same in every language; `None` when not recognised.
pub fn describe_user_agent(user_agent: &str) -> (Option<&'static str>, Option<&'static str>) {
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| user_agent.contains(marker))
            .map(|(_, name)| *name)
    };
    (find(BROWSERS), find(SYSTEMS))
}

#[cfg(test)]
mod tests {
    use super::describe_user_agent;

    #[test]
    fn names_common_browsers_and_systems() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                (Some("Edge"), Some("Windows")),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                (Some("Safari"), Some("iOS")),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                (Some("Firefox"), Some("Linux")),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                (Some("Chrome"), Some("Android")),
            ),
            ("curl/8.5.0", (None, None)),
        ];
        for (agent, expected) in cases {
            assert_eq!(describe_user_agent(agent), expected, "{agent}");
        }
    }
}
