//! Row operations of the [`Db`]: writes, reads, subscriptions and the outbox
//! seam.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::local_db::{self, apply_patch, build_insert_row, OutboxEntry, Query};
use crate::policy::Operation;
use crate::session::Session;

use super::delivery::Delivery;
use super::inner::{deny_anonymous, Inner};
use super::row::{Row, RowValues};
use super::subscription::{DataSub, RowsListener, Subscription};
use super::{lock, Db, DbError};

impl Db {
    /// Inserts a row. `values` holds the user's columns and optionally a string
    /// `id` (a UUIDv4 is generated otherwise). Returns the stored row, with the
    /// system columns stamped from the session and the clock.
    pub fn insert(&self, table: &str, values: RowValues) -> Result<Row, DbError> {
        let mut rows = self.insert_many(table, vec![values])?;
        rows.pop().ok_or_else(|| DbError::InvalidArgument {
            reason: "nothing was inserted".into(),
        })
    }

    /// Inserts several rows in one transaction: all or none.
    pub fn insert_many(&self, table: &str, rows: Vec<RowValues>) -> Result<Vec<Row>, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Insert)?;
        let now = self.inner.clock.now_unix();
        let built = rows
            .into_iter()
            .map(|values| build_insert_row(values.into_stored(), &session.user_id, now))
            .collect::<Result<Vec<_>, _>>()?;
        for row in &built {
            self.check_write(table, Operation::Insert, &session, None, Some(row))?;
        }
        self.inner
            .store
            .write(|w| -> Result<(), DbError> { Ok(w.insert_rows(table, &built)?) })?;
        Ok(built.into_iter().map(Row::from_stored).collect())
    }

    /// Patches row `id`: each column of `patch` replaces that column. Returns
    /// the updated row. The update policy sees the row before and after.
    pub fn update(&self, table: &str, id: &str, patch: RowValues) -> Result<Row, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Update)?;
        let now = self.inner.clock.now_unix();
        let patch = patch.as_stored();
        let row = self
            .inner
            .store
            .write(|w| -> Result<local_db::Row, DbError> {
                let old = w.get(table, id)?.ok_or_else(|| DbError::NotFound {
                    table: table.to_owned(),
                    id: id.to_owned(),
                })?;
                let new = apply_patch(&old, patch, &session.user_id, now)?;
                self.check_write(table, Operation::Update, &session, Some(&old), Some(&new))?;
                w.update_row(table, &new, patch)?;
                Ok(new)
            })?;
        Ok(Row::from_stored(row))
    }

    /// Deletes row `id`; returns the deleted row.
    pub fn delete(&self, table: &str, id: &str) -> Result<Row, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Delete)?;
        let now = self.inner.clock.now_unix();
        let row = self
            .inner
            .store
            .write(|w| -> Result<local_db::Row, DbError> {
                let old = w.get(table, id)?.ok_or_else(|| DbError::NotFound {
                    table: table.to_owned(),
                    id: id.to_owned(),
                })?;
                self.check_write(table, Operation::Delete, &session, Some(&old), None)?;
                w.delete_row(table, id, &session.user_id, now)?;
                Ok(old)
            })?;
        Ok(Row::from_stored(row))
    }

    /// Row `id` of `table`, or `None` if absent or not readable under the policy set.
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, DbError> {
        self.inner.ensure_open()?;
        let row = self.inner.store.get(table, id)?;
        let session = self.inner.session();
        Ok(row
            .filter(|row| self.inner.can_read(table, &session, row))
            .map(Row::from_stored))
    }

    /// Rows matching `query`, leaving out rows the read policy does not grant.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        self.inner.ensure_open()?;
        Ok(self
            .inner
            .visible_query(query)?
            .into_iter()
            .map(Row::from_stored)
            .collect())
    }

    /// Calls `listener` at once with the rows of `query`, then after every
    /// committed change (by any `Db` of this namespace in this process) that
    /// changes the result. Changes from other processes are picked up by
    /// [`Db::refresh`]. Cancelling or dropping the returned handle unsubscribes.
    pub fn subscribe(
        &self,
        query: Query,
        listener: Arc<dyn RowsListener>,
    ) -> Result<Subscription, DbError> {
        self.inner.ensure_open()?;
        query.validate()?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let sub = Arc::new(DataSub {
            id,
            query,
            last: Mutex::new(None),
            delivery: Delivery::new(Box::new(move |rows| listener.on_rows_changed(rows))),
        });
        lock(&self.inner.subs).push(Arc::clone(&sub));
        let remove = move |inner: &Inner| lock(&inner.subs).retain(|s| s.id != id);
        {
            let mut last = lock(&sub.last);
            let rows = match self.inner.visible_query(&sub.query) {
                Ok(rows) => rows,
                Err(error) => {
                    drop(last);
                    remove(&self.inner);
                    return Err(error);
                }
            };
            if last.is_none() {
                sub.queue(&mut last, rows);
            }
        }
        sub.delivery.drain();
        let weak = Arc::downgrade(&self.inner);
        let delivery = Arc::clone(&sub.delivery);
        Ok(Subscription::new(move || {
            delivery.stop();
            if let Some(inner) = weak.upgrade() {
                remove(&inner);
            }
        }))
    }

    /// Picks up changes committed by other processes: if the database changed
    /// since the last call, every subscription re-runs. Returns whether it changed.
    pub fn refresh(&self) -> Result<bool, DbError> {
        self.inner.ensure_open()?;
        let changed = self.inner.store.poll_external_changes()?;
        if changed {
            local_db::ChangeSink::storage_reset(self.inner.as_ref());
        }
        Ok(changed)
    }

    /// Creates an index on `column` of `table` so filters on it stay fast.
    pub fn create_index(&self, table: &str, column: &str) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.create_index(table, column)?)
    }

    /// Sync seam: at most `limit` of this principal's pending outbox entries,
    /// oldest first.
    pub fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, DbError> {
        self.inner.ensure_open()?;
        let user = self.user_id();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self.inner.store.outbox_pending(Some(&user), limit)?)
    }

    /// Sync seam: removes this principal's entries the server accepted; returns
    /// how many were removed. Sequence numbers of other principals' entries are
    /// ignored (they are not this session's to acknowledge).
    pub fn ack_outbox(&self, seqs: Vec<i64>) -> Result<u64, DbError> {
        self.inner.ensure_open()?;
        let user = self.user_id();
        let removed = self.inner.store.outbox_ack(&user, &seqs)?;
        Ok(u64::try_from(removed).unwrap_or(u64::MAX))
    }

    /// Number of outbox entries (all principals).
    pub fn outbox_len(&self) -> Result<u64, DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.outbox_len()?)
    }

    fn check_write(
        &self,
        table: &str,
        operation: Operation,
        session: &Session,
        old: Option<&local_db::Row>,
        new: Option<&local_db::Row>,
    ) -> Result<(), DbError> {
        if let Some(policies) = &self.inner.policies {
            policies.check(table, operation, session, old, new)?;
        }
        Ok(())
    }
}
