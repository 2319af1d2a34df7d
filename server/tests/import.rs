//! `sesame admin import` at the library level, on every engine (SQLite; PostgreSQL too
//! when `SESAME_TEST_POSTGRES_URL` is set).

mod common;

use std::sync::Arc;

use jiff::SignedDuration;
use sesame::{
    clock::{Clock, ManualClock},
    crypto::attributes::{AttributeKind, verify_attribute},
    import::{ImportOptions, ImportReport, import_people},
    people::{PersonInput, create_person},
    state::Sesame,
    store::{audit, people},
};

const HEADER: &str = "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n";

/// Runs `test` against a Sésame on each engine.
async fn each_engine<F, Fut>(test: F)
where
    F: Fn(Sesame, Arc<ManualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in common::databases().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = common::manual_clock();
        let sesame = Sesame::start(
            common::config(dir.path(), &db.url),
            clock.clone() as Arc<dyn Clock>,
            false,
        )
        .await
        .expect("start");
        test(sesame.clone(), clock, db.name).await;
        sesame.store.pool.close().await;
        db.cleanup().await;
    }
}

async fn import(sesame: &Sesame, csv: &str, skip_invalid: bool) -> ImportReport {
    import_people(
        sesame,
        csv.as_bytes(),
        &ImportOptions {
            skip_invalid,
            actor: "cli:test",
        },
        &|_, _| {},
    )
    .await
    .expect("import runs")
}

/// The columns an import writes, and those it must never touch.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Stored {
    first_name: String,
    last_name: String,
    date_of_birth: Option<String>,
    employee_number: Option<String>,
    category: String,
    language: String,
    email: Option<String>,
    pin_hash: Option<String>,
    sin_hash: Option<String>,
    import_digest: Option<String>,
    state: String,
    password_hash: Option<String>,
    provisional_hash: Option<String>,
    updated_at: i64,
}

async fn stored(sesame: &Sesame, login: &str) -> Stored {
    sqlx::query_as(
        "SELECT first_name, last_name, date_of_birth, employee_number, category, language, \
         email, pin_hash, sin_hash, import_digest, state, password_hash, provisional_hash, \
         updated_at FROM people WHERE login = $1",
    )
    .bind(login)
    .fetch_one(&sesame.store.pool)
    .await
    .expect("stored person")
}

async fn people_count(sesame: &Sesame) -> i64 {
    people::count(&sesame.store.pool).await.expect("count")
}

const GOOD: &str = "\
mtremblay,Marie,Tremblay,1961-04-03,E1001,retiree,fr,0427,123456,marie@example.org
jgagnon,Jean,Gagnon,1985-11-30,E1002,permanent-staff,fr,,,
asmith,Alice,Smith,2001-07-14,S2003,student,en,98765432,654321,alice@example.org
";

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_nothing_is_imported_unless_asked() {
    each_engine(|sesame, _clock, engine| async move {
        let csv = format!(
            "{HEADER}{GOOD}\
             bad login,Bob,,1990-01-01,E9,student,en,,,\n\
             bob,Bob,Martin,31/12/1990,E10,boss,es,12,1234567,bob@\n\
             mtremblay,Marie,Doublon,1961-04-03,E1001,retiree,fr,,,\n"
        );
        let report = import(&sesame, &csv, false).await;
        assert!(!report.written, "{engine}");
        assert_eq!(people_count(&sesame).await, 0, "{engine}: nothing imported");
        let messages: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 4, "{engine}: {messages:#?}");
        assert!(messages[0].starts_with("line 2 (mtremblay): the same login is on lines 2, 7"));
        assert!(messages[1].starts_with("line 5 (bad login): login may hold only"));
        assert!(messages[1].contains("last_name is empty"));
        for expected in [
            "line 6 (bob)",
            "date_of_birth \"31/12/1990\" is not a date written YYYY-MM-DD",
            "category \"boss\" must be one of: permanent-staff",
            "language \"es\" must be fr or en",
            "pin must be empty or 4 to 8 digits",
            "sin_last6 must be empty or exactly 6 digits",
            "email \"bob@\" is not a valid address",
        ] {
            assert!(
                messages[2].contains(expected),
                "{expected:?} not in {}",
                messages[2]
            );
        }
        assert!(!messages[2].contains("1234567"), "a SIN is never echoed");
        assert!(messages[3].starts_with("line 7 (mtremblay): the same login"));
        assert_eq!(
            report.summary().split(" (").next(),
            Some("created 0, updated 0, unchanged 0, invalid 4")
        );

        let report = import(&sesame, &csv, true).await;
        assert!(report.written, "{engine}");
        assert_eq!(
            (
                report.created,
                report.updated,
                report.unchanged,
                report.problems.len()
            ),
            (2, 0, 0, 4),
            "{engine}: the good rows, not the duplicated login"
        );
        assert_eq!(people_count(&sesame).await, 2);
        let alice = stored(&sesame, "asmith").await;
        assert_eq!(alice.state, "pending");
        assert_eq!(alice.password_hash, None);
        assert_eq!(alice.date_of_birth.as_deref(), Some("2001-07-14"));
        assert_eq!(alice.language, "en");
    })
    .await;
}

