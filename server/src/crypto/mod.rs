//! Secrets: password hashing (argon2id, bounded), random tokens and keyed hashes.

pub mod passwords;
pub mod tokens;
