//! "My account → Authenticator app" (issue 4): the person enrols an app by scanning a QR
//! code (or typing the secret) and proves it works with one code; the app then proves who
//! they are in forgot password. The secret is sealed at rest; while enrolling it lives,
//! sealed, in a short flow bound to this browser and this person. Adding or removing an
//! app is audited and mailed to every known address, so a stranger's change is noticed.

use app::{
    api::{
        AppError,
        authenticator::{
            AuthenticatorApi, AuthenticatorOutcome, AuthenticatorRequest, AuthenticatorSetup,
            AuthenticatorView,
        },
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, binding, signin::current_person};
use crate::{
    crypto::{sealed, totp},
    error::Result,
    mail::templates::{self, AccountNotice},
    state::Sesame,
    store::{
        audit::AuditKind,
        authenticators,
        flows::{self, FlowRow, NewFlow},
        new_id,
        people::PersonRow,
        recovery,
    },
};

const KIND: &str = "authenticator_enrolment";
/// The sealing purpose of authenticator secrets (the person's id is the context).
pub(crate) const SEAL_PURPOSE: &str = "totp-secret";
/// Time to scan the code and type one back.
const FLOW_TTL_SECS: i64 = 15 * 60;

pub struct AuthenticatorFlow(pub Sesame);

#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    secret_sealed: String,
    error: Option<StepError>,
}

#[async_trait::async_trait]
impl AuthenticatorApi for AuthenticatorFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<AuthenticatorView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn change(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        request: AuthenticatorRequest,
    ) -> Result<AuthenticatorOutcome, AppError> {
        change(&self.0, meta, flow_id, request)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }
}

/// The secret of an enrolled app, opened.
pub(crate) fn open_secret(
    sesame: &Sesame,
    row: &authenticators::AuthenticatorRow,
) -> Result<Vec<u8>> {
    sealed::open(
        &sesame.key,
        SEAL_PURPOSE,
        &row.person_id,
        &row.secret_sealed,
    )
}

/// This browser's live enrolment of this person.
async fn enrolment(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
    flow_id: Option<&str>,
) -> Result<Option<FlowRow>> {
    let Some(flow_id) = flow_id else {
        return Ok(None);
    };
    let flow = flows::find(&sesame.store.pool, flow_id, KIND).await?;
    Ok(flow.filter(|f| {
        f.binding_hash == binding(sesame, meta)
            && f.person_id.as_deref() == Some(person.id.as_str())
            && f.expires_at > sesame.clock.now_secs()
            && f.state == "scanning"
    }))
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<AuthenticatorView> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(AuthenticatorView::default());
    };
    let enrolled = authenticators::find(&sesame.store.pool, &person.id)
        .await?
        .is_some();
    let mut view = AuthenticatorView {
        signed_in: true,
        enrolled,
        ..Default::default()
    };
    if let Some(flow) = enrolment(sesame, meta, &person, flow_id.as_deref()).await? {
        let data: FlowData = serde_json::from_str(&flow.data).unwrap_or_default();
        let secret = sealed::open(&sesame.key, SEAL_PURPOSE, &flow.id, &data.secret_sealed)?;
        let issuer = sesame.config.institution().name.get(meta.locale).to_owned();
        let uri = totp::otpauth_uri(&secret, &issuer, &person.login)?;
        view.setup = Some(AuthenticatorSetup {
            flow: flow.id.clone(),
            qr_svg: totp::qr_svg(&uri)?,
            secret: totp::secret_text(&secret)?,
            issuer,
            account: person.login.clone(),
        });
        view.error = data.error;
    }
    Ok(view)
}

async fn change(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    request: AuthenticatorRequest,
) -> Result<std::result::Result<AuthenticatorOutcome, AppError>> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let outcome = match request {
        AuthenticatorRequest::Start => start(sesame, meta, &person).await?,
        AuthenticatorRequest::Confirm { code } => {
            match enrolment(sesame, meta, &person, flow_id.as_deref()).await? {
                Some(flow) => confirm(sesame, meta, &person, &flow, &code).await?,
                // Expired or not this browser's: nothing changes.
                None => AuthenticatorOutcome::Unchanged,
            }
        }
        AuthenticatorRequest::Cancel => {
            if let Some(flow) = enrolment(sesame, meta, &person, flow_id.as_deref()).await? {
                flows::abandon(&sesame.store.pool, &flow.id, flows::Abandoned::Cancelled).await?;
            }
            AuthenticatorOutcome::Unchanged
        }
        AuthenticatorRequest::Remove => remove(sesame, meta, &person).await?,
    };
    Ok(Ok(outcome))
}

