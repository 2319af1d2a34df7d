use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    api::{methods::load_recovery_methods, password::RecoveryMethod, signin::SignOut},
    components::{form::CsrfField, portal::WithPortal},
    i18n::Msg,
    t, use_locale,
};

/// "My account": who is signed in, the authorized-use notice (seed 002), sign out.
#[component]
pub fn AccountPage() -> impl IntoView {
    let locale = use_locale();
    let sign_out = ServerAction::<SignOut>::new();
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
                <section class="panel" aria-labelledby="settings-title">
                    <h2 id="settings-title">{t(Msg::AccountSettingsTitle)}</h2>
                    <ul class="links">
                        <li><a href="/account/password">{t(Msg::AccountChangePassword)}</a></li>
                        <li><a href="/account/sessions">{t(Msg::AccountSessions)}</a></li>
                        <li><a href="/account/linked">{t(Msg::AccountLinked)}</a></li>
                    </ul>
                </section>
                <RecoveryMethods/>
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

/// What is set up to recover the account, and what the institution asks for.
#[component]
fn RecoveryMethods() -> impl IntoView {
    let locale = use_locale();
    let overview = Resource::new(|| (), |_| load_recovery_methods());
    view! {
        <section class="panel" aria-labelledby="methods-title">
            <h2 id="methods-title">{t(Msg::MethodsTitle)}</h2>
            <p>{t(Msg::MethodsIntro)}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let state = overview.await.unwrap_or_default();
                    let rows = state
                        .methods
                        .iter()
                        .map(|status| {
                            let state_text = match (&status.detail, status.set_up) {
                                (Some(email), true) => locale.format(Msg::MethodsEmailTo, &[("email", email)]),
                                (_, true) => t(Msg::MethodsSetUp).to_owned(),
                                (_, false) => t(Msg::MethodsNotSetUp).to_owned(),
                            };
                            view! {
                                <dt>{t(status.method.name())}</dt>
                                <dd>{state_text}</dd>
                            }
                        })
                        .collect_view();
                    let names = |methods: &[RecoveryMethod]| {
                        methods.iter().map(|m| t(m.name())).collect::<Vec<_>>().join(" + ")
                    };
                    let required = if state.sufficient.is_empty() {
                        view! { <p>{t(Msg::MethodsNoneRequired)}</p> }.into_any()
                    } else {
                        let combinations = state
                            .sufficient
                            .iter()
                            .map(|combination| view! { <li>{names(combination)}</li> })
                            .collect_view();
                        let plus = (!state.plus_if_enrolled.is_empty()).then(|| {
                            view! {
                                <p>{locale.format(Msg::MethodsPlusIfEnrolled, &[("methods", &names(&state.plus_if_enrolled))])}</p>
                            }
                        });
                        view! {
                            <p>{t(Msg::MethodsRequiredIntro)}</p>
                            <ul>{combinations}</ul>
                            {plus}
                        }
                            .into_any()
                    };
                    view! {
                        <dl class="methods">{rows}</dl>
                        <ul class="links">
                            <li><a href="/account/email">{t(Msg::MethodsChangeEmail)}</a></li>
                            <li><a href="/account/questions">{t(Msg::MethodsChangeQuestions)}</a></li>
                            <li><a href="/account/authenticator">{t(Msg::MethodsChangeAuthenticator)}</a></li>
                        </ul>
                        {required}
                    }
                })}
            </Transition>
        </section>
    }
}
