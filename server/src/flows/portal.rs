//! The portal context every page starts from.

use app::api::{
    AppError,
    portal::{PortalApi, PortalContext},
    ssr::RequestMeta,
};

use super::signin::current_person;
use crate::state::Sesame;

pub struct Portal(pub Sesame);

#[async_trait::async_trait]
impl PortalApi for Portal {
    async fn context(&self, meta: &RequestMeta) -> Result<PortalContext, AppError> {
        let sesame = &self.0;
        let person = current_person(sesame, meta)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?;
        let is_agent = match &person {
            Some(p) => crate::store::roles::is_agent(&sesame.store.pool, &p.id)
                .await
                .map_err(|e| e.into_app_error(&meta.request_id))?,
            None => false,
        };
        Ok(PortalContext {
            institution: sesame.config.institution(),
            csrf_token: sesame.key.csrf_token(&meta.device_id),
            person: person.map(|p| app::api::portal::SignedInPerson {
                login: p.login,
                first_name: p.first_name,
                last_name: p.last_name,
                is_agent,
            }),
            password_policy: sesame.config.password.clone(),
            locale: meta.locale,
        })
    }
}
