//! The outbox: single and batch records, reading, acknowledging.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rows::{push_json_string, to_json_text};
use super::tx::WriteTx;
use super::StorageError;

/// What a local mutation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxOp {
    /// A row was created; the payload holds its user columns.
    Insert,
    /// A row was patched; the payload holds the patch.
    Update,
    /// A row was deleted; no payload.
    Delete,
}

impl OutboxOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            OutboxOp::Insert => "insert",
            OutboxOp::Update => "update",
            OutboxOp::Delete => "delete",
        }
    }

    pub(super) fn from_str(text: &str) -> Option<OutboxOp> {
        match text {
            "insert" => Some(OutboxOp::Insert),
            "update" => Some(OutboxOp::Update),
            "delete" => Some(OutboxOp::Delete),
            _ => None,
        }
    }
}

/// One recorded local mutation, waiting to be synced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Position in the outbox (strictly increasing, never reused).
    pub seq: i64,
    /// The table.
    pub table: String,
    /// The row id.
    pub row_id: String,
    /// What happened.
    pub op: OutboxOp,
    /// Insert: the user columns; update: the patch; delete: `None`.
    pub payload: Option<Value>,
    /// The user id that made the change.
    pub actor: String,
    /// When (Unix seconds, from the injected clock).
    pub at: u64,
}

/// `lf_meta` key of the next outbox sequence number (schema 2). Sequence numbers are
/// assigned from this counter, read once and written once per write transaction, so
/// they are never reused even after acknowledged entries are deleted.
pub(super) const NEXT_SEQ_KEY: &str = "outbox_next_seq";

/// The newest outbox position held by any record (0 when the outbox is empty).
/// Records never overlap, so the record with the highest `seq` holds it; a batch
/// record covers `seq .. seq + len(batch)`.
pub(super) const LAST_OUTBOX_SEQ: &str =
    "SELECT COALESCE((SELECT seq + COALESCE(json_array_length(batch), 1) - 1
                    FROM lf_outbox ORDER BY seq DESC LIMIT 1), 0)";

// ---------------------------------------------------------------------------
// Outbox

/// The entries of a batch record, one per sequence number from the record's
/// `seq` on: `[row id, payload]`, or `null` once acknowledged or discarded.
pub(super) type BatchEntries = Vec<Option<(String, Value)>>;

pub(super) fn parse_batch(text: &str) -> Result<BatchEntries, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt {
        reason: format!("outbox batch is not valid: {e}"),
    })
}

pub(super) fn parse_op(op: &str) -> Result<OutboxOp, StorageError> {
    OutboxOp::from_str(op).ok_or_else(|| StorageError::Corrupt {
        reason: format!("unknown outbox operation {op:?}"),
    })
}

/// Offset of entry `index` of a batch record from the record's `seq`.
pub(super) fn batch_offset(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// Outbox entries in order, oldest first, at most `limit`: every record
/// expanded, a batch record into one entry per pending row.
pub(super) fn read_outbox(
    conn: &Connection,
    actor: Option<&str>,
    limit: usize,
) -> Result<Vec<OutboxEntry>, StorageError> {
    let mut entries = Vec::new();
    if limit == 0 {
        return Ok(entries);
    }
    const COLUMNS: &str =
        "SELECT seq, table_name, row_id, op, payload, actor, at, batch FROM lf_outbox";
    let mut stmt = match actor {
        Some(_) => conn.prepare_cached(&format!("{COLUMNS} WHERE actor = ?1 ORDER BY seq"))?,
        None => conn.prepare_cached(&format!("{COLUMNS} ORDER BY seq"))?,
    };
    let mut records = match actor {
        Some(actor) => stmt.query([actor])?,
        None => stmt.query([])?,
    };
    while let Some(r) = records.next()? {
        let seq: i64 = r.get(0)?;
        let table: String = r.get(1)?;
        let op = parse_op(&r.get::<_, String>(3)?)?;
        let actor: String = r.get(5)?;
        let at = u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0);
        match r.get::<_, Option<String>>(7)? {
            None => {
                let payload = r
                    .get::<_, Option<String>>(4)?
                    .map(|p| serde_json::from_str(&p))
                    .transpose()
                    .map_err(|e| StorageError::Corrupt {
                        reason: format!("outbox payload is not JSON: {e}"),
                    })?;
                entries.push(OutboxEntry {
                    seq,
                    table,
                    row_id: r.get(2)?,
                    op,
                    payload,
                    actor,
                    at,
                });
            }
            Some(batch) => {
                for (index, entry) in parse_batch(&batch)?.into_iter().enumerate() {
                    let Some((row_id, payload)) = entry else {
                        continue;
                    };
                    if entries.len() >= limit {
                        break;
                    }
                    entries.push(OutboxEntry {
                        seq: seq.saturating_add(batch_offset(index)),
                        table: table.clone(),
                        row_id,
                        op,
                        payload: Some(payload),
                        actor: actor.clone(),
                        at,
                    });
                }
            }
        }
        if entries.len() >= limit {
            break;
        }
    }
    Ok(entries)
}

