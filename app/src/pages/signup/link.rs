//! Where the mailed activation link lands. Opening it changes nothing (mail scanners
//! open links): a button activates the account, in any browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::signup::{SignUpLinkState, UseSignUpLink, load_sign_up_link},
    components::form::CsrfField,
    i18n::Msg,
    t,
};

#[component]
pub fn SignUpLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let activated = move || query.read().get("activated").is_some();
    let action = ServerAction::<UseSignUpLink>::new();
    let link_state = Resource::new(
        move || (token(), activated(), action.version().get()),
        |(token, activated, _)| async move {
            if activated {
                Ok(SignUpLinkState::Activated)
            } else {
                load_sign_up_link(token).await
            }
        },
    );
    view! {
        <Title text=t(Msg::SignupLinkTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match link_state.await.unwrap_or_default() {
                    SignUpLinkState::Usable => view! {
                        <h1 tabindex="-1">{t(Msg::SignupLinkTitle)}</h1>
                        <p>{t(Msg::SignupLinkIntro)}</p>
                        <ActionForm action attr:class="form">
                            <CsrfField/>
                            <input type="hidden" name="token" value=token()/>
                            <div class="form-actions">
                                <button type="submit" class="button">{t(Msg::SignupActivate)}</button>
                            </div>
                        </ActionForm>
                    }
                    .into_any(),
                    SignUpLinkState::Activated => view! {
                        <h1 tabindex="-1">{t(Msg::SignupDoneTitle)}</h1>
                        <p class="lead">{t(Msg::SignupLinkDone)}</p>
                        <p><a class="button" href="/signin">{t(Msg::SignupSignIn)}</a></p>
                    }
                    .into_any(),
                    SignUpLinkState::NotValid => view! {
                        <h1 tabindex="-1">{t(Msg::SignupLinkInvalidTitle)}</h1>
                        <p>{t(Msg::SignupLinkInvalidText)}</p>
                        <ul class="links">
                            <li><a href="/signin">{t(Msg::SignupSignIn)}</a></li>
                            <li><a href="/cant-sign-in">{t(Msg::SigninCantSignIn)}</a></li>
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
