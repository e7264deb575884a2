//! Periodic download of Kassatka receipts without missing any at the edges:
//! which period to ask for next, and which downloaded receipts are new.
//!
//! Each download asks for `[last end − overlap, now]`, so a receipt that
//! reached Kassatka late (clock skew, a cash box that was offline) is still
//! caught by the next window; receipts seen in two windows are handed out
//! once, by their key (CashBoxCode + DocNum). The journal is the real
//! guarantee of exactly-once printing; this only avoids handing the same
//! receipt to it again and again. Pure: the caller passes the clock.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// The next period to download and the bookkeeping around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadWindows {
    /// End of the last successful window (or the configured start).
    covered_until: Timestamp,
    overlap: SignedDuration,
}

impl DownloadWindows {
    /// Starts covering from `start` (e.g. the beginning of today, or the
    /// moment the kassa was configured).
    pub fn new(start: Timestamp, overlap: SignedDuration) -> Self {
        DownloadWindows {
            covered_until: start,
            overlap: overlap.abs(),
        }
    }

    /// The window to download now: `[covered − overlap, now]`.
    pub fn next(&self, now: Timestamp) -> (Timestamp, Timestamp) {
        let from = self
            .covered_until
            .checked_sub(self.overlap)
            .unwrap_or(self.covered_until);
        (from.min(now), now)
    }

    /// Records that everything up to `to` was downloaded.
    pub fn covered(&mut self, to: Timestamp) {
        self.covered_until = self.covered_until.max(to);
    }

    /// End of the last successful window.
    pub fn covered_until(&self) -> Timestamp {
        self.covered_until
    }

    /// Receipts older than this can no longer appear in a window.
    pub fn horizon(&self) -> Timestamp {
        let two = self.overlap.checked_mul(2).unwrap_or(self.overlap);
        self.covered_until
            .checked_sub(two)
            .unwrap_or(self.covered_until)
    }
}

/// A window bound as Kassatka's query wants it (`YYYY-MM-DD HH:MM:SS`),
/// in UTC, like the receipts' own dates (`+0000`).
pub fn query_time(t: Timestamp) -> DateTime {
    TimeZone::UTC.to_datetime(t)
}

/// Idempotency keys of receipts already handed out (see
/// [`super::ReceiptKey::idempotency_key`]), with their receipt dates so old ones
/// can be forgotten.
#[derive(Debug, Clone, Default)]
pub struct SeenKeys {
    keys: HashMap<String, Timestamp>,
}

impl SeenKeys {
    /// True (and remembered) if `key` was not seen before.
    pub fn first_time(&mut self, key: &str, date: Timestamp) -> bool {
        if self.keys.contains_key(key) {
            return false;
        }
        self.keys.insert(key.to_string(), date);
        true
    }

    /// Forgets keys of receipts dated before `horizon`: no future window
    /// reaches back that far.
    pub fn forget_before(&mut self, horizon: Timestamp) {
        self.keys.retain(|_, date| *date >= horizon);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kassatka::documents::ReceiptKey;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn key(doc: &str) -> String {
        ReceiptKey {
            cash_box_code: "189".into(),
            doc_num: doc.into(),
        }
        .idempotency_key()
    }

    #[test]
    fn windows_overlap_and_follow_successes_only() {
        let mut w = DownloadWindows::new(ts("2018-04-16T11:00:00Z"), SignedDuration::from_mins(10));
        let (from, to) = w.next(ts("2018-04-16T11:05:00Z"));
        assert_eq!(from, ts("2018-04-16T10:50:00Z"));
        assert_eq!(to, ts("2018-04-16T11:05:00Z"));
        // A failed download does not move the window: the next one still
        // starts from the last success.
        let (from, _) = w.next(ts("2018-04-16T11:06:00Z"));
        assert_eq!(from, ts("2018-04-16T10:50:00Z"));
        w.covered(to);
        let (from, to) = w.next(ts("2018-04-16T11:07:00Z"));
        assert_eq!(from, ts("2018-04-16T10:55:00Z"));
        assert_eq!(to, ts("2018-04-16T11:07:00Z"));
        // Never backwards.
        w.covered(ts("2018-04-16T10:00:00Z"));
        assert_eq!(w.covered_until(), ts("2018-04-16T11:05:00Z"));
        assert_eq!(w.horizon(), ts("2018-04-16T10:45:00Z"));
        assert_eq!(
            query_time(ts("2018-04-16T11:05:00Z")).to_string(),
            "2018-04-16T11:05:00"
        );
    }

    #[test]
    fn a_start_in_the_future_gives_an_empty_window_not_a_reversed_one() {
        let w = DownloadWindows::new(ts("2030-01-01T00:00:00Z"), SignedDuration::from_mins(10));
        let (from, to) = w.next(ts("2026-01-01T00:00:00Z"));
        assert!(from <= to);
    }

    #[test]
    fn keys_are_handed_out_once_and_forgotten_past_the_horizon() {
        let mut seen = SeenKeys::default();
        assert!(seen.first_time(&key("a"), ts("2018-04-16T11:00:00Z")));
        assert!(!seen.first_time(&key("a"), ts("2018-04-16T11:00:00Z")));
        assert!(seen.first_time(&key("b"), ts("2018-04-16T12:00:00Z")));
        seen.forget_before(ts("2018-04-16T11:30:00Z"));
        assert_eq!(seen.len(), 1);
        assert!(!seen.first_time(&key("b"), ts("2018-04-16T12:00:00Z")));
    }
}