#[tokio::test]
async fn import_creates_then_updates_then_changes_nothing() {
    each_engine(|sesame, clock, engine| async move {
        let first = import(&sesame, &format!("\u{feff}{HEADER}{GOOD}"), false).await;
        assert_eq!(
            (
                first.created,
                first.updated,
                first.unchanged,
                first.problems.len()
            ),
            (3, 0, 0, 0),
            "{engine}"
        );
        let marie = stored(&sesame, "mtremblay").await;
        assert_eq!(marie.state, "pending");
        assert_eq!(marie.category, "retiree");
        assert_eq!(marie.email.as_deref(), Some("marie@example.org"));
        assert_eq!(marie.employee_number.as_deref(), Some("E1001"));
        // PIN and SIN digits only as peppered argon2id hashes.
        let pin_hash = marie.pin_hash.clone().expect("pin hash");
        let sin_hash = marie.sin_hash.clone().expect("sin hash");
        for hash in [&pin_hash, &sin_hash] {
            assert!(hash.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"), "{hash}");
            assert!(!hash.contains("0427") && !hash.contains("123456"), "{hash}");
        }
        assert!(verify_attribute(
            &sesame.key,
            AttributeKind::Pin,
            "0427",
            &pin_hash
        ));
        assert!(!verify_attribute(
            &sesame.key,
            AttributeKind::Pin,
            "0428",
            &pin_hash
        ));
        assert!(verify_attribute(
            &sesame.key,
            AttributeKind::SinLast6,
            "123 456",
            &sin_hash
        ));
        assert!(!verify_attribute(
            &sesame.key,
            AttributeKind::SinLast6,
            "123457",
            &sin_hash
        ));
        assert!(!verify_attribute(
            &sesame.key,
            AttributeKind::SinLast6,
            "0427",
            &pin_hash
        ));
        let jean = stored(&sesame, "jgagnon").await;
        assert_eq!(
            (&jean.pin_hash, &jean.sin_hash, &jean.email),
            (&None, &None, &None)
        );

        // The same file again: nothing is written, not even updated_at.
        clock.advance(SignedDuration::from_secs(3600));
        let again = import(&sesame, &format!("{HEADER}{GOOD}"), false).await;
        assert_eq!(
            (again.created, again.updated, again.unchanged),
            (0, 0, 3),
            "{engine}"
        );
        assert_eq!(stored(&sesame, "mtremblay").await, marie);

        // Marie's PIN and Alice's name change; Jean's row does not.
        let changed = GOOD
            .replace("0427,123456", "1234,123456")
            .replace("Alice,Smith", "Alice,Smith-Jones");
        clock.advance(SignedDuration::from_secs(3600));
        let report = import(&sesame, &format!("{HEADER}{changed}"), false).await;
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 2, 1),
            "{engine}"
        );
        let marie_after = stored(&sesame, "mtremblay").await;
        assert!(marie_after.updated_at > marie.updated_at);
        let new_pin = marie_after.pin_hash.clone().expect("pin hash");
        assert!(verify_attribute(
            &sesame.key,
            AttributeKind::Pin,
            "1234",
            &new_pin
        ));
        assert!(!verify_attribute(
            &sesame.key,
            AttributeKind::Pin,
            "0427",
            &new_pin
        ));
        assert_eq!(stored(&sesame, "asmith").await.last_name, "Smith-Jones");
        assert_eq!(
            stored(&sesame, "jgagnon").await,
            jean,
            "an unchanged row is not written"
        );

        // Audited, without secrets.
        let events = audit::recent(&sesame.store.pool, None, 100)
            .await
            .expect("audit");
        let kinds = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
        assert_eq!(kinds("person.imported"), 3, "{engine}");
        assert_eq!(kinds("person.updated"), 2, "{engine}");
        for event in &events {
            assert_eq!(event.actor_id.as_deref(), Some("cli:test"));
            for secret in ["0427", "1234", "123456", "98765432", "654321"] {
                assert!(!event.detail.contains(secret), "{}", event.detail);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn updates_never_touch_password_state_or_activation() {
    each_engine(|sesame, clock, engine| async move {
        // An active person created by an operator, and a pending one with a letter.
        create_person(
            &sesame,
            PersonInput {
                login: "mtremblay".into(),
                first_name: "Marie".into(),
                last_name: "T".into(),
                email: None,
                category: "retiree".into(),
                language: "fr".into(),
                password: "Vélo-rouge;Marmotte-93".into(),
            },
            "cli:test",
        )
        .await
        .expect("create");
        import(&sesame, &format!("{HEADER}{GOOD}"), false).await;
        sqlx::query("UPDATE people SET provisional_hash = 'letter-hash' WHERE login = 'jgagnon'")
            .execute(&sesame.store.pool)
            .await
            .expect("letter");
        let before_marie = stored(&sesame, "mtremblay").await;
        assert_eq!(before_marie.state, "active", "{engine}");
        assert_eq!(
            before_marie.last_name, "Tremblay",
            "updated by the first import"
        );
        assert!(before_marie.password_hash.is_some());

        clock.advance(SignedDuration::from_secs(60));
        let changed = GOOD
            .replace("Marie,Tremblay", "Marie,Tremblay-Roy")
            .replace("Jean,Gagnon", "Jean,Gagnon-Roy");
        let report = import(&sesame, &format!("{HEADER}{changed}"), false).await;
        assert_eq!((report.updated, report.unchanged), (2, 1), "{engine}");
        let marie = stored(&sesame, "mtremblay").await;
        assert_eq!(marie.last_name, "Tremblay-Roy");
        assert_eq!(marie.state, "active");
        assert_eq!(marie.password_hash, before_marie.password_hash);
        let jean = stored(&sesame, "jgagnon").await;
        assert_eq!(jean.last_name, "Gagnon-Roy");
        assert_eq!(jean.state, "pending");
        assert_eq!(jean.provisional_hash.as_deref(), Some("letter-hash"));
    })
    .await;
}
