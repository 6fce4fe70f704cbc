//! Errors as JavaScript sees them: one shape for every thrown error, an `Error` whose
//! `code` is the catalogue code (`docs/ERRORS.md`), whose `message` is the reason, and
//! which has `details` (`{ kind, ... }`) when the core's error carries typed details.
//!
//! Inside the addon a failure is a [`Failure`]: the core's report of any core or
//! server error (`ErrorCode::report`), or a refused argument. Exports throw it from
//! their `env` ([`OrThrow::or_throw`]); nothing here looks inside a module's error.

use localfirst_core::error::{ErrorCode, ErrorReport};
use localfirst_core::Code;
use napi::bindgen_prelude::{JsError, JsObjectValue as _};
use napi::{Env, JsValue as _};

/// Why an export failed, before it is thrown: code, reason and details.
#[derive(Debug)]
pub(crate) struct Failure(ErrorReport);

/// Every core and server error becomes a failure through its report.
impl<E: ErrorCode + std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure(error.report())
    }
}

/// The result of the addon's own steps (argument checks, core calls).
pub(crate) type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// The code, reason and details.
    pub(crate) fn into_report(self) -> ErrorReport {
        self.0
    }

    /// The JavaScript `Error` to throw: `code`, `message` and, when the core has them,
    /// `details` (the core's `ErrorDetails` as JSON: `{ kind: 'invalidWord', position,
    /// word }`, ...). Made on the JavaScript thread, from `env`.
    pub(crate) fn thrown(self, env: &Env) -> napi::Error {
        let Failure(report) = self;
        let error = napi::Error::new(report.code.as_str().to_owned(), report.reason);
        let thrown = JsError::from(error).into_unknown(*env);
        if let Some(details) = report.details {
            if let (Ok(mut object), Ok(value)) =
                (thrown.coerce_to_object(), env.to_js_value(&details))
            {
                // Setting a property on an error just made cannot fail in practice; if it
                // did, the error still has its code and message.
                let _ = object.set_named_property("details", value);
            }
        }
        napi::Error::from(thrown)
    }
}

/// Throws a step's failure from `env`: the one way an export fails.
pub(crate) trait OrThrow<T> {
    /// The value, or the failure as the JavaScript error to throw.
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T, E: Into<Failure>> OrThrow<T> for std::result::Result<T, E> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|error| error.into().thrown(env))
    }
}

/// A failure with an explicit catalogue code.
pub(crate) fn with_code(code: Code, reason: impl Into<String>) -> Failure {
    Failure(ErrorReport::new(code, reason))
}

/// A refusal of the caller's argument (`invalid-argument`).
pub(crate) fn invalid_argument(reason: impl Into<String>) -> Failure {
    with_code(Code::InvalidArgument, reason)
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
