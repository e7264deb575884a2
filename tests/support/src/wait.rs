//! Waiting for a condition in an async test, with a deadline that fails
//! the test naming what it waited for (never a test that hangs).

use std::time::Duration;

/// Polls `cond` every 20 ms until it holds; panics after `secs` seconds
/// with "timed out waiting for {what}".
pub async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