/// A new secret, sealed in a new flow; the page shows it until a code confirms it.
async fn start(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
) -> Result<AuthenticatorOutcome> {
    let now = sesame.clock.now_secs();
    let id = new_id();
    let data = FlowData {
        secret_sealed: sealed::seal(&sesame.key, SEAL_PURPOSE, &id, &totp::new_secret())?,
        error: None,
    };
    flows::insert(
        &sesame.store.pool,
        &NewFlow {
            id: &id,
            kind: KIND,
            state: "scanning",
            person_id: Some(&person.id),
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + FLOW_TTL_SECS,
            data: &serde_json::to_string(&data)?,
        },
        now,
    )
    .await?;
    Ok(AuthenticatorOutcome::Setup { flow: id })
}

async fn confirm(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
    flow: &FlowRow,
    code: &str,
) -> Result<AuthenticatorOutcome> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let mut data: FlowData = serde_json::from_str(&flow.data).unwrap_or_default();
    let secret = sealed::open(&sesame.key, SEAL_PURPOSE, &flow.id, &data.secret_sealed)?;
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let step = if typed.is_empty() {
        data.error = Some(StepError::new(Msg::AuthenticatorCodeRequired, Some("code")));
        None
    } else {
        let step = totp::matching_step(&secret, &typed, now)?;
        if step.is_none() {
            data.error = Some(StepError::new(Msg::AuthenticatorCodeWrong, Some("code")));
        }
        step
    };
    let Some(step) = step else {
        let json = serde_json::to_string(&data)?;
        flows::transition(pool, &flow.id, "scanning", "scanning", &json, now).await?;
        return Ok(AuthenticatorOutcome::Setup {
            flow: flow.id.clone(),
        });
    };
    let resealed = sealed::seal(&sesame.key, SEAL_PURPOSE, &person.id, &secret)?;
    let mut tx = crate::store::begin(pool).await?;
    if !flows::transition(&mut *tx, &flow.id, "scanning", "enrolled", "{}", now).await? {
        // Confirmed by a concurrent request already.
        tx.rollback().await?;
        return Ok(AuthenticatorOutcome::Enrolled);
    }
    authenticators::replace(&mut tx, &person.id, &resealed, step, now).await?;
    audit_request(
        &mut *tx,
        sesame,
        meta,
        AuditKind::Authenticator,
        Some(&person.id),
        json!({ "outcome": "enrolled" }),
    )
    .await?;
    notify(sesame, &mut tx, person, true).await?;
    tx.commit().await?;
    crate::metrics::flow_completed(KIND);
    sesame.outbox.wake();
    Ok(AuthenticatorOutcome::Enrolled)
}

async fn remove(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
) -> Result<AuthenticatorOutcome> {
    let mut tx = crate::store::begin(&sesame.store.pool).await?;
    if !authenticators::remove(&mut *tx, &person.id).await? {
        tx.rollback().await?;
        return Ok(AuthenticatorOutcome::Unchanged);
    }
    audit_request(
        &mut *tx,
        sesame,
        meta,
        AuditKind::Authenticator,
        Some(&person.id),
        json!({ "outcome": "removed" }),
    )
    .await?;
    notify(sesame, &mut tx, person, false).await?;
    tx.commit().await?;
    sesame.outbox.wake();
    Ok(AuthenticatorOutcome::Removed)
}

/// Tells every known address that an app was added or removed.
async fn notify(
    sesame: &Sesame,
    tx: &mut sqlx::AnyConnection,
    person: &PersonRow,
    added: bool,
) -> Result<()> {
    let Some(recipient) = recovery::find_by_id(&mut *tx, &person.id).await? else {
        return Ok(());
    };
    let locale = Locale::from_code(&person.language).unwrap_or_default();
    let sign_in = sesame.config.sign_in_url();
    let institution = sesame.config.institution();
    let notice = if added {
        AccountNotice::AuthenticatorAdded
    } else {
        AccountNotice::AuthenticatorRemoved
    };
    let mail = templates::account_notice(locale, &institution, notice, &person.login, &sign_in);
    let now = sesame.clock.now_secs();
    for address in recipient.known_addresses() {
        sesame
            .outbox
            .enqueue(&mut *tx, &address, &mail, now)
            .await?;
    }
    Ok(())
}
