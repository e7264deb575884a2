//! The agent runs as a separate process (`masterkassa run`) against the
//! emulated printer (state persisted to a file) and an HTTP master queue,
//! and is killed with SIGKILL at random moments, at least 200 times
//! (`MASTERKASSA_CRASH_KILLS` for a longer soak). Every 10th kill the
//! printer also loses power. Afterwards an undisturbed run drains the
//! queue, and then:
//! - every valid operation has exactly one receipt in the FN archive (found
//!   by its unique total) and exactly one accepted approve carrying that
//!   receipt's FD number and fiscal sign;
//! - every invalid one has exactly one accepted reject and no receipt;
//! - the archive holds no other receipt, and none is left open.

mod crash_support;

use crash_support::{Queue, config, operation, serve, spawn_agent};
use rand::Rng;
use sim_shtrih::{Emulator, EmulatorConfig, doc_type};
use std::time::{Duration, Instant};

fn kills() -> u32 {
    std::env::var("MASTERKASSA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_loses_or_duplicates_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    if std::env::var_os("MASTERKASSA_CRASH_KEEP").is_some() {
        eprintln!("crash test files kept in {}", dir.path().display());
    }
    let link = dir.path().join("kkt");
    let emu =
        Emulator::spawn(EmulatorConfig::new(&link).state_file(dir.path().join("emulator.json")))
            .unwrap();
    let queue = Queue::default();
    let api = serve(queue.clone()).await;
    let cfg = config(dir.path(), &api, &link);

    let kills = kills();
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
            emu.power_cut();
            emu.power_on().unwrap();
        }
    }
    let killing = started.elapsed();

    // An undisturbed run drains the queue.
    let mut agent = spawn_agent(&cfg, dir.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    while queue.unsettled() > 0 {
        if Instant::now() > deadline {
            let _ = agent.kill();
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
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

    if std::env::var_os("MASTERKASSA_CRASH_KEEP").is_some() {
        std::mem::forget(dir);
    }
    let archive = emu.archive();
    let receipts: Vec<_> = archive
        .iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    let state = queue.lock();
    let valid = ops.iter().filter(|o| o.valid).count();
    for op in &ops {
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
    assert!(!emu.receipt_open());
    eprintln!(
        "crash test: {kills} SIGKILLs in {:.1} s, {} operations ({valid} printed, {} rejected), {} duplicate answers absorbed, {} documents in the FN",
        killing.as_secs_f64(),
        ops.len(),
        ops.len() - valid,
        state.duplicates,
        archive.len()
    );
}
