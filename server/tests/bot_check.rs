//! The bot check's server side on every engine (SQLite; PostgreSQL too when
//! `SESAME_TEST_POSTGRES_URL` is set): signed, expiring, single-use challenges, solved as
//! the browser solves them, with a difficulty that rises under load.

mod common;

use std::sync::Arc;

use app::pow;
use jiff::SignedDuration;
use sesame::{
    bot_check::{self, BotRejection, BotVerdict},
    clock::{Clock, ManualClock},
    config::Config,
    state::Sesame,
};

/// Small difficulties: the tests run unoptimised.
fn easy(config: &mut Config) {
    config.bot_check.difficulty = 8;
    config.bot_check.max_difficulty = 12;
    config.bot_check.raise_above_per_minute = 1_000;
}

async fn each_engine<F, Fut>(tune: impl Fn(&mut Config), test: F)
where
    F: Fn(Sesame, Arc<ManualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in common::databases().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = common::manual_clock();
        let mut config = common::config(dir.path(), &db.url);
        tune(&mut config);
        let sesame = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        test(sesame.clone(), clock, db.name).await;
        sesame.store.pool.close().await;
        db.cleanup().await;
    }
}

/// What the browser does: the first solution from 0.
fn solve(challenge: &str) -> String {
    let difficulty = pow::difficulty(challenge).expect("well formed");
    pow::solve(challenge, difficulty, 0, u64::MAX)
        .expect("solved")
        .to_string()
}

fn rejected(why: BotRejection) -> BotVerdict {
    BotVerdict::Rejected(why)
}

