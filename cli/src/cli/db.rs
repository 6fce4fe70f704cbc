//! `localfirst db ...` and `localfirst logout`: the local store from the command line.
//!
//! Every `db` command opens a `Db` on `<data-dir>/<app-id>/` as the principal
//! given by `--secret-store file:<dir>` (local-first: the secret stored under
//! `jazz-auth-secret:<app-id>`) or `--jwt <token>` (external; `-` reads it from
//! stdin). With neither, the session is anonymous and can only read.
//! `--policies <file>` enforces a policy set.
//!
//! Writing commands (`insert`, `update`, `delete`) create the identity on first
//! use. Reading commands (`get`, `query`, `outbox`) only load it: with no
//! stored secret they fail with code `absent` (exit 1) instead of minting an
//! identity as a side effect of a read.
//!
//! Rows are printed as JSON objects (`id`, the user's columns, and the system
//! columns `$createdBy`, `$createdAt`, `$updatedBy`, `$updatedAt`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use localfirst_core::db::{
    validate_app_id, AuthConfig, Db, DbConfig, DbDeps, Row, RowValues, StorageMode,
};
use localfirst_core::local_db::{namespace_exists, wipe_namespace, Filter, Query, WipeOutcome};
use localfirst_core::policy::{self, PolicySet};
use localfirst_core::secret_store::{app_secret, FileStoreOptions, SecretPurpose, StorageKey};
use serde_json::Value;

use super::secret::{open_existing_store, open_store, StoreSpec};
use super::{input, read_sensitive, CliError, Report};
use localfirst_core::Code;

/// Where the data lives and who acts on it.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// The data directory (one sub-directory per app id).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The application id (names the storage namespace).
    #[arg(long, allow_hyphen_values = true)]
    pub app_id: String,
    /// Act as the local-first identity kept in this store: `file:<dir>`.
    #[arg(long, conflicts_with = "jwt")]
    pub secret_store: Option<StoreSpec>,
    /// Act as the external user of this JWT (`-` reads it from stdin).
    #[arg(long, allow_hyphen_values = true)]
    pub jwt: Option<String>,
    /// Enforce the policy set in this JSON file.
    #[arg(long)]
    pub policies: Option<PathBuf>,
}

/// `localfirst db ...`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Insert a row.
    Insert {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The table.
        #[arg(long)]
        table: String,
        /// The row's columns as a JSON object.
        #[arg(long, allow_hyphen_values = true)]
        values: String,
        /// The row id (a UUID is generated otherwise).
        #[arg(long, allow_hyphen_values = true)]
        id: Option<String>,
    },
    /// Patch a row: each key of `--values` replaces that column.
    Update {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The table.
        #[arg(long)]
        table: String,
        /// The row id.
        #[arg(long, allow_hyphen_values = true)]
        id: String,
        /// The patch as a JSON object.
        #[arg(long, allow_hyphen_values = true)]
        values: String,
    },
    /// Delete a row.
    Delete {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The table.
        #[arg(long)]
        table: String,
        /// The row id.
        #[arg(long, allow_hyphen_values = true)]
        id: String,
    },
    /// Print one row.
    Get {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The table.
        #[arg(long)]
        table: String,
        /// The row id.
        #[arg(long, allow_hyphen_values = true)]
        id: String,
    },
    /// Print the rows matching a filter.
    Query {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The table.
        #[arg(long)]
        table: String,
        /// A filter as JSON, e.g. '{"done": false, "n": {"gte": 3}}'.
        #[arg(long = "where")]
        filter: Option<String>,
        /// Sort by this column.
        #[arg(long)]
        order_by: Option<String>,
        /// Sort largest first.
        #[arg(long, requires = "order_by")]
        desc: bool,
        /// At most this many rows (0 or more).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_limit)]
        limit: Option<usize>,
    },
    /// Print the acting principal's pending outbox entries, oldest first.
    Outbox {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// At most this many entries (0 or more).
        #[arg(long, default_value_t = 100, allow_hyphen_values = true, value_parser = parse_limit)]
        limit: usize,
    },
    /// Sync the namespace once with a server: push the outbox, pull changes.
    /// Exit 0 when the server acknowledged every pending entry.
    Sync {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// The server: `ws://host:port` (the socket is `/sync/<app-id>`) or a
        /// full sync URL.
        #[arg(long)]
        server_url: String,
    },
}

/// `localfirst logout ...`
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The application id.
    #[arg(long, allow_hyphen_values = true)]
    pub app_id: String,
    /// Delete the app's local database (never the identity secret).
    #[arg(long)]
    pub wipe_data: bool,
}

/// A `--limit`: a whole number, 0 or more. A negative or fractional value is a
/// usage error naming the flag (without `allow_hyphen_values`, `-1` would be
/// taken for an unknown flag).
fn parse_limit(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .map_err(|_| format!("must be a whole number, 0 or more (got {text:?})"))
}

