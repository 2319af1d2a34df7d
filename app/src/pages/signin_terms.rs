//! Sign-in, when the terms of use or the privacy policy changed since the person
//! accepted them: the new versions are accepted before anything else.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::signin::{AcceptSignInTerms, load_sign_in_terms},
    components::{
        error_summary::{ErrorSummary, Problem},
        form::{Choice, CsrfField},
    },
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn SignInTermsPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<AcceptSignInTerms>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_sign_in_terms(flow),
    );
    view! {
        <Title text=t(Msg::SigninTermsTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.pending {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let error = state.error.map(|msg| locale.text(msg).to_owned());
                let problems = error.clone().map(|message| {
                    vec![Problem { message, field_id: Some("consent".into()) }]
                });
                view! {
                    <h1 tabindex="-1">{t(Msg::SigninTermsTitle)}</h1>
                    {problems.map(|problems| view! { <ErrorSummary problems/> })}
                    <p>{t(Msg::SigninTermsIntro)}</p>
                    <ul class="links">
                        <li>
                            <a href="/terms" target="_blank" rel="noopener">{t(Msg::LegalTermsTitle)}</a>
                            " "{locale.format(Msg::LegalVersion, &[("version", &state.terms_version)])}
                        </li>
                        <li>
                            <a href="/privacy" target="_blank" rel="noopener">{t(Msg::LegalPrivacyTitle)}</a>
                            " "{locale.format(Msg::LegalVersion, &[("version", &state.privacy_version)])}
                        </li>
                    </ul>
                    <ActionForm action attr:class="form" attr:novalidate="">
                        <CsrfField/>
                        <input type="hidden" name="flow" value=flow().unwrap_or_default()/>
                        <Choice
                            id="consent"
                            name="consent"
                            value="on"
                            kind="checkbox"
                            label=Msg::SignupConsentLabel
                            error=error
                        />
                        <div class="form-actions">
                            <button type="submit" class="button">{t(Msg::SigninTermsAccept)}</button>
                        </div>
                    </ActionForm>
                    <p><a href="/signin">{t(Msg::CantSigninBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}
