use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{components::portal::WithPortal, i18n::Msg, t, use_locale};

/// The portal's front door: who runs it and what a person can do here.
#[component]
pub fn HomePage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let signed_out = move || query.read().get("signed_out").is_some();
    view! {
        <Title text=t(Msg::AppTagline)/>
        <WithPortal children=move |portal| {
            let institution = portal.institution.name.get(locale).to_owned();
            view! {
                <h1 tabindex="-1">{locale.format(Msg::HomeTitle, &[("institution", &institution)])}</h1>
                {move || {
                    signed_out()
                        .then(|| {
                            view! {
                                <p class="notice notice--success" role="status">
                                    {t(Msg::HomeSignedOut)}
                                </p>
                            }
                        })
                }}
                <p class="lead">{t(Msg::HomeIntro)}</p>
                {portal
                    .person
                    .map(|person| {
                        view! {
                            <p class="notice">
                                {locale.format(Msg::HomeSignedInAs, &[("name", &person.display_name())])}
                                " "
                                <a href="/account">{t(Msg::LayoutMyAccount)}</a>
                            </p>
                        }
                    })}
                <ul class="cards">
                    <li class="card">
                        <h2 class="card__title">
                            <a href="/signin">{t(Msg::HomeSignInTitle)}</a>
                        </h2>
                        <p>{t(Msg::HomeSignInText)}</p>
                    </li>
                    <li class="card">
                        <h2 class="card__title">
                            <a href="/activate">{t(Msg::HomeActivateTitle)}</a>
                        </h2>
                        <p>{t(Msg::HomeActivateText)}</p>
                    </li>
                </ul>
            }
        }/>
    }
}
