//! Forgot username (seed 000).
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> found: employee number + PIN, or names + date of birth + SIN digits, right
//!     [*] --> refused: anything else (unknown person, wrong answer, throttled)
//!     refused --> found: a later right answer (a new flow)
//! ```
//!
//! Each submission makes a short flow bound to this browser that holds the outcome, so the
//! page after the redirect can show it without JavaScript. Unknown people and wrong answers
//! take the same path: the same slow hash is checked (a dummy one when nobody matches), the
//! same message is shown, and the person never learns which answer was wrong. Failures are
//! counted per client address and per identifier, in the database.

use app::{
    api::{
        AppError,
        ssr::RequestMeta,
        step::StepError,
        username::{ForgotUsernameForm, ForgotUsernameView, IdentityMethod, UsernameRecoveryApi},
    },
    i18n::{Locale, Msg},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    audit_request, binding,
    knowledge::{self, dummy_hash, parse_date},
};
use crate::{
    crypto::attributes::{AttributeKind, verify_attribute},
    error::{Error, Result},
    mail::templates::{self, AccountNotice},
    people::same_name,
    state::Sesame,
    store::{
        audit::AuditKind,
        flows::{self, NewFlow},
        identity::{self, IdentityRecord},
        new_id,
        throttle::{self, Rule},
    },
};

const KIND: &str = "username_recovery";
const FOUND: &str = "found";
const REFUSED: &str = "refused";
/// How long the page keeps showing the outcome.
const FLOW_TTL_SECS: i64 = 15 * 60;

pub struct UsernameRecoveryFlow(pub Sesame);

#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    method: String,
    error: Option<StepError>,
    found_login: Option<String>,
    mailed_to: Option<String>,
    employee_number: String,
    first_name: String,
    last_name: String,
    date_of_birth: String,
}

