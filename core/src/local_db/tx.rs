//! Read and write transactions.

use std::collections::{BTreeSet, HashSet};

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use super::names::{check_table, index_name, sql_table};
use super::outbox::{
    batch_offset, read_outbox, InsertRun, OutboxEntry, OutboxOp, NEXT_SEQ_KEY, OUTBOX_INSERT,
};
use super::query::{run_query, Query};
use super::rows::{
    read_row, row_id, row_values, stamp_value, to_json_text, InsertValues, UserColumns, ROW_COLUMNS,
};
use super::{Row, StorageError, CREATED_BY, UPDATED_AT, UPDATED_BY};

// ---------------------------------------------------------------------------
// Transactions

/// Read access to the live database.
pub(crate) struct ReadTx<'a> {
    pub(super) conn: &'a Connection,
}

pub(super) fn table_exists(conn: &Connection, table: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM lf_tables WHERE name = ?1")?
        .exists([table])?)
}

pub(super) fn get_row(
    conn: &Connection,
    table: &str,
    id: &str,
) -> Result<Option<Row>, StorageError> {
    check_table(table)?;
    if !table_exists(conn, table)? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM {} WHERE id = ?1",
        sql_table(table)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], read_row)
        .optional()?)
}

impl ReadTx<'_> {
    /// The row `id` of `table`, if any.
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
        get_row(self.conn, table, id)
    }

    /// Rows matching `query`.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, StorageError> {
        run_query(self.conn, query)
    }

    /// The tables that exist, in name order.
    pub fn tables(&self) -> Result<Vec<String>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM lf_tables ORDER BY name")?;
        let names = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    /// Outbox entries, oldest first.
    pub fn outbox(
        &self,
        actor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StorageError> {
        read_outbox(self.conn, actor, limit)
    }
}

/// Most rows one INSERT statement of [`WriteTx::insert_rows`] stores (6 bound
/// values each, far below SQLite's limit on parameters), and most entries one
/// outbox batch record holds.
pub(super) const INSERT_CHUNK: usize = 64;

/// `INSERT INTO t_<table> (...) VALUES (?, ?, ?, ?, ?, ?), ...` for `rows` rows.
pub(super) fn insert_sql(table: &str, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {} ({ROW_COLUMNS}) VALUES ", sql_table(table));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?)");
    }
    sql
}

/// One write transaction. Every row mutation also appends to the outbox.
pub(crate) struct WriteTx<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
    pub(super) tables: &'a mut HashSet<String>,
    pub(super) touched: BTreeSet<String>,
    /// The next outbox sequence number, once this transaction has read it; written
    /// back by [`WriteTx::commit`] when it moved.
    pub(super) next_seq: Option<(i64, bool)>,
}

