//! The helpdesk console (issue 6): find a person (`/helpdesk`), their account and the
//! actions on it (`/helpdesk/person/:id`), a letter to print once (`/helpdesk/letter`),
//! and an address's invitations (`/helpdesk/invitation`). Visitors are sent to sign-in;
//! people without the helpdesk role get a 403 page.

mod invitation;
mod letter;
mod person;
mod search;

pub use invitation::HelpdeskInvitationPage;
pub use letter::HelpdeskLetterPage;
pub use person::HelpdeskPersonPage;
pub use search::HelpdeskSearchPage;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::{
        AppError,
        helpdesk::{HelpdeskAct, HelpdeskAction},
        portal::LoadedPortal,
    },
    components::{
        error_summary::{ErrorSummary, Problem},
        form::{CsrfField, TextField},
    },
    i18n::Msg,
    t, use_locale,
};

/// What a console page shows when its data did not load: sign-in for a visitor, the
/// 403 page for someone without the role, else the error's message.
fn refused(error: AppError) -> AnyView {
    match error {
        AppError::Forbidden => view! { <NotAllowed/> }.into_any(),
        other => view! {
            <Title text=t(Msg::HelpdeskTitle)/>
            <h1 tabindex="-1">{t(Msg::HelpdeskTitle)}</h1>
            <p class="notice notice--error" role="alert">{t(other.message())}</p>
            <p><a href="/helpdesk">{t(Msg::HelpdeskBackToSearch)}</a></p>
        }
        .into_any(),
    }
}

/// "Access denied", with HTTP 403; a visitor who is not signed in goes to sign-in.
#[component]
fn NotAllowed() -> impl IntoView {
    let signed_in = LoadedPortal::current()
        .ok()
        .and_then(|p| p.person)
        .is_some();
    if !signed_in {
        return view! { <Redirect path="/signin"/> }.into_any();
    }
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text=t(Msg::HelpdeskForbiddenTitle)/>
        <h1 tabindex="-1">{t(Msg::HelpdeskForbiddenTitle)}</h1>
        <p>{t(Msg::HelpdeskForbiddenText)}</p>
        <p><a href="/">{t(Msg::ErrorBackHome)}</a></p>
    }
    .into_any()
}

/// The outcome the page after an action carries in its address: `?done=<action>`, or
/// `?action=<action>&error=<message id>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Outcome {
    done: Option<HelpdeskAction>,
    refused: Option<(HelpdeskAction, Msg)>,
}

fn use_outcome() -> Memo<Outcome> {
    let query = use_query_map();
    Memo::new(move |_| {
        let query = query.read();
        let done = query
            .get("done")
            .and_then(|code| HelpdeskAction::from_code(&code));
        // Only the console's own messages: the address cannot make the page say anything.
        let refused = query
            .get("action")
            .and_then(|code| HelpdeskAction::from_code(&code))
            .zip(
                query
                    .get("error")
                    .and_then(|key| Msg::from_key(&key))
                    .filter(|msg| msg.key().starts_with("helpdesk.")),
            );
        Outcome { done, refused }
    })
}

/// The success notice, or the error summary (a refusal carried by the address).
#[component]
fn OutcomeNotice(outcome: Outcome) -> impl IntoView {
    let locale = use_locale();
    let problems = move || -> Option<Vec<Problem>> {
        outcome.refused.map(|(action, msg)| {
            vec![Problem {
                message: locale.text(msg).to_owned(),
                field_id: (msg == Msg::HelpdeskReasonRequired)
                    .then(|| action.reason_field().into()),
            }]
        })
    };
    view! {
        {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
        {outcome.done.map(|action| view! {
            <p class="notice notice--success" role="status">{t(action.done())}</p>
        })}
    }
}

/// One action: its title, what it does, a required reason and its button.
#[component]
fn ActionPanel(
    action: HelpdeskAction,
    act: ServerAction<HelpdeskAct>,
    #[prop(optional)] person: Option<String>,
    #[prop(optional)] email: Option<String>,
    #[prop(default = None)] error: Option<Msg>,
) -> impl IntoView {
    let title_id = format!("action-{}-title", action.code());
    let labelled_by = title_id.clone();
    let error = error.map(|msg| t(msg).to_owned());
    view! {
        <section class="panel helpdesk-action" aria-labelledby=labelled_by>
            <h3 id=title_id>{t(action.title())}</h3>
            <p>{t(action.help())}</p>
            <ActionForm action=act attr:class="form" attr:novalidate="">
                <CsrfField/>
                <input type="hidden" name="action" value=action.code()/>
                {person.map(|id| view! { <input type="hidden" name="person" value=id/> })}
                {email.map(|email| view! { <input type="hidden" name="email" value=email/> })}
                <TextField
                    id=action.reason_field()
                    name="reason"
                    label=Msg::HelpdeskReasonLabel
                    hint=Msg::HelpdeskReasonHint
                    autocomplete="off"
                    error
                />
                <div class="form-actions">
                    <button type="submit" class="button">{t(action.title())}</button>
                </div>
            </ActionForm>
        </section>
    }
}
