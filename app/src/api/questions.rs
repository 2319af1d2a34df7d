//! Security questions under "My account" (seed 000): choose the institution's questions or
//! write one's own, and answer them. Only the questions are ever shown back. A refusal is
//! kept in a short flow bound to this browser, so the page after the redirect shows it
//! with or without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, step::StepError};

/// The value of a question choice meaning "I write my own question".
pub const CUSTOM_QUESTION: &str = "custom";

/// One of the institution's questions, in the page's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionChoice {
    pub id: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionsView {
    /// False when nobody is signed in (the page sends to sign-in).
    pub signed_in: bool,
    /// How many questions to set up.
    pub count: u32,
    pub choices: Vec<QuestionChoice>,
    /// The person's questions as they are now (never the answers).
    pub enrolled: Vec<String>,
    pub error: Option<StepError>,
    /// What was chosen before a refusal (never the answers).
    pub chosen: Vec<String>,
    pub custom: Vec<String>,
}

/// The form: per question, the choice (an id or `custom`), the text of one's own
/// question, and the answer. Field names are `form[question][0]`, `form[custom][0]`...
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionsForm {
    #[serde(default)]
    pub question: Vec<String>,
    #[serde(default)]
    pub custom: Vec<String>,
    #[serde(default)]
    pub answer: Vec<String>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait QuestionsApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<QuestionsView, AppError>;
    /// Saves the questions; answers `None` when saved, or the flow that holds the refusal.
    async fn save(
        &self,
        meta: &super::ssr::RequestMeta,
        form: QuestionsForm,
    ) -> Result<Option<String>, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_questions(flow: Option<String>) -> Result<QuestionsView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.questions.view(&meta, flow).await
}

#[server(prefix = "/api")]
pub async fn save_questions(csrf: String, form: QuestionsForm) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    match services()?.questions.save(&meta, form).await? {
        None => redirect_to("/account/questions?saved=1"),
        Some(flow_id) => redirect_to(&format!("/account/questions?flow={flow_id}")),
    }
    Ok(())
}
