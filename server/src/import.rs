//! `sesame admin import`: people from an HR export (CSV). Every row is checked before
//! anything is written; new people are created pending (no password, waiting for a
//! letter), known ones updated, and a row already imported as it is changes nothing
//! (its keyed digest is kept in `people.import_digest`). PINs and SIN digits are stored
//! only as slow salted hashes, computed on every core.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use app::{
    i18n::Locale,
    policy::login::{LoginViolation, check_new_login},
};
use jiff::{ToSpan, civil::Date, tz::TimeZone};
use serde_json::json;

use crate::{
    crypto::{
        Secret,
        attributes::{AttributeKind, hash_attribute, verify_attribute},
        map_on_all_cores,
        tokens::ServerKey,
    },
    error::{Error, Result},
    people::looks_like_email,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        new_id,
        people::{self, Category, ImportedPerson},
    },
};

/// The columns of the HR export, in the documented order (any order is accepted).
pub const COLUMNS: [&str; 10] = [
    "login",
    "first_name",
    "last_name",
    "date_of_birth",
    "employee_number",
    "category",
    "language",
    "pin",
    "sin_last6",
    "email",
];

/// Rows written per transaction: short enough not to hold SQLite's write lock for long
/// while the server runs, long enough to be fast.
pub const BATCH_SIZE: usize = 500;

const MAX_NAME_CHARS: usize = 100;
const MAX_EMPLOYEE_NUMBER_CHARS: usize = 32;
/// A date of birth after this many years before today is taken for a typo.
const MIN_AGE_YEARS: i16 = 10;

/// One valid row of the file, normalized.
#[derive(Clone, Debug)]
pub struct ImportRow {
    /// Where the row starts in the file (1 is the header).
    pub line: u64,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: Date,
    pub employee_number: String,
    pub category: Category,
    pub language: Locale,
    /// Digits only.
    pub pin: Option<Secret>,
    /// Digits only.
    pub sin_last6: Option<Secret>,
    pub email: Option<String>,
}

/// Why a row cannot be imported. Secrets are never echoed back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowIssue {
    FieldCount { found: usize },
    Login(LoginViolation),
    FirstNameMissing,
    LastNameMissing,
    NameUnusable { column: &'static str },
    DateOfBirthFormat(String),
    DateOfBirthImplausible(String),
    EmployeeNumber(String),
    Category(String),
    Language(String),
    Pin,
    SinLast6,
    Email(String),
    DuplicateLogin { lines: Vec<u64> },
}

impl std::fmt::Display for RowIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowIssue::FieldCount { found } => {
                write!(f, "{found} fields where {} are expected", COLUMNS.len())
            }
            RowIssue::Login(LoginViolation::Empty) => write!(f, "login is empty"),
            RowIssue::Login(LoginViolation::TooLong) => {
                write!(f, "login is longer than 64 characters")
            }
            RowIssue::Login(LoginViolation::BadCharacters) => {
                write!(f, "login may hold only letters, digits, '.', '_' and '-'")
            }
            RowIssue::FirstNameMissing => write!(f, "first_name is empty"),
            RowIssue::LastNameMissing => write!(f, "last_name is empty"),
            RowIssue::NameUnusable { column } => write!(
                f,
                "{column} is longer than {MAX_NAME_CHARS} characters or holds control characters"
            ),
            RowIssue::DateOfBirthFormat(value) => {
                write!(
                    f,
                    "date_of_birth {value:?} is not a date written YYYY-MM-DD"
                )
            }
            RowIssue::DateOfBirthImplausible(value) => write!(
                f,
                "date_of_birth {value:?} is implausible (before 1900 or less than {MIN_AGE_YEARS} years ago)"
            ),
            RowIssue::EmployeeNumber(value) => write!(
                f,
                "employee_number {value:?} must be 1 to {MAX_EMPLOYEE_NUMBER_CHARS} letters, digits or '-'"
            ),
            RowIssue::Category(value) => write!(
                f,
                "category {value:?} must be one of: {}",
                Category::ALL.map(Category::as_str).join(", ")
            ),
            RowIssue::Language(value) => write!(f, "language {value:?} must be fr or en"),
            RowIssue::Pin => write!(f, "pin must be empty or 4 to 8 digits"),
            RowIssue::SinLast6 => write!(f, "sin_last6 must be empty or exactly 6 digits"),
            RowIssue::Email(value) => write!(f, "email {value:?} is not a valid address"),
            RowIssue::DuplicateLogin { lines } => {
                let lines: Vec<String> = lines.iter().map(u64::to_string).collect();
                write!(
                    f,
                    "the same login is on lines {} (none of them is imported)",
                    lines.join(", ")
                )
            }
        }
    }
}

