//! "My account → Recovery methods": what is set up for the signed-in person, and the rule of
//! their category, read from the same places forgot password reads them.

use app::api::{
    AppError,
    methods::{MethodStatus, RecoveryMethodsApi, RecoveryMethodsView},
    password::RecoveryMethod,
    ssr::RequestMeta,
};

use super::{Enrolled, available_methods, offered_methods, rules};
use crate::{error::Result, flows::signin::current_person, state::Sesame, store::recovery};

pub struct RecoveryMethodsOverview(pub Sesame);

#[async_trait::async_trait]
impl RecoveryMethodsApi for RecoveryMethodsOverview {
    async fn view(&self, meta: &RequestMeta) -> Result<RecoveryMethodsView, AppError> {
        view(&self.0, meta)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

fn codes(list: &[String]) -> Vec<RecoveryMethod> {
    list.iter()
        .filter_map(|code| RecoveryMethod::from_code(code))
        .collect()
}

async fn view(sesame: &Sesame, meta: &RequestMeta) -> Result<RecoveryMethodsView> {
    let Some(signed_in) = current_person(sesame, meta).await? else {
        return Ok(RecoveryMethodsView::default());
    };
    let pool = &sesame.store.pool;
    let Some(person) = recovery::find_by_id(pool, &signed_in.id).await? else {
        return Ok(RecoveryMethodsView::default());
    };
    let enrolled = Enrolled::read(&mut *pool.acquire().await?, &person.id).await?;
    let available = available_methods(&person, enrolled);
    let methods = offered_methods(sesame)
        .into_iter()
        .map(|method| MethodStatus {
            method,
            set_up: available.contains(&method),
            detail: (method == RecoveryMethod::EmailCode)
                .then(|| person.code_address().map(str::to_owned))
                .flatten(),
        })
        .collect();
    let rule = rules::rule_for(&sesame.config.recovery, &person.category);
    Ok(RecoveryMethodsView {
        signed_in: true,
        methods,
        sufficient: rule
            .map(|r| r.sufficient.iter().map(|c| codes(c)).collect())
            .unwrap_or_default(),
        plus_if_enrolled: rule.map(|r| codes(&r.plus_if_enrolled)).unwrap_or_default(),
    })
}
