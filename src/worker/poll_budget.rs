//! How often an idle kassa asks the cloud for work.
//!
//! The MoySklad queue cannot notify: a sale made after a quiet spell is seen
//! only at the next poll, so idle polling sets how long the shop waits for
//! the receipt. MoySklad allows one token 100 requests per 5 s; kassas that
//! share a token share that budget, and while idle they together may spend a
//! quarter of it, leaving the rest to the kassas that are printing.
//!
//! Right after an operation a kassa polls faster for a short spell
//! ([`BUSY_SPELL`], [`busy_poll_interval`]): sales come in runs (a line at
//! the till), so the next one is likeliest soon, and while the kassa polls
//! at the idle pace a sale queued just after the previous receipt waits up
//! to the whole idle interval. Those quick polls get their own quarter of
//! the token's budget, shared the same way.

use std::time::Duration;

/// Requests per 5 s all idle kassas of one token may spend together.
const IDLE_REQUESTS_PER_WINDOW: u32 = 25;
const WINDOW: Duration = Duration::from_secs(5);
/// Requests per 5 s the kassas of one token may spend together on quick
/// polls after work.
const BUSY_REQUESTS_PER_WINDOW: u32 = 25;

/// How long after its last operation a kassa keeps polling quickly.
pub const BUSY_SPELL: Duration = Duration::from_secs(10);

/// Longest interval between two polls of an idle kassa: four fifths of
/// `poll_interval`, so that with the loop's ±20 % jitter a new sale waits at
/// most `poll_interval` for its poll, unless the kassas sharing the token
/// (`kassas_on_token`, at least 1) would then exceed their idle share.
pub fn idle_poll_max(poll_interval: Duration, kassas_on_token: usize) -> Duration {
    (poll_interval * 4 / 5).max(fair_interval(IDLE_REQUESTS_PER_WINDOW, kassas_on_token))
}

/// The shortest interval at which each of `kassas_on_token` kassas may
/// poll so that together they spend at most `requests` per [`WINDOW`].
fn fair_interval(requests: u32, kassas_on_token: usize) -> Duration {
    let sharers = u32::try_from(kassas_on_token.max(1)).unwrap_or(u32::MAX);
    (WINDOW / requests).saturating_mul(sharers)
}

/// Interval between the quick polls after work: a fifth of
/// `poll_interval`, stretched so the kassas sharing the token stay within
/// their quick-poll share, and never slower than the idle pace.
pub fn busy_poll_interval(poll_interval: Duration, kassas_on_token: usize) -> Duration {
    (poll_interval / 5)
        .max(fair_interval(BUSY_REQUESTS_PER_WINDOW, kassas_on_token))
        .min(idle_poll_max(poll_interval, kassas_on_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kassa_waits_less_than_the_poll_interval() {
        let idle = idle_poll_max(Duration::from_millis(1000), 1);
        assert_eq!(idle, Duration::from_millis(800));
        // With +20 % jitter the next poll still comes within 1 s.
        assert!(idle * 6 / 5 <= Duration::from_millis(1000));
    }

    #[test]
    fn kassas_on_one_token_share_a_quarter_of_its_budget() {
        for n in [1usize, 4, 8, 32, 100] {
            let idle = idle_poll_max(Duration::from_millis(1000), n);
            // Even with every poll jittered early (-20 %).
            let per_window = n as f64 * WINDOW.as_secs_f64() / (idle.as_secs_f64() * 0.8);
            assert!(
                per_window <= 100.0 / 3.0,
                "{n} kassas: {per_window} requests per 5 s"
            );
        }
        assert_eq!(
            idle_poll_max(Duration::from_millis(1000), 32),
            Duration::from_millis(6400)
        );
    }

    #[test]
    fn a_slow_configured_interval_is_kept() {
        assert_eq!(
            idle_poll_max(Duration::from_secs(10), 1),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn one_kassa_polls_five_times_a_second_after_work() {
        assert_eq!(
            busy_poll_interval(Duration::from_millis(1000), 1),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn quick_polls_of_kassas_on_one_token_keep_to_their_quarter() {
        for n in [1usize, 2, 4, 8, 32, 100] {
            let quick = busy_poll_interval(Duration::from_millis(1000), n);
            let idle = idle_poll_max(Duration::from_millis(1000), n);
            assert!(
                quick <= idle,
                "{n} kassas: quick {quick:?} slower than idle {idle:?}"
            );
            let per_window = n as f64 * WINDOW.as_secs_f64() / (quick.as_secs_f64() * 0.8);
            assert!(
                per_window <= 100.0 / 3.0,
                "{n} kassas: {per_window} quick polls per 5 s"
            );
        }
        // Four kassas on one token: the quick pace is the idle pace.
        assert_eq!(
            busy_poll_interval(Duration::from_millis(1000), 4),
            Duration::from_millis(800)
        );
    }
}
