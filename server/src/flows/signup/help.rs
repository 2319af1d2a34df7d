//! "Can't sign in?" (seed 003): the person types their address. A pending account made
//! from an invitation gets a new activation mail, an active one a password-reset mail,
//! an unknown address nothing; the page that follows is the same in all three cases.

use app::{
    api::{
        signup::{BotProof, CantSignInForm, CantSignInView, SignUpStep},
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::Msg,
    policy::email::{MAX_EMAIL_LENGTH, looks_like_email, normalize_email},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Context, FlowData, gate};
use crate::{
    bot_check,
    error::Result,
    flows::{audit_request, binding, password},
    state::Sesame,
    store::{
        audit::AuditKind,
        flows::{self, NewFlow},
        invitations, new_id, people, recovery,
        throttle::{self, Rule},
    },
};

const KIND: &str = "cant_sign_in";
/// How long a refused form keeps its message.
const REFUSAL_TTL_SECS: i64 = 15 * 60;

/// A refused form, kept for the page after the redirect.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Refusal {
    email: String,
    error: Option<StepError>,
}

pub(crate) async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<CantSignInView> {
    let mut view = CantSignInView {
        bot_challenge: bot_check::issue(sesame).await?,
        ..Default::default()
    };
    let Some(flow_id) = flow_id else {
        return Ok(view);
    };
    let flow = flows::find(&sesame.store.pool, &flow_id, KIND).await?;
    if let Some(flow) = flow.filter(|f| {
        f.binding_hash == binding(sesame, meta) && f.expires_at > sesame.clock.now_secs()
    }) {
        let refusal: Refusal = serde_json::from_str(&flow.data).unwrap_or_default();
        view.email = refusal.email;
        view.error = refusal.error;
    }
    Ok(view)
}

/// The "sent" page never comes sooner than this after the form is posted, so its timing
/// does not tell an unknown address (nothing to do) from a known one (a flow, a mail).
const SENT_PAGE_MIN_MILLIS: u64 = 400;

/// Answers the flow of a refusal to show, or `None` for the "sent" page.
pub(crate) async fn request(
    sesame: &Sesame,
    meta: &RequestMeta,
    form: CantSignInForm,
) -> Result<Option<String>> {
    let started = tokio::time::Instant::now();
    let typed: String = form
        .email
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_EMAIL_LENGTH + 1)
        .collect();
    let bot = BotProof {
        challenge: form.bot_challenge.unwrap_or_default(),
        solution: form.bot_solution.unwrap_or_default(),
    };
    let admitted = match gate::admit(sesame, meta, "cant_sign_in", &bot).await? {
        Ok(_) if typed.is_empty() => Err(StepError::new(Msg::EmailRequired, Some("email"))),
        Ok(_) if !looks_like_email(&typed) => Err(StepError::new(Msg::EmailInvalid, Some("email"))),
        other => other,
    };
    let admission = match admitted {
        Ok(admission) => admission,
        Err(error) => return refuse(sesame, meta, typed, error).await.map(Some),
    };
    admission.count(sesame).await?;
    let address = normalize_email(&typed).to_lowercase();
    let outcome = help(sesame, meta, &address).await?;
    audit_request(
        &sesame.store.pool,
        sesame,
        meta,
        AuditKind::SignInHelp,
        outcome.1.as_deref(),
        json!({ "outcome": outcome.0 }),
    )
    .await?;
    tokio::time::sleep_until(started + std::time::Duration::from_millis(SENT_PAGE_MIN_MILLIS))
        .await;
    Ok(None)
}

/// Sends what the account at `address` needs; answers what was done, and for whom.
async fn help(
    sesame: &Sesame,
    meta: &RequestMeta,
    address: &str,
) -> Result<(&'static str, Option<String>)> {
    let pool = &sesame.store.pool;
    // However many browsers ask, an address gets a few mails an hour at most.
    let now = sesame.clock.now_secs();
    let address_key = format!(
        "signup:help-address:{}",
        sesame.key.keyed_hash("throttle", address)
    );
    let rule = Rule {
        limit: sesame.config.signup.max_sends,
        window_secs: 3600,
        lockout_secs: 3600,
    };
    if throttle::locked_for_any(pool, &[&address_key], now)
        .await?
        .is_some()
    {
        return Ok(("address_limit", None));
    }
    throttle::record_failures(pool, &[(&address_key, rule)], now).await?;
    // Accounts made from an invitation have their address as user ID.
    if let Some(person) = people::find_by_login(pool, address).await?
        && invitations::for_person(pool, &person.id).await?.is_some()
    {
        return match person.state() {
            Some(people::AccountState::Pending) => {
                resend_activation(sesame, meta, &person).await?;
                Ok(("activation_sent", Some(person.id)))
            }
            Some(people::AccountState::Active) => {
                let sent = password::mail_reset(sesame, meta, &person.login).await?;
                Ok((
                    if sent { "reset_sent" } else { "nothing_sent" },
                    Some(person.id),
                ))
            }
            _ => Ok(("nothing_sent", Some(person.id))),
        };
    }
    // Anyone else active whose recovery address this is (only one: a shared address
    // names nobody in particular).
    let mut found = recovery::find_by_address(pool, address).await?;
    found.retain(|p| p.state == "active");
    if let [person] = found.as_slice() {
        let sent = password::mail_reset(sesame, meta, &person.login).await?;
        return Ok((
            if sent { "reset_sent" } else { "nothing_sent" },
            Some(person.id.clone()),
        ));
    }
    Ok(("unknown_address", None))
}

/// A new sign-up flow at the code step for a pending account, its code and link mailed.
async fn resend_activation(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &people::PersonRow,
) -> Result<()> {
    let ctx = Context {
        sesame,
        meta,
        now: sesame.clock.now_secs(),
    };
    let data = FlowData {
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        email: person.login.clone(),
        person_id: Some(person.id.clone()),
        ..Default::default()
    };
    let pool = &sesame.store.pool;
    // Created at the password step so that sending the code moves it to the code step.
    let id = ctx
        .insert_flow(pool, SignUpStep::Password, Some(&person.id), &data)
        .await?;
    let Some(flow) = flows::find(pool, &id, super::KIND).await? else {
        return Ok(());
    };
    ctx.send_proof(&flow, data, false, false).await
}

async fn refuse(
    sesame: &Sesame,
    meta: &RequestMeta,
    email: String,
    error: StepError,
) -> Result<String> {
    let now = sesame.clock.now_secs();
    let id = new_id();
    let data = serde_json::to_string(&Refusal {
        email,
        error: Some(error),
    })?;
    flows::insert(
        &sesame.store.pool,
        &NewFlow {
            id: &id,
            kind: KIND,
            state: "refused",
            person_id: None,
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + REFUSAL_TTL_SECS,
            data: &data,
        },
        now,
    )
    .await?;
    Ok(id)
}
