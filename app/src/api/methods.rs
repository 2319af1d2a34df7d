//! "My account → Recovery methods": which ways of proving who you are are set up for this
//! account, and which the institution asks for to reset a forgotten password.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, password::RecoveryMethod};

/// One method and whether this account can use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodStatus {
    pub method: RecoveryMethod,
    pub set_up: bool,
    /// Where a code goes, for the email code.
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryMethodsView {
    pub signed_in: bool,
    /// The institution's methods, in its order, with this account's state.
    pub methods: Vec<MethodStatus>,
    /// The combinations of methods that let this account reset its password.
    pub sufficient: Vec<Vec<RecoveryMethod>>,
    /// Methods also asked, when set up.
    pub plus_if_enrolled: Vec<RecoveryMethod>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RecoveryMethodsApi: Send + Sync {
    async fn view(&self, meta: &super::ssr::RequestMeta) -> Result<RecoveryMethodsView, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_recovery_methods() -> Result<RecoveryMethodsView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.methods.view(&meta).await
}
