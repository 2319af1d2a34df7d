//! `sesame admin ...`: operators' tasks from the command line.

use std::{
    io::{BufRead, IsTerminal},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use app::i18n::Locale;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::{
    clock::SystemClock,
    config::Config,
    import::{self, ImportOptions},
    invitations::{self, InviteOutcome, Invitee},
    letters::{self, LetterSelection},
    mail::{templates, transport, worker::Worker},
    people::{PersonInput, create_person},
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        outbox,
        people::Category,
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
    /// Create or update people from an HR export (UTF-8 CSV).
    ///
    /// The header row names the columns (in any order):
    /// login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email.
    /// Dates are YYYY-MM-DD; pin (4 to 8 digits), sin_last6 (6 digits) and email may be empty.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Import the valid rows even if some are invalid (those are still listed).
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Write activation letters with new provisional passwords for pending people.
    Letters {
        #[command(flatten)]
        selection: LetterSelectionArgs,
        /// The HTML file to write (mode 0600: it holds the provisional passwords).
        #[arg(long)]
        out: PathBuf,
    },
    /// Invite people to create their account (seed 003): a mail with a "Sign up" link,
    /// valid `signup.invitation_valid_days`. Inviting an address again replaces its link.
    #[command(group(clap::ArgGroup::new("who").required(true).args(["email", "csv"])))]
    Invite {
        /// One address to invite (or, with --revoke, whose invitation to cancel).
        #[arg(long)]
        email: Option<String>,
        /// A CSV file with an `email` column (and optionally `issuer` and `language`).
        #[arg(long, conflicts_with = "revoke")]
        csv: Option<PathBuf>,
        /// Who invites, as the mail and the sign-up page name them (default: the institution).
        #[arg(long, default_value = "")]
        issuer: String,
        /// The mail's language: fr or en.
        #[arg(long, default_value = "fr")]
        lang: String,
        /// Cancel the address's pending invitation instead.
        #[arg(long, requires = "email")]
        revoke: bool,
    },
    /// List invitations with their state (pending, expired, used, revoked, replaced).
    Invitations {
        /// Only this address's.
        #[arg(long)]
        email: Option<String>,
    },
    /// Remove a person's security questions (seed 000: they forgot the answers), so that
    /// forgot password no longer asks them; they can set new ones under "My account".
    DisableQuestions {
        /// The person's user ID.
        login: String,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Give a person a role: `helpdesk` (the console under /helpdesk) or `admin` (which
    /// includes helpdesk).
    GrantRole {
        /// The person's user ID.
        login: String,
        /// helpdesk or admin.
        role: String,
    },
    /// Take a role away from a person.
    RevokeRole {
        /// The person's user ID.
        login: String,
        /// helpdesk or admin.
        role: String,
    },
    /// Remove expired flows, codes and sessions, spent bot-check challenges, ended throttle
    /// counters, and audit events and mail records past `[retention]` (the server also
    /// does this once a day).
    Purge,
}

/// Exactly one of these says who gets a letter.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct LetterSelectionArgs {
    /// One pending person.
    #[arg(long)]
    login: Option<String>,
    /// Every pending person of a category (a new letter replaces an earlier one).
    #[arg(long)]
    category: Option<String>,
    /// Pending people who never got a letter.
    #[arg(long)]
    new: bool,
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
        AdminCommand::Import { file, skip_invalid } => {
            import_people(config, &file, skip_invalid).await
        }
        AdminCommand::Letters { selection, out } => write_letters(config, selection, &out).await,
        AdminCommand::Invite {
            email,
            csv,
            issuer,
            lang,
            revoke,
        } => invite(config, email, csv, issuer, &lang, revoke).await,
        AdminCommand::Invitations { email } => list_invitations(config, email.as_deref()).await,
        AdminCommand::Purge => {
            let sesame = start(config).await?;
            let report = crate::maintenance::purge(&sesame)
                .await
                .map_err(|e| e.to_string())?;
            for (table, count) in &report.removed {
                println!("{table}: {count} removed");
            }
            println!("{} rows removed in all", report.total());
            Ok(())
        }
        AdminCommand::DisableQuestions { login, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("--reason must say why".into());
            }
            let sesame = start(config).await?;
            let login = app::policy::login::normalize_login(&login);
            let person = crate::store::people::find_by_login(&sesame.store.pool, &login)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no person with the user ID {login}"))?;
            let removed = crate::flows::questions::remove(&sesame, &person.id, &operator(), reason)
                .await
                .map_err(|e| e.to_string())?;
            println!("{login}: {removed} security question(s) removed");
            Ok(())
        }
        AdminCommand::GrantRole { login, role } => change_role(config, &login, &role, true).await,
        AdminCommand::RevokeRole { login, role } => change_role(config, &login, &role, false).await,
    }
}