/// A row that cannot be imported, with every reason at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub login: Option<String>,
    pub issues: Vec<RowIssue>,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(login) = &self.login {
            write!(f, " ({login})")?;
        }
        let issues: Vec<String> = self.issues.iter().map(ToString::to_string).collect();
        write!(f, ": {}", issues.join("; "))
    }
}

/// A file read and checked: the good rows and the bad ones, by line.
#[derive(Debug, Default)]
pub struct CheckedFile {
    pub rows: Vec<ImportRow>,
    pub problems: Vec<RowProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole is unusable (encoding, header, CSV syntax).
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Failed(#[from] Error),
}

/// Reads and checks an HR export. `today` (in the institution's time zone) bounds the
/// plausible dates of birth.
pub fn check_file(bytes: &[u8], today: Date) -> Result<CheckedFile, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        ImportError::File(format!(
            "the file is not UTF-8 (line {line}); export it as UTF-8 CSV"
        ))
    })?;
    // Spreadsheets often start a UTF-8 export with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let positions = column_positions(
        reader
            .headers()
            .map_err(|e| ImportError::File(format!("cannot read the header row: {e}")))?,
    )?;

    let mut checked: Vec<std::result::Result<ImportRow, RowProblem>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ImportError::File(format!("line {line}: not valid CSV: {e}"))
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        checked.push(check_row(&record, line, &positions, today));
    }
    Ok(reject_duplicate_logins(checked))
}

/// Where each expected column is in the file's header.
fn column_positions(header: &csv::StringRecord) -> Result<[usize; 10], ImportError> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| !names.iter().any(|n| n == *c))
        .copied()
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !COLUMNS.contains(&n.as_str()))
        .map(String::as_str)
        .collect();
    let repeated: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| names.iter().filter(|n| n == c).count() > 1)
        .copied()
        .collect();
    if !missing.is_empty() || !unknown.is_empty() || !repeated.is_empty() {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing column(s) {}", missing.join(", ")));
        }
        if !unknown.is_empty() {
            parts.push(format!("unknown column(s) {}", unknown.join(", ")));
        }
        if !repeated.is_empty() {
            parts.push(format!("repeated column(s) {}", repeated.join(", ")));
        }
        return Err(ImportError::File(format!(
            "line 1, the header: {}; expected {}",
            parts.join("; "),
            COLUMNS.join(",")
        )));
    }
    let mut positions = [0; 10];
    for (slot, column) in positions.iter_mut().zip(COLUMNS) {
        *slot = names.iter().position(|n| n == column).unwrap_or_default();
    }
    Ok(positions)
}

/// Trimmed, with inner runs of spaces made single; `None` if unusable.
fn clean_name(value: &str) -> Option<String> {
    let name = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (name.chars().count() <= MAX_NAME_CHARS && !name.chars().any(char::is_control)).then_some(name)
}

