//! Retention: removing what the journal no longer needs, and its size.
//!
//! A settled operation (APPROVED or REJECTED, its answer delivered) is kept
//! for `keep_days` after it finished — 400 by default, longer than a fiscal
//! year — so the cloud handing it out again within that time is answered,
//! never printed twice. Anything unsettled (RECEIVED, PRINTING, PRINTED,
//! APPROVING, REJECTING) or with an outbox entry not delivered (pending, or
//! refused and parked) is never removed, however old: it is work or
//! evidence. The same holds for shifts: only a closed shift whose openshift
//! and closeshift were both accepted goes, and never a kassa's latest one.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Transaction, params};

use super::error::JournalError;
use super::store::{Failure, Journal};

/// Default `[journal] keep_days`.
pub const DEFAULT_KEEP_DAYS: u32 = 400;

/// What one [`Journal::prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub operations: u64,
    pub shifts: u64,
}

/// Operations finished before the cutoff, settled, with every outbox entry
/// delivered.
const PRUNABLE_OPS: &str = "SELECT id FROM operations o
     WHERE o.finished_at IS NOT NULL AND o.finished_at < ?1
       AND o.state IN ('APPROVED', 'REJECTED')
       AND NOT EXISTS (SELECT 1 FROM outbox x
                       WHERE x.operation = o.id AND x.status != 'DELIVERED')";

/// Closed, fully synced shifts last changed before the cutoff that are not
/// their kassa's latest shift and have every outbox entry delivered.
const PRUNABLE_SHIFTS: &str = "SELECT id FROM shifts s
     WHERE s.state = 'CLOSED' AND s.open_synced = 1 AND s.close_synced = 1
       AND s.updated_at < ?1
       AND s.id != (SELECT MAX(id) FROM shifts l WHERE l.kassa = s.kassa)
       AND NOT EXISTS (SELECT 1 FROM outbox x
                       WHERE x.shift = s.id AND x.status != 'DELIVERED')";

/// Rows removed per transaction: a year of a busy shop is pruned without
/// holding the write lock (and the kassas) for long.
const BATCH: i64 = 2000;

fn prune_batch(tx: &Transaction<'_>, cutoff_ms: i64) -> Result<Pruned, Failure> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS prune_ops (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS prune_shifts (id INTEGER PRIMARY KEY);
         DELETE FROM prune_ops; DELETE FROM prune_shifts;",
    )?;
    tx.execute(
        &format!("INSERT INTO prune_ops {PRUNABLE_OPS} LIMIT ?2"),
        params![cutoff_ms, BATCH],
    )?;
    tx.execute(
        &format!("INSERT INTO prune_shifts {PRUNABLE_SHIFTS} LIMIT ?2"),
        params![cutoff_ms, BATCH],
    )?;
    tx.execute_batch(
        "DELETE FROM transitions WHERE operation IN (SELECT id FROM prune_ops);
         DELETE FROM outbox WHERE operation IN (SELECT id FROM prune_ops)
                               OR shift IN (SELECT id FROM prune_shifts);",
    )?;
    let operations = tx.execute(
        "DELETE FROM operations WHERE id IN (SELECT id FROM prune_ops)",
        [],
    )?;
    let shifts = tx.execute(
        "DELETE FROM shifts WHERE id IN (SELECT id FROM prune_shifts)",
        [],
    )?;
    Ok(Pruned {
        operations: operations as u64,
        shifts: shifts as u64,
    })
}

impl Journal {
    /// Removes settled operations and synced shifts finished more than
    /// `keep_days` before `now` (see the module doc for what is never
    /// removed). Runs in batches, each its own durable transaction, so a
    /// crash midway loses nothing that should stay.
    pub fn prune(&self, keep_days: u32, now: Timestamp) -> Result<Pruned, JournalError> {
        let keep = SignedDuration::from_hours(i64::from(keep_days) * 24);
        let cutoff = now
            .checked_sub(keep)
            .unwrap_or(Timestamp::MIN)
            .as_millisecond();
        let mut total = Pruned::default();
        loop {
            let batch = self.write(|tx| prune_batch(tx, cutoff))?;
            total.operations += batch.operations;
            total.shifts += batch.shifts;
            if batch.operations < BATCH as u64 && batch.shifts < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Bytes the journal takes on disk: the database file and its WAL.
    pub fn size_bytes(&self) -> Result<u64, JournalError> {
        let db = self.read(|conn| {
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok(u64::try_from(pages.saturating_mul(size)).unwrap_or(0))
        })?;
        let mut wal = self.path().as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
        Ok(db.saturating_add(wal))
    }
}