/// `grant-role` / `revoke-role`: one audited change of a person's roles.
async fn change_role(config: Config, login: &str, role: &str, grant: bool) -> Result<(), String> {
    use crate::store::roles::{self, Role};
    let role = Role::parse(role).ok_or_else(|| {
        format!(
            "the role must be one of: {}",
            Role::ALL.map(Role::as_str).join(", ")
        )
    })?;
    let sesame = start(config).await?;
    let login = app::policy::login::normalize_login(login);
    let pool = &sesame.store.pool;
    let person = crate::store::people::find_by_login(pool, &login)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no person with the user ID {login}"))?;
    // A role on an account not activated yet would go to whoever activates it.
    if grant && person.state() != Some(crate::store::people::AccountState::Active) {
        return Err(format!(
            "{login} is not an active account: a role goes to active accounts only"
        ));
    }
    let actor = operator();
    let mut tx = crate::store::begin(pool).await.map_err(|e| e.to_string())?;
    let changed = if grant {
        roles::grant(&mut *tx, &person.id, role, &actor, sesame.clock.now_secs()).await
    } else {
        roles::revoke(&mut *tx, &person.id, role).await
    }
    .map_err(|e| e.to_string())?;
    if changed {
        audit::record(
            &mut *tx,
            AuditEvent {
                kind: if grant {
                    AuditKind::RoleGranted
                } else {
                    AuditKind::RoleRevoked
                },
                person_id: Some(&person.id),
                actor_id: Some(&actor),
                client_ip: None,
                request_id: None,
                detail: json!({ "role": role.as_str() }),
            },
            sesame.clock.now_ms(),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let role = role.as_str();
    match (grant, changed) {
        (true, true) => println!("{login}: role {role} granted"),
        (true, false) => println!("{login}: already has the role {role}"),
        (false, true) => println!("{login}: role {role} revoked"),
        (false, false) => println!("{login}: did not have the role {role}"),
    }
    Ok(())
}

/// A progress bar on a terminal; nothing when stderr is a file or a pipe.
fn progress_bar(message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0).with_message(message);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed}, {eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn import_people(
    config: Config,
    file: &std::path::Path,
    skip_invalid: bool,
) -> Result<(), String> {
    let csv = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let sesame = start(config).await?;
    let actor = operator();
    let bar = progress_bar("importing");
    let report = import::import_people(
        &sesame,
        &csv,
        &ImportOptions {
            skip_invalid,
            actor: &actor,
        },
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await
    .map_err(|e| format!("{}: {e}", file.display()))?;
    bar.finish_and_clear();
    for problem in &report.problems {
        eprintln!("{}: {problem}", file.display());
    }
    println!("{}", report.summary());
    if report.written {
        Ok(())
    } else {
        Err(format!(
            "nothing imported: {} invalid row(s); fix them, or import the others with --skip-invalid",
            report.problems.len()
        ))
    }
}

async fn write_letters(
    config: Config,
    selection: LetterSelectionArgs,
    out: &std::path::Path,
) -> Result<(), String> {
    let selection = match selection {
        LetterSelectionArgs {
            login: Some(login), ..
        } => LetterSelection::Login(login),
        LetterSelectionArgs {
            category: Some(category),
            ..
        } => LetterSelection::Category(Category::parse(&category).ok_or_else(|| {
            format!(
                "--category must be one of: {}",
                Category::ALL.map(Category::as_str).join(", ")
            )
        })?),
        _ => LetterSelection::New,
    };
    let sesame = start(config).await?;
    let bar = progress_bar("hashing");
    let outcome = letters::issue_letters(&sesame, &selection, out, &operator(), &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if outcome.written == 0 {
        println!("no pending person matches: no letter written");
    } else {
        println!(
            "{} {} written to {} ({:.1} s); it holds the provisional passwords: print it, then delete it",
            outcome.written,
            if outcome.written == 1 {
                "letter"
            } else {
                "letters"
            },
            outcome.path.display(),
            outcome.elapsed.as_secs_f64()
        );
    }
    Ok(())
}

async fn invite(
    config: Config,
    email: Option<String>,
    csv: Option<PathBuf>,
    issuer: String,
    lang: &str,
    revoke: bool,
) -> Result<(), String> {
    let language = Locale::from_code(lang).ok_or("--lang must be fr or en")?;
    let defaults = Invitee {
        email: String::new(),
        issuer,
        language,
    };
    let invitees = match (&email, &csv) {
        (Some(email), _) => vec![Invitee {
            email: email.clone(),
            ..defaults
        }],
        (None, Some(file)) => {
            let bytes =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            invitations::parse_csv(&bytes, &defaults).map_err(|problems| {
                for problem in &problems {
                    eprintln!("{}: {problem}", file.display());
                }
                format!(
                    "nothing sent: {} invalid row(s); fix them and run again",
                    problems.len()
                )
            })?
        }
        (None, None) => return Err("give --email or --csv".into()),
    };
    let sesame = start(config).await?;
    let actor = operator();
    if revoke {
        let email = email.unwrap_or_default();
        let revoked = invitations::revoke(&sesame, &email, &actor)
            .await
            .map_err(|e| e.to_string())?;
        if revoked == 0 {
            return Err(format!("{email}: no pending invitation to revoke"));
        }
        println!("{email}: invitation revoked; its link no longer works");
        return Ok(());
    }
    let bar = progress_bar("inviting");
    bar.set_length(invitees.len() as u64);
    let (mut sent, mut replaced, mut skipped) = (0, 0, 0);
    for invitee in &invitees {
        match invitations::invite(&sesame, invitee, &actor).await {
            Ok(InviteOutcome::Sent) => sent += 1,
            Ok(InviteOutcome::Replaced) => replaced += 1,
            Ok(InviteOutcome::AlreadyHasAccount) => {
                skipped += 1;
                bar.suspend(|| eprintln!("{}: already has an account, not invited", invitee.email));
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(format!("{}: {e}", invitee.email));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Mail goes out through the outbox: give the worker a moment, as send-test-mail does.
    drain_outbox(&sesame).await;
    println!(
        "invited {}: {sent} new, {replaced} replacing an earlier link, {skipped} skipped (existing account)",
        sent + replaced
    );
    Ok(())
}

async fn list_invitations(config: Config, email: Option<&str>) -> Result<(), String> {
    let sesame = start(config).await?;
    let rows = invitations::list(&sesame, email)
        .await
        .map_err(|e| e.to_string())?;
    let now = sesame.clock.now_secs();
    let date = |at: i64| {
        jiff::Timestamp::from_second(at)
            .map(|ts| ts.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    println!(
        "{:<40} {:<9} {:<17} {:<17} issuer",
        "email", "state", "sent (UTC)", "expires (UTC)"
    );
    for row in &rows {
        println!(
            "{:<40} {:<9} {:<17} {:<17} {}",
            row.email,
            row.state_at(now).as_str(),
            date(row.created_at),
            date(row.expires_at),
            if row.issuer.is_empty() {
                "(the institution)"
            } else {
                row.issuer.as_str()
            }
        );
    }
    println!("{} invitation(s)", rows.len());
    Ok(())
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
    let mut tx = crate::store::begin(&sesame.store.pool)
        .await
        .map_err(|e| e.to_string())?;
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

/// Sends the queued mail now (one outbox pass); what fails stays queued, and the
/// server's outbox worker retries it.
async fn drain_outbox(sesame: &Sesame) {
    let transport = match transport::from_config(&sesame.config) {
        Ok(transport) => transport,
        Err(e) => {
            eprintln!("mail queued, not sent now ({e}): the server sends it");
            return;
        }
    };
    let worker = Worker {
        store: sesame.store.clone(),
        transport,
        clock: sesame.clock.clone(),
        config: sesame.config.mail.clone(),
        outbox: sesame.outbox.clone(),
    };
    match worker.pass().await {
        Ok(report) if report.retried + report.given_up > 0 => {
            eprintln!("some mail is not sent yet: the server's outbox worker retries it")
        }
        Ok(_) => {}
        Err(e) => eprintln!("mail queued, not sent now ({e}): the server sends it"),
    }
}