fn check_row(
    record: &csv::StringRecord,
    line: u64,
    positions: &[usize; 10],
    today: Date,
) -> std::result::Result<ImportRow, RowProblem> {
    let field = |index: usize| record.get(positions[index]).unwrap_or_default();
    let login_field = field(0);
    let mut problem = RowProblem {
        line,
        login: Some(login_field)
            .filter(|l| !l.is_empty())
            .map(app::policy::login::normalize_login),
        issues: Vec::new(),
    };
    if record.len() != COLUMNS.len() {
        problem.issues.push(RowIssue::FieldCount {
            found: record.len(),
        });
        return Err(problem);
    }
    let issues = &mut problem.issues;

    let login = check_new_login(login_field)
        .map_err(|v| issues.push(RowIssue::Login(v)))
        .ok();
    let first_name = match clean_name(field(1)) {
        Some(name) if name.is_empty() => {
            issues.push(RowIssue::FirstNameMissing);
            None
        }
        Some(name) => Some(name),
        None => {
            issues.push(RowIssue::NameUnusable {
                column: "first_name",
            });
            None
        }
    };
    let last_name = match clean_name(field(2)) {
        Some(name) if name.is_empty() => {
            issues.push(RowIssue::LastNameMissing);
            None
        }
        Some(name) => Some(name),
        None => {
            issues.push(RowIssue::NameUnusable {
                column: "last_name",
            });
            None
        }
    };
    let date_of_birth = check_date_of_birth(field(3), today)
        .map_err(|issue| issues.push(issue))
        .ok();
    let employee_number = field(4);
    let employee_number_ok = !employee_number.is_empty()
        && employee_number.chars().count() <= MAX_EMPLOYEE_NUMBER_CHARS
        && employee_number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !employee_number_ok {
        issues.push(RowIssue::EmployeeNumber(employee_number.to_owned()));
    }
    let category = Category::parse(field(5));
    if category.is_none() {
        issues.push(RowIssue::Category(field(5).to_owned()));
    }
    let language = Locale::from_code(field(6));
    if language.is_none() {
        issues.push(RowIssue::Language(field(6).to_owned()));
    }
    let pin = optional_attribute(field(7), AttributeKind::Pin);
    if pin.is_err() {
        issues.push(RowIssue::Pin);
    }
    let sin_last6 = optional_attribute(field(8), AttributeKind::SinLast6);
    if sin_last6.is_err() {
        issues.push(RowIssue::SinLast6);
    }
    let email = Some(field(9)).filter(|e| !e.is_empty());
    if let Some(email) = email
        && !looks_like_email(email)
    {
        issues.push(RowIssue::Email(email.to_owned()));
    }

    match (
        login,
        first_name,
        last_name,
        date_of_birth,
        category,
        language,
        pin,
        sin_last6,
    ) {
        (
            Some(login),
            Some(first_name),
            Some(last_name),
            Some(date_of_birth),
            Some(category),
            Some(language),
            Ok(pin),
            Ok(sin_last6),
        ) if problem.issues.is_empty() => Ok(ImportRow {
            line,
            login,
            first_name,
            last_name,
            date_of_birth,
            employee_number: employee_number.to_owned(),
            category,
            language,
            pin,
            sin_last6,
            email: email.map(str::to_owned),
        }),
        _ => Err(problem),
    }
}

fn check_date_of_birth(value: &str, today: Date) -> std::result::Result<Date, RowIssue> {
    let shaped = value.len() == 10
        && value.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let date = shaped
        .then(|| Date::strptime("%Y-%m-%d", value).ok())
        .flatten()
        .ok_or_else(|| RowIssue::DateOfBirthFormat(value.to_owned()))?;
    let latest = today.saturating_sub(MIN_AGE_YEARS.years());
    if date.year() < 1900 || date > latest {
        return Err(RowIssue::DateOfBirthImplausible(value.to_owned()));
    }
    Ok(date)
}

/// Empty: none; else the digits, or `Err` if not of the kind's shape.
fn optional_attribute(value: &str, kind: AttributeKind) -> std::result::Result<Option<Secret>, ()> {
    if value.is_empty() {
        return Ok(None);
    }
    kind.normalize(value)
        .map(|v| Some(Secret::new(v)))
        .ok_or(())
}

/// Every row of a login that appears more than once becomes a problem: which one is right
/// is for the operator to say.
fn reject_duplicate_logins(
    checked: Vec<std::result::Result<ImportRow, RowProblem>>,
) -> CheckedFile {
    let login_of = |entry: &std::result::Result<ImportRow, RowProblem>| match entry {
        Ok(row) => Some(row.login.clone()),
        Err(problem) => problem.login.clone(),
    };
    let mut lines_by_login: HashMap<String, Vec<u64>> = HashMap::new();
    for entry in &checked {
        if let Some(login) = login_of(entry) {
            let line = match entry {
                Ok(row) => row.line,
                Err(problem) => problem.line,
            };
            lines_by_login.entry(login).or_default().push(line);
        }
    }
    let mut file = CheckedFile::default();
    for entry in checked {
        let duplicate = login_of(&entry)
            .and_then(|login| lines_by_login.get(&login))
            .filter(|lines| lines.len() > 1)
            .cloned();
        match (entry, duplicate) {
            (Ok(row), None) => file.rows.push(row),
            (Ok(row), Some(lines)) => file.problems.push(RowProblem {
                line: row.line,
                login: Some(row.login),
                issues: vec![RowIssue::DuplicateLogin { lines }],
            }),
            (Err(mut problem), Some(lines)) => {
                problem.issues.push(RowIssue::DuplicateLogin { lines });
                file.problems.push(problem);
            }
            (Err(problem), None) => file.problems.push(problem),
        }
    }
    file
}

