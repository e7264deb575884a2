//! Operations in the journal: taking one in (idempotently), moving it
//! through the state machine of [`super::state`], and reading it back.
//!
//! Every transition is validated by [`super::state::apply`] inside the
//! write transaction that stores it, and appended to a history table, so
//! the file holds both where each operation is and how it got there.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::error::JournalError;
use super::key::{OpKey, Source};
use super::outbox::{OutboxKind, OutboxRequest, insert_outbox};
use super::state::{Event, EventName, OpState, StateName, apply};
use super::store::{Durability, Failure, Journal, now_ms, timestamp};

/// One operation as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    pub key: OpKey,
    /// The operation exactly as the cloud sent it (JSON or XML text), so it
    /// can be re-rendered or re-sent after a restart.
    pub raw: String,
    pub state: OpState,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What [`Journal::receive`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// First time this id is seen: journaled as RECEIVED.
    New(OpRecord),
    /// Already journaled (the cloud re-sent it): nothing was written. The
    /// worker must not print it again; see ARCHITECTURE.md, "The loop" 3.
    Known(OpRecord),
}

impl Received {
    /// The record, new or known.
    pub fn record(&self) -> &OpRecord {
        match self {
            Received::New(r) | Received::Known(r) => r,
        }
    }
}

/// One stored transition of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRecord {
    /// The event's name, `"Received"` for the first entry.
    pub event: String,
    pub state: OpState,
    pub at: Timestamp,
}

/// Operations that reached a final state in some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FinishedCounts {
    pub approved: u64,
    pub rejected: u64,
}

const OP_COLUMNS: &str = "id, kassa, source, op_id, raw, state_data, received_at, updated_at";

/// The kassa's operations in one state, unordered (see `ops_in_state`).
fn ops_in_state_sql() -> String {
    format!("SELECT {OP_COLUMNS} FROM operations WHERE kassa = ?1 AND state = ?2")
}

fn decode_op(row: &Row<'_>) -> Result<(i64, OpRecord), Failure> {
    let id: i64 = row.get(0)?;
    let source: String = row.get(2)?;
    let source =
        Source::parse(&source).ok_or_else(|| Failure::corrupt("operation source", &source))?;
    let state_data: String = row.get(5)?;
    let state: OpState = serde_json::from_str(&state_data)
        .map_err(|e| Failure::corrupt(format!("state of operation #{id}"), e))?;
    Ok((
        id,
        OpRecord {
            key: OpKey {
                kassa: row.get(1)?,
                source,
                op_id: row.get(3)?,
            },
            raw: row.get(4)?,
            state,
            received_at: timestamp(row.get(6)?)?,
            updated_at: timestamp(row.get(7)?)?,
        },
    ))
}

pub(crate) fn find_op(conn: &Connection, key: &OpKey) -> Result<Option<(i64, OpRecord)>, Failure> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {OP_COLUMNS} FROM operations WHERE kassa = ?1 AND source = ?2 AND op_id = ?3"
    ))?;
    let mut rows = stmt.query(params![key.kassa, key.source.as_str(), key.op_id])?;
    match rows.next()? {
        Some(row) => Ok(Some(decode_op(row)?)),
        None => Ok(None),
    }
}

pub(crate) fn find_op_by_rowid(conn: &Connection, id: i64) -> Result<OpRecord, Failure> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {OP_COLUMNS} FROM operations WHERE id = ?1"
    ))?;
    let mut rows = stmt.query(params![id])?;
    match rows.next()? {
        Some(row) => Ok(decode_op(row)?.1),
        None => Err(Failure::corrupt(
            "outbox link",
            format!("no operation #{id}"),
        )),
    }
}

fn encode_state(state: &OpState) -> Result<String, Failure> {
    serde_json::to_string(state).map_err(|e| Failure::corrupt("state to store", e))
}

