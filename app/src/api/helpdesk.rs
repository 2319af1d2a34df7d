//! The helpdesk console (issue 6): agents (people with the `helpdesk` or `admin` role)
//! find a person, see the account's state and recent audit trail, and act on it:
//! disable security questions (seed 000), unlock, end sessions, issue a new letter, resend
//! or revoke an invitation. Every action takes a reason and is audited with the agent's
//! id. Anyone else gets `AppError::Forbidden` with HTTP 403 from every function here.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;
use crate::i18n::Msg;

/// Most people a search lists.
pub const SEARCH_LIMIT: usize = 20;
/// Longest reason kept (characters).
pub const MAX_REASON_CHARS: usize = 500;

/// What an agent can do; each is one form with its own reason field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelpdeskAction {
    DisableQuestions,
    Unlock,
    EndSessions,
    IssueLetter,
    ResendInvitation,
    RevokeInvitation,
}

impl HelpdeskAction {
    pub const ALL: [HelpdeskAction; 6] = [
        HelpdeskAction::DisableQuestions,
        HelpdeskAction::Unlock,
        HelpdeskAction::EndSessions,
        HelpdeskAction::IssueLetter,
        HelpdeskAction::ResendInvitation,
        HelpdeskAction::RevokeInvitation,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            HelpdeskAction::DisableQuestions => "questions",
            HelpdeskAction::Unlock => "unlock",
            HelpdeskAction::EndSessions => "sessions",
            HelpdeskAction::IssueLetter => "letter",
            HelpdeskAction::ResendInvitation => "resend",
            HelpdeskAction::RevokeInvitation => "revoke",
        }
    }

    pub fn from_code(code: &str) -> Option<HelpdeskAction> {
        HelpdeskAction::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The id of this action's reason field (the error summary links to it).
    pub const fn reason_field(self) -> &'static str {
        match self {
            HelpdeskAction::DisableQuestions => "questions_reason",
            HelpdeskAction::Unlock => "unlock_reason",
            HelpdeskAction::EndSessions => "sessions_reason",
            HelpdeskAction::IssueLetter => "letter_reason",
            HelpdeskAction::ResendInvitation => "resend_reason",
            HelpdeskAction::RevokeInvitation => "revoke_reason",
        }
    }

    /// Whether the action concerns an invitation (by address) rather than a person.
    pub const fn on_invitation(self) -> bool {
        matches!(
            self,
            HelpdeskAction::ResendInvitation | HelpdeskAction::RevokeInvitation
        )
    }

    pub const fn title(self) -> Msg {
        match self {
            HelpdeskAction::DisableQuestions => Msg::HelpdeskActionQuestions,
            HelpdeskAction::Unlock => Msg::HelpdeskActionUnlock,
            HelpdeskAction::EndSessions => Msg::HelpdeskActionSessions,
            HelpdeskAction::IssueLetter => Msg::HelpdeskActionLetter,
            HelpdeskAction::ResendInvitation => Msg::HelpdeskActionResend,
            HelpdeskAction::RevokeInvitation => Msg::HelpdeskActionRevoke,
        }
    }

    pub const fn help(self) -> Msg {
        match self {
            HelpdeskAction::DisableQuestions => Msg::HelpdeskActionQuestionsHelp,
            HelpdeskAction::Unlock => Msg::HelpdeskActionUnlockHelp,
            HelpdeskAction::EndSessions => Msg::HelpdeskActionSessionsHelp,
            HelpdeskAction::IssueLetter => Msg::HelpdeskActionLetterHelp,
            HelpdeskAction::ResendInvitation => Msg::HelpdeskActionResendHelp,
            HelpdeskAction::RevokeInvitation => Msg::HelpdeskActionRevokeHelp,
        }
    }

    /// The notice after the action succeeded.
    pub const fn done(self) -> Msg {
        match self {
            HelpdeskAction::DisableQuestions => Msg::HelpdeskDoneQuestions,
            HelpdeskAction::Unlock => Msg::HelpdeskDoneUnlock,
            HelpdeskAction::EndSessions => Msg::HelpdeskDoneSessions,
            HelpdeskAction::IssueLetter => Msg::HelpdeskDoneLetter,
            HelpdeskAction::ResendInvitation => Msg::HelpdeskDoneResend,
            HelpdeskAction::RevokeInvitation => Msg::HelpdeskDoneRevoke,
        }
    }
}

/// A person as a list or a page shows them. `state` and `category` are codes the page
/// translates (`state_text`, `category_text`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: String,
    pub login: String,
    pub name: String,
    pub category: String,
    pub state: String,
}

/// An account state's name.
pub fn state_text(state: &str) -> Msg {
    match state {
        "pending" => Msg::HelpdeskStatePending,
        "active" => Msg::HelpdeskStateActive,
        "disabled" => Msg::HelpdeskStateDisabled,
        _ => Msg::HelpdeskUnknown,
    }
}

