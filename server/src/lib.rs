//! Sésame's server: configuration, store, flows' logic, mail, crypto, HTTP and CLI.
//! `main.rs` is only the entry point; everything lives here so tests can reach it.

pub mod bot_check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod crypto;
pub mod demo;
pub mod error;
pub mod flows;
pub mod http;
pub mod import;
pub mod invitations;
pub mod letters;
pub mod linked;
pub mod mail;
pub mod maintenance;
pub mod metrics;
pub mod people;
pub mod state;
pub mod store;
