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

use std::path::PathBuf;

use clap::{Args, Subcommand};
use localfirst_core::db::{Db, DbConfig, DbDeps, StorageMode};
use localfirst_core::local_db::{Filter, Query, Row};
use localfirst_core::policy::PolicySet;
use localfirst_core::secret_store::{
    AuthSecretStore as _, AuthSecretStoreExt as _, FileStore, StorageKey,
};
use localfirst_core::Code;
use serde_json::Value;

use super::secret::StoreSpec;
use super::{read_sensitive, CliError, Report};

/// Where the data lives and who acts on it.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// The data directory (one sub-directory per app id).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The application id (names the storage namespace).
    #[arg(long)]
    pub app_id: String,
    /// Act as the local-first identity kept in this store: `file:<dir>`.
    #[arg(long, conflicts_with = "jwt")]
    pub secret_store: Option<StoreSpec>,
    /// Act as the external user of this JWT (`-` reads it from stdin).
    #[arg(long)]
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
        #[arg(long)]
        values: String,
        /// The row id (a UUID is generated otherwise).
        #[arg(long)]
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
        #[arg(long)]
        id: String,
        /// The patch as a JSON object.
        #[arg(long)]
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
        #[arg(long)]
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
        #[arg(long)]
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
        /// At most this many rows.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print the acting principal's pending outbox entries, oldest first.
    Outbox {
        /// Where and as whom.
        #[command(flatten)]
        db: DbArgs,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// `localfirst logout ...`
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// The data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The application id.
    #[arg(long)]
    pub app_id: String,
    /// Delete the app's local database (never the identity secret).
    #[arg(long)]
    pub wipe_data: bool,
}

/// Whether a command writes (and may create the identity) or only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

fn open(args: &DbArgs, access: Access) -> Result<Db, CliError> {
    let mut config = DbConfig::new(&args.app_id, StorageMode::DataDir(args.data_dir.clone()));
    if let Some(StoreSpec::File(dir)) = &args.secret_store {
        let store = FileStore::open(dir, StorageKey::for_app(&args.app_id))
            .map_err(|e| CliError::from_error(&e))?;
        let secret = match access {
            Access::Write => store
                .get_or_create_secret()
                .map_err(|e| CliError::from_error(&e))?,
            Access::Read => store
                .load_secret()
                .map_err(|e| CliError::from_error(&e))?
                .ok_or_else(|| {
                    CliError::new(
                        Code::Absent,
                        format!(
                            "no secret is stored under `{}`; a read never creates an identity (write first, or use `localfirst secret get-or-create`)",
                            store.storage_key()
                        ),
                    )
                })?,
        };
        config = config.with_secret(secret);
    }
    if let Some(jwt) = &args.jwt {
        let jwt = read_sensitive(jwt, "JWT")?;
        config = config.with_jwt_token(jwt.as_str());
    }
    if let Some(path) = &args.policies {
        let policies = PolicySet::from_file(path).map_err(|e| CliError::from_error(&e))?;
        config = config.with_policies(policies);
    }
    Db::open(config, DbDeps::default()).map_err(|e| CliError::from_error(&e))
}

fn parse_object(text: &str, what: &str) -> Result<Row, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(CliError::new(
            Code::InvalidJson,
            format!("{what} must be a JSON object"),
        )),
        Err(e) => Err(CliError::new(
            Code::InvalidJson,
            format!("{what} is not valid JSON: {e}"),
        )),
    }
}

fn rows_report(rows: Vec<Row>) -> Report {
    let count = rows.len();
    Report::new().field("count", count).field(
        "rows",
        Value::Array(rows.into_iter().map(Value::Object).collect()),
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
                values.insert("id".into(), Value::String(id.clone()));
            }
            let db = open(db, Access::Write)?;
            let row = db.insert(table, values).map_err(fail)?;
            Ok(Report::new()
                .field("user_id", db.user_id())
                .field("row", Value::Object(row)))
        }
        DbCommand::Update {
            db,
            table,
            id,
            values,
        } => {
            let patch = parse_object(values, "--values")?;
            let db = open(db, Access::Write)?;
            let row = db.update(table, id, patch).map_err(fail)?;
            Ok(Report::new()
                .field("user_id", db.user_id())
                .field("row", Value::Object(row)))
        }
        DbCommand::Delete { db, table, id } => {
            let db = open(db, Access::Write)?;
            let row = db.delete(table, id).map_err(fail)?;
            Ok(Report::new()
                .field("deleted", true)
                .field("row", Value::Object(row)))
        }
        DbCommand::Get { db, table, id } => {
            let db = open(db, Access::Read)?;
            match db.get(table, id).map_err(fail)? {
                Some(row) => Ok(Report::new().field("row", Value::Object(row))),
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
                Some(text) => {
                    let value: Value = serde_json::from_str(text).map_err(|e| {
                        CliError::new(Code::InvalidJson, format!("--where is not valid JSON: {e}"))
                    })?;
                    Filter::from_json(&value).map_err(|e| CliError::from_error(&e))?
                }
                None => Filter::all(),
            };
            let mut query = Query::table(table).filter(filter);
            if let Some(column) = order_by {
                query = query.order_by(column, *desc);
            }
            if let Some(limit) = limit {
                query = query.limit(*limit);
            }
            let db = open(db, Access::Read)?;
            Ok(rows_report(db.query(&query).map_err(fail)?))
        }
        DbCommand::Outbox { db, limit } => {
            let db = open(db, Access::Read)?;
            let entries = db.pending_outbox(*limit).map_err(fail)?;
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

/// Runs `logout`: with `--wipe-data` deletes the app's local database files
/// (the identity secret is never touched).
pub fn run_logout(args: &LogoutArgs) -> Result<Report, CliError> {
    if !args.wipe_data {
        // No live session to end in a one-shot command; nothing on disk changes.
        return Ok(Report::new()
            .field("logged_out", true)
            .field("wiped", false));
    }
    let config = DbConfig::new(&args.app_id, StorageMode::DataDir(args.data_dir.clone()));
    let db = Db::open(config, DbDeps::default()).map_err(|e| CliError::from_error(&e))?;
    db.logout(true).map_err(|e| CliError::from_error(&e))?;
    Ok(Report::new().field("logged_out", true).field("wiped", true))
}
