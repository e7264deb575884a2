//! Waiting for Kassatka's asynchronous processes: poll with exponential
//! backoff (backon) until done, failed, or out of time, and show progress on
//! a terminal while doing it.

use super::error::KassatkaError;
use backon::{BackoffBuilder, ExponentialBuilder};
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How long and how often to poll a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// First pause between polls.
    pub min_delay: Duration,
    /// Longest pause between polls.
    pub max_delay: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
        }
    }
}

/// One poll's verdict.
#[derive(Debug)]
pub enum Poll<T> {
    Done(T),
    /// Not yet; the text says what the server reported.
    Pending(String),
}

/// Receives progress while a process is awaited.
pub trait WaitProgress: Send {
    /// Called after every poll that did not finish.
    fn pending(&mut self, key: &str, elapsed: Duration, status: &str);
    /// Called once when waiting ends (successfully or not).
    fn finished(&mut self, key: &str, elapsed: Duration, ok: bool);
}

/// Shows nothing (tests, pipes, the daemon).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl WaitProgress for NoProgress {
    fn pending(&mut self, _: &str, _: Duration, _: &str) {}
    fn finished(&mut self, _: &str, _: Duration, _: bool) {}
}

/// A one-line spinner, drawn on stderr only when stderr is a terminal so
/// that logs and pipes stay clean.
pub struct TerminalProgress {
    out: Box<dyn Write + Send>,
    enabled: bool,
    frame: usize,
}

impl std::fmt::Debug for TerminalProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalProgress")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl TerminalProgress {
    /// Draws on stderr if (and only if) stderr is a terminal.
    pub fn stderr() -> Self {
        let enabled = std::io::stderr().is_terminal();
        Self::to_writer(Box::new(std::io::stderr()), enabled)
    }

    /// Draws on `out` when `enabled` (tests pass a buffer).
    pub fn to_writer(out: Box<dyn Write + Send>, enabled: bool) -> Self {
        TerminalProgress {
            out,
            enabled,
            frame: 0,
        }
    }
}

impl WaitProgress for TerminalProgress {
    fn pending(&mut self, key: &str, elapsed: Duration, status: &str) {
        if !self.enabled {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        self.frame = (self.frame + 1) % FRAMES.len();
        // \x1b[K clears the rest of the line left by a longer status.
        let _ = write!(
            self.out,
            "\r{} Kassatka process {key}: {status} ({} s)\x1b[K",
            FRAMES[self.frame],
            elapsed.as_secs()
        );
        let _ = self.out.flush();
    }

    fn finished(&mut self, key: &str, elapsed: Duration, ok: bool) {
        if !self.enabled {
            return;
        }
        let verdict = if ok { "done" } else { "stopped" };
        let _ = writeln!(
            self.out,
            "\rKassatka process {key}: {verdict} after {} s\x1b[K",
            elapsed.as_secs()
        );
        let _ = self.out.flush();
    }
}

/// Calls `attempt` until it returns [`Poll::Done`] or a non-transient error,
/// pausing with exponential backoff; transient errors (network, 5xx) count
/// as "still pending". Gives up with [`KassatkaError::Timeout`].
pub async fn poll_until<T, F, Fut>(
    key: &str,
    policy: &WaitPolicy,
    progress: &mut dyn WaitProgress,
    mut attempt: F,
) -> Result<T, KassatkaError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, KassatkaError>>,
{
    let started = Instant::now();
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay.max(policy.min_delay))
        .with_factor(1.6)
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        let last = match attempt().await {
            Ok(Poll::Done(value)) => {
                progress.finished(key, started.elapsed(), true);
                return Ok(value);
            }
            Ok(Poll::Pending(status)) => status,
            Err(e) if e.is_transient() => {
                tracing::debug!(key, error = %e, "transient error while polling Kassatka");
                e.to_string()
            }
            Err(e) => {
                progress.finished(key, started.elapsed(), false);
                return Err(e);
            }
        };
        let elapsed = started.elapsed();
        progress.pending(key, elapsed, &last);
        let Some(remaining) = policy.timeout.checked_sub(elapsed).filter(|d| !d.is_zero()) else {
            progress.finished(key, elapsed, false);
            return Err(KassatkaError::Timeout {
                key: key.to_string(),
                waited: elapsed,
                last,
            });
        };
        let pause = delays.next().unwrap_or(policy.max_delay);
        tokio::time::sleep(pause.min(remaining)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(timeout_ms: u64) -> WaitPolicy {
        WaitPolicy {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[tokio::test]
    async fn retries_pending_and_transient_until_done() {
        let mut calls = 0;
        let result = poll_until("k", &fast(30_000), &mut NoProgress, || {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 => Ok(Poll::Pending("queued".into())),
                    2 => Err(KassatkaError::Server {
                        endpoint: "GET /process".into(),
                        status: 502,
                        message: "bad gateway".into(),
                    }),
                    _ => Ok(Poll::Done(n)),
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    /// A `Write` whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn progress_is_drawn_on_one_line_only_when_enabled() {
        for enabled in [true, false] {
            let buffer = Shared::default();
            let mut progress = TerminalProgress::to_writer(Box::new(buffer.clone()), enabled);
            let mut calls = 0;
            poll_until("k1", &fast(30_000), &mut progress, || {
                calls += 1;
                let n = calls;
                async move {
                    Ok(if n < 3 {
                        Poll::Pending("processing".into())
                    } else {
                        Poll::Done(())
                    })
                }
            })
            .await
            .unwrap();
            let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
            if enabled {
                assert_eq!(text.matches("Kassatka process k1: processing").count(), 2);
                assert!(
                    text.contains("\rKassatka process k1: done after "),
                    "{text:?}"
                );
                assert!(text.ends_with(" s\x1b[K\n"), "{text:?}");
                assert_eq!(text.matches('\n').count(), 1, "one line, redrawn: {text:?}");
            } else {
                assert!(text.is_empty());
            }
        }
    }

    #[tokio::test]
    async fn gives_up_with_the_last_status() {
        let err = poll_until::<(), _, _>("k", &fast(50), &mut NoProgress, || async {
            Ok(Poll::Pending("processing".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(&err, KassatkaError::Timeout { last, .. } if last == "processing"));
    }

    #[tokio::test]
    async fn stops_at_a_permanent_error() {
        let err = poll_until::<(), _, _>("k", &fast(30_000), &mut NoProgress, || async {
            Err(KassatkaError::ProcessFailed {
                key: "k".into(),
                message: "boom".into(),
            })
        })
        .await
        .unwrap_err();
        assert!(matches!(err, KassatkaError::ProcessFailed { .. }));
    }
}
