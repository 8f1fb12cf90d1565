//! `uniffi-bindgen`: run in library mode on the built `libitinera` to generate the Kotlin,
//! Swift and Python bindings:
//!
//! ```sh
//! cargo build -p itinera-bindings
//! cargo run -p uniffi-bindgen -- generate --library target/debug/libitinera.so \
//!     --language kotlin --language python --language swift --out-dir target/bindings
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}
