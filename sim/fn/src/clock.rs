//! The device clock: real time in Moscow (UTC+3, no DST since 2014) plus an
//! offset that tests move forward ([`Clock::advance`]) to make a shift
//! expire without waiting 24 hours. The offset is part of the persisted
//! state, so a restarted emulator keeps its time.

use std::sync::{Arc, Mutex, MutexGuard};

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};

/// Shared handle to the emulated clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<Mutex<i64>>,
}

fn moscow() -> Offset {
    Offset::constant(3)
}

impl Clock {
    /// A clock running `offset_secs` ahead of real time.
    pub fn with_offset(offset_secs: i64) -> Self {
        Clock {
            offset_secs: Arc::new(Mutex::new(offset_secs)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, i64> {
        // Plain integer: a poisoned lock still holds a valid value.
        self.offset_secs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Current device time (Moscow local civil time), whole seconds.
    pub fn now(&self) -> DateTime {
        let off = *self.lock();
        let ts = Timestamp::now()
            .checked_add(SignedDuration::from_secs(off))
            .unwrap_or(Timestamp::MAX);
        let dt = moscow().to_datetime(ts);
        dt.with().subsec_nanosecond(0).build().unwrap_or(dt)
    }

    /// Moves the clock forward (or back, if negative) by `secs`.
    pub fn advance(&self, secs: i64) {
        let mut o = self.lock();
        *o = o.saturating_add(secs);
    }

    /// Sets the clock so that `now()` reads `at`.
    pub fn set(&self, at: DateTime) {
        let target = moscow().to_timestamp(at).ok();
        if let Some(target) = target {
            let diff = target.as_second() - Timestamp::now().as_second();
            *self.lock() = diff;
        }
    }

    /// The current offset from real time, in seconds (persisted).
    pub fn offset_secs(&self) -> i64 {
        *self.lock()
    }

    /// Restores a persisted offset (an emulator loading its state file).
    pub fn set_offset_secs(&self, secs: i64) {
        *self.lock() = secs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let c = Clock::default();
        let before = c.now();
        c.advance(25 * 3600);
        let after = c.now();
        let d = before.until(after).unwrap();
        assert!(d.get_hours() >= 24 || d.get_days() >= 1, "{d:?}");
    }

    #[test]
    fn set_pins_the_reading() {
        let c = Clock::default();
        let at: DateTime = "2026-03-01T10:00:00".parse().unwrap();
        c.set(at);
        let now = c.now();
        assert!(
            now >= at && now < at + SignedDuration::from_secs(5),
            "{now}"
        );
    }
}
