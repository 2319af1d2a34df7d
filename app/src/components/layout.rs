//! The frame of every page: skip link, header with the institution and the language
//! switch, the name menu when signed in, the main region and the help desk footer.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{form::CsrfField, language_switch::LanguageSwitch, portal::WithPortal};
use crate::{SessionEpoch, api::signin::SignOut, i18n::Msg, t, use_locale};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let locale = use_locale();
    focus_heading_after_navigation();
    view! {
        <a class="skip-link" href="#main" rel="external">
            {t(Msg::LayoutSkipToContent)}
        </a>
        <header class="site-header">
            <div class="site-header__inner">
                <WithPortal children=move |portal| {
                    let name = portal.institution.name.get(locale).to_owned();
                    view! {
                        <a
                            class="site-header__brand"
                            href="/"
                            aria-label=locale.format(Msg::LayoutHomeLink, &[("institution", &name)])
                        >
                            <img class="site-header__logo" src=portal.institution.logo_url.clone() alt=""/>
                            <span class="site-header__name">{name.clone()}</span>
                        </a>
                    }
                }/>
                <nav class="site-header__nav" aria-label=t(Msg::LayoutMainNav)>
                    <LanguageSwitch/>
                    <AccountMenu/>
                </nav>
            </div>
        </header>
        <main id="main" class="site-main" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <WithPortal children=move |portal| {
                let institution = portal.institution;
                view! {
                    <p>
                        {locale
                            .format(
                                Msg::LayoutHelpdesk,
                                &[
                                    ("phone", &institution.helpdesk_phone),
                                    ("hours", institution.helpdesk_hours.get(locale)),
                                ],
                            )}
                    </p>
                }
            }/>
        </footer>
    }
}

/// The name menu (seed 002: "click your name, top right, then Sign out"). A native
/// `<details>` so it opens with keyboard and without JavaScript.
#[component]
fn AccountMenu() -> impl IntoView {
    let sign_out = use_sign_out();
    view! {
        <WithPortal children=move |portal| {
            portal
                .person
                .map(|person| {
                    view! {
                        <details class="account-menu">
                            <summary class="account-menu__toggle" aria-label=format!("{} — {}", person.display_name(), t(Msg::LayoutAccountMenu))>
                                {person.display_name()}
                            </summary>
                            <ul class="account-menu__items">
                                <li>
                                    <a href="/account">{t(Msg::LayoutMyAccount)}</a>
                                </li>
                                {person.is_agent.then(|| view! {
                                    <li>
                                        <a href="/helpdesk">{t(Msg::LayoutHelpdeskConsole)}</a>
                                    </li>
                                })}
                                <li>
                                    <ActionForm action=sign_out attr:class="account-menu__form">
                                        <CsrfField/>
                                        <button type="submit" class="link-button">
                                            {t(Msg::LayoutSignOut)}
                                        </button>
                                    </ActionForm>
                                </li>
                            </ul>
                        </details>
                    }
                })
        }/>
    }
}

/// The sign-out action; once it has run, the portal context is fetched again so the
/// header forgets the person.
pub fn use_sign_out() -> ServerAction<SignOut> {
    let sign_out = ServerAction::<SignOut>::new();
    let epoch = expect_context::<SessionEpoch>();
    Effect::new(move |_| {
        if sign_out.version().get() > 0 {
            epoch.0.update(|n| *n += 1);
        }
    });
    sign_out
}

/// After a client-side navigation, moves focus to the new page's heading so screen
/// readers announce the step (a full page load starts at the top by itself).
fn focus_heading_after_navigation() {
    let location = use_location();
    Effect::new(move |previous: Option<()>| {
        location.pathname.track();
        location.search.track();
        if previous.is_some() {
            focus_page_heading();
        }
    });
}

#[cfg(feature = "hydrate")]
fn focus_page_heading() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let target = document
        .query_selector(".error-summary")
        .ok()
        .flatten()
        .or_else(|| document.query_selector("main h1").ok().flatten());
    if let Some(element) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}

#[cfg(not(feature = "hydrate"))]
fn focus_page_heading() {}
