//! The bot check's cost, measured: native solve time of fresh challenges at the configured
//! difficulty (the browser's WASM is slower; see the Playwright runs' `data-solve-ms`), and
//! the server's verify time. Run by `bench/run.sh` in release:
//! `cargo run --release -p sesame --example pow_solve [-- RUNS]`.

use std::{sync::Arc, time::Instant};

use sesame::{
    bot_check::{self, BotVerdict},
    clock::{Clock, SystemClock},
    config::Config,
    state::Sesame,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 50,
    };
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.database.url = format!("sqlite:{}", dir.path().join("sesame.db").display());
    config.secret_key_file = dir.path().join("secret.key");
    config.mail.dir = dir.path().join("mail");
    let difficulty = config.bot_check.difficulty;
    let sesame = Sesame::start(config, Arc::new(SystemClock) as Arc<dyn Clock>, false).await?;

    let mut solve_ms = Vec::with_capacity(runs);
    let mut verify_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let challenge = bot_check::issue(&sesame).await?;
        let start = Instant::now();
        let solution = app::pow::solve(&challenge, difficulty, 0, u64::MAX)
            .ok_or("no solution in the whole u64 range")?;
        solve_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        let verdict = bot_check::verify(&sesame, &challenge, &solution.to_string()).await?;
        verify_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        if verdict != BotVerdict::Passed {
            return Err(format!("a fresh solution did not pass: {verdict:?}").into());
        }
    }
    let (median, p95, max) = summary(&mut solve_ms);
    println!(
        "bot check solve, native, difficulty {difficulty} ({runs} fresh challenges): \
         median {median:.1} ms, p95 {p95:.1} ms, max {max:.1} ms"
    );
    let (median, p95, _) = summary(&mut verify_ms);
    println!("bot check verify (SQLite): median {median:.2} ms, p95 {p95:.2} ms");
    sesame.store.pool.close().await;
    Ok(())
}

/// Median, 95th percentile (nearest rank) and maximum.
fn summary(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let rank = (q * values.len() as f64).ceil() as usize;
        values
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.95), at(1.0))
}
