//! `localfirst demo`: the whole lifecycle against an embedded sync server and
//! an embedded identity provider, each step printed and checked.
//!
//! Everything runs in this process on loopback: the sync server
//! ([`localfirst_server::serve`], SQLite in a temp dir), the identity provider
//! ([`localfirst_provider`], with its per-user vault), and three
//! "devices" (three data dirs, three file secret stores). One [`FixedClock`] is shared by all of them so the demo
//! can expire a token without waiting. The steps are in `lifecycle.rs`; what each
//! shows is in `docs/DEMO.md`.

use std::io::Write as _;
use std::sync::Arc;

use localfirst_core::clock::{Clock, FixedClock, SystemClock};
use localfirst_core::db::Db;
use localfirst_core::Code;
use serde_json::{json, Value};

use super::{CliError, Report};

mod lifecycle;

/// The app id the demo's devices and server use.
pub const DEMO_APP_ID: &str = "localfirst-demo";

/// The audience identity proofs are minted for (the provider's).
pub const DEMO_PROVIDER_AUDIENCE: &str = "demo-provider";

/// The code of a failed demo check.
pub const DEMO_FAILED_CODE: Code = Code::DemoCheckFailed;

/// Runs the demo; `json` prints one JSON object per event instead of text.
/// Succeeds only when every check passed.
pub fn run_demo(json: bool) -> Result<Report, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Code::RuntimeUnavailable, e.to_string()))?;
    let clock = Arc::new(FixedClock::new(SystemClock.now_unix()));
    let mut demo = Demo::new(json);
    let outcome = runtime.block_on(lifecycle::run(&mut demo, clock, runtime.handle().clone()));
    // Drop the runtime without waiting on background tasks of the embedded servers.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => Ok(Report::new()
            .field("ok", true)
            .field("steps", demo.step)
            .field("checks", demo.checks)),
        Err(failed) => Err(CliError::new(DEMO_FAILED_CODE, failed.to_string())
            .with_field("step", failed.step)
            .with_field("checks", demo.checks)),
    }
}

/// A check that did not hold (or a step that could not run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The step number.
    pub step: usize,
    /// The step title.
    pub title: String,
    /// What failed.
    pub what: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {} ({}): {}", self.step, self.title, self.what)
    }
}

/// Prints the steps and counts checks.
struct Demo {
    json: bool,
    step: usize,
    title: String,
    checks: usize,
}

impl Demo {
    fn new(json: bool) -> Demo {
        Demo {
            json,
            step: 0,
            title: String::new(),
            checks: 0,
        }
    }

    fn emit(&self, text: &str, event: Value) {
        let mut out = std::io::stdout().lock();
        let _ = if self.json {
            writeln!(out, "{event}")
        } else {
            writeln!(out, "{text}")
        };
        let _ = out.flush();
    }

    /// Starts step `n + 1`.
    fn step(&mut self, title: &str) {
        self.step += 1;
        self.title = title.to_owned();
        let text = format!("\n{}. {title}", self.step);
        self.emit(&text, json!({"step": self.step, "title": title}));
    }

    /// Prints a named value of the current step.
    fn detail(&self, name: &str, value: impl Into<Value>) {
        let value = value.into();
        let shown = match &value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        self.emit(
            &format!("   {name}: {shown}"),
            json!({"step": self.step, "detail": name, "value": value}),
        );
    }

    /// Prints a note (no check).
    fn note(&self, text: &str) {
        self.emit(
            &format!("   {text}"),
            json!({"step": self.step, "note": text}),
        );
    }

    /// Prints the `Db`'s auth state (`getAuthState()`).
    fn auth_state(&self, db: &Db) {
        let state = db.get_auth_state();
        let value = json!({
            "authMode": state.auth_mode.as_str(),
            "userId": state.session.as_ref().map(|s| s.user_id.clone()),
            "error": state.error.map(|e| e.as_str()),
        });
        self.detail("getAuthState()", value);
    }

    /// Records a check: `Ok` when it holds, else the failure of this step.
    fn check(&mut self, what: &str, holds: bool) -> Result<(), Failed> {
        let mark = if holds { "[ok]" } else { "[FAILED]" };
        self.emit(
            &format!("   {mark} {what}"),
            json!({"step": self.step, "check": what, "ok": holds}),
        );
        if holds {
            self.checks += 1;
            Ok(())
        } else {
            Err(self.failed(what))
        }
    }

    /// The value of `result`, or the failure of this step (`what: error`).
    fn ok<T, E: std::fmt::Display>(
        &mut self,
        what: &str,
        result: Result<T, E>,
    ) -> Result<T, Failed> {
        result.map_err(|error| {
            let what = format!("{what}: {error}");
            self.emit(
                &format!("   [FAILED] {what}"),
                json!({"step": self.step, "check": what, "ok": false}),
            );
            self.failed(&what)
        })
    }

    fn failed(&self, what: &str) -> Failed {
        Failed {
            step: self.step,
            title: self.title.clone(),
            what: what.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_that_does_not_hold_names_its_step() {
        let mut demo = Demo::new(true);
        demo.step("first");
        assert!(demo.check("holds", true).is_ok());
        demo.step("second");
        let failed = demo.check("two rows", false).unwrap_err();
        assert_eq!(failed.step, 2);
        assert_eq!(failed.to_string(), "step 2 (second): two rows");
        assert_eq!(demo.checks, 1);
        let error = demo.ok::<(), _>("open", Err("disk full")).unwrap_err();
        assert_eq!(error.what, "open: disk full");
    }
}
