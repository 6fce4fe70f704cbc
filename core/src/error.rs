//! Stable machine-readable error codes shared by every module.
//!
//! Each module has its own error enum; all of them implement [`ErrorCode`], whose
//! codes are part of the public contract (the CLI prints them, the bindings pass
//! them to Swift, Kotlin and TypeScript). A code never changes meaning once shipped.

/// A stable, kebab-case code identifying an error variant.
pub trait ErrorCode {
    /// The machine-readable code, e.g. `"expired"` or `"invalid-checksum"`.
    fn code(&self) -> &'static str;
}
