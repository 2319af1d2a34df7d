//! Sésame's product: the pages people see, their components and texts, the contract with
//! the server (`api`) and the rules both sides apply (`policy`). Compiles natively (`ssr`)
//! for the server and to WASM (`hydrate`) for the browser.
//!
//! Pages are rendered on the server only, and every form is a plain HTML form: a step is a
//! page load, with or without JavaScript. The browser runs only the islands (`#[island]`),
//! the few parts that react to the person before a submit: the password checklist, the bot
//! check's solver, the letter's print button. So the client a phone downloads holds those
//! and not every page of every flow.

pub mod api;
pub mod components;
pub mod i18n;
pub mod pages;
pub mod policy;
pub mod pow;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::{
    components::layout::Layout,
    i18n::{Locale, Msg},
};

/// This page's language and this browser's CSRF token, taken from the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageSettings {
    pub locale: Locale,
    pub csrf_token: String,
}

/// The HTML document around the app (server only: the browser hydrates its islands, and
/// only pages that hold one load the client, see `components::client`).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let settings = use_context::<PageSettings>().unwrap_or(PageSettings {
        locale: Locale::default(),
        csrf_token: String::new(),
    });
    let locale = settings.locale;
    // Islands mode: outside islands, nothing is marked or serialized for hydration (what
    // `HydrationScripts` does when it is in the head; here it comes later, or not at all).
    if let Some(shared) = Owner::current_shared_context() {
        shared.set_is_hydrating(false);
    }
    provide_context(components::client::PageClient(options));
    view! {
        <!DOCTYPE html>
        <html lang=locale.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="csrf-token" content=settings.csrf_token/>
                <link rel="stylesheet" href="/pkg/sesame.css"/>
                <link rel="stylesheet" href="/branding.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = use_locale();

    view! {
        <Title formatter=move |page: String| title_text(&page, locale.text(Msg::AppName))/>
        <Router>
            <Layout>
                <Routes fallback=pages::not_found::NotFound>
                    // Async: the whole page is rendered before it is sent, so it reads
                    // complete without JavaScript (no out-of-order streaming fragments)
                    // and redirects decided by data still become HTTP redirects.
                    <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view=pages::signin::SignInPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("questions")) view=pages::account_questions::AccountQuestionsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("authenticator")) view=pages::account_authenticator::AccountAuthenticatorPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("email")) view=pages::account_email::AccountEmailPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("password")) view=pages::account_password::AccountPasswordPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("sessions")) view=pages::account_sessions::AccountSessionsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("linked")) view=pages::account_linked::AccountLinkedPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("helpdesk") view=pages::helpdesk::HelpdeskSearchPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("person"), ParamSegment("id")) view=pages::helpdesk::HelpdeskPersonPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("letter")) view=pages::helpdesk::HelpdeskLetterPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("invitation")) view=pages::helpdesk::HelpdeskInvitationPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-username") view=pages::forgot_username::ForgotUsernamePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-password") view=pages::forgot_password::ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("forgot-password"), StaticSegment("link")) view=pages::forgot_password::RecoveryLinkPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("activate") view=pages::activate::ActivatePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("activate"), StaticSegment("link")) view=pages::activate::ActivationLinkPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signup") view=pages::signup::SignUpPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signup"), StaticSegment("link")) view=pages::signup::SignUpLinkPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("cant-sign-in") view=pages::signup::CantSignInPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("terms") view=pages::signup::TermsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("privacy") view=pages::signup::PrivacyPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("terms")) view=pages::signin_terms::SignInTermsPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The document title. leptos_meta writes it into the served `<title>` unescaped, and a
/// page title can hold a person's name or a URL's value: `&` and `<` are escaped (the
/// browser decodes them in a title).
fn title_text(page: &str, app_name: &str) -> String {
    format!("{page} · {app_name}")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
}

/// The language of the page being shown.
pub fn use_locale() -> Locale {
    use_context::<PageSettings>()
        .map(|s| s.locale)
        .unwrap_or_default()
}

/// Translates a message id in the page's language.
pub fn t(msg: Msg) -> &'static str {
    use_locale().text(msg)
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Sets the root owner; Leptos' loader then hydrates each island under it. Islands get
    // what they show as props (texts included), so they need no context from the page.
    leptos::mount::hydrate_islands();
}
