use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::signin::{SignIn, SignInView, load_sign_in},
    components::{
        error_summary::{ErrorSummary, Problem},
        form::{CsrfField, TextField},
        portal::WithPortal,
    },
    i18n::{Locale, Msg},
    t, use_locale,
};

/// Sign in with user ID and password (seed 002). A refusal comes back through the
/// server-side flow named in `?flow=`, so it shows the same with or without JavaScript.
#[component]
pub fn SignInPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_sign_in(flow),
    );

    view! {
        <Title text=t(Msg::SigninTitle)/>
        <h1 tabindex="-1">{t(Msg::SigninTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                let flow_id = flow();
                let login = state.login.clone();
                view! {
                    {move || sign_in_problems(locale, &state).map(|problems| view! { <ErrorSummary problems/> })}
                    <p>{t(Msg::SigninIntro)}</p>
                    <ActionForm action attr:class="form" attr:novalidate="">
                        <CsrfField/>
                        {flow_id.map(|id| view! { <input type="hidden" name="flow" value=id/> })}
                        <TextField
                            id="login"
                            name="login"
                            label=Msg::SigninLoginLabel
                            hint=Msg::SigninLoginHint
                            autocomplete="username"
                            autocapitalize_off=true
                            value=login
                        />
                        <TextField
                            id="password"
                            name="password"
                            label=Msg::SigninPasswordLabel
                            autocomplete="current-password"
                            input_type="password"
                        />
                        <div class="form-actions">
                            <button type="submit" class="button">
                                {t(Msg::SigninSubmit)}
                            </button>
                        </div>
                    </ActionForm>
                }
            })}
        </Transition>
        <ul class="links">
            <li><a href="/forgot-password">{t(Msg::SigninForgotPassword)}</a></li>
            <li><a href="/forgot-username">{t(Msg::SigninForgotUsername)}</a></li>
            <li><a href="/cant-sign-in">{t(Msg::SigninCantSignIn)}</a></li>
        </ul>
        <WithPortal children=move |portal| {
            let institution = portal.institution;
            view! {
                <p class="help">
                    {locale
                        .format(
                            Msg::SigninHelp,
                            &[
                                ("phone", &institution.helpdesk_phone),
                                ("hours", institution.helpdesk_hours.get(locale)),
                            ],
                        )}
                </p>
            }
        }/>
    }
}

fn sign_in_problems(locale: Locale, state: &SignInView) -> Option<Vec<Problem>> {
    let message = match state.error {
        Some(Msg::SigninThrottled) => locale.format(
            Msg::SigninThrottled,
            &[("minutes", &state.retry_minutes.unwrap_or(1).to_string())],
        ),
        Some(msg) => locale.text(msg).to_owned(),
        None => return None,
    };
    Some(vec![Problem {
        message,
        field_id: Some("login".into()),
    }])
}