/// A category's name.
pub fn category_text(category: &str) -> Msg {
    match category {
        "permanent-staff" => Msg::HelpdeskCategoryPermanentStaff,
        "temporary-staff" => Msg::HelpdeskCategoryTemporaryStaff,
        "retiree" => Msg::HelpdeskCategoryRetiree,
        "student" => Msg::HelpdeskCategoryStudent,
        "external" => Msg::HelpdeskCategoryExternal,
        _ => Msg::HelpdeskUnknown,
    }
}

/// An invitation's state's name (pending, expired, used, revoked, replaced).
pub fn invitation_state_text(state: &str) -> Msg {
    match state {
        "pending" => Msg::HelpdeskInvitationPending,
        "expired" => Msg::HelpdeskInvitationExpired,
        "used" => Msg::HelpdeskInvitationUsed,
        "revoked" => Msg::HelpdeskInvitationRevoked,
        "replaced" => Msg::HelpdeskInvitationReplaced,
        _ => Msg::HelpdeskUnknown,
    }
}

/// An invitation, its times already written in the institution's time zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSummary {
    pub email: String,
    pub state: String,
    pub sent: String,
    pub expires: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    pub query: String,
    pub people: Vec<PersonSummary>,
    /// More people matched than the list shows.
    pub more: bool,
    /// Invitations to the address searched for (people invited who have no account yet).
    pub invitations: Vec<InvitationSummary>,
}

/// The recovery methods a person has, never their secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodsSummary {
    pub questions: bool,
    pub authenticator: bool,
    /// The recovery address, masked (`a***@example.org`).
    pub recovery_email: Option<String>,
    /// An employee number and a PIN on file.
    pub pin: bool,
    /// A date of birth and SIN digits on file.
    pub identity: bool,
}

/// An account in another system the person linked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    /// The system's name, as configured (a system since removed shows its id).
    pub system: super::portal::LocalizedText,
    pub account: String,
}

/// One line of the person's audit trail: no detail beyond the outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: String,
    pub kind: String,
    /// What came of it, as a code (`wrong_code`), if the event records one.
    pub outcome: Option<String>,
    /// The flow's step it happened at, as a code (`new_password`), if any.
    pub step: Option<String>,
    /// Done by someone else (an operator, an agent).
    pub by_other: bool,
}

impl AuditLine {
    /// The event's name: the message `audit.<kind>`, or `None` for a kind this version of
    /// the page does not know (a newer instance's), which then shows its code.
    pub fn kind_name(&self) -> Option<Msg> {
        Msg::from_key(&format!("audit.{}", self.kind))
    }

    /// The outcome split as [`outcome_parts`] does.
    pub fn outcome_parts(&self) -> Option<(&str, Option<&str>)> {
        self.outcome.as_deref().map(outcome_parts)
    }
}

/// An outcome code is `name` or `name:detail`, the detail being a recovery method
/// (`proven:totp`, named like the step: see [`detail_is_method`]) or a value shown as it is
/// (`charter_accepted:2024-09`).
pub fn outcome_parts(code: &str) -> (&str, Option<&str>) {
    match code.split_once(':') {
        Some((name, detail)) => (name, Some(detail)),
        None => (code, None),
    }
}

/// The outcomes of the password recovery flow whose detail is the recovery method chosen or
/// proven (server/src/flows/password writes them).
const OUTCOMES_NAMING_A_METHOD: &[&str] =
    &["chose", "proven", "proven_more_needed", "proven_no_way_on"];

/// Whether the detail of the outcome `name` is a recovery method, shown by its step's name
/// ([`step_name`]) rather than as it is.
pub fn detail_is_method(name: &str) -> bool {
    OUTCOMES_NAMING_A_METHOD.contains(&name)
}

/// The message `audit.outcome.<name>` of an outcome's name, if there is one; a name this
/// version does not know (a newer instance's) is shown as its code.
pub fn outcome_name(name: &str) -> Option<Msg> {
    Msg::from_key(&format!("audit.outcome.{name}"))
}

/// The message `audit.step.<code>` of a flow's step (or a recovery method), if any.
pub fn step_name(code: &str) -> Option<Msg> {
    Msg::from_key(&format!("audit.step.{code}"))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub person: PersonSummary,
    pub language: String,
    /// The agent's own account: they may look, not act.
    pub is_self: bool,
    pub methods: MethodsSummary,
    pub sessions: i64,
    /// Failure counters that lock the person out now.
    pub locks: u64,
    /// When the last letter was issued (pending accounts).
    pub letter_issued: Option<String>,
    pub invitation: Option<InvitationSummary>,
    pub linked: Vec<LinkedAccount>,
    pub events: Vec<AuditLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub email: String,
    pub invitations: Vec<InvitationSummary>,
    /// Someone already signs in with this address: no invitation can be resent.
    pub has_account: bool,
}

