//! Sésame's configuration: one TOML file (`SESAME_CONFIG`, see `sesame.example.toml`),
//! every setting of which can be overridden by a `SESAME_<SECTION>_<KEY>` environment
//! variable (`SESAME_DATABASE_URL`, `SESAME_MAIL_DIR`, `SESAME_PUBLIC_URL`...). The
//! variable names are derived from the settings themselves, so none can be forgotten.

use std::{collections::BTreeMap, path::PathBuf};

use app::{
    api::portal::{Institution, LocalizedText},
    policy::PasswordPolicy,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The public base URL of the portal; every link in mail is built from it, and
    /// cookies are `Secure` when it is `https`.
    pub public_url: String,
    /// File holding the server's secret key (HMAC of tokens, CSRF); created if absent.
    /// With several instances, every instance must read the same key.
    pub secret_key_file: PathBuf,
    /// Header carrying the client address when behind a trusted reverse proxy
    /// (e.g. `x-forwarded-for`); empty: the TCP peer address.
    pub client_ip_header: String,
    /// `text` (default) or `json` (one JSON object per log line).
    pub log_format: String,
    pub database: DatabaseConfig,
    pub mail: MailConfig,
    pub smtp: SmtpConfig,
    pub institution: InstitutionConfig,
    /// The password policy (`[password]`: min_length, require_digit...).
    pub password: PasswordPolicy,
    pub hashing: HashingConfig,
    pub sessions: SessionConfig,
    pub throttle: ThrottleConfig,
    pub activation: ActivationConfig,
    pub recovery: RecoveryConfig,
    pub bot_check: BotCheckConfig,
    pub signup: SignUpConfig,
    /// Other systems whose accounts people may link (`[linked_systems.<id>]`), by id.
    pub linked_systems: BTreeMap<String, LinkedSystemConfig>,
    pub retention: RetentionConfig,
    pub metrics: MetricsConfig,
}

/// How long records are kept once they no longer serve (`sesame admin purge` and the
/// server's daily purge). Expired flows, codes, sessions and throttle rows go at once.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Audit events older than this are deleted.
    pub audit_days: i64,
    /// Sent or given-up mail records (their bodies are blanked once sent) older than this.
    pub mail_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            audit_days: 400,
            mail_days: 30,
        }
    }
}

