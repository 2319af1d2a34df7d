//! `sesame serve --demo`: a demo institution and a few demo people, so the portal can be
//! tried at once. Idempotent: people already there are left alone.

use crate::{
    config::{Config, InstitutionConfig},
    error::Result,
    people::{CreateError, PersonInput, create_person},
    state::Sesame,
    store::people,
};

/// The password of every demo person (shown by the start-up message and the README).
pub const DEMO_PASSWORD: &str = "Marmotte-Velo-42!";

/// Demo people: login, first name, last name, category, language.
pub const DEMO_PEOPLE: [(&str, &str, &str, &str, &str); 3] = [
    (
        "marie.tremblay",
        "Marie",
        "Tremblay",
        "permanent-staff",
        "fr",
    ),
    ("alex.martin", "Alex", "Martin", "temporary-staff", "en"),
    ("jean.gagnon", "Jean", "Gagnon", "retiree", "fr"),
];

/// The demo retiree's HR facts, for "forgot username" (seed 000): employee number, PIN,
/// date of birth, last six digits of the SIN.
pub const DEMO_RETIREE_FACTS: (&str, &str, &str, &str, &str) =
    ("jean.gagnon", "E10442", "4827", "1951-04-12", "123456");

/// Demo people waiting for their letter (state pending, no password): `sesame admin
/// letters --new` prints their letters, and they activate at /activate.
pub const DEMO_NEWCOMERS: [(&str, &str, &str, &str, &str); 2] = [
    ("sophie.lavoie", "Sophie", "Lavoie", "permanent-staff", "fr"),
    ("noah.roy", "Noah", "Roy", "temporary-staff", "en"),
];

/// The demo institution's branding and help desk.
pub fn apply_demo_institution(config: &mut Config) {
    config.institution = InstitutionConfig {
        name_fr: "Université Démo".into(),
        name_en: "Demo University".into(),
        logo_url: "/logo.svg".into(),
        helpdesk_phone: "514-987-3000 poste 5050".into(),
        helpdesk_hours_fr: "du lundi au vendredi, de 8 h à 17 h".into(),
        helpdesk_hours_en: "Monday to Friday, 8 a.m. to 5 p.m.".into(),
        helpdesk_email: "aide@demo.sesame.invalid".into(),
        time_zone: "America/Montreal".into(),
        color_primary: "#1d4f91".into(),
        color_primary_dark: "#8fb8ff".into(),
    };
    config.activation.mailbox_pattern = "{first}.{last}@univ-demo.sesame.invalid".into();
}

/// Creates the demo people that are missing.
pub async fn seed(sesame: &Sesame) -> Result<()> {
    for (login, first_name, last_name, category, language) in DEMO_PEOPLE {
        if people::find_by_login(&sesame.store.pool, login)
            .await?
            .is_some()
        {
            continue;
        }
        let input = PersonInput {
            login: login.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: Some(format!("{login}@demo.sesame.invalid")),
            category: category.into(),
            language: language.into(),
            password: DEMO_PASSWORD.into(),
        };
        match create_person(sesame, input, "demo").await {
            Ok(_) => {}
            Err(CreateError::Failed(e)) => return Err(e),
            Err(CreateError::Invalid(problems)) => {
                return Err(crate::error::Error::Invalid(format!(
                    "demo person {login}: {problems:?}"
                )));
            }
        }
    }
    seed_retiree_facts(sesame).await?;
    seed_newcomers(sesame).await
}

/// Gives the demo retiree an employee number, a PIN and identity facts (once).
async fn seed_retiree_facts(sesame: &Sesame) -> Result<()> {
    use crate::crypto::attributes::{AttributeKind, hash_attribute};
    let (login, employee_number, pin, born, sin) = DEMO_RETIREE_FACTS;
    let pin_hash = hash_attribute(&sesame.key, AttributeKind::Pin, pin)?;
    let sin_hash = hash_attribute(&sesame.key, AttributeKind::SinLast6, sin)?;
    sqlx::query(
        "UPDATE people SET employee_number = $2, pin_hash = $3, date_of_birth = $4, \
         sin_hash = $5 WHERE login = $1 AND pin_hash IS NULL",
    )
    .bind(login)
    .bind(employee_number)
    .bind(pin_hash)
    .bind(born)
    .bind(sin_hash)
    .execute(&sesame.store.pool)
    .await?;
    Ok(())
}

async fn seed_newcomers(sesame: &Sesame) -> Result<()> {
    use crate::store::{
        new_id,
        people::{AccountState, Category, NewPerson},
    };
    let now = sesame.clock.now_secs();
    for (login, first_name, last_name, category, language) in DEMO_NEWCOMERS {
        if people::find_by_login(&sesame.store.pool, login)
            .await?
            .is_some()
        {
            continue;
        }
        let Some(category) = Category::parse(category) else {
            continue;
        };
        people::insert(
            &sesame.store.pool,
            &NewPerson {
                id: &new_id(),
                login,
                first_name,
                last_name,
                email: None,
                category,
                language,
                password_hash: None,
                state: AccountState::Pending,
            },
            now,
        )
        .await?;
    }
    Ok(())
}
