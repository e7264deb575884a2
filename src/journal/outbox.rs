//! The outbox: requests to the cloud (approve, reject, openshift,
//! closeshift) that must eventually be delivered, per kassa in FIFO order.
//!
//! An entry is written in the same transaction as the state change that
//! needs it, so a crash can never leave an operation APPROVING with no
//! approve queued. Delivery is acknowledged with
//! [`Journal::outbox_delivered`], which in the same transaction finishes
//! what the entry stood for (APPROVING → APPROVED, REJECTING → REJECTED,
//! shift marked synced). A permanent 4xx is recorded with
//! [`Journal::outbox_failed_permanently`]: the entry leaves the queue, stays
//! visible to `status`, and the receipt is never reprinted.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::error::JournalError;
use super::key::OpKey;
use super::ops::{find_op, find_op_by_rowid, transition};
use super::state::{Event, StateName};
use super::store::{Failure, Journal, now_ms, timestamp};

/// What an outbox entry asks the cloud to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    Approve,
    Reject,
    OpenShift,
    CloseShift,
}

impl OutboxKind {
    pub const ALL: [OutboxKind; 4] = [
        OutboxKind::Approve,
        OutboxKind::Reject,
        OutboxKind::OpenShift,
        OutboxKind::CloseShift,
    ];

    /// The stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxKind::Approve => "approve",
            OutboxKind::Reject => "reject",
            OutboxKind::OpenShift => "openshift",
            OutboxKind::CloseShift => "closeshift",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxKind> {
        OutboxKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where an outbox entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting to be (re)sent.
    Pending,
    /// The cloud answered 2xx.
    Delivered,
    /// The cloud refused it for good (4xx); kept for `status`.
    Failed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 3] = [
        OutboxStatus::Pending,
        OutboxStatus::Delivered,
        OutboxStatus::Failed,
    ];

    /// The stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxStatus::Pending => "PENDING",
            OutboxStatus::Delivered => "DELIVERED",
            OutboxStatus::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A request to queue: its kind and the exact body to send (JSON for
/// MoySklad, XML for Kassatka), built by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRequest {
    pub kind: OutboxKind,
    pub body: String,
}

impl OutboxRequest {
    pub fn new(kind: OutboxKind, body: impl Into<String>) -> OutboxRequest {
        OutboxRequest {
            kind,
            body: body.into(),
        }
    }
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Increasing: FIFO order within a kassa.
    pub id: i64,
    pub kassa: String,
    pub kind: OutboxKind,
    /// The operation it belongs to (approve / reject).
    pub operation: Option<OpKey>,
    /// The journal id of the shift it belongs to (openshift / closeshift).
    pub shift: Option<i64>,
    pub body: String,
    pub status: OutboxStatus,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

pub(crate) fn insert_outbox(
    tx: &Transaction<'_>,
    kassa: &str,
    request: &OutboxRequest,
    operation: Option<i64>,
    shift: Option<i64>,
) -> Result<i64, Failure> {
    tx.prepare_cached(
        "INSERT INTO outbox (kassa, kind, operation, shift, body, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        kassa,
        request.kind.as_str(),
        operation,
        shift,
        request.body,
        OutboxStatus::Pending.as_str(),
        now_ms()
    ])?;
    Ok(tx.last_insert_rowid())
}

const ENTRY_COLUMNS: &str = "id, kassa, kind, operation, shift, body, status, attempts, \
                             last_error, last_attempt_at, created_at";

fn decode_entry(conn: &Connection, row: &Row<'_>) -> Result<OutboxEntry, Failure> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(2)?;
    let status: String = row.get(6)?;
    let operation: Option<i64> = row.get(3)?;
    let operation = match operation {
        Some(op) => Some(find_op_by_rowid(conn, op)?.key),
        None => None,
    };
    let last_attempt_at: Option<i64> = row.get(9)?;
    Ok(OutboxEntry {
        id,
        kassa: row.get(1)?,
        kind: OutboxKind::parse(&kind).ok_or_else(|| Failure::corrupt("outbox kind", &kind))?,
        operation,
        shift: row.get(4)?,
        body: row.get(5)?,
        status: OutboxStatus::parse(&status)
            .ok_or_else(|| Failure::corrupt("outbox status", &status))?,
        attempts: u32::try_from(row.get::<_, i64>(7)?).unwrap_or(u32::MAX),
        last_error: row.get(8)?,
        last_attempt_at: last_attempt_at.map(timestamp).transpose()?,
        created_at: timestamp(row.get(10)?)?,
    })
}

/// Whether the kassa has any entry in a status; no ORDER BY (see `entries`).
const ANY_ENTRY_SQL: &str = "SELECT 1 FROM outbox WHERE kassa = ?1 AND status = ?2 LIMIT 1";

fn entries(
    conn: &Connection,
    kassa: &str,
    status: OutboxStatus,
    limit: i64,
) -> Result<Vec<OutboxEntry>, Failure> {
    // SQLite recompiles a cached statement that has ORDER BY and bound
    // parameters each time it runs (measured: every run after the first,
    // `StatementStatus::RePrepare`); with the outbox empty, as it is on
    // nearly every turn of an idle kassa, a probe without ORDER BY says so
    // without that cost.
    let mut probe = conn.prepare_cached(ANY_ENTRY_SQL)?;
    if !probe.exists(params![kassa, status.as_str()])? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM outbox WHERE kassa = ?1 AND status = ?2 ORDER BY id LIMIT ?3"
    ))?;
    let mut rows = stmt.query(params![kassa, status.as_str(), limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode_entry(conn, row)?);
    }
    Ok(out)
}