#[async_trait::async_trait]
impl UsernameRecoveryApi for UsernameRecoveryFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        method: Option<String>,
    ) -> Result<ForgotUsernameView, AppError> {
        view(&self.0, meta, flow_id, method)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn submit(
        &self,
        meta: &RequestMeta,
        form: ForgotUsernameForm,
    ) -> Result<String, AppError> {
        submit(&self.0, meta, form)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    method: Option<String>,
) -> Result<ForgotUsernameView> {
    let asked = method
        .as_deref()
        .and_then(IdentityMethod::from_code)
        .unwrap_or_default();
    let fresh = ForgotUsernameView {
        method: asked,
        ..Default::default()
    };
    let Some(flow_id) = flow_id else {
        return Ok(fresh);
    };
    let Some(flow) = flows::find(&sesame.store.pool, &flow_id, KIND).await? else {
        return Ok(fresh);
    };
    if flow.binding_hash != binding(sesame, meta) || flow.expires_at <= sesame.clock.now_secs() {
        return Ok(fresh);
    }
    let data: FlowData = serde_json::from_str(&flow.data).unwrap_or_default();
    Ok(ForgotUsernameView {
        method: IdentityMethod::from_code(&data.method).unwrap_or_default(),
        error: data.error,
        found_login: data.found_login,
        mailed_to: data.mailed_to,
        employee_number: data.employee_number,
        first_name: data.first_name,
        last_name: data.last_name,
        date_of_birth: data.date_of_birth,
    })
}

fn field(value: Option<String>) -> String {
    knowledge::field(&value.unwrap_or_default())
}

async fn submit(sesame: &Sesame, meta: &RequestMeta, form: ForgotUsernameForm) -> Result<String> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let method = IdentityMethod::from_code(&form.method).unwrap_or_default();
    let mut data = FlowData {
        method: method.code().to_owned(),
        employee_number: field(form.employee_number),
        first_name: field(form.first_name),
        last_name: field(form.last_name),
        date_of_birth: field(form.date_of_birth),
        ..Default::default()
    };
    let secret = field(match method {
        IdentityMethod::EmployeePin => form.pin,
        IdentityMethod::Attributes => form.sin_last6,
    });

    if let Some(problem) = missing_field(method, &data, &secret) {
        data.error = Some(problem);
        return record(sesame, meta, &data, REFUSED, None, now).await;
    }

    // Failures count per address and per identifier, across instances.
    let identifier = match method {
        IdentityMethod::EmployeePin => format!("pin:{}", data.employee_number.to_uppercase()),
        IdentityMethod::Attributes => format!("identity:{}", data.date_of_birth),
    };
    let id_key = format!(
        "username:{}",
        sesame.key.keyed_hash("throttle", &identifier)
    );
    let ip_key = format!("username:ip:{}", throttle::address(meta.client_ip));
    let locked = throttle::locked_for_any(pool, &[&id_key, &ip_key], now).await?;
    if let Some(seconds) = locked {
        audit_request(
            pool,
            sesame,
            meta,
            AuditKind::UsernameRecovery,
            None,
            json!({ "outcome": "throttled" }),
        )
        .await?;
        data.error = Some(throttled(seconds));
        return record(sesame, meta, &data, REFUSED, None, now).await;
    }

    let candidates = match method {
        IdentityMethod::EmployeePin => {
            identity::find_by_employee_number(pool, &data.employee_number).await?
        }
        IdentityMethod::Attributes => match parse_date(&data.date_of_birth) {
            Some(date) => identity::find_by_date_of_birth(pool, &date.to_string())
                .await?
                .into_iter()
                .filter(|p| {
                    same_name(&p.first_name, &data.first_name)
                        && same_name(&p.last_name, &data.last_name)
                })
                .collect(),
            None => Vec::new(),
        },
    };
    let found = prove(sesame, method, candidates, &secret).await?;

    let Some(person) = found else {
        let limits = &sesame.config.throttle;
        let lock = throttle::record_failures(
            pool,
            &[
                (
                    &id_key,
                    Rule::with_limit(limits, limits.recovery_per_identifier),
                ),
                (
                    &ip_key,
                    Rule::with_limit(limits, limits.recovery_per_address),
                ),
            ],
            now,
        )
        .await?;
        audit_request(
            pool,
            sesame,
            meta,
            AuditKind::UsernameRecovery,
            None,
            json!({ "method": method.code(), "outcome": "refused" }),
        )
        .await?;
        data.error = Some(match lock {
            Some(seconds) => throttled(seconds),
            None => StepError::new(Msg::UsernameNotFound, None),
        });
        return record(sesame, meta, &data, REFUSED, None, now).await;
    };

    throttle::clear(pool, &id_key).await?;
    let locale = Locale::from_code(&person.language).unwrap_or(meta.locale);
    let address = person
        .recovery_email
        .clone()
        .or_else(|| person.email.clone())
        .filter(|a| !a.is_empty());
    data.found_login = Some(person.login.clone());
    data.mailed_to = address.as_deref().map(mask_address);
    // Nothing typed stays in the flow once it has served.
    data.employee_number.clear();
    data.first_name.clear();
    data.last_name.clear();
    data.date_of_birth.clear();
    let mail = address.map(|address| {
        let mail = templates::account_notice(
            locale,
            &sesame.config.institution(),
            AccountNotice::UsernameReminder,
            &person.login,
            &sesame.config.sign_in_url(),
        );
        (address, mail)
    });
    let id = new_id();
    let mut tx = crate::store::begin(pool).await?;
    insert_flow(
        sesame,
        meta,
        &mut tx,
        &id,
        &data,
        FOUND,
        Some(&person.id),
        now,
    )
    .await?;
    if let Some((address, mail)) = &mail {
        sesame.outbox.enqueue(&mut *tx, address, mail, now).await?;
    }
    audit_request(
        &mut *tx,
        sesame,
        meta,
        AuditKind::UsernameRecovery,
        Some(&person.id),
        json!({ "method": method.code(), "outcome": "found", "mailed": mail.is_some() }),
    )
    .await?;
    tx.commit().await?;
    crate::metrics::flow_completed(KIND);
    if mail.is_some() {
        sesame.outbox.wake();
    }
    Ok(id)
}

