//! The store suite: every test runs on SQLite, and on PostgreSQL when
//! `SESAME_TEST_POSTGRES_URL` is set (CI sets it).

mod common;

use sesame::store::{
    Durability, Engine, Store, audit,
    audit::{AuditEvent, AuditKind},
    flows::{self, NewFlow},
    new_id, outbox,
    outbox::NewMail,
    people::{self, AccountState, Category, NewPerson},
    purge::{self, Cutoffs, EXPIRED_GRACE_SECS},
    recovery,
    sessions::{self, NewSession},
    statement::Statement,
    throttle::{self, Rule},
};

async fn each_engine<F, Fut>(test: F)
where
    F: Fn(Store, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in common::databases().await {
        let name = db.name;
        test(db.store().await, name).await;
        db.cleanup().await;
    }
}

async fn person(store: &Store, login: &str) -> String {
    let id = new_id();
    let new = NewPerson {
        password_hash: Some("$argon2id$placeholder"),
        ..retiree(&id, login)
    };
    people::insert(&store.pool, &new, 1_000)
        .await
        .expect("insert person");
    id
}

/// An active retiree without a password.
fn retiree<'a>(id: &'a str, login: &'a str) -> NewPerson<'a> {
    NewPerson {
        id,
        login,
        first_name: "Marie",
        last_name: "Tremblay",
        email: None,
        category: Category::Retiree,
        language: "fr",
        password_hash: None,
        state: AccountState::Active,
    }
}

#[tokio::test]
async fn people_are_found_by_login_and_logins_are_unique() {
    each_engine(|store, engine| async move {
        let id = person(&store, "mtremblay").await;
        let found = people::find_by_login(&store.pool, "mtremblay")
            .await
            .expect("find")
            .expect(engine);
        assert_eq!(found.id, id);
        assert_eq!(found.email, None);
        assert_eq!(found.state(), Some(AccountState::Active));
        assert!(
            people::find_by_login(&store.pool, "nobody")
                .await
                .expect("find")
                .is_none()
        );
        let duplicate = people::insert(
            &store.pool,
            &NewPerson {
                id: &new_id(),
                login: "mtremblay",
                first_name: "M",
                last_name: "T",
                email: None,
                category: Category::Student,
                language: "en",
                password_hash: None,
                state: AccountState::Pending,
            },
            2_000,
        )
        .await;
        assert!(duplicate.is_err(), "{engine}: duplicate login accepted");
        assert_eq!(people::count(&store.pool).await.expect("count"), 1);
    })
    .await;
}

/// A sign-in's one read before its hash: the person (with the versions of the texts they
/// accepted) and the throttle's rows for its keys, whichever of them exist.
#[tokio::test]
async fn a_sign_in_reads_the_person_and_the_throttle_in_one_query() {
    each_engine(|store, engine| async move {
        let id = person(&store, "mtremblay").await;
        let (login_key, ip_key) = ("signin:login:m", "signin:ip:198.51.100.7");
        let keys = [login_key, ip_key];
        // On a SQLite file the read runs on the store's own connection ([`direct`]); the
        // sqlx path (PostgreSQL, in-memory SQLite) must read the same.
        let read = |login: &'static str, now: i64| {
            let store = store.clone();
            async move {
                let direct = people::find_for_sign_in(&store, login, &keys, now)
                    .await
                    .expect("read");
                let through_sqlx = Store {
                    direct: None,
                    ..store.clone()
                };
                let sqlx = people::find_for_sign_in(&through_sqlx, login, &keys, now)
                    .await
                    .expect("read through sqlx");
                assert_eq!(direct.0, sqlx.0, "{login}");
                assert_eq!(
                    direct
                        .1
                        .as_ref()
                        .map(|row| format!("{:?} {:?}", row.person, row.terms_version)),
                    sqlx.1
                        .as_ref()
                        .map(|row| format!("{:?} {:?}", row.person, row.terms_version)),
                );
                direct
            }
        };

        // No throttle row yet: the person alone.
        let (standing, found) = read("mtremblay", 1_000).await;
        assert_eq!(standing, throttle::Standing::default(), "{engine}");
        let found = found.expect(engine);
        assert_eq!(found.person.id, id, "{engine}");
        assert_eq!(found.person.login, "mtremblay");
        assert_eq!(found.person.state(), Some(AccountState::Active));
        assert_eq!(
            found.person.password_hash.as_deref(),
            Some("$argon2id$placeholder")
        );
        assert_eq!((found.terms_version, found.privacy_version), (None, None));

        // One key counting, the other locked: both rows read, the person once.
        let rule = Rule {
            limit: 2,
            window_secs: 900,
            lockout_secs: 600,
        };
        throttle::record_failure(&store.pool, login_key, rule, 1_000)
            .await
            .expect("f");
        for at in [1_000, 1_001] {
            throttle::record_failure(&store.pool, ip_key, rule, at)
                .await
                .expect("f");
        }
        let (standing, found) = read("mtremblay", 1_100).await;
        assert_eq!(
            standing,
            throttle::Standing {
                locked_secs: Some(501),
                counting: vec![login_key.to_owned()],
            },
            "{engine}"
        );
        assert_eq!(found.expect(engine).person.id, id);

        // Nobody by that login: the throttle's rows all the same.
        let (standing, found) = read("nobody", 1_100).await;
        assert!(found.is_none(), "{engine}");
        assert_eq!(standing.locked_secs, Some(501), "{engine}");
        assert!(standing.is_counting(login_key));

        // No key asked about: the person alone.
        let (standing, found) = people::find_for_sign_in(&store, "mtremblay", &[], 1_100)
            .await
            .expect("read");
        assert_eq!(standing, throttle::Standing::default(), "{engine}");
        assert_eq!(found.expect(engine).person.id, id);
    })
    .await;
}

