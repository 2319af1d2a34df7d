//! Sésame's product: the pages people see, their components and texts, the contract with
//! the server (`api`) and the rules both sides apply (`policy`). Compiles natively (`ssr`)
//! for the server and to WASM (`hydrate`) for the browser.

pub mod api;
pub mod components;
pub mod i18n;
pub mod pages;
pub mod policy;
pub mod pow;
pub mod routes;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    Lazy, ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::{
    api::{AppError, portal::PortalContext},
    components::layout::Layout,
    i18n::{Locale, Msg},
};

/// The portal's shared facts, fetched once per page load and again after sign-in/out.
pub type PortalResource = Resource<Result<PortalContext, AppError>>;

/// Bumped after sign-in and sign-out so the portal context is fetched again.
#[derive(Clone, Copy)]
pub struct SessionEpoch(pub RwSignal<u32>);

/// This page's language and this browser's CSRF token, known synchronously on both sides:
/// the server takes them from the request, the browser from the served document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageSettings {
    pub locale: Locale,
    pub csrf_token: String,
}

/// Pages sent without the client (no WASM, no script): they hold links and plain forms
/// only, so the front door of a visit loads fast on a phone and the next page brings the
/// client. The client still renders them after a navigation inside the app.
#[cfg(feature = "ssr")]
const PAGES_WITHOUT_CLIENT: &[&str] = &["/"];

/// The HTML document around the app (server only: the browser hydrates `<body>`).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let settings = use_context::<PageSettings>().unwrap_or(PageSettings {
        locale: Locale::default(),
        csrf_token: String::new(),
    });
    let locale = settings.locale;
    let loads_client = use_context::<http::request::Parts>()
        .is_none_or(|parts| !PAGES_WITHOUT_CLIENT.contains(&parts.uri.path()));
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
                {loads_client.then(|| view! { <HydrationScripts options/> })}
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page settings as the browser reads them from the served document.
#[cfg(feature = "hydrate")]
fn page_settings_from_document() -> PageSettings {
    let document = web_sys::window().and_then(|w| w.document());
    let locale = document
        .as_ref()
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|lang| Locale::from_code(&lang))
        .unwrap_or_default();
    let csrf_token = document
        .and_then(|d| d.query_selector("meta[name=csrf-token]").ok().flatten())
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    PageSettings { locale, csrf_token }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "hydrate")]
    provide_context(page_settings_from_document());
    let locale = use_locale();

    let epoch = SessionEpoch(RwSignal::new(0));
    provide_context(epoch);
    let portal: PortalResource =
        Resource::new(move || epoch.0.get(), |_| api::portal::load_portal());
    provide_context(portal);

    view! {
        <Title formatter=move |page: String| title_text(&page, locale.text(Msg::AppName))/>
        <Router>
            <Layout>
                <Routes fallback=pages::not_found::NotFound>
                    // Async: the whole page is rendered before it is sent, so it reads
                    // complete without JavaScript (no out-of-order streaming fragments)
                    // and redirects decided by data still become HTTP redirects.
                    <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view={Lazy::<routes::SignIn>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view={Lazy::<routes::Account>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("questions")) view={Lazy::<routes::AccountQuestions>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("authenticator")) view={Lazy::<routes::AccountAuthenticator>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("email")) view={Lazy::<routes::AccountEmail>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("password")) view={Lazy::<routes::AccountPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("sessions")) view={Lazy::<routes::AccountSessions>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("account"), StaticSegment("linked")) view={Lazy::<routes::AccountLinked>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("helpdesk") view={Lazy::<routes::HelpdeskSearch>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("person"), ParamSegment("id")) view={Lazy::<routes::HelpdeskPerson>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("letter")) view={Lazy::<routes::HelpdeskLetter>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("helpdesk"), StaticSegment("invitation")) view={Lazy::<routes::HelpdeskInvitation>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-username") view={Lazy::<routes::ForgotUsername>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-password") view={Lazy::<routes::ForgotPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("forgot-password"), StaticSegment("link")) view={Lazy::<routes::RecoveryLink>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("activate") view={Lazy::<routes::Activate>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("activate"), StaticSegment("link")) view={Lazy::<routes::ActivationLink>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signup") view={Lazy::<routes::SignUp>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signup"), StaticSegment("link")) view={Lazy::<routes::SignUpLink>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("cant-sign-in") view={Lazy::<routes::CantSignIn>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("terms") view={Lazy::<routes::Terms>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("privacy") view={Lazy::<routes::Privacy>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("terms")) view={Lazy::<routes::SignInTerms>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The document title. leptos_meta writes it into the served `<title>` unescaped, and a
/// page title can hold a person's name or a URL's value: on the server `&` and `<` are
/// escaped (the browser decodes them in a title); in the browser the title is set as text.
fn title_text(page: &str, app_name: &str) -> String {
    let title = format!("{page} · {app_name}");
    if cfg!(feature = "ssr") {
        title.replace('&', "&amp;").replace('<', "&lt;")
    } else {
        title
    }
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
    // Lazy: the shown page's WASM chunk (routes.rs) is fetched before hydration starts;
    // `hydrate_body` cannot wait for it.
    leptos::mount::hydrate_lazy(App);
}
