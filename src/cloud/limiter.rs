//! Client-side rate limiter for one MoySklad account.
//!
//! MoySklad allows a user 100 requests per 5 s and 5 requests in flight; a
//! 429 costs time for every kassa of the account. One [`RateLimiter`] is
//! shared (`Arc`) by all clients of an account, so their requests together
//! stay within the limits:
//! - a sliding window: at most `requests` request *starts* in any `window`;
//! - a semaphore: at most `in_flight` requests open at once;
//! - a pause: after a 429 (or `X-RateLimit-Remaining: 0`), nobody starts a
//!   request until the server's `X-Lognex-Retry-After` / `X-Lognex-Reset`
//!   has passed.
//!
//! The window is kept on the client's clock; the server counts arrivals,
//! which lag the starts by a varying network delay. [`Limits::moysklad`]
//! therefore widens the window a little so the server's count stays within
//! its limit too.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The limits a [`RateLimiter`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request starts allowed per `window`.
    pub requests: usize,
    /// The sliding window.
    pub window: Duration,
    /// Requests open at the same time.
    pub in_flight: usize,
}

impl Limits {
    /// MoySklad's published limits (100 per 5 s, 5 in flight), with the
    /// window widened by 5 % as a margin for network jitter.
    pub const fn moysklad() -> Limits {
        Limits {
            requests: 100,
            window: Duration::from_millis(5_250),
            in_flight: 5,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::moysklad()
    }
}

#[derive(Debug)]
struct Window {
    /// Start times of the requests in the current window, oldest first.
    starts: VecDeque<Instant>,
    /// No request starts before this instant (set by 429s).
    paused_until: Option<Instant>,
}

/// Shared limiter; clone the `Arc`, not the limiter.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    window: Mutex<Window>,
    in_flight: Arc<Semaphore>,
}

/// Held while a request is open; dropping it frees an in-flight slot.
#[derive(Debug)]
pub struct Permit {
    _in_flight: Option<OwnedSemaphorePermit>,
}

impl RateLimiter {
    /// A limiter with the given limits (`requests` and `in_flight` are at
    /// least 1).
    pub fn new(limits: Limits) -> Arc<RateLimiter> {
        let limits = Limits {
            requests: limits.requests.max(1),
            in_flight: limits.in_flight.max(1),
            ..limits
        };
        Arc::new(RateLimiter {
            limits,
            window: Mutex::new(Window {
                starts: VecDeque::with_capacity(limits.requests),
                paused_until: None,
            }),
            in_flight: Arc::new(Semaphore::new(limits.in_flight)),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Waits until a request may start, and returns the permit to hold
    /// while it is open.
    pub async fn acquire(&self) -> Permit {
        // The in-flight slot first, so the window records the moment the
        // request really starts, not when it began waiting.
        // `acquire_owned` fails only on a closed semaphore, and this one is
        // never closed.
        let in_flight = self.in_flight.clone().acquire_owned().await.ok();
        loop {
            let wait = {
                let mut w = self.window.lock().await;
                let now = Instant::now();
                while let Some(&oldest) = w.starts.front() {
                    if now.duration_since(oldest) >= self.limits.window {
                        w.starts.pop_front();
                    } else {
                        break;
                    }
                }
                let pause = w.paused_until.filter(|&t| t > now).map(|t| t - now);
                let full = if w.starts.len() >= self.limits.requests {
                    w.starts
                        .front()
                        .map(|&oldest| (oldest + self.limits.window).saturating_duration_since(now))
                } else {
                    None
                };
                match (pause, full) {
                    (None, None) => {
                        w.starts.push_back(now);
                        return Permit {
                            _in_flight: in_flight,
                        };
                    }
                    (a, b) => a.unwrap_or_default().max(b.unwrap_or_default()),
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Stops every request of the account from starting for `wait` (the
    /// server said so). A longer pause already in force is kept.
    pub async fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut w = self.window.lock().await;
        if w.paused_until.is_none_or(|t| t < until) {
            w.paused_until = Some(until);
        }
    }

    /// How long requests are paused from now, if they are.
    pub async fn paused_for(&self) -> Option<Duration> {
        let w = self.window.lock().await;
        let now = Instant::now();
        w.paused_until.filter(|&t| t > now).map(|t| t - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn window_holds_back_the_request_over_the_limit() {
        let limiter = RateLimiter::new(Limits {
            requests: 3,
            window: Duration::from_secs(1),
            in_flight: 10,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            drop(limiter.acquire().await);
        }
        assert_eq!(Instant::now(), t0);
        drop(limiter.acquire().await);
        assert!(Instant::now() - t0 >= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_is_bounded() {
        let limiter = RateLimiter::new(Limits {
            requests: 100,
            window: Duration::from_secs(1),
            in_flight: 2,
        });
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        let third = tokio::time::timeout(Duration::from_secs(5), limiter.acquire()).await;
        assert!(
            third.is_err(),
            "a third request started while two were open"
        );
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(5), limiter.acquire()).await;
        assert!(third.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn pause_stops_everyone_until_it_passes() {
        let limiter = RateLimiter::new(Limits::moysklad());
        limiter.pause_for(Duration::from_secs(3)).await;
        limiter.pause_for(Duration::from_secs(1)).await; // shorter: ignored
        let t0 = Instant::now();
        drop(limiter.acquire().await);
        assert!(Instant::now() - t0 >= Duration::from_secs(3));
        assert_eq!(limiter.paused_for().await, None);
    }
}
