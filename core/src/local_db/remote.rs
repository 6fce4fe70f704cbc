//! Sync seams of the store: changes from the server (applied without outbox
//! entries) and the namespace's persistent client id.

use serde_json::Value;

use super::names::{check_id, check_table, sql_table};
use super::rows::{check_remote_row, row_values};
use super::store::LocalStore;
use super::tx::{table_exists, WriteTx};
use super::{Row, StorageError};

/// Metadata key of the namespace's persistent sync client id.
pub const META_CLIENT_ID: &str = "sync_client_id";

impl WriteTx<'_> {
    /// Stores `row` (the whole row, system columns included, as the server sent
    /// it) as row `id` of `table`, replacing any local copy. No outbox entry.
    /// A local copy equal in every column is left as it is (not rewritten):
    /// the server's echo of this client's own write costs a look-up only.
    /// A change this store cannot hold fails before anything is written:
    /// [`StorageError::InvalidName`], [`StorageError::InvalidRow`] (a bad id or
    /// row, see `check_remote_row`), [`StorageError::TableNameClash`].
    pub fn put_remote(&mut self, table: &str, id: &str, row: &Row) -> Result<(), StorageError> {
        check_table(table)?;
        check_id(id)?;
        check_remote_row(row)?;
        self.ensure_table(table)?;
        let mut row = row.clone();
        row.insert("id".to_owned(), Value::String(id.to_owned()));
        let mut buffer = Vec::new();
        let values = row_values(&row, &mut buffer)?;
        let text = std::str::from_utf8(&buffer).map_err(|e| StorageError::InvalidRow {
            reason: e.to_string(),
        })?;
        let sql = format!(
            "INSERT INTO {} (id, data, created_by, created_at, updated_by, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET data = excluded.data,
                 created_by = excluded.created_by, created_at = excluded.created_at,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at
             WHERE data IS NOT excluded.data
                 OR created_by IS NOT excluded.created_by OR created_at IS NOT excluded.created_at
                 OR updated_by IS NOT excluded.updated_by OR updated_at IS NOT excluded.updated_at",
            sql_table(table)
        );
        self.tx.prepare_cached(&sql)?.execute(rusqlite::params![
            values.id,
            values.data(text),
            values.created_by,
            values.created_at,
            values.updated_by,
            values.updated_at
        ])?;
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// Removes row `id` of `table` if present (a server-side delete). No outbox
    /// entry. Returns whether a row went.
    pub fn delete_remote(&mut self, table: &str, id: &str) -> Result<bool, StorageError> {
        check_table(table)?;
        if !self.tables.contains(table) && !table_exists(&self.tx, table)? {
            return Ok(false);
        }
        let sql = format!("DELETE FROM {} WHERE id = ?1", sql_table(table));
        let gone = self.tx.prepare_cached(&sql)?.execute([id])? > 0;
        if gone {
            self.touched.insert(table.to_owned());
        }
        Ok(gone)
    }
}

impl LocalStore {
    /// Number of `actor`'s outbox entries (each row of a batch record counts).
    pub fn outbox_len_of(&self, actor: &str) -> Result<u64, StorageError> {
        self.read(|r| {
            let n: i64 = r.conn.query_row(
                "SELECT COALESCE(SUM(pending), 0) FROM lf_outbox WHERE actor = ?1",
                [actor],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// The namespace's persistent client id: random, created on first use and
    /// kept in the namespace's metadata (a wiped namespace gets a new one).
    pub fn client_id(&self) -> Result<String, StorageError> {
        self.write(|w| {
            if let Some(id) = w.meta(META_CLIENT_ID)? {
                return Ok(id);
            }
            let id = new_client_id()?;
            w.set_meta(META_CLIENT_ID, Some(&id))?;
            Ok(id)
        })
    }

    /// Replaces the client id with a new random one if it is still `old`
    /// (compare and set, in one write transaction); returns the id now held.
    pub fn renew_client_id(&self, old: &str) -> Result<String, StorageError> {
        self.write(|w| {
            match w.meta(META_CLIENT_ID)? {
                Some(current) if current != old => return Ok(current),
                _ => {}
            }
            let id = new_client_id()?;
            w.set_meta(META_CLIENT_ID, Some(&id))?;
            Ok(id)
        })
    }
}

/// `c-` and 32 random hex digits.
fn new_client_id() -> Result<String, StorageError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| StorageError::Io {
        path: "<random>".into(),
        reason: e.to_string(),
    })?;
    Ok(std::iter::once("c-".to_owned())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect())
}
