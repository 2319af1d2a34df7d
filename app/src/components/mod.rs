//! Building blocks every page uses, so accessibility is done once.

pub mod bot_check;
pub mod client;
pub mod error_summary;
pub mod form;
pub mod identity_fields;
pub mod language_switch;
pub mod layout;
pub mod password_checklist;
pub mod portal;
pub mod push_reports;
