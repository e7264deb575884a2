//! The agent runs as a separate process (`masterkassa run`) against the
//! emulated Shtrih-M (state persisted to a file) and an HTTP master queue,
//! and is killed with SIGKILL at random moments, at least 200 times
//! (`MASTERKASSA_CRASH_KILLS` for a longer soak). Every 10th kill the
//! printer also loses power. What is checked afterwards is in
//! `crash_support::soak`; tests/crash_kill9_atol.rs runs the same on ATOL.

mod crash_support;

use crash_support::{CrashPrinter, config, soak};
use sim_shtrih::{Document, Emulator, EmulatorConfig, EmulatorHandle};
use std::path::{Path, PathBuf};

/// The Shtrih-M emulator on a PTY, its FN kept in a state file.
struct Shtrih {
    emu: EmulatorHandle,
    link: PathBuf,
}

impl CrashPrinter for Shtrih {
    fn config(&self, dir: &Path, api_url: &str) -> PathBuf {
        config(dir, api_url, &self.link)
    }
    fn archive(&self) -> Vec<Document> {
        self.emu.archive()
    }
    fn disturb(&self) {
        self.emu.power_cut();
        self.emu.power_on().unwrap();
    }
    fn receipt_open(&self) -> bool {
        self.emu.receipt_open()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_loses_or_duplicates_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu =
        Emulator::spawn(EmulatorConfig::new(&link).state_file(dir.path().join("emulator.json")))
            .unwrap();
    soak(&Shtrih { emu, link }, dir, 200).await;
}
