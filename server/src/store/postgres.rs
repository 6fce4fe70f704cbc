//! The PostgreSQL backend: several server processes (replicas) on one database
//! act as one server.
//!
//! - Every push runs in one transaction that first takes a transaction-level
//!   advisory lock (`pg_advisory_xact_lock`), so pushes are serialized across all
//!   replicas. Cursors are assigned under that lock as `MAX(cursor) + 1`: they are
//!   gap-free and commit in order, so a reader never skips a change that commits
//!   later with a smaller cursor.
//! - The push transaction calls `pg_notify(channel, cursor)`; PostgreSQL
//!   delivers it only if, and when, the transaction commits. Every store keeps one
//!   dedicated connection that `LISTEN`s on the channel and forwards cursors into
//!   its local [`broadcast`] sender, so [`ServerStore::subscribe`] hears writes
//!   accepted by any replica. A dropped listener reconnects with capped backoff,
//!   then emits the latest cursor so subscribers catch up on what they missed.
//! - The schema is created idempotently on open, under an advisory lock so that
//!   replicas starting together do not race.
//! - The tables live in the connection's current schema (the first existing one
//!   of its `search_path`); the advisory lock keys and the channel name are
//!   derived from that schema's name, so several deployments (or tests) can
//!   share one database in separate schemas.
//!
//! Connections use `NoTls`: fine on loopback or a private network. Production
//! across an untrusted network should put a TLS connector in front (for example
//! `postgres-native-tls` or `tokio-postgres-rustls`); a URL asking for
//! `sslmode=require` fails to connect with this build.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use localfirst_core::local_db::table_name_key;
use localfirst_core::policy::Row;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, IsolationLevel, NoTls, Statement};

mod listener;

use listener::listen;
pub use listener::listener_name;

use super::{
    matches_record, table_clash, Change, ChangeOp, ChangePage, Decide, Decision, Outcome,
    PushEntry, PushResult, Rejection, ServerStore, StoreError, StoreFuture, Writer,
};

/// Tuning of a [`PostgresStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Most pooled connections for queries (the listener has its own one).
    pub pool_size: usize,
    /// Time allowed to establish one connection.
    pub connect_timeout: Duration,
    /// Longest wait between two attempts to reconnect the listener.
    pub max_listener_backoff: Duration,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            max_listener_backoff: Duration::from_secs(5),
        }
    }
}

/// PostgreSQL-backed [`ServerStore`]; open one per server process on a shared
/// database.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.inner.shared.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, options such as
    /// `?options=-c%20search_path%3Dmy_schema` allowed), creates the schema if
    /// needed and starts the listener.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_with(url, PostgresOptions::default()).await
    }

    /// [`PostgresStore::open`] with explicit [`PostgresOptions`].
    pub async fn open_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| StoreError::Open(format!("bad PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        let mut first = connect(&config).await.map_err(open_error)?;
        let schema: Option<String> = first
            .client
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(open_error)?
            .try_get(0)
            .map_err(open_error)?;
        let schema = schema.ok_or_else(|| {
            StoreError::Open("no schema of the search_path exists in this database".into())
        })?;
        create_schema(&mut first.client, lock_key("schema", &schema)).await?;
        let stmts = Statements::prepare(&first.client).await?;
        let latest = latest(&first.client).await?;
        let (notify, _) = broadcast::channel(NOTIFY_CAPACITY);
        let shared = Arc::new(Shared {
            config,
            channel: channel_name(&schema),
            push_key: lock_key("push", &schema),
            schema,
            notify,
            last_sent: AtomicU64::new(latest),
            closed: AtomicBool::new(false),
            max_backoff: options.max_listener_backoff,
        });
        let pool = Pool {
            idle: Mutex::new(vec![Pooled {
                client: first.client,
                stmts,
                task: first.task,
            }]),
            permits: Semaphore::new(options.pool_size.max(1)),
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let listener = tokio::spawn(listen(Arc::clone(&shared), Some(ready_tx)));
        // Wait for the first LISTEN so no commit after `open` returns is missed.
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                listener.abort();
                return Err(e);
            }
            Err(_) => {
                return Err(StoreError::Open("the listener stopped".into()));
            }
        }
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                shared,
                pool,
                listener: Mutex::new(Some(listener)),
            }),
        })
    }

    /// The schema holding this store's tables.
    pub fn schema(&self) -> &str {
        &self.inner.shared.schema
    }

    /// The notification channel this store listens on.
    pub fn channel(&self) -> &str {
        &self.inner.shared.channel
    }
}

