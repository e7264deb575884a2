//! The process-level tests' view of `test-support`: the bare master queue,
//! generated operations, and `masterkassa run` with this package's binary
//! and one kassa on a printer link.

// Each test binary uses part of it.
#![allow(dead_code, unused_imports)]

pub use test_support::operations::*;
pub use test_support::queue::*;

use std::path::{Path, PathBuf};
use test_support::config::{KassaEntry, write_config};

/// The env var the test token is passed in (never on the command line).
pub const TOKEN_ENV: &str = "MASTERKASSA_TEST_TOKEN";

/// A config for `masterkassa run` against `api_url` and the printer link.
pub fn config(dir: &Path, api_url: &str, port: &Path) -> PathBuf {
    write_config(
        dir,
        &[KassaEntry {
            name: "crash".into(),
            api_url: api_url.into(),
            cashier_uid: "cashier@test".into(),
            org_id: ORG.into(),
            token_env: TOKEN_ENV.into(),
            poll_interval_ms: 200,
            port: port.to_path_buf(),
            baud: 115_200,
        }],
    )
}

/// Starts `masterkassa run`; its log goes to `dir/agent.log`.
pub fn spawn_agent(config: &Path, dir: &Path) -> std::process::Child {
    test_support::agent::run_command(
        env!("CARGO_BIN_EXE_masterkassa"),
        config,
        &dir.join("agent.log"),
    )
    .env(TOKEN_ENV, "0123456789abcdef0123456789abcdef01234567")
    .env(
        "RUST_LOG",
        std::env::var("MASTERKASSA_CRASH_LOG").unwrap_or_else(|_| "masterkassa=info".into()),
    )
    .spawn()
    .expect("spawn masterkassa run")
}