fn entry_by_id(conn: &Connection, id: i64) -> Result<OutboxEntry, Failure> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id = ?1"))?;
    let mut rows = stmt.query(params![id])?;
    match rows.next()? {
        Some(row) => decode_entry(conn, row),
        None => Err(JournalError::UnknownOutboxEntry(id).into()),
    }
}

impl Journal {
    /// The oldest pending entry of the kassa: the next one to send.
    pub fn outbox_next(&self, kassa: &str) -> Result<Option<OutboxEntry>, JournalError> {
        self.read(|conn| Ok(entries(conn, kassa, OutboxStatus::Pending, 1)?.pop()))
    }

    /// All pending entries of the kassa, oldest first.
    pub fn outbox_pending(&self, kassa: &str) -> Result<Vec<OutboxEntry>, JournalError> {
        self.read(|conn| entries(conn, kassa, OutboxStatus::Pending, i64::MAX))
    }

    /// Entries the cloud refused for good, oldest first.
    pub fn outbox_failed(&self, kassa: &str) -> Result<Vec<OutboxEntry>, JournalError> {
        self.read(|conn| entries(conn, kassa, OutboxStatus::Failed, i64::MAX))
    }

    /// The body of the first `kind` entry ever queued for operation `key`
    /// (whatever its status): what a re-sent approve/reject must repeat
    /// byte for byte.
    pub fn first_outbox_body(
        &self,
        key: &OpKey,
        kind: OutboxKind,
    ) -> Result<Option<String>, JournalError> {
        self.read(|conn| {
            let Some((op_row, _)) = find_op(conn, key)? else {
                return Ok(None);
            };
            Ok(conn
                .query_row(
                    "SELECT body FROM outbox WHERE operation = ?1 AND kind = ?2 ORDER BY id LIMIT 1",
                    params![op_row, kind.as_str()],
                    |r| r.get::<_, String>(0),
                )
                .optional()?)
        })
    }

