//! `sesame admin letters`: activation letters (seed 001). Each selected pending person
//! gets a fresh provisional password, stored only as an argon2id hash (which revokes the
//! previous letter's), printed once into one self-contained HTML file of letters in each
//! person's language, written with mode 0600 and renamed into place only once the
//! database holds the new hashes.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use app::i18n::{Locale, Msg};
use jiff::{Timestamp, Zoned, tz::TimeZone};
use rand::Rng;
use serde_json::json;

use crate::{
    config::Config,
    crypto::{Secret, map_on_all_cores},
    error::Error,
    flows::activation::KIND as ACTIVATION_KIND,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        people::{self, AccountState, Category, LetterRecipient},
        recovery,
    },
};

/// Who gets a letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LetterSelection {
    /// One person, who must be pending.
    Login(String),
    /// Every pending person of a category (those who had a letter get a new one).
    Category(Category),
    /// Pending people who never got a letter.
    New,
}

/// Letters are typed from paper: no 0/O, 1/I/L; 16 characters of 31 ≈ 79 bits.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const GROUPS: usize = 4;
const GROUP_LENGTH: usize = 4;

/// A fresh provisional password, e.g. `K7QM-4PXR-WZ2D-9HTN`.
pub fn provisional_password() -> Secret {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..GROUPS)
        .map(|_| {
            (0..GROUP_LENGTH)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect()
        })
        .collect();
    Secret::new(groups.join("-"))
}

