//! One module per page or flow; a flow's module routes its steps.

pub mod account;
pub mod account_authenticator;
pub mod account_email;
pub mod account_linked;
pub mod account_password;
pub mod account_questions;
pub mod account_sessions;
pub mod activate;
pub mod forgot_password;
pub mod forgot_username;
pub mod helpdesk;
pub mod home;
pub mod not_found;
pub mod signin;
pub mod signin_terms;
pub mod signup;
