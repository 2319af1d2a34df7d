//! The helpdesk console (issue 6): what agents see of a person and what they do for them.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> refused: not signed in, or no helpdesk/admin role (HTTP 403)
//!     [*] --> search: an agent
//!     search --> person: one of the results
//!     person --> person: an action with a reason (audited with the agent's id)
//!     person --> letter: new provisional credentials (pending accounts)
//!     letter --> shown: the letter is opened once, then its flow is used up
//! ```
//!
//! Every action needs a reason (kept in the audit trail) and is refused on the agent's
//! own account. A new letter's provisional password is stored as an argon2id hash like
//! the CLI's letters; for the page that prints it, it is kept sealed (under a key derived
//! from the server key) in a flow bound to the agent's browser, for a few minutes, and
//! that flow is used up when the letter is shown: the password cannot be shown again.

use app::{
    api::{
        AppError,
        helpdesk::{
            ActOutcome, ActTarget, AuditLine, HelpdeskAction, HelpdeskApi, InvitationSummary,
            InvitationView, LetterView, LinkedAccount, MAX_REASON_CHARS, MethodsSummary,
            PersonSummary, PersonView, SEARCH_LIMIT, SearchView,
        },
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
    policy::login::normalize_login,
};
use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    activation::KIND as ACTIVATION_KIND, binding, password::KIND as PASSWORD_RECOVERY_KIND,
    signin::current_person,
};
use crate::{
    crypto::sealed,
    error::{Error, Result},
    invitations::{self as invites, InviteOutcome, Invitee, canonical_address},
    letters::{self, Letter},
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        authenticators,
        flows::{self, NewFlow},
        helpdesk, invitations, new_id,
        people::{self, AccountState, PersonRow},
        questions, recovery, roles, sessions,
    },
};

const LETTER_KIND: &str = "helpdesk_letter";
const LETTER_READY: &str = "ready";
const LETTER_SHOWN: &str = "shown";
/// How long an issued letter waits to be shown.
const LETTER_TTL_SECS: i64 = 10 * 60;
/// The sealing purpose of a letter's password (the flow id is the context).
const LETTER_SEAL: &str = "helpdesk-letter";
/// Lines of the audit trail a person page shows.
const EVENTS_SHOWN: i64 = 20;
/// Longest search text looked at.
const MAX_QUERY_CHARS: usize = 200;

pub struct HelpdeskConsole(pub Sesame);

/// What the letter's flow keeps until it is shown (server-only).
#[derive(Debug, Serialize, Deserialize)]
struct LetterData {
    sealed_password: String,
    issued_at: i64,
    expires_at: i64,
}

