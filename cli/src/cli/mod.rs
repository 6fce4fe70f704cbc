//! Command-line parsing, output formatting and exit codes.
//!
//! Each command group lives in its own module and returns a [`Report`] (fields
//! to print) or a [`CliError`] (a rejected input with a stable code).

use std::ffi::OsString;
use std::io::{BufRead as _, Write as _};

use clap::{Parser, Subcommand};
use localfirst_core::{Code, ErrorCode};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

pub mod db;
pub mod identity;
pub mod secret;

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
}

/// A rejected input: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Stable code from the catalogue, e.g. [`Code::SecretInvalidLength`] or
    /// [`Code::Expired`] (see `docs/ERRORS.md`).
    pub code: Code,
    /// Human-readable explanation.
    pub message: String,
    /// Extra fields printed with `--json` (e.g. `ok`, `id` for `token verify`).
    pub fields: Map<String, Value>,
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
            fields: Map::new(),
        }
    }
}

impl ErrorCode for CliError {
    fn code(&self) -> Code {
        self.code
    }
}

/// What a successful command prints: ordered fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    /// Fields in print order.
    pub fields: Map<String, Value>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report::default()
    }

    /// Adds a field.
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Report {
        self.fields.insert(name.to_owned(), value.into());
        self
    }
}

/// Reads a sensitive argument: the value itself, or one line of stdin when it is `-`.
pub fn read_sensitive(value: &str, what: &str) -> Result<Zeroizing<String>, CliError> {
    if value != "-" {
        return Ok(Zeroizing::new(value.to_owned()));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::new(
            Code::Stdin,
            format!("could not read the {what} from stdin: {e}"),
        )
    })?;
    let trimmed = Zeroizing::new(line.trim().to_owned());
    if trimmed.is_empty() {
        return Err(CliError::new(Code::Stdin, format!("no {what} on stdin")));
    }
    Ok(trimmed)
}

fn human_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn print_fields(out: &mut dyn std::io::Write, fields: &Map<String, Value>) {
    let width = fields.keys().map(String::len).max().unwrap_or(0);
    for (name, value) in fields {
        let _ = writeln!(out, "{name:width$}  {}", human_value(value));
    }
}

/// Parses `args`, runs the command and prints the outcome. Returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
            let _ = error.print();
            return code;
        }
    };
    let outcome = match &cli.command {
        Command::Identity(command) => identity::run_identity(command),
        Command::Token(command) => identity::run_token(command),
        Command::Phrase(command) => identity::run_phrase(command),
        Command::Secret(command) => secret::run_secret(command),
        Command::Db(command) => db::run_db(command),
        Command::Logout(args) => db::run_logout(args),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match outcome {
        Ok(report) => {
            if cli.json {
                let _ = writeln!(out, "{}", Value::Object(report.fields));
            } else {
                print_fields(&mut out, &report.fields);
            }
            EXIT_OK
        }
        Err(error) => {
            if cli.json {
                let mut fields = error.fields;
                fields.entry("ok").or_insert(Value::Bool(false));
                fields.insert("error".into(), Value::String(error.message));
                fields.insert("code".into(), Value::String(error.code.as_str().into()));
                let _ = writeln!(out, "{}", Value::Object(fields));
            } else {
                let _ = writeln!(
                    std::io::stderr(),
                    "error [{}]: {}",
                    error.code,
                    error.message
                );
            }
            EXIT_REJECTED
        }
    }
}