/// Whether a command writes (and may create the identity) or only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The data directory as the `Db` takes it: a UTF-8 path.
fn storage(data_dir: &Path) -> Result<StorageMode, CliError> {
    match data_dir.to_str() {
        Some(dir) => Ok(StorageMode::DataDir(dir.to_owned())),
        None => Err(CliError::new(
            Code::InvalidConfig,
            "--data-dir must be a valid UTF-8 path",
        )),
    }
}

/// Checks the app id with the core's rule (what `Db::open` applies), before any
/// store is touched.
fn check_app_id(app_id: &str) -> Result<(), CliError> {
    validate_app_id(app_id.to_owned()).map_err(|e| CliError::from_error(&e))
}

/// Validates every input first (app id, JWT, policies), then touches the secret
/// store: a rejected command never mints or stores an identity.
fn config(args: &DbArgs, access: Access) -> Result<DbConfig, CliError> {
    check_app_id(&args.app_id)?;
    let mut config = DbConfig::new(
        &args.app_id,
        storage(&args.data_dir)?,
        AuthConfig::Anonymous,
    );
    if let Some(jwt) = &args.jwt {
        let jwt = read_sensitive(jwt, "JWT")?;
        localfirst_core::auth::session_from_jwt(&jwt).map_err(|e| CliError::from_error(&e))?;
        config = config.with_auth(AuthConfig::Jwt(jwt.as_str().to_owned()));
    }
    if let Some(path) = &args.policies {
        let text = input::file_text(path, policy::MAX_FILE_BYTES, "policy file")?;
        let policies = PolicySet::from_json(&text).map_err(|e| CliError::from_error(&e))?;
        config = config.with_policies(policies);
    }
    if let Some(spec) = &args.secret_store {
        let key = StorageKey::for_app(&args.app_id);
        let options = FileStoreOptions::new();
        // A read opens the store only if it exists: it creates no directory.
        let (store, purpose) = match access {
            Access::Write => (
                Some(open_store(spec, key.clone(), options)?),
                SecretPurpose::Write,
            ),
            Access::Read => (
                open_existing_store(spec, key.clone(), options)?,
                SecretPurpose::Read,
            ),
        };
        let secret = match &store {
            Some(store) => {
                app_secret(store.as_ref(), purpose).map_err(|e| CliError::from_error(&e))?
            }
            None => None,
        };
        let secret = secret.ok_or_else(|| {
            CliError::new(
                Code::Absent,
                format!(
                    "no secret is stored under `{key}`; a read never creates an identity (write first, or use `localfirst secret get-or-create`)"
                ),
            )
        })?;
        config = config.with_auth(AuthConfig::LocalFirst(secret));
    }
    Ok(config)
}

fn open(args: &DbArgs, access: Access) -> Result<Db, CliError> {
    Db::open(config(args, access)?, DbDeps::default()).map_err(|e| CliError::from_error(&e))
}

/// Opens the `Db` for a reading command, or `None` when the namespace has no
/// database: a read then creates nothing (no directory, no file) and answers
/// as for an empty database, except `outbox`, which needs the database.
fn open_existing(args: &DbArgs) -> Result<Option<Db>, CliError> {
    let config = config(args, Access::Read)?;
    if !namespace_exists(&args.data_dir, &args.app_id) {
        return Ok(None);
    }
    Db::open(config, DbDeps::default())
        .map(Some)
        .map_err(|e| CliError::from_error(&e))
}

fn no_database(args: &DbArgs) -> CliError {
    CliError::new(
        Code::NotFound,
        format!(
            "no local database for app id {:?} under {}",
            args.app_id,
            args.data_dir.display()
        ),
    )
}

/// Table (and filter) names checked before opening anything.
fn check_table(table: &str) -> Result<(), CliError> {
    Query::table(table)
        .validate()
        .map_err(|e| CliError::from_error(&e))
}

/// Parses a JSON argument; a key given twice (at any depth) is refused, never
/// "last wins".
fn parse_json(text: &str, what: &str) -> Result<Value, CliError> {
    localfirst_core::json::parse_unique(text)
        .map_err(|e| CliError::new(Code::InvalidJson, format!("{what} is not valid JSON: {e}")))
}

fn parse_object(text: &str, what: &str) -> Result<RowValues, CliError> {
    match parse_json(text, what)? {
        object @ Value::Object(_) => {
            RowValues::from_json_value(object).map_err(|e| CliError::from_error(&e))
        }
        _ => Err(CliError::new(
            Code::InvalidJson,
            format!("{what} must be a JSON object"),
        )),
    }
}

fn rows_report(rows: Vec<Row>) -> Report {
    let count = rows.len();
    Report::new().field("count", count).field(
        "rows",
        Value::Array(rows.iter().map(Row::to_json_value).collect()),
    )
}

