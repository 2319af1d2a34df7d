//! The outbox worker: claims due messages, sends them, and retries failures with
//! exponential backoff. Runs in every instance; claims keep them from sending twice.

use std::{sync::Arc, time::Duration};

use lettre::{
    Message,
    message::{Mailbox, MultiPart},
};

use super::{Outbox, transport::Transport};
use crate::{
    clock::Clock,
    config::MailConfig,
    error::{Error, Result},
    store::{Store, outbox},
};

pub struct Worker {
    pub store: Store,
    pub transport: Box<dyn Transport>,
    pub clock: Arc<dyn Clock>,
    pub config: MailConfig,
    pub outbox: Outbox,
}

/// What one pass did, for tests and logs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub sent: usize,
    pub retried: usize,
    pub given_up: usize,
}

impl Worker {
    /// Runs forever: a pass whenever mail is queued, and every second for retries.
    pub async fn run(self) {
        let wake = self.outbox.notified();
        loop {
            match self.pass().await {
                Ok(report) if report != PassReport::default() => {
                    tracing::info!(?report, "outbox pass")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "outbox pass failed"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Sends what is due now.
    pub async fn pass(&self) -> Result<PassReport> {
        let mut report = PassReport::default();
        loop {
            let now = self.clock.now_secs();
            let batch = outbox::claim_due(&self.store.pool, now, 20).await?;
            if batch.is_empty() {
                return Ok(report);
            }
            for row in batch {
                let outcome = match self.build(&row) {
                    Ok(message) => self.transport.send(&message).await,
                    Err(e) => Err(e.to_string()),
                };
                let now = self.clock.now_secs();
                match outcome {
                    Ok(()) => {
                        outbox::mark_sent(&self.store.pool, &row.id, now).await?;
                        report.sent += 1;
                        crate::metrics::mail_sent();
                    }
                    Err(error) => {
                        let next = self.next_attempt(row.attempts, now);
                        tracing::warn!(outbox_id = %row.id, attempts = row.attempts, %error, "mail not sent");
                        outbox::mark_failed_attempt(&self.store.pool, &row.id, &error, next)
                            .await?;
                        crate::metrics::mail_failed(next.is_none());
                        if next.is_some() {
                            report.retried += 1;
                        } else {
                            report.given_up += 1;
                        }
                        // One failure usually means the server is down: wait for the next pass.
                        return Ok(report);
                    }
                }
            }
        }
    }

    /// When to try again after `attempts` tries, or `None` to give up.
    fn next_attempt(&self, attempts: i64, now: i64) -> Option<i64> {
        if attempts >= i64::from(self.config.max_attempts) {
            return None;
        }
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(12);
        let delay = (self.config.retry_base_secs.max(1) as i64)
            .saturating_mul(1 << exponent)
            .min(3600);
        Some(now + delay)
    }

    fn build(&self, row: &outbox::OutboxRow) -> Result<Message> {
        let from: Mailbox = self
            .config
            .from
            .parse()
            .map_err(|e| Error::Mail(format!("mail.from: {e}")))?;
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| Error::Mail(format!("recipient: {e}")))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .map_err(|e| Error::Mail(e.to_string()))
    }
}
