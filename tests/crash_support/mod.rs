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

/// Kassa `name` of the fake MoySklad `cloud`, printing on `port`.
pub fn fake_cloud_entry(
    name: &str,
    cloud: &sim_moysklad::FakeCloudHandle,
    port: &Path,
) -> KassaEntry {
    KassaEntry {
        name: name.into(),
        api_url: cloud.base_url(),
        cashier_uid: cloud.cashier_uid(),
        org_id: cloud.org_id(),
        token_env: TOKEN_ENV.into(),
        poll_interval_ms: 200,
        port: port.to_path_buf(),
        baud: 115_200,
    }
}

/// Swaps the printer of the config at `path` for `device` (the lines of
/// its `[kassa.device]` section).
pub fn replace_device(path: &Path, device: &str) {
    let text = std::fs::read_to_string(path).expect("read config");
    let head = text.split("[kassa.device]").next().unwrap_or_default();
    std::fs::write(path, format!("{head}[kassa.device]\n{device}")).expect("write config");
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

/// A printer the soak kills the agent beside.
pub trait CrashPrinter {
    /// The agent's config for this printer and the queue at `api_url`.
    fn config(&self, dir: &Path, api_url: &str) -> PathBuf;
    /// The FN archive.
    fn archive(&self) -> Vec<sim_shtrih::Document>;
    /// Cuts the printer's power (or restarts its server) and brings it back.
    fn disturb(&self);
    /// A receipt is open on the device.
    fn receipt_open(&self) -> bool;
}

/// The Shtrih-M emulator on a PTY, its FN kept in a state file.
pub struct Shtrih {
    pub emu: sim_shtrih::EmulatorHandle,
    pub link: PathBuf,
}

impl CrashPrinter for Shtrih {
    fn config(&self, dir: &Path, api_url: &str) -> PathBuf {
        config(dir, api_url, &self.link)
    }
    fn archive(&self) -> Vec<sim_shtrih::Document> {
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

/// SIGKILLs `masterkassa run` at random moments (`default_kills` times, or
/// `MASTERKASSA_CRASH_KILLS`), disturbing the printer every 10th kill;
/// then an undisturbed run drains the queue, and:
/// - every valid operation has exactly one receipt in the FN archive (found
///   by its unique total) and exactly one accepted approve carrying that
///   receipt's FD number and fiscal sign;
/// - every invalid one has exactly one accepted reject and no receipt;
/// - the archive holds no other receipt, and none is left open.
pub async fn soak(printer: &dyn CrashPrinter, dir: tempfile::TempDir, default_kills: u32) {
    use rand::Rng;
    use std::time::{Duration, Instant};
    if std::env::var_os("MASTERKASSA_CRASH_KEEP").is_some() {
        eprintln!("crash test files kept in {}", dir.path().display());
    }
    let queue = Queue::default();
    let api = serve(queue.clone()).await;
    let cfg = printer.config(dir.path(), &api);

    let kills = std::env::var("MASTERKASSA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_kills);
    let total_ops = 40 + kills / 4;
    let ops: Vec<_> = (0..total_ops).map(|i| operation(i, 7)).collect();
    for op in &ops {
        queue.push(&op.id, op.body.clone());
    }

    let started = Instant::now();
    let mut rng = rand::rng();
    for i in 0..kills {
        let mut agent = spawn_agent(&cfg, dir.path());
        // Mostly short lives (start-up and recovery are the risky part),
        // sometimes long enough to print a few receipts.
        let life = if rng.random_bool(0.8) {
            rng.random_range(0..250)
        } else {
            rng.random_range(250..900)
        };
        tokio::time::sleep(Duration::from_millis(life)).await;
        if let Some(status) = agent.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
            let tail: Vec<_> = log.lines().rev().take(20).collect();
            panic!(
                "the agent exited by itself ({status}):\n{}",
                tail.join("\n")
            );
        }
        agent.kill().unwrap();
        agent.wait().unwrap();
        if i % 10 == 9 {
            printer.disturb();
        }
    }
    let killing = started.elapsed();
    drain(&cfg, dir.path(), &queue).await;
    if std::env::var_os("MASTERKASSA_CRASH_KEEP").is_some() {
        std::mem::forget(dir);
    }
    let (documents, duplicates) = verify(printer, &queue, &ops);
    let valid = ops.iter().filter(|o| o.valid).count();
    eprintln!(
        "crash test: {kills} SIGKILLs in {:.1} s, {} operations ({valid} printed, {} rejected), {duplicates} duplicate answers absorbed, {documents} documents in the FN",
        killing.as_secs_f64(),
        ops.len(),
        ops.len() - valid,
    );
}

/// An undisturbed run of the agent until every queued operation is
/// settled (panics with the agent's log after two minutes).
pub async fn drain(cfg: &Path, dir: &Path, queue: &Queue) {
    use std::time::{Duration, Instant};
    let mut agent = spawn_agent(cfg, dir);
    let deadline = Instant::now() + Duration::from_secs(120);
    while queue.unsettled() > 0 {
        if Instant::now() > deadline {
            let _ = agent.kill();
            let log = std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
            panic!(
                "{} operations never settled; agent log (newest first):\n{tail}",
                queue.unsettled()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.kill().unwrap();
    agent.wait().unwrap();
}

/// What a crash test proves once the queue is drained:
/// - every valid operation has exactly one receipt in the FN archive (found
///   by its unique total) and exactly one accepted approve carrying that
///   receipt's FD number and fiscal sign;
/// - every invalid one has exactly one accepted reject and no receipt;
/// - no answer was sent again with other data than the accepted one;
/// - the archive holds no other receipt, and none is left open.
///
/// Returns (documents in the FN, duplicate answers absorbed).
pub fn verify(printer: &dyn CrashPrinter, queue: &Queue, ops: &[GenOp]) -> (usize, u32) {
    let archive = printer.archive();
    let receipts: Vec<_> = archive
        .iter()
        .filter(|d| d.kind == sim_shtrih::doc_type::RECEIPT)
        .collect();
    let state = queue.lock();
    let valid = ops.iter().filter(|o| o.valid).count();
    for op in ops {
        let printed: Vec<_> = receipts
            .iter()
            .filter(|d| d.total == Some(op.total))
            .collect();
        let (kind, body) = state.settled.get(&op.id).expect("every operation settled");
        if op.valid {
            assert_eq!(
                printed.len(),
                1,
                "{} ({}) must be printed exactly once; the cloud got {kind}: {body}",
                op.id,
                op.kind
            );
            assert_eq!(kind, "approve", "{}", op.id);
            let fd: u32 = body["cheque"]["fiscalDocNumber"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                fd, printed[0].number,
                "{}: approve names the receipt's FD",
                op.id
            );
            assert_eq!(
                body["cheque"]["fiscalDocSign"].as_str().unwrap(),
                printed[0].fiscal_sign.to_string()
            );
        } else {
            assert!(
                printed.is_empty(),
                "{} is invalid and must not be printed",
                op.id
            );
            assert_eq!(kind, "reject", "{}", op.id);
        }
    }
    assert_eq!(
        receipts.len(),
        valid,
        "no receipt beyond the queued operations"
    );
    assert!(!printer.receipt_open());
    assert!(
        state.differing.is_empty(),
        "answers sent again with other data: {:?}",
        state.differing
    );
    (archive.len(), state.duplicates)
}
