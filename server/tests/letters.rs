//! `sesame admin letters` at the library level, on every engine (SQLite; PostgreSQL too
//! when `SESAME_TEST_POSTGRES_URL` is set).

mod common;

use std::{path::Path, sync::Arc};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use jiff::SignedDuration;
use sesame::{
    clock::{Clock, ManualClock},
    import::{ImportOptions, import_people},
    letters::{LetterError, LetterSelection, LettersOutcome, issue_letters},
    people::{PersonInput, create_person},
    state::Sesame,
    store::{audit, people::Category},
};

async fn each_engine<F, Fut>(test: F)
where
    F: Fn(Sesame, Arc<ManualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in common::databases().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = common::manual_clock();
        let mut config = common::config(dir.path(), &db.url);
        config.public_url = "https://sesame.example.org/".into();
        config.institution.helpdesk_email = "aide@example.org".into();
        let sesame = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        people(&sesame).await;
        test(sesame.clone(), clock, db.name).await;
        sesame.store.pool.close().await;
        db.cleanup().await;
    }
}

/// Three pending people (two students, one in each language, and a retiree) and one
/// active person.
async fn people(sesame: &Sesame) {
    let csv = "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n\
               ecote,Élise,Côté <Jr>,2003-05-06,S1,student,fr,,,\n\
               bwilson,Ben,Wilson,2002-01-02,S2,student,en,,,\n\
               rlavoie,René,Lavoie,1950-09-10,R1,retiree,fr,,,\n";
    let report = import_people(
        sesame,
        csv.as_bytes(),
        &ImportOptions {
            skip_invalid: false,
            actor: "cli:test",
        },
        &|_, _| {},
    )
    .await
    .expect("import");
    assert_eq!(report.created, 3);
    create_person(
        sesame,
        PersonInput {
            login: "mtremblay".into(),
            first_name: "Marie".into(),
            last_name: "Tremblay".into(),
            email: None,
            category: "student".into(),
            language: "fr".into(),
            password: "Vélo-rouge;Marmotte-93".into(),
        },
        "cli:test",
    )
    .await
    .expect("active person");
}

async fn write_letters(
    sesame: &Sesame,
    selection: LetterSelection,
    out: &Path,
) -> Result<LettersOutcome, LetterError> {
    issue_letters(sesame, &selection, out, "cli:test", &|_, _| {}).await
}

/// One printed letter: its language, login and provisional password, and its text.
#[derive(Debug)]
struct Printed {
    lang: String,
    login: String,
    password: String,
    html: String,
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).expect(start);
    let to = text[from..].find(end).expect(end);
    &text[from..from + to]
}

fn printed(path: &Path) -> Vec<Printed> {
    let html = std::fs::read_to_string(path).expect("letters file");
    html.split("<article class=\"letter\" lang=\"")
        .skip(1)
        .map(|letter| Printed {
            lang: letter[..2].to_owned(),
            login: between(letter, "<dd class=\"login\">", "</dd>").to_owned(),
            password: between(letter, "<dd class=\"password\">", "</dd>").to_owned(),
            html: letter.to_owned(),
        })
        .collect()
}

#[derive(Debug, sqlx::FromRow)]
struct Provisional {
    provisional_hash: Option<String>,
    provisional_expires_at: Option<i64>,
    letter_issued_at: Option<i64>,
}

async fn provisional(sesame: &Sesame, login: &str) -> Provisional {
    sqlx::query_as(
        "SELECT provisional_hash, provisional_expires_at, letter_issued_at FROM people WHERE login = $1",
    )
    .bind(login)
    .fetch_one(&sesame.store.pool)
    .await
    .expect("person")
}