/// The statement opening session `id_hash` for `person_id`, live at 1,000 until 9,000.
fn session_statement(person_id: &str, id_hash: &str) -> Statement {
    sessions::insert_statement(
        &NewSession {
            id_hash,
            person_id,
            expires_at: 9_000,
            client_ip: "198.51.100.7",
            user_agent: "test",
        },
        1_000,
    )
}

/// `write_all` commits its statements together or not at all, on each path: on a SQLite
/// file a job on the store's own connection, else a sqlx transaction.
#[tokio::test]
async fn statements_written_together_are_all_kept_or_none() {
    each_engine(|store, engine| async move {
        let id = person(&store, "mtremblay").await;
        let paths = match store.direct {
            Some(_) => vec![
                ("direct", store.clone()),
                (
                    "sqlx",
                    Store {
                        direct: None,
                        ..store.clone()
                    },
                ),
            ],
            None => vec![("sqlx", store.clone())],
        };
        for (path, store) in paths {
            let session = |id_hash: &str| session_statement(&id, id_hash);
            let event = audit::record_statement(
                AuditEvent {
                    kind: AuditKind::SignInSucceeded,
                    person_id: Some(&id),
                    actor_id: None,
                    client_ip: Some("198.51.100.7"),
                    request_id: None,
                    detail: serde_json::json!({ "path": path }),
                },
                1_000_000,
            );
            let (hash, second) = (format!("{path}-1"), format!("{path}-2"));
            store
                .write_all(vec![session(&hash), event.clone()], Durability::Synced)
                .await
                .unwrap_or_else(|e| panic!("{engine} {path}: {e}"));
            let live = sessions::find_live(&store.pool, &hash, 1_000, 600)
                .await
                .expect("find");
            assert_eq!(
                live.map(|s| s.person_id),
                Some(id.clone()),
                "{engine} {path}"
            );

            // The second statement fails (the same session again): the first is undone.
            let events_before = count(&store, "audit_events").await;
            let refused = store
                .write_all(
                    vec![event.clone(), session(&second), session(&hash)],
                    Durability::Deferred,
                )
                .await;
            assert!(
                refused.is_err(),
                "{engine} {path}: a duplicate session was written"
            );
            assert_eq!(
                count(&store, "audit_events").await,
                events_before,
                "{engine} {path}"
            );
            assert!(
                sessions::find_live(&store.pool, &second, 1_000, 600)
                    .await
                    .expect("find")
                    .is_none(),
                "{engine} {path}: half a transaction was kept"
            );
            // Nothing is left holding the write lock.
            store
                .write_all(vec![session(&second)], Durability::Synced)
                .await
                .unwrap_or_else(|e| panic!("{engine} {path}: after a failure: {e}"));
        }
    })
    .await;
}

/// On a SQLite file, the direct path's transactions take turns on one connection: many at
/// once (with sqlx writing the same table meanwhile) all commit, and one whose work panics
/// is rolled back and leaves the connection to the next.
#[tokio::test]
async fn direct_transactions_at_once_all_commit_and_survive_a_panic() {
    each_engine(|store, engine| async move {
        let Some(direct) = store.direct.clone() else {
            return; // PostgreSQL: sqlx alone
        };
        let id = person(&store, "mtremblay").await;
        let session = |id_hash: String| session_statement(&id, &id_hash);
        let sqlx_store = Store {
            direct: None,
            ..store.clone()
        };
        let mut writes = tokio::task::JoinSet::new();
        for n in 0..24 {
            let (store, statement) = match n % 4 {
                0 => (sqlx_store.clone(), session(format!("sqlx-{n}"))),
                _ => (store.clone(), session(format!("direct-{n}"))),
            };
            writes.spawn(async move { store.write_all(vec![statement], Durability::Synced).await });
        }
        while let Some(written) = writes.join_next().await {
            written
                .expect("join")
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
        }
        assert_eq!(count(&store, "sessions").await, 24, "{engine}");

        let panicking = {
            let (direct, statement) = (direct.clone(), session("panicked".into()));
            tokio::spawn(async move {
                direct
                    .write(
                        Durability::Synced,
                        move |transaction| -> sesame::error::Result<()> {
                            statement.execute_direct(transaction)?;
                            panic!("a job that panics mid-transaction")
                        },
                    )
                    .await
            })
        };
        let failure = panicking.await.expect_err("the panic reaches its caller");
        assert!(failure.is_panic(), "{engine}: {failure}");
        store
            .write_all(vec![session("after".into())], Durability::Synced)
            .await
            .unwrap_or_else(|e| panic!("{engine}: after a panic: {e}"));
        assert_eq!(
            count(&store, "sessions").await,
            25,
            "{engine}: half a job kept"
        );
    })
    .await;
}

