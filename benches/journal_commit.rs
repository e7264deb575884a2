//! Commit latency of the journal: how long one durable transition takes
//! (WAL + synchronous=FULL, so one fsync each), measured on the directory
//! given by `MASTERKASSA_BENCH_DIR` (default: a temp dir, which may be a
//! tmpfs and then shows no fsync cost; point it at the real disk).
//!
//! Run: `cargo bench --bench journal_commit` (`MASTERKASSA_BENCH_OPS=N`).

use std::time::{Duration, Instant};

use kkt::{DateTime, Money, ReceiptKind};
use masterkassa::journal::{
    Event, Journal, OpKey, OutboxKind, OutboxRequest, PrintedReceipt, ReceiptSummary, Source,
};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let mean = total / u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1);
    println!(
        "{name:<28} n={:<6} mean={:>9.3?} p50={:>9.3?} p99={:>9.3?} max={:>9.3?}",
        samples.len(),
        mean,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
    );
}

fn main() {
    let ops: usize = std::env::var("MASTERKASSA_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let base = std::env::var_os("MASTERKASSA_BENCH_DIR");
    let dir = match &base {
        Some(b) => tempfile::tempdir_in(b),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    let journal = Journal::open(dir.path().join("bench.db")).expect("open journal");
    println!("journal at {}", journal.path().display());

    let mut receive = Vec::with_capacity(ops);
    let mut transition = Vec::with_capacity(ops * 3);
    let mut delivered = Vec::with_capacity(ops);
    let mut lifecycle = Vec::with_capacity(ops);
    let raw = r#"{"meta":{"type":"retaildemand"},"sum":15000,"positions":[]}"#.repeat(20);
    for i in 0..ops {
        let key = OpKey::new("bench", Source::Moysklad, format!("op-{i}"));
        let fd = u32::try_from(i).unwrap_or(u32::MAX);
        let whole = Instant::now();
        let t = Instant::now();
        journal.receive(&key, &raw).expect("receive");
        receive.push(t.elapsed());
        let t = Instant::now();
        journal
            .apply(
                &key,
                &Event::StartPrinting {
                    expected_fd: fd,
                    fn_serial: "FN".into(),
                    summary: ReceiptSummary {
                        kind: ReceiptKind::Sale,
                        total: Money(15000),
                    },
                },
            )
            .expect("start printing");
        transition.push(t.elapsed());
        let t = Instant::now();
        journal
            .apply(
                &key,
                &Event::Printed(PrintedReceipt {
                    fn_serial: "FN".into(),
                    fd_number: fd,
                    fiscal_sign: 1,
                    time: DateTime::constant(2026, 11, 24, 12, 0, 0, 0),
                    shift_number: 1,
                    receipt_number: 1,
                    total: Money(15000),
                }),
            )
            .expect("printed");
        transition.push(t.elapsed());
        let t = Instant::now();
        let (_, entry) = journal
            .apply_and_enqueue(
                &key,
                &Event::StartApproving,
                &OutboxRequest::new(OutboxKind::Approve, "{}"),
            )
            .expect("approving");
        transition.push(t.elapsed());
        let t = Instant::now();
        journal.outbox_delivered(entry).expect("delivered");
        delivered.push(t.elapsed());
        lifecycle.push(whole.elapsed());
    }
    report("receive", receive);
    report("transition (apply)", transition);
    report("outbox delivered", delivered);
    report("whole operation (5 commits)", lifecycle);
}