/// A letter to print, shown once: `None` once shown, or expired.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterView {
    pub login: String,
    pub person_id: String,
    /// The letter as `sesame admin letters` writes it (one `<article>`, escaped HTML).
    pub html: Option<String>,
}

/// What an action is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActTarget {
    Person(String),
    Invitation(String),
}

/// Where the page goes after an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActOutcome {
    Done,
    /// Refused (reason missing, own account, not possible in this state...).
    Refused(Msg),
    /// A letter was issued: show it once from this flow.
    Letter {
        flow: String,
    },
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait HelpdeskApi: Send + Sync {
    async fn search(
        &self,
        meta: &super::ssr::RequestMeta,
        query: String,
    ) -> Result<SearchView, AppError>;
    async fn person(
        &self,
        meta: &super::ssr::RequestMeta,
        id: String,
    ) -> Result<PersonView, AppError>;
    async fn invitation(
        &self,
        meta: &super::ssr::RequestMeta,
        email: String,
    ) -> Result<InvitationView, AppError>;
    /// Opens the letter once: the provisional password cannot be shown again.
    async fn letter(
        &self,
        meta: &super::ssr::RequestMeta,
        flow: String,
    ) -> Result<LetterView, AppError>;
    async fn act(
        &self,
        meta: &super::ssr::RequestMeta,
        target: ActTarget,
        action: HelpdeskAction,
        reason: String,
    ) -> Result<ActOutcome, AppError>;
}

/// A value for a URL's query string.
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Refusals of the console answer HTTP 403, whoever asks.
#[cfg(feature = "ssr")]
fn guarded<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if matches!(result, Err(AppError::Forbidden))
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    result
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_helpdesk_search(query: Option<String>) -> Result<SearchView, AppError> {
    let meta = super::ssr::request_meta()?;
    let service = super::ssr::services()?.helpdesk;
    guarded(service.search(&meta, query.unwrap_or_default()).await)
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_helpdesk_person(id: String) -> Result<PersonView, AppError> {
    let meta = super::ssr::request_meta()?;
    guarded(super::ssr::services()?.helpdesk.person(&meta, id).await)
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_helpdesk_invitation(email: String) -> Result<InvitationView, AppError> {
    let meta = super::ssr::request_meta()?;
    guarded(
        super::ssr::services()?
            .helpdesk
            .invitation(&meta, email)
            .await,
    )
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_helpdesk_letter(flow: String) -> Result<LetterView, AppError> {
    let meta = super::ssr::request_meta()?;
    guarded(super::ssr::services()?.helpdesk.letter(&meta, flow).await)
}

/// One action on a person (`person`: their id) or on an invitation (`email`); the page
/// after it says how it went.
#[server(prefix = "/api")]
pub async fn helpdesk_act(
    csrf: String,
    action: String,
    reason: String,
    person: Option<String>,
    email: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let service = services()?.helpdesk;
    let Some(action) = HelpdeskAction::from_code(&action) else {
        return guarded(Err(AppError::Forbidden));
    };
    let (target, page) = match (action.on_invitation(), person, email) {
        (false, Some(id), _) => (
            ActTarget::Person(id.clone()),
            format!("/helpdesk/person/{}", query_value(&id)),
        ),
        (true, _, Some(email)) => (
            ActTarget::Invitation(email.clone()),
            format!("/helpdesk/invitation?email={}", query_value(&email)),
        ),
        _ => return guarded(Err(AppError::Forbidden)),
    };
    let join = if page.contains('?') { '&' } else { '?' };
    match guarded(service.act(&meta, target, action, reason).await)? {
        ActOutcome::Done => redirect_to(&format!("{page}{join}done={}", action.code())),
        ActOutcome::Refused(msg) => redirect_to(&format!(
            "{page}{join}action={}&error={}",
            action.code(),
            msg.key()
        )),
        ActOutcome::Letter { flow } => redirect_to(&format!("/helpdesk/letter?flow={flow}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_code_is_named_by_its_first_part_and_keeps_its_detail() {
        assert_eq!(outcome_parts("wrong_code"), ("wrong_code", None));
        assert_eq!(outcome_parts("proven:totp"), ("proven", Some("totp")));
        assert_eq!(
            outcome_parts("charter_accepted:2024-09"),
            ("charter_accepted", Some("2024-09"))
        );
        assert_eq!(outcome_name("proven"), Some(Msg::AuditOutcomeProven));
        // A method in the detail is named like the flow's step; another detail is a value.
        assert!(detail_is_method("proven") && detail_is_method("chose"));
        assert!(!detail_is_method("charter_accepted"));
        assert_eq!(step_name("totp"), Some(Msg::AuditStepTotp));
        // A code a newer instance wrote has no text here: the page shows the code.
        assert_eq!(outcome_name("something_new"), None);
    }
}
