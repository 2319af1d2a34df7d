//! The flows' logic: one module per flow, each implementing its contract's trait from
//! `app::api`, over the store, the outbox, the clock and the hasher.

pub mod account;
pub mod activation;
pub mod authenticator;
pub mod helpdesk;
pub mod knowledge;
pub mod password;
pub mod portal;
pub mod questions;
pub mod recovery_email;
pub mod signin;
pub mod signup;
pub mod username;

use std::sync::Arc;

use app::api::ssr::{RequestMeta, Services};
use sqlx::{Any, Executor};

use crate::{
    error::Result,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        statement::Statement,
    },
};

/// The services handed to server functions.
pub fn services(sesame: &Sesame) -> Services {
    Services {
        portal: Arc::new(portal::Portal(sesame.clone())),
        sign_in: Arc::new(signin::SignInFlow(sesame.clone())),
        activation: Arc::new(activation::ActivationFlow(sesame.clone())),
        username: Arc::new(username::UsernameRecoveryFlow(sesame.clone())),
        password: Arc::new(password::PasswordRecoveryFlow(sesame.clone())),
        questions: Arc::new(questions::QuestionsFlow(sesame.clone())),
        methods: Arc::new(password::methods::RecoveryMethodsOverview(sesame.clone())),
        authenticator: Arc::new(authenticator::AuthenticatorFlow(sesame.clone())),
        recovery_email: Arc::new(recovery_email::RecoveryEmailFlow(sesame.clone())),
        sign_up: Arc::new(signup::SignUpFlow(sesame.clone())),
        helpdesk: Arc::new(helpdesk::HelpdeskConsole(sesame.clone())),
        account: Arc::new(account::AccountSettings(sesame.clone())),
    }
}

/// Audits what a person did through this request (address and request id included).
pub(crate) async fn audit_request<'e>(
    db: impl Executor<'e, Database = Any>,
    sesame: &Sesame,
    meta: &RequestMeta,
    kind: AuditKind,
    person_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    audit_request_statement(sesame, meta, kind, person_id, detail)
        .execute(db)
        .await?;
    Ok(())
}

/// [`audit_request`] as a statement, for [`crate::store::Store::write_all`].
pub(crate) fn audit_request_statement(
    sesame: &Sesame,
    meta: &RequestMeta,
    kind: AuditKind,
    person_id: Option<&str>,
    detail: serde_json::Value,
) -> Statement {
    let client_ip = meta.client_ip.to_string();
    let event = AuditEvent {
        kind,
        person_id,
        actor_id: None,
        client_ip: Some(&client_ip),
        request_id: Some(&meta.request_id),
        detail,
    };
    audit::record_statement(event, sesame.clock.now_ms())
}

/// The hash a flow is bound to: this browser's device cookie, keyed.
pub(crate) fn binding(sesame: &Sesame, meta: &RequestMeta) -> String {
    sesame.key.keyed_hash("flow-binding", &meta.device_id)
}
