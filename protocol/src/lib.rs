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

/// Whether a URL's host (as `Url::host_str` gives it, IPv6 in brackets)
/// is this machine: the only place plain HTTP to the bank is allowed.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}
