//! The daemon's daily journal clean-up: runs [`Journal::prune`] with the
//! configured `keep_days` at start and then once a day, off the async
//! threads, and logs what it removed. A failure (e.g. a full disk) is
//! logged and retried the next day; the kassas never wait for it beyond
//! one batch's write lock.

use crate::journal::Journal;
use std::sync::Arc;
use std::time::Duration;

/// How often the journal is pruned.
const EVERY: Duration = Duration::from_secs(24 * 3600);

/// Starts the daily prune; it stops with the runtime.
pub fn spawn_daily_prune(journal: Arc<Journal>, keep_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let j = journal.clone();
            let result =
                tokio::task::spawn_blocking(move || j.prune(keep_days, jiff::Timestamp::now()))
                    .await;
            match result {
                Ok(Ok(p)) if p.operations > 0 || p.shifts > 0 => {
                    tracing::info!(
                        keep_days,
                        operations = p.operations,
                        shifts = p.shifts,
                        "journal pruned"
                    );
                }
                Ok(Ok(_)) => tracing::debug!(keep_days, "journal prune: nothing to remove"),
                Ok(Err(e)) => tracing::warn!(error = %e, "journal prune failed; retrying tomorrow"),
                Err(e) => tracing::warn!(error = %e, "journal prune task failed"),
            }
        }
    })
}