/// Applies `event` to the operation with row id `id` in `tx`: validates,
/// stores the new state and its history entry.
pub(crate) fn transition(
    tx: &Transaction<'_>,
    id: i64,
    record: &OpRecord,
    event: &Event,
) -> Result<OpRecord, Failure> {
    let next = apply(&record.state, event).map_err(|source| JournalError::Transition {
        key: record.key.clone(),
        source,
    })?;
    let now = now_ms();
    let data = encode_state(&next)?;
    let finished = next.name().is_final().then_some(now);
    tx.prepare_cached(
        "UPDATE operations SET state = ?2, state_data = ?3, updated_at = ?4,
         finished_at = COALESCE(?5, finished_at) WHERE id = ?1",
    )?
    .execute(params![id, next.name().as_str(), data, now, finished])?;
    tx.prepare_cached(
        "INSERT INTO transitions (operation, event, state, state_data, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id,
        event.name().to_string(),
        next.name().as_str(),
        data,
        now
    ])?;
    Ok(OpRecord {
        state: next,
        updated_at: timestamp(now)?,
        ..record.clone()
    })
}

impl Journal {
    /// Journals a freshly polled operation as RECEIVED, with its raw body.
    /// An id already journaled for this kassa and source is left untouched
    /// and returned as [`Received::Known`].
    pub fn receive(&self, key: &OpKey, raw: &str) -> Result<Received, JournalError> {
        // Durable with the PRINTING (or reject) that follows: see
        // `Durability::WithNext`.
        self.write_with(Durability::WithNext, |tx| {
            if let Some((_, known)) = find_op(tx, key)? {
                return Ok(Received::Known(known));
            }
            let now = now_ms();
            let data = encode_state(&OpState::Received)?;
            tx.prepare_cached(
                "INSERT INTO operations
                 (kassa, source, op_id, raw, state, state_data, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                key.kassa,
                key.source.as_str(),
                key.op_id,
                raw,
                StateName::Received.as_str(),
                data,
                now
            ])?;
            let id = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT INTO transitions (operation, event, state, state_data, at)
                 VALUES (?1, 'Received', ?2, ?3, ?4)",
            )?
            .execute(params![id, StateName::Received.as_str(), data, now])?;
            Ok(Received::New(OpRecord {
                key: key.clone(),
                raw: raw.to_string(),
                state: OpState::Received,
                received_at: timestamp(now)?,
                updated_at: timestamp(now)?,
            }))
        })
    }

    /// Applies `event` and makes the new state durable before returning.
    /// Illegal events fail with [`JournalError::Transition`] and write
    /// nothing. `Reject` and `StartApproving` need their outbox request:
    /// use [`Journal::apply_and_enqueue`] for them.
    pub fn apply(&self, key: &OpKey, event: &Event) -> Result<OpRecord, JournalError> {
        if matches!(event.name(), EventName::Reject | EventName::StartApproving) {
            return Err(JournalError::OutboxRequired {
                key: key.clone(),
                event: event.name().to_string(),
            });
        }
        // PRINTED is followed at once by APPROVING with its outbox entry
        // (immediate); lost before that, recovery finds the receipt in the
        // FN. Every other state is durable before this returns.
        let durability = match event.name() {
            EventName::Printed => Durability::WithNext,
            _ => Durability::Immediate,
        };
        self.write_with(durability, |tx| {
            let (id, record) =
                find_op(tx, key)?.ok_or_else(|| JournalError::UnknownOperation(key.clone()))?;
            transition(tx, id, &record, event)
        })
    }

    /// Applies `event` and appends `request` to the kassa's outbox in the
    /// same transaction (REJECTING and APPROVING mean "the request is
    /// queued"). Returns the new record and the outbox entry id.
    pub fn apply_and_enqueue(
        &self,
        key: &OpKey,
        event: &Event,
        request: &OutboxRequest,
    ) -> Result<(OpRecord, i64), JournalError> {
        let expected = match event.name() {
            EventName::Reject => Some(OutboxKind::Reject),
            EventName::StartApproving => Some(OutboxKind::Approve),
            _ => None,
        };
        if expected != Some(request.kind) {
            return Err(JournalError::OutboxMismatch {
                key: key.clone(),
                event: event.name().to_string(),
                kind: request.kind.as_str(),
            });
        }
        self.write(|tx| {
            let (id, record) =
                find_op(tx, key)?.ok_or_else(|| JournalError::UnknownOperation(key.clone()))?;
            let next = transition(tx, id, &record, event)?;
            let entry = insert_outbox(tx, &key.kassa, request, Some(id), None)?;
            Ok((next, entry))
        })
    }

    /// Queues another request for an already journaled operation without
    /// changing its state: re-sending approve/reject when the cloud offers
    /// an operation that is already PRINTED/APPROVED or REJECTED.
    pub fn enqueue_for_operation(
        &self,
        key: &OpKey,
        request: &OutboxRequest,
    ) -> Result<i64, JournalError> {
        self.write(|tx| {
            let (id, _) =
                find_op(tx, key)?.ok_or_else(|| JournalError::UnknownOperation(key.clone()))?;
            insert_outbox(tx, &key.kassa, request, Some(id), None)
        })
    }

    /// The operation with this key, if journaled.
    pub fn get(&self, key: &OpKey) -> Result<Option<OpRecord>, JournalError> {
        self.read(|conn| Ok(find_op(conn, key)?.map(|(_, r)| r)))
    }

    /// The kassa's operations in `state`, oldest first (e.g. PRINTING for
    /// recovery, RECEIVED for work left over from before a restart).
    pub fn ops_in_state(
        &self,
        kassa: &str,
        state: StateName,
    ) -> Result<Vec<OpRecord>, JournalError> {
        self.read(|conn| {
            // Sorted here, not by ORDER BY: SQLite recompiles a cached
            // statement with ORDER BY and bound parameters on every run
            // (bundled build; see `crate::journal::outbox::entries`), and
            // the worker asks this twice per turn of its loop. A kassa has
            // a handful of operations in any unsettled state.
            let mut stmt = conn.prepare_cached(&ops_in_state_sql())?;
            let mut rows = stmt.query(params![kassa, state.as_str()])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(decode_op(row)?);
            }
            out.sort_by_key(|(id, _)| *id);
            Ok(out.into_iter().map(|(_, op)| op).collect())
        })
    }

    /// How many of the kassa's operations are in each state (states with
    /// none are absent).
    pub fn counts_by_state(&self, kassa: &str) -> Result<BTreeMap<StateName, u64>, JournalError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT state, COUNT(*) FROM operations WHERE kassa = ?1 GROUP BY state",
            )?;
            let mut rows = stmt.query(params![kassa])?;
            let mut out = BTreeMap::new();
            while let Some(row) = rows.next()? {
                let name: String = row.get(0)?;
                let state =
                    StateName::parse(&name).ok_or_else(|| Failure::corrupt("state name", &name))?;
                let count: i64 = row.get(1)?;
                out.insert(state, u64::try_from(count).unwrap_or(0));
            }
            Ok(out)
        })
    }

    /// How many of the kassa's unsettled operations (not APPROVED or
    /// REJECTED) are in each state. One index probe per state: unlike
    /// [`Journal::counts_by_state`] it does not read the whole history,
    /// so `status` stays fast on a journal holding a year of receipts.
    pub fn unsettled_counts(&self, kassa: &str) -> Result<BTreeMap<StateName, u64>, JournalError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT COUNT(*) FROM operations WHERE kassa = ?1 AND state = ?2",
            )?;
            let mut out = BTreeMap::new();
            for state in StateName::ALL.into_iter().filter(|s| !s.is_final()) {
                let count: i64 = stmt.query_row(params![kassa, state.as_str()], |r| r.get(0))?;
                if count > 0 {
                    out.insert(state, u64::try_from(count).unwrap_or(0));
                }
            }
            Ok(out)
        })
    }

    /// Operations of the kassa that became APPROVED or REJECTED at or after
    /// `since` (pass the start of the shop's day for "today").
    pub fn finished_since(
        &self,
        kassa: &str,
        since: Timestamp,
    ) -> Result<FinishedCounts, JournalError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT state, COUNT(*) FROM operations
                 WHERE kassa = ?1 AND finished_at >= ?2 GROUP BY state",
            )?;
            let mut rows = stmt.query(params![kassa, since.as_millisecond()])?;
            let mut out = FinishedCounts::default();
            while let Some(row) = rows.next()? {
                let name: String = row.get(0)?;
                let count = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
                match StateName::parse(&name) {
                    Some(StateName::Approved) => out.approved = count,
                    Some(StateName::Rejected) => out.rejected = count,
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    /// Every transition of the operation, oldest first.
    pub fn history(&self, key: &OpKey) -> Result<Vec<TransitionRecord>, JournalError> {
        self.read(|conn| {
            let Some((id, _)) = find_op(conn, key)? else {
                return Err(JournalError::UnknownOperation(key.clone()).into());
            };
            let mut stmt = conn.prepare_cached(
                "SELECT event, state_data, at FROM transitions WHERE operation = ?1 ORDER BY id",
            )?;
            let mut rows = stmt.query(params![id])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let data: String = row.get(1)?;
                out.push(TransitionRecord {
                    event: row.get(0)?,
                    state: serde_json::from_str(&data)
                        .map_err(|e| Failure::corrupt("transition state", e))?,
                    at: timestamp(row.get(2)?)?,
                });
            }
            Ok(out)
        })
    }

    /// Records the kassa's latest error (shown by `status`).
    pub fn record_error(&self, kassa: &str, message: &str) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO kassa_errors (kassa, at, message) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kassa) DO UPDATE SET at = excluded.at, message = excluded.message",
            )?
            .execute(params![kassa, now_ms(), message])?;
            Ok(())
        })
    }

    /// The kassa's latest recorded error and when it happened.
    pub fn last_error(&self, kassa: &str) -> Result<Option<(Timestamp, String)>, JournalError> {
        self.read(|conn| {
            let found = conn
                .query_row(
                    "SELECT at, message FROM kassa_errors WHERE kassa = ?1",
                    params![kassa],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?;
            match found {
                Some((at, message)) => Ok(Some((timestamp(at)?, message))),
                None => Ok(None),
            }
        })
    }

    /// Kassa names that have anything in the journal.
    pub fn kassas(&self) -> Result<Vec<String>, JournalError> {
        self.read(|conn| {
            // Distinct names by skipping through each table's kassa-first
            // index (one probe per kassa), not by reading every row: the
            // operations and outbox tables hold a year of receipts.
            let mut stmt = conn.prepare_cached(
                "WITH RECURSIVE
                   o(k) AS (SELECT MIN(kassa) FROM operations
                            UNION ALL SELECT (SELECT MIN(kassa) FROM operations WHERE kassa > o.k)
                            FROM o WHERE o.k IS NOT NULL),
                   x(k) AS (SELECT MIN(kassa) FROM outbox
                            UNION ALL SELECT (SELECT MIN(kassa) FROM outbox WHERE kassa > x.k)
                            FROM x WHERE x.k IS NOT NULL)
                 SELECT k FROM o WHERE k IS NOT NULL
                 UNION SELECT k FROM x WHERE k IS NOT NULL
                 UNION SELECT kassa FROM shifts ORDER BY 1",
            )?;
            let names = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(names)
        })
    }
}

#[cfg(test)]
mod idle_cost {
    use super::*;

    /// The worker runs this on every turn of its loop: it must run as the
    /// statement compiled once, not be recompiled per run.
    #[test]
    fn unsettled_ops_are_read_without_recompiling() {
        let dir = tempfile::tempdir().unwrap();
        let j = crate::journal::Journal::open(dir.path().join("j.db")).unwrap();
        for _ in 0..5 {
            j.ops_in_state("k", StateName::Printing).unwrap();
            j.ops_in_state("k", StateName::Received).unwrap();
        }
        j.with_connection(|c| {
            let s = c.prepare_cached(&ops_in_state_sql()).unwrap();
            assert_eq!(s.get_status(rusqlite::StatementStatus::Run), 10);
            assert_eq!(s.get_status(rusqlite::StatementStatus::RePrepare), 0);
        });
    }
}
