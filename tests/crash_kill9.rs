//! The agent runs as a separate process (`masterkassa run`) against the
//! emulated Shtrih-M (state persisted to a file) and an HTTP master queue,
//! and is killed with SIGKILL at random moments, at least 200 times
//! (`MASTERKASSA_CRASH_KILLS` for a longer soak). Every 10th kill the
//! printer also loses power. What is checked afterwards is in
//! `crash_support::soak`; tests/crash_kill9_atol.rs runs the same on ATOL.

mod crash_support;

use crash_support::{Shtrih, soak};
use sim_shtrih::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_loses_or_duplicates_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu =
        Emulator::spawn(EmulatorConfig::new(&link).state_file(dir.path().join("emulator.json")))
            .unwrap();
    soak(&Shtrih { emu, link }, dir, 200).await;
}
