//! `sesame admin invite`: issuers invite people by address, one or a CSV file of them.
//! Each invitation is a mail with a "Sign up" button, valid for
//! `signup.invitation_valid_days`; inviting an address again replaces its link, and an
//! invitation can be revoked. Addresses that already have an account are skipped.

use app::{
    i18n::Locale,
    policy::email::{looks_like_email, normalize_email},
};
use jiff::{Timestamp, tz::TimeZone};
use serde_json::json;

use crate::{
    crypto::tokens::random_token,
    error::{Error, Result},
    letters::long_date,
    mail::templates,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        invitations::{self, InvitationRow, NewInvitation},
        new_id, people,
    },
};

/// One invitation to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitee {
    pub email: String,
    /// Who invites (shown in the mail and on the sign-up page); the institution if empty.
    pub issuer: String,
    pub language: Locale,
}

/// What became of one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InviteOutcome {
    Sent,
    /// Sent, and the address's earlier invitation no longer works.
    Replaced,
    /// An account already exists for the address: nothing sent.
    AlreadyHasAccount,
}

/// The address as invitations store and compare it: trimmed, lower case.
pub fn canonical_address(email: &str) -> String {
    normalize_email(email).to_lowercase()
}

/// Invites one address: the invitation and its mail are written in one transaction.
pub async fn invite(sesame: &Sesame, invitee: &Invitee, actor: &str) -> Result<InviteOutcome> {
    invite_because(sesame, invitee, actor, None).await
}

/// [`invite`], with the reason an agent gave kept in the audit trail.
pub async fn invite_because(
    sesame: &Sesame,
    invitee: &Invitee,
    actor: &str,
    reason: Option<&str>,
) -> Result<InviteOutcome> {
    let email = canonical_address(&invitee.email);
    if !looks_like_email(&email) {
        return Err(Error::Invalid(format!(
            "{:?} is not a valid email address",
            invitee.email
        )));
    }
    let pool = &sesame.store.pool;
    if people::find_by_login(pool, &email).await?.is_some() {
        return Ok(InviteOutcome::AlreadyHasAccount);
    }
    let now = sesame.clock.now_secs();
    let locale = invitee.language;
    let institution = sesame.config.institution();
    // Kept as given (empty: the institution, named in the language of each page).
    let issuer: String = invitee.issuer.trim().chars().take(200).collect();
    let shown_issuer = crate::flows::signup::issuer_name(sesame, locale, &issuer);
    let token = random_token();
    let id = new_id();
    let expires_at = now + sesame.config.signup.invitation_valid_days * 86_400;
    let mut tx = crate::store::begin(pool).await?;
    let replaced = invitations::insert(
        &mut tx,
        &NewInvitation {
            id: &id,
            email: &email,
            issuer: &issuer,
            language: locale.code(),
            token_hash: &sesame.key.keyed_hash("invitation", &token),
            expires_at,
            actor,
        },
        now,
    )
    .await?;
    let link = format!(
        "{}/signup?invitation={token}&lang={}",
        sesame.config.public_base(),
        locale.code()
    );
    let zone = TimeZone::get(&sesame.config.institution.time_zone).unwrap_or(TimeZone::UTC);
    let deadline = Timestamp::from_second(expires_at)
        .map(|ts| long_date(locale, &ts.to_zoned(zone)))
        .unwrap_or_default();
    let mail = templates::invitation(locale, &institution, &shown_issuer, &link, &deadline);
    sesame.outbox.enqueue(&mut *tx, &email, &mail, now).await?;
    let outcome = if replaced > 0 {
        InviteOutcome::Replaced
    } else {
        InviteOutcome::Sent
    };
    audit::record(
        &mut *tx,
        AuditEvent {
            kind: AuditKind::Invitation,
            person_id: None,
            actor_id: Some(actor),
            client_ip: None,
            request_id: None,
            detail: json!({
                "invitation": id,
                "outcome": if replaced > 0 { "replaced" } else { "sent" },
                "issuer": issuer,
                "expires_at": expires_at,
                "reason": reason,
            }),
        },
        sesame.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    sesame.outbox.wake();
    Ok(outcome)
}

/// A CSV of invitees: a header row naming `email` and optionally `issuer` and
/// `language`, in any order. Every row is checked before anything is sent.
pub fn parse_csv(bytes: &[u8], defaults: &Invitee) -> Result<Vec<Invitee>, Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => return Err(vec![format!("cannot read the header row: {e}")]),
    };
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(email_column) = column("email") else {
        return Err(vec!["the header row must name an `email` column".into()]);
    };
    let (issuer_column, language_column) = (column("issuer"), column("language"));
    let mut invitees = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let field = |column: Option<usize>| {
            column
                .and_then(|c| record.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let email = field(Some(email_column)).unwrap_or_default();
        if !looks_like_email(&canonical_address(&email)) {
            problems.push(format!(
                "line {line}: {email:?} is not a valid email address"
            ));
            continue;
        }
        let language = match field(language_column) {
            Some(code) => match Locale::from_code(&code) {
                Some(locale) => locale,
                None => {
                    problems.push(format!("line {line}: language must be fr or en"));
                    continue;
                }
            },
            None => defaults.language,
        };
        invitees.push(Invitee {
            email,
            issuer: field(issuer_column).unwrap_or_else(|| defaults.issuer.clone()),
            language,
        });
    }
    if problems.is_empty() {
        Ok(invitees)
    } else {
        Err(problems)
    }
}

/// Cancels the address's pending invitation; answers how many were cancelled.
pub async fn revoke(sesame: &Sesame, email: &str, actor: &str) -> Result<u64> {
    revoke_because(sesame, email, actor, None).await
}

/// [`revoke`], with the reason an agent gave kept in the audit trail.
pub async fn revoke_because(
    sesame: &Sesame,
    email: &str,
    actor: &str,
    reason: Option<&str>,
) -> Result<u64> {
    let email = canonical_address(email);
    let mut tx = crate::store::begin(&sesame.store.pool).await?;
    let revoked = invitations::revoke(&mut *tx, &email, sesame.clock.now_secs()).await?;
    if revoked > 0 {
        audit::record(
            &mut *tx,
            AuditEvent {
                kind: AuditKind::Invitation,
                person_id: None,
                actor_id: Some(actor),
                client_ip: None,
                request_id: None,
                detail: json!({ "outcome": "revoked", "count": revoked, "reason": reason }),
            },
            sesame.clock.now_ms(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Invitations newest first (an address's, or all), for the listing.
pub async fn list(sesame: &Sesame, email: Option<&str>) -> Result<Vec<InvitationRow>> {
    let email = email.map(canonical_address);
    invitations::list(&sesame.store.pool, email.as_deref()).await
}
