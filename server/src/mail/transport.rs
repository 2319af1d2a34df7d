//! Where mail goes: a folder of `.eml` files (local use, tests, the demo mailbox) or an
//! SMTP server through lettre (STARTTLS or implicit TLS, optional authentication).

use std::{path::PathBuf, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::{authentication::Credentials, client::Tls, client::TlsParameters},
};

use crate::config::{Config, SmtpConfig};

#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), String>;
}

/// Builds the transport the configuration names.
pub fn from_config(config: &Config) -> Result<Box<dyn Transport>, String> {
    match config.mail.transport.as_str() {
        "smtp" => Ok(Box::new(SmtpTransport::new(&config.smtp)?)),
        _ => Ok(Box::new(FileTransport::new(config.mail.dir.clone()))),
    }
}

/// One `<time>-<id>.eml` file per message, written atomically (temp file, then rename)
/// so a reader never sees half a message.
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> FileTransport {
        FileTransport { dir }
    }
}

#[async_trait::async_trait]
impl Transport for FileTransport {
    async fn send(&self, message: &Message) -> Result<(), String> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        // Named after the Message-ID (queue time, then random): a message written again
        // after a crash (before it was marked sent) replaces its file instead of doubling.
        let name = file_name(message).unwrap_or_else(|| {
            format!(
                "{}-{}.eml",
                jiff::Timestamp::now().as_millisecond(),
                crate::crypto::tokens::random_hex(6)
            )
        });
        let temp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&temp, message.formatted())
            .await
            .map_err(|e| format!("{}: {e}", temp.display()))?;
        tokio::fs::rename(&temp, self.dir.join(&name))
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// `<0001764620000123.3f2a…@host>` → `0001764620000123-3f2a….eml`.
fn file_name(message: &Message) -> Option<String> {
    let id = message.headers().get_raw("Message-ID")?;
    let local = id.trim().trim_start_matches('<').split('@').next()?;
    let name: String = local
        .chars()
        .map(|c| if c == '.' { '-' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!name.is_empty()).then(|| format!("{name}.eml"))
}

pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    /// The whole session's limit: lettre's timeout bounds only the connection, and a
    /// server that accepts and never answers would hold the outbox worker forever.
    session_timeout: Duration,
}

impl SmtpTransport {
    pub fn new(config: &SmtpConfig) -> Result<SmtpTransport, String> {
        let tls = || TlsParameters::new(config.host.clone()).map_err(|e| e.to_string());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        builder = match config.security.as_str() {
            "tls" => builder.tls(Tls::Wrapper(tls()?)),
            "none" => builder.tls(Tls::None),
            _ => builder.tls(Tls::Required(tls()?)),
        };
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                config.password.clone(),
            ));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
            session_timeout: Duration::from_secs(config.timeout_secs.max(1) * 2),
        })
    }
}

#[async_trait::async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, message: &Message) -> Result<(), String> {
        match tokio::time::timeout(self.session_timeout, self.inner.send(message.clone())).await {
            Ok(sent) => sent.map(|_| ()).map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "the SMTP server did not finish the session within {} s",
                self.session_timeout.as_secs()
            )),
        }
    }
}