/// How many cursor notifications a slow subscriber may lag behind.
const NOTIFY_CAPACITY: usize = 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lf_rows (
    tbl TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tbl, id)
);
CREATE TABLE IF NOT EXISTS lf_changes (
    cursor_id BIGINT PRIMARY KEY,
    tbl TEXT NOT NULL,
    id TEXT NOT NULL,
    op TEXT NOT NULL,
    row_data TEXT,
    old_data TEXT
);
CREATE TABLE IF NOT EXISTS lf_tables (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lf_applied (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    code TEXT,
    message TEXT,
    digest BYTEA,
    PRIMARY KEY (user_id, client_id, seq)
);
-- Records of earlier versions have no content digest (NULL): they answer a
-- resend of their key as before.
ALTER TABLE lf_applied ADD COLUMN IF NOT EXISTS digest BYTEA;
";

/// State the listener task shares with the store.
struct Shared {
    config: Config,
    schema: String,
    channel: String,
    push_key: i64,
    notify: broadcast::Sender<u64>,
    /// Highest cursor announced to local subscribers (announcements only grow).
    last_sent: AtomicU64,
    closed: AtomicBool,
    max_backoff: Duration,
}

impl Shared {
    /// Tells local subscribers about `cursor` unless an equal or later one was told.
    fn announce(&self, cursor: u64) {
        if self.last_sent.fetch_max(cursor, Ordering::AcqRel) < cursor {
            // No receivers is fine: nobody is listening.
            let _ = self.notify.send(cursor);
        }
    }
}

struct Inner {
    shared: Arc<Shared>,
    pool: Pool,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        if let Ok(mut guard) = self.listener.lock() {
            if let Some(task) = guard.take() {
                task.abort();
            }
        }
    }
}

/// One connection and its driving task.
struct Connected {
    client: Client,
    task: JoinHandle<()>,
}

async fn connect(config: &Config) -> Result<Connected, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    let task = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "PostgreSQL connection ended");
        }
    });
    Ok(Connected { client, task })
}

/// Statements every pooled connection prepares once. A push reads and writes
/// whole batches through arrays (`unnest`), a few round trips per batch.
struct Statements {
    applied_get: Statement,
    applied_put: Statement,
    rows_get: Statement,
    row_get: Statement,
    rows_put: Statement,
    rows_delete: Statement,
    tables_get: Statement,
    tables_put: Statement,
    changes_put: Statement,
    change_sizes: Statement,
    changes: Statement,
}

impl Statements {
    async fn prepare(client: &Client) -> Result<Statements, StoreError> {
        Ok(Statements {
            applied_get: prep(
                client,
                "SELECT seq, code, message, digest FROM lf_applied
                 WHERE user_id = $1 AND client_id = $2 AND seq = ANY($3::bigint[])",
            )
            .await?,
            applied_put: prep(
                client,
                "INSERT INTO lf_applied (user_id, client_id, seq, code, message, digest)
                 SELECT $1, $2, s, c, m, d
                 FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bytea[]) AS a(s, c, m, d)",
            )
            .await?,
            rows_get: prep(
                client,
                "SELECT r.tbl, r.id, r.data FROM lf_rows r
                 JOIN unnest($1::text[], $2::text[]) AS k(tbl, id)
                   ON r.tbl = k.tbl AND r.id = k.id",
            )
            .await?,
            row_get: prep(
                client,
                "SELECT data FROM lf_rows WHERE tbl = $1 AND id = $2",
            )
            .await?,
            rows_put: prep(
                client,
                "INSERT INTO lf_rows (tbl, id, data)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                 ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data",
            )
            .await?,
            rows_delete: prep(
                client,
                "DELETE FROM lf_rows r USING unnest($1::text[], $2::text[]) AS k(tbl, id)
                 WHERE r.tbl = k.tbl AND r.id = k.id",
            )
            .await?,
            tables_get: prep(
                client,
                "SELECT name_key, name FROM lf_tables WHERE name_key = ANY($1::text[])",
            )
            .await?,
            tables_put: prep(
                client,
                "INSERT INTO lf_tables (name_key, name)
                 SELECT * FROM unnest($1::text[], $2::text[])
                 ON CONFLICT (name_key) DO NOTHING",
            )
            .await?,
            changes_put: prep(
                client,
                "INSERT INTO lf_changes (cursor_id, tbl, id, op, row_data, old_data)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                                      $5::text[], $6::text[])",
            )
            .await?,
            change_sizes: prep(
                client,
                "SELECT cursor_id,
                        (COALESCE(octet_length(row_data), 0)
                         + COALESCE(octet_length(old_data), 0))::bigint
                 FROM lf_changes WHERE cursor_id > $1 ORDER BY cursor_id LIMIT $2",
            )
            .await?,
            changes: prep(
                client,
                "SELECT cursor_id, tbl, id, op, row_data, old_data FROM lf_changes
                 WHERE cursor_id > $1 AND cursor_id <= $2 ORDER BY cursor_id",
            )
            .await?,
        })
    }
}

