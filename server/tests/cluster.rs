//! Several instances: two `sesame serve` processes on one PostgreSQL database behind
//! Debian's nginx (round robin, on loopback), as production runs them. Needs PostgreSQL
//! (`SESAME_TEST_POSTGRES_URL`, set by CI) and nginx (installed by scripts/install-tools.sh).

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{
    browser::{csrf, form_action},
    process::{Client, Reply, Server, free_port, hidden_fields, wait_for_mails},
};

const PASSWORD: &str = "Ancien-mot-de-passe-2024";
const NEW_PASSWORD: &str = "Nouveau-Printemps-2026!";

/// nginx in the foreground with its own configuration, logs and temporary files.
struct Nginx {
    child: Child,
    port: u16,
    access_log: PathBuf,
}

impl Nginx {
    fn start(dir: &Path, upstreams: &[u16]) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("nginx (scripts/install-tools.sh installs Debian's)");
        let port = free_port();
        let access_log = dir.join("access.log");
        let servers: String = upstreams
            .iter()
            .map(|port| format!("server 127.0.0.1:{port} max_fails=1 fail_timeout=10s; "))
            .collect();
        // Worker processes of a root master would run as nobody, who cannot enter the
        // test's private folder.
        let user = if is_root() { "user root;" } else { "" };
        let d = dir.display();
        let config = format!(
            "{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_method $uri $status $upstream_addr';
    access_log {access};
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream sesame {{ {servers} }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://sesame;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 2s;
        }}
    }}
}}
",
            access = format_args!("{} upstreams", access_log.display()),
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).expect("nginx.conf");
        let child = Command::new(binary)
            .args(["-p", &dir.display().to_string(), "-c"])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let started = Instant::now();
        while Client::new(port).try_get("/healthz").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx never answered: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Nginx {
            child,
            port,
            access_log,
        }
    }

    /// The upstream port of each request logged whose path starts with `prefix`.
    fn upstreams_of(&self, prefix: &str) -> Vec<String> {
        std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                line.split(' ')
                    .nth(1)
                    .is_some_and(|uri| uri.starts_with(prefix))
            })
            .filter_map(|line| line.rsplit(':').next().map(str::to_owned))
            .collect()
    }
}

