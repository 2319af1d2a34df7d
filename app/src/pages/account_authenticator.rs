//! "My account → Authenticator app": enrol an app from a QR code or its secret, confirmed
//! by one code; replace or remove it. Every step is a plain form post, so it works
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::authenticator::{
        AuthenticatorSetup, AuthenticatorView, ChangeAuthenticator, load_authenticator,
    },
    components::{
        error_summary::{ErrorSummary, Problem, step_problems},
        form::{CsrfField, TextField},
    },
    i18n::Msg,
    t, use_locale,
};

type ChangeAction = ServerAction<ChangeAuthenticator>;

#[component]
pub fn AccountAuthenticatorPage() -> impl IntoView {
    let locale = use_locale();
    let action = ChangeAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let saved = move || query.read().get("saved").is_some();
    let removed = move || query.read().get("removed").is_some();
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_authenticator(flow),
    );
    view! {
        <Title text=t(Msg::AuthenticatorTitle)/>
        <h1 tabindex="-1">{t(Msg::AuthenticatorTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.signed_in {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let error = state.error.clone();
                let problems = move || -> Option<Vec<Problem>> {
                    step_problems(locale, None, error.as_ref(), &["code"])
                };
                let notice = if state.setup.is_some() {
                    None
                } else if saved() && state.enrolled {
                    Some(Msg::AuthenticatorSaved)
                } else if removed() && !state.enrolled {
                    Some(Msg::AuthenticatorRemoved)
                } else {
                    None
                };
                view! {
                    {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
                    {notice.map(|msg| view! {
                        <p class="notice notice--success" role="status">{t(msg)}</p>
                    })}
                    <Body state action/>
                    <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[component]
fn Body(state: AuthenticatorView, action: ChangeAction) -> impl IntoView {
    let locale = use_locale();
    if let Some(setup) = state.setup {
        let error = state
            .error
            .as_ref()
            .filter(|e| e.field.as_deref() == Some("code"))
            .map(|e| e.text(locale));
        return view! { <Setup setup error action/> }.into_any();
    }
    if state.enrolled {
        return view! {
            <p>{t(Msg::AuthenticatorEnrolledText)}</p>
            <IntentForm action intent="start" submit=Msg::AuthenticatorReplace secondary=true/>
            <IntentForm action intent="remove" submit=Msg::AuthenticatorRemove secondary=true/>
        }
        .into_any();
    }
    view! {
        <p>{t(Msg::AuthenticatorIntro)}</p>
        <IntentForm action intent="start" submit=Msg::AuthenticatorStart/>
    }
    .into_any()
}

/// The enrolment: the QR code, the same secret as text, and the code that confirms it.
#[component]
fn Setup(setup: AuthenticatorSetup, error: Option<String>, action: ChangeAction) -> impl IntoView {
    let flow = setup.flow.clone();
    let cancel_flow = setup.flow.clone();
    view! {
        <ol class="steps">
            <li>{t(Msg::AuthenticatorStepOpen)}</li>
            <li>{t(Msg::AuthenticatorStepScan)}</li>
            <li>{t(Msg::AuthenticatorStepType)}</li>
        </ol>
        <div class="qr" role="img" aria-label=t(Msg::AuthenticatorQrLabel) inner_html=setup.qr_svg></div>
        <h2>{t(Msg::AuthenticatorManualTitle)}</h2>
        <p>{t(Msg::AuthenticatorManualIntro)}</p>
        <dl class="methods">
            <dt>{t(Msg::AuthenticatorSecretLabel)}</dt>
            <dd><code class="secret" id="authenticator-secret">{setup.secret}</code></dd>
            <dt>{t(Msg::AuthenticatorAccountLabel)}</dt>
            <dd>{format!("{} ({})", setup.account, setup.issuer)}</dd>
            <dt>{t(Msg::AuthenticatorKindLabel)}</dt>
            <dd>{t(Msg::AuthenticatorKindValue)}</dd>
        </dl>
        <ActionForm action attr:class="form" attr:novalidate="">
            <CsrfField/>
            <input type="hidden" name="flow" value=flow/>
            <input type="hidden" name="form[intent]" value="confirm"/>
            <TextField
                id="code"
                name="form[code]"
                label=Msg::AuthenticatorCodeLabel
                hint=Msg::AuthenticatorCodeHint
                autocomplete="one-time-code"
                inputmode="numeric"
                autocapitalize_off=true
                error
            />
            <div class="form-actions">
                <button type="submit" class="button">
                    {t(Msg::AuthenticatorConfirm)}
                </button>
            </div>
        </ActionForm>
        <IntentForm action intent="cancel" submit=Msg::AuthenticatorCancel secondary=true flow=cancel_flow/>
    }
}

/// A form that is just a button asking for one thing.
#[component]
fn IntentForm(
    action: ChangeAction,
    intent: &'static str,
    submit: Msg,
    #[prop(optional)] secondary: bool,
    #[prop(optional, into)] flow: String,
) -> impl IntoView {
    view! {
        <ActionForm action attr:class="form-actions">
            <CsrfField/>
            {(!flow.is_empty()).then(|| view! { <input type="hidden" name="flow" value=flow/> })}
            <input type="hidden" name="form[intent]" value=intent/>
            <button type="submit" class=if secondary { "button button--secondary" } else { "button" }>
                {t(submit)}
            </button>
        </ActionForm>
    }
}
