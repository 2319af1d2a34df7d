//! Linked accounts against a real OpenLDAP directory (`common/slapd.rs`): a link is proven
//! with a bind and keeps no password; refusals store nothing; an unreachable directory
//! answers within its timeout; a reset writes the new password to the directory; a push
//! the directory misses waits sealed and is delivered by a retry once it is back. Every
//! test runs on SQLite, and on PostgreSQL when `SESAME_TEST_POSTGRES_URL` is set.

mod common;
#[path = "common/slapd.rs"]
mod slapd;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::{
    api::{
        linked::{LinkRefusal, PushOutcome, PushReport},
        password::{PasswordRecoveryApi, RecoveryInput, RecoveryMethod, RecoveryStep},
        portal::LocalizedText,
        ssr::RequestMeta,
    },
    i18n::Locale,
};
use common::TestDb;
use jiff::SignedDuration;
use sesame::{
    clock::{Clock, ManualClock},
    config::{Config, LinkedSystemConfig},
    flows::password::PasswordRecoveryFlow,
    import::{ImportOptions, import_people},
    linked,
    people::{PersonInput, create_person},
    state::Sesame,
    store::{Engine, audit},
};
use slapd::{ALICE, BOB, SERVICE_DN, SERVICE_PASSWORD, Slapd};

const NEW_PASSWORD: &str = "Nouveau-Printemps-2026!";
const NEWER_PASSWORD: &str = "Encore-Plus-Neuf-2026!";

struct Portal {
    sesame: Sesame,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

fn system(url: &str, name: &str, push_password: bool) -> LinkedSystemConfig {
    LinkedSystemConfig {
        kind: "ldap".into(),
        name: LocalizedText {
            fr: format!("{name} (fr)"),
            en: name.into(),
        },
        url: url.into(),
        user_dn: slapd::USER_DN.into(),
        push_password,
        service_dn: SERVICE_DN.into(),
        service_password: SERVICE_PASSWORD.into(),
        timeout_secs: 2,
        ..LinkedSystemConfig::default()
    }
}

/// Sésame on `db` with two systems over the same directory: `corp` takes new passwords,
/// `wiki` does not.
async fn portal(db: &TestDb, slapd: &Slapd, tune: impl FnOnce(&mut Config)) -> Portal {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path(), &db.url);
    config
        .linked_systems
        .insert("corp".into(), system(&slapd.url(), "Corp directory", true));
    config
        .linked_systems
        .insert("wiki".into(), system(&slapd.url(), "Wiki", false));
    tune(&mut config);
    let clock = common::manual_clock();
    let sesame = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
        .await
        .expect("start");
    Portal {
        sesame,
        clock,
        _dir: dir,
    }
}

async fn person(sesame: &Sesame, login: &str) -> String {
    create_person(
        sesame,
        PersonInput {
            login: login.into(),
            first_name: "Jeanne".into(),
            last_name: "Roy".into(),
            email: Some(format!("{login}@example.org")),
            category: "permanent-staff".into(),
            language: "fr".into(),
            password: "Ancien-mot-de-passe-2024".into(),
        },
        "test",
    )
    .await
    .expect("person")
}

/// Whether `needle` is anywhere in the database: the SQLite files' bytes, or every row of
/// every PostgreSQL table as text.
async fn database_holds(sesame: &Sesame, db: &TestDb, needle: &str) -> bool {
    match sesame.store.engine {
        Engine::Sqlite => {
            let path = db.url.trim_start_matches("sqlite:");
            [path.to_owned(), format!("{path}-wal")].iter().any(|file| {
                std::fs::read(file).is_ok_and(|bytes| {
                    bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                })
            })
        }
        Engine::Postgres => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&sesame.store.pool)
            .await
            .expect("tables");
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                        .fetch_all(&sesame.store.pool)
                        .await
                        .expect("rows");
                if rows.iter().any(|row| row.contains(needle)) {
                    return true;
                }
            }
            false
        }
    }
}

async fn audit_kinds(sesame: &Sesame) -> Vec<(String, String)> {
    audit::recent(&sesame.store.pool, None, 200)
        .await
        .expect("audit")
        .into_iter()
        .map(|row| (row.kind, row.detail))
        .collect()
}