#[async_trait::async_trait]
impl HelpdeskApi for HelpdeskConsole {
    async fn search(&self, meta: &RequestMeta, query: String) -> Result<SearchView, AppError> {
        let Some(_agent) = self.agent(meta).await? else {
            return Err(AppError::Forbidden);
        };
        search(&self.0, &query)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn person(&self, meta: &RequestMeta, id: String) -> Result<PersonView, AppError> {
        let Some(agent) = self.agent(meta).await? else {
            return Err(AppError::Forbidden);
        };
        person_view(&self.0, &agent, &id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
            .ok_or(AppError::Refused(Msg::HelpdeskPersonUnknown))
    }

    async fn invitation(
        &self,
        meta: &RequestMeta,
        email: String,
    ) -> Result<InvitationView, AppError> {
        let Some(_agent) = self.agent(meta).await? else {
            return Err(AppError::Forbidden);
        };
        invitation_view(&self.0, &email)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn letter(&self, meta: &RequestMeta, flow: String) -> Result<LetterView, AppError> {
        let Some(_agent) = self.agent(meta).await? else {
            return Err(AppError::Forbidden);
        };
        letter_view(&self.0, meta, &flow)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn act(
        &self,
        meta: &RequestMeta,
        target: ActTarget,
        action: HelpdeskAction,
        reason: String,
    ) -> Result<ActOutcome, AppError> {
        let Some(agent) = self.agent(meta).await? else {
            return Err(AppError::Forbidden);
        };
        let context = Acting {
            sesame: &self.0,
            meta,
            agent: &agent,
            reason: reason.trim().chars().take(MAX_REASON_CHARS).collect(),
        };
        context
            .act(target, action)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

impl HelpdeskConsole {
    /// The signed-in person if they are an agent (or an administrator).
    async fn agent(&self, meta: &RequestMeta) -> Result<Option<PersonRow>, AppError> {
        agent(&self.0, meta)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

/// The signed-in person if they may use the console.
pub async fn agent(sesame: &Sesame, meta: &RequestMeta) -> Result<Option<PersonRow>> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(None);
    };
    Ok(roles::is_agent(&sesame.store.pool, &person.id)
        .await?
        .then_some(person))
}

/// A time as the institution reads it.
fn local_time(sesame: &Sesame, at: Timestamp) -> String {
    let zone = TimeZone::get(&sesame.config.institution.time_zone).unwrap_or(TimeZone::UTC);
    at.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string()
}

fn local_secs(sesame: &Sesame, secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|at| local_time(sesame, at))
        .unwrap_or_default()
}

fn summary(person: &PersonRow) -> PersonSummary {
    PersonSummary {
        id: person.id.clone(),
        login: person.login.clone(),
        name: format!("{} {}", person.first_name, person.last_name),
        category: person.category.clone(),
        state: person.state.clone(),
    }
}

fn invitation_summary(
    sesame: &Sesame,
    row: &invitations::InvitationRow,
    now: i64,
) -> InvitationSummary {
    InvitationSummary {
        email: row.email.clone(),
        state: row.state_at(now).as_str().to_owned(),
        sent: local_secs(sesame, row.created_at),
        expires: local_secs(sesame, row.expires_at),
    }
}

async fn search(sesame: &Sesame, query: &str) -> Result<SearchView> {
    let query: String = query.trim().chars().take(MAX_QUERY_CHARS).collect();
    let mut view = SearchView {
        query: query.clone(),
        ..Default::default()
    };
    if query.is_empty() {
        return Ok(view);
    }
    let pool = &sesame.store.pool;
    let limit = i64::try_from(SEARCH_LIMIT).unwrap_or(20);
    let found = helpdesk::search(pool, &query, limit + 1).await?;
    view.more = found.len() > SEARCH_LIMIT;
    view.people = found
        .into_iter()
        .take(SEARCH_LIMIT)
        .map(|p| PersonSummary {
            name: format!("{} {}", p.first_name, p.last_name),
            id: p.id,
            login: p.login,
            category: p.category,
            state: p.state,
        })
        .collect();
    // People invited have no account yet: an address also finds its invitations.
    if query.contains('@') {
        let now = sesame.clock.now_secs();
        view.invitations = invitations::list(pool, Some(canonical_address(&query).as_str()))
            .await?
            .iter()
            .take(SEARCH_LIMIT)
            .map(|row| invitation_summary(sesame, row, now))
            .collect();
    }
    Ok(view)
}

/// `a***@example.org`: enough for the person to recognize it on the phone, not to learn it.
fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// Every failure counter that can lock this person out (sign-in, activation, forgot
/// password, forgot username by employee number, recovery email change, password change,
/// linking accounts). Counters kept
/// per client address are shared with other people and are left alone.
fn throttle_keys(
    sesame: &Sesame,
    person: &PersonRow,
    employee_number: Option<&str>,
) -> Vec<String> {
    let hashed = |value: &str| sesame.key.keyed_hash("throttle", value);
    let login = normalize_login(&person.login);
    let mut keys = vec![
        format!("signin:login:{}", hashed(&login)),
        format!("activation:login:{}", hashed(&login)),
        format!(
            "recovery:account:{}",
            hashed(&format!("person:{}", person.id))
        ),
        format!("email-change:person:{}", person.id),
        format!("password-change:person:{}", person.id),
        format!("linked:person:{}", person.id),
    ];
    if let Some(number) = employee_number.filter(|n| !n.is_empty()) {
        keys.push(format!(
            "username:{}",
            hashed(&format!("pin:{}", number.to_uppercase()))
        ));
    }
    keys
}

async fn person_view(sesame: &Sesame, agent: &PersonRow, id: &str) -> Result<Option<PersonView>> {
    let pool = &sesame.store.pool;
    let Some(person) = people::find_by_id(pool, id).await? else {
        return Ok(None);
    };
    let now = sesame.clock.now_secs();
    let facts = recovery::find_by_id(pool, &person.id).await?;
    let methods = MethodsSummary {
        questions: !questions::list(pool, &person.id).await?.is_empty(),
        authenticator: authenticators::find(pool, &person.id).await?.is_some(),
        recovery_email: facts
            .as_ref()
            .and_then(|f| f.recovery_email.as_deref())
            .filter(|a| !a.is_empty())
            .map(mask_address),
        pin: facts
            .as_ref()
            .is_some_and(|f| f.employee_number.is_some() && f.pin_hash.is_some()),
        identity: facts
            .as_ref()
            .is_some_and(|f| f.date_of_birth.is_some() && f.sin_hash.is_some()),
    };
    let employee_number = facts.as_ref().and_then(|f| f.employee_number.as_deref());
    let keys = throttle_keys(sesame, &person, employee_number);
    let letter_issued = people::find_recipient_by_login(pool, &person.login)
        .await?
        .and_then(|r| r.letter_issued_at)
        .map(|at| local_secs(sesame, at));
    let invitation = match invitations::for_person(pool, &person.id).await? {
        Some(row) => Some(row),
        None if person.login.contains('@') => {
            invitations::list(pool, Some(canonical_address(&person.login).as_str()))
                .await?
                .into_iter()
                .next()
        }
        None => None,
    }
    .map(|row| invitation_summary(sesame, &row, now));
    let linked = crate::linked::list(sesame, &person.id)
        .await?
        .into_iter()
        .map(|link| LinkedAccount {
            system: link.system_name,
            account: link.account_name,
        })
        .collect();
    let events = audit::recent(pool, Some(person.id.as_str()), EVENTS_SHOWN)
        .await?
        .into_iter()
        .map(|row| {
            let detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap_or_default();
            // Codes only (never a free text nor anything secret): the page translates them.
            let code = |key: &str| detail.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            AuditLine {
                at: Timestamp::from_millisecond(row.at_ms)
                    .map(|at| local_time(sesame, at))
                    .unwrap_or_default(),
                kind: row.kind,
                outcome: code("outcome"),
                step: code("step"),
                by_other: row.actor_id.is_some(),
            }
        })
        .collect();
    Ok(Some(PersonView {
        person: summary(&person),
        language: person.language.clone(),
        is_self: person.id == agent.id,
        methods,
        sessions: sessions::count_live_for(
            pool,
            &person.id,
            now,
            sesame.config.sessions.idle_timeout_minutes * 60,
        )
        .await?,
        locks: helpdesk::count_locked(pool, &keys, now).await?,
        letter_issued,
        invitation,
        linked,
        events,
    }))
}

async fn invitation_view(sesame: &Sesame, email: &str) -> Result<InvitationView> {
    let pool = &sesame.store.pool;
    let email = canonical_address(email);
    let now = sesame.clock.now_secs();
    let rows = invitations::list(pool, Some(email.as_str())).await?;
    Ok(InvitationView {
        has_account: people::find_by_login(pool, &email).await?.is_some(),
        invitations: rows
            .iter()
            .map(|row| invitation_summary(sesame, row, now))
            .collect(),
        email,
    })
}

async fn letter_view(sesame: &Sesame, meta: &RequestMeta, flow_id: &str) -> Result<LetterView> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let Some(flow) = flows::find(pool, flow_id, LETTER_KIND).await? else {
        return Ok(LetterView::default());
    };
    let person = match &flow.person_id {
        Some(id) => people::find_by_id(pool, id).await?,
        None => None,
    };
    let login = person.as_ref().map(|p| p.login.clone()).unwrap_or_default();
    let person_id = flow.person_id.clone().unwrap_or_default();
    let gone = LetterView {
        login: login.clone(),
        person_id: person_id.clone(),
        html: None,
    };
    if flow.state != LETTER_READY
        || flow.binding_hash != binding(sesame, meta)
        || flow.expires_at <= now
    {
        return Ok(gone);
    }
    let Ok(data) = serde_json::from_str::<LetterData>(&flow.data) else {
        return Ok(gone);
    };
    // Used up before anything is shown: a second load (or a race) shows nothing.
    if !flows::transition(pool, &flow.id, LETTER_READY, LETTER_SHOWN, "{}", now).await? {
        return Ok(gone);
    }
    let Some(recipient) = people::find_recipient_by_login(pool, &login).await? else {
        return Ok(gone);
    };
    let password = sealed::open(&sesame.key, LETTER_SEAL, &flow.id, &data.sealed_password)?;
    let password = String::from_utf8(password)
        .map_err(|_| Error::Invalid("a sealed letter password is not UTF-8".into()))?;
    let issued =
        Timestamp::from_second(data.issued_at).map_err(|e| Error::Invalid(e.to_string()))?;
    let expires =
        Timestamp::from_second(data.expires_at).map_err(|e| Error::Invalid(e.to_string()))?;
    let letter = Letter {
        recipient,
        password: crate::crypto::Secret::new(password),
    };
    crate::metrics::flow_completed(LETTER_KIND);
    Ok(LetterView {
        login,
        person_id,
        html: Some(letters::render_one(
            &sesame.config,
            &letter,
            issued,
            expires,
        )),
    })
}

/// One agent's action, with the reason they gave.
struct Acting<'a> {
    sesame: &'a Sesame,
    meta: &'a RequestMeta,
    agent: &'a PersonRow,
    reason: String,
}

impl Acting<'_> {
    fn event<'b>(
        &'b self,
        kind: AuditKind,
        person_id: Option<&'b str>,
        client_ip: &'b str,
        detail: serde_json::Value,
    ) -> AuditEvent<'b> {
        AuditEvent {
            kind,
            person_id,
            actor_id: Some(&self.agent.id),
            client_ip: Some(client_ip),
            request_id: Some(&self.meta.request_id),
            detail,
        }
    }

