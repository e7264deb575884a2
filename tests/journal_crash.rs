//! Crash test of the journal: a child process (this test binary re-executed
//! with only the ignored `crash_child` test) drives operations through the
//! state machine in a loop, printing `ACK <op> <STATE>` after each call
//! that returned Ok, and is SIGKILLed at a random moment. After every kill
//! the journal must open cleanly and hold every acknowledged transition,
//! and every APPROVING / REJECTING operation must have its request queued
//! (state and outbox are written in one transaction).
//!
//! `MASTERKASSA_CRASH_KILLS=N` sets the number of kills (default 60).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use kkt::{DateTime, Money, ReceiptKind};
use masterkassa::journal::{
    Event, Journal, OpKey, OpState, OutboxKind, OutboxRequest, PrintedReceipt, ReceiptSummary,
    Source, StateName,
};
use rand::Rng;

const CHILD_PATH_ENV: &str = "MASTERKASSA_CRASH_CHILD_JOURNAL";
const CHILD_RUN_ENV: &str = "MASTERKASSA_CRASH_CHILD_RUN";
const KASSA: &str = "crash";

fn key(op: &str) -> OpKey {
    OpKey::new(KASSA, Source::Moysklad, op)
}

/// Operation ids ending in 0 are rejected, the rest printed and approved.
fn is_rejected(op: &str) -> bool {
    op.ends_with('0')
}

fn fd_of(op: &str) -> u32 {
    op.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 1_000_000
}

fn printed(op: &str) -> PrintedReceipt {
    PrintedReceipt {
        fn_serial: "FN-CRASH".into(),
        fd_number: fd_of(op),
        fiscal_sign: 42,
        time: DateTime::constant(2026, 11, 24, 12, 0, 0, 0),
        shift_number: 1,
        receipt_number: 1,
        total: Money(100),
    }
}

/// Moves the operation one step; returns the state reached, or None if it
/// is final.
fn advance(j: &Journal, k: &OpKey) -> Option<StateName> {
    let state = j.get(k).unwrap().unwrap().state;
    let next = match state {
        OpState::Received if is_rejected(&k.op_id) => {
            j.apply_and_enqueue(
                k,
                &Event::Reject {
                    message: "Сумма не сходится".into(),
                },
                &OutboxRequest::new(OutboxKind::Reject, "{}"),
            )
            .unwrap()
            .0
        }
        OpState::Received => j
            .apply(
                k,
                &Event::StartPrinting {
                    expected_fd: fd_of(&k.op_id),
                    fn_serial: "FN-CRASH".into(),
                    summary: ReceiptSummary {
                        kind: ReceiptKind::Sale,
                        total: Money(100),
                    },
                },
            )
            .unwrap(),
        OpState::Printing { .. } => j.apply(k, &Event::Printed(printed(&k.op_id))).unwrap(),
        OpState::Printed(_) => {
            j.apply_and_enqueue(
                k,
                &Event::StartApproving,
                &OutboxRequest::new(OutboxKind::Approve, "{}"),
            )
            .unwrap()
            .0
        }
        OpState::Approving(_) | OpState::Rejecting { .. } => {
            let entry = j
                .outbox_pending(KASSA)
                .unwrap()
                .into_iter()
                .find(|e| e.operation.as_ref() == Some(k))
                .expect("APPROVING/REJECTING without its outbox entry");
            j.outbox_delivered(entry.id).unwrap();
            j.get(k).unwrap().unwrap()
        }
        OpState::Approved(_) | OpState::Rejected { .. } => return None,
    };
    Some(next.state.name())
}

