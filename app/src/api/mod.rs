//! The contract between browser and server: one module per flow, with its DTOs and its
//! `#[server]` functions. Under `ssr`, each module also declares the trait its server
//! functions delegate to; `server/src/flows/` implements those traits.
//!
//! Every state-changing server function takes a `csrf` argument: a call from script sends
//! only the function's arguments, so the token must be one of them to travel. The HTTP
//! middleware checks it before the function runs (forms carry it via `CsrfField`).

pub mod account;
pub mod activation;
pub mod authenticator;
mod error;
pub mod helpdesk;
pub mod linked;
pub mod methods;
pub mod password;
pub mod portal;
pub mod questions;
pub mod recovery_email;
pub mod signin;
pub mod signup;
pub mod step;
pub mod username;

pub use error::AppError;

#[cfg(feature = "ssr")]
pub mod ssr;
