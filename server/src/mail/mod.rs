//! Mail (DESIGN §5): messages are rendered in the person's language, written to the
//! outbox in the caller's transaction, and sent later by the worker through a transport
//! (`.eml` files or SMTP). A request never waits for SMTP.

pub mod templates;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use sqlx::{Any, Executor};
use tokio::sync::Notify;

use crate::{
    error::Result,
    store::outbox::{self, NewMail},
};

/// A message ready to queue: both parts already in the recipient's language.
#[derive(Clone)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues mail and wakes the worker.
#[derive(Clone, Debug)]
pub struct Outbox {
    wake: Arc<Notify>,
    /// Domain of generated Message-IDs (from the public URL). Shared: the server's state
    /// is cloned into every request.
    domain: Arc<str>,
}

impl Outbox {
    pub fn new(public_base: &str) -> Outbox {
        let domain = public_base
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|d| !d.is_empty())
            .unwrap_or("sesame.invalid")
            .into();
        Outbox {
            wake: Arc::new(Notify::new()),
            domain,
        }
    }

    /// Writes the message to the outbox within the caller's transaction (or connection).
    /// Call [`Outbox::wake`] after the transaction commits.
    pub async fn enqueue<'e>(
        &self,
        db: impl Executor<'e, Database = Any>,
        recipient: &str,
        mail: &RenderedMail,
        now: i64,
    ) -> Result<String> {
        // The queue time first (wall clock, zero-padded): the file transport names files
        // after the id, so they sort in the order the mail was queued.
        let message_id = format!(
            "<{:016}.{}@{}>",
            jiff::Timestamp::now().as_millisecond(),
            crate::crypto::tokens::random_hex(16),
            self.domain
        );
        outbox::enqueue(
            db,
            &NewMail {
                recipient,
                subject: &mail.subject,
                text_body: &mail.text,
                html_body: &mail.html,
            },
            &message_id,
            now,
        )
        .await
    }

    /// Tells the worker there is something to send now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn notified(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