    async fn act(&self, target: ActTarget, action: HelpdeskAction) -> Result<ActOutcome> {
        if self.reason.is_empty() {
            return Ok(ActOutcome::Refused(Msg::HelpdeskReasonRequired));
        }
        match target {
            ActTarget::Person(id) if !action.on_invitation() => {
                let Some(person) = people::find_by_id(&self.sesame.store.pool, &id).await? else {
                    return Ok(ActOutcome::Refused(Msg::HelpdeskPersonUnknown));
                };
                if person.id == self.agent.id {
                    return Ok(ActOutcome::Refused(Msg::HelpdeskSelf));
                }
                // An agent cannot take over a peer or a superior (end their sessions, give
                // a pending administrator account a letter...): only someone above can.
                let pool = &self.sesame.store.pool;
                let target_role = roles::highest(pool, &person.id).await?;
                if target_role.is_some()
                    && target_role >= roles::highest(pool, &self.agent.id).await?
                {
                    return Ok(ActOutcome::Refused(Msg::HelpdeskPeer));
                }
                match action {
                    HelpdeskAction::DisableQuestions => self.disable_questions(&person).await,
                    HelpdeskAction::Unlock => self.unlock(&person).await,
                    HelpdeskAction::EndSessions => self.end_sessions(&person).await,
                    _ => self.issue_letter(&person).await,
                }
            }
            ActTarget::Invitation(email) if action.on_invitation() => {
                let email = canonical_address(&email);
                if canonical_address(&self.agent.login) == email
                    || self
                        .agent
                        .email
                        .as_deref()
                        .is_some_and(|a| canonical_address(a) == email)
                {
                    return Ok(ActOutcome::Refused(Msg::HelpdeskSelf));
                }
                if action == HelpdeskAction::ResendInvitation {
                    self.resend_invitation(&email).await
                } else {
                    self.revoke_invitation(&email).await
                }
            }
            _ => Ok(ActOutcome::Refused(Msg::HelpdeskPersonUnknown)),
        }
    }