/// The keyed digest of a normalized row's public fields: equal digests (and PIN and SIN
/// digits that still verify against their slow hashes) mean nothing to update. The
/// secrets themselves stay out of it: a fast hash over six digits would be a shortcut
/// around their slow hashes for anyone holding the database and the key.
pub fn row_digest(key: &ServerKey, row: &ImportRow) -> String {
    let presence = |secret: &Option<Secret>| if secret.is_some() { "1" } else { "0" };
    let fields = [
        "v2",
        &row.login,
        &row.first_name,
        &row.last_name,
        &row.date_of_birth.to_string(),
        &row.employee_number,
        row.category.as_str(),
        row.language.code(),
        presence(&row.pin),
        presence(&row.sin_last6),
        row.email.as_deref().unwrap_or_default(),
    ];
    // The unit separator cannot appear in a checked field.
    key.keyed_hash("import-row", &fields.join("\u{1f}"))
}

pub struct ImportOptions<'a> {
    /// Import the good rows of a file that also has bad ones.
    pub skip_invalid: bool,
    /// Who runs the import, for the audit trail (e.g. `cli:<user>`).
    pub actor: &'a str,
}

/// What an import did.
#[derive(Debug)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub problems: Vec<RowProblem>,
    /// False when the file had bad rows and nothing was written (no `skip_invalid`).
    pub written: bool,
    pub elapsed: Duration,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        format!(
            "created {}, updated {}, unchanged {}, invalid {} ({:.1} s)",
            self.created,
            self.updated,
            self.unchanged,
            self.problems.len(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// A row about to be written, with its digest and hashed secrets.
struct RowToWrite<'a> {
    row: &'a ImportRow,
    digest: String,
    /// The existing person's id; `None` for a new person.
    existing_id: Option<String>,
}

/// Imports an HR export. `progress(done, total)` is called after each batch of rows.
pub async fn import_people(
    sesame: &Sesame,
    csv: &[u8],
    options: &ImportOptions<'_>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let zone = TimeZone::get(&sesame.config.institution.time_zone).unwrap_or(TimeZone::UTC);
    let today = sesame.clock.now().to_zoned(zone).date();
    let file = check_file(csv, today)?;
    let mut report = ImportReport {
        created: 0,
        updated: 0,
        unchanged: 0,
        problems: file.problems,
        written: false,
        elapsed: Duration::ZERO,
    };
    if !report.problems.is_empty() && !options.skip_invalid {
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    let total = file.rows.len();
    progress(0, total);
    for (index, batch) in file.rows.chunks(BATCH_SIZE).enumerate() {
        import_batch(sesame, batch, options.actor, &mut report).await?;
        progress((index * BATCH_SIZE + batch.len()).min(total), total);
    }
    report.written = true;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn import_batch(
    sesame: &Sesame,
    batch: &[ImportRow],
    actor: &str,
    report: &mut ImportReport,
) -> Result<()> {
    let pool = &sesame.store.pool;
    let logins: Vec<&str> = batch.iter().map(|row| row.login.as_str()).collect();
    let existing: HashMap<String, people::ImportedState> =
        people::find_import_states(&mut *pool.acquire().await?, &logins)
            .await?
            .into_iter()
            .map(|state| (state.login.clone(), state))
            .collect();
    let mut to_write = Vec::new();
    let mut same_public_fields = Vec::new();
    for row in batch {
        let digest = row_digest(&sesame.key, row);
        match existing.get(&row.login) {
            Some(state) if state.import_digest.as_deref() == Some(digest.as_str()) => {
                same_public_fields.push((row, digest, state));
            }
            found => to_write.push(RowToWrite {
                row,
                digest,
                existing_id: found.map(|state| state.id.clone()),
            }),
        }
    }
    let secrets_unchanged = secrets_still_verify(&sesame.key, &same_public_fields).await?;
    for ((row, digest, state), unchanged) in same_public_fields.into_iter().zip(secrets_unchanged) {
        if unchanged {
            report.unchanged += 1;
        } else {
            to_write.push(RowToWrite {
                row,
                digest,
                existing_id: Some(state.id.clone()),
            });
        }
    }
    if to_write.is_empty() {
        return Ok(());
    }

    let hashes = hash_secrets(&sesame.key, &to_write).await?;
    let new_ids: Vec<String> = to_write.iter().map(|_| new_id()).collect();
    let date_strings: Vec<String> = to_write
        .iter()
        .map(|w| w.row.date_of_birth.to_string())
        .collect();
    let mut creations = Vec::new();
    let mut updates = Vec::new();
    for (((write, (pin_hash, sin_hash)), new_id), date_of_birth) in to_write
        .iter()
        .zip(&hashes)
        .zip(&new_ids)
        .zip(&date_strings)
    {
        let row = write.row;
        let person = ImportedPerson {
            id: write.existing_id.as_deref().unwrap_or(new_id),
            login: &row.login,
            first_name: &row.first_name,
            last_name: &row.last_name,
            date_of_birth,
            employee_number: &row.employee_number,
            category: row.category,
            language: row.language.code(),
            email: row.email.as_deref(),
            pin_hash: pin_hash.as_deref(),
            sin_hash: sin_hash.as_deref(),
            import_digest: &write.digest,
        };
        if write.existing_id.is_some() {
            updates.push(person);
        } else {
            creations.push(person);
        }
    }

    let now = sesame.clock.now_secs();
    let mut tx = crate::store::begin(pool).await?;
    let created = people::insert_imported(&mut tx, &creations, now).await?;
    if created.len() != creations.len() {
        // Someone created one of these logins since we looked: start over rather than
        // guess; the rows already imported will be skipped as unchanged.
        tx.rollback().await?;
        return Err(Error::Invalid(
            "some logins were created by someone else during the import; run it again".into(),
        ));
    }
    let mut events = Vec::with_capacity(to_write.len());
    for person in &creations {
        events.push(AuditEvent {
            kind: AuditKind::PersonImported,
            person_id: Some(person.id),
            actor_id: Some(actor),
            client_ip: None,
            request_id: None,
            detail: json!({ "login": person.login, "category": person.category.as_str() }),
        });
    }
    let mut updated = 0;
    for person in &updates {
        if people::update_imported(&mut *tx, person, now).await? {
            updated += 1;
            events.push(AuditEvent {
                kind: AuditKind::PersonUpdated,
                person_id: Some(person.id),
                actor_id: Some(actor),
                client_ip: None,
                request_id: None,
                detail: json!({ "login": person.login, "via": "import" }),
            });
        }
    }
    audit::record_many(&mut tx, &events, sesame.clock.now_ms()).await?;
    tx.commit().await?;
    report.created += creations.len();
    report.updated += updated;
    // An update that found no row: the person was removed meanwhile.
    report.unchanged += updates.len() - updated;
    Ok(())
}

/// Whether each row's PIN and SIN digits are the ones already stored (verified against
/// their slow hashes, on every core off the async threads).
async fn secrets_still_verify(
    key: &ServerKey,
    rows: &[(&ImportRow, String, &people::ImportedState)],
) -> Result<Vec<bool>> {
    type Pair = (Option<Secret>, Option<String>);
    let pairs: Vec<(Pair, Pair)> = rows
        .iter()
        .map(|(row, _, state)| {
            (
                (row.pin.clone(), state.pin_hash.clone()),
                (row.sin_last6.clone(), state.sin_hash.clone()),
            )
        })
        .collect();
    let key = key.clone();
    tokio::task::spawn_blocking(move || {
        map_on_all_cores(&pairs, |(pin, sin)| {
            let same = |(value, stored): &Pair, kind: AttributeKind| match (value, stored) {
                (None, None) => true,
                (Some(value), Some(stored)) => verify_attribute(&key, kind, value.expose(), stored),
                _ => false,
            };
            same(pin, AttributeKind::Pin) && same(sin, AttributeKind::SinLast6)
        })
    })
    .await
    .map_err(|e| Error::Hashing(e.to_string()))
}

/// The PIN and SIN hashes of each row, computed on every core off the async threads.
async fn hash_secrets(
    key: &ServerKey,
    rows: &[RowToWrite<'_>],
) -> Result<Vec<(Option<String>, Option<String>)>> {
    let secrets: Vec<(Option<Secret>, Option<Secret>)> = rows
        .iter()
        .map(|w| (w.row.pin.clone(), w.row.sin_last6.clone()))
        .collect();
    let key = key.clone();
    let hashes = tokio::task::spawn_blocking(move || {
        map_on_all_cores(&secrets, |(pin, sin)| {
            let pin = pin
                .as_ref()
                .map(|pin| hash_attribute(&key, AttributeKind::Pin, pin.expose()))
                .transpose()?;
            let sin = sin
                .as_ref()
                .map(|sin| hash_attribute(&key, AttributeKind::SinLast6, sin.expose()))
                .transpose()?;
            Ok((pin, sin))
        })
    })
    .await
    .map_err(|e| Error::Hashing(e.to_string()))?;
    hashes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n";

    fn today() -> Date {
        Date::constant(2026, 11, 22)
    }

    #[test]
    fn a_good_file_with_a_bom_is_read_and_normalized() {
        let text = format!(
            "\u{feff}{HEADER}  MTremblay , Marie  Ève ,Tremblay,1961-04-03,E-1001,retiree,FR,0427,123 456,\n"
        );
        let file = check_file(text.as_bytes(), today()).expect("file");
        assert!(file.problems.is_empty(), "{:?}", file.problems);
        let row = &file.rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(row.login, "mtremblay");
        assert_eq!(row.first_name, "Marie Ève");
        assert_eq!(row.language, Locale::Fr);
        assert_eq!(row.sin_last6.as_ref().map(Secret::expose), Some("123456"));
        assert_eq!(row.email, None);
        assert!(!format!("{row:?}").contains("0427"), "secrets are redacted");
    }

    #[test]
    fn every_issue_of_a_row_is_reported_with_its_line() {
        let text = format!(
            "{HEADER}ok,A,B,1990-01-01,1,student,en,,,\n\
             bad login,,B,1990-02-30,,boss,de,12,12345,nope\n\
             kid,A,B,2025-01-01,2,student,en,,,\n\
             short,A,B\n"
        );
        let file = check_file(text.as_bytes(), today()).expect("file");
        assert_eq!(file.rows.len(), 1);
        let lines: Vec<u64> = file.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert_eq!(file.problems[0].issues.len(), 9, "{}", file.problems[0]);
        let message = file.problems[0].to_string();
        assert!(
            message.starts_with("line 3 (bad login): login may hold"),
            "{message}"
        );
        assert!(
            !message.contains("12345"),
            "secrets are not echoed: {message}"
        );
        assert!(matches!(
            file.problems[1].issues[0],
            RowIssue::DateOfBirthImplausible(_)
        ));
        assert_eq!(file.problems[2].issues, [RowIssue::FieldCount { found: 3 }]);
    }

    #[test]
    fn duplicate_logins_reject_every_copy() {
        let text = format!(
            "{HEADER}a,A,B,1990-01-01,1,student,en,,,\nb,A,B,1990-01-01,2,student,en,,,\nA,C,D,1990-01-01,3,student,en,,,\n"
        );
        let file = check_file(text.as_bytes(), today()).expect("file");
        assert_eq!(file.rows.len(), 1);
        assert_eq!(
            file.problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "line 2 (a): the same login is on lines 2, 4 (none of them is imported)",
                "line 4 (a): the same login is on lines 2, 4 (none of them is imported)"
            ]
        );
    }

    #[test]
    fn a_bad_header_or_encoding_refuses_the_file() {
        let err = check_file(b"login,name\nx,y\n", today()).expect_err("header");
        assert!(
            err.to_string().contains("missing column(s) first_name"),
            "{err}"
        );
        assert!(err.to_string().contains("unknown column(s) name"), "{err}");
        let mut latin1 = HEADER.as_bytes().to_vec();
        latin1.extend_from_slice(b"x,Fran\xe7ois,B,1990-01-01,1,student,fr,,,\n");
        let err = check_file(&latin1, today()).expect_err("encoding");
        assert!(err.to_string().contains("not UTF-8 (line 2)"), "{err}");
    }
}
