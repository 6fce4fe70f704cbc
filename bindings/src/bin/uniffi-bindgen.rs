//! The workspace's `uniffi-bindgen`: generates Kotlin and Swift sources from the
//! built `localfirst_ffi` library (see `scripts/gen-bindings.sh`). Built from the
//! same pinned UniFFI version as the library, as UniFFI requires.

fn main() {
    uniffi::uniffi_bindgen_main()
}