fn missing_field(method: IdentityMethod, data: &FlowData, secret: &str) -> Option<StepError> {
    let missing = |field: &str| Some(StepError::new(Msg::UsernameFieldRequired, Some(field)));
    match method {
        IdentityMethod::EmployeePin if data.employee_number.is_empty() => {
            missing("employee_number")
        }
        IdentityMethod::EmployeePin if secret.is_empty() => missing("pin"),
        IdentityMethod::Attributes if data.first_name.is_empty() => missing("first_name"),
        IdentityMethod::Attributes if data.last_name.is_empty() => missing("last_name"),
        IdentityMethod::Attributes if parse_date(&data.date_of_birth).is_none() => Some(
            StepError::new(Msg::UsernameDateInvalid, Some("date_of_birth")),
        ),
        IdentityMethod::Attributes if secret.is_empty() => missing("sin_last6"),
        _ => None,
    }
}

/// The one candidate whose secret matches, checked off the async threads. Every candidate is
/// checked (and the dummy hash when there are none) so the work does not depend on who
/// exists.
async fn prove(
    sesame: &Sesame,
    method: IdentityMethod,
    candidates: Vec<IdentityRecord>,
    secret: &str,
) -> Result<Option<IdentityRecord>> {
    let kind = match method {
        IdentityMethod::EmployeePin => AttributeKind::Pin,
        IdentityMethod::Attributes => AttributeKind::SinLast6,
    };
    let dummy = dummy_hash(sesame, kind).to_owned();
    let key = sesame.key.clone();
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || {
        if candidates.is_empty() {
            verify_attribute(&key, kind, &secret, &dummy);
            return None;
        }
        let mut matching: Vec<IdentityRecord> = candidates
            .into_iter()
            .filter(|candidate| {
                let stored = match kind {
                    AttributeKind::Pin => candidate.pin_hash.as_deref(),
                    AttributeKind::SinLast6 => candidate.sin_hash.as_deref(),
                };
                verify_attribute(&key, kind, &secret, stored.unwrap_or(&dummy)) && stored.is_some()
            })
            .collect();
        // Two people answering alike cannot be told apart: the help desk decides.
        if matching.len() == 1 {
            matching.pop()
        } else {
            None
        }
    })
    .await
    .map_err(|e| Error::Hashing(e.to_string()))
}

fn throttled(seconds: i64) -> StepError {
    StepError::locked(Msg::UsernameThrottled, None, seconds)
}

/// `marie.tremblay@example.org` -> `m••••@example.org`: enough to recognise one's own.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}••••@{domain}")
        }
        None => "••••".to_owned(),
    }
}

async fn record(
    sesame: &Sesame,
    meta: &RequestMeta,
    data: &FlowData,
    state: &str,
    person_id: Option<&str>,
    now: i64,
) -> Result<String> {
    let id = new_id();
    let mut conn = sesame.store.pool.acquire().await?;
    insert_flow(sesame, meta, &mut conn, &id, data, state, person_id, now).await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    conn: &mut sqlx::AnyConnection,
    id: &str,
    data: &FlowData,
    state: &str,
    person_id: Option<&str>,
    now: i64,
) -> Result<()> {
    flows::insert(
        conn,
        &NewFlow {
            id,
            kind: KIND,
            state,
            person_id,
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + FLOW_TTL_SECS,
            data: &serde_json::to_string(data)?,
        },
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_but_recognisable() {
        assert_eq!(mask_address("marie@perso.example"), "m••••@perso.example");
        assert_eq!(mask_address("nonsense"), "••••");
    }
}