/// `GET /metrics` (Prometheus text format).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// A bearer token a scraper on another host presents; empty: only clients on this
    /// host's loopback (after the proxy header, when one is configured) may read them.
    pub token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:var/sesame.db` (default) or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (one `.eml` per message in `dir`) or `smtp`.
    pub transport: String,
    pub dir: PathBuf,
    pub from: String,
    /// Tries before a message is given up (it stays in the outbox, marked failed).
    pub max_attempts: u32,
    /// First retry delay; doubles at each try.
    pub retry_base_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (required), `tls` (implicit TLS, port 465) or `none` (local relays only).
    pub security: String,
    pub username: String,
    pub password: String,
    pub timeout_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstitutionConfig {
    pub name_fr: String,
    pub name_en: String,
    pub logo_url: String,
    pub helpdesk_phone: String,
    pub helpdesk_hours_fr: String,
    pub helpdesk_hours_en: String,
    pub helpdesk_email: String,
    /// IANA time zone of the institution (end-of-day deadlines are computed in it).
    pub time_zone: String,
    /// Brand colours, as CSS colours; served as custom properties in `/branding.css`.
    pub color_primary: String,
    pub color_primary_dark: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashingConfig {
    /// argon2id memory in KiB, iterations and lanes (OWASP: 19 MiB, 2, 1).
    pub hash_memory_kib: u32,
    pub hash_iterations: u32,
    pub hash_parallelism: u32,
    /// Hashes computed at once; each holds `hash_memory_kib` of memory.
    pub hash_concurrency: usize,
    /// How long a request waits for a hashing slot before it gets 503.
    pub hash_queue_timeout_ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failed sign-ins per login within the window before a lockout.
    pub signin_per_account: i64,
    /// Failed sign-ins per client address within the window before a lockout.
    pub signin_per_address: i64,
    pub window_minutes: i64,
    pub lockout_minutes: i64,
    /// Failed recovery proofs (PIN, identity attributes...) per identifier within the window.
    pub recovery_per_identifier: i64,
    /// Failed recovery proofs per client address within the window.
    pub recovery_per_address: i64,
}

/// Activation from a letter (seed 001).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivationConfig {
    /// Days a letter's provisional password stays valid.
    pub provisional_valid_days: i64,
    /// Days an unfinished activation can be resumed before it starts over.
    pub flow_valid_days: i64,
    /// Emails with a link and a code one activation may send per address.
    pub max_sends_per_address: i64,
    /// Wrong codes allowed before a code stops working.
    pub max_code_attempts: i64,
    /// The IT charter people accept (version and text in both languages).
    pub charter_version: String,
    pub charter_text_fr: String,
    pub charter_text_en: String,
    /// Categories that get a mailbox (and may forward it to another address).
    pub mailbox_categories: Vec<String>,
    /// Categories that have no mailbox but must give an address their mail goes to.
    pub forward_required_categories: Vec<String>,
    /// Mailbox address pattern: `{first}`, `{last}` and `{login}`, folded to ASCII.
    pub mailbox_pattern: String,
    /// Services listed on the last page, once the account is active.
    pub services_fr: Vec<String>,
    pub services_en: Vec<String>,
}

impl Default for ActivationConfig {
    fn default() -> Self {
        Self {
            provisional_valid_days: 60,
            flow_valid_days: 14,
            max_sends_per_address: 3,
            max_code_attempts: 5,
            charter_version: "2024-09".into(),
            charter_text_fr: "Vous utilisez les ressources informatiques de l'établissement pour \
                vos activités professionnelles ou d'études. Vous gardez vos identifiants secrets, \
                vous respectez la loi, la vie privée et la propriété intellectuelle, et vous \
                signalez tout incident de sécurité au centre de services."
                .into(),
            charter_text_en: "You use the institution's computing resources for your work or \
                studies. You keep your credentials secret, you respect the law, privacy and \
                intellectual property, and you report any security incident to the help desk."
                .into(),
            mailbox_categories: vec!["permanent-staff".into()],
            forward_required_categories: vec!["temporary-staff".into()],
            mailbox_pattern: "{first}.{last}@example.org".into(),
            services_fr: vec![
                "Environnement numérique de travail (ENT)".into(),
                "Messagerie".into(),
                "Moodle".into(),
            ],
            services_en: vec!["Digital workspace".into(), "Email".into(), "Moodle".into()],
        }
    }
}

/// Invitation-based registration (seed 003) and the texts people accept.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignUpConfig {
    /// Days an invitation link stays valid.
    pub invitation_valid_days: i64,
    /// Minutes a sign-up may take before it starts over from the link.
    pub flow_valid_minutes: i64,
    /// Minutes the emailed code (and the link of an activation mail) stays valid.
    pub code_valid_minutes: i64,
    /// Wrong codes allowed before a code stops working.
    pub max_code_attempts: i64,
    /// Emails with a code one sign-up may send.
    pub max_sends: i64,
    /// The category of the accounts people create.
    pub category: String,
    /// Submissions of the sign-up and "Can't sign in?" forms per client address and hour
    /// when the browser solved the bot check, and when it did not (no JavaScript).
    pub per_address_per_hour: i64,
    pub unsolved_per_address_per_hour: i64,
    /// The terms of use and the privacy policy: a new version is asked for again at the
    /// next sign-in. Paragraphs are separated by a blank line.
    pub terms_version: String,
    pub terms_text_fr: String,
    pub terms_text_en: String,
    pub privacy_version: String,
    pub privacy_text_fr: String,
    pub privacy_text_en: String,
}

impl Default for SignUpConfig {
    fn default() -> Self {
        Self {
            invitation_valid_days: 30,
            flow_valid_minutes: 60,
            code_valid_minutes: 10,
            max_code_attempts: 5,
            max_sends: 3,
            category: "external".into(),
            per_address_per_hour: 30,
            unsolved_per_address_per_hour: 5,
            terms_version: "2026-12".into(),
            terms_text_fr: "Ce compte vous donne accès aux documents que votre établissement ou \
                votre organisme émetteur met à votre disposition. Il est personnel : gardez \
                votre mot de passe secret et ne le partagez avec personne.\n\n\
                Vous vous engagez à fournir des renseignements exacts et à signaler sans délai \
                toute utilisation de votre compte que vous n'avez pas faite."
                .into(),
            terms_text_en: "This account gives you access to the documents your institution or \
                issuing organization makes available to you. It is personal: keep your \
                password secret and share it with no one.\n\n\
                You agree to give accurate information and to report at once any use of your \
                account that you did not make."
                .into(),
            privacy_version: "2026-12".into(),
            privacy_text_fr: "Nous conservons votre nom, votre prénom, votre adresse courriel et \
                le journal des opérations de sécurité de votre compte, pour vous identifier et \
                protéger votre compte. Votre mot de passe n'est jamais conservé en clair.\n\n\
                Ces renseignements ne sont communiqués qu'à l'établissement ou l'organisme qui \
                vous a invité. Vous pouvez demander à les consulter ou à les faire corriger \
                auprès du service d'assistance."
                .into(),
            privacy_text_en: "We keep your name, first name, email address and the log of your \
                account's security events, to identify you and protect your account. Your \
                password is never stored in clear.\n\n\
                This information is shared only with the institution or organization that \
                invited you. You may ask the help desk to see it or to have it corrected."
                .into(),
        }
    }
}

impl SignUpConfig {
    fn validate(&self, known_category: &dyn Fn(&String) -> bool) -> Result<(), ConfigError> {
        let invalid = |what: &str| Err(ConfigError::Invalid(format!("signup: {what}")));
        if !known_category(&self.category) {
            return invalid("category must be one of the known categories");
        }
        if self.invitation_valid_days < 1
            || self.flow_valid_minutes < 1
            || self.code_valid_minutes < 1
            || self.max_code_attempts < 1
            || self.max_sends < 1
            || self.per_address_per_hour < 1
            || self.unsolved_per_address_per_hour < 1
        {
            return invalid("every duration and limit must be at least 1");
        }
        if self.terms_version.trim().is_empty() || self.privacy_version.trim().is_empty() {
            return invalid("terms_version and privacy_version must not be empty");
        }
        Ok(())
    }
}

/// Forgot password: the methods offered, and per category which proofs suffice.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// The methods the choice page offers everyone, in this order (`questions`,
    /// `email_code`, `totp`, `pin`, `identity`).
    pub methods: Vec<String>,
    /// Minutes a recovery may take before it starts over.
    pub flow_valid_minutes: i64,
    /// Minutes an emailed code (and its link) stays valid.
    pub code_valid_minutes: i64,
    /// Wrong codes allowed before a code stops working.
    pub max_code_attempts: i64,
    /// Emails with a code one recovery may send.
    pub max_sends: i64,
    /// The first rule naming a person's category (or `*`) decides.
    pub rules: Vec<RecoveryRule>,
    /// Security questions a person sets up under "My account".
    pub questions_to_enrol: usize,
    /// How many of them forgot password asks (0: all).
    pub questions_asked: usize,
    /// The questions people choose from (they may also write their own).
    pub questions: Vec<SecurityQuestion>,
}

/// One of the institution's security questions, in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityQuestion {
    /// Stored with the answer: change the texts freely, never the id.
    pub id: String,
    pub fr: String,
    pub en: String,
}

/// Which proofs let people of some categories choose a new password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRule {
    /// Categories this rule is for; `*` for any.
    pub categories: Vec<String>,
    /// Each entry is a combination of methods that suffices once all are proven.
    pub sufficient: Vec<Vec<String>>,
    /// Methods also required, on top of any combination, when the person has them.
    #[serde(default)]
    pub plus_if_enrolled: Vec<String>,
}

impl RecoveryConfig {
    fn validate(&self, known_category: &dyn Fn(&String) -> bool) -> Result<(), ConfigError> {
        let known_method = |m: &String| app::api::password::RecoveryMethod::from_code(m).is_some();
        let invalid = |what: String| Err(ConfigError::Invalid(format!("recovery: {what}")));
        if let Some(bad) = self.methods.iter().find(|m| !known_method(m)) {
            return invalid(format!("unknown method {bad:?}"));
        }
        if self.methods.is_empty() {
            return invalid("methods must offer at least one method".into());
        }
        for rule in &self.rules {
            if let Some(bad) = rule
                .categories
                .iter()
                .find(|c| c.as_str() != "*" && !known_category(c))
            {
                return invalid(format!("unknown category {bad:?}"));
            }
            if let Some(bad) = rule
                .sufficient
                .iter()
                .flatten()
                .chain(&rule.plus_if_enrolled)
                .find(|m| !known_method(m))
            {
                return invalid(format!("unknown method {bad:?}"));
            }
            if rule.sufficient.iter().any(Vec::is_empty) {
                return invalid("an empty combination would need no proof".into());
            }
        }
        if !(1..=5).contains(&self.questions_to_enrol)
            || self.questions_asked > self.questions_to_enrol
        {
            return invalid(
                "questions_to_enrol must be 1 to 5, questions_asked at most that".into(),
            );
        }
        if self.questions.len() < self.questions_to_enrol {
            return invalid("questions must list at least questions_to_enrol questions".into());
        }
        if self.code_valid_minutes < 1 || self.max_code_attempts < 1 || self.max_sends < 1 {
            return invalid(
                "code_valid_minutes, max_code_attempts and max_sends must be at least 1".into(),
            );
        }
        Ok(())
    }
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        let methods = |list: &[&str]| list.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>();
        Self {
            methods: methods(&["questions", "email_code", "totp", "pin", "identity"]),
            flow_valid_minutes: 30,
            code_valid_minutes: 10,
            max_code_attempts: 5,
            max_sends: 3,
            rules: vec![
                // Seed 000: retirees often have no email; what HR knows is enough.
                RecoveryRule {
                    categories: methods(&["retiree"]),
                    sufficient: vec![
                        methods(&["questions"]),
                        methods(&["pin"]),
                        methods(&["identity"]),
                        methods(&["email_code"]),
                        methods(&["totp"]),
                    ],
                    plus_if_enrolled: Vec::new(),
                },
                RecoveryRule {
                    categories: methods(&["*"]),
                    sufficient: vec![methods(&["email_code"]), methods(&["totp"])],
                    plus_if_enrolled: methods(&["questions"]),
                },
            ],
            questions_to_enrol: 3,
            questions_asked: 0,
            questions: [
                (
                    "birth-city",
                    "Dans quelle ville êtes-vous né(e) ?",
                    "In what city were you born?",
                ),
                (
                    "first-pet",
                    "Quel était le nom de votre premier animal de compagnie ?",
                    "What was the name of your first pet?",
                ),
                (
                    "first-school",
                    "Quel est le nom de votre première école ?",
                    "What was the name of your first school?",
                ),
                (
                    "mother-maiden",
                    "Quel est le nom de jeune fille de votre mère ?",
                    "What is your mother's maiden name?",
                ),
                (
                    "first-street",
                    "Dans quelle rue habitiez-vous enfant ?",
                    "On what street did you live as a child?",
                ),
                (
                    "first-job",
                    "Quel a été votre premier emploi ?",
                    "What was your first job?",
                ),
            ]
            .into_iter()
            .map(|(id, fr, en)| SecurityQuestion {
                id: id.into(),
                fr: fr.into(),
                en: en.into(),
            })
            .collect(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:3000".into(),
            secret_key_file: "var/secret.key".into(),
            client_ip_header: String::new(),
            log_format: "text".into(),
            database: DatabaseConfig::default(),
            mail: MailConfig::default(),
            smtp: SmtpConfig::default(),
            institution: InstitutionConfig::default(),
            password: PasswordPolicy::default(),
            hashing: HashingConfig::default(),
            sessions: SessionConfig::default(),
            throttle: ThrottleConfig::default(),
            activation: ActivationConfig::default(),
            recovery: RecoveryConfig::default(),
            bot_check: BotCheckConfig::default(),
            signup: SignUpConfig::default(),
            linked_systems: BTreeMap::new(),
            retention: RetentionConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite:var/sesame.db".into(),
            max_connections: 10,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            dir: "var/mail".into(),
            from: "Sésame <no-reply@sesame.invalid>".into(),
            max_attempts: 8,
            retry_base_secs: 5,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
            timeout_secs: 15,
        }
    }
}

impl Default for InstitutionConfig {
    fn default() -> Self {
        Self {
            name_fr: "Votre établissement".into(),
            name_en: "Your institution".into(),
            logo_url: "/logo.svg".into(),
            helpdesk_phone: "—".into(),
            helpdesk_hours_fr: "heures de bureau".into(),
            helpdesk_hours_en: "business hours".into(),
            helpdesk_email: String::new(),
            time_zone: "America/Montreal".into(),
            color_primary: "#1d4f91".into(),
            color_primary_dark: "#8fb8ff".into(),
        }
    }
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            hash_memory_kib: 19 * 1024,
            hash_iterations: 2,
            hash_parallelism: 1,
            hash_concurrency: 4,
            hash_queue_timeout_ms: 2_000,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            signin_per_account: 5,
            signin_per_address: 50,
            window_minutes: 15,
            lockout_minutes: 15,
            recovery_per_identifier: 5,
            recovery_per_address: 20,
        }
    }
}

/// A system whose accounts people may link (`crate::linked`): an LDAP directory where
/// Sésame checks an account's password with a bind, and may set a new one (RFC 3062).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkedSystemConfig {
    /// `ldap` (the only kind so far).
    pub kind: String,
    /// What people see: `name = { fr = "...", en = "..." }`.
    pub name: LocalizedText,
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before any password travels.
    pub starttls: bool,
    /// The account's DN, `{account}` standing for the name typed (escaped, RFC 4514).
    pub user_dn: String,
    /// Whether a new Sésame password is also written there (with the service account).
    pub push_password: bool,
    /// The service account that may change passwords (needed when `push_password`).
    pub service_dn: String,
    /// Its password, or (better) a file holding it, read at start-up.
    pub service_password: String,
    pub service_password_file: PathBuf,
    /// Seconds one operation there may take (connection, bind, change), 1 to 60.
    pub timeout_secs: u64,
}

impl Default for LinkedSystemConfig {
    fn default() -> Self {
        Self {
            kind: "ldap".into(),
            name: LocalizedText::default(),
            url: String::new(),
            starttls: false,
            user_dn: String::new(),
            push_password: false,
            service_dn: String::new(),
            service_password: String::new(),
            service_password_file: PathBuf::new(),
            timeout_secs: 5,
        }
    }
}

// The service password stays out of logs.
impl std::fmt::Debug for LinkedSystemConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedSystemConfig")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("user_dn", &self.user_dn)
            .field("push_password", &self.push_password)
            .field("service_dn", &self.service_dn)
            .field("service_password_file", &self.service_password_file)
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

impl LinkedSystemConfig {
    /// Reads `service_password_file` into `service_password` (at start-up).
    fn read_secret(&mut self, id: &str) -> Result<(), ConfigError> {
        if self.service_password_file.as_os_str().is_empty() {
            return Ok(());
        }
        if !self.service_password.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "linked_systems.{id}: service_password and service_password_file are both set"
            )));
        }
        let path = &self.service_password_file;
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        // Files usually end with a newline that is no part of the password.
        self.service_password = text.trim_end_matches(['\r', '\n']).to_owned();
        Ok(())
    }

    fn validate(&self, id: &str) -> Result<(), ConfigError> {
        let invalid =
            |what: &str| Err(ConfigError::Invalid(format!("linked_systems.{id}: {what}")));
        // The id appears in variable names (SESAME_LINKED_SYSTEMS_<ID>_...) and forms.
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return invalid("the id must be 1 to 64 of a-z, 0-9 and _");
        }
        if self.kind != "ldap" {
            return invalid(&format!(
                "unknown kind {:?} (ldap is the only one)",
                self.kind
            ));
        }
        if self.name.fr.trim().is_empty() || self.name.en.trim().is_empty() {
            return invalid("name must have fr and en");
        }
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return invalid("url must start with ldap:// or ldaps://");
        }
        if self.starttls && !self.url.starts_with("ldap://") {
            return invalid("starttls applies to ldap:// URLs only");
        }
        // Passwords travel there: in clear only to a directory on this very machine.
        if self.url.starts_with("ldap://") && !self.starttls && !ldap_host_is_loopback(&self.url) {
            return invalid(
                "an ldap:// URL needs starttls = true (or use ldaps://) unless the host is loopback",
            );
        }
        if self.user_dn.matches("{account}").count() != 1 {
            return invalid("user_dn must contain {account} once");
        }
        if self.push_password && (self.service_dn.is_empty() || self.service_password.is_empty()) {
            return invalid(
                "push_password needs service_dn and service_password (or service_password_file)",
            );
        }
        if !(1..=60).contains(&self.timeout_secs) {
            return invalid("timeout_secs must be 1 to 60");
        }
        Ok(())
    }
}

/// Whether an `ldap://` URL names this machine (127.0.0.0/8, ::1 or localhost).
fn ldap_host_is_loopback(url: &str) -> bool {
    let rest = url.trim_start_matches("ldap://");
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The bot check: a proof of work the browser solves unseen (`crate::bot_check`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotCheckConfig {
    /// Leading zero bits asked for: each one doubles the work (17: about 130,000 hashes
    /// on average, a few tenths of a second in a browser, under a second on a slow phone).
    pub difficulty: u32,
    /// Minutes a challenge stays valid once the page is served.
    pub valid_minutes: i64,
    /// Challenges solved per minute (all instances together) above which the difficulty
    /// rises by one bit per doubling; 0: never raised.
    pub raise_above_per_minute: i64,
    /// The most the difficulty rises to under load.
    pub max_difficulty: u32,
}

impl Default for BotCheckConfig {
    fn default() -> Self {
        Self {
            difficulty: 17,
            valid_minutes: 10,
            raise_above_per_minute: 120,
            max_difficulty: 22,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the defaults, then the file named by `SESAME_CONFIG` (if any), then the
    /// `SESAME_*` variables.
    pub fn load() -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = env
            .get("SESAME_CONFIG")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Config::load_from(file, &env)
    }

    pub fn load_from(
        file: Option<PathBuf>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut value = toml::Value::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let from_file: toml::Value = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
            merge(&mut value, from_file);
            // Catch misspelt keys now, with the file's name in the message.
            let parsed = value
                .clone()
                .try_into::<Config>()
                .map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            // Again as a value, with every default filled in: a map's entries (a
            // `[linked_systems.<id>]`) then have all their keys, so each has a variable.
            value =
                toml::Value::try_from(parsed).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        apply_env(&mut value, "SESAME", env)?;
        let mut config: Config = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        for (id, system) in &mut config.linked_systems {
            system.read_secret(id)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Every environment variable that overrides a setting, with its current value.
    pub fn env_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(value) = toml::Value::try_from(self) {
            collect_names(&value, "SESAME", &mut names);
        }
        names
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.public_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "public_url must start with http:// or https://: {url:?}"
            )));
        }
        if !(self.database.url.starts_with("sqlite:") || self.database.url.starts_with("postgres"))
        {
            return Err(ConfigError::Invalid(
                "database.url must start with sqlite: or postgres://".into(),
            ));
        }
        if !matches!(self.mail.transport.as_str(), "file" | "smtp") {
            return Err(ConfigError::Invalid(
                "mail.transport must be file or smtp".into(),
            ));
        }
        if !matches!(self.smtp.security.as_str(), "starttls" | "tls" | "none") {
            return Err(ConfigError::Invalid(
                "smtp.security must be starttls, tls or none".into(),
            ));
        }
        if jiff::tz::TimeZone::get(&self.institution.time_zone).is_err() {
            return Err(ConfigError::Invalid(format!(
                "unknown time zone {:?}",
                self.institution.time_zone
            )));
        }
        let known = |c: &String| crate::store::people::Category::parse(c).is_some();
        let activation = &self.activation;
        if let Some(bad) = activation
            .mailbox_categories
            .iter()
            .chain(&activation.forward_required_categories)
            .find(|c| !known(c))
        {
            return Err(ConfigError::Invalid(format!(
                "activation: unknown category {bad:?}"
            )));
        }
        if !activation.mailbox_pattern.contains('@') {
            return Err(ConfigError::Invalid(
                "activation.mailbox_pattern must be an address pattern such as {first}.{last}@example.org".into(),
            ));
        }
        self.recovery.validate(&known)?;
        self.signup.validate(&known)?;
        for (id, system) in &self.linked_systems {
            system.validate(id)?;
        }
        let bot = &self.bot_check;
        if bot.difficulty > bot.max_difficulty
            || bot.max_difficulty > app::pow::MAX_DIFFICULTY
            || bot.valid_minutes < 1
            || bot.raise_above_per_minute < 0
        {
            return Err(ConfigError::Invalid(format!(
                "bot_check: difficulty must be at most max_difficulty, itself at most {}; \
                 valid_minutes at least 1; raise_above_per_minute 0 or more",
                app::pow::MAX_DIFFICULTY
            )));
        }
        if self.retention.audit_days < 1 || self.retention.mail_days < 1 {
            return Err(ConfigError::Invalid(
                "retention.audit_days and retention.mail_days must be at least 1".into(),
            ));
        }
        if self.hashing.hash_concurrency == 0 {
            return Err(ConfigError::Invalid(
                "hashing.hash_concurrency must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Whether the portal is served over HTTPS (cookies then `Secure` and `__Host-`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The public URL without a trailing slash, to append paths to.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Where mails send people to sign in.
    pub fn sign_in_url(&self) -> String {
        format!("{}/signin", self.public_base())
    }

    pub fn institution(&self) -> Institution {
        let i = &self.institution;
        Institution {
            name: LocalizedText {
                fr: i.name_fr.clone(),
                en: i.name_en.clone(),
            },
            logo_url: i.logo_url.clone(),
            helpdesk_phone: i.helpdesk_phone.clone(),
            helpdesk_hours: LocalizedText {
                fr: i.helpdesk_hours_fr.clone(),
                en: i.helpdesk_hours_en.clone(),
            },
            helpdesk_email: i.helpdesk_email.clone(),
        }
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(base), toml::Value::Table(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

fn env_name(prefix: &str, key: &str) -> String {
    format!("{prefix}_{}", key.to_ascii_uppercase())
}

fn apply_env(
    value: &mut toml::Value,
    prefix: &str,
    env: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    let toml::Value::Table(table) = value else {
        return Ok(());
    };
    for (key, child) in table.iter_mut() {
        let name = env_name(prefix, key);
        if let toml::Value::Table(_) = child {
            apply_env(child, &name, env)?;
            continue;
        }
        let Some(raw) = env.get(&name) else { continue };
        let bad = |message: &str| ConfigError::Env {
            name: name.clone(),
            message: message.into(),
        };
        *child = match child {
            toml::Value::String(_) => toml::Value::String(raw.clone()),
            toml::Value::Integer(_) => toml::Value::Integer(
                raw.trim()
                    .parse()
                    .map_err(|_| bad("expected a whole number"))?,
            ),
            toml::Value::Float(_) => {
                toml::Value::Float(raw.trim().parse().map_err(|_| bad("expected a number"))?)
            }
            toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return Err(bad("expected true or false")),
            }),
            _ => toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .ok_or_else(|| bad("expected a TOML value"))?,
        };
    }
    Ok(())
}

fn collect_names(value: &toml::Value, prefix: &str, names: &mut Vec<String>) {
    if let toml::Value::Table(table) = value {
        for (key, child) in table {
            let name = env_name(prefix, key);
            match child {
                toml::Value::Table(_) => collect_names(child, &name, names),
                _ => names.push(name),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_ones() {
        let config = Config::load_from(None, &env(&[])).expect("defaults load");
        assert_eq!(config.database.url, "sqlite:var/sesame.db");
        assert_eq!(config.mail.dir, PathBuf::from("var/mail"));
        assert_eq!(config.password.min_length, 14);
        assert_eq!(config.hashing.hash_memory_kib, 19 * 1024);
    }

    #[test]
    fn the_documented_variables_override_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sesame.toml");
        std::fs::write(
            &file,
            "public_url = \"https://file.example\"\n[mail]\ndir = \"/from/file\"\n",
        )
        .expect("write");
        let config = Config::load_from(
            Some(file),
            &env(&[
                ("SESAME_DATABASE_URL", "postgres://db/sesame"),
                ("SESAME_MAIL_DIR", "/from/env"),
                ("SESAME_PASSWORD_MIN_LENGTH", "16"),
                ("SESAME_THROTTLE_SIGNIN_PER_ACCOUNT", "3"),
            ]),
        )
        .expect("loads");
        assert_eq!(config.public_url, "https://file.example");
        assert_eq!(config.database.url, "postgres://db/sesame");
        assert_eq!(config.mail.dir, PathBuf::from("/from/env"));
        assert_eq!(config.password.min_length, 16);
        assert_eq!(config.throttle.signin_per_account, 3);
        assert!(config.is_https());
    }

    #[test]
    fn every_setting_has_a_variable() {
        let names = Config::default().env_names();
        for expected in [
            "SESAME_PUBLIC_URL",
            "SESAME_DATABASE_URL",
            "SESAME_MAIL_DIR",
            "SESAME_SMTP_PASSWORD",
            "SESAME_PASSWORD_REQUIRE_DIGIT",
            "SESAME_INSTITUTION_TIME_ZONE",
            "SESAME_BOT_CHECK_DIFFICULTY",
        ] {
            assert!(
                names.contains(&expected.to_string()),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn the_documented_example_is_valid() {
        let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sesame.example.toml");
        let config = Config::load_from(Some(example), &env(&[])).expect("the example loads");
        assert_eq!(config.institution.helpdesk_phone, "514-987-3000 poste 5050");
        assert!(config.is_https());
        assert_eq!(config.recovery.rules, RecoveryConfig::default().rules);
        assert_eq!(
            config.recovery.questions,
            RecoveryConfig::default().questions
        );
        assert_eq!(config.recovery.methods, RecoveryConfig::default().methods);
    }

    #[test]
    fn recovery_rules_name_known_methods_and_categories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let load = |text: &str| {
            let file = dir.path().join("recovery.toml");
            std::fs::write(&file, text).expect("write");
            Config::load_from(Some(file), &env(&[]))
        };
        let err =
            load("[recovery]\nmethods = [\"pin\", \"carrier-pigeon\"]\n").expect_err("method");
        assert!(err.to_string().contains("carrier-pigeon"), "{err}");
        let err =
            load("[[recovery.rules]]\ncategories = [\"pirates\"]\nsufficient = [[\"pin\"]]\n")
                .expect_err("category");
        assert!(err.to_string().contains("pirates"), "{err}");
        let err = load("[[recovery.rules]]\ncategories = [\"*\"]\nsufficient = [[]]\n")
            .expect_err("empty combination");
        assert!(err.to_string().contains("no proof"), "{err}");
        let config = load(
            "[[recovery.rules]]\ncategories = [\"student\"]\nsufficient = [[\"email_code\", \"pin\"]]\n",
        )
        .expect("a combination of two");
        assert_eq!(config.recovery.rules.len(), 1);
    }

    #[test]
    fn mistakes_are_reported_clearly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sesame.toml");
        std::fs::write(&file, "[mail]\ndirr = \"x\"\n").expect("write");
        let err = Config::load_from(Some(file), &env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("dirr"), "{err}");
        let err = Config::load_from(None, &env(&[("SESAME_PASSWORD_MIN_LENGTH", "many")]))
            .expect_err("bad number");
        assert!(
            err.to_string().contains("SESAME_PASSWORD_MIN_LENGTH"),
            "{err}"
        );
        let err = Config::load_from(
            None,
            &env(&[("SESAME_INSTITUTION_TIME_ZONE", "Mars/Olympus")]),
        )
        .expect_err("bad zone");
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn linked_systems_read_their_secret_and_take_variables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("corp.secret");
        std::fs::write(&secret, "s3rvice\n").expect("write");
        let file = dir.path().join("sesame.toml");
        let write = |extra: &str| {
            std::fs::write(
                &file,
                format!(
                    "[linked_systems.corp]\nname = {{ fr = \"Annuaire\", en = \"Directory\" }}\n\
                     url = \"ldap://127.0.0.1:389\"\n\
                     user_dn = \"uid={{account}},ou=people,dc=example,dc=org\"\n{extra}"
                ),
            )
            .expect("write");
        };
        write(&format!(
            "push_password = true\nservice_dn = \"cn=admin,dc=example,dc=org\"\n\
             service_password_file = \"{}\"\n",
            secret.display()
        ));
        let config = Config::load_from(Some(file.clone()), &env(&[])).expect("loads");
        let corp = &config.linked_systems["corp"];
        assert_eq!(corp.service_password, "s3rvice");
        assert_eq!(corp.timeout_secs, 5);
        assert!(!format!("{corp:?}").contains("s3rvice"), "redacted");

        // A key the file left out still has its variable.
        write("");
        let config = Config::load_from(
            Some(file.clone()),
            &env(&[
                ("SESAME_LINKED_SYSTEMS_CORP_TIMEOUT_SECS", "9"),
                ("SESAME_LINKED_SYSTEMS_CORP_PUSH_PASSWORD", "true"),
                ("SESAME_LINKED_SYSTEMS_CORP_SERVICE_DN", "cn=admin"),
                ("SESAME_LINKED_SYSTEMS_CORP_SERVICE_PASSWORD", "from-env"),
            ]),
        )
        .expect("variables");
        let corp = &config.linked_systems["corp"];
        assert_eq!(corp.timeout_secs, 9);
        assert_eq!(corp.service_password, "from-env");

        write("kind = \"carrier-pigeon\"\n");
        let err = Config::load_from(Some(file.clone()), &env(&[])).expect_err("kind");
        assert!(err.to_string().contains("carrier-pigeon"), "{err}");
        write("push_password = true\n");
        let err = Config::load_from(Some(file), &env(&[])).expect_err("no service account");
        assert!(err.to_string().contains("service_dn"), "{err}");
    }

    #[test]
    fn passwords_travel_in_clear_only_to_this_machine() {
        for url in [
            "ldap://127.0.0.1:389",
            "ldap://localhost",
            "ldap://[::1]:3389/",
        ] {
            assert!(ldap_host_is_loopback(url), "{url}");
        }
        for url in [
            "ldap://ldap.example.org",
            "ldap://10.0.0.5:389",
            "ldap://127.0.0.1.example.org",
        ] {
            assert!(!ldap_host_is_loopback(url), "{url}");
        }
        let system = |url: &str, starttls: bool| LinkedSystemConfig {
            name: LocalizedText {
                fr: "Annuaire".into(),
                en: "Directory".into(),
            },
            url: url.into(),
            starttls,
            user_dn: "uid={account},dc=example,dc=org".into(),
            ..LinkedSystemConfig::default()
        };
        assert!(
            system("ldap://ldap.example.org", false)
                .validate("corp")
                .is_err()
        );
        assert!(
            system("ldap://ldap.example.org", true)
                .validate("corp")
                .is_ok()
        );
        assert!(
            system("ldaps://ldap.example.org", false)
                .validate("corp")
                .is_ok()
        );
        assert!(
            system("ldap://127.0.0.1:3389", false)
                .validate("corp")
                .is_ok()
        );
    }
}