    /// Queues the openshift of retail shift `shift_id` again (a copy of the
    /// first one queued for it), unless a copy is already pending: the
    /// cloud says it does not know the shift, so that message was lost
    /// somewhere after the agent counted it delivered. False when the kassa
    /// never queued an openshift for that shift.
    pub fn requeue_open_shift(&self, kassa: &str, shift_id: &str) -> Result<bool, JournalError> {
        let needle = format!("\"shift_id\":{}", serde_json::Value::from(shift_id));
        self.write(|tx| {
            let first = tx
                .query_row(
                    "SELECT shift, body FROM outbox
                     WHERE kassa = ?1 AND kind = ?2 AND instr(body, ?3) > 0 ORDER BY id LIMIT 1",
                    params![kassa, OutboxKind::OpenShift.as_str(), needle],
                    |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?;
            let Some((shift, body)) = first else {
                return Ok(false);
            };
            let pending: i64 = tx.query_row(
                "SELECT COUNT(*) FROM outbox
                 WHERE kassa = ?1 AND kind = ?2 AND status = ?3 AND instr(body, ?4) > 0",
                params![
                    kassa,
                    OutboxKind::OpenShift.as_str(),
                    OutboxStatus::Pending.as_str(),
                    needle
                ],
                |r| r.get(0),
            )?;
            if pending == 0 {
                insert_outbox(
                    tx,
                    kassa,
                    &OutboxRequest::new(OutboxKind::OpenShift, body),
                    None,
                    shift,
                )?;
            }
            Ok(true)
        })
    }

    /// One entry by id.
    pub fn outbox_entry(&self, id: i64) -> Result<OutboxEntry, JournalError> {
        self.read(|conn| entry_by_id(conn, id))
    }

    /// The cloud accepted entry `id`. In the same transaction: an approve
    /// moves its operation APPROVING → APPROVED, a reject REJECTING →
    /// REJECTED (a re-sent request for an operation already final changes
    /// nothing), openshift / closeshift mark the shift synced. Delivering
    /// an entry twice is harmless.
    pub fn outbox_delivered(&self, id: i64) -> Result<OutboxEntry, JournalError> {
        self.write(|tx| {
            let entry = entry_by_id(tx, id)?;
            if entry.status == OutboxStatus::Delivered {
                return Ok(entry);
            }
            tx.prepare_cached("UPDATE outbox SET status = ?2, done_at = ?3 WHERE id = ?1")?
                .execute(params![id, OutboxStatus::Delivered.as_str(), now_ms()])?;
            if let Some(op_row) = tx
                .query_row(
                    "SELECT operation FROM outbox WHERE id = ?1",
                    params![id],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .optional()?
                .flatten()
            {
                let record = find_op_by_rowid(tx, op_row)?;
                let event = match (entry.kind, record.state.name()) {
                    (OutboxKind::Approve, StateName::Approving) => Some(Event::ApproveDelivered),
                    (OutboxKind::Reject, StateName::Rejecting) => Some(Event::RejectDelivered),
                    _ => None,
                };
                if let Some(event) = event {
                    transition(tx, op_row, &record, &event)?;
                }
            }
            if let Some(shift) = entry.shift {
                let column = match entry.kind {
                    OutboxKind::OpenShift => Some("open_synced"),
                    OutboxKind::CloseShift => Some("close_synced"),
                    _ => None,
                };
                if let Some(column) = column {
                    tx.execute(
                        &format!("UPDATE shifts SET {column} = 1, updated_at = ?2 WHERE id = ?1"),
                        params![shift, now_ms()],
                    )?;
                }
            }
            Ok(OutboxEntry {
                status: OutboxStatus::Delivered,
                ..entry
            })
        })
    }

    /// A delivery attempt failed in a way worth retrying (network, 5xx,
    /// 429): counts it and keeps the error. Returns the attempts so far.
    pub fn outbox_attempt_failed(&self, id: i64, error: &str) -> Result<u32, JournalError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                     last_attempt_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, error, now_ms()])?;
            if changed == 0 {
                return Err(JournalError::UnknownOutboxEntry(id).into());
            }
            let attempts: i64 = tx.query_row(
                "SELECT attempts FROM outbox WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            Ok(u32::try_from(attempts).unwrap_or(u32::MAX))
        })
    }

    /// The cloud refused entry `id` for good (a 4xx that retrying cannot
    /// fix): it leaves the queue, keeps `error`, and shows in `status`.
    pub fn outbox_failed_permanently(&self, id: i64, error: &str) -> Result<(), JournalError> {
        self.set_outbox_status(id, OutboxStatus::Failed, Some(error))
    }

    /// Puts a permanently failed entry back in the queue (after someone
    /// fixed the cause), keeping its place in FIFO order.
    pub fn outbox_retry(&self, id: i64) -> Result<(), JournalError> {
        self.set_outbox_status(id, OutboxStatus::Pending, None)
    }

    fn set_outbox_status(
        &self,
        id: i64,
        status: OutboxStatus,
        error: Option<&str>,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET status = ?2, last_error = COALESCE(?3, last_error),
                     attempts = attempts + (?3 IS NOT NULL), last_attempt_at = ?4,
                     done_at = CASE WHEN ?2 = 'PENDING' THEN NULL ELSE ?4 END
                     WHERE id = ?1 AND status != 'DELIVERED'",
                )?
                .execute(params![id, status.as_str(), error, now_ms()])?;
            if changed == 0 {
                // Unknown, or already delivered (nothing to fail or retry).
                entry_by_id(tx, id)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod idle_cost {
    use super::*;

    /// An idle kassa asks for its next outbox entry on every turn.
    #[test]
    fn an_empty_outbox_is_told_without_recompiling() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("j.db")).unwrap();
        for _ in 0..5 {
            assert!(j.outbox_next("k").unwrap().is_none());
        }
        j.with_connection(|c| {
            let s = c.prepare_cached(ANY_ENTRY_SQL).unwrap();
            assert_eq!(s.get_status(rusqlite::StatementStatus::Run), 5);
            assert_eq!(s.get_status(rusqlite::StatementStatus::RePrepare), 0);
        });
    }
}