/// A deferred transaction, and it alone, commits without waiting for the disk: each one
/// records the setting it ran under (SQLite's `synchronous` on the direct path: 1 NORMAL,
/// 2 FULL; PostgreSQL's `synchronous_commit`). sqlx's SQLite connections (an in-memory
/// database's only path) always wait.
#[tokio::test]
async fn only_deferred_transactions_commit_without_waiting_for_the_disk() {
    each_engine(|store, engine| async move {
        sqlx::query("CREATE TABLE commit_settings (n INTEGER NOT NULL, setting TEXT NOT NULL)")
            .execute(&store.pool)
            .await
            .expect("create");
        let (setting, deferred, synced) = match store.engine {
            Engine::Sqlite => (
                "CAST(synchronous AS TEXT) FROM pragma_synchronous",
                "1",
                "2",
            ),
            Engine::Postgres => ("current_setting('synchronous_commit')", "off", "on"),
        };
        let mut paths = vec![("direct or PostgreSQL", store.clone(), deferred)];
        if store.direct.is_some() {
            let sqlx_store = Store {
                direct: None,
                ..store.clone()
            };
            paths.push(("sqlx on SQLite", sqlx_store, synced));
        }
        let order = [
            Durability::Synced,
            Durability::Deferred,
            Durability::Deferred,
            Durability::Synced,
            Durability::Deferred,
        ];
        for (path, store, deferred) in paths {
            sqlx::query("DELETE FROM commit_settings")
                .execute(&store.pool)
                .await
                .expect("delete");
            for (n, durability) in order.iter().enumerate() {
                let record = Statement::new(format!(
                    "INSERT INTO commit_settings (n, setting) SELECT {n}, {setting}"
                ));
                store
                    .write_all(vec![record], *durability)
                    .await
                    .unwrap_or_else(|e| panic!("{engine} {path}: {e}"));
            }
            let recorded: Vec<String> =
                sqlx::query_scalar("SELECT setting FROM commit_settings ORDER BY n")
                    .fetch_all(&store.pool)
                    .await
                    .expect("read");
            let expected: Vec<&str> = order
                .iter()
                .map(|durability| match durability {
                    Durability::Synced => synced,
                    Durability::Deferred => deferred,
                })
                .collect();
            assert_eq!(recorded, expected, "{engine} {path}");
        }
    })
    .await;
}

/// Both paths bind `$n` to the n-th parameter, wherever and however often it appears.
#[tokio::test]
async fn a_statement_binds_its_numbered_parameters_by_number() {
    use sesame::store::statement::Columns;
    each_engine(|store, engine| async move {
        let statement = Statement::new(
            "SELECT CAST($2 AS TEXT) AS b, CAST($1 AS TEXT) AS a, CAST($2 AS TEXT) AS c, \
             CAST($3 AS BIGINT) AS n, CAST($4 AS TEXT) AS missing",
        )
        .text("one")
        .text("two")
        .int(42)
        .opt_text(None);
        let read = |row: &dyn Fn(&str) -> Option<String>, n: Option<i64>| {
            (row("a"), row("b"), row("c"), n, row("missing"))
        };
        let expected = (
            Some("one".to_owned()),
            Some("two".to_owned()),
            Some("two".to_owned()),
            Some(42),
            None,
        );
        let rows = statement.fetch_all(&store.pool).await.expect("sqlx");
        let row = &rows[0];
        assert_eq!(
            read(
                &|name| row.text(name).expect("text"),
                row.int("n").expect("int")
            ),
            expected,
            "{engine}"
        );
        if let Some(direct) = &store.direct {
            let direct_rows = direct
                .read(|conn| {
                    statement.query_direct(conn, |row| {
                        Ok(read(&|name| row.text(name).expect("text"), row.int("n")?))
                    })
                })
                .expect("direct");
            assert_eq!(direct_rows, vec![expected]);
        }
    })
    .await;
}