async fn prep(client: &Client, sql: &str) -> Result<Statement, StoreError> {
    client.prepare(sql).await.map_err(db)
}

/// A pooled connection.
struct Pooled {
    client: Client,
    stmts: Statements,
    task: JoinHandle<()>,
}

/// A small pool: at most `permits` connections in use, idle ones kept for reuse,
/// closed ones replaced on the next checkout.
struct Pool {
    idle: Mutex<Vec<Pooled>>,
    permits: Semaphore,
}

/// A connection checked out of the [`Pool`]; goes back on drop unless broken.
struct Lease<'a> {
    conn: Option<Pooled>,
    pool: &'a Pool,
    closed: &'a AtomicBool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    fn conn(&mut self) -> Result<&mut Pooled, StoreError> {
        self.conn.as_mut().ok_or(StoreError::Closed)
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.client.is_closed() && !self.closed.load(Ordering::Acquire) {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(conn);
                }
            }
        }
    }
}

impl Inner {
    async fn lease(&self) -> Result<Lease<'_>, StoreError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let permit = self
            .pool
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let reused = {
            let mut idle = self
                .pool
                .idle
                .lock()
                .map_err(|_| StoreError::Database("pool lock poisoned".into()))?;
            let mut found = None;
            while let Some(conn) = idle.pop() {
                if !conn.client.is_closed() {
                    found = Some(conn);
                    break;
                }
            }
            found
        };
        let conn = match reused {
            Some(conn) => conn,
            None => {
                let Connected { client, task } = connect(&self.shared.config).await.map_err(db)?;
                let stmts = Statements::prepare(&client).await?;
                Pooled {
                    client,
                    stmts,
                    task,
                }
            }
        };
        Ok(Lease {
            conn: Some(conn),
            pool: &self.pool,
            closed: &self.shared.closed,
            _permit: permit,
        })
    }
}

