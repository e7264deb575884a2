//! Kill points chosen from the device's commands, not from the clock: the
//! agent (`masterkassa run`, a separate process) prints a rotating mix of
//! sales, returns, prepayments and prepayment returns on the emulated
//! Shtrih-M, and at each point the emulator's power is cut at one command —
//! the n-th after the previous point, before the FN commits it, after it
//! commits (answer lost), or half-way through the answer — and the agent is
//! SIGKILLed at that moment. Every tenth point is instead an approve or
//! reject hanging at the queue, before or after the queue took it. Every
//! tenth, the device clock jumps 25 h so the shift expires and the agent
//! closes and reopens it, and the cut hits the Z-report or the shift open.
//!
//! The offsets walk 0‥96 commands in a fixed stride, so over the run every
//! position of start-up, recovery, shift handling and of each receipt's
//! command sequence is hit (the commands hit are counted and checked).
//! Afterwards `crash_support::verify`: one receipt per approved operation,
//! every operation approved or rejected, no answer re-sent with other data.
//!
//! CI runs 200 points; `MASTERKASSA_KILL_POINTS=1000` is the full run
//! (docs/reliability.md has its result).

mod crash_support;

use crash_support::{GenOp, Queue, Shtrih, Stall, drain, operation, serve, spawn_agent, verify};
use sim_shtrih::{CutPoint, Emulator, EmulatorConfig};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Keeps at least two operations waiting, so the agent always has work
/// until the armed point is reached.
fn keep_stocked(queue: &Queue, ops: &mut Vec<GenOp>) {
    while queue.unsettled() < 2 {
        let op = operation(ops.len() as u32, 9);
        queue.push(&op.id, op.body.clone());
        ops.push(op);
    }
}

/// What a point did, for the coverage report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Hit {
    Command(u16, &'static str),
    Answer(&'static str),
    NotReached,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_every_operation_survives_a_kill_and_a_power_cut() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu =
        Emulator::spawn(EmulatorConfig::new(&link).state_file(dir.path().join("emulator.json")))
            .unwrap();
    let printer = Shtrih { emu, link };
    let queue = Queue::default();
    let api = serve(queue.clone()).await;
    let cfg = crash_support::config(dir.path(), &api, &printer.link);
    let points: u32 = std::env::var("MASTERKASSA_KILL_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);

    let mut ops = Vec::new();
    keep_stocked(&queue, &mut ops);
    let mut hits: BTreeMap<Hit, u32> = BTreeMap::new();
    let started = Instant::now();
    let mut agent = spawn_agent(&cfg, dir.path());
    for k in 0..points {
        keep_stocked(&queue, &mut ops);
        if k % 10 == 4 {
            printer.emu.clock().advance(25 * 3600);
        }
        let faults = printer.emu.faults();
        let hit = if k % 10 == 9 {
            let stall = if k % 20 == 9 {
                Stall::BeforeSettling
            } else {
                Stall::AfterSettling
            };
            let before = queue.lock().stalled;
            queue.lock().stall_next = Some(stall);
            let fired = wait_until(|| {
                keep_stocked(&queue, &mut ops);
                queue.lock().stalled > before
            })
            .await;
            queue.lock().stall_next = None;
            match (fired, stall) {
                (false, _) => Hit::NotReached,
                (true, Stall::BeforeSettling) => Hit::Answer("hangs before it is taken"),
                (true, Stall::AfterSettling) => Hit::Answer("taken, its answer lost"),
            }
        } else {
            let (point, label) = match k % 3 {
                0 => (CutPoint::BeforeCommit, "before commit"),
                1 => (CutPoint::AfterCommit, "after commit"),
                _ => (CutPoint::MidAnswer, "mid-answer"),
            };
            if k % 10 == 4 {
                // The shift just expired: cut at its Z-report or at the
                // opening of the next one.
                let code = if (k / 10) % 2 == 0 { 0x41 } else { 0xE0 };
                faults.power_cut_at(shtrih::frame::Code(code), point);
            } else {
                faults.power_cut_after_commands((k * 13) % 97, point);
            }
            let fired = wait_until(|| {
                keep_stocked(&queue, &mut ops);
                faults.is_powered_off()
            })
            .await;
            if fired {
                let code = faults.last_power_cut().map_or(0, |c| c.0);
                Hit::Command(code, label)
            } else {
                faults.clear_power_cut();
                Hit::NotReached
            }
        };
        agent.kill().unwrap();
        agent.wait().unwrap();
        if !printer.emu.is_powered() {
            printer.emu.power_on().unwrap();
        }
        *hits.entry(hit).or_default() += 1;
        agent = spawn_agent(&cfg, dir.path());
    }
    agent.kill().unwrap();
    agent.wait().unwrap();
    let killing = started.elapsed();

    drain(&cfg, dir.path(), &queue).await;
    let (documents, duplicates) = verify(&printer, &queue, &ops);

    let commands: BTreeMap<u16, u32> = hits.iter().fold(BTreeMap::new(), |mut m, (h, n)| {
        if let Hit::Command(code, _) = h {
            *m.entry(*code).or_default() += n;
        }
        m
    });
    let report: Vec<String> = hits.iter().map(|(h, n)| format!("{h:?}: {n}")).collect();
    eprintln!(
        "kill points: {points} in {:.1} s, {} operations, {documents} FN documents, {duplicates} duplicate answers absorbed\n{}",
        killing.as_secs_f64(),
        ops.len(),
        report.join("\n")
    );
    let not_reached = hits.get(&Hit::NotReached).copied().unwrap_or(0);
    assert!(
        not_reached * 10 <= points,
        "{not_reached} of {points} points never reached"
    );
    // The commands a receipt and a shift are made of were all hit: open
    // receipt (0x8D), operation (0xFF46), close (0xFF45, or its V3/V4
    // forms), open shift (0xE0), Z-report (0x41), the FN status recovery
    // asks first (0xFF01).
    if points >= 200 {
        for codes in [
            &[0x8D][..],
            &[0xFF46],
            &[0xFF45, 0xFF76, 0xFF78],
            &[0xE0],
            &[0x41],
            &[0xFF01],
        ] {
            assert!(
                codes.iter().any(|c| commands.contains_key(c)),
                "no kill point at command {:#X}: {report:?}",
                codes[0]
            );
        }
    }
}

/// Waits up to 10 s for `fired`; false if it never happened.
async fn wait_until(mut fired: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fired() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}