fn verifies(hash: Option<&str>, password: &str) -> bool {
    let hash = PasswordHash::new(hash.expect("a provisional hash")).expect("PHC string");
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

#[tokio::test]
async fn new_people_get_one_letter_each_in_their_language() {
    each_engine(|sesame, clock, engine| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("letters.html");
        let outcome = write_letters(&sesame, LetterSelection::New, &out)
            .await
            .expect("letters");
        assert_eq!(
            outcome.written, 3,
            "{engine}: the pending people, not the active one"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the file holds secrets");
        }
        let html = std::fs::read_to_string(&out).expect("file");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
        assert!(html.contains("@page") && html.contains("break-after: page"));
        assert!(html.contains("Côté &lt;Jr&gt;"), "values are escaped");
        assert!(!html.contains("Côté <Jr>"));

        let letters = printed(&out);
        let logins: Vec<&str> = letters.iter().map(|l| l.login.as_str()).collect();
        assert_eq!(logins, ["bwilson", "ecote", "rlavoie"], "{engine}");
        let now = clock.now_secs();
        for letter in &letters {
            let stored = provisional(&sesame, &letter.login).await;
            assert!(
                stored
                    .provisional_hash
                    .as_deref()
                    .is_some_and(|h| h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")),
                "{stored:?}"
            );
            assert!(
                verifies(stored.provisional_hash.as_deref(), &letter.password),
                "{engine}"
            );
            assert!(!verifies(
                stored.provisional_hash.as_deref(),
                &letter.password.to_lowercase()
            ));
            assert_eq!(stored.letter_issued_at, Some(now));
            assert_eq!(stored.provisional_expires_at, Some(now + 60 * 86_400));
            assert_eq!(letter.password.len(), 19, "{}", letter.password);
            assert!(letter.html.contains("https://sesame.example.org/activate"));
            assert!(letter.html.contains("514-987-3000 poste 5050"));
            assert!(letter.html.contains("aide@example.org"));
        }
        assert_ne!(letters[0].password, letters[1].password);

        // 2026-11-22 15:00 UTC + 60 days = 2027-01-21 10:00 in Montréal.
        let english = &letters[0];
        assert_eq!(english.lang, "en");
        for text in [
            "Test University",
            "Hello Ben Wilson,",
            "Provisional password",
            "User ID",
            "valid until January 21, 2027 at 10:00",
            "Keep this letter private",
            "Issued on November 22, 2026",
        ] {
            assert!(
                english.html.contains(text),
                "{text:?} not in {}",
                english.html
            );
        }
        let french = &letters[1];
        assert_eq!(french.lang, "fr");
        for text in [
            "Université d'essai",
            "Bonjour Élise Côté &lt;Jr&gt;,",
            "Mot de passe provisoire",
            "Code d'utilisateur",
            "jusqu'au 21 janvier 2027 à 10:00",
            "Gardez cette lettre pour vous",
        ] {
            assert!(
                french.html.contains(text),
                "{text:?} not in {}",
                french.html
            );
        }
        assert!(!french.html.contains("Provisional password"));

        // Audited without the secret.
        let events = audit::recent(&sesame.store.pool, None, 100)
            .await
            .expect("audit");
        let issued: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "letter.issued")
            .collect();
        assert_eq!(issued.len(), 3, "{engine}");
        for event in issued {
            for letter in &letters {
                assert!(!event.detail.contains(&letter.password));
            }
        }

        // Everyone has had a letter now: nothing more to write, and no file.
        let again = dir.path().join("again.html");
        let outcome = write_letters(&sesame, LetterSelection::New, &again)
            .await
            .expect("letters");
        assert_eq!(outcome.written, 0);
        assert!(!again.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temporary file left"
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_letter_revokes_the_previous_one() {
    each_engine(|sesame, clock, engine| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let first_file = dir.path().join("first.html");
        write_letters(
            &sesame,
            LetterSelection::Category(Category::Retiree),
            &first_file,
        )
        .await
        .expect("letters");
        let first = printed(&first_file);
        assert_eq!(first.len(), 1, "{engine}");
        assert_eq!(first[0].login, "rlavoie");

        clock.advance(SignedDuration::from_hours(24));
        let second_file = dir.path().join("second.html");
        let outcome = write_letters(
            &sesame,
            LetterSelection::Login("RLavoie".into()),
            &second_file,
        )
        .await
        .expect("letters");
        assert_eq!(outcome.written, 1);
        let second = printed(&second_file);
        let stored = provisional(&sesame, "rlavoie").await;
        assert!(
            verifies(stored.provisional_hash.as_deref(), &second[0].password),
            "{engine}"
        );
        assert!(
            !verifies(stored.provisional_hash.as_deref(), &first[0].password),
            "revoked"
        );
        assert_eq!(stored.letter_issued_at, Some(clock.now_secs()));

        // A category selects every pending person of it, letter or not.
        let students = dir.path().join("students.html");
        let outcome = write_letters(
            &sesame,
            LetterSelection::Category(Category::Student),
            &students,
        )
        .await
        .expect("letters");
        assert_eq!(outcome.written, 2, "{engine}: not the active student");
    })
    .await;
}

#[tokio::test]
async fn active_and_unknown_people_are_refused_and_nothing_is_written() {
    each_engine(|sesame, _clock, engine| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("letters.html");
        let error = write_letters(&sesame, LetterSelection::Login("mtremblay".into()), &out)
            .await
            .expect_err("active");
        assert!(
            matches!(error, LetterError::NotPending { .. }),
            "{engine}: {error}"
        );
        assert!(error.to_string().contains("mtremblay is active"), "{error}");
        let error = write_letters(&sesame, LetterSelection::Login("nobody".into()), &out)
            .await
            .expect_err("unknown");
        assert!(matches!(error, LetterError::UnknownLogin(_)), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        let stored = provisional(&sesame, "mtremblay").await;
        assert!(stored.provisional_hash.is_none() && stored.letter_issued_at.is_none());
    })
    .await;
}