/// Runs a `db` command.
pub fn run_db(command: &DbCommand) -> Result<Report, CliError> {
    let fail = |e: localfirst_core::db::DbError| CliError::from_error(&e);
    match command {
        DbCommand::Insert {
            db,
            table,
            values,
            id,
        } => {
            let mut values = parse_object(values, "--values")?;
            if let Some(id) = id {
                values = values.set("id", id.clone());
            }
            check_table(table)?;
            values
                .validate_for_insert()
                .map_err(|e| CliError::from_error(&e))?;
            let db = open(db, Access::Write)?;
            let row = db.insert(table, values).map_err(fail)?;
            Ok(Report::new()
                .field("user_id", db.user_id())
                .field("row", row.to_json_value()))
        }
        DbCommand::Update {
            db,
            table,
            id,
            values,
        } => {
            let patch = parse_object(values, "--values")?;
            check_table(table)?;
            patch
                .validate_for_update(id)
                .map_err(|e| CliError::from_error(&e))?;
            let db = open(db, Access::Write)?;
            let row = db.update(table, id, patch).map_err(fail)?;
            Ok(Report::new()
                .field("user_id", db.user_id())
                .field("row", row.to_json_value()))
        }
        DbCommand::Delete { db, table, id } => {
            check_table(table)?;
            let db = open(db, Access::Write)?;
            let row = db.delete(table, id).map_err(fail)?;
            Ok(Report::new()
                .field("deleted", true)
                .field("row", row.to_json_value()))
        }
        DbCommand::Get { db, table, id } => {
            check_table(table)?;
            let found = match open_existing(db)? {
                Some(db) => db.get(table, id).map_err(fail)?,
                None => None,
            };
            match found {
                Some(row) => Ok(Report::new().field("row", row.to_json_value())),
                None => Err(CliError::new(
                    Code::NotFound,
                    format!("no row {id:?} in table {table:?}"),
                )),
            }
        }
        DbCommand::Query {
            db,
            table,
            filter,
            order_by,
            desc,
            limit,
        } => {
            let filter = match filter {
                Some(text) => Filter::from_json(&parse_json(text, "--where")?)
                    .map_err(|e| CliError::from_error(&e))?,
                None => Filter::all(),
            };
            let mut query = Query::table(table).filter(filter);
            if let Some(column) = order_by {
                query = query.order_by(column, *desc);
            }
            if let Some(limit) = limit {
                query = query.limit(*limit);
            }
            query.validate().map_err(|e| CliError::from_error(&e))?;
            match open_existing(db)? {
                Some(db) => Ok(rows_report(db.query(&query).map_err(fail)?)),
                None => Ok(rows_report(Vec::new())),
            }
        }
        DbCommand::Sync {
            db: args,
            server_url,
        } => sync(args, server_url),
        DbCommand::Outbox { db: args, limit } => {
            let db = open_existing(args)?.ok_or_else(|| no_database(args))?;
            let entries = db
                .pending_outbox(u32::try_from(*limit).unwrap_or(u32::MAX))
                .map_err(fail)?;
            let entries = serde_json::to_value(&entries)
                .map_err(|e| CliError::new(Code::Internal, e.to_string()))?;
            let count = entries.as_array().map_or(0, Vec::len);
            Ok(Report::new()
                .field("user_id", db.user_id())
                .field("count", count)
                .field("entries", entries))
        }
    }
}

/// `db sync`: one `Db::sync_once` on a small runtime.
fn sync(args: &DbArgs, server_url: &str) -> Result<Report, CliError> {
    let fail = |e: localfirst_core::db::DbError| CliError::from_error(&e);
    let config = config(args, Access::Read)?.with_server_url(server_url);
    let db = Db::open(config, DbDeps::default()).map_err(fail)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Code::RuntimeUnavailable, e.to_string()))?;
    let report = runtime.block_on(db.sync_once()).map_err(fail)?;
    let pending = db.pending_outbox(1).map_err(fail)?.len();
    if report.rejected > 0 {
        return Err(CliError::new(
            Code::SyncRejected,
            format!(
                "the server refused {} entries (dropped from the outbox)",
                report.rejected
            ),
        ));
    }
    if pending > 0 {
        return Err(CliError::new(
            Code::SyncIncomplete,
            "entries are still pending after the sync",
        ));
    }
    Ok(Report::new()
        .field("user_id", db.user_id())
        .field("pushed", report.pushed)
        .field("acknowledged", report.acknowledged)
        .field("rejected", report.rejected)
        .field("pulled", report.pulled)
        .field("cursor", report.cursor))
}

/// Runs `logout`: with `--wipe-data` deletes the app's local database files
/// (the identity secret is never touched).
pub fn run_logout(args: &LogoutArgs) -> Result<Report, CliError> {
    if !args.wipe_data {
        // No live session to end in a one-shot command; nothing on disk changes.
        return Ok(Report::new()
            .field("logged_out", true)
            .field("wiped", false));
    }
    check_app_id(&args.app_id)?;
    // Works on a database that will not open, and creates nothing when there is none.
    let outcome =
        wipe_namespace(&args.data_dir, &args.app_id).map_err(|e| CliError::from_error(&e))?;
    Ok(Report::new()
        .field("logged_out", true)
        .field("wiped", outcome == WipeOutcome::Wiped))
}
