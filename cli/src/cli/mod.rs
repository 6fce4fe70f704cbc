//! Command-line parsing, output formatting and exit codes.
//!
//! Each command group lives in its own module and returns a [`Report`] (fields
//! to print) or a [`CliError`] (a rejected input with a stable code).

use std::ffi::OsString;

use clap::{Parser, Subcommand};
use localfirst_core::{Code, ErrorCode};
use serde_json::Value;
use zeroize::Zeroizing;

use output::{human_lines, json_object_line, write_line};

pub mod db;
pub mod demo;
pub mod identity;
pub mod input;
pub mod output;
pub mod secret;
pub mod server;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a rejected input (bad secret, invalid token, ...).
pub const EXIT_REJECTED: i32 = 1;
/// Exit code for a usage error (unknown flag, missing argument).
pub const EXIT_USAGE: i32 = 2;

/// Local-first identity and client auth from the command line.
#[derive(Debug, Parser)]
#[command(name = "localfirst", version, about, propagate_version = true)]
pub struct Cli {
    /// Print one JSON object on stdout instead of human text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or inspect identities.
    #[command(subcommand)]
    Identity(identity::IdentityCommand),
    /// Mint or verify self-signed tokens.
    #[command(subcommand)]
    Token(identity::TokenCommand),
    /// Encode or decode 24-word recovery phrases.
    #[command(subcommand)]
    Phrase(identity::PhraseCommand),
    /// Keep an identity secret in a store: get-or-create, load, save, clear.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Insert, update, delete, get and query rows of an app's local database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// End a session; with --wipe-data delete the app's local database (never the secret).
    Logout(db::LogoutArgs),
    /// Run the sync server until SIGTERM or Ctrl-C.
    Server(server::ServerArgs),
    /// Walk through the whole lifecycle against an embedded server and identity provider.
    Demo,
}

/// A rejected input: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    /// Stable code from the catalogue, e.g. [`Code::SecretInvalidLength`] or
    /// [`Code::Expired`] (see `docs/ERRORS.md`).
    pub code: Code,
    /// Human-readable explanation.
    pub message: String,
    /// Extra fields printed first with `--json` (e.g. `ok`, `id` for `token verify`).
    pub fields: Vec<(String, Value)>,
}

impl CliError {
    /// Wraps any core error carrying a stable code.
    pub fn from_error<E: ErrorCode + std::fmt::Display>(error: &E) -> CliError {
        CliError::new(error.code(), error.to_string())
    }

    /// A rejection with an explicit code and message.
    pub fn new(code: Code, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds (or replaces) an extra field printed with `--json`.
    pub fn with_field(mut self, name: &str, value: impl Into<Value>) -> CliError {
        set_field(&mut self.fields, name, value.into());
        self
    }

    /// The fields printed with `--json`: the extra fields (`ok` is `false` unless
    /// given), then `error` and `code`.
    pub fn json_fields(&self) -> Vec<(String, Value)> {
        let mut fields = self.fields.clone();
        if !fields.iter().any(|(name, _)| name == "ok") {
            fields.insert(0, ("ok".to_owned(), Value::Bool(false)));
        }
        set_field(&mut fields, "error", Value::String(self.message.clone()));
        set_field(
            &mut fields,
            "code",
            Value::String(self.code.as_str().to_owned()),
        );
        fields
    }
}

fn set_field(fields: &mut Vec<(String, Value)>, name: &str, value: Value) {
    match fields.iter_mut().find(|(existing, _)| existing == name) {
        Some(slot) => slot.1 = value,
        None => fields.push((name.to_owned(), value)),
    }
}

/// What a successful command prints: fields in print order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    /// Fields in print order.
    pub fields: Vec<(String, Value)>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report::default()
    }

    /// Adds a field (or replaces the value of one already added, keeping its place).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Report {
        set_field(&mut self.fields, name, value.into());
        self
    }
}

/// Reads a sensitive argument: the value itself, or the first line of stdin
/// (bounded, trimmed) when it is `-`.
pub fn read_sensitive(value: &str, what: &str) -> Result<Zeroizing<String>, CliError> {
    if value != "-" {
        return Ok(Zeroizing::new(value.to_owned()));
    }
    input::stdin_line(what)
}

/// Whether `args` ask for JSON output, looked up before parsing so that a usage
/// error can be reported in the promised shape too.
fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| arg.as_os_str() != "--")
        .any(|arg| arg.as_os_str() == "--json")
}

/// Parses `args`, runs the command and prints the outcome. Returns the exit code.
///
/// Every write is checked: if stdout (or stderr, for human error text) cannot be
/// written or flushed, the exit code is [`EXIT_REJECTED`] and the failure is reported
/// on stderr (best effort) with code `output`, since the command's output (perhaps
/// the only copy of a new secret) was lost.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let json = wants_json(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            if !error.use_stderr() {
                // --help, --version: printed to stdout.
                let text = error.render().to_string();
                return finish(
                    write_line(&mut std::io::stdout().lock(), text.trim_end()),
                    EXIT_OK,
                );
            }
            if json {
                let rejected = CliError::new(Code::Usage, error.render().to_string().trim_end());
                let line = json_object_line(&rejected.json_fields());
                return finish(write_line(&mut std::io::stdout().lock(), &line), EXIT_USAGE);
            }
            let text = error.render().to_string();
            return finish(
                write_line(&mut std::io::stderr().lock(), text.trim_end()),
                EXIT_USAGE,
            );
        }
    };
    let outcome = match &cli.command {
        Command::Identity(command) => identity::run_identity(command),
        Command::Token(command) => identity::run_token(command),
        Command::Phrase(command) => identity::run_phrase(command),
        Command::Secret(command) => secret::run_secret(command),
        Command::Db(command) => db::run_db(command),
        Command::Logout(args) => db::run_logout(args),
        Command::Server(args) => server::run_server(args, cli.json),
        Command::Demo => demo::run_demo(cli.json),
    };
    match outcome {
        Ok(report) => {
            let text = if cli.json {
                json_object_line(&report.fields)
            } else {
                human_lines(&report.fields)
            };
            finish(write_line(&mut std::io::stdout().lock(), &text), EXIT_OK)
        }
        Err(error) => {
            let written = if cli.json {
                let line = json_object_line(&error.json_fields());
                write_line(&mut std::io::stdout().lock(), &line)
            } else {
                let line = format!("error [{}]: {}", error.code, error.message);
                write_line(&mut std::io::stderr().lock(), &line)
            };
            finish(written, EXIT_REJECTED)
        }
    }
}

/// `code` when the output was written; otherwise [`EXIT_REJECTED`] after telling
/// stderr (if it still can) that the output was lost.
fn finish(written: std::io::Result<()>, code: i32) -> i32 {
    match written {
        Ok(()) => code,
        Err(error) => {
            let _ = write_line(
                &mut std::io::stderr().lock(),
                &format!("error [{OUTPUT_ERROR_CODE}]: could not write the output: {error}"),
            );
            EXIT_REJECTED
        }
    }
}

/// The code reported when the output could not be written.
pub const OUTPUT_ERROR_CODE: Code = Code::Output;
