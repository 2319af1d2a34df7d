//! Shared test set-up: stores on every engine, and a Sésame over a temporary folder.
#![allow(dead_code)]

pub mod browser;
pub mod process;
pub mod smtp;

use std::{path::PathBuf, sync::Arc};

use jiff::Timestamp;
use sesame::{
    clock::{Clock, ManualClock},
    config::Config,
    state::Sesame,
    store::Store,
};
use sqlx::{Connection, Executor, PgConnection};

/// A database for one test: a fresh SQLite file, or a fresh PostgreSQL database dropped
/// by [`TestDb::cleanup`].
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    postgres_admin: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn store(&self) -> Store {
        Store::connect(&self.url, 8)
            .await
            .expect("connect and migrate")
    }

    pub async fn cleanup(self) {
        if let Some((admin_url, database)) = &self.postgres_admin
            && let Ok(mut conn) = PgConnection::connect(admin_url).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            let _ = conn.execute(drop.as_str()).await;
        }
    }
}

/// SQLite always; PostgreSQL too when `SESAME_TEST_POSTGRES_URL` is set.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("sesame.db").display());
    TestDb {
        name: "sqlite",
        url,
        postgres_admin: None,
        _dir: dir,
    }
}

pub async fn postgres() -> Option<TestDb> {
    let admin_url = std::env::var("SESAME_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let database = format!("sesame_test_{}", sesame::crypto::tokens::random_hex(6));
    let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("SESAME_TEST_POSTGRES_URL={admin_url} is set but unreachable: {e}")
    });
    conn.execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .expect("create test database");
    let (base, query) = admin_url
        .split_once('?')
        .map(|(b, q)| (b, format!("?{q}")))
        .unwrap_or((&admin_url, String::new()));
    let base = base
        .rsplit_once('/')
        .map(|(server, _)| server)
        .unwrap_or(base);
    let url = format!("{base}/{database}{query}");
    Some(TestDb {
        name: "postgres",
        url,
        postgres_admin: Some((admin_url, database)),
        _dir: tempfile::tempdir().expect("tempdir"),
    })
}

/// A configuration writing everything under `dir`.
pub fn config(dir: &std::path::Path, database_url: &str) -> Config {
    let mut config = Config::default();
    config.database.url = database_url.to_owned();
    config.secret_key_file = dir.join("secret.key");
    config.mail.dir = dir.join("mail");
    config.institution.name_fr = "Université d'essai".into();
    config.institution.name_en = "Test University".into();
    config.institution.helpdesk_phone = "514-987-3000 poste 5050".into();
    config
}

pub const T0: &str = "2026-11-22T15:00:00Z";

pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        T0.parse::<Timestamp>().expect("timestamp"),
    ))
}

/// A running Sésame over a temporary SQLite database, with a manual clock.
pub struct TestSesame {
    pub sesame: Sesame,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

impl TestSesame {
    pub async fn new(tune: impl FnOnce(&mut Config)) -> TestSesame {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite:{}", dir.path().join("sesame.db").display());
        let mut config = config(dir.path(), &url);
        tune(&mut config);
        let clock = manual_clock();
        let sesame = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        TestSesame { sesame, clock, dir }
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.sesame.config.mail.dir.clone()
    }
}

impl Drop for TestSesame {
    /// Every test that ran a Sésame also checks the audit trail it left: each outcome and
    /// step code in it has a text on the helpdesk page, in both languages.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let url = self.sesame.config.database.url.clone();
        // The test's runtime is the one being left; the check runs on its own.
        let missing = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(untranslated_audit_codes(&url))
        })
        .join()
        .expect("the audit trail's check");
        assert!(
            missing.is_empty(),
            "audit codes the helpdesk page has no text for (add audit.outcome.* or \
             audit.step.* to app/locales): {missing:?}"
        );
    }
}

/// The `outcome` and `step` codes in the audit trail at `url` without a message.
pub async fn untranslated_audit_codes(url: &str) -> Vec<String> {
    use app::api::helpdesk;
    let store = Store::connect(url, 1).await.expect("connect");
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_events")
        .fetch_all(&store.pool)
        .await
        .expect("audit events");
    let mut missing = std::collections::BTreeSet::new();
    for detail in details {
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let text = |key: &str| detail.get(key).and_then(|code| code.as_str());
        if let Some(code) = text("outcome") {
            let (name, detail) = helpdesk::outcome_parts(code);
            if helpdesk::outcome_name(name).is_none() {
                missing.insert(format!("audit.outcome.{name}"));
            }
            // A detail that names a recovery method is named like the step.
            if let Some(method) = detail.filter(|_| helpdesk::detail_is_method(name))
                && helpdesk::step_name(method).is_none()
            {
                missing.insert(format!("audit.step.{method}"));
            }
        }
        if let Some(step) = text("step")
            && helpdesk::step_name(step).is_none()
        {
            missing.insert(format!("audit.step.{step}"));
        }
    }
    missing.into_iter().collect()
}

/// A pending person with a letter: `provisional` is their provisional password, valid 60
/// days. Answers their id.
pub async fn pending_with_letter(
    sesame: &Sesame,
    login: &str,
    (first_name, last_name): (&str, &str),
    category: sesame::store::people::Category,
    provisional: &str,
) -> String {
    use sesame::store::{
        new_id,
        people::{self, AccountState, NewPerson},
    };
    let id = new_id();
    let now = sesame.clock.now_secs();
    people::insert(
        &sesame.store.pool,
        &NewPerson {
            id: &id,
            login,
            first_name,
            last_name,
            email: None,
            category,
            language: "fr",
            password_hash: None,
            state: AccountState::Pending,
        },
        now,
    )
    .await
    .expect("insert");
    let hash = sesame.hasher.hash(provisional).await.expect("hash");
    sqlx::query(
        "UPDATE people SET provisional_hash = $2, provisional_expires_at = $3 WHERE id = $1",
    )
    .bind(&id)
    .bind(hash)
    .bind(now + 60 * 86_400)
    .execute(&sesame.store.pool)
    .await
    .expect("letter");
    id
}

/// The password of the people [`signed_in`] creates.
pub const ACCOUNT_PASSWORD: &str = "Ancien-mot-de-passe-2024";

/// An active person (`{login}@example.org`, English), signed in: answers the session token.
pub async fn signed_in(
    test: &TestSesame,
    login: &str,
    category: sesame::store::people::Category,
) -> String {
    use sesame::{
        people::{PersonInput, create_person},
        store::sessions,
    };
    let id = create_person(
        &test.sesame,
        PersonInput {
            login: login.into(),
            first_name: "Jeanne".into(),
            last_name: "Roy".into(),
            email: Some(format!("{login}@example.org")),
            category: category.as_str().into(),
            language: "en".into(),
            password: ACCOUNT_PASSWORD.into(),
        },
        "test",
    )
    .await
    .expect("person");
    let token = format!("token-{login}");
    let now = test.sesame.clock.now_secs();
    sessions::insert(
        &test.sesame.store.pool,
        &sessions::NewSession {
            id_hash: &test.sesame.key.keyed_hash("session", &token),
            person_id: &id,
            expires_at: now + 3600,
            client_ip: "192.0.2.40",
            user_agent: "test",
        },
        now,
    )
    .await
    .expect("session");
    token
}
