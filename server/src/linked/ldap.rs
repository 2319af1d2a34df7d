//! The LDAP side of linked accounts: a simple bind proves an account's password, and the
//! Password Modify extended operation (RFC 3062), under the service account, sets a new
//! one. Every operation is bounded as a whole by the system's timeout.

use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, dn_escape, exop::PasswordModify};

use crate::config::LinkedSystemConfig;

/// Why an operation on a directory did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The directory answered and refused (wrong password, no such entry, not allowed).
    Refused(String),
    /// No answer in time, connection refused, TLS failure...
    Unreachable(String),
}

impl Failure {
    /// A short text for the audit trail and the retry row (never a password).
    pub(crate) fn message(&self) -> String {
        let (what, detail) = match self {
            Failure::Refused(detail) => ("refused", detail),
            Failure::Unreachable(detail) => ("unreachable", detail),
        };
        let mut text = format!("{what}: {detail}");
        if text.len() > 300 {
            let mut end = 300;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        text
    }
}

/// The account's DN: the template with the name escaped as an RDN value (RFC 4514), so a
/// name such as `x,ou=admins` stays one value and cannot reach another entry.
pub(crate) fn user_dn(system: &LinkedSystemConfig, account: &str) -> String {
    system.user_dn.replace("{account}", &dn_escape(account))
}

fn timeout(system: &LinkedSystemConfig) -> Duration {
    Duration::from_secs(system.timeout_secs.clamp(1, 60))
}

/// Only "invalid credentials" (49) and "no such object" (32) say the account or password
/// is wrong; any other refusal (confidentiality required, busy, unwilling...) is the
/// directory's state, which must not cost the person a try.
fn classify(error: LdapError) -> Failure {
    const NO_SUCH_OBJECT: u32 = 32;
    const INVALID_CREDENTIALS: u32 = 49;
    match error {
        LdapError::LdapResult { result }
            if [NO_SUCH_OBJECT, INVALID_CREDENTIALS].contains(&result.rc) =>
        {
            Failure::Refused(format!("result code {} {}", result.rc, result.text))
        }
        LdapError::LdapResult { result } => {
            Failure::Unreachable(format!("result code {} {}", result.rc, result.text))
        }
        other => Failure::Unreachable(other.to_string()),
    }
}

/// The connection's driver task, stopped with the operation (even one cut by the timeout).
struct Driver(tokio::task::JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn connect(system: &LinkedSystemConfig) -> Result<(Ldap, Driver), Failure> {
    let settings = LdapConnSettings::new()
        .set_conn_timeout(timeout(system))
        .set_starttls(system.starttls);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &system.url)
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let driver = Driver(tokio::spawn(async move {
        if let Err(error) = conn.drive().await {
            tracing::debug!(%error, "LDAP connection ended");
        }
    }));
    ldap.with_timeout(timeout(system));
    Ok((ldap, driver))
}

/// Runs `op` within the system's timeout; a late answer counts as no answer.
async fn bounded<T>(
    system: &LinkedSystemConfig,
    op: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(timeout(system), op)
        .await
        .unwrap_or_else(|_| {
            Err(Failure::Unreachable(format!(
                "no answer within {} s",
                system.timeout_secs
            )))
        })
}

async fn bind(ldap: &mut Ldap, dn: &str, password: &str) -> Result<(), Failure> {
    // An empty password makes a simple bind "unauthenticated" (RFC 4513 §5.1.2), which
    // many servers accept as anonymous: it would prove nothing.
    if password.is_empty() {
        return Err(Failure::Refused("empty password".into()));
    }
    ldap.simple_bind(dn, password)
        .await
        .and_then(|result| result.success())
        .map(|_| ())
        .map_err(classify)
}

/// Whether `password` is the password of the entry `dn`.
pub(crate) async fn check_password(
    system: &LinkedSystemConfig,
    dn: &str,
    password: &str,
) -> Result<(), Failure> {
    bounded(system, async {
        let (mut ldap, _driver) = connect(system).await?;
        let outcome = bind(&mut ldap, dn, password).await;
        let _ = ldap.unbind().await;
        outcome
    })
    .await
}

/// Sets the password of the entry `dn`, as the service account.
pub(crate) async fn set_password(
    system: &LinkedSystemConfig,
    dn: &str,
    new_password: &str,
) -> Result<(), Failure> {
    bounded(system, async {
        let (mut ldap, _driver) = connect(system).await?;
        let outcome = async {
            bind(&mut ldap, &system.service_dn, &system.service_password).await?;
            ldap.extended(PasswordModify {
                user_id: Some(dn),
                old_pass: None,
                new_pass: Some(new_password),
            })
            .await
            .and_then(|result| result.success())
            .map(|_| ())
            .map_err(classify)
        }
        .await;
        let _ = ldap.unbind().await;
        outcome
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_escaped_into_one_rdn_value() {
        let system = LinkedSystemConfig {
            user_dn: "uid={account},ou=people,dc=example,dc=org".into(),
            ..LinkedSystemConfig::default()
        };
        assert_eq!(
            user_dn(&system, "jroy"),
            "uid=jroy,ou=people,dc=example,dc=org"
        );
        assert_eq!(
            user_dn(&system, "x,ou=admins"),
            "uid=x\\2cou\\3dadmins,ou=people,dc=example,dc=org"
        );
        assert_eq!(
            user_dn(&system, " #a+b "),
            "uid=\\20#a\\2bb\\20,ou=people,dc=example,dc=org"
        );
    }
}