impl Drop for Nginx {
    /// SIGTERM: the master stops its worker before it exits (SIGKILL would orphan the
    /// worker, which keeps the port and the test's stderr open). SIGKILL only if it hangs.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn admin(env: &[(&str, String)], args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("admin")
        .args(args)
        .env_remove("SESAME_CONFIG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sesame admin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "sesame admin {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Follows a form post's redirect like a browser.
fn follow(client: &mut Client, reply: Reply) -> Reply {
    assert_eq!(
        reply.status, 303,
        "a form post answers with a redirect: {reply:?}"
    );
    client.get(reply.location())
}

/// Posts the password recovery form of `page` with its hidden fields and `fields`.
fn recovery_step(client: &mut Client, page: &Reply, fields: &[(&str, &str)]) -> Reply {
    let action = form_action(&page.body, "submit_password_recovery");
    let mut form = hidden_fields(&page.body, "submit_password_recovery");
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = client.post_form(&action, &form);
    follow(client, reply)
}

fn sign_in(client: &mut Client, login: &str, password: &str) -> Reply {
    let page = client.get("/signin");
    let action = form_action(&page.body, "sign_in");
    let csrf = csrf(&page.body);
    client.post_form(
        &action,
        &[("csrf", &csrf), ("login", login), ("password", password)],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_behind_nginx_share_flows_limits_and_mail_and_survive_one_stopping() {
    let Some(db) = common::postgres().await else {
        eprintln!(
            "SESAME_TEST_POSTGRES_URL is not set: the several-instances test needs PostgreSQL"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let mail_dir = dir.path().join("mail");
    let proxy_port = free_port();
    let env = vec![
        ("SESAME_DATABASE_URL", db.url.clone()),
        (
            "SESAME_SECRET_KEY_FILE",
            dir.path().join("secret.key").display().to_string(),
        ),
        ("SESAME_MAIL_DIR", mail_dir.display().to_string()),
        (
            "SESAME_PUBLIC_URL",
            format!("http://127.0.0.1:{proxy_port}"),
        ),
        ("SESAME_CLIENT_IP_HEADER", "x-forwarded-for".to_owned()),
    ];
    for (login, email) in [
        ("mtremblay", "marie@travail.example"),
        ("jgagnon", "jean@travail.example"),
    ] {
        admin(
            &env,
            &[
                "create-person",
                "--login",
                login,
                "--first-name",
                "Marie",
                "--last-name",
                "Tremblay",
                "--email",
                email,
                "--category",
                "permanent-staff",
                "--language",
                "en",
            ],
            &format!("{PASSWORD}\n"),
        );
    }
    let mut first = Server::start(&env, &dir.path().join("first.log"));
    let second = Server::start(&env, &dir.path().join("second.log"));
    let nginx = Nginx::start(dir.path(), &[first.port, second.port]);
    let mut browser = Client::new(nginx.port);

    // A flow started on one instance continues on the other: round robin sends each
    // request to the next instance.
    let page = browser.get("/forgot-password");
    let page = recovery_step(&mut browser, &page, &[("form[identifier]", "mtremblay")]);
    let page = recovery_step(&mut browser, &page, &[("form[method]", "email_code")]);
    let mails = wait_for_mails(&mail_dir, "marie@travail.example", 1, 20);
    let code = mails
        .first()
        .and_then(|mail| mail.code())
        .expect("the code mail")
        .to_owned();
    let page = recovery_step(&mut browser, &page, &[("form[code]", &code)]);
    let page = recovery_step(
        &mut browser,
        &page,
        &[
            ("form[new_password]", NEW_PASSWORD),
            ("form[new_password_confirmation]", NEW_PASSWORD),
        ],
    );
    assert!(
        !page.body.contains("form[new_password]"),
        "the new password was taken: {}",
        page.body
    );
    // (Round robin alternates: the pages come from one, the form posts go to the other.)
    let mut served = nginx.upstreams_of("/forgot-password");
    served.extend(nginx.upstreams_of("/api/submit_password_recovery"));
    assert!(
        served.contains(&first.port.to_string()) && served.contains(&second.port.to_string()),
        "both instances served the flow's pages: {served:?}"
    );
    let reply = sign_in(&mut Client::new(nginx.port), "mtremblay", NEW_PASSWORD);
    assert_eq!(
        reply.location(),
        "/account",
        "the new password works: {reply:?}"
    );

    // Rate limits count across both instances: 5 wrong passwords, alternately on each,
    // lock the account for the right one too.
    for attempt in 0..5 {
        if attempt % 2 == 1 {
            // One more request shifts the round robin: this post goes to the other instance.
            Client::new(nginx.port).get("/healthz");
        }
        let reply = sign_in(
            &mut Client::new(nginx.port),
            "jgagnon",
            "Pas-le-bon-mot-2024!",
        );
        assert_ne!(reply.location(), "/account");
    }
    let served = nginx.upstreams_of("/api/sign_in");
    assert!(
        served.contains(&first.port.to_string()) && served.contains(&second.port.to_string()),
        "failures reached both instances: {served:?}"
    );
    let reply = sign_in(&mut Client::new(nginx.port), "jgagnon", PASSWORD);
    assert_ne!(
        reply.location(),
        "/account",
        "locked on every instance after 5 failures"
    );

    // Each mail is sent once, though both instances' workers watch the outbox.
    let store = sesame::store::Store::connect(&db.url, 2)
        .await
        .expect("store");
    let started = Instant::now();
    let queued: i64 = loop {
        let pending = sesame::store::outbox::depth(&store.pool)
            .await
            .expect("depth");
        if pending == 0 || started.elapsed() > Duration::from_secs(30) {
            break sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
                .fetch_one(&store.pool)
                .await
                .expect("count");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let written = common::process::read_mails(&mail_dir);
    let mut ids: Vec<&str> = written.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(written.len() as i64, queued, "one file per queued message");
    assert_eq!(ids.len(), written.len(), "no message written twice");

    // Stopping one instance loses nothing: a flow begun with both goes on with one.
    let mut browser = Client::new(nginx.port);
    let page = browser.get("/forgot-password");
    let page = recovery_step(&mut browser, &page, &[("form[identifier]", "mtremblay")]);
    first.stop();
    let page = recovery_step(&mut browser, &page, &[("form[method]", "email_code")]);
    let mails = wait_for_mails(&mail_dir, "marie@travail.example", 3, 20);
    let code = mails
        .iter()
        .rev()
        .filter(|mail| mail.text.contains("token="))
        .find_map(|mail| mail.code())
        .expect("a second code mail, sent by the remaining instance")
        .to_owned();
    let page = recovery_step(&mut browser, &page, &[("form[code]", &code)]);
    assert!(
        page.body.contains("form[new_password]"),
        "the code is accepted by the remaining instance: {}",
        page.body
    );
    drop(nginx);
    drop(second);
    store.pool.close().await;
    db.cleanup().await;
}
