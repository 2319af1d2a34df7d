//! Link other accounts ("Joindre d'autres comptes", seed 002): for each configured system
//! the person types an account name and that system's password; the system itself proves
//! them (see [`crate::linked`]), and only the link is kept, never that password.
//!
//! Wrong passwords count against the person and the account (in [`crate::linked`]): a
//! session left open must not let a stranger use Sésame to guess the other systems'
//! passwords.

use app::{
    api::{
        AppError,
        account::{LinkAccountForm, LinkableSystem, LinkedAccountsView},
        linked::LinkRefusal,
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::Msg,
};
use serde::{Deserialize, Serialize};

use super::Request;
use crate::{error::Result, linked, state::Sesame};

const KIND: &str = "linked_accounts";

/// Account names longer than this are refused before any directory is asked.
const MAX_ACCOUNT_CHARS: usize = 256;

/// What the page shows after a form.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Outcome {
    system: String,
    account: String,
    error: Option<StepError>,
    notice: Option<Msg>,
}

pub(super) async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<LinkedAccountsView> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(LinkedAccountsView::default());
    };
    let links = linked::list(sesame, &request.person.id).await?;
    let systems = linked::systems(&sesame.config)
        .into_iter()
        .map(|system| {
            let link = links.iter().find(|l| l.system_id == system.id);
            LinkableSystem {
                linked_account: link.map(|l| l.account_name.clone()),
                push_pending: link.is_some_and(|l| l.push_pending),
                receives_password: system.push_password,
                id: system.id,
                name: system.name,
            }
        })
        .collect();
    let mut view = LinkedAccountsView {
        signed_in: true,
        systems,
        ..Default::default()
    };
    if let Some(outcome) = request.outcome::<Outcome>(KIND, flow_id.as_deref()).await? {
        view.refused_system = outcome.error.is_some().then_some(outcome.system);
        view.account_typed = outcome.account;
        view.error = outcome.error;
        view.notice = outcome.notice;
    }
    Ok(view)
}

pub(super) async fn link(
    sesame: &Sesame,
    meta: &RequestMeta,
    form: LinkAccountForm,
) -> Result<std::result::Result<Option<String>, AppError>> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let account = form.account.clone().unwrap_or_default().trim().to_owned();
    let outcome = if form.intent.as_deref() == Some("unlink") {
        let removed = linked::unlink(sesame, meta, &request.person.id, &form.system).await?;
        Outcome {
            system: form.system,
            notice: removed.then_some(Msg::LinkedRemoved),
            ..Default::default()
        }
    } else {
        let password = form.password.unwrap_or_default();
        let result = request.link(&form.system, &account, &password).await?;
        Outcome {
            system: form.system,
            account: account.chars().take(MAX_ACCOUNT_CHARS).collect(),
            notice: result.is_ok().then_some(Msg::LinkedAdded),
            error: result.err(),
        }
    };
    // Linked, or unlinked: the form did what was asked.
    if outcome.notice.is_some() {
        crate::metrics::flow_completed(KIND);
    }
    Ok(Ok(Some(request.keep_outcome(KIND, &outcome).await?)))
}

impl Request<'_> {
    async fn link(
        &self,
        system: &str,
        account: &str,
        password: &str,
    ) -> Result<std::result::Result<(), StepError>> {
        let field = |name: &str| format!("{name}-{system}");
        if account.is_empty() || account.chars().count() > MAX_ACCOUNT_CHARS {
            let message = if account.is_empty() {
                Msg::LinkedAccountRequired
            } else {
                Msg::LinkedAccountInvalid
            };
            let field = field("account");
            return Ok(Err(StepError::new(message, Some(&field))));
        }
        if password.is_empty() {
            let field = field("password");
            return Ok(Err(StepError::new(
                Msg::LinkedPasswordRequired,
                Some(&field),
            )));
        }
        let refusal = match linked::link(
            self.sesame,
            self.meta,
            &self.person.id,
            system,
            account,
            password,
        )
        .await?
        {
            Ok(()) => return Ok(Ok(())),
            Err(refusal) => refusal,
        };
        let (message, field_name) = match refusal {
            LinkRefusal::WrongCredentials => (Msg::LinkedWrongCredentials, Some("password")),
            LinkRefusal::InvalidAccountName => (Msg::LinkedAccountInvalid, Some("account")),
            LinkRefusal::Unreachable => (Msg::LinkedUnreachable, None),
            LinkRefusal::AlreadyLinkedElsewhere => (Msg::LinkedElsewhere, Some("account")),
            LinkRefusal::UnknownSystem => (Msg::LinkedUnknownSystem, None),
            LinkRefusal::TooManyAttempts => (Msg::LinkedThrottled, None),
        };
        let field = field_name.map(field);
        Ok(Err(StepError::new(message, field.as_deref())))
    }
}
