//! The POS API's per-user limits (seed lines 15–20): at most `requests`
//! requests in any `window` (100 per 5 s) and `concurrent` in flight (5).
//! A sliding log, stricter than a fixed window, so a client that bunches
//! requests at a window edge is caught. Pure: the caller passes the instant.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub requests: u32,
    pub window: Duration,
    pub concurrent: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests: 100,
            window: Duration::from_secs(5),
            concurrent: 5,
        }
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over the request budget; `retry_after` until a slot frees.
    TooMany { retry_after: Duration },
    /// Over the in-flight limit.
    TooParallel,
}

/// What the limiter said about an admitted request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Requests still allowed in the current window.
    pub remaining: u32,
    /// Time until the oldest counted request leaves the window.
    pub reset: Duration,
}

#[derive(Debug, Default)]
struct UserLog {
    admitted: VecDeque<Instant>,
    in_flight: u32,
}

/// Per-user limiter state.
#[derive(Debug, Default)]
pub struct RateLimiter {
    config: RateLimitConfig,
    users: HashMap<String, UserLog>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            users: HashMap::new(),
        }
    }

    pub fn config(&self) -> RateLimitConfig {
        self.config
    }

    /// Admits a request of `user` at `now` (then [`Self::finish`] must be
    /// called once it is answered) or refuses it. Refused requests are not
    /// counted.
    pub fn admit(&mut self, user: &str, now: Instant) -> Result<Admission, Refusal> {
        let cfg = self.config;
        let log = self.users.entry(user.to_string()).or_default();
        while log
            .admitted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= cfg.window)
        {
            log.admitted.pop_front();
        }
        let until_free = |log: &UserLog| {
            log.admitted
                .front()
                .map(|t| (*t + cfg.window).saturating_duration_since(now))
                .unwrap_or_default()
        };
        if log.admitted.len() as u32 >= cfg.requests {
            return Err(Refusal::TooMany {
                retry_after: until_free(log).max(Duration::from_millis(1)),
            });
        }
        if log.in_flight >= cfg.concurrent {
            return Err(Refusal::TooParallel);
        }
        log.admitted.push_back(now);
        log.in_flight += 1;
        Ok(Admission {
            remaining: cfg.requests - log.admitted.len() as u32,
            reset: until_free(log),
        })
    }

    /// Marks an admitted request of `user` as answered.
    pub fn finish(&mut self, user: &str) {
        if let Some(log) = self.users.get_mut(user) {
            log.in_flight = log.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundred_per_window_then_refused_until_oldest_expires() {
        let mut rl = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        for i in 0..100u32 {
            let a = rl
                .admit("u", t0 + Duration::from_millis(u64::from(i)))
                .unwrap();
            assert_eq!(a.remaining, 99 - i);
            rl.finish("u");
        }
        let t = t0 + Duration::from_millis(1000);
        match rl.admit("u", t) {
            Err(Refusal::TooMany { retry_after }) => {
                assert_eq!(retry_after, Duration::from_millis(4000))
            }
            other => panic!("{other:?}"),
        }
        // Another user is unaffected.
        assert!(rl.admit("v", t).is_ok());
        // The first request leaves the window at t0 + 5 s.
        assert!(rl.admit("u", t0 + Duration::from_millis(5000)).is_ok());
    }

    #[test]
    fn five_in_flight() {
        let mut rl = RateLimiter::new(RateLimitConfig::default());
        let t = Instant::now();
        for _ in 0..5 {
            rl.admit("u", t).unwrap();
        }
        assert_eq!(rl.admit("u", t), Err(Refusal::TooParallel));
        rl.finish("u");
        assert!(rl.admit("u", t).is_ok());
    }
}
