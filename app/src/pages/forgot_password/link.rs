//! Where the emailed link lands. Opening it changes nothing (mail scanners open links):
//! the page shows a button, and the button continues the recovery in this browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::password::{RecoveryLinkState, UseRecoveryLink, load_recovery_link},
    components::form::CsrfField,
    i18n::Msg,
    t,
};

#[component]
pub fn RecoveryLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<UseRecoveryLink>::new();
    let link_state = Resource::new(
        move || (token(), action.version().get()),
        |(token, _)| load_recovery_link(token),
    );
    view! {
        <Title text=t(Msg::RecoveryLinkTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match link_state.await.unwrap_or(RecoveryLinkState::Expired) {
                    RecoveryLinkState::Usable => view! {
                        <h1 tabindex="-1">{t(Msg::RecoveryLinkTitle)}</h1>
                        <p>{t(Msg::RecoveryLinkIntro)}</p>
                        <ActionForm action attr:class="form">
                            <CsrfField/>
                            <input type="hidden" name="token" value=token()/>
                            <div class="form-actions">
                                <button type="submit" class="button">{t(Msg::RecoveryLinkConfirm)}</button>
                            </div>
                        </ActionForm>
                    }
                    .into_any(),
                    RecoveryLinkState::Expired => view! {
                        <h1 tabindex="-1">{t(Msg::RecoveryLinkExpiredTitle)}</h1>
                        <p>{t(Msg::RecoveryLinkExpiredText)}</p>
                        <p><a class="button" href="/forgot-password">{t(Msg::RecoveryStartAgain)}</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
