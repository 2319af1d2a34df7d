//! Linked accounts (issue 6, "Joindre d'autres comptes"): accounts a person holds in other
//! systems (LDAP directories named in the configuration), proven once with that system's
//! password and then kept in step: a new Sésame password is also set there. Plain data,
//! shared by the server (`server/src/linked/`) and the pages.

use serde::{Deserialize, Serialize};

use super::portal::LocalizedText;

/// A system whose accounts can be linked, as the configuration names it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// The configuration's key (`[linked_systems.<id>]`).
    pub id: String,
    pub name: LocalizedText,
    /// Whether a new Sésame password is also set on the linked account.
    pub push_password: bool,
}

/// One account the person linked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub system_id: String,
    pub system_name: LocalizedText,
    /// The account name in that system, as typed when linking.
    pub account_name: String,
    /// Unix seconds.
    pub linked_at: i64,
    /// When a password was last written there (Unix seconds), and whether it worked.
    pub last_push_at: Option<i64>,
    pub last_push_ok: Option<bool>,
    /// A new password waits to be written there (it failed, it will be retried).
    pub push_pending: bool,
    pub push_password: bool,
}

/// Why a link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkRefusal {
    UnknownSystem,
    /// Empty, too long, or with control characters.
    InvalidAccountName,
    /// That system refused the account name and password (an empty password included).
    WrongCredentials,
    /// That system did not answer in time.
    Unreachable,
    /// Another person already linked this account of that system.
    AlreadyLinkedElsewhere,
    /// Too many wrong passwords lately: try again later.
    TooManyAttempts,
}

/// What became of a new password on one linked account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushOutcome {
    /// Set there too.
    Updated,
    /// Not set yet: Sésame keeps trying for a while.
    WillRetry,
    /// That system does not take passwords from Sésame: change it there.
    NotSupported,
}

/// One linked account's outcome after a password change or reset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushReport {
    pub system_id: String,
    pub system_name: LocalizedText,
    pub outcome: PushOutcome,
}
