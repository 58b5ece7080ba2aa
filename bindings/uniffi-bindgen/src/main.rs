//! The `uniffi-bindgen` command for this workspace.
//!
//! It lives here rather than being installed globally so that the generator
//! is always exactly the uniffi version the library was built with: a
//! mismatch produces bindings that refuse to load at run time.

fn main() {
    uniffi::uniffi_bindgen_main()
}
