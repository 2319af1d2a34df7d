//! "Can't sign in?" (seed 003): one address field; afterwards the same page whatever
//! the address (an activation mail, a reset mail, or nothing was sent).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::signup::{RequestSignInHelp, load_cant_sign_in},
    components::{
        bot_check::BotCheck,
        client::LoadClient,
        error_summary::{ErrorSummary, step_problems},
        form::{CsrfField, TextField},
        portal::WithPortal,
    },
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn CantSignInPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<RequestSignInHelp>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let sent = move || query.read().get("sent").is_some();
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_cant_sign_in(flow),
    );
    view! {
        <Title text=t(Msg::CantSigninTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if sent() {
                    return view! {
                        <h1 tabindex="-1">{t(Msg::CantSigninSentTitle)}</h1>
                        <p class="lead" role="status">{t(Msg::CantSigninSentText)}</p>
                        <p>{t(Msg::CantSigninSentDelay)}</p>
                        <p><a class="button" href="/signin">{t(Msg::SignupSignIn)}</a></p>
                    }
                        .into_any();
                }
                let error = state.error.clone();
                let email_error = state
                    .error
                    .as_ref()
                    .filter(|e| e.field.as_deref() == Some("email"))
                    .map(|e| e.text(locale));
                view! {
                    <h1 tabindex="-1">{t(Msg::CantSigninTitle)}</h1>
                    {move || {
                        step_problems(locale, None, error.as_ref(), &["email"])
                            .map(|problems| view! { <ErrorSummary problems/> })
                    }}
                    <p>{t(Msg::CantSigninIntro)}</p>
                    <ActionForm action attr:class="form" attr:novalidate="">
                        <CsrfField/>
                        <TextField
                            id="email"
                            name="form[email]"
                            label=Msg::CantSigninEmailLabel
                            input_type="email"
                            autocomplete="email"
                            autocapitalize_off=true
                            error=email_error
                            value=state.email.clone()
                        />
                        <LoadClient/>
                        <BotCheck challenge=state.bot_challenge.clone()/>
                        <div class="form-actions">
                            <button type="submit" class="button">
                                {t(Msg::CantSigninSubmit)}
                            </button>
                        </div>
                    </ActionForm>
                    <WithPortal children=move |portal| {
                        let institution = portal.institution;
                        view! {
                            <h2>{t(Msg::CantSigninOtherTitle)}</h2>
                            <p>{t(Msg::CantSigninForgotUsername)}" "<a href="/forgot-username">{t(Msg::SigninForgotUsername)}</a></p>
                            <p>
                                {locale.format(
                                    Msg::CantSigninHelpdesk,
                                    &[("phone", &institution.helpdesk_phone), ("hours", institution.helpdesk_hours.get(locale))],
                                )}
                            </p>
                        }
                    }/>
                    <p><a href="/signin">{t(Msg::CantSigninBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}
