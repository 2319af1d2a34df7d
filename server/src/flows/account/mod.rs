//! "My account" settings (issue 6, seed 002): the signed-in person changes their password,
//! ends sessions, and links accounts held in other systems.
//!
//! Each form's outcome (a refusal, or what a change did) is kept in a short-lived flow
//! bound to this browser and this person; the page is shown again with that flow's id,
//! so the outcome survives the redirect a form post without JavaScript ends in.

mod linked;
mod password;
mod sessions;

use app::api::{
    AppError,
    account::{
        AccountSettingsApi, LinkAccountForm, LinkedAccountsView, PasswordChangeForm,
        PasswordChangeView, SessionsView,
    },
    ssr::RequestMeta,
};
use serde::{Serialize, de::DeserializeOwned};

use super::{binding, signin::current_person};
use crate::{
    error::Result,
    state::Sesame,
    store::{
        flows::{self, NewFlow},
        new_id,
        people::PersonRow,
    },
};

pub use sessions::describe_user_agent;

/// Outcomes are read on the page right after the redirect; a few minutes is plenty.
const OUTCOME_VALID_SECS: i64 = 10 * 60;

pub struct AccountSettings(pub Sesame);

/// Everything a settings request works with: who asks, from which browser, when.
struct Request<'a> {
    sesame: &'a Sesame,
    meta: &'a RequestMeta,
    person: PersonRow,
    now: i64,
}

impl<'a> Request<'a> {
    /// The request of the signed-in person, if anyone is signed in.
    async fn signed_in(sesame: &'a Sesame, meta: &'a RequestMeta) -> Result<Option<Self>> {
        Ok(current_person(sesame, meta).await?.map(|person| Request {
            sesame,
            meta,
            person,
            now: sesame.clock.now_secs(),
        }))
    }

    /// The stored hash of this browser's session.
    fn this_session(&self) -> String {
        self.meta
            .session_token
            .as_deref()
            .map(|token| self.sesame.key.keyed_hash("session", token))
            .unwrap_or_default()
    }

    /// Keeps an outcome for the page to show; returns the flow naming it.
    async fn keep_outcome(&self, kind: &str, outcome: &impl Serialize) -> Result<String> {
        let id = new_id();
        flows::insert(
            &self.sesame.store.pool,
            &NewFlow {
                id: &id,
                kind,
                state: "shown",
                person_id: Some(&self.person.id),
                locale: self.meta.locale.code(),
                binding_hash: &binding(self.sesame, self.meta),
                expires_at: self.now + OUTCOME_VALID_SECS,
                data: &serde_json::to_string(outcome)?,
            },
            self.now,
        )
        .await?;
        Ok(id)
    }

    /// The outcome kept under `flow_id`, if it is this browser's and this person's.
    async fn outcome<T: DeserializeOwned>(
        &self,
        kind: &str,
        flow_id: Option<&str>,
    ) -> Result<Option<T>> {
        let Some(flow_id) = flow_id else {
            return Ok(None);
        };
        let flow = flows::find(&self.sesame.store.pool, flow_id, kind).await?;
        Ok(flow
            .filter(|f| {
                f.binding_hash == binding(self.sesame, self.meta)
                    && f.person_id.as_deref() == Some(self.person.id.as_str())
                    && f.expires_at > self.now
            })
            .and_then(|f| serde_json::from_str(&f.data).ok()))
    }
}

#[async_trait::async_trait]
impl AccountSettingsApi for AccountSettings {
    async fn password_view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<PasswordChangeView, AppError> {
        password::view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn change_password(
        &self,
        meta: &RequestMeta,
        form: PasswordChangeForm,
    ) -> Result<Option<String>, AppError> {
        password::change(&self.0, meta, form)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }

    async fn sessions_view(&self, meta: &RequestMeta) -> Result<SessionsView, AppError> {
        sessions::view(&self.0, meta)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn end_sessions(
        &self,
        meta: &RequestMeta,
        handle: Option<String>,
    ) -> Result<u32, AppError> {
        sessions::end(&self.0, meta, handle)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }

    async fn linked_view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<LinkedAccountsView, AppError> {
        linked::view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn link(
        &self,
        meta: &RequestMeta,
        form: LinkAccountForm,
    ) -> Result<Option<String>, AppError> {
        linked::link(&self.0, meta, form)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }
}