    /// Seed 000: the person forgot their answers; forgot password stops asking them.
    async fn disable_questions(&self, person: &PersonRow) -> Result<ActOutcome> {
        let sesame = self.sesame;
        let ip = self.meta.client_ip.to_string();
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        let removed = questions::remove_all(&mut *tx, &person.id).await?;
        if removed == 0 {
            tx.rollback().await?;
            return Ok(ActOutcome::Refused(Msg::HelpdeskNoQuestions));
        }
        // The same event `sesame admin disable-questions` records, with the agent and request.
        let detail = json!({ "outcome": "disabled", "removed": removed, "reason": self.reason, "via": "helpdesk" });
        let event = self.event(AuditKind::SecurityQuestions, Some(&person.id), &ip, detail);
        audit::record(&mut *tx, event, sesame.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(ActOutcome::Done)
    }

    async fn unlock(&self, person: &PersonRow) -> Result<ActOutcome> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let facts = recovery::find_by_id(pool, &person.id).await?;
        let number = facts.as_ref().and_then(|f| f.employee_number.as_deref());
        let keys = throttle_keys(sesame, person, number);
        let cleared = helpdesk::clear_throttle(pool, &keys).await?;
        let ip = self.meta.client_ip.to_string();
        let detail = json!({ "outcome": "unlocked", "cleared": cleared, "reason": self.reason });
        let event = self.event(AuditKind::Unlocked, Some(&person.id), &ip, detail);
        audit::record(pool, event, sesame.clock.now_ms()).await?;
        Ok(ActOutcome::Done)
    }

