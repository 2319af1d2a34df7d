//! `/helpdesk/invitation?email=`: an address's invitations, and resend or revoke.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use super::{ActionPanel, Outcome, OutcomeNotice, refused, use_outcome};
use crate::{
    api::helpdesk::{
        HelpdeskAct, HelpdeskAction, InvitationView, invitation_state_text,
        load_helpdesk_invitation,
    },
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn HelpdeskInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let act = ServerAction::<HelpdeskAct>::new();
    let outcome = use_outcome();
    let data = Resource::new(
        move || {
            (
                query.read().get("email").unwrap_or_default(),
                location.search.get(),
                act.version().get(),
            )
        },
        |(email, _, _)| load_helpdesk_invitation(email),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Invitation view outcome=outcome.get() act/> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Invitation(
    view: InvitationView,
    outcome: Outcome,
    act: ServerAction<HelpdeskAct>,
) -> impl IntoView {
    let locale = use_locale();
    let title = locale.format(Msg::HelpdeskInvitationTitle, &[("email", &view.email)]);
    let list = if view.invitations.is_empty() {
        view! { <p>{t(Msg::HelpdeskInvitationNone)}</p> }.into_any()
    } else {
        let rows = view
            .invitations
            .iter()
            .map(|i| {
                view! {
                    <tr>
                        <td>{t(invitation_state_text(&i.state))}</td>
                        <td>{i.sent.clone()}</td>
                        <td>{i.expires.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{t(Msg::HelpdeskColState)}</th>
                        <th scope="col">{t(Msg::HelpdeskColSent)}</th>
                        <th scope="col">{t(Msg::HelpdeskColExpires)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let mut actions = Vec::new();
    if !view.has_account && !view.invitations.is_empty() {
        actions.push(HelpdeskAction::ResendInvitation);
    }
    if view.invitations.iter().any(|i| i.state == "pending") {
        actions.push(HelpdeskAction::RevokeInvitation);
    }
    if let Some((refused, _)) = outcome.refused
        && refused.on_invitation()
        && !actions.contains(&refused)
    {
        actions.push(refused);
    }
    let panels = actions
        .into_iter()
        .map(|action| {
            let error = outcome
                .refused
                .filter(|(a, _)| *a == action)
                .map(|(_, msg)| msg);
            view! { <ActionPanel action act email=view.email.clone() error/> }
        })
        .collect_view();
    view! {
        <Title text=title.clone()/>
        <h1 tabindex="-1">{title}</h1>
        <OutcomeNotice outcome=outcome.clone()/>
        {view.has_account.then(|| view! { <p class="notice">{t(Msg::HelpdeskInvitationAccountNotice)}</p> })}
        {list}
        <section aria-labelledby="actions-title">
            <h2 id="actions-title">{t(Msg::HelpdeskActionsTitle)}</h2>
            {panels}
        </section>
        <p><a href="/helpdesk">{t(Msg::HelpdeskBackToSearch)}</a></p>
    }
}
