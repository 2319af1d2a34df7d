//! One module per page or flow; a flow's module routes its steps.

pub mod account;
pub mod activate;
pub mod forgot_username;
pub mod home;
pub mod not_found;
pub mod signin;
