//! Errors as JavaScript sees them: an `Error` whose `code` is the catalogue code
//! (`docs/ERRORS.md`) and whose `message` is the reason.

use localfirst_core::{Code, ErrorCode};
use napi::bindgen_prelude::JsError;
use napi::Env;

/// The result of every fallible export: the error's status is the catalogue code,
/// which napi puts on the thrown `Error` as `code`.
pub(crate) type Result<T> = napi::Result<T, String>;

/// A core, server or store error as a thrown JavaScript error.
pub(crate) fn coded<E: ErrorCode + std::fmt::Display>(error: E) -> napi::Error<String> {
    with_code(error.code(), error.to_string())
}

/// An error with an explicit catalogue code.
pub(crate) fn with_code(code: Code, reason: impl Into<String>) -> napi::Error<String> {
    napi::Error::new(code.as_str().to_owned(), reason.into())
}

/// A refusal of the caller's argument (`invalid-argument`).
pub(crate) fn invalid_argument(reason: impl Into<String>) -> napi::Error<String> {
    with_code(Code::InvalidArgument, reason)
}

/// A coded error for an export whose error type is napi's own (a promise's
/// rejection, a result made on the JavaScript heap): napi would throw a
/// status-typed error, so the JavaScript `Error` (with its `code`) is made here,
/// on the JavaScript thread, and handed over by reference.
pub(crate) fn thrown(env: &Env, error: napi::Error<String>) -> napi::Error {
    napi::Error::from(JsError::from(error).into_unknown(*env))
}

/// Whole seconds from a JavaScript number: finite, not negative, no fraction, at
/// most 2^53 - 1 (else `invalid-argument`, naming `what`).
pub(crate) fn seconds(value: f64, what: &str) -> Result<u64> {
    let max = localfirst_core::token::MAX_TIMESTAMP;
    // `MAX_TIMESTAMP` is 2^53 - 1, exactly representable as an f64.
    #[allow(clippy::cast_precision_loss)]
    let in_range = value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max as f64;
    if in_range {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(value as u64)
    } else {
        Err(invalid_argument(format!(
            "{what} must be a whole number of seconds from 0 to {max}, got {value}"
        )))
    }
}

/// A Unix time or lifetime as a JavaScript number (exact up to 2^53 - 1; larger
/// values, which verified tokens never carry, saturate).
pub(crate) fn to_js_seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
