//! "My account → My open sessions": each signed-in browser (which, from where, when), with
//! a button to end it, and one to end every other session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::account::{EndSessions, SessionSummary, load_sessions},
    components::form::CsrfField,
    i18n::{Locale, Msg},
    t, use_locale,
};

#[component]
pub fn AccountSessionsPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<EndSessions>::new();
    let query = use_query_map();
    // Only a count is shown: any other text in the address is ignored.
    let ended = move || {
        query
            .read()
            .get("ended")
            .and_then(|n| n.parse::<u32>().ok())
    };
    let view_state = Resource::new(
        move || (ended(), action.version().get()),
        |_| load_sessions(),
    );
    view! {
        <Title text=t(Msg::SessionsTitle)/>
        <h1 tabindex="-1">{t(Msg::SessionsTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.signed_in {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let others = state.sessions.iter().filter(|s| !s.current).count();
                let items = state
                    .sessions
                    .into_iter()
                    .map(|session| view! { <SessionItem session action/> })
                    .collect_view();
                view! {
                    {ended().map(|count| view! {
                        <p class="notice notice--success" role="status">
                            {locale.format(Msg::SessionsEnded, &[("count", &count.to_string())])}
                        </p>
                    })}
                    <p>{t(Msg::SessionsIntro)}</p>
                    <ul class="sessions">{items}</ul>
                    {if others > 0 {
                        view! {
                            <ActionForm action attr:class="form-actions">
                                <CsrfField/>
                                <button type="submit" class="button button--secondary">
                                    {t(Msg::SessionsEndOthers)}
                                </button>
                            </ActionForm>
                        }
                            .into_any()
                    } else {
                        view! { <p>{t(Msg::SessionsOnlyThis)}</p> }.into_any()
                    }}
                    <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}

/// "3 min ago", "2 h ago"... from a count of minutes.
fn ago(locale: Locale, minutes: i64) -> String {
    let (message, count) = match minutes {
        0 => return t(Msg::SessionsNow).to_owned(),
        1..60 => (Msg::SessionsMinutesAgo, minutes),
        60..1440 => (Msg::SessionsHoursAgo, minutes / 60),
        _ => (Msg::SessionsDaysAgo, minutes / 1440),
    };
    locale.format(message, &[("count", &count.to_string())])
}

#[component]
fn SessionItem(session: SessionSummary, action: ServerAction<EndSessions>) -> impl IntoView {
    let locale = use_locale();
    let device = match (&session.browser, &session.system) {
        (Some(browser), Some(system)) => locale.format(
            Msg::SessionsBrowserOnSystem,
            &[("browser", browser), ("system", system)],
        ),
        (Some(name), None) | (None, Some(name)) => name.clone(),
        (None, None) => t(Msg::SessionsUnknownBrowser).to_owned(),
    };
    let heading_id = format!(
        "session-{}",
        &session.handle[..session.handle.len().min(12)]
    );
    view! {
        <li class="session">
            <h2 class="session__device" id=heading_id.clone()>
                {device}
                {session.current.then(|| view! {
                    " " <span class="badge">{t(Msg::SessionsThisDevice)}</span>
                })}
            </h2>
            <p>{locale.format(Msg::SessionsAddress, &[("address", &session.address)])}</p>
            <p>{locale.format(Msg::SessionsSignedIn, &[("ago", &ago(locale, session.signed_in_minutes_ago))])}</p>
            <p>{locale.format(Msg::SessionsLastSeen, &[("ago", &ago(locale, session.last_seen_minutes_ago))])}</p>
            {(!session.current).then(|| view! {
                <ActionForm action attr:class="form-actions">
                    <CsrfField/>
                    <input type="hidden" name="session" value=session.handle.clone()/>
                    <button type="submit" class="button button--secondary" aria-describedby=heading_id>
                        {t(Msg::SessionsEnd)}
                    </button>
                </ActionForm>
            })}
        </li>
    }
}