fn audited(events: &[(String, String)], kind: &str, outcome: &str) -> bool {
    events
        .iter()
        .any(|(k, detail)| k == kind && detail.contains(&format!("\"outcome\":\"{outcome}\"")))
}

async fn pending_pushes(sesame: &Sesame) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT sealed_password, attempts FROM password_pushes")
        .fetch_all(&sesame.store.pool)
        .await
        .expect("pushes")
}

#[tokio::test]
async fn a_link_is_proven_by_a_bind_and_keeps_no_password() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    for db in common::databases().await {
        let portal = portal(&db, &slapd, |_| {}).await;
        let sesame = &portal.sesame;
        let jeanne = person(sesame, "jroy").await;
        let marc = person(sesame, "mlevesque").await;

        assert_eq!(
            linked::link(sesame, &meta(), &jeanne, "corp", " alice ", ALICE.1)
                .await
                .expect("link"),
            Ok(()),
            "{}",
            db.name
        );
        let links = linked::list(sesame, &jeanne).await.expect("list");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].system_id, "corp");
        assert_eq!(links[0].account_name, "alice");
        assert_eq!(links[0].system_name.en, "Corp directory");
        assert!(links[0].push_password);
        assert!(!links[0].push_pending);
        assert_eq!(links[0].last_push_ok, None);
        // The dump sees what is stored (the account name), and no password.
        assert!(database_holds(sesame, &db, "alice").await, "{}", db.name);
        assert!(
            !database_holds(sesame, &db, ALICE.1).await,
            "{}: the directory password is stored",
            db.name
        );

        // Someone else who knows Alice's password cannot take her account.
        assert_eq!(
            linked::link(sesame, &meta(), &marc, "corp", "ALICE", ALICE.1)
                .await
                .expect("link"),
            Err(LinkRefusal::AlreadyLinkedElsewhere)
        );
        assert!(linked::list(sesame, &marc).await.expect("list").is_empty());

        // Linking the same system again replaces the account.
        assert_eq!(
            linked::link(sesame, &meta(), &jeanne, "corp", "bob", BOB.1)
                .await
                .expect("relink"),
            Ok(())
        );
        let links = linked::list(sesame, &jeanne).await.expect("list");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].account_name, "bob");
        // Alice's account is free again.
        assert_eq!(
            linked::link(sesame, &meta(), &marc, "corp", "alice", ALICE.1)
                .await
                .expect("link"),
            Ok(())
        );

        assert_eq!(
            linked::systems(&sesame.config)
                .iter()
                .map(|s| (s.id.as_str(), s.push_password))
                .collect::<Vec<_>>(),
            vec![("corp", true), ("wiki", false)]
        );
        assert!(
            linked::unlink(sesame, &meta(), &jeanne, "corp")
                .await
                .expect("unlink")
        );
        assert!(
            !linked::unlink(sesame, &meta(), &jeanne, "corp")
                .await
                .expect("again")
        );
        assert!(
            linked::list(sesame, &jeanne)
                .await
                .expect("list")
                .is_empty()
        );

        let events = audit_kinds(sesame).await;
        for outcome in ["linked", "relinked", "already_linked_elsewhere", "unlinked"] {
            assert!(
                audited(&events, "linked_account", outcome),
                "{outcome}: {events:?}"
            );
        }
        // Each row says where the request came from, as every other flow's rows do.
        let rows = audit::recent(&sesame.store.pool, None, 200)
            .await
            .expect("audit");
        let linked_rows: Vec<_> = rows.iter().filter(|r| r.kind == "linked_account").collect();
        assert!(!linked_rows.is_empty());
        for row in linked_rows {
            assert_eq!(row.client_ip.as_deref(), Some("192.0.2.30"), "{row:?}");
            assert_eq!(row.request_id.as_deref(), Some("test"), "{row:?}");
        }
        assert!(
            !database_holds(sesame, &db, BOB.1).await
                && !database_holds(sesame, &db, ALICE.1).await,
            "{}: a directory password is stored",
            db.name
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn wrong_empty_or_invalid_input_links_nothing() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let closed = format!("ldap://127.0.0.1:{}", slapd::free_port());
    for db in common::databases().await {
        let portal = portal(&db, &slapd, |config| {
            config
                .linked_systems
                .insert("down".into(), system(&closed, "Down", true));
        })
        .await;
        let sesame = &portal.sesame;
        let jeanne = person(sesame, "jroy").await;
        let link = |system: &'static str, account: String, password: &'static str| {
            let jeanne = jeanne.clone();
            async move {
                linked::link(sesame, &meta(), &jeanne, system, &account, password)
                    .await
                    .expect("link")
            }
        };

        assert_eq!(
            link("corp", "alice".into(), "Pas-le-bon-2024").await,
            Err(LinkRefusal::WrongCredentials)
        );
        assert_eq!(
            link("corp", "nobody".into(), ALICE.1).await,
            Err(LinkRefusal::WrongCredentials)
        );
        // Refused before any bind: on the closed port it would be Unreachable otherwise.
        assert_eq!(
            link("down", "alice".into(), "").await,
            Err(LinkRefusal::WrongCredentials)
        );
        assert_eq!(
            link("corp", "alice".into(), "").await,
            Err(LinkRefusal::WrongCredentials)
        );
        assert_eq!(
            link("corp", "   ".into(), ALICE.1).await,
            Err(LinkRefusal::InvalidAccountName)
        );
        assert_eq!(
            link("corp", "a".repeat(257), ALICE.1).await,
            Err(LinkRefusal::InvalidAccountName)
        );
        // An escaped name stays one value: it reaches no other entry.
        assert_eq!(
            link("corp", "alice,ou=people".into(), ALICE.1).await,
            Err(LinkRefusal::WrongCredentials)
        );
        assert_eq!(
            link("pigeon", "alice".into(), ALICE.1).await,
            Err(LinkRefusal::UnknownSystem)
        );
        assert!(
            linked::list(sesame, &jeanne)
                .await
                .expect("list")
                .is_empty()
        );
        let events = audit_kinds(sesame).await;
        assert!(audited(&events, "linked_account", "wrong_credentials"));
        assert!(audited(&events, "linked_account", "empty_password"));

        // Wrong passwords are counted: the fifth locks linking for a while, right
        // password included.
        for _ in 0..2 {
            assert_eq!(
                link("corp", "alice".into(), "Pas-le-bon-2024").await,
                Err(LinkRefusal::WrongCredentials)
            );
        }
        assert_eq!(
            link("corp", "alice".into(), ALICE.1).await,
            Err(LinkRefusal::TooManyAttempts)
        );
        portal.clock.advance(SignedDuration::from_mins(16));
        assert_eq!(link("corp", "alice".into(), ALICE.1).await, Ok(()));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_unreachable_directory_is_refused_within_its_timeout() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    // A closed port, and a server that accepts connections and never answers.
    let closed = format!("ldap://127.0.0.1:{}", slapd::free_port());
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let silent_url = format!(
        "ldap://127.0.0.1:{}",
        silent.local_addr().expect("addr").port()
    );
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            connections.push(socket);
        }
    });
    for db in common::databases().await {
        let portal = portal(&db, &slapd, |config| {
            let mut down = system(&closed, "Down", true);
            down.timeout_secs = 1;
            config.linked_systems.insert("down".into(), down);
            let mut mute = system(&silent_url, "Mute", true);
            mute.timeout_secs = 1;
            config.linked_systems.insert("mute".into(), mute);
        })
        .await;
        let sesame = &portal.sesame;
        let jeanne = person(sesame, "jroy").await;
        for system in ["down", "mute"] {
            let started = Instant::now();
            assert_eq!(
                linked::link(sesame, &meta(), &jeanne, system, "alice", ALICE.1)
                    .await
                    .expect("link"),
                Err(LinkRefusal::Unreachable),
                "{system}"
            );
            assert!(
                started.elapsed() < Duration::from_millis(2500),
                "{system} took {:?}",
                started.elapsed()
            );
        }
        assert!(
            linked::list(sesame, &jeanne)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(audited(
            &audit_kinds(sesame).await,
            "linked_account",
            "unreachable"
        ));
        db.cleanup().await;
    }
    held.abort();
}

