//! Operations on people that operators perform (the CLI now, the console later).

use app::policy::{PasswordPolicy, PasswordRule, login::check_new_login};
use serde_json::json;

use crate::{
    error::{Error, Result},
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        new_id,
        people::{self, AccountState, Category, NewPerson},
    },
};

/// What an operator gives to create a person.
pub struct PersonInput {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub category: String,
    pub language: String,
    pub password: String,
}

/// Everything wrong with an input, so the operator fixes it in one go.
#[derive(Debug, PartialEq, Eq)]
pub enum InputProblem {
    Login(app::policy::login::LoginViolation),
    FirstNameMissing,
    LastNameMissing,
    Email,
    Category,
    Language,
    Password(Vec<PasswordRule>),
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use app::policy::login::LoginViolation;
        match self {
            InputProblem::Login(LoginViolation::Empty) => write!(f, "--login is empty"),
            InputProblem::Login(LoginViolation::TooLong) => {
                write!(f, "--login is longer than 64 characters")
            }
            InputProblem::Login(LoginViolation::BadCharacters) => {
                write!(f, "--login may hold only letters, digits, '.', '_' and '-'")
            }
            InputProblem::FirstNameMissing => write!(f, "--first-name is empty"),
            InputProblem::LastNameMissing => write!(f, "--last-name is empty"),
            InputProblem::Email => write!(f, "--email is not a valid email address"),
            InputProblem::Category => write!(
                f,
                "--category must be one of: {}",
                Category::ALL.map(Category::as_str).join(", ")
            ),
            InputProblem::Language => write!(f, "--language must be fr or en"),
            InputProblem::Password(rules) => {
                let names: Vec<&str> = rules
                    .iter()
                    .map(|rule| match rule {
                        PasswordRule::MinLength => "too short",
                        PasswordRule::MaxLength => "too long",
                        PasswordRule::Lower => "needs a lower-case letter",
                        PasswordRule::Upper => "needs an upper-case letter",
                        PasswordRule::Digit => "needs a digit",
                        PasswordRule::Special => "needs a special character",
                        PasswordRule::NotGuessable => {
                            "too easy to guess (common, or built from the person's names)"
                        }
                    })
                    .collect();
                write!(f, "the password is {}", names.join(", "))
            }
        }
    }
}

/// A light check of an email address: one `@`, something on each side, a dot in the
/// domain, no spaces. (The real proof is the verification mail.)
pub fn looks_like_email(email: &str) -> bool {
    app::policy::email::looks_like_email(email)
}

pub use app::policy::names::fold_name;

/// Whether two spellings of a name are the same person's (case, accents, spaces and
/// hyphens aside).
pub fn same_name(a: &str, b: &str) -> bool {
    let bare = |s: &str| fold_name(s).replace(['-', '.'], "");
    let (a, b) = (bare(a), bare(b));
    !a.is_empty() && a == b
}

fn validate(
    input: &PersonInput,
    policy: &PasswordPolicy,
    institution: &str,
) -> Result<(String, Category), Vec<InputProblem>> {
    let mut problems = Vec::new();
    let login = check_new_login(&input.login)
        .map_err(|v| problems.push(InputProblem::Login(v)))
        .ok();
    if input.first_name.trim().is_empty() {
        problems.push(InputProblem::FirstNameMissing);
    }
    if input.last_name.trim().is_empty() {
        problems.push(InputProblem::LastNameMissing);
    }
    if let Some(email) = &input.email
        && !looks_like_email(email.trim())
    {
        problems.push(InputProblem::Email);
    }
    let category = Category::parse(&input.category);
    if category.is_none() {
        problems.push(InputProblem::Category);
    }
    if app::i18n::Locale::from_code(&input.language).is_none() {
        problems.push(InputProblem::Language);
    }
    let personal = [
        input.login.as_str(),
        input.first_name.as_str(),
        input.last_name.as_str(),
        institution,
    ];
    let broken = policy.violations(&input.password, &personal);
    if !broken.is_empty() {
        problems.push(InputProblem::Password(broken));
    }
    match (login, category, problems.is_empty()) {
        (Some(login), Some(category), true) => Ok((login, category)),
        _ => Err(problems),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InputProblem>),
    #[error(transparent)]
    Failed(#[from] Error),
}

/// Creates an active person with a password, in one transaction with its audit entry.
/// `actor` names the operator (e.g. `cli:<user>`).
pub async fn create_person(
    sesame: &Sesame,
    input: PersonInput,
    actor: &str,
) -> Result<String, CreateError> {
    let institution = sesame.config.institution.name_fr.clone();
    let (login, category) =
        validate(&input, &sesame.config.password, &institution).map_err(CreateError::Invalid)?;
    let password_hash = sesame.hasher.hash(&input.password).await?;
    let id = new_id();
    let now = sesame.clock.now_secs();
    let email = input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let mut tx = crate::store::begin(&sesame.store.pool).await?;
    people::insert(
        &mut *tx,
        &NewPerson {
            id: &id,
            login: &login,
            first_name: input.first_name.trim(),
            last_name: input.last_name.trim(),
            email,
            category,
            language: &input.language,
            password_hash: Some(&password_hash),
            state: AccountState::Active,
        },
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        AuditEvent {
            kind: AuditKind::PersonCreated,
            person_id: Some(&id),
            actor_id: Some(actor),
            client_ip: None,
            request_id: None,
            detail: json!({ "login": login, "category": category.as_str() }),
        },
        sesame.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PersonInput {
        PersonInput {
            login: "mtremblay".into(),
            first_name: "Marie".into(),
            last_name: "Tremblay".into(),
            email: Some("marie@example.org".into()),
            category: "retiree".into(),
            language: "fr".into(),
            password: "Vélo-rouge;Marmotte-93".into(),
        }
    }

    #[test]
    fn a_good_input_passes() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            validate(&input(), &policy, "UQAM"),
            Ok(("mtremblay".into(), Category::Retiree))
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let policy = PasswordPolicy::default();
        let bad = PersonInput {
            login: "bad login".into(),
            first_name: " ".into(),
            email: Some("not-an-email".into()),
            category: "boss".into(),
            password: "short".into(),
            ..input()
        };
        let problems = validate(&bad, &policy, "UQAM").expect_err("invalid");
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.contains(&InputProblem::Category));
    }

    #[test]
    fn emails_are_checked_lightly() {
        assert!(looks_like_email("a.b@uqam.ca"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a b@c.d"));
        assert!(!looks_like_email("@c.d"));
    }
}