    async fn end_sessions(&self, person: &PersonRow) -> Result<ActOutcome> {
        let sesame = self.sesame;
        let ip = self.meta.client_ip.to_string();
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        let ended = sessions::delete_all_for(&mut *tx, &person.id).await?;
        let detail = json!({ "outcome": "ended", "sessions": ended, "reason": self.reason });
        let event = self.event(AuditKind::SessionsEnded, Some(&person.id), &ip, detail);
        audit::record(&mut *tx, event, sesame.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(ActOutcome::Done)
    }

    /// New provisional credentials, the letter `sesame admin letters --login` prints: it
    /// replaces (so revokes) the previous letter. For an active account (the person could
    /// prove nothing to forgot password, and the agent checked who they are), the account
    /// goes back to pending: the old password stops working, every session ends, every
    /// code dies, and the person activates again with the letter.
    async fn issue_letter(&self, person: &PersonRow) -> Result<ActOutcome> {
        let sesame = self.sesame;
        let was_active = match person.state() {
            Some(AccountState::Pending) => false,
            Some(AccountState::Active) => true,
            _ => return Ok(ActOutcome::Refused(Msg::HelpdeskLetterNotPending)),
        };
        let password = letters::provisional_password();
        let hash = sesame.hasher.hash(password.expose()).await?;
        let now = sesame.clock.now_secs();
        let expires_at = now + sesame.config.activation.provisional_valid_days * 86_400;
        let flow_id = new_id();
        let data = LetterData {
            sealed_password: sealed::seal(
                &sesame.key,
                LETTER_SEAL,
                &flow_id,
                password.expose().as_bytes(),
            )?,
            issued_at: now,
            expires_at,
        };
        let ip = self.meta.client_ip.to_string();
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        if was_active {
            if !people::return_to_pending(&mut *tx, &person.id, now).await? {
                tx.rollback().await?;
                return Ok(ActOutcome::Refused(Msg::HelpdeskLetterNotPending));
            }
            sessions::delete_all_for(&mut *tx, &person.id).await?;
            recovery::void_verifications(&mut *tx, &person.id, now).await?;
            recovery::supersede_other_flows(&mut tx, &person.id, PASSWORD_RECOVERY_KIND, "", now)
                .await?;
        }
        if !people::issue_provisional(&mut *tx, &person.id, &hash, expires_at, now).await? {
            tx.rollback().await?;
            return Ok(ActOutcome::Refused(Msg::HelpdeskLetterNotPending));
        }
        // The previous letter is revoked: an activation begun with it ends, and an earlier
        // letter still waiting to be shown would print a password that no longer works.
        recovery::supersede_other_flows(&mut tx, &person.id, ACTIVATION_KIND, "", now).await?;
        recovery::supersede_other_flows(&mut tx, &person.id, LETTER_KIND, "", now).await?;
        flows::insert(
            &mut *tx,
            &NewFlow {
                id: &flow_id,
                kind: LETTER_KIND,
                state: LETTER_READY,
                person_id: Some(&person.id),
                locale: self.meta.locale.code(),
                binding_hash: &binding(sesame, self.meta),
                expires_at: now + LETTER_TTL_SECS,
                data: &serde_json::to_string(&data)?,
            },
            now,
        )
        .await?;
        // The same event as the CLI's letters, with the agent, the request and the reason.
        let detail = json!({
            "login": person.login,
            "expires_at": expires_at,
            "reason": self.reason,
            "via": "helpdesk",
            "account_reset": was_active,
        });
        let event = self.event(AuditKind::LetterIssued, Some(&person.id), &ip, detail);
        audit::record(&mut *tx, event, sesame.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(ActOutcome::Letter { flow: flow_id })
    }

    async fn resend_invitation(&self, email: &str) -> Result<ActOutcome> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let Some(last) = invitations::list(pool, Some(email))
            .await?
            .into_iter()
            .next()
        else {
            return Ok(ActOutcome::Refused(Msg::HelpdeskInvitationNoneSent));
        };
        let invitee = Invitee {
            email: email.to_owned(),
            issuer: last.issuer.clone(),
            language: Locale::from_code(&last.language).unwrap_or_default(),
        };
        let outcome =
            invites::invite_because(sesame, &invitee, &self.agent.id, Some(self.reason.as_str()))
                .await?;
        Ok(match outcome {
            InviteOutcome::AlreadyHasAccount => {
                ActOutcome::Refused(Msg::HelpdeskInvitationHasAccount)
            }
            InviteOutcome::Sent | InviteOutcome::Replaced => ActOutcome::Done,
        })
    }

    async fn revoke_invitation(&self, email: &str) -> Result<ActOutcome> {
        let revoked = invites::revoke_because(
            self.sesame,
            email,
            &self.agent.id,
            Some(self.reason.as_str()),
        )
        .await?;
        Ok(if revoked == 0 {
            ActOutcome::Refused(Msg::HelpdeskInvitationNonePending)
        } else {
            ActOutcome::Done
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_to_their_first_letter_and_domain() {
        assert_eq!(mask_address("alice@example.org"), "a***@example.org");
        assert_eq!(mask_address("é@x.ca"), "é***@x.ca");
        assert_eq!(mask_address("nonsense"), "***");
    }
}
