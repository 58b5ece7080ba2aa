//! Billfold's reference bank server, as a library (the binary is a thin
//! command line over [`app::start`]; tests and benchmarks start it in
//! process on loopback).
//!
//! It enrolls devices and terminals by Ed25519 key, checks every request's
//! signature, timestamp and nonce, provisions card tokens and single-use
//! key batches, pays QR codes idempotently, authorises taps (ARQC, replay,
//! freeze, limits; answering with an ARPC), and serves the sync endpoint.
//! Storage is SQLite by default and PostgreSQL on request, behind one
//! trait ([`store`]).

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cards;
pub mod clock;
pub mod config;
pub mod enroll;
pub mod error;
pub mod ids;
pub mod money;
pub mod ops;
pub mod payments;
pub mod provision;
pub mod records;
pub mod repo;
pub mod routes;
pub mod store;
pub mod sync;
pub mod tap;

pub use app::{start, AppState, Server, StartError};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, Storage};
