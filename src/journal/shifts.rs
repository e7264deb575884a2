//! Shifts in the journal: the device's fiscal shift and its MoySklad
//! retail shift as one record. The retail shift's syncId is generated and
//! made durable when the shift record is created — before the device opens
//! the shift and before `PUT /rpc/openshift` — so a retry after a crash
//! reuses it and the cloud never sees two shifts for one.

use jiff::Timestamp;
use kkt::ShiftOpened;
use rusqlite::{Connection, Row, Transaction, params};

use super::error::JournalError;
use super::outbox::{OutboxRequest, insert_outbox};
use super::shift_state::{ShiftEvent, ShiftState, ShiftStateName, apply_shift};
use super::store::{Failure, Journal, now_ms, timestamp};

/// One shift as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftRecord {
    /// Journal id (referenced by outbox entries).
    pub id: i64,
    pub kassa: String,
    /// The MoySklad retail shift syncId (UUID), fixed at creation.
    pub sync_id: String,
    /// FN the shift documents are (to be) signed by.
    pub fn_serial: String,
    pub state: ShiftState,
    /// The cloud accepted openshift.
    pub open_synced: bool,
    /// The cloud accepted closeshift.
    pub close_synced: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SHIFT_COLUMNS: &str = "id, kassa, sync_id, fn_serial, state_data, open_synced, \
                             close_synced, created_at, updated_at";

fn decode_shift(row: &Row<'_>) -> Result<ShiftRecord, Failure> {
    let id: i64 = row.get(0)?;
    let data: String = row.get(4)?;
    Ok(ShiftRecord {
        id,
        kassa: row.get(1)?,
        sync_id: row.get(2)?,
        fn_serial: row.get(3)?,
        state: serde_json::from_str(&data)
            .map_err(|e| Failure::corrupt(format!("state of shift #{id}"), e))?,
        open_synced: row.get(5)?,
        close_synced: row.get(6)?,
        created_at: timestamp(row.get(7)?)?,
        updated_at: timestamp(row.get(8)?)?,
    })
}

fn query_shift(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Option<ShiftRecord>, Failure> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE {filter} ORDER BY id DESC LIMIT 1"
    ))?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(decode_shift(row)?)),
        None => Ok(None),
    }
}

fn active_shift(conn: &Connection, kassa: &str) -> Result<Option<ShiftRecord>, Failure> {
    query_shift(
        conn,
        "kassa = ?1 AND state != ?2",
        params![kassa, ShiftStateName::Closed.as_str()],
    )
}

fn encode(state: &ShiftState) -> Result<String, Failure> {
    serde_json::to_string(state).map_err(|e| Failure::corrupt("shift state to store", e))
}

fn insert_shift(
    tx: &Transaction<'_>,
    kassa: &str,
    fn_serial: &str,
    state: &ShiftState,
) -> Result<ShiftRecord, Failure> {
    if let Some(active) = active_shift(tx, kassa)? {
        return Err(JournalError::ShiftAlreadyActive {
            kassa: kassa.to_string(),
            active: active.id,
        }
        .into());
    }
    let sync_id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    tx.prepare_cached(
        "INSERT INTO shifts (kassa, sync_id, fn_serial, state, state_data, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        kassa,
        sync_id,
        fn_serial,
        state.name().as_str(),
        encode(state)?,
        now
    ])?;
    Ok(ShiftRecord {
        id: tx.last_insert_rowid(),
        kassa: kassa.to_string(),
        sync_id,
        fn_serial: fn_serial.to_string(),
        state: state.clone(),
        open_synced: false,
        close_synced: false,
        created_at: timestamp(now)?,
        updated_at: timestamp(now)?,
    })
}

fn shift_transition(
    tx: &Transaction<'_>,
    id: i64,
    event: &ShiftEvent,
) -> Result<ShiftRecord, Failure> {
    let record = query_shift(tx, "id = ?1", params![id])?.ok_or(JournalError::UnknownShift(id))?;
    let next = apply_shift(&record.state, event)
        .map_err(|source| JournalError::ShiftTransition { id, source })?;
    let now = now_ms();
    tx.prepare_cached(
        "UPDATE shifts SET state = ?2, state_data = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, next.name().as_str(), encode(&next)?, now])?;
    Ok(ShiftRecord {
        state: next,
        updated_at: timestamp(now)?,
        ..record
    })
}

impl Journal {
    /// Starts a new shift for the kassa in OPENING, with a fresh retail
    /// shift syncId, before the device is asked to open it. Fails with
    /// [`JournalError::ShiftAlreadyActive`] if the kassa has a shift that
    /// is not closed.
    pub fn begin_shift(
        &self,
        kassa: &str,
        fn_serial: &str,
        expected_fd: u32,
    ) -> Result<ShiftRecord, JournalError> {
        self.write(|tx| insert_shift(tx, kassa, fn_serial, &ShiftState::Opening { expected_fd }))
    }

    /// Journals a shift found already open on the device (opened outside
    /// the agent, or before the journal existed) as OPEN, with a fresh
    /// syncId, and queues `openshift` for it in the same transaction.
    pub fn adopt_open_shift(
        &self,
        kassa: &str,
        fn_serial: &str,
        opened: ShiftOpened,
        openshift: &OutboxRequest,
    ) -> Result<(ShiftRecord, i64), JournalError> {
        self.write(|tx| {
            let record = insert_shift(tx, kassa, fn_serial, &ShiftState::Open { opened })?;
            let entry = insert_outbox(tx, kassa, openshift, None, Some(record.id))?;
            Ok((record, entry))
        })
    }

    /// Applies a shift event and makes it durable before returning.
    pub fn apply_shift(&self, id: i64, event: &ShiftEvent) -> Result<ShiftRecord, JournalError> {
        self.write(|tx| shift_transition(tx, id, event))
    }

    /// Applies a shift event and queues its cloud request (openshift after
    /// `Opened`, closeshift after `Closed`) in the same transaction.
    pub fn apply_shift_and_enqueue(
        &self,
        id: i64,
        event: &ShiftEvent,
        request: &OutboxRequest,
    ) -> Result<(ShiftRecord, i64), JournalError> {
        self.write(|tx| {
            let record = shift_transition(tx, id, event)?;
            let entry = insert_outbox(tx, &record.kassa, request, None, Some(id))?;
            Ok((record, entry))
        })
    }

    /// The kassa's shift that is not closed yet (OPENING, OPEN or CLOSING).
    pub fn active_shift(&self, kassa: &str) -> Result<Option<ShiftRecord>, JournalError> {
        self.read(|conn| active_shift(conn, kassa))
    }

    /// The kassa's most recent shift, in any state.
    pub fn last_shift(&self, kassa: &str) -> Result<Option<ShiftRecord>, JournalError> {
        self.read(|conn| query_shift(conn, "kassa = ?1", params![kassa]))
    }

    /// One shift by journal id.
    pub fn shift(&self, id: i64) -> Result<ShiftRecord, JournalError> {
        self.read(|conn| {
            Ok(query_shift(conn, "id = ?1", params![id])?.ok_or(JournalError::UnknownShift(id))?)
        })
    }
}
