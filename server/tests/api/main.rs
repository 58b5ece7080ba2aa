//! End-to-end tests of billfold-server: a real server on 127.0.0.1:0 for
//! each storage backend (SQLite always; PostgreSQL when
//! BILLFOLD_TEST_POSTGRES_URL is set, as `make test` does), driven over
//! HTTP by reqwest (rustls on ring) with requests signed by the protocol
//! crate.

mod common;

mod auth;
mod cards;
mod migrations;
mod openapi;
mod payments;
mod sync;
mod tap;
