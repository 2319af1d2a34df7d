//! `/helpdesk/person/:id`: one person's account, recovery methods, sessions, invitation,
//! linked accounts and recent audit trail, then the actions an agent can take.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use super::{ActionPanel, Outcome, OutcomeNotice, refused, use_outcome};
use crate::{
    api::helpdesk::{
        HelpdeskAct, HelpdeskAction, PersonView, category_text, detail_is_method,
        invitation_state_text, load_helpdesk_person, outcome_name, state_text, step_name,
    },
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn HelpdeskPersonPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let act = ServerAction::<HelpdeskAct>::new();
    let outcome = use_outcome();
    // Loaded again after each action (the address's outcome changes with it).
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                location.search.get(),
                act.version().get(),
            )
        },
        |(id, _, _)| load_helpdesk_person(id),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Person view outcome=outcome.get() act/> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

fn set_up(yes: bool) -> &'static str {
    t(if yes {
        Msg::HelpdeskSetUp
    } else {
        Msg::HelpdeskNotSetUp
    })
}

#[component]
fn Person(view: PersonView, outcome: Outcome, act: ServerAction<HelpdeskAct>) -> impl IntoView {
    let locale = use_locale();
    let person = view.person.clone();
    let title = locale.format(Msg::HelpdeskPersonTitle, &[("name", &person.name)]);
    let language = match view.language.as_str() {
        "en" => t(Msg::HelpdeskLanguageEn),
        _ => t(Msg::HelpdeskLanguageFr),
    };
    let methods = &view.methods;
    let email = methods
        .recovery_email
        .clone()
        .unwrap_or_else(|| t(Msg::HelpdeskNotSetUp).to_owned());
    let invitation = match &view.invitation {
        Some(i) => format!(
            "{} · {} · {}",
            i.email,
            t(invitation_state_text(&i.state)),
            i.sent
        ),
        None => t(Msg::HelpdeskNone).to_owned(),
    };
    let linked = if view.linked.is_empty() {
        view! { <p>{t(Msg::HelpdeskLinkedNone)}</p> }.into_any()
    } else {
        let items = view
            .linked
            .iter()
            .map(|a| view! { <dt>{a.system.get(locale).to_owned()}</dt><dd>{a.account.clone()}</dd> })
            .collect_view();
        view! { <dl class="summary">{items}</dl> }.into_any()
    };
    let events = if view.events.is_empty() {
        view! { <p>{t(Msg::HelpdeskEventsNone)}</p> }.into_any()
    } else {
        let rows = view
            .events
            .iter()
            .map(|e| {
                let by = t(if e.by_other {
                    Msg::HelpdeskByOther
                } else {
                    Msg::HelpdeskByPerson
                });
                let kind = text_or_code(e.kind_name(), &e.kind);
                let outcome = e.outcome_parts().map(|(name, detail)| {
                    let detail = detail.map(|detail| {
                        let text = step_name(detail)
                            .filter(|_| detail_is_method(name))
                            .map_or_else(|| detail.to_owned(), |m| t(m).to_owned());
                        view! { " · " {text} }
                    });
                    view! { {text_or_code(outcome_name(name), name)} {detail} }
                });
                let step = e.step.as_deref().map(|code| {
                    view! { " (" {text_or_code(step_name(code), code)} ")" }
                });
                view! {
                    <tr>
                        <td>{e.at.clone()}</td>
                        <td>{kind}</td>
                        <td>{outcome}{step}</td>
                        <td>{by}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{t(Msg::HelpdeskColTime)}</th>
                        <th scope="col">{t(Msg::HelpdeskColKind)}</th>
                        <th scope="col">{t(Msg::HelpdeskColOutcome)}</th>
                        <th scope="col">{t(Msg::HelpdeskColBy)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    // The actions that make sense for this account (the server checks again).
    let mut actions = Vec::new();
    if view.methods.questions {
        actions.push(HelpdeskAction::DisableQuestions);
    }
    actions.push(HelpdeskAction::Unlock);
    actions.push(HelpdeskAction::EndSessions);
    if person.state == "pending" || person.state == "active" {
        actions.push(HelpdeskAction::IssueLetter);
    }
    // A refused action keeps its panel even if the account changed meanwhile.
    if let Some((refused, _)) = outcome.refused
        && !actions.contains(&refused)
        && !refused.on_invitation()
    {
        actions.push(refused);
    }
    let panels = if view.is_self {
        view! { <p class="notice">{t(Msg::HelpdeskSelfNotice)}</p> }.into_any()
    } else {
        actions
            .into_iter()
            .map(|action| {
                let error = outcome
                    .refused
                    .filter(|(a, _)| *a == action)
                    .map(|(_, msg)| msg);
                view! { <ActionPanel action act person=person.id.clone() error/> }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <Title text=title.clone()/>
        <h1 tabindex="-1">{title}</h1>
        <OutcomeNotice outcome=outcome.clone()/>
        <section class="panel" aria-labelledby="account-title">
            <h2 id="account-title">{t(Msg::HelpdeskAccountTitle)}</h2>
            <dl class="summary">
                <dt>{t(Msg::HelpdeskLogin)}</dt>
                <dd>{person.login.clone()}</dd>
                <dt>{t(Msg::HelpdeskState)}</dt>
                <dd>{t(state_text(&person.state))}</dd>
                <dt>{t(Msg::HelpdeskCategory)}</dt>
                <dd>{t(category_text(&person.category))}</dd>
                <dt>{t(Msg::HelpdeskLanguage)}</dt>
                <dd>{language}</dd>
                <dt>{t(Msg::HelpdeskSessions)}</dt>
                <dd>{view.sessions.to_string()}</dd>
                <dt>{t(Msg::HelpdeskLocks)}</dt>
                <dd>{view.locks.to_string()}</dd>
                <dt>{t(Msg::HelpdeskLetterIssued)}</dt>
                <dd>{view.letter_issued.clone().unwrap_or_else(|| t(Msg::HelpdeskNone).to_owned())}</dd>
                <dt>{t(Msg::HelpdeskInvitation)}</dt>
                <dd>{invitation}</dd>
            </dl>
        </section>
        <section class="panel" aria-labelledby="methods-title">
            <h2 id="methods-title">{t(Msg::HelpdeskMethodsTitle)}</h2>
            <dl class="summary methods">
                <dt>{t(Msg::HelpdeskMethodQuestions)}</dt>
                <dd>{set_up(methods.questions)}</dd>
                <dt>{t(Msg::HelpdeskMethodAuthenticator)}</dt>
                <dd>{set_up(methods.authenticator)}</dd>
                <dt>{t(Msg::HelpdeskMethodEmail)}</dt>
                <dd>{email}</dd>
                <dt>{t(Msg::HelpdeskMethodPin)}</dt>
                <dd>{set_up(methods.pin)}</dd>
                <dt>{t(Msg::HelpdeskMethodIdentity)}</dt>
                <dd>{set_up(methods.identity)}</dd>
            </dl>
        </section>
        <section class="panel" aria-labelledby="linked-title">
            <h2 id="linked-title">{t(Msg::HelpdeskLinkedTitle)}</h2>
            {linked}
        </section>
        <section class="panel" aria-labelledby="events-title">
            <h2 id="events-title">{t(Msg::HelpdeskEventsTitle)}</h2>
            {events}
        </section>
        <section aria-labelledby="actions-title">
            <h2 id="actions-title">{t(Msg::HelpdeskActionsTitle)}</h2>
            {panels}
        </section>
        <p><a href="/helpdesk">{t(Msg::HelpdeskBackToSearch)}</a></p>
    }
}

/// A stored code's text, or the code itself when this version has no text for it (an event
/// a newer instance wrote).
fn text_or_code(name: Option<Msg>, code: &str) -> AnyView {
    match name {
        Some(name) => t(name).into_any(),
        None => view! { <code>{code.to_owned()}</code> }.into_any(),
    }
}
