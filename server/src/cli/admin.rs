//! `sesame admin ...`: operators' tasks from the command line.

use std::{
    io::{BufRead, IsTerminal},
    sync::Arc,
    time::Duration,
};

use app::i18n::Locale;
use clap::Subcommand;
use serde_json::json;

use crate::{
    clock::SystemClock,
    config::Config,
    mail::{templates, transport, worker::Worker},
    people::{PersonInput, create_person},
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        outbox,
    },
};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a person with a password read from standard input (never from arguments).
    CreatePerson {
        #[arg(long)]
        login: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        #[arg(long)]
        email: Option<String>,
        /// permanent-staff, temporary-staff, retiree, student or external.
        #[arg(long)]
        category: String,
        /// fr or en.
        #[arg(long, default_value = "fr")]
        language: String,
    },
    /// Queue a test message through the outbox and try to send it now.
    SendTestMail {
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "fr")]
        language: String,
    },
}

pub async fn run(config: Config, command: AdminCommand) -> Result<(), String> {
    match command {
        AdminCommand::CreatePerson {
            login,
            first_name,
            last_name,
            email,
            category,
            language,
        } => {
            let password = read_password()?;
            let sesame = start(config).await?;
            let input = PersonInput {
                login: login.clone(),
                first_name,
                last_name,
                email,
                category,
                language,
                password,
            };
            let id = create_person(&sesame, input, &operator())
                .await
                .map_err(|e| e.to_string())?;
            println!("created {login} ({id})");
            Ok(())
        }
        AdminCommand::SendTestMail { to, language } => send_test_mail(config, &to, &language).await,
    }
}

async fn start(config: Config) -> Result<Sesame, String> {
    Sesame::start(config, Arc::new(SystemClock), false)
        .await
        .map_err(|e| e.to_string())
}

/// Who ran the command, for the audit trail.
fn operator() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// The password: prompted without echo on a terminal, else the first line of stdin.
fn read_password() -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")
            .map_err(|e| format!("cannot read the password: {e}"))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(password)
}

async fn send_test_mail(config: Config, to: &str, language: &str) -> Result<(), String> {
    let locale = Locale::from_code(language).ok_or("--language must be fr or en")?;
    if !crate::people::looks_like_email(to) {
        return Err(format!("{to:?} is not a valid email address"));
    }
    let transport = transport::from_config(&config)?;
    let sesame = start(config).await?;
    let institution = sesame.config.institution().name.get(locale).to_owned();
    let mail = templates::test_message(locale, &institution);
    let now = sesame.clock.now_secs();
    let mut tx = sesame.store.pool.begin().await.map_err(|e| e.to_string())?;
    let id = sesame
        .outbox
        .enqueue(&mut *tx, to, &mail, now)
        .await
        .map_err(|e| e.to_string())?;
    audit::record(
        &mut *tx,
        AuditEvent {
            kind: AuditKind::TestMailQueued,
            person_id: None,
            actor_id: Some(&operator()),
            client_ip: None,
            request_id: None,
            detail: json!({ "outbox_id": id }),
        },
        sesame.clock.now_ms(),
    )
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;

    let worker = Worker {
        store: sesame.store.clone(),
        transport,
        clock: sesame.clock.clone(),
        config: sesame.config.mail.clone(),
        outbox: sesame.outbox.clone(),
    };
    for _ in 0..10 {
        worker.pass().await.map_err(|e| e.to_string())?;
        match outbox::find(&sesame.store.pool, &id)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(row) if row.state == "sent" => {
                println!("sent to {to} (outbox {id})");
                return Ok(());
            }
            Some(row) if row.state == "failed" => {
                return Err(format!("gave up: {}", row.last_error.unwrap_or_default()));
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    println!("queued as {id}; not sent yet, the server's outbox worker will retry");
    Ok(())
}
