use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    components::{form::CsrfField, layout::use_sign_out, portal::WithPortal},
    i18n::Msg,
    t, use_locale,
};

/// "My account": who is signed in, the authorized-use notice (seed 002), sign out.
#[component]
pub fn AccountPage() -> impl IntoView {
    let locale = use_locale();
    let sign_out = use_sign_out();
    view! {
        <Title text=t(Msg::AccountTitle)/>
        <h1 tabindex="-1">{t(Msg::AccountTitle)}</h1>
        <WithPortal children=move |portal| {
            let Some(person) = portal.person else {
                return view! { <Redirect path="/signin"/> }.into_any();
            };
            let institution = portal.institution;
            view! {
                <p class="lead">{locale.format(Msg::AccountGreeting, &[("name", &person.display_name())])}</p>
                <p>{locale.format(Msg::AccountLogin, &[("login", &person.login)])}</p>
                <section class="panel" aria-labelledby="notice-title">
                    <h2 id="notice-title">{t(Msg::AccountNoticeTitle)}</h2>
                    <p>
                        {locale
                            .format(
                                Msg::AccountNotice,
                                &[
                                    ("institution", institution.name.get(locale)),
                                    ("phone", &institution.helpdesk_phone),
                                ],
                            )}
                    </p>
                </section>
                <ActionForm action=sign_out attr:class="form-actions">
                    <CsrfField/>
                    <button type="submit" class="button button--secondary">
                        {t(Msg::AccountSignOut)}
                    </button>
                </ActionForm>
            }
                .into_any()
        }/>
    }
}
