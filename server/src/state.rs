//! The server's shared parts, built once at start-up and cloned into every request.

use std::sync::Arc;

use crate::{
    clock::Clock,
    config::Config,
    crypto::{passwords::PasswordHasher, tokens::ServerKey},
    mail::Outbox,
    store::Store,
};

#[derive(Clone)]
pub struct Sesame {
    pub config: Arc<Config>,
    pub store: Store,
    pub hasher: PasswordHasher,
    pub key: ServerKey,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    /// Demo mode: demo data, and the `/dev/mailbox` page.
    pub demo: bool,
}

impl Sesame {
    /// Connects to the database (migrating it), loads the key and prepares the hasher.
    pub async fn start(
        config: Config,
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> crate::error::Result<Sesame> {
        let store = Store::connect(&config.database.url, config.database.max_connections).await?;
        let key = ServerKey::load_or_create(&config.secret_key_file)?;
        let hasher = PasswordHasher::new(&config.hashing)?;
        let outbox = Outbox::new(config.public_base());
        Ok(Sesame {
            config: Arc::new(config),
            store,
            hasher,
            key,
            outbox,
            clock,
            demo,
        })
    }
}