fn db(error: tokio_postgres::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

fn open_error(error: tokio_postgres::Error) -> StoreError {
    StoreError::Open(format!("PostgreSQL: {error}"))
}

/// A stable 64-bit advisory lock key for `purpose` in `schema`.
fn lock_key(purpose: &str, schema: &str) -> i64 {
    let digest = Sha256::digest(format!("localfirst:{purpose}:{schema}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The notification channel of `schema` (a short identifier, whatever the schema's name).
fn channel_name(schema: &str) -> String {
    let digest = Sha256::digest(format!("localfirst:channel:{schema}").as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("lf_changes_{hex}")
}

async fn create_schema(client: &mut Client, key: i64) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(open_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
        .await
        .map_err(open_error)?;
    let registered: bool = tx
        .query_one("SELECT to_regclass('lf_tables') IS NOT NULL", &[])
        .await
        .map_err(open_error)?
        .try_get(0)
        .map_err(open_error)?;
    tx.batch_execute(SCHEMA).await.map_err(open_error)?;
    if !registered {
        // A database written before the table-name registry: register the
        // tables that hold rows.
        for row in tx
            .query("SELECT DISTINCT tbl FROM lf_rows", &[])
            .await
            .map_err(open_error)?
        {
            let name: String = row.try_get(0).map_err(open_error)?;
            tx.execute(
                "INSERT INTO lf_tables (name_key, name) VALUES ($1, $2)
                 ON CONFLICT (name_key) DO NOTHING",
                &[&table_name_key(&name), &name],
            )
            .await
            .map_err(open_error)?;
        }
    }
    tx.commit().await.map_err(open_error)
}

fn row_text(row: &Row) -> Result<String, StoreError> {
    serde_json::to_string(row).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_opt(text: Option<String>) -> Result<Option<Row>, StoreError> {
    text.as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_cursor(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

async fn latest<C: tokio_postgres::GenericClient>(client: &C) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(cursor_id), 0)::bigint FROM lf_changes",
            &[],
        )
        .await
        .map_err(db)?;
    Ok(to_cursor(row.try_get(0).map_err(db)?))
}

fn op_name(op: ChangeOp) -> &'static str {
    match op {
        ChangeOp::Put => "put",
        ChangeOp::Delete => "delete",
    }
}

/// A row as decoded and as stored.
type Current = Option<(Row, String)>;

/// The writes a batch makes, gathered in memory, then sent as arrays.
#[derive(Default)]
struct BatchWrites {
    /// Final state of each touched row (`None`: deleted).
    rows: BTreeMap<(String, String), Option<String>>,
    change_cursor: Vec<i64>,
    change_tbl: Vec<String>,
    change_id: Vec<String>,
    change_op: Vec<&'static str>,
    change_row: Vec<Option<String>>,
    change_old: Vec<Option<String>>,
    applied_seq: Vec<i64>,
    applied_code: Vec<Option<String>>,
    applied_message: Vec<Option<String>>,
    applied_digest: Vec<Vec<u8>>,
    /// Tables the batch registers: keys and names.
    table_key: Vec<String>,
    table_name: Vec<String>,
}

impl BatchWrites {
    fn change(
        &mut self,
        cursor: i64,
        entry: &PushEntry,
        op: ChangeOp,
        row: Option<String>,
        old: Option<String>,
    ) {
        self.rows
            .insert((entry.table.clone(), entry.id.clone()), row.clone());
        self.change_cursor.push(cursor);
        self.change_tbl.push(entry.table.clone());
        self.change_id.push(entry.id.clone());
        self.change_op.push(op_name(op));
        self.change_row.push(row);
        self.change_old.push(old);
    }

    fn record(&mut self, seq: i64, outcome: &Outcome, digest: &[u8; 32]) {
        let (code, message) = match outcome {
            Outcome::Rejected(r) => (Some(r.code.clone()), Some(r.message.clone())),
            _ => (None, None),
        };
        self.applied_seq.push(seq);
        self.applied_code.push(code);
        self.applied_message.push(message);
        self.applied_digest.push(digest.to_vec());
    }
}

/// The batch's view of the rows it touches and of the registered table names.
#[derive(Default)]
struct BatchView {
    rows: HashMap<(String, String), Current>,
    /// Registered table names by key (`table_name_key`).
    tables: HashMap<String, String>,
}

/// Decides one entry against the batch's view; returns its outcome.
fn decide_entry(
    entry: &PushEntry,
    decide: &Decide,
    view: &mut BatchView,
    writes: &mut BatchWrites,
    cursor: &mut i64,
) -> Result<Outcome, StoreError> {
    let key = (entry.table.clone(), entry.id.clone());
    let old = view.rows.get(&key).cloned().flatten();
    let decision = match decide(entry, old.as_ref().map(|(row, _)| row)) {
        Ok(decision) => decision,
        Err(rejection) => return Ok(Outcome::Rejected(rejection)),
    };
    let old_text = old.map(|(_, text)| text);
    match decision {
        Decision::Nothing => return Ok(Outcome::Applied),
        Decision::Put(row) => {
            let name_key = table_name_key(&entry.table);
            match view.tables.get(&name_key) {
                Some(existing) if *existing != entry.table => {
                    return Ok(Outcome::Rejected(table_clash(&entry.table, existing)));
                }
                Some(_) => {}
                None => {
                    view.tables.insert(name_key.clone(), entry.table.clone());
                    writes.table_key.push(name_key);
                    writes.table_name.push(entry.table.clone());
                }
            }
            let text = row_text(&row)?;
            *cursor = cursor.saturating_add(1);
            writes.change(*cursor, entry, ChangeOp::Put, Some(text.clone()), old_text);
            view.rows.insert(key, Some((row, text)));
        }
        Decision::Delete => {
            *cursor = cursor.saturating_add(1);
            writes.change(*cursor, entry, ChangeOp::Delete, None, old_text);
            view.rows.insert(key, None);
        }
    }
    Ok(Outcome::Applied)
}

async fn push_tx(
    conn: &mut Pooled,
    shared: &Shared,
    writer: &Writer,
    entries: &[PushEntry],
    decide: &Decide,
) -> Result<(PushResult, bool), StoreError> {
    let stmts = &conn.stmts;
    // Read committed: each statement after the lock sees every push committed
    // before the lock was granted (a snapshot taken at the first statement, as
    // repeatable read does, would not).
    let tx = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await
        .map_err(db)?;
    // Serializes pushes across every replica until this transaction ends.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&shared.push_key])
        .await
        .map_err(db)?;
    let mut cursor = i64::try_from(latest(&tx).await?)
        .map_err(|_| StoreError::Corrupt("cursor out of range".into()))?;

    // Earlier outcomes (and content digests) of this batch's keys, and the rows it touches.
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    let mut recorded: HashMap<i64, (Outcome, Option<Vec<u8>>)> = HashMap::new();
    for row in tx
        .query(
            &stmts.applied_get,
            &[&writer.user_id, &writer.client_id, &seqs],
        )
        .await
        .map_err(db)?
    {
        let seq: i64 = row.try_get(0).map_err(db)?;
        let outcome = match row.try_get::<_, Option<String>>(1).map_err(db)? {
            None => Outcome::Duplicate,
            Some(code) => Outcome::Rejected(Rejection {
                code,
                message: row
                    .try_get::<_, Option<String>>(2)
                    .map_err(db)?
                    .unwrap_or_default(),
            }),
        };
        let digest: Option<Vec<u8>> = row.try_get(3).map_err(db)?;
        recorded.insert(seq, (outcome, digest));
    }
    let tables: Vec<&str> = entries.iter().map(|e| e.table.as_str()).collect();
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let mut view = BatchView::default();
    for row in tx
        .query(&stmts.rows_get, &[&tables, &ids])
        .await
        .map_err(db)?
    {
        let text: String = row.try_get(2).map_err(db)?;
        let parsed = parse_opt(Some(text.clone()))?.map(|r| (r, text));
        view.rows.insert(
            (row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?),
            parsed,
        );
    }
    let keys: Vec<String> = entries.iter().map(|e| table_name_key(&e.table)).collect();
    for row in tx.query(&stmts.tables_get, &[&keys]).await.map_err(db)? {
        view.tables
            .insert(row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?);
    }

    let mut writes = BatchWrites::default();
    let mut outcomes = Vec::with_capacity(entries.len());
    // Set at the first key recorded with other content: that entry and every
    // later one of the batch are refused, and nothing of them is recorded.
    let mut reused = false;
    for entry in entries {
        let digest = entry.content_digest();
        if let Some((_, stored)) = recorded.get(&entry.seq) {
            reused |= !matches_record(stored.as_deref(), &digest);
        }
        let outcome = match recorded.get(&entry.seq) {
            _ if reused => Outcome::Rejected(Rejection::client_id_reused()),
            Some((Outcome::Applied, _)) | Some((Outcome::Duplicate, _)) => Outcome::Duplicate,
            Some((rejected, _)) => rejected.clone(),
            None => {
                let outcome = decide_entry(entry, decide, &mut view, &mut writes, &mut cursor)?;
                writes.record(entry.seq, &outcome, &digest);
                recorded.insert(entry.seq, (outcome.clone(), Some(digest.to_vec())));
                outcome
            }
        };
        outcomes.push((entry.seq, outcome));
    }

    let changed = !writes.change_cursor.is_empty();
    if changed {
        let (mut put_tbl, mut put_id, mut put_data) = (Vec::new(), Vec::new(), Vec::new());
        let (mut del_tbl, mut del_id) = (Vec::new(), Vec::new());
        for ((tbl, id), data) in &writes.rows {
            match data {
                Some(data) => {
                    put_tbl.push(tbl.as_str());
                    put_id.push(id.as_str());
                    put_data.push(data.as_str());
                }
                None => {
                    del_tbl.push(tbl.as_str());
                    del_id.push(id.as_str());
                }
            }
        }
        if !put_tbl.is_empty() {
            tx.execute(&stmts.rows_put, &[&put_tbl, &put_id, &put_data])
                .await
                .map_err(db)?;
        }
        if !del_tbl.is_empty() {
            tx.execute(&stmts.rows_delete, &[&del_tbl, &del_id])
                .await
                .map_err(db)?;
        }
        if !writes.table_key.is_empty() {
            tx.execute(&stmts.tables_put, &[&writes.table_key, &writes.table_name])
                .await
                .map_err(db)?;
        }
        tx.execute(
            &stmts.changes_put,
            &[
                &writes.change_cursor,
                &writes.change_tbl,
                &writes.change_id,
                &writes.change_op,
                &writes.change_row,
                &writes.change_old,
            ],
        )
        .await
        .map_err(db)?;
        // Delivered to every listener when (and only if) the transaction commits.
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&shared.channel, &cursor.to_string()],
        )
        .await
        .map_err(db)?;
    }
    if !writes.applied_seq.is_empty() {
        tx.execute(
            &stmts.applied_put,
            &[
                &writer.user_id,
                &writer.client_id,
                &writes.applied_seq,
                &writes.applied_code,
                &writes.applied_message,
                &writes.applied_digest,
            ],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok((
        PushResult {
            outcomes,
            cursor: to_cursor(cursor),
        },
        changed,
    ))
}

/// A page in two steps: the sizes of the next changes (no row text is read),
/// then the rows of those that fit. Cursors commit in order, so the second
/// step sees exactly the changes the first one counted.
async fn changes_page(
    conn: &Pooled,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<ChangePage, StoreError> {
    let after_i = i64::try_from(after).unwrap_or(i64::MAX);
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let sizes = conn
        .client
        .query(&conn.stmts.change_sizes, &[&after_i, &fetch])
        .await
        .map_err(db)?;
    let (mut last, mut taken, mut bytes, mut more) = (None, 0usize, 0usize, false);
    for row in &sizes {
        let size: i64 = row.try_get(1).map_err(db)?;
        bytes = bytes.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
        if taken == limit || (taken > 0 && bytes > max_bytes) {
            more = true;
            break;
        }
        last = Some(row.try_get::<_, i64>(0).map_err(db)?);
        taken += 1;
    }
    let Some(last) = last else {
        return Ok(ChangePage {
            changes: Vec::new(),
            cursor: after,
            more: false,
        });
    };
    let rows = conn
        .client
        .query(&conn.stmts.changes, &[&after_i, &last])
        .await
        .map_err(db)?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let op: String = row.try_get(3).map_err(db)?;
        let op = match op.as_str() {
            "put" => ChangeOp::Put,
            "delete" => ChangeOp::Delete,
            other => return Err(StoreError::Corrupt(format!("unknown change op {other}"))),
        };
        changes.push(Change {
            cursor: to_cursor(row.try_get(0).map_err(db)?),
            table: row.try_get(1).map_err(db)?,
            id: row.try_get(2).map_err(db)?,
            op,
            row: parse_opt(row.try_get(4).map_err(db)?)?,
            old: parse_opt(row.try_get(5).map_err(db)?)?,
        });
    }
    let cursor = changes.last().map_or(after, |c| c.cursor);
    Ok(ChangePage {
        changes,
        cursor,
        more,
    })
}

impl ServerStore for PostgresStore {
    fn push<'a>(
        &'a self,
        writer: &'a Writer,
        entries: Vec<PushEntry>,
        decide: Decide,
    ) -> StoreFuture<'a, PushResult> {
        Box::pin(async move {
            let mut lease = self.inner.lease().await?;
            let conn = lease.conn()?;
            let (result, changed) =
                push_tx(conn, &self.inner.shared, writer, &entries, &decide).await?;
            if changed {
                // Local subscribers hear it now; the listener's copy is then a no-op.
                self.inner.shared.announce(result.cursor);
            }
            Ok(result)
        })
    }

    fn changes_within(
        &self,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, ChangePage> {
        Box::pin(async move {
            let mut lease = self.inner.lease().await?;
            changes_page(lease.conn()?, after, limit, max_bytes).await
        })
    }

    fn latest_cursor(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut lease = self.inner.lease().await?;
            latest(&lease.conn()?.client).await
        })
    }

    fn get_row<'a>(&'a self, table: &'a str, id: &'a str) -> StoreFuture<'a, Option<Row>> {
        Box::pin(async move {
            let mut lease = self.inner.lease().await?;
            let conn = lease.conn()?;
            let text: Option<String> = conn
                .client
                .query_opt(&conn.stmts.row_get, &[&table, &id])
                .await
                .map_err(db)?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(db)?;
            parse_opt(text)
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.inner.shared.notify.subscribe()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.inner.shared.closed.store(true, Ordering::Release);
            let listener = self
                .inner
                .listener
                .lock()
                .map_err(|_| StoreError::Database("listener lock poisoned".into()))?
                .take();
            if let Some(task) = listener {
                task.abort();
                let _ = task.await;
            }
            // Waiting checkouts fail; leased connections close when returned.
            self.inner.pool.permits.close();
            let idle: Vec<Pooled> = self
                .inner
                .pool
                .idle
                .lock()
                .map_err(|_| StoreError::Database("pool lock poisoned".into()))?
                .drain(..)
                .collect();
            for conn in idle {
                drop(conn.client);
                let _ = conn.task.await;
            }
            Ok(())
        })
    }
}