/// Appends one outbox record: a single entry (`batch` NULL, `pending` 1) or a
/// batch record (`row_id` empty, `payload` NULL, the entries in `batch`).
pub(super) const OUTBOX_INSERT: &str =
    "INSERT INTO lf_outbox (seq, table_name, row_id, op, payload, actor, at, batch, pending)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Consecutive inserted rows with the same creator and creation time, recorded
/// in the outbox as one record: a batch record when there are several, a single
/// entry otherwise.
pub(super) struct InsertRun<'r> {
    pub(super) first_seq: i64,
    pub(super) actor: &'r str,
    pub(super) at: i64,
    pub(super) first_id: &'r str,
    /// Where the first row's payload starts in `text`.
    pub(super) first_payload: usize,
    pub(super) count: usize,
    /// The batch column being built: `[[id,payload],[id,payload]` (no closing bracket yet).
    pub(super) text: String,
}

impl<'r> InsertRun<'r> {
    pub(super) fn new(capacity: usize) -> InsertRun<'r> {
        InsertRun {
            first_seq: 0,
            actor: "",
            at: 0,
            first_id: "",
            first_payload: 0,
            count: 0,
            text: String::with_capacity(capacity),
        }
    }

    /// Whether a row by `actor` at `at` continues this run.
    pub(super) fn continues(&self, actor: &str, at: i64) -> bool {
        self.count == 0 || (self.actor == actor && self.at == at)
    }

    pub(super) fn push(
        &mut self,
        seq: i64,
        id: &'r str,
        payload: &str,
        actor: &'r str,
        at: i64,
    ) -> Result<(), StorageError> {
        if self.count == 0 {
            self.first_seq = seq;
            self.actor = actor;
            self.at = at;
            self.first_id = id;
            self.text.clear();
            self.text.push('[');
        } else {
            self.text.push(',');
        }
        self.text.push('[');
        push_json_string(&mut self.text, id)?;
        self.text.push(',');
        if self.count == 0 {
            self.first_payload = self.text.len();
        }
        self.text.push_str(payload);
        self.text.push(']');
        self.count += 1;
        Ok(())
    }

    /// Writes the run's outbox record and starts an empty run.
    pub(super) fn flush(
        &mut self,
        outbox: &mut rusqlite::CachedStatement<'_>,
        table: &str,
    ) -> Result<(), StorageError> {
        match self.count {
            0 => {}
            1 => {
                let payload = self
                    .text
                    .get(self.first_payload..self.text.len().saturating_sub(1))
                    .unwrap_or_default();
                outbox.execute(rusqlite::params![
                    self.first_seq,
                    table,
                    self.first_id,
                    OutboxOp::Insert.as_str(),
                    payload,
                    self.actor,
                    self.at,
                    Option::<&str>::None,
                    1i64
                ])?;
            }
            count => {
                self.text.push(']');
                outbox.execute(rusqlite::params![
                    self.first_seq,
                    table,
                    "",
                    OutboxOp::Insert.as_str(),
                    Option::<&str>::None,
                    self.actor,
                    self.at,
                    self.text,
                    i64::try_from(count).unwrap_or(i64::MAX)
                ])?;
            }
        }
        self.count = 0;
        Ok(())
    }
}