impl<'a> WriteTx<'a> {
    pub(super) fn new(
        tx: rusqlite::Transaction<'a>,
        tables: &'a mut HashSet<String>,
    ) -> WriteTx<'a> {
        WriteTx {
            tx,
            tables,
            touched: BTreeSet::new(),
            next_seq: None,
        }
    }

    /// Writes the outbox counter back (if it moved) and commits; returns the tables
    /// whose rows changed.
    pub(super) fn commit(self) -> Result<BTreeSet<String>, StorageError> {
        if let Some((next, true)) = self.next_seq {
            self.tx
                .prepare_cached(
                    "INSERT INTO lf_meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute(rusqlite::params![NEXT_SEQ_KEY, next.to_string()])?;
        }
        self.tx.commit()?;
        Ok(self.touched)
    }

    /// The row `id` of `table`, if any (sees this transaction's writes).
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
        get_row(&self.tx, table, id)
    }

    /// Rows matching `query` (sees this transaction's writes).
    #[allow(dead_code)] // kept beside `ReadTx::query` for the coming sync writer
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, StorageError> {
        run_query(&self.tx, query)
    }

    /// The tables that exist, in name order.
    pub fn tables(&self) -> Result<Vec<String>, StorageError> {
        ReadTx { conn: &self.tx }.tables()
    }

    pub(super) fn ensure_table(&mut self, table: &str) -> Result<(), StorageError> {
        check_table(table)?;
        if self.tables.contains(table) {
            return Ok(());
        }
        if !table_exists(&self.tx, table)? {
            // SQLite compares names without regard to ASCII case: `Todos` would be
            // the table of `todos`. Refuse it instead (`lf_tables.name` itself
            // compares exactly).
            let existing: Option<String> = self
                .tx
                .prepare_cached(
                    "SELECT name FROM lf_tables WHERE name = ?1 COLLATE NOCASE AND name <> ?1",
                )?
                .query_row([table], |r| r.get(0))
                .optional()?;
            if let Some(existing) = existing {
                return Err(StorageError::TableNameClash {
                    table: table.to_owned(),
                    existing,
                });
            }
            let t = sql_table(table);
            self.tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (
                     id TEXT PRIMARY KEY NOT NULL,
                     data TEXT NOT NULL,
                     created_by TEXT NOT NULL,
                     created_at INTEGER NOT NULL,
                     updated_by TEXT NOT NULL,
                     updated_at INTEGER NOT NULL);
                 CREATE INDEX IF NOT EXISTS {index} ON {t} (created_by);",
                index = index_name(table, CREATED_BY)
            ))?;
            self.tx.execute(
                "INSERT OR IGNORE INTO lf_tables (name) VALUES (?1)",
                [table],
            )?;
        }
        self.tables.insert(table.to_owned());
        Ok(())
    }

    /// Stores a row built by [`build_insert_row`] and records it in the outbox.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn insert_row(&mut self, table: &str, row: &Row) -> Result<(), StorageError> {
        self.insert_rows(table, std::slice::from_ref(row))
    }

    /// Stores rows built by [`build_insert_row`] into `table` and records each
    /// in the outbox, preparing the two statements once for the whole batch.
    /// Consecutive rows with the same creator and creation time share one batch
    /// record (one entry per row, consecutive sequence numbers); a lone row gets
    /// a single-entry record.
    ///
    /// On an error, part of the rows (and not necessarily their outbox entries)
    /// may already be written in this transaction: it must not be committed
    /// ([`LocalStore::write`] rolls back when its closure fails).
    pub fn insert_rows(&mut self, table: &str, rows: &[Row]) -> Result<(), StorageError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.ensure_table(table)?;
        // Sequence numbers for the whole batch: the first from the counter, the rest
        // consecutive; the counter is moved past them before the statements run.
        let first_seq = self.take_seq()?;
        let batch = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        self.next_seq = Some((first_seq.saturating_add(batch), true));
        // Rows go in with multi-row INSERTs of up to INSERT_CHUNK rows (fewer
        // statement runs); the statements are prepared once per size and cached.
        let full_sql = insert_sql(table, INSERT_CHUNK.min(rows.len()));
        let rest = rows.len() % INSERT_CHUNK;
        let rest_sql = (rest > 0 && rows.len() > INSERT_CHUNK).then(|| insert_sql(table, rest));
        let mut outbox = self.tx.prepare_cached(OUTBOX_INSERT)?;
        let mut run = InsertRun::new(if rows.len() > 1 {
            INSERT_CHUNK.min(rows.len()) * 160
        } else {
            0
        });
        let mut values: Vec<InsertValues<'_>> = Vec::with_capacity(INSERT_CHUNK.min(rows.len()));
        // The chunk's `data` texts, serialised one after the other into one buffer.
        let mut buffer: Vec<u8> = Vec::with_capacity(INSERT_CHUNK.min(rows.len()) * 128);
        for (index, chunk) in rows.chunks(INSERT_CHUNK).enumerate() {
            let chunk_seq = first_seq.saturating_add(batch_offset(index * INSERT_CHUNK));
            values.clear();
            buffer.clear();
            for row in chunk {
                values.push(row_values(row, &mut buffer)?);
            }
            let texts = std::str::from_utf8(&buffer).map_err(|e| StorageError::InvalidRow {
                reason: e.to_string(),
            })?;
            for (seq, v) in (chunk_seq..).zip(&values) {
                if !run.continues(v.created_by, v.created_at) {
                    run.flush(&mut outbox, table)?;
                }
                run.push(seq, v.id, v.data(texts), v.created_by, v.created_at)?;
            }
            let sql = match &rest_sql {
                Some(rest_sql) if chunk.len() < INSERT_CHUNK => rest_sql,
                _ => &full_sql,
            };
            let mut insert = self.tx.prepare_cached(sql)?;
            for (i, v) in values.iter().enumerate() {
                let at = i * 6;
                insert.raw_bind_parameter(at + 1, v.id)?;
                insert.raw_bind_parameter(at + 2, v.data(texts))?;
                insert.raw_bind_parameter(at + 3, v.created_by)?;
                insert.raw_bind_parameter(at + 4, v.created_at)?;
                insert.raw_bind_parameter(at + 5, v.updated_by)?;
                insert.raw_bind_parameter(at + 6, v.updated_at)?;
            }
            match insert.raw_execute() {
                Ok(_) => {}
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    // The failed statement changed nothing; find the first row that
                    // collides, one row at a time, to name it.
                    drop(insert);
                    return Err(self
                        .first_duplicate(table, &values, texts)
                        .unwrap_or_else(|| e.into()));
                }
                Err(e) => return Err(e.into()),
            }
            // One batch record per chunk at most: records stay small (cheap to
            // write, read and rewrite on a partial acknowledgement).
            run.flush(&mut outbox, table)?;
        }
        drop(outbox);
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// After a multi-row INSERT failed on a constraint: inserts `values` one by
    /// one (the transaction is abandoned by the caller anyway) and returns
    /// [`StorageError::AlreadyExists`] for the first that collides.
    pub(super) fn first_duplicate(
        &self,
        table: &str,
        values: &[InsertValues<'_>],
        texts: &str,
    ) -> Option<StorageError> {
        let mut insert = self.tx.prepare_cached(&insert_sql(table, 1)).ok()?;
        for v in values {
            let result = insert.execute(rusqlite::params![
                v.id,
                v.data(texts),
                v.created_by,
                v.created_at,
                v.updated_by,
                v.updated_at
            ]);
            match result {
                Ok(_) => {}
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    return Some(StorageError::AlreadyExists {
                        table: table.to_owned(),
                        id: v.id.to_owned(),
                    })
                }
                Err(e) => return Some(e.into()),
            }
        }
        None
    }

    /// Stores `new` (from [`apply_patch`]) over the existing row and records
    /// `patch` in the outbox.
    pub fn update_row(&mut self, table: &str, new: &Row, patch: &Row) -> Result<(), StorageError> {
        self.ensure_table(table)?;
        let id = row_id(new)?;
        let data = to_json_text(&UserColumns(new))?;
        let updated_by = stamp_value(new, UPDATED_BY)?;
        let updated_at = stamp_value(new, UPDATED_AT)?;
        let sql = format!(
            "UPDATE {} SET data = ?2, updated_by = ?3, updated_at = ?4 WHERE id = ?1",
            sql_table(table)
        );
        let changed = self.tx.prepare_cached(&sql)?.execute(rusqlite::params![
            id,
            data,
            updated_by.as_str().unwrap_or_default(),
            updated_at.as_i64().unwrap_or_default(),
        ])?;
        if changed == 0 {
            return Err(StorageError::NotFound {
                table: table.to_owned(),
                id: id.to_owned(),
            });
        }
        let patch_text = to_json_text(&UserColumns(patch))?;
        self.append_outbox(
            table,
            id,
            OutboxOp::Update,
            Some(&patch_text),
            updated_by,
            updated_at,
        )?;
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// Deletes row `id` and records it in the outbox as done by `actor` at `now`.
    pub fn delete_row(
        &mut self,
        table: &str,
        id: &str,
        actor: &str,
        now: u64,
    ) -> Result<(), StorageError> {
        check_table(table)?;
        let missing = || StorageError::NotFound {
            table: table.to_owned(),
            id: id.to_owned(),
        };
        if !self.tables.contains(table) && !table_exists(&self.tx, table)? {
            return Err(missing());
        }
        let sql = format!("DELETE FROM {} WHERE id = ?1", sql_table(table));
        if self.tx.prepare_cached(&sql)?.execute([id])? == 0 {
            return Err(missing());
        }
        self.append_outbox(
            table,
            id,
            OutboxOp::Delete,
            None,
            &Value::String(actor.to_owned()),
            &Value::from(now),
        )?;
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// Sets (or with `None` removes) a metadata value in this transaction.
    pub fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), StorageError> {
        match value {
            Some(v) => self.tx.execute(
                "INSERT INTO lf_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => self
                .tx
                .execute("DELETE FROM lf_meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// A value of the namespace's metadata, as seen by this transaction.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .tx
            .query_row("SELECT value FROM lf_meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }
}
