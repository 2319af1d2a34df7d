//! The frame of every page: skip link, header with the institution and the language
//! switch, the name menu when signed in, the main region and the help desk footer.

use leptos::prelude::*;

use super::{form::CsrfField, language_switch::LanguageSwitch, portal::WithPortal};
use crate::{api::signin::SignOut, i18n::Msg, t, use_locale};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let locale = use_locale();
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
    let sign_out = ServerAction::<SignOut>::new();
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
