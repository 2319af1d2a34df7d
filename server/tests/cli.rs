//! The `sesame` binary as an operator runs it.

mod common;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

fn sesame(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .env(
            "SESAME_DATABASE_URL",
            format!("sqlite:{}", dir.join("sesame.db").display()),
        )
        .env("SESAME_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("SESAME_MAIL_DIR", dir.join("mail"))
        .env_remove("SESAME_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sesame");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

async fn people_count(dir: &std::path::Path) -> i64 {
    let store =
        sesame::store::Store::connect(&format!("sqlite:{}", dir.join("sesame.db").display()), 1)
            .await
            .expect("store");
    sesame::store::people::count(&store.pool)
        .await
        .expect("count")
}

const CREATE: [&str; 12] = [
    "admin",
    "create-person",
    "--login",
    "mtremblay",
    "--first-name",
    "Marie",
    "--last-name",
    "Tremblay",
    "--email",
    "marie@example.org",
    "--category",
    "retiree",
];

#[tokio::test]
async fn create_person_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created mtremblay"));
    assert_eq!(people_count(dir.path()).await, 1);

    let again = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already taken"));
    assert_eq!(people_count(dir.path()).await, 1);
}

#[tokio::test]
async fn bad_input_is_explained_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = CREATE.to_vec();
    args[3] = "bad login";
    args[11] = "boss";
    let output = sesame(dir.path(), &args, "short\n");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "--login",
        "--category must be one of",
        "the password is too short",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from {stderr}"
        );
    }
    assert_eq!(people_count(dir.path()).await, 0);

    let output = sesame(dir.path(), &CREATE, "");
    assert!(!output.status.success(), "an empty password is refused");
    assert!(String::from_utf8_lossy(&output.stderr).contains("no password"));
}

#[tokio::test]
async fn send_test_mail_goes_through_the_outbox_to_the_mail_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = sesame(
        dir.path(),
        &[
            "admin",
            "send-test-mail",
            "--to",
            "ops@example.org",
            "--language",
            "en",
        ],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .expect("mail folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let message = std::fs::read_to_string(files[0].path()).expect("read");
    assert!(message.contains("To: ops@example.org"), "{message}");
    assert!(message.contains("test message"));
}
