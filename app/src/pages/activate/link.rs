//! Where an emailed link lands. Opening it changes nothing (mail scanners open links):
//! the page shows a button, and the button continues the activation in this browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::activation::{LinkState, UseActivationLink, load_activation_link},
    components::form::CsrfField,
    i18n::Msg,
    t,
};

#[component]
pub fn ActivationLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<UseActivationLink>::new();
    let link_state = Resource::new(
        move || (token(), action.version().get()),
        |(token, _)| load_activation_link(token),
    );
    view! {
        <Title text=t(Msg::ActivationLinkTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = link_state.await.unwrap_or(LinkState::Expired);
                match state {
                    LinkState::Usable => view! {
                        <h1 tabindex="-1">{t(Msg::ActivationLinkTitle)}</h1>
                        <p>{t(Msg::ActivationLinkIntro)}</p>
                        <ActionForm action attr:class="form">
                            <CsrfField/>
                            <input type="hidden" name="token" value=token()/>
                            <div class="form-actions">
                                <button type="submit" class="button">{t(Msg::ActivationLinkContinue)}</button>
                            </div>
                        </ActionForm>
                    }
                    .into_any(),
                    LinkState::Expired => view! {
                        <h1 tabindex="-1">{t(Msg::ActivationLinkExpiredTitle)}</h1>
                        <p>{t(Msg::ActivationLinkExpiredText)}</p>
                        <p><a class="button" href="/activate">{t(Msg::ActivationStartAgain)}</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