/// The printed form of a provisional password as someone may type it (lower case,
/// spaces instead of dashes, no dashes): what to hash-compare against the letter's.
/// Anything else is returned unchanged, so it simply fails to verify.
pub fn canonical_provisional(typed: &str) -> String {
    let compact: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() != GROUPS * GROUP_LENGTH || !compact.bytes().all(|b| ALPHABET.contains(&b)) {
        return typed.to_owned();
    }
    compact
        .as_bytes()
        .chunks(GROUP_LENGTH)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("no person has the login {0:?}")]
    UnknownLogin(String),
    #[error(
        "{login} is {state}: letters are only for pending accounts, not yet activated (nothing written)"
    )]
    NotPending { login: String, state: String },
    #[error("{login} changed state while the letters were prepared; run the command again")]
    Raced { login: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Failed(#[from] Error),
}

/// What `issue_letters` did.
#[derive(Debug)]
pub struct LettersOutcome {
    /// Letters written (0: nobody selected, and no file written).
    pub written: usize,
    pub path: PathBuf,
    pub elapsed: Duration,
}

/// One letter, before rendering.
pub struct Letter {
    pub recipient: LetterRecipient,
    pub password: Secret,
}

/// Issues letters to the selected people into `out`. `progress(done, total)` is called
/// as the passwords are hashed (the slow part).
pub async fn issue_letters(
    sesame: &Sesame,
    selection: &LetterSelection,
    out: &Path,
    actor: &str,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<LettersOutcome, LetterError> {
    let started = Instant::now();
    let pool = &sesame.store.pool;
    let recipients = match selection {
        LetterSelection::New => people::pending_without_letter(pool).await?,
        LetterSelection::Category(category) => people::pending_in_category(pool, *category).await?,
        LetterSelection::Login(login) => {
            let login = app::policy::login::normalize_login(login);
            let person = people::find_recipient_by_login(pool, &login)
                .await?
                .ok_or_else(|| LetterError::UnknownLogin(login.clone()))?;
            if person.state != AccountState::Pending.as_str() {
                return Err(LetterError::NotPending {
                    login,
                    state: person.state,
                });
            }
            vec![person]
        }
    };
    let mut outcome = LettersOutcome {
        written: 0,
        path: out.to_owned(),
        elapsed: Duration::ZERO,
    };
    if recipients.is_empty() {
        outcome.elapsed = started.elapsed();
        return Ok(outcome);
    }

    let letters: Vec<Letter> = recipients
        .into_iter()
        .map(|recipient| Letter {
            recipient,
            password: provisional_password(),
        })
        .collect();
    let hashes = hash_passwords(sesame, &letters, progress).await?;

    let now = sesame.clock.now();
    let expires_at = now.as_second() + sesame.config.activation.provisional_valid_days * 86_400;
    let expires = Timestamp::from_second(expires_at)
        .map_err(|e| Error::Invalid(format!("activation.provisional_valid_days: {e}")))?;
    let html = render_letters(&sesame.config, &letters, now, expires);
    let file = PrivateFile::write(out, html.as_bytes()).map_err(|source| LetterError::Write {
        path: out.to_owned(),
        source,
    })?;

    let mut tx = crate::store::begin(pool).await?;
    let mut events = Vec::with_capacity(letters.len());
    for (letter, hash) in letters.iter().zip(&hashes) {
        let person = &letter.recipient;
        if !people::issue_provisional(&mut *tx, &person.id, hash, expires_at, now.as_second())
            .await?
        {
            // Activated meanwhile: its letter in the file would be a lie. Nothing is kept
            // (the transaction rolls back and the file is removed when dropped).
            return Err(LetterError::Raced {
                login: person.login.clone(),
            });
        }
        // An activation begun with the previous letter ends here: that letter is revoked.
        recovery::supersede_other_flows(&mut tx, &person.id, ACTIVATION_KIND, "", now.as_second())
            .await?;
        events.push(AuditEvent {
            kind: AuditKind::LetterIssued,
            person_id: Some(&person.id),
            actor_id: Some(actor),
            client_ip: None,
            request_id: None,
            detail: json!({ "login": person.login, "expires_at": expires_at }),
        });
    }
    audit::record_many(&mut tx, &events, now.as_millisecond()).await?;
    tx.commit().await?;
    file.persist().map_err(|source| LetterError::Write {
        path: out.to_owned(),
        source,
    })?;
    outcome.written = letters.len();
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// The argon2id hashes of the letters' passwords, with the portal's parameters, on every
/// core (outside the web server's hashing queue: this is a batch job).
async fn hash_passwords(
    sesame: &Sesame,
    letters: &[Letter],
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Vec<String>, Error> {
    let total = letters.len();
    let mut hashes = Vec::with_capacity(total);
    progress(0, total);
    // A few passwords per core at a time, so the progress bar moves.
    for chunk in letters.chunks(num_cpus::get().max(1) * 4) {
        let passwords: Vec<Secret> = chunk.iter().map(|l| l.password.clone()).collect();
        let hasher = sesame.hasher.clone();
        let chunk_hashes = tokio::task::spawn_blocking(move || {
            map_on_all_cores(&passwords, |password| {
                hasher.hash_blocking(password.expose())
            })
        })
        .await
        .map_err(|e| Error::Hashing(e.to_string()))?;
        for hash in chunk_hashes {
            hashes.push(hash?);
        }
        progress(hashes.len(), total);
    }
    Ok(hashes)
}

fn escape(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

/// A message as HTML: the text escaped, then each `{name}` replaced by its HTML.
fn message_html(locale: Locale, msg: Msg, args: &[(&str, &str)]) -> String {
    let mut html = escape(locale.text(msg));
    for (name, value) in args {
        html = html.replace(&format!("{{{name}}}"), value);
    }
    html
}

const MONTHS: [Msg; 12] = [
    Msg::LetterMonth01,
    Msg::LetterMonth02,
    Msg::LetterMonth03,
    Msg::LetterMonth04,
    Msg::LetterMonth05,
    Msg::LetterMonth06,
    Msg::LetterMonth07,
    Msg::LetterMonth08,
    Msg::LetterMonth09,
    Msg::LetterMonth10,
    Msg::LetterMonth11,
    Msg::LetterMonth12,
];

/// A date spelt out for a letter: `3 mars 2027`, `March 3, 2027`.
pub fn long_date(locale: Locale, date: &Zoned) -> String {
    let month = usize::try_from(date.month() - 1)
        .ok()
        .and_then(|index| MONTHS.get(index))
        .map(|msg| locale.text(*msg))
        .unwrap_or_default();
    let day = if date.day() == 1 {
        locale.text(Msg::LetterFirstDay).to_owned()
    } else {
        date.day().to_string()
    };
    locale.format(
        Msg::LetterDate,
        &[
            ("day", &day),
            ("month", month),
            ("year", &date.year().to_string()),
        ],
    )
}

/// Printable on A4 and US Letter alike: the text block fits the narrower and shorter of
/// the two, one letter a page; black on white, no colour carries meaning.
const STYLE: &str = "\
@page { margin: 18mm 20mm; }
* { box-sizing: border-box; }
html { color: #000; background: #fff; }
body { margin: 0; font: 11pt/1.45 Georgia, 'Times New Roman', serif; }
.letter { max-width: 168mm; margin: 0 auto; break-after: page; page-break-after: always; }
.letter:last-child { break-after: auto; page-break-after: auto; }
.letter header { display: flex; justify-content: space-between; align-items: baseline; gap: 8mm;
  border-bottom: 1.5pt solid #000; padding-bottom: 3mm; }
.institution { margin: 0; font: bold 14pt/1.2 Arial, Helvetica, sans-serif; }
.issued { margin: 0; white-space: nowrap; }
h1 { font: bold 17pt/1.25 Arial, Helvetica, sans-serif; margin: 8mm 0 4mm; }
h2 { font: bold 12pt/1.3 Arial, Helvetica, sans-serif; margin: 6mm 0 2mm; }
.credentials { border: 2pt solid #000; padding: 4mm 6mm; margin: 6mm 0; break-inside: avoid; }
.credentials dt { font-weight: bold; margin-top: 2mm; }
.credentials dd { margin: 1mm 0 2mm;
  font-family: 'DejaVu Sans Mono', Consolas, 'Courier New', monospace; font-size: 15pt; }
.credentials dd.password { font-size: 24pt; font-weight: bold; letter-spacing: 0.12em; }
.address { font-family: 'DejaVu Sans Mono', Consolas, 'Courier New', monospace; font-weight: bold; }
.private { border-left: 3pt solid #000; padding-left: 4mm; font-weight: bold; }
footer { border-top: 0.75pt solid #000; margin-top: 8mm; padding-top: 3mm; }
footer p { margin: 0 0 1mm; }
@media screen {
  body { background: #eee; padding: 1rem; }
  .letter { background: #fff; max-width: 210mm; padding: 18mm 20mm; margin-bottom: 1rem; }
}
";

/// The letters as one self-contained HTML document: inline style, no script, nothing
/// loaded from elsewhere (its policy forbids it).
pub fn render_letters(
    config: &Config,
    letters: &[Letter],
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> String {
    let zone = TimeZone::get(&config.institution.time_zone).unwrap_or(TimeZone::UTC);
    let issued = issued_at.to_zoned(zone.clone());
    let expires = expires_at.to_zoned(zone);
    let first = letters
        .first()
        .and_then(|l| Locale::from_code(&l.recipient.language))
        .unwrap_or_default();
    let title = Locale::ALL
        .map(|locale| escape(locale.text(Msg::LetterDocumentTitle)))
        .join(" / ");
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        lang = first.code(),
    );
    let address = format!("{}/activate", config.public_base());
    for letter in letters {
        let locale = Locale::from_code(&letter.recipient.language).unwrap_or_default();
        html.push_str(&render_letter(
            config, locale, letter, &address, &issued, &expires,
        ));
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// One letter as an `<article>` of the same document (the helpdesk console shows it in its
/// own page, to print once).
pub fn render_one(
    config: &Config,
    letter: &Letter,
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> String {
    let zone = TimeZone::get(&config.institution.time_zone).unwrap_or(TimeZone::UTC);
    let locale = Locale::from_code(&letter.recipient.language).unwrap_or_default();
    let address = format!("{}/activate", config.public_base());
    render_letter(
        config,
        locale,
        letter,
        &address,
        &issued_at.to_zoned(zone.clone()),
        &expires_at.to_zoned(zone),
    )
}

fn render_letter(
    config: &Config,
    locale: Locale,
    letter: &Letter,
    address: &str,
    issued: &Zoned,
    expires: &Zoned,
) -> String {
    let institution = config.institution();
    let person = &letter.recipient;
    let name = format!("{} {}", person.first_name, person.last_name);
    let text = |msg: Msg| escape(locale.text(msg));
    let expiry = message_html(
        locale,
        Msg::LetterExpires,
        &[
            ("date", &escape(&long_date(locale, expires))),
            ("time", &escape(&expires.strftime("%H:%M").to_string())),
        ],
    );
    let helpdesk = message_html(
        locale,
        Msg::LetterHelpdesk,
        &[
            ("phone", &escape(&institution.helpdesk_phone)),
            ("hours", &escape(institution.helpdesk_hours.get(locale))),
        ],
    );
    let helpdesk_email = if institution.helpdesk_email.is_empty() {
        String::new()
    } else {
        format!(
            "<p>{}</p>\n",
            message_html(
                locale,
                Msg::LetterHelpdeskEmail,
                &[("email", &escape(&institution.helpdesk_email))]
            )
        )
    };
    format!(
        "<article class=\"letter\" lang=\"{lang}\">\n\
         <header>\n<p class=\"institution\">{institution_name}</p>\n<p class=\"issued\">{issued}</p>\n</header>\n\
         <h1>{title}</h1>\n\
         <p>{greeting}</p>\n\
         <p>{intro}</p>\n\
         <dl class=\"credentials\">\n\
         <dt>{login_label}</dt>\n<dd class=\"login\">{login}</dd>\n\
         <dt>{password_label}</dt>\n<dd class=\"password\">{password}</dd>\n\
         </dl>\n\
         <p>{expiry}</p>\n\
         <h2>{steps_title}</h2>\n<ol>\n\
         <li>{step_address}</li>\n<li>{step_credentials}</li>\n<li>{step_follow}</li>\n</ol>\n\
         <p class=\"private\">{private}</p>\n\
         <footer>\n<p>{helpdesk}</p>\n{helpdesk_email}</footer>\n\
         </article>\n",
        lang = locale.code(),
        institution_name = escape(institution.name.get(locale)),
        issued = message_html(
            locale,
            Msg::LetterIssuedOn,
            &[("date", &escape(&long_date(locale, issued)))]
        ),
        title = text(Msg::LetterTitle),
        greeting = message_html(locale, Msg::LetterGreeting, &[("name", &escape(&name))]),
        intro = message_html(
            locale,
            Msg::LetterIntro,
            &[("institution", &escape(institution.name.get(locale)))]
        ),
        login_label = text(Msg::LetterLoginLabel),
        login = escape(&person.login),
        password_label = text(Msg::LetterPasswordLabel),
        password = escape(letter.password.expose()),
        steps_title = text(Msg::LetterStepsTitle),
        step_address = message_html(
            locale,
            Msg::LetterStepAddress,
            &[(
                "address",
                &format!("<span class=\"address\">{}</span>", escape(address))
            )]
        ),
        step_credentials = text(Msg::LetterStepCredentials),
        step_follow = text(Msg::LetterStepFollow),
        private = text(Msg::LetterPrivate),
    )
}

/// A file holding secrets, written beside its destination with mode 0600 and renamed
/// into place by [`PrivateFile::persist`]; removed if dropped before.
struct PrivateFile {
    temp: PathBuf,
    target: PathBuf,
    persisted: bool,
}

impl PrivateFile {
    fn write(target: &Path, contents: &[u8]) -> std::io::Result<PrivateFile> {
        use std::io::Write;
        let name = target
            .file_name()
            .ok_or_else(|| std::io::Error::other("the output path names no file"))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", crate::crypto::tokens::random_hex(6)));
        let temp = target.with_file_name(temp_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        let guard = PrivateFile {
            temp,
            target: target.to_owned(),
            persisted: false,
        };
        file.write_all(contents)?;
        file.sync_all()?;
        Ok(guard)
    }

    fn persist(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisional_passwords_are_four_groups_of_unambiguous_characters() {
        let password = provisional_password();
        let text = password.expose();
        assert_eq!(text.len(), 19, "{text}");
        for group in text.split('-') {
            assert_eq!(group.len(), 4);
            assert!(group.bytes().all(|b| ALPHABET.contains(&b)), "{text}");
        }
        assert_ne!(provisional_password(), password);
        assert_eq!(format!("{password:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn typed_forms_of_a_provisional_password_are_made_canonical() {
        assert_eq!(
            canonical_provisional(" k7qm 4pxr-wz2d9htn "),
            "K7QM-4PXR-WZ2D-9HTN"
        );
        assert_eq!(
            canonical_provisional("K7QM-4PXR-WZ2D-9HTN"),
            "K7QM-4PXR-WZ2D-9HTN"
        );
        assert_eq!(canonical_provisional("not it"), "not it");
        assert_eq!(
            canonical_provisional("O7QM-4PXR-WZ2D-9HTN"),
            "O7QM-4PXR-WZ2D-9HTN"
        );
    }

    #[test]
    fn dates_are_spelt_out_in_each_language() {
        let zone = TimeZone::get("America/Montreal").expect("zone");
        let date: Zoned = "2027-03-01T12:00:00Z"
            .parse::<Timestamp>()
            .expect("timestamp")
            .to_zoned(zone);
        assert_eq!(long_date(Locale::Fr, &date), "1er mars 2027");
        assert_eq!(long_date(Locale::En, &date), "March 1, 2027");
    }

    #[test]
    fn the_private_file_is_0600_and_vanishes_unless_persisted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("letters.html");
        drop(PrivateFile::write(&target, b"secret").expect("write"));
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        PrivateFile::write(&target, b"secret")
            .expect("write")
            .persist()
            .expect("persist");
        assert_eq!(std::fs::read(&target).expect("read"), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
