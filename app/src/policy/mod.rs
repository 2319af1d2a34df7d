//! Pure rules shared by the browser (live feedback) and the server (the authority).
//! They return typed violations, never prose: pages translate them.

pub mod answers;
pub mod email;
pub mod login;
pub mod names;
pub mod password;

pub use password::{PasswordPolicy, PasswordRule, RuleStatus};