impl WriteTx<'_> {
    /// Hands out the next outbox sequence number (read from `lf_meta` on first use).
    pub(super) fn take_seq(&mut self) -> Result<i64, StorageError> {
        let next = match self.next_seq {
            Some((next, _)) => next,
            None => {
                let stored: Option<String> = self
                    .tx
                    .prepare_cached("SELECT value FROM lf_meta WHERE key = ?1")?
                    .query_row([NEXT_SEQ_KEY], |r| r.get(0))
                    .optional()?;
                match stored {
                    Some(text) => text.parse::<i64>().map_err(|_| StorageError::Corrupt {
                        reason: format!("outbox counter {text:?} is not a number"),
                    })?,
                    None => {
                        self.tx
                            .query_row(LAST_OUTBOX_SEQ, [], |r| r.get::<_, i64>(0))?
                            + 1
                    }
                }
            }
        };
        self.next_seq = Some((next + 1, true));
        Ok(next)
    }

    pub(super) fn append_outbox(
        &mut self,
        table: &str,
        id: &str,
        op: OutboxOp,
        payload: Option<&str>,
        actor: &Value,
        at: &Value,
    ) -> Result<(), StorageError> {
        let seq = self.take_seq()?;
        self.tx
            .prepare_cached(OUTBOX_INSERT)?
            .execute(rusqlite::params![
                seq,
                table,
                id,
                op.as_str(),
                payload,
                actor.as_str().unwrap_or_default(),
                at.as_i64().unwrap_or_default(),
                Option::<&str>::None,
                1i64
            ])?;
        Ok(())
    }

    /// Removes `actor`'s outbox entries with these sequence numbers; returns how
    /// many were removed (other actors' entries are left alone). An entry inside
    /// a batch record is removed from the batch; the record goes with its last entry.
    pub fn ack_outbox(&mut self, actor: &str, seqs: &[i64]) -> Result<usize, StorageError> {
        // Batch records touched so far, by their `seq`: entries, and whether changed.
        let mut batches: HashMap<i64, (BatchEntries, bool)> = HashMap::new();
        let mut removed = 0;
        for &seq in seqs {
            // The record that would hold `seq`: records never overlap, so it is the
            // one with the highest `seq` not above it. Other actors' are left alone.
            let record = self
                .tx
                .prepare_cached(
                    "SELECT seq, batch IS NOT NULL, actor = ?2 FROM lf_outbox
                     WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1",
                )?
                .query_row(rusqlite::params![seq, actor], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                })
                .optional()?;
            let record = match record {
                Some((record, is_batch, true)) => Some((record, is_batch)),
                _ => None,
            };
            match record {
                // A single-entry record: only its own number.
                Some((record, false)) if record == seq => removed += self.delete_record(record)?,
                Some((record, true)) => {
                    let (entries, changed) = match batches.entry(record) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            let text: String = self.tx.query_row(
                                "SELECT batch FROM lf_outbox WHERE seq = ?1",
                                [record],
                                |r| r.get(0),
                            )?;
                            e.insert((parse_batch(&text)?, false))
                        }
                    };
                    let slot = usize::try_from(seq.saturating_sub(record))
                        .ok()
                        .and_then(|index| entries.get_mut(index));
                    if let Some(entry @ Some(_)) = slot {
                        *entry = None;
                        *changed = true;
                        removed += 1;
                    }
                }
                _ => {}
            }
        }
        for (record, (entries, changed)) in batches {
            if changed {
                self.store_batch(record, &entries)?;
            }
        }
        Ok(removed)
    }

    /// Deletes the outbox record `seq`; returns how many records went (0 or 1).
    pub(super) fn delete_record(&mut self, seq: i64) -> Result<usize, StorageError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM lf_outbox WHERE seq = ?1")?
            .execute([seq])?)
    }

    /// Writes back the entries of batch record `seq` after some were removed, or
    /// deletes the record when none is left.
    pub(super) fn store_batch(
        &mut self,
        seq: i64,
        entries: &BatchEntries,
    ) -> Result<(), StorageError> {
        let pending = entries.iter().filter(|e| e.is_some()).count();
        if pending == 0 {
            self.delete_record(seq)?;
        } else {
            self.tx
                .prepare_cached("UPDATE lf_outbox SET batch = ?2, pending = ?3 WHERE seq = ?1")?
                .execute(rusqlite::params![
                    seq,
                    to_json_text(entries)?,
                    i64::try_from(pending).unwrap_or(i64::MAX)
                ])?;
        }
        Ok(())
    }
}
