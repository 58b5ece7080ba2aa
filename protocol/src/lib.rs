//! The Billfold bank API on the wire, shared by `billfold-server` and the
//! wallet's sync client: the JSON request and response types ([`api`]), the
//! hybrid logical clock stamps that order user edits ([`hlc`]), and the
//! Ed25519 request-signing scheme ([`signing`]).
//!
//! Pure: no I/O, no clock, no randomness except what is passed in.

#![forbid(unsafe_code)]

pub mod api;
pub mod hlc;
pub mod signing;

pub use api::*;
pub use hlc::Hlc;
