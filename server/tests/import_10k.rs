//! 10,000 people imported in well under a minute, then re-imported with nothing to do.
//! Its own test binary, so it has the cores to itself. Prints its figures.

mod common;

use std::{fmt::Write, sync::Arc, time::Instant};

use sesame::{
    clock::Clock,
    import::{ImportOptions, import_people},
    state::Sesame,
    store::people,
};

const ROWS: usize = 10_000;

/// A realistic worst case: every row has a PIN and SIN digits to hash.
fn hr_export() -> String {
    let categories = [
        "permanent-staff",
        "temporary-staff",
        "retiree",
        "student",
        "external",
    ];
    let mut csv = String::from(
        "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n",
    );
    for n in 0..ROWS {
        let _ = writeln!(
            csv,
            "person{n:05},Prénom{n},Nom-{n},19{:02}-{:02}-{:02},E{n:06},{},{},{:04},{:06},person{n}@example.org",
            40 + n % 60,
            1 + n % 12,
            1 + n % 28,
            categories[n % categories.len()],
            if n % 3 == 0 { "en" } else { "fr" },
            n % 10_000,
            (n * 7919) % 1_000_000,
        );
    }
    csv
}

#[tokio::test]
async fn ten_thousand_rows_import_fast_and_a_second_run_changes_nothing() {
    let csv = hr_export();
    for db in common::databases().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let sesame = Sesame::start(
            common::config(dir.path(), &db.url),
            common::manual_clock() as Arc<dyn Clock>,
            false,
        )
        .await
        .expect("start");
        let options = ImportOptions {
            skip_invalid: false,
            actor: "cli:test",
        };

        let started = Instant::now();
        let first = import_people(&sesame, csv.as_bytes(), &options, &|_, _| {})
            .await
            .expect("first import");
        let first_time = started.elapsed();
        eprintln!(
            "{}: import of {ROWS} rows (PIN and SIN hashed on {} cores): {} in {:.2} s ({:.0} rows/s)",
            db.name,
            num_cpus::get(),
            first.summary(),
            first_time.as_secs_f64(),
            ROWS as f64 / first_time.as_secs_f64()
        );
        assert_eq!(
            (first.created, first.updated, first.unchanged),
            (ROWS, 0, 0)
        );
        assert!(first.problems.is_empty());
        assert_eq!(
            people::count(&sesame.store.pool).await.expect("count"),
            ROWS as i64
        );

        let started = Instant::now();
        let second = import_people(&sesame, csv.as_bytes(), &options, &|_, _| {})
            .await
            .expect("second import");
        let second_time = started.elapsed();
        eprintln!(
            "{}: re-import of the same file: {} in {:.2} s",
            db.name,
            second.summary(),
            second_time.as_secs_f64()
        );
        assert_eq!(
            (second.created, second.updated, second.unchanged),
            (0, 0, ROWS)
        );
        sesame.store.pool.close().await;
        db.cleanup().await;
    }
}
