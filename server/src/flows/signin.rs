//! Sign in and sign out.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> SignedIn: right login and password, not throttled
//!     [*] --> Refused: wrong login or password / throttled
//!     Refused --> Refused: another failure (same flow, same browser)
//!     Refused --> SignedIn: right login and password
//!     SignedIn --> [*]: sign out, idle or absolute timeout
//! ```
//!
//! Only refusals create a flow row (`kind = signin`, state `refused`): it remembers the
//! login typed and the message to show, so the page after the redirect can show them
//! without JavaScript. Unknown logins and wrong passwords take the same path, the same
//! argon2 work and the same answer.

use app::{
    api::{
        AppError,
        signin::{SignInApi, SignInOutcome, SignInTermsView, SignInView},
        ssr::RequestMeta,
    },
    i18n::Msg,
    policy::{
        email::MAX_EMAIL_LENGTH,
        login::{MAX_LOGIN_LENGTH, normalize_login},
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, audit_request_statement, binding};
use crate::{
    cookies,
    crypto::tokens::random_token,
    error::Result,
    state::Sesame,
    store::{
        Durability,
        audit::AuditKind,
        flows::{self, NewFlow},
        new_id,
        people::{self, AccountState, PersonRow, SignInRow},
        sessions::{self, NewSession},
        signup,
        statement::Statement,
        throttle::{self, Rule},
    },
};

const KIND: &str = "signin";
const REFUSED: &str = "refused";
/// The password was right; new versions of the texts wait to be accepted.
const TERMS: &str = "terms";
/// How long a refused sign-in page keeps its message.
const FLOW_TTL_SECS: i64 = 15 * 60;
/// Longest password looked at (the policy allows 256 characters; anything longer is
/// refused without hashing megabytes).
const MAX_PASSWORD_BYTES: usize = 4096;

pub struct SignInFlow(pub Sesame);

/// What a refused flow remembers (server-only).
#[derive(Debug, Default, Serialize, Deserialize)]
struct RefusedData {
    login: String,
    error: Option<Msg>,
    retry_minutes: Option<u32>,
}

#[async_trait::async_trait]
impl SignInApi for SignInFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<SignInView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn sign_in(
        &self,
        meta: &RequestMeta,
        login: String,
        password: String,
        flow_id: Option<String>,
    ) -> Result<SignInOutcome, AppError> {
        sign_in(&self.0, meta, &login, &password, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn terms_view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<SignInTermsView, AppError> {
        terms_view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn accept_terms(
        &self,
        meta: &RequestMeta,
        flow_id: String,
        consent: bool,
    ) -> Result<Option<SignInOutcome>, AppError> {
        accept_terms(&self.0, meta, &flow_id, consent)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn sign_out(&self, meta: &RequestMeta) -> Result<String, AppError> {
        sign_out(&self.0, meta)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

async fn view(sesame: &Sesame, meta: &RequestMeta, flow_id: Option<String>) -> Result<SignInView> {
    let Some(flow_id) = flow_id else {
        return Ok(SignInView::default());
    };
    let Some(flow) = flows::find(&sesame.store.pool, &flow_id, KIND).await? else {
        return Ok(SignInView::default());
    };
    if flow.binding_hash != binding(sesame, meta) {
        // Someone else's flow (a shared URL): show a fresh page, reveal nothing.
        return Ok(SignInView::default());
    }
    if flow.expires_at <= sesame.clock.now_secs() {
        return Ok(SignInView {
            error: Some(Msg::SigninExpired),
            ..Default::default()
        });
    }
    let data: RefusedData = serde_json::from_str(&flow.data).unwrap_or_default();
    Ok(SignInView {
        login: data.login,
        error: data.error,
        retry_minutes: data.retry_minutes,
    })
}

fn throttle_keys(sesame: &Sesame, login: &str, meta: &RequestMeta) -> (String, String) {
    (
        format!("signin:login:{}", sesame.key.keyed_hash("throttle", login)),
        format!("signin:ip:{}", throttle::address(meta.client_ip)),
    )
}

async fn sign_in(
    sesame: &Sesame,
    meta: &RequestMeta,
    login: &str,
    password: &str,
    flow_id: Option<String>,
) -> Result<SignInOutcome> {
    let pool = &sesame.store.pool;
    let login = normalize_login(login);
    let now = sesame.clock.now_secs();
    let (login_key, ip_key) = throttle_keys(sesame, &login, meta);
    let limits = &sesame.config.throttle;

    // People who signed up from an invitation sign in with their address.
    let longest = if login.contains('@') {
        MAX_EMAIL_LENGTH
    } else {
        MAX_LOGIN_LENGTH
    };
    let acceptable = login.chars().count() <= longest && password.len() <= MAX_PASSWORD_BYTES;
    // One query before the hash: the throttle's standing and the person.
    let throttle_keys = [login_key.as_str(), ip_key.as_str()];
    let (standing, found) = if acceptable && !login.is_empty() {
        people::find_for_sign_in(&sesame.store, &login, &throttle_keys, now).await?
    } else {
        (throttle::standing(pool, &throttle_keys, now).await?, None)
    };
    if let Some(seconds) = standing.locked_secs {
        audit_request(
            pool,
            sesame,
            meta,
            AuditKind::SignInThrottled,
            None,
            json!({}),
        )
        .await?;
        return refuse(
            sesame,
            meta,
            flow_id,
            &login,
            Msg::SigninThrottled,
            Some(seconds),
        )
        .await;
    }

    let usable = found
        .as_ref()
        .filter(|row| row.person.state() == Some(AccountState::Active));
    let stored_hash = usable.and_then(|row| row.person.password_hash.as_deref());
    // The dummy hash runs for unknown, inactive and password-less accounts alike.
    let checked_password = if password.len() <= MAX_PASSWORD_BYTES {
        password
    } else {
        ""
    };
    let verified = sesame.hasher.verify(stored_hash, checked_password).await? && acceptable;

    if let (true, Some(row)) = (verified, usable) {
        // One transaction: the failures are forgotten, and the session (or the terms flow)
        // opened, together. Only counted failures need a write: a failure counted between
        // the read above and this commit is left to its window, as if it came just after.
        // The commit does not wait for the disk: a power cut that undid it would only
        // sign the person out ([`Durability::Deferred`]).
        let mut writes = Vec::with_capacity(3);
        if standing.is_counting(&login_key) {
            writes.push(throttle::clear_statement(&login_key));
        }
        let outcome = match terms_pending(sesame, meta, row) {
            Some((flow_id, terms_flow)) => {
                writes.push(terms_flow);
                SignInOutcome::TermsRequired { flow_id }
            }
            None => {
                let (session_cookie, session) = new_session(sesame, meta, &row.person);
                writes.extend(session);
                SignInOutcome::SignedIn { session_cookie }
            }
        };
        sesame.store.write_all(writes, Durability::Deferred).await?;
        if let SignInOutcome::TermsRequired { .. } = outcome {
            crate::metrics::flow_started(KIND);
        }
        return Ok(outcome);
    }

    let lock = throttle::record_failures(
        pool,
        &[
            (
                &login_key,
                Rule::with_limit(limits, limits.signin_per_account),
            ),
            (&ip_key, Rule::with_limit(limits, limits.signin_per_address)),
        ],
        now,
    )
    .await?;
    let reason = match (&found, usable, stored_hash) {
        (None, _, _) => "unknown_login",
        (Some(_), None, _) => "account_not_active",
        (Some(_), Some(_), None) => "no_password",
        _ => "wrong_password",
    };
    audit_request(
        pool,
        sesame,
        meta,
        AuditKind::SignInFailed,
        found.as_ref().map(|row| row.person.id.as_str()),
        json!({ "reason": reason, "locked": lock.is_some() }),
    )
    .await?;
    let (message, locked) = match lock {
        Some(seconds) => (Msg::SigninThrottled, Some(seconds)),
        None => (Msg::SigninInvalidCredentials, None),
    };
    refuse(sesame, meta, flow_id, &login, message, locked).await
}

/// Records the refusal in this browser's flow (a new one if needed) and names it.
async fn refuse(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    login: &str,
    error: Msg,
    locked_secs: Option<i64>,
) -> Result<SignInOutcome> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let shown_login: String = login.chars().take(MAX_LOGIN_LENGTH).collect();
    let data = serde_json::to_string(&RefusedData {
        login: shown_login,
        error: Some(error),
        retry_minutes: locked_secs.map(|s| u32::try_from((s + 59) / 60).unwrap_or(u32::MAX)),
    })?;
    let binding_hash = binding(sesame, meta);
    if let Some(id) = flow_id
        && let Some(flow) = flows::find(pool, &id, KIND).await?
        && flow.binding_hash == binding_hash
        && flows::transition(pool, &id, REFUSED, REFUSED, &data, now).await?
    {
        return Ok(SignInOutcome::Refused { flow_id: id });
    }
    let id = new_id();
    flows::insert(
        pool,
        &NewFlow {
            id: &id,
            kind: KIND,
            state: REFUSED,
            person_id: None,
            locale: meta.locale.code(),
            binding_hash: &binding_hash,
            expires_at: now + FLOW_TTL_SECS,
            data: &data,
        },
        now,
    )
    .await?;
    Ok(SignInOutcome::Refused { flow_id: id })
}

/// A terms flow when the person accepted older versions of the terms of use or privacy
/// policy than the current ones (people who never had to accept any are not asked).
/// Answers its id and the statement that creates it.
fn terms_pending(
    sesame: &Sesame,
    meta: &RequestMeta,
    found: &SignInRow,
) -> Option<(String, Statement)> {
    let config = &sesame.config.signup;
    let (terms, privacy) = (&found.terms_version, &found.privacy_version);
    if terms.is_none() && privacy.is_none() {
        return None;
    }
    if terms.as_deref() == Some(config.terms_version.as_str())
        && privacy.as_deref() == Some(config.privacy_version.as_str())
    {
        return None;
    }
    let now = sesame.clock.now_secs();
    let id = new_id();
    let statement = flows::insert_statement(
        &NewFlow {
            id: &id,
            kind: KIND,
            state: TERMS,
            person_id: Some(&found.person.id),
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + FLOW_TTL_SECS,
            data: "{}",
        },
        now,
    );
    Some((id, statement))
}

/// This browser's live terms flow and its person (still active).
async fn terms_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: &str,
) -> Result<Option<(flows::FlowRow, PersonRow)>> {
    let pool = &sesame.store.pool;
    let Some(flow) = flows::find(pool, flow_id, KIND).await? else {
        return Ok(None);
    };
    if flow.state != TERMS
        || flow.binding_hash != binding(sesame, meta)
        || flow.expires_at <= sesame.clock.now_secs()
    {
        return Ok(None);
    }
    let person = match &flow.person_id {
        Some(id) => people::find_by_id(pool, id).await?,
        None => None,
    };
    Ok(person
        .filter(|p| p.state() == Some(AccountState::Active))
        .map(|p| (flow, p)))
}

async fn terms_view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<SignInTermsView> {
    let config = &sesame.config.signup;
    let Some(flow_id) = flow_id else {
        return Ok(SignInTermsView::default());
    };
    let Some((flow, _)) = terms_flow(sesame, meta, &flow_id).await? else {
        return Ok(SignInTermsView::default());
    };
    let data: RefusedData = serde_json::from_str(&flow.data).unwrap_or_default();
    Ok(SignInTermsView {
        pending: true,
        terms_version: config.terms_version.clone(),
        privacy_version: config.privacy_version.clone(),
        error: data.error,
    })
}

async fn accept_terms(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: &str,
    consent: bool,
) -> Result<Option<SignInOutcome>> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let Some((flow, person)) = terms_flow(sesame, meta, flow_id).await? else {
        return Ok(None);
    };
    if !consent {
        let data = serde_json::to_string(&RefusedData {
            error: Some(Msg::SigninTermsRequired),
            ..Default::default()
        })?;
        flows::transition(pool, &flow.id, TERMS, TERMS, &data, now).await?;
        return Ok(Some(SignInOutcome::TermsRequired { flow_id: flow.id }));
    }
    let config = &sesame.config.signup;
    let mut tx = crate::store::begin(pool).await?;
    // The flow is used up first, so a replayed acceptance opens no second session.
    if !flows::transition(&mut *tx, &flow.id, TERMS, "accepted", "{}", now).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    signup::accept_versions(
        &mut *tx,
        &person.id,
        &config.terms_version,
        &config.privacy_version,
        now,
    )
    .await?;
    audit_request(
        &mut *tx,
        sesame,
        meta,
        AuditKind::TermsAccepted,
        Some(&person.id),
        json!({ "terms_version": config.terms_version, "privacy_version": config.privacy_version }),
    )
    .await?;
    let (cookie, session) = new_session(sesame, meta, &person);
    for statement in &session {
        statement.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    crate::metrics::flow_completed(KIND);
    Ok(Some(SignInOutcome::SignedIn {
        session_cookie: cookie,
    }))
}

/// A new session for `person`: its cookie, and the statements that open it (its row and
/// its audit event) for the caller's transaction.
fn new_session(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
) -> (String, [Statement; 2]) {
    let token = random_token();
    let id_hash = sesame.key.keyed_hash("session", &token);
    let now = sesame.clock.now_secs();
    let session = sessions::insert_statement(
        &NewSession {
            id_hash: &id_hash,
            person_id: &person.id,
            expires_at: now + sesame.config.sessions.absolute_timeout_hours * 3600,
            client_ip: &meta.client_ip.to_string(),
            user_agent: &meta.user_agent.chars().take(300).collect::<String>(),
        },
        now,
    );
    let audit = audit_request_statement(
        sesame,
        meta,
        AuditKind::SignInSucceeded,
        Some(&person.id),
        json!({}),
    );
    let cookie = cookies::set(cookies::SESSION, &token, meta.secure, true, None);
    (cookie, [session, audit])
}

/// The person signed in on this request, if the session cookie names a live session.
pub async fn current_person(sesame: &Sesame, meta: &RequestMeta) -> Result<Option<PersonRow>> {
    let Some(token) = &meta.session_token else {
        return Ok(None);
    };
    let id_hash = sesame.key.keyed_hash("session", token);
    let idle = sesame.config.sessions.idle_timeout_minutes * 60;
    let Some(session) =
        sessions::find_live(&sesame.store.pool, &id_hash, sesame.clock.now_secs(), idle).await?
    else {
        return Ok(None);
    };
    let person = people::find_by_id(&sesame.store.pool, &session.person_id).await?;
    Ok(person.filter(|p| p.state() == Some(AccountState::Active)))
}

async fn sign_out(sesame: &Sesame, meta: &RequestMeta) -> Result<String> {
    if let Some(token) = &meta.session_token {
        let id_hash = sesame.key.keyed_hash("session", token);
        let person = current_person(sesame, meta).await?;
        if sessions::delete(&sesame.store.pool, &id_hash).await? {
            audit_request(
                &sesame.store.pool,
                sesame,
                meta,
                AuditKind::SignedOut,
                person.as_ref().map(|p| p.id.as_str()),
                json!({}),
            )
            .await?;
        }
    }
    Ok(cookies::clear(cookies::SESSION, meta.secure))
}