/// A transaction keeps its writes when committed, and none when rolled back or dropped
/// unended; dropped unended (an error, a panic, a request given up on), its connection is
/// closed rather than given back to the pool still inside it.
#[tokio::test]
async fn a_transaction_dropped_unended_leaves_nothing_and_closes_its_connection() {
    each_engine(|store, engine| async move {
        let pool = &store.pool;
        async fn insert(tx: &mut sesame::store::Transaction, login: &str) {
            people::insert(&mut **tx, &retiree(&new_id(), login), 1_000)
                .await
                .expect("insert");
        }
        let exists = |login: &'static str| async move {
            people::find_by_login(pool, login)
                .await
                .expect("find")
                .is_some()
        };

        let mut tx = sesame::store::begin(pool).await.expect("begin");
        insert(&mut tx, "kept").await;
        tx.commit().await.expect("commit");
        assert!(exists("kept").await, "{engine}: committed");

        let mut tx = sesame::store::begin(pool).await.expect("begin");
        insert(&mut tx, "rolled-back").await;
        tx.rollback().await.expect("rollback");
        assert!(!exists("rolled-back").await, "{engine}: rolled back");

        let mut tx = sesame::store::begin(pool).await.expect("begin");
        insert(&mut tx, "dropped").await;
        let connections = pool.size();
        drop(tx);
        let started = std::time::Instant::now();
        while pool.size() >= connections && started.elapsed().as_secs() < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(
            pool.size() < connections,
            "{engine}: the dropped transaction's connection went back to the pool"
        );
        assert!(!exists("dropped").await, "{engine}: dropped");
        // Nothing is left holding a lock: the next transaction writes and commits.
        let mut tx = sesame::store::begin(pool).await.expect("begin");
        insert(&mut tx, "dropped").await;
        tx.commit().await.expect("commit");
        assert!(exists("dropped").await, "{engine}: written after");
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_by_idleness_and_age_and_end_together() {
    each_engine(|store, engine| async move {
        let id = person(&store, "a").await;
        for (hash, expires_at) in [("s1", 10_000), ("s2", 10_000), ("s3", 1_500)] {
            sessions::insert(
                &store.pool,
                &NewSession {
                    id_hash: hash,
                    person_id: &id,
                    expires_at,
                    client_ip: "127.0.0.1",
                    user_agent: "t",
                },
                1_000,
            )
            .await
            .expect("insert session");
        }
        assert!(
            sessions::find_live(&store.pool, "s1", 1_100, 600)
                .await
                .expect("find")
                .is_some(),
            "{engine}"
        );
        // Touched at 1_100 (≥ 60 s after creation): still live at 1_650 with 600 s idle.
        assert!(
            sessions::find_live(&store.pool, "s1", 1_650, 600)
                .await
                .expect("find")
                .is_some(),
            "{engine}"
        );
        assert!(
            sessions::find_live(&store.pool, "s2", 1_700, 600)
                .await
                .expect("find")
                .is_none(),
            "{engine}: idle"
        );
        assert!(
            sessions::find_live(&store.pool, "s3", 1_500, 6_000)
                .await
                .expect("find")
                .is_none(),
            "{engine}: expired"
        );
        assert_eq!(
            sessions::delete_all_for(&store.pool, &id)
                .await
                .expect("delete"),
            3
        );
        assert_eq!(
            sessions::count_for(&store.pool, &id).await.expect("count"),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn throttle_locks_after_the_limit_and_releases_by_itself() {
    each_engine(|store, engine| async move {
        let rule = Rule {
            limit: 3,
            window_secs: 900,
            lockout_secs: 600,
        };
        let key = "signin:login:x";
        assert_eq!(
            throttle::record_failure(&store.pool, key, rule, 1_000)
                .await
                .expect("1"),
            None
        );
        assert_eq!(
            throttle::record_failure(&store.pool, key, rule, 1_001)
                .await
                .expect("2"),
            None
        );
        assert_eq!(
            throttle::locked_for(&store.pool, key, 1_002)
                .await
                .expect("q"),
            None
        );
        assert_eq!(
            throttle::record_failure(&store.pool, key, rule, 1_002)
                .await
                .expect("3"),
            Some(600),
            "{engine}"
        );
        assert_eq!(
            throttle::locked_for(&store.pool, key, 1_100)
                .await
                .expect("q"),
            Some(502)
        );
        assert_eq!(
            throttle::locked_for(&store.pool, key, 1_602)
                .await
                .expect("q"),
            None,
            "{engine}: lock ends"
        );
        // Several keys in one check: the longest lock among them, none once all have ended.
        let long = "signin:ip:203.0.113.9";
        for at in [1_050, 1_051, 1_052] {
            throttle::record_failure(&store.pool, long, rule, at)
                .await
                .expect("f");
        }
        let keys = [key, "signin:ip:never-failed", long];
        for (at, left) in [(1_100, Some(552)), (1_610, Some(42)), (1_652, None)] {
            assert_eq!(
                throttle::locked_for_any(&store.pool, &keys, at)
                    .await
                    .expect("q"),
                left,
                "{engine} at {at}"
            );
        }
        assert_eq!(
            throttle::locked_for_any(&store.pool, &[], 1_100)
                .await
                .expect("q"),
            None
        );
        // A key with failures and no lock is one a success has to forget; a locked key is
        // not (a success cannot happen while it lasts), nor one that never failed.
        let counted = "signin:login:y";
        throttle::record_failure(&store.pool, counted, rule, 1_000)
            .await
            .expect("f");
        let standing = throttle::standing(&store.pool, &[counted, key, "signin:ip:none"], 1_100)
            .await
            .expect("q");
        assert_eq!(
            standing,
            throttle::Standing {
                locked_secs: Some(502),
                counting: vec![counted.to_owned()],
            },
            "{engine}"
        );
        assert!(standing.is_counting(counted) && !standing.is_counting(key));
        throttle::clear(&store.pool, counted).await.expect("c");
        assert_eq!(
            throttle::standing(&store.pool, &[counted], 1_100)
                .await
                .expect("q"),
            throttle::Standing::default(),
            "{engine}: forgotten"
        );
        // Failures outside the window do not add up.
        let other = "signin:ip:1";
        for at in [0, 1_000, 2_000, 3_000] {
            assert_eq!(
                throttle::record_failure(&store.pool, other, rule, at)
                    .await
                    .expect("f"),
                None,
                "{engine}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_failures_are_all_counted() {
    each_engine(|store, engine| async move {
        let rule = Rule {
            limit: 1_000,
            window_secs: 900,
            lockout_secs: 60,
        };
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let pool = store.pool.clone();
                tokio::spawn(async move { throttle::record_failure(&pool, "k", rule, 5).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("record");
        }
        let failures: i64 = sqlx::query_scalar("SELECT failures FROM throttle WHERE key = 'k'")
            .fetch_one(&store.pool)
            .await
            .expect("read");
        assert_eq!(failures, 20, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn flow_transitions_apply_once_and_not_after_expiry() {
    each_engine(|store, engine| async move {
        let flow = NewFlow {
            id: "f1",
            kind: "signin",
            state: "a",
            person_id: None,
            locale: "fr",
            binding_hash: "b",
            expires_at: 2_000,
            data: "{}",
        };
        flows::insert(&store.pool, &flow, 1_000)
            .await
            .expect("insert");
        assert!(
            flows::transition(&store.pool, "f1", "a", "b", "{\"x\":1}", 1_100)
                .await
                .expect("t"),
            "{engine}"
        );
        assert!(
            !flows::transition(&store.pool, "f1", "a", "b", "{}", 1_100)
                .await
                .expect("t"),
            "{engine}: replay"
        );
        assert!(
            !flows::transition(&store.pool, "f1", "b", "c", "{}", 2_000)
                .await
                .expect("t"),
            "{engine}: expired"
        );
        let row = flows::find(&store.pool, "f1", "signin")
            .await
            .expect("find")
            .expect("row");
        assert_eq!(
            (row.state.as_str(), row.data.as_str(), row.attempts),
            ("b", "{\"x\":1}", 1)
        );
        assert!(
            flows::find(&store.pool, "f1", "recovery")
                .await
                .expect("find")
                .is_none(),
            "kind is checked"
        );
        assert_eq!(
            flows::delete_expired(&store.pool, 2_000)
                .await
                .expect("purge"),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn each_queued_message_is_claimed_by_one_worker_only() {
    each_engine(|store, engine| async move {
        for n in 0..10 {
            let subject = format!("message {n}");
            outbox::enqueue(
                &store.pool,
                &NewMail {
                    recipient: "a@example.org",
                    subject: &subject,
                    text_body: "code 123456",
                    html_body: "<p>x</p>",
                },
                &format!("<{n}@test>"),
                1_000,
            )
            .await
            .expect("enqueue");
        }
        let claimers: Vec<_> = (0..4)
            .map(|_| {
                let pool = store.pool.clone();
                tokio::spawn(async move { outbox::claim_due(&pool, 1_000, 10).await })
            })
            .collect();
        let mut claimed = Vec::new();
        for claimer in claimers {
            claimed.extend(
                claimer
                    .await
                    .expect("join")
                    .expect("claim")
                    .into_iter()
                    .map(|row| row.id),
            );
        }
        claimed.sort();
        let before = claimed.len();
        claimed.dedup();
        assert_eq!(
            before,
            claimed.len(),
            "{engine}: a message was claimed twice"
        );
        assert_eq!(claimed.len(), 10, "{engine}");
        assert!(
            outbox::claim_due(&store.pool, 1_001, 10)
                .await
                .expect("claim")
                .is_empty(),
            "{engine}: claims hold"
        );

        outbox::mark_sent(&store.pool, &claimed[0], 1_002)
            .await
            .expect("sent");
        let sent = outbox::find(&store.pool, &claimed[0])
            .await
            .expect("find")
            .expect("row");
        assert_eq!(
            (sent.state.as_str(), sent.text_body.as_str()),
            ("sent", ""),
            "{engine}: bodies blanked"
        );
        outbox::mark_failed_attempt(&store.pool, &claimed[1], "down", Some(1_050))
            .await
            .expect("retry");
        assert!(
            outbox::claim_due(&store.pool, 1_049, 10)
                .await
                .expect("claim")
                .is_empty()
        );
        let retried = outbox::claim_due(&store.pool, 1_050, 10)
            .await
            .expect("claim");
        assert_eq!(retried.len(), 1, "{engine}");
        assert_eq!(retried[0].attempts, 2);
        // A claim left by a crashed worker expires.
        let orphaned = outbox::claim_due(&store.pool, 1_000 + outbox::CLAIM_SECS, 20)
            .await
            .expect("claim");
        assert_eq!(orphaned.len(), 8, "{engine}");
        assert_eq!(outbox::depth(&store.pool).await.expect("depth"), 9);
    })
    .await;
}

#[tokio::test]
async fn audit_events_come_back_newest_first() {
    each_engine(|store, engine| async move {
        let id = person(&store, "a").await;
        for (at, kind) in [
            (1, AuditKind::SignInFailed),
            (2, AuditKind::SignInSucceeded),
            (3, AuditKind::SignedOut),
        ] {
            audit::record(
                &store.pool,
                AuditEvent {
                    kind,
                    person_id: Some(&id),
                    actor_id: None,
                    client_ip: Some("127.0.0.1"),
                    request_id: Some("r"),
                    detail: serde_json::json!({ "reason": "x" }),
                },
                at,
            )
            .await
            .expect("record");
        }
        let events = audit::recent(&store.pool, Some(&id), 2)
            .await
            .expect("recent");
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sign_out", "sign_in.succeeded"], "{engine}");
        assert_eq!(
            audit::recent(&store.pool, None, 10)
                .await
                .expect("all")
                .len(),
            3
        );

        // Events of one millisecond (a step and its consequence, a batch) keep their
        // order: last written first.
        let event = |kind| AuditEvent {
            kind,
            person_id: Some(&id),
            actor_id: None,
            client_ip: None,
            request_id: None,
            detail: serde_json::json!({}),
        };
        for kind in [AuditKind::SignInFailed, AuditKind::SignInSucceeded] {
            audit::record(&store.pool, event(kind), 4)
                .await
                .expect("record");
        }
        let mut conn = store.pool.acquire().await.expect("connection");
        let batch: Vec<_> = [
            AuditKind::SessionsEnded,
            AuditKind::Unlocked,
            AuditKind::SignedOut,
        ]
        .into_iter()
        .map(event)
        .collect();
        audit::record_many(&mut conn, &batch, 5)
            .await
            .expect("record many");
        drop(conn);
        let events = audit::recent(&store.pool, Some(&id), 5)
            .await
            .expect("recent");
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "sign_out",
                "helpdesk.unlocked",
                "helpdesk.sessions_ended",
                "sign_in.succeeded",
                "sign_in.failed"
            ],
            "{engine}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_verification_is_used_once_even_by_concurrent_requests() {
    use sesame::store::verifications::{self, NewVerification};
    each_engine(|store, engine| async move {
        let flow_id = new_id();
        flows::insert(
            &store.pool,
            &NewFlow {
                id: &flow_id,
                kind: "activation",
                state: "check_email",
                person_id: None,
                locale: "fr",
                binding_hash: "b",
                expires_at: 10_000,
                data: "{}",
            },
            1_000,
        )
        .await
        .expect("flow");
        let issue = |id: &'static str, link: &'static str| NewVerification {
            id,
            flow_id: &flow_id,
            purpose: "recovery",
            address: "marie@perso.example",
            link_hash: link,
            code_hash: "code",
            expires_at: 5_000,
        };
        let mut conn = store.pool.acquire().await.expect("conn");
        verifications::replace(&mut conn, &issue("v1", "l1"), 1_000)
            .await
            .expect("first");
        verifications::replace(&mut conn, &issue("v2", "l2"), 1_001)
            .await
            .expect("second");
        drop(conn);
        // The newer mail replaced the older one.
        let first = verifications::find_by_link(&store.pool, "l1")
            .await
            .expect("find")
            .expect(engine);
        assert!(!first.usable(1_002, 5), "{engine}");
        let latest = verifications::latest(&store.pool, &flow_id, "recovery")
            .await
            .expect("latest")
            .expect(engine);
        assert_eq!(latest.id, "v2", "{engine}");
        assert_eq!(
            verifications::count_sent(&store.pool, &flow_id, "recovery", "marie@perso.example")
                .await
                .expect("count"),
            2
        );
        // Two uses at once: exactly one wins.
        let (a, b) = tokio::join!(
            verifications::consume(&store.pool, "v2", 1_002, 5),
            verifications::consume(&store.pool, "v2", 1_002, 5)
        );
        assert_eq!(
            u8::from(a.expect("a")) + u8::from(b.expect("b")),
            1,
            "{engine}"
        );
        // Each typed code takes a try before it is compared; past the limit none is left,
        // and the code given on the last try may still be used.
        let mut conn = store.pool.acquire().await.expect("conn");
        verifications::replace(&mut conn, &issue("v3", "l3"), 1_002)
            .await
            .expect("third");
        drop(conn);
        for expected in 1..=5 {
            let taken = verifications::take_try(&store.pool, "v3", 1_003, 5)
                .await
                .expect("try");
            assert_eq!(taken, Some(expected), "{engine}");
        }
        assert_eq!(
            verifications::take_try(&store.pool, "v3", 1_003, 5)
                .await
                .expect("try"),
            None,
            "{engine}: no sixth try"
        );
        assert_eq!(
            verifications::take_try(&store.pool, "v2", 1_003, 5)
                .await
                .expect("try"),
            None,
            "{engine}: a used code takes no try"
        );
        assert!(
            verifications::consume(&store.pool, "v3", 1_003, 5)
                .await
                .expect("consume"),
            "{engine}"
        );
    })
    .await;
}

#[tokio::test]
async fn twenty_concurrent_uses_of_one_code_give_one_success() {
    use sesame::store::verifications::{self, NewVerification};
    each_engine(|store, engine| async move {
        let flow_id = new_id();
        flows::insert(
            &store.pool,
            &NewFlow {
                id: &flow_id,
                kind: "password_recovery",
                state: "email_code",
                person_id: None,
                locale: "fr",
                binding_hash: "b",
                expires_at: 10_000,
                data: "{}",
            },
            1_000,
        )
        .await
        .expect("flow");
        let mut conn = store.pool.acquire().await.expect("conn");
        verifications::replace(
            &mut conn,
            &NewVerification {
                id: "code",
                flow_id: &flow_id,
                purpose: "reset",
                address: "marie@perso.example",
                link_hash: "link",
                code_hash: "hash",
                expires_at: 5_000,
            },
            1_000,
        )
        .await
        .expect("code");
        drop(conn);
        // Each request does what the flow does: use the code and move the flow on, in
        // one transaction.
        let attempts = (0..20).map(|_| {
            let pool = store.pool.clone();
            let flow_id = flow_id.clone();
            tokio::spawn(async move {
                let mut tx = sesame::store::begin(&pool).await?;
                if !verifications::consume(&mut *tx, "code", 1_001, 5).await? {
                    tx.rollback().await?;
                    return Ok::<bool, sesame::error::Error>(false);
                }
                let moved = flows::transition(
                    &mut *tx,
                    &flow_id,
                    "email_code",
                    "new_password",
                    "{}",
                    1_001,
                )
                .await?;
                tx.commit().await?;
                Ok(moved)
            })
        });
        let mut successes = 0;
        for attempt in futures::future::join_all(attempts).await {
            if attempt.expect("task").expect(engine) {
                successes += 1;
            }
        }
        assert_eq!(successes, 1, "{engine}");
        let flow = flows::find(&store.pool, &flow_id, "password_recovery")
            .await
            .expect("find")
            .expect(engine);
        assert_eq!(flow.state, "new_password", "{engine}");
    })
    .await;
}

#[tokio::test]
async fn an_authenticator_code_is_used_once_even_by_concurrent_requests() {
    use sesame::store::authenticators;
    each_engine(|store, engine| async move {
        let person_id = person(&store, "app.owner").await;
        let mut conn = store.pool.acquire().await.expect("conn");
        authenticators::replace(&mut conn, &person_id, "sealed", 100, 1_000)
            .await
            .expect("enrol");
        drop(conn);
        // The step that confirmed the enrolment, or an older one, never works.
        assert!(
            !authenticators::use_step(&store.pool, &person_id, 100)
                .await
                .expect(engine)
        );
        assert!(
            !authenticators::use_step(&store.pool, &person_id, 99)
                .await
                .expect(engine)
        );
        let attempts = (0..20).map(|_| {
            let pool = store.pool.clone();
            let person_id = person_id.clone();
            tokio::spawn(async move { authenticators::use_step(&pool, &person_id, 101).await })
        });
        let mut successes = 0;
        for attempt in futures::future::join_all(attempts).await {
            if attempt.expect("task").expect(engine) {
                successes += 1;
            }
        }
        assert_eq!(successes, 1, "{engine}");
        let row = authenticators::find(&store.pool, &person_id)
            .await
            .expect(engine)
            .expect("enrolled");
        assert_eq!(row.last_step, 101, "{engine}");
        assert!(
            authenticators::remove(&store.pool, &person_id)
                .await
                .expect(engine)
        );
        assert!(
            !authenticators::remove(&store.pool, &person_id)
                .await
                .expect(engine)
        );
    })
    .await;
}

#[tokio::test]
async fn mailbox_addresses_are_unique() {
    use sesame::store::activation;
    each_engine(|store, engine| async move {
        let marie = person(&store, "marie").await;
        let other = person(&store, "marie2").await;
        assert!(
            activation::claim_mailbox(&store.pool, &marie, "marie.t@univ.example", 1)
                .await
                .expect("claim")
        );
        assert!(
            activation::mailbox_taken(&store.pool, "marie.t@univ.example", &other)
                .await
                .expect("taken"),
            "{engine}"
        );
        assert!(
            !activation::claim_mailbox(&store.pool, &other, "marie.t@univ.example", 1)
                .await
                .expect("claim"),
            "{engine}: the second claim loses"
        );
    })
    .await;
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&store.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_purge_removes_what_ended_and_keeps_what_still_serves() {
    each_engine(|store, engine| async move {
        let id = person(&store, "a").await;
        let now = 10_000_000;
        let long_ago = now - EXPIRED_GRACE_SECS - 1;
        // Flows: unfinished and expired long ago, finished and expired long ago, expired
        // only a moment ago (kept for its "expired" page), live.
        for (flow_id, kind, state, expires_at) in [
            ("old-open", "password", "code_sent", long_ago),
            ("old-done", "recovery_email", "done", long_ago),
            ("just-expired", "password", "code_sent", now - 10),
            ("live", "signin", "start", now + 600),
        ] {
            let flow = NewFlow {
                id: flow_id,
                kind,
                state,
                person_id: Some(&id),
                locale: "fr",
                binding_hash: "b",
                expires_at,
                data: "{}",
            };
            flows::insert(&store.pool, &flow, long_ago - 100)
                .await
                .expect("flow");
        }
        // Sessions: past their absolute end, idle too long, live.
        for (hash, created, expires_at) in [
            ("expired", now - 100, now - 1),
            ("idle", now - 7_200, now + 3_600),
            ("live", now - 100, now + 3_600),
        ] {
            sessions::insert(
                &store.pool,
                &NewSession {
                    id_hash: hash,
                    person_id: &id,
                    expires_at,
                    client_ip: "127.0.0.1",
                    user_agent: "t",
                },
                created,
            )
            .await
            .expect("session");
        }
        // Throttle: an old window, an old window still locked, a current window.
        let rule = Rule {
            limit: 1,
            window_secs: 3_600,
            lockout_secs: 600,
        };
        throttle::record_failure(&store.pool, "t:old:x", Rule { limit: 99, ..rule }, now - 90_000)
            .await
            .expect("throttle");
        sqlx::query("INSERT INTO throttle (key, window_start, failures, locked_until) VALUES ('t:locked:x', $1, 9, $2)")
            .bind(now - 90_000)
            .bind(now + 60)
            .execute(&store.pool)
            .await
            .expect("locked throttle");
        throttle::record_failure(&store.pool, "t:recent:x", Rule { limit: 99, ..rule }, now - 60)
            .await
            .expect("throttle");
        // Mail: sent long ago, given up long ago, pending long ago, sent recently.
        for (n, created, state) in [
            (1, now - 40 * 86_400, "sent"),
            (2, now - 40 * 86_400, "failed"),
            (3, now - 40 * 86_400, "pending"),
            (4, now - 60, "sent"),
        ] {
            let mail_id = outbox::enqueue(
                &store.pool,
                &NewMail {
                    recipient: "a@example.org",
                    subject: "s",
                    text_body: "b",
                    html_body: "b",
                },
                &format!("<{n}@test>"),
                created,
            )
            .await
            .expect("enqueue");
            sqlx::query("UPDATE outbox SET state = $2 WHERE id = $1")
                .bind(&mail_id)
                .bind(state)
                .execute(&store.pool)
                .await
                .expect("state");
        }
        // Audit: one event past the retention, one within.
        for at_ms in [(now - 500 * 86_400) * 1000, (now - 60) * 1000] {
            audit::record(
                &store.pool,
                AuditEvent {
                    kind: AuditKind::SignedOut,
                    person_id: Some(&id),
                    actor_id: None,
                    client_ip: None,
                    request_id: None,
                    detail: serde_json::json!({}),
                },
                at_ms,
            )
            .await
            .expect("audit");
        }
        // Spent bot-check challenges: expired, still valid.
        for (nonce, expires_at) in [("gone", now - 1), ("kept", now + 60)] {
            sqlx::query("INSERT INTO bot_check_spent (nonce, spent_at, expires_at) VALUES ($1, $2, $3)")
                .bind(nonce)
                .bind(now - 600)
                .bind(expires_at)
                .execute(&store.pool)
                .await
                .expect("spent");
        }

        let cutoffs = Cutoffs {
            now,
            idle_before: now - 1_800,
            throttle_before: now - 86_400,
            audit_before_ms: (now - 400 * 86_400) * 1000,
            mail_before: now - 30 * 86_400,
            invitations_before: now - 400 * 86_400,
        };
        let report = purge::purge(&store.pool, &cutoffs, &|_, state| state == "done")
            .await
            .expect("purge");
        let removed = |table: &str| report.removed.get(table).copied().unwrap_or(0);
        assert_eq!(removed("flows"), 2, "{engine}: {report:?}");
        assert_eq!(
            report.unfinished_flows_by_kind.get("password"),
            Some(&1),
            "{engine}: a finished flow is not counted as expired"
        );
        assert_eq!(report.unfinished_flows_by_kind.len(), 1, "{engine}");
        assert_eq!(removed("sessions"), 2, "{engine}");
        assert_eq!(removed("throttle"), 1, "{engine}: a lock always runs to its end");
        assert_eq!(removed("outbox"), 2, "{engine}: unsent mail is never purged");
        assert_eq!(removed("audit_events"), 1, "{engine}");
        assert_eq!(removed("bot_check_spent"), 1, "{engine}");

        let flow_ids: Vec<String> = sqlx::query_scalar("SELECT id FROM flows ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("flows");
        assert_eq!(flow_ids, ["just-expired", "live"], "{engine}");
        let session_ids: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
            .fetch_all(&store.pool)
            .await
            .expect("sessions");
        assert_eq!(session_ids, ["live"], "{engine}");
        assert_eq!(count(&store, "throttle").await, 2, "{engine}");
        assert_eq!(count(&store, "outbox").await, 2, "{engine}");
        assert_eq!(count(&store, "audit_events").await, 1, "{engine}");
        assert_eq!(count(&store, "bot_check_spent").await, 1, "{engine}");

        let again = purge::purge(&store.pool, &cutoffs, &|_, state| state == "done")
            .await
            .expect("purge again");
        assert_eq!(again.total(), 0, "{engine}: a second purge finds nothing");
    })
    .await;
}

#[tokio::test]
async fn superseded_and_cancelled_flows_are_not_counted_as_expired() {
    each_engine(|store, engine| async move {
        let id = person(&store, "a").await;
        let other = person(&store, "b").await;
        let now = 10_000_000;
        let later = now + 3_600;
        for (flow_id, owner, state) in [
            ("older-tab", &id, "code_sent"),
            ("done-tab", &id, "done"),
            ("this-tab", &id, "code_sent"),
            ("someone-else", &other, "code_sent"),
            ("cancelled", &id, "check"),
        ] {
            let flow = NewFlow {
                id: flow_id,
                kind: "password",
                state,
                person_id: Some(owner),
                locale: "fr",
                binding_hash: "b",
                expires_at: later,
                data: "{}",
            };
            flows::insert(&store.pool, &flow, now - 100)
                .await
                .expect("flow");
        }

        let mut tx = sesame::store::begin(&store.pool).await.expect("begin");
        let superseded = recovery::supersede_other_flows(&mut tx, &id, "password", "this-tab", now)
            .await
            .expect("supersede");
        tx.commit().await.expect("commit");
        assert_eq!(
            superseded, 2,
            "{engine}: the older tab and the cancelled one"
        );
        flows::abandon(&store.pool, "cancelled", flows::Abandoned::Cancelled)
            .await
            .expect("abandon");

        let state = |flow_id: &'static str| {
            let pool = store.pool.clone();
            async move {
                flows::find(&pool, flow_id, "password")
                    .await
                    .expect("find")
                    .map(|f| (f.state, f.expires_at))
            }
        };
        assert_eq!(
            state("older-tab").await,
            Some((flows::SUPERSEDED.to_owned(), now)),
            "{engine}"
        );
        assert_eq!(
            state("done-tab").await,
            Some(("done".to_owned(), now)),
            "{engine}: a finished flow keeps its state and ends"
        );
        assert_eq!(
            state("this-tab").await,
            Some(("code_sent".to_owned(), later)),
            "{engine}"
        );
        assert_eq!(
            state("someone-else").await,
            Some(("code_sent".to_owned(), later)),
            "{engine}"
        );
        assert_eq!(state("cancelled").await, None, "{engine}");
        assert!(
            !flows::transition(&store.pool, "older-tab", "code_sent", "x", "{}", now - 1)
                .await
                .expect("transition"),
            "{engine}: a superseded flow takes no step"
        );

        // Once everything has expired, only the flows nobody finished count as expired.
        let after = later + EXPIRED_GRACE_SECS + 1;
        let cutoffs = Cutoffs {
            now: after,
            idle_before: after,
            throttle_before: after,
            audit_before_ms: 0,
            mail_before: 0,
            invitations_before: 0,
        };
        let report = purge::purge(&store.pool, &cutoffs, &|_, state| {
            flows::FINISHED_STATES.contains(&state)
        })
        .await
        .expect("purge");
        assert_eq!(
            report.removed.get("flows"),
            Some(&4),
            "{engine}: {report:?}"
        );
        assert_eq!(
            report.unfinished_flows_by_kind.get("password"),
            Some(&2),
            "{engine}: this tab and someone else's, never finished"
        );
    })
    .await;
}