/// The child: finishes what earlier (killed) runs left, then takes in new
/// operations forever. Run only by `a_killed_writer_never_loses_an_acknowledged_transition`.
#[test]
#[ignore = "child process of the crash test; it runs forever"]
fn crash_child() {
    let (Ok(path), Ok(run)) = (std::env::var(CHILD_PATH_ENV), std::env::var(CHILD_RUN_ENV)) else {
        panic!("run by the crash test only");
    };
    let j = Journal::open(&path).unwrap();
    let out = std::io::stdout();
    let ack = |op: &str, state: StateName| {
        let mut lock = out.lock();
        writeln!(lock, "ACK {op} {state}").unwrap();
        lock.flush().unwrap();
    };
    let mut leftovers = Vec::new();
    for state in [
        StateName::Received,
        StateName::Printing,
        StateName::Printed,
        StateName::Approving,
        StateName::Rejecting,
    ] {
        leftovers.extend(j.ops_in_state(KASSA, state).unwrap());
    }
    for record in leftovers {
        while let Some(state) = advance(&j, &record.key) {
            ack(&record.key.op_id, state);
        }
    }
    for i in 0u64.. {
        let op = format!("r{run}-{i}");
        let k = key(&op);
        j.receive(&k, r#"{"sum":100}"#).unwrap();
        ack(&op, StateName::Received);
        while let Some(state) = advance(&j, &k) {
            ack(&op, state);
        }
    }
}

#[test]
fn a_killed_writer_never_loses_an_acknowledged_transition() {
    let kills: usize = std::env::var("MASTERKASSA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let mut total_acks = 0usize;
    let mut runs_with_acks = 0usize;

    for run in 0..kills {
        let mut child = Command::new(&exe)
            .args(["--ignored", "--exact", "crash_child", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_PATH_ENV, &path)
            .env(CHILD_RUN_ENV, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let parsed = line.strip_prefix("ACK ").and_then(|rest| {
                    let mut parts = rest.split(' ');
                    let op = parts.next()?.to_string();
                    let state = StateName::parse(parts.next()?)?;
                    Some((op, state))
                });
                if let Some(ack) = parsed
                    && tx.send(ack).is_err()
                {
                    break;
                }
            }
        });
        let mut acks = Vec::new();
        // Most runs are killed while writing (after the first ACK, however
        // slow the machine is); every fourth at a random moment, which may
        // fall in startup or recovery of leftovers.
        if run % 4 != 0 {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(ack) => acks.push(ack),
                Err(e) => panic!("run {run}: the child wrote nothing: {e}"),
            }
            std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
        } else {
            std::thread::sleep(Duration::from_millis(rng.random_range(1..120)));
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "run {run}: the child ended on its own: {status}"
        );
        acks.extend(rx.iter());
        total_acks += acks.len();
        if !acks.is_empty() {
            runs_with_acks += 1;
        }

        // `status` with the daemon dead: the read-only view already has
        // the last acknowledged transition (it lives in the WAL until the
        // next checkpoint).
        if let Some((op, state)) = acks.last() {
            let ro = Journal::open_read_only(&path).unwrap();
            let history = ro.history(&key(op)).unwrap();
            assert!(
                history.iter().any(|t| t.state.name() == *state),
                "run {run}: read-only view lacks {op} {state}"
            );
        }
        let j = Journal::open(&path).unwrap();
        j.integrity_check().unwrap();
        let mut last_ack: BTreeMap<String, StateName> = BTreeMap::new();
        for (op, state) in &acks {
            last_ack.insert(op.clone(), *state);
        }
        for (op, state) in &last_ack {
            let history: Vec<StateName> = j
                .history(&key(op))
                .unwrap_or_else(|e| panic!("run {run}: acknowledged {op} is gone: {e}"))
                .iter()
                .map(|t| t.state.name())
                .collect();
            assert!(
                history.contains(state),
                "run {run}: {op} was acknowledged {state}, journal has {history:?}"
            );
        }
        // State and outbox were committed together.
        let queued: BTreeSet<OpKey> = j
            .outbox_pending(KASSA)
            .unwrap()
            .into_iter()
            .filter_map(|e| e.operation)
            .collect();
        for state in [StateName::Approving, StateName::Rejecting] {
            for record in j.ops_in_state(KASSA, state).unwrap() {
                assert!(
                    queued.contains(&record.key),
                    "run {run}: {} is {state} with nothing queued",
                    record.key
                );
            }
        }
    }
    // The test only means something if the children got work done.
    assert!(
        total_acks > kills,
        "only {total_acks} acknowledged transitions in {kills} runs"
    );
    assert!(
        runs_with_acks * 2 > kills,
        "most children were killed before writing anything"
    );
    eprintln!("{kills} kills, {total_acks} acknowledged transitions verified");
}
