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

const PEOPLE_CSV: &str = "\u{feff}login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n\
    ecote,Élise,Côté,2003-05-06,S1,student,fr,2468,135790,elise@example.org\n\
    bad one,Bob,Martin,1990-13-01,E2,boss,fr,,,\n\
    bwilson,Ben,Wilson,2002-01-02,S2,student,en,,,\n";

#[tokio::test]
async fn import_refuses_a_file_with_bad_rows_unless_told_to_skip_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("people.csv");
    std::fs::write(&file, PEOPLE_CSV).expect("csv");
    let path = file.to_str().expect("utf-8 path");

    let output = sesame(dir.path(), &["admin", "import", path], "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "line 3 (bad one): login may hold only",
        "date_of_birth \"1990-13-01\" is not a date",
        "category \"boss\" must be one of",
        "nothing imported: 1 invalid row(s)",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from {stderr}"
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("created 0, updated 0, unchanged 0, invalid 1"),
        "{stdout}"
    );
    assert_eq!(people_count(dir.path()).await, 0);

    let output = sesame(dir.path(), &["admin", "import", path, "--skip-invalid"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 3 (bad one)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("created 2, updated 0, unchanged 0, invalid 1"),
        "{stdout}"
    );
    assert_eq!(people_count(dir.path()).await, 2);

    let good: String = PEOPLE_CSV
        .lines()
        .filter(|l| !l.starts_with("bad one"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, good).expect("csv");
    let output = sesame(dir.path(), &["admin", "import", path], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("created 0, updated 0, unchanged 2, invalid 0"),
        "{stdout}"
    );

    let output = sesame(
        dir.path(),
        &["admin", "import", "/nonexistent/people.csv"],
        "",
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent/people.csv")
    );
}

#[tokio::test]
async fn letters_go_to_a_private_file_for_pending_people_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("people.csv");
    std::fs::write(&file, PEOPLE_CSV).expect("csv");
    let path = file.to_str().expect("utf-8 path");
    let output = sesame(dir.path(), &["admin", "import", path, "--skip-invalid"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let out = dir.path().join("letters.html");
    let out_arg = out.to_str().expect("utf-8 path");
    let output = sesame(
        dir.path(),
        &["admin", "letters", "--new", "--out", out_arg],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("2 letters written to {out_arg}")),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&out).expect("letters");
    assert!(
        html.contains("<dd class=\"login\">ecote</dd>")
            && html.contains("<dd class=\"login\">bwilson</dd>")
    );
    assert!(!html.contains("mtremblay"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let output = sesame(
        dir.path(),
        &["admin", "letters", "--login", "mtremblay", "--out", out_arg],
        "",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mtremblay is active: letters are only for pending accounts"),
        "{stderr}"
    );

    let output = sesame(
        dir.path(),
        &["admin", "letters", "--category", "boss", "--out", out_arg],
        "",
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--category must be one of"));

    // Exactly one selector.
    for args in [
        &["admin", "letters", "--out", out_arg][..],
        &[
            "admin", "letters", "--new", "--login", "ecote", "--out", out_arg,
        ][..],
    ] {
        let output = sesame(dir.path(), args, "");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        std::fs::read_to_string(&out).expect("letters"),
        html,
        "the file is unchanged"
    );

    let output = sesame(
        dir.path(),
        &["admin", "letters", "--login", "ecote", "--out", out_arg],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 letter written to"));
}

#[tokio::test]
async fn disable_questions_removes_them_with_a_reason_in_the_audit_trail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(created.status.success());
    let url = format!("sqlite:{}", dir.path().join("sesame.db").display());
    let store = sesame::store::Store::connect(&url, 1).await.expect("store");
    let person = sesame::store::people::find_by_login(&store.pool, "mtremblay")
        .await
        .expect("find")
        .expect("person");
    let mut conn = store.pool.acquire().await.expect("conn");
    let answers: Vec<sesame::store::questions::NewAnswer> = ["birth-city", "first-pet"]
        .into_iter()
        .map(|id| sesame::store::questions::NewAnswer {
            question: Ok(id.to_owned()),
            answer_hash: "$argon2id$placeholder".to_owned(),
        })
        .collect();
    sesame::store::questions::replace(&mut conn, &person.id, &answers, 1_000)
        .await
        .expect("questions");
    drop(conn);

    let without_reason = sesame(dir.path(), &["admin", "disable-questions", "mtremblay"], "");
    assert!(!without_reason.status.success());
    let output = sesame(
        dir.path(),
        &[
            "admin",
            "disable-questions",
            "MTremblay",
            "--reason",
            "forgot the answers, identity checked by phone",
        ],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 security question(s) removed"));
    let left = sesame::store::questions::list(&store.pool, &person.id)
        .await
        .expect("list");
    assert!(left.is_empty());
    let events = sesame::store::audit::recent(&store.pool, Some(&person.id), 10)
        .await
        .expect("audit");
    let event = events
        .iter()
        .find(|e| e.kind == "security_questions")
        .expect("audited");
    assert!(event.detail.contains("forgot the answers"), "{event:?}");
    assert!(
        event
            .actor_id
            .as_deref()
            .is_some_and(|a| a.starts_with("cli:"))
    );

    let unknown = sesame(
        dir.path(),
        &["admin", "disable-questions", "nobody", "--reason", "test"],
        "",
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody"));
}

#[tokio::test]
async fn invite_mails_a_file_of_addresses_lists_and_revokes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("invitees.csv");
    std::fs::write(
        &csv,
        "email,language\nnot-an-address,fr\nb@example.org,de\n",
    )
    .expect("csv");
    let refused = sesame(
        dir.path(),
        &["admin", "invite", "--csv", csv.to_str().expect("path")],
        "",
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("line 3"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("mail").exists()
            || std::fs::read_dir(dir.path().join("mail"))
                .expect("dir")
                .next()
                .is_none()
    );

    std::fs::write(
        &csv,
        "\u{feff}language,email,issuer\nen,A@Example.org,Cégep Démo\n,b@example.org,\n",
    )
    .expect("csv");
    let sent = sesame(
        dir.path(),
        &[
            "admin",
            "invite",
            "--csv",
            csv.to_str().expect("path"),
            "--lang",
            "fr",
        ],
        "",
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(String::from_utf8_lossy(&sent.stdout).contains("invited 2: 2 new"));
    let mails: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
        .expect("mail dir")
        .map(|entry| std::fs::read_to_string(entry.expect("entry").path()).expect("eml"))
        .collect();
    assert_eq!(mails.len(), 2);
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: a@example.org") && m.contains("/signup?invitation="))
    );

    let again = sesame(
        dir.path(),
        &["admin", "invite", "--email", "a@example.org"],
        "",
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("1 replacing an earlier link"));
    let revoked = sesame(
        dir.path(),
        &["admin", "invite", "--email", "b@example.org", "--revoke"],
        "",
    );
    assert!(revoked.status.success());
    let listed = sesame(dir.path(), &["admin", "invitations"], "");
    let listing = String::from_utf8_lossy(&listed.stdout);
    let state_of = |email: &str| -> Vec<String> {
        let mut states: Vec<String> = listing
            .lines()
            .filter(|l| l.starts_with(email))
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned())
            .collect();
        states.sort();
        states
    };
    assert_eq!(
        state_of("a@example.org"),
        ["pending", "replaced"],
        "{listing}"
    );
    assert_eq!(state_of("b@example.org"), ["revoked"], "{listing}");
    assert!(listing.contains("Cégep Démo"));
}

#[tokio::test]
async fn grant_role_and_revoke_role_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(created.status.success());
    let bad = sesame(
        dir.path(),
        &["admin", "grant-role", "mtremblay", "root"],
        "",
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("helpdesk, admin"));
    let unknown = sesame(
        dir.path(),
        &["admin", "grant-role", "nobody", "helpdesk"],
        "",
    );
    assert!(!unknown.status.success());
    // A pending account: the role would go to whoever activates it.
    let file = dir.path().join("pending.csv");
    std::fs::write(
        &file,
        "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email
\
         bwilson,Ben,Wilson,2002-01-02,S2,student,en,,,\n",
    )
    .expect("csv");
    let path = file.to_str().expect("utf-8 path");
    assert!(
        sesame(dir.path(), &["admin", "import", path], "")
            .status
            .success()
    );
    let pending = sesame(dir.path(), &["admin", "grant-role", "bwilson", "admin"], "");
    assert!(!pending.status.success());
    assert!(String::from_utf8_lossy(&pending.stderr).contains("not an active account"));

    let granted = sesame(
        dir.path(),
        &["admin", "grant-role", "MTremblay", "helpdesk"],
        "",
    );
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
    assert!(String::from_utf8_lossy(&granted.stdout).contains("role helpdesk granted"));
    let again = sesame(
        dir.path(),
        &["admin", "grant-role", "mtremblay", "helpdesk"],
        "",
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("already has"));

    let url = format!("sqlite:{}", dir.path().join("sesame.db").display());
    let store = sesame::store::Store::connect(&url, 1).await.expect("store");
    let person = sesame::store::people::find_by_login(&store.pool, "mtremblay")
        .await
        .expect("find")
        .expect("person");
    assert!(
        sesame::store::roles::is_agent(&store.pool, &person.id)
            .await
            .expect("roles")
    );

    let revoked = sesame(
        dir.path(),
        &["admin", "revoke-role", "mtremblay", "helpdesk"],
        "",
    );
    assert!(revoked.status.success());
    assert!(
        !sesame::store::roles::is_agent(&store.pool, &person.id)
            .await
            .expect("roles")
    );
    let admin = sesame(
        dir.path(),
        &["admin", "grant-role", "mtremblay", "admin"],
        "",
    );
    assert!(admin.status.success());
    assert!(
        sesame::store::roles::is_agent(&store.pool, &person.id)
            .await
            .expect("roles"),
        "admin implies helpdesk"
    );
    let events = sesame::store::audit::recent(&store.pool, Some(&person.id), 10)
        .await
        .expect("audit");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "role.granted").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "role.revoked").count(), 1);
    assert!(events.iter().all(|e| e.kind == "person.created"
        || e.actor_id.as_deref().is_some_and(|a| a.starts_with("cli:"))));
}

#[tokio::test]
async fn purge_removes_expired_sessions_and_says_how_many() {
    let dir = tempfile::tempdir().expect("dir");
    let output = sesame(dir.path(), &CREATE, "Vélo-rouge;Marmotte-93\n");
    assert!(output.status.success());
    let store = sesame::store::Store::connect(
        &format!("sqlite:{}", dir.path().join("sesame.db").display()),
        1,
    )
    .await
    .expect("store");
    let person: String = sqlx::query_scalar("SELECT id FROM people")
        .fetch_one(&store.pool)
        .await
        .expect("person");
    for (hash, expires_at) in [("ended", 1_000), ("live", i64::MAX / 2)] {
        sesame::store::sessions::insert(
            &store.pool,
            &sesame::store::sessions::NewSession {
                id_hash: hash,
                person_id: &person,
                expires_at,
                client_ip: "127.0.0.1",
                user_agent: "t",
            },
            // Seen just now: only the ended one goes.
            jiff::Timestamp::now().as_second(),
        )
        .await
        .expect("session");
    }
    store.pool.close().await;

    let output = sesame(dir.path(), &["admin", "purge"], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("sessions: 1 removed"), "{stdout}");
    assert!(stdout.contains("1 rows removed in all"), "{stdout}");
    let output = sesame(dir.path(), &["admin", "purge"], "");
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 rows removed in all"));
}

/// A bare HTTP/1.1 exchange: the head and body of the answer.
fn http_exchange(port: u16, request: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Starts `sesame serve` with its log (stderr) going to a file, posts a form without its
/// CSRF token, stops the server; answers the request id the page named and the log.
fn refused_post_and_its_log(log_format: &str) -> (String, String) {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env(
            "SESAME_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("sesame.db").display()),
        )
        .env("SESAME_SECRET_KEY_FILE", dir.path().join("secret.key"))
        .env("SESAME_MAIL_DIR", dir.path().join("mail"))
        .env("SESAME_LOG_FORMAT", log_format)
        .env_remove("SESAME_CONFIG")
        .env_remove("SESAME_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("serve");
    let started = std::time::Instant::now();
    while http_exchange(
        port,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .is_err()
    {
        assert!(
            started.elapsed().as_secs() < 30,
            "the server never answered"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A form post without its CSRF token: refused with a page that names the request.
    let answer = http_exchange(
        port,
        "POST /api/sign_in HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\
         Connection: close\r\n\r\nlogin=a",
    )
    .expect("post");
    let _ = server.kill();
    let _ = server.wait();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let request_id = answer
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("x-request-id header")
        .trim()
        .to_owned();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    assert!(
        body.contains(&request_id),
        "the page names the request: {body}"
    );
    let logged = std::fs::read_to_string(&log_path).expect("log");
    (request_id, logged)
}

#[test]
fn json_logs_carry_the_request_id_shown_on_the_error_page() {
    let (request_id, logged) = refused_post_and_its_log("json");
    let lines: Vec<serde_json::Value> = logged
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["span"]["request_id"] == request_id.as_str())
        .collect();
    assert!(
        of_request
            .iter()
            .any(|line| line["fields"]["message"] == "CSRF check failed"),
        "{logged}"
    );
    assert!(
        of_request
            .iter()
            .any(|line| line["fields"]["status"] == 403 && line["target"] == "sesame::access"),
        "{logged}"
    );
}

#[test]
fn text_logs_in_a_file_are_plain_and_carry_the_request_id() {
    let (request_id, logged) = refused_post_and_its_log("text");
    // No terminal escape codes once the log leaves the terminal.
    assert!(!logged.contains('\u{1b}'), "{logged:?}");
    let answered = logged
        .lines()
        .find(|line| {
            line.contains(&format!("request_id={request_id}")) && line.contains("answered")
        })
        .unwrap_or_else(|| panic!("no access line for {request_id}: {logged}"));
    assert!(answered.contains("status=403"), "{answered}");
    assert!(
        logged
            .lines()
            .any(|line| line.contains(&request_id) && line.contains("CSRF check failed")),
        "{logged}"
    );
}