fn meta() -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.30".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::Fr,
        device_id: "browser".into(),
        session_token: None,
        secure: false,
    }
}

#[tokio::test]
async fn a_reset_sets_the_new_password_on_linked_accounts() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    for db in common::databases().await {
        let portal = portal(&db, &slapd, |_| {}).await;
        let sesame = &portal.sesame;
        import_people(
            sesame,
            "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email
jgagnon,Jean-François,Gagnon,1951-04-12,E10442,retiree,fr,4827,123456,
"
            .as_bytes(),
            &ImportOptions {
                skip_invalid: false,
                actor: "test",
            },
            &|_, _| {},
        )
        .await
        .expect("import");
        let hash = sesame
            .hasher
            .hash("Ancien-mot-de-passe-2024")
            .await
            .expect("hash");
        sqlx::query("UPDATE people SET state = 'active', password_hash = $1")
            .bind(hash)
            .execute(&sesame.store.pool)
            .await
            .expect("activate");
        let id: String = sqlx::query_scalar("SELECT id FROM people WHERE login = 'jgagnon'")
            .fetch_one(&sesame.store.pool)
            .await
            .expect("person");
        linked::link(sesame, &meta(), &id, "corp", "alice", ALICE.1)
            .await
            .expect("link")
            .expect("linked");
        linked::link(sesame, &meta(), &id, "wiki", "bob", BOB.1)
            .await
            .expect("link")
            .expect("linked");

        let flow = PasswordRecoveryFlow(sesame.clone());
        let mut flow_id = None;
        for (step, input) in [
            (
                RecoveryStep::Identify,
                RecoveryInput::Identify {
                    identifier: "jgagnon".into(),
                },
            ),
            (
                RecoveryStep::Choose,
                RecoveryInput::Choose {
                    method: Some(RecoveryMethod::EmployeePin),
                },
            ),
            (
                RecoveryStep::Prove(RecoveryMethod::EmployeePin),
                RecoveryInput::EmployeePin {
                    employee_number: "E10442".into(),
                    pin: "4827".into(),
                },
            ),
            (
                RecoveryStep::NewPassword,
                RecoveryInput::NewPassword {
                    password: NEW_PASSWORD.into(),
                    confirmation: NEW_PASSWORD.into(),
                },
            ),
        ] {
            flow_id = Some(
                flow.submit(&meta(), flow_id.clone(), step, input)
                    .await
                    .expect("submit"),
            );
        }
        let view = flow.view(&meta(), flow_id).await.expect("view");
        assert_eq!(view.step, RecoveryStep::Done, "{}", db.name);
        assert_eq!(
            view.pushes,
            vec![
                PushReport {
                    system_id: "corp".into(),
                    system_name: sesame.config.linked_systems["corp"].name.clone(),
                    outcome: PushOutcome::Updated,
                },
                PushReport {
                    system_id: "wiki".into(),
                    system_name: sesame.config.linked_systems["wiki"].name.clone(),
                    outcome: PushOutcome::NotSupported,
                },
            ]
        );
        let alice = Slapd::user_dn(ALICE.0);
        assert!(slapd.can_bind(&alice, NEW_PASSWORD).await);
        assert!(!slapd.can_bind(&alice, ALICE.1).await);
        // The wiki keeps its own password.
        assert!(slapd.can_bind(&Slapd::user_dn(BOB.0), BOB.1).await);
        assert!(pending_pushes(sesame).await.is_empty());
        let links = linked::list(sesame, &id).await.expect("list");
        assert_eq!(links[0].last_push_ok, Some(true));
        assert!(audited(
            &audit_kinds(sesame).await,
            "password_push",
            "updated"
        ));
        assert!(!database_holds(sesame, &db, NEW_PASSWORD).await);

        // Give Alice her password back for the next engine.
        let mut restore = linked::push_password(sesame, &id, ALICE.1)
            .await
            .expect("push");
        restore.retain(|r| r.system_id == "corp");
        assert_eq!(restore[0].outcome, PushOutcome::Updated);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_push_the_directory_misses_waits_sealed_and_is_retried() {
    let Some(mut slapd) = Slapd::start().await else {
        return;
    };
    for db in common::databases().await {
        let portal = portal(&db, &slapd, |_| {}).await;
        let sesame = &portal.sesame;
        let jeanne = person(sesame, "jroy").await;
        linked::link(sesame, &meta(), &jeanne, "corp", "alice", ALICE.1)
            .await
            .expect("link")
            .expect("linked");

        slapd.stop();
        let started = Instant::now();
        let reports = linked::push_password(sesame, &jeanne, NEW_PASSWORD)
            .await
            .expect("a directory failure is no error");
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].outcome, PushOutcome::WillRetry);
        // A newer password replaces the pending one.
        let reports = linked::push_password(sesame, &jeanne, NEWER_PASSWORD)
            .await
            .expect("push");
        assert_eq!(reports[0].outcome, PushOutcome::WillRetry);
        let pending = pending_pushes(sesame).await;
        assert_eq!(pending.len(), 1, "{}", db.name);
        assert_eq!(pending[0].1, 1, "one try of the newer password");
        assert!(!pending[0].0.contains(NEWER_PASSWORD));
        assert!(
            !database_holds(sesame, &db, NEW_PASSWORD).await
                && !database_holds(sesame, &db, NEWER_PASSWORD).await,
            "{}: a pending password is stored in clear",
            db.name
        );
        let links = linked::list(sesame, &jeanne).await.expect("list");
        assert!(links[0].push_pending);
        assert_eq!(links[0].last_push_ok, Some(false));

        // Not due yet: nothing is tried.
        slapd.restart().await;
        assert_eq!(linked::retry_due(sesame).await.expect("retry"), 0);
        assert_eq!(pending_pushes(sesame).await.len(), 1);

        // Due: two instances at once deliver it once.
        portal.clock.advance(SignedDuration::from_secs(31));
        let (a, b) = tokio::join!(linked::retry_due(sesame), linked::retry_due(sesame));
        assert_eq!(a.expect("retry") + b.expect("retry"), 1);
        assert!(pending_pushes(sesame).await.is_empty());
        let alice = Slapd::user_dn(ALICE.0);
        assert!(slapd.can_bind(&alice, NEWER_PASSWORD).await);
        assert!(!slapd.can_bind(&alice, ALICE.1).await);
        let links = linked::list(sesame, &jeanne).await.expect("list");
        assert!(!links[0].push_pending);
        assert_eq!(links[0].last_push_ok, Some(true));
        let events = audit_kinds(sesame).await;
        assert!(audited(&events, "password_push", "will_retry"));
        assert!(audited(&events, "password_push", "updated"));
        assert!(
            events
                .iter()
                .all(|(_, detail)| !detail.contains(NEWER_PASSWORD)
                    && !detail.contains(NEW_PASSWORD)
                    && !detail.contains(ALICE.1))
        );

        // Down again: unlinking drops what waits.
        slapd.stop();
        let reports = linked::push_password(sesame, &jeanne, ALICE.1)
            .await
            .expect("push");
        assert_eq!(reports[0].outcome, PushOutcome::WillRetry);
        assert!(
            linked::unlink(sesame, &meta(), &jeanne, "corp")
                .await
                .expect("unlink")
        );
        assert!(pending_pushes(sesame).await.is_empty());

        // Give Alice her password back for the next engine.
        slapd.restart().await;
        linked::link(sesame, &meta(), &jeanne, "corp", "alice", NEWER_PASSWORD)
            .await
            .expect("link")
            .expect("linked");
        let reports = linked::push_password(sesame, &jeanne, ALICE.1)
            .await
            .expect("push");
        assert_eq!(reports[0].outcome, PushOutcome::Updated);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_push_is_given_up_after_the_last_try() {
    let Some(mut slapd) = Slapd::start().await else {
        return;
    };
    let db = common::sqlite();
    let portal = portal(&db, &slapd, |_| {}).await;
    let sesame = &portal.sesame;
    let jeanne = person(sesame, "jroy").await;
    linked::link(sesame, &meta(), &jeanne, "corp", "alice", ALICE.1)
        .await
        .expect("link")
        .expect("linked");
    slapd.stop();
    linked::push_password(sesame, &jeanne, NEW_PASSWORD)
        .await
        .expect("push");
    for _ in 1..linked::MAX_ATTEMPTS {
        portal
            .clock
            .advance(SignedDuration::from_secs(linked::RETRY_MAX_DELAY_SECS + 1));
        assert_eq!(linked::retry_due(sesame).await.expect("retry"), 0);
    }
    assert!(pending_pushes(sesame).await.is_empty(), "given up");
    let events = audit_kinds(sesame).await;
    assert!(audited(&events, "password_push", "given_up"));
    let links = linked::list(sesame, &jeanne).await.expect("list");
    assert!(!links[0].push_pending);
    assert_eq!(links[0].last_push_ok, Some(false));
}
