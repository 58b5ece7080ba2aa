//! The library the apps load, and nothing else: it links `billfold-ffi`
//! (the uniffi crate) into the `cdylib` and `staticlib` the apps ship.
//!
//! A package of its own because cargo skips LTO for a package whose crate
//! types include a plain `lib` (which billfold-ffi needs for its Rust tests
//! and the bindings generator), and because under fat LTO this crate's
//! `opt-level` sets the final pipeline: 3 here, so the camera path's loops
//! are vectorised, while every function keeps its own crate's size
//! settings (root Cargo.toml, `[profile.release-size.package.*]`).

pub use billfold_ffi::*;
