//! The master-kassa worker: one independent loop per configured kassa.
//!
//! - [`source`]: the [`ReceiptSource`] trait (MoySklad queue, later
//!   Kassatka) and the outbox messages;
//! - [`store`]: what the worker needs from the journal;
//! - [`kassa`]: the loop (poll, print, approve/reject); it alone owns the
//!   loop's state and decides what a failure means;
//! - [`recovery`]: exactly-once reconciliation with the FN, over a narrow
//!   borrowed context (it reports a halt, the loop halts);
//! - [`shift`]: fiscal shifts in step with MoySklad retail shifts, over the
//!   device, the journal and the status cell;
//! - [`status`]: live status for `status` and `POST /state`;
//! - [`error`]: device vs journal failures of a step, and their layer;
//! - [`fn_life`]: FN expiry, OFD backlog: stop or warn before the FN refuses;
//! - [`retention`]: the daily journal prune (`[journal] keep_days`).

pub mod daemon;
pub mod error;
pub mod fn_life;
pub mod journal_store;
pub mod kassa;
pub mod known_device;
pub mod moysklad;
pub mod poll_budget;
pub mod print_key;
pub mod queue;
pub mod recovery;
pub mod retention;
pub mod shift;
pub mod source;
pub mod status;
pub mod store;

pub use kassa::{Command, Kassa, KassaHandle, KassaSettings};
pub use source::{OutboxMessage, Polled, ReceiptSource, SourceError, SourceOperation};
pub use status::{KassaStatus, StatusCell};
pub use store::Store;

use std::time::Duration;

/// Moscow time, UTC+3: the cloud's clock and the one the FN counts shifts
/// and days in (no DST since 2014).
pub fn moscow() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(3))
}

/// Now, as Moscow local time.
pub fn moscow_now() -> kkt::DateTime {
    moscow().to_datetime(jiff::Timestamp::now())
}

/// Where a kassa reads the time of day: Moscow time by default. Daily
/// close and the FN's end-of-life checks go by it; a test that runs a
/// month in minutes gives the kassa the emulated printer's clock instead.
#[derive(Clone)]
pub struct WallClock(std::sync::Arc<dyn Fn() -> kkt::DateTime + Send + Sync>);

impl WallClock {
    /// Moscow time from the system clock.
    pub fn moscow() -> Self {
        WallClock(std::sync::Arc::new(moscow_now))
    }

    /// Another source of the time.
    pub fn from_fn(now: impl Fn() -> kkt::DateTime + Send + Sync + 'static) -> Self {
        WallClock(std::sync::Arc::new(now))
    }

    pub fn now(&self) -> kkt::DateTime {
        (self.0)()
    }
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WallClock({})", self.now())
    }
}

/// `d` ± 20 %, so many agents do not poll in lockstep.
pub fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    let ms = d.as_millis() as u64;
    if ms < 5 {
        return d;
    }
    let spread = ms / 5;
    let delta = rand::rng().random_range(0..=2 * spread);
    Duration::from_millis(ms - spread + delta)
}

#[cfg(test)]
mod tests;
