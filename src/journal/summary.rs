//! One read that gathers what `status` shows about a kassa from the
//! journal alone (it works with the daemon down, on a read-only journal).

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::error::JournalError;
use super::ops::FinishedCounts;
use super::outbox::OutboxEntry;
use super::shifts::ShiftRecord;
use super::state::StateName;
use super::store::Journal;

/// What the journal knows about one kassa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KassaSummary {
    pub kassa: String,
    /// Unsettled operations per state (absent states have none; APPROVED
    /// and REJECTED are counted per day in `today`, since counting all of
    /// history would make `status` slow on a year-old journal).
    pub counts: BTreeMap<StateName, u64>,
    /// Finished since the `day_start` given to [`Journal::kassa_summary`].
    pub today: FinishedCounts,
    /// Requests still to be delivered, oldest first.
    pub outbox_pending: Vec<OutboxEntry>,
    /// Requests the cloud refused for good.
    pub outbox_failed: Vec<OutboxEntry>,
    /// The most recent shift.
    pub shift: Option<ShiftRecord>,
    /// The latest recorded error.
    pub last_error: Option<(Timestamp, String)>,
    /// Bytes the whole journal (every kassa) takes on disk.
    pub journal_bytes: u64,
}

impl KassaSummary {
    /// Operations in `state`.
    pub fn count(&self, state: StateName) -> u64 {
        self.counts.get(&state).copied().unwrap_or(0)
    }
}

impl Journal {
    /// Everything `status` shows about the kassa. `day_start` is the start
    /// of the shop's day, for the "approved / rejected today" counts.
    pub fn kassa_summary(
        &self,
        kassa: &str,
        day_start: Timestamp,
    ) -> Result<KassaSummary, JournalError> {
        Ok(KassaSummary {
            kassa: kassa.to_string(),
            counts: self.unsettled_counts(kassa)?,
            today: self.finished_since(kassa, day_start)?,
            outbox_pending: self.outbox_pending(kassa)?,
            outbox_failed: self.outbox_failed(kassa)?,
            shift: self.last_shift(kassa)?,
            last_error: self.last_error(kassa)?,
            journal_bytes: self.size_bytes()?,
        })
    }
}
