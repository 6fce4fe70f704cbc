//! Snapshots of one actor's rows, and discarding them (for a replaced identity).

use std::collections::HashSet;

use super::names::{check_table, sql_table};
use super::outbox::{batch_offset, parse_batch, LAST_OUTBOX_SEQ};
use super::rows::{read_row, row_id, ROW_COLUMNS};
use super::store::LocalStore;
use super::tx::{ReadTx, WriteTx};
use super::{Row, StorageError};

// ---------------------------------------------------------------------------
// Snapshots of one actor's rows (for discarding a replaced identity)

/// One row of an [`ActorSnapshot`], with the stored text it was read from.
#[derive(Debug, Clone)]
pub(super) struct SnapshotRow {
    pub(super) table: String,
    pub(super) row: Row,
    pub(super) data: String,
    pub(super) updated_by: String,
    pub(super) updated_at: i64,
}

/// The rows one actor created, read in a single transaction, and the newest
/// outbox position at that moment.
///
/// [`WriteTx::discard_snapshot`] removes exactly these rows, and only where they
/// are still unchanged, so rows the actor wrote (or changed) after the snapshot
/// are never discarded unseen.
#[derive(Debug, Clone)]
pub(crate) struct ActorSnapshot {
    pub(super) actor: String,
    pub(super) tables: Vec<String>,
    pub(super) rows: Vec<SnapshotRow>,
    pub(super) last_seq: i64,
}

impl ActorSnapshot {
    /// The actor whose rows these are.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Every table of the namespace at snapshot time, in name order.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// The actor's rows of `table`, in insertion order.
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, StorageError> {
        check_table(table)?;
        Ok(self
            .rows
            .iter()
            .filter(|r| r.table == table)
            .map(|r| r.row.clone())
            .collect())
    }

    /// Number of rows in the snapshot (all tables).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

/// What [`WriteTx::discard_snapshot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DiscardOutcome {
    /// Snapshot rows removed.
    pub removed: usize,
    /// Rows of the actor still present afterwards: written or changed after the
    /// snapshot, so kept.
    pub remaining: usize,
}

impl LocalStore {
    /// Reads every row `actor` created, in all tables, and the newest outbox
    /// sequence number, in one read transaction (a consistent view).
    pub fn snapshot_actor(&self, actor: &str) -> Result<ActorSnapshot, StorageError> {
        let checked = self.checked()?;
        let Some(open) = checked.state.open.as_ref() else {
            return Err(StorageError::Closed);
        };
        let tx = open.conn.unchecked_transaction()?;
        let tables = ReadTx { conn: &tx }.tables()?;
        let mut rows = Vec::new();
        for table in &tables {
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM {} WHERE created_by = ?1 ORDER BY rowid",
                sql_table(table)
            );
            let mut stmt = tx.prepare(&sql)?;
            let found = stmt
                .query_map([actor], |r| {
                    Ok(SnapshotRow {
                        table: table.clone(),
                        data: r.get(1)?,
                        updated_by: r.get(4)?,
                        updated_at: r.get(5)?,
                        row: read_row(r)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.extend(found);
        }
        let last_seq: i64 = tx.query_row(LAST_OUTBOX_SEQ, [], |r| r.get(0))?;
        tx.commit()?;
        Ok(ActorSnapshot {
            actor: actor.to_owned(),
            tables,
            rows,
            last_seq,
        })
    }
}

impl WriteTx<'_> {
    /// Removes the rows of `snapshot` that are still exactly as they were read
    /// (same data, same last writer and time), without recording outbox entries
    /// (a local discard, not a mutation to sync), and the actor's outbox entries
    /// up to the snapshot whose row is gone. Rows the actor wrote or changed
    /// after the snapshot, and their outbox entries, stay.
    pub fn discard_snapshot(
        &mut self,
        snapshot: &ActorSnapshot,
    ) -> Result<DiscardOutcome, StorageError> {
        let actor = snapshot.actor.as_str();
        let mut removed = 0;
        for row in &snapshot.rows {
            let id = row_id(&row.row)?;
            let n = self
                .tx
                .prepare_cached(&format!(
                    "DELETE FROM {} WHERE id = ?1 AND created_by = ?2 AND data = ?3
                     AND updated_by = ?4 AND updated_at = ?5",
                    sql_table(&row.table)
                ))?
                .execute(rusqlite::params![
                    id,
                    actor,
                    row.data,
                    row.updated_by,
                    row.updated_at
                ])?;
            if n > 0 {
                self.touched.insert(row.table.clone());
            }
            removed += n;
        }
        let mut kept: HashSet<(String, String)> = HashSet::new();
        for table in self.tables()? {
            let mut stmt = self.tx.prepare(&format!(
                "SELECT id FROM {} WHERE created_by = ?1",
                sql_table(&table)
            ))?;
            let ids = stmt
                .query_map([actor], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            kept.extend(ids.into_iter().map(|id| (table.clone(), id)));
        }
        let records = self
            .tx
            .prepare(
                "SELECT seq, table_name, row_id, batch FROM lf_outbox
                 WHERE actor = ?1 AND seq <= ?2",
            )?
            .query_map(rusqlite::params![actor, snapshot.last_seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (seq, table, id, batch) in records {
            match batch {
                None => {
                    if !kept.contains(&(table, id)) {
                        self.delete_record(seq)?;
                    }
                }
                Some(text) => {
                    // Only the entries up to the snapshot: a batch is written in one
                    // transaction, so a record is never split by it, but be exact.
                    let mut entries = parse_batch(&text)?;
                    let mut changed = false;
                    for (index, entry) in entries.iter_mut().enumerate() {
                        if seq.saturating_add(batch_offset(index)) > snapshot.last_seq {
                            break;
                        }
                        let gone = match entry {
                            Some((id, _)) => !kept.contains(&(table.clone(), id.clone())),
                            None => false,
                        };
                        if gone {
                            *entry = None;
                            changed = true;
                        }
                    }
                    if changed {
                        self.store_batch(seq, &entries)?;
                    }
                }
            }
        }
        Ok(DiscardOutcome {
            removed,
            remaining: kept.len(),
        })
    }
}