#[tokio::test]
async fn a_solved_challenge_passes_once() {
    each_engine(easy, |sesame, _clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        assert_eq!(pow::difficulty(&challenge), Some(8), "{engine}");
        let solution = solve(&challenge);
        let verdict = bot_check::verify(&sesame, &challenge, &solution).await;
        assert_eq!(verdict.expect("verify"), BotVerdict::Passed, "{engine}");
        let again = bot_check::verify(&sesame, &challenge, &solution).await;
        assert_eq!(
            again.expect("verify"),
            rejected(BotRejection::Replayed),
            "{engine}"
        );
        // Another challenge is another spend.
        let other = bot_check::issue(&sesame).await.expect("issue");
        assert_ne!(other, challenge);
        let verdict = bot_check::verify(&sesame, &other, &solve(&other)).await;
        assert_eq!(verdict.expect("verify"), BotVerdict::Passed, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    each_engine(easy, |sesame, clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        let solution = solve(&challenge);
        clock.advance(SignedDuration::from_mins(9));
        let early = bot_check::issue(&sesame).await.expect("issue");
        clock.advance(SignedDuration::from_mins(1));
        let verdict = bot_check::verify(&sesame, &challenge, &solution).await;
        assert_eq!(
            verdict.expect("verify"),
            rejected(BotRejection::Expired),
            "{engine}"
        );
        // One issued a minute later still has nine minutes.
        let verdict = bot_check::verify(&sesame, &early, &solve(&early)).await;
        assert_eq!(verdict.expect("verify"), BotVerdict::Passed, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn altered_or_foreign_challenges_are_forged() {
    each_engine(easy, |sesame, _clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        let parsed = pow::parse(&challenge).expect("well formed");
        let fields: Vec<&str> = challenge.split('.').collect();
        let with = |index: usize, value: &str| {
            let mut altered = fields.clone();
            altered[index] = value;
            altered.join(".")
        };
        let later = (parsed.expires_at + 3600).to_string();
        let mut other_nonce = parsed.nonce.to_owned();
        other_nonce.replace_range(
            ..1,
            if other_nonce.starts_with('0') {
                "1"
            } else {
                "0"
            },
        );
        for (what, forged) in [
            ("easier", with(1, "1")),
            ("harder", with(1, "9")),
            ("later", with(2, &later)),
            ("other nonce", with(3, &other_nonce)),
            ("no signature", with(4, &"0".repeat(64))),
            ("garbage", "not a challenge".to_owned()),
            ("too long", format!("{challenge}{}", "0".repeat(300))),
            ("empty", String::new()),
        ] {
            // Solved for its own (claimed) difficulty, so only the signature can fail.
            let solution = if pow::parse(&forged).is_some() {
                solve(&forged)
            } else {
                "1".to_owned()
            };
            let verdict = bot_check::verify(&sesame, &forged, &solution).await;
            assert_eq!(
                verdict.expect("verify"),
                rejected(BotRejection::Forged),
                "{engine}: {what}"
            );
        }

        // Signed by another server key.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = common::config(dir.path(), &sesame.config.database.url);
        easy(&mut config);
        let stranger = Sesame::start(config, common::manual_clock() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        let foreign = bot_check::issue(&stranger).await.expect("issue");
        let verdict = bot_check::verify(&sesame, &foreign, &solve(&foreign)).await;
        assert_eq!(
            verdict.expect("verify"),
            rejected(BotRejection::Forged),
            "{engine}"
        );
        stranger.store.pool.close().await;

        // The genuine one is untouched by all this.
        let verdict = bot_check::verify(&sesame, &challenge, &solve(&challenge)).await;
        assert_eq!(verdict.expect("verify"), BotVerdict::Passed, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn a_solution_to_a_lower_difficulty_is_wrong() {
    each_engine(easy, |sesame, _clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        // The first candidate that has 4 leading zero bits but not 8.
        let mut start = 0;
        let weak = loop {
            let found = pow::solve(&challenge, 4, start, u64::MAX).expect("found");
            if !pow::is_solution(&challenge, found, 8) {
                break found;
            }
            start = found + 1;
        };
        for wrong in [weak.to_string(), "+1".into(), "x".into(), "-1".into()] {
            let verdict = bot_check::verify(&sesame, &challenge, &wrong).await;
            assert_eq!(
                verdict.expect("verify"),
                rejected(BotRejection::WrongSolution),
                "{engine}: {wrong}"
            );
        }
        // Wrong tries do not spend the challenge.
        let verdict = bot_check::verify(&sesame, &challenge, &solve(&challenge)).await;
        assert_eq!(verdict.expect("verify"), BotVerdict::Passed, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn no_solution_is_missing() {
    each_engine(easy, |sesame, _clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        for (challenge, solution) in [("", ""), (challenge.as_str(), ""), ("", " ")] {
            let verdict = bot_check::verify(&sesame, challenge, solution).await;
            assert_eq!(verdict.expect("verify"), BotVerdict::Missing, "{engine}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_uses_exactly_one_passes() {
    each_engine(easy, |sesame, _clock, engine| async move {
        let challenge = bot_check::issue(&sesame).await.expect("issue");
        let solution = solve(&challenge);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (sesame, challenge, solution) =
                    (sesame.clone(), challenge.clone(), solution.clone());
                tokio::spawn(async move { bot_check::verify(&sesame, &challenge, &solution).await })
            })
            .collect();
        let mut verdicts = Vec::new();
        for task in tasks {
            verdicts.push(task.await.expect("joined").expect("verify"));
        }
        let passed = verdicts
            .iter()
            .filter(|v| **v == BotVerdict::Passed)
            .count();
        let replayed = verdicts
            .iter()
            .filter(|v| **v == rejected(BotRejection::Replayed))
            .count();
        assert_eq!((passed, replayed), (1, 19), "{engine}: {verdicts:?}");
    })
    .await;
}

#[tokio::test]
async fn the_difficulty_rises_under_load_and_falls_back() {
    let busy = |config: &mut Config| {
        config.bot_check.difficulty = 4;
        config.bot_check.max_difficulty = 6;
        config.bot_check.raise_above_per_minute = 2;
    };
    each_engine(busy, |sesame, clock, engine| async move {
        let pass = |count: usize| {
            let sesame = sesame.clone();
            async move {
                for _ in 0..count {
                    let challenge = bot_check::issue(&sesame).await.expect("issue");
                    let verdict = bot_check::verify(&sesame, &challenge, &solve(&challenge))
                        .await
                        .expect("verify");
                    assert_eq!(verdict, BotVerdict::Passed);
                }
            }
        };
        let issued_at = |sesame: Sesame| async move {
            let challenge = bot_check::issue(&sesame).await.expect("issue");
            pow::difficulty(&challenge).expect("well formed")
        };
        assert_eq!(issued_at(sesame.clone()).await, 4, "{engine}");
        pass(2).await;
        assert_eq!(
            issued_at(sesame.clone()).await,
            4,
            "{engine}: at the threshold"
        );
        pass(1).await;
        assert_eq!(issued_at(sesame.clone()).await, 5, "{engine}: above it");
        pass(2).await;
        assert_eq!(issued_at(sesame.clone()).await, 6, "{engine}: doubled");
        pass(10).await;
        assert_eq!(issued_at(sesame.clone()).await, 6, "{engine}: capped");
        // A quiet minute later, back to the configured difficulty.
        clock.advance(SignedDuration::from_secs(61));
        assert_eq!(
            issued_at(sesame.clone()).await,
            4,
            "{engine}: after the burst"
        );
        // Another instance on the same database sees the same load.
        pass(3).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = common::config(dir.path(), &sesame.config.database.url);
        busy(&mut config);
        let other = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        let difficulty = bot_check::current_difficulty(&other).await.expect("load");
        assert_eq!(difficulty, 5, "{engine}");
        other.store.pool.close().await;
    })
    .await;
}
