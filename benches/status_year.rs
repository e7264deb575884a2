//! `status` on a year of a busy shop: how long the journal reads behind
//! `masterkassa status` take when the journal holds
//! `MASTERKASSA_BENCH_DAYS` (default 365) days of
//! `MASTERKASSA_BENCH_PER_DAY` (default 1000) settled receipts, each with
//! its raw body, four transitions and a delivered approve, plus one shift
//! per day. The target is < 50 ms per `status`; the bench exits non-zero
//! when the median is over it.
//!
//! Measured twice: the daemon's snapshot (`kassa_summary` + journal size,
//! what the control socket serves) and `status` with the daemon down
//! (open the file read-only, then the same reads). Then `prune` with the
//! default `keep_days` is timed on the same file.
//!
//! Run: `cargo bench --bench status_year` (the journal is built in
//! `MASTERKASSA_BENCH_DIR` or a temp dir; a full year takes a minute).

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use masterkassa::journal::{DEFAULT_KEEP_DAYS, Journal};
use rusqlite::{Connection, params};

const TARGET: Duration = Duration::from_millis(50);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A retail demand body of a typical size (three positions, cash).
fn body(n: u64) -> String {
    let position = |i: u32| {
        format!(
            r#"{{"assortment":{{"meta":{{"href":"https://online.moysklad.ru/api/remap/1.2/entity/product/0b8ad6b4-7b71-11ee-0a80-0d5e0000{i:04}","type":"product"}}}},"quantity":1.0,"price":15000.0,"discount":0.0,"vat":20,"vatEnabled":true,"name":"Товар {i}"}}"#
        )
    };
    format!(
        r#"{{"meta":{{"href":"https://online.moysklad.ru/api/posap/1.0/entity/retaildemand/syncid/{n:08x}-0000-4000-8000-000000000000","type":"retaildemand"}},"syncId":"{n:08x}-0000-4000-8000-000000000000","moment":"2026-01-01 12:00:00.000","vatEnabled":true,"vatIncluded":true,"cashSum":45000.0,"noCashSum":0.0,"positions":[{},{},{}]}}"#,
        position(1),
        position(2),
        position(3)
    )
}

/// Fills `path` (schema already created) with `days` × `per_day` settled
/// operations ending at `now`, in one fast, non-durable transaction.
fn fill(path: &std::path::Path, days: u64, per_day: u64, now: Timestamp) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    let day_ms = 86_400_000_i64;
    let start = now.as_millisecond() - day_ms * days as i64;
    {
        let mut op = tx.prepare(
            "INSERT INTO operations (kassa, source, op_id, raw, state, state_data, received_at, updated_at, finished_at)
             VALUES ('shop', 'moysklad', ?1, ?2, 'APPROVED', ?3, ?4, ?4, ?4)",
        )?;
        let mut tr = tx.prepare(
            "INSERT INTO transitions (operation, event, state, state_data, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut ob = tx.prepare(
            "INSERT INTO outbox (kassa, kind, operation, body, status, attempts, created_at, done_at)
             VALUES ('shop', 'approve', ?1, ?2, 'DELIVERED', 1, ?3, ?3)",
        )?;
        let mut sh = tx.prepare(
            "INSERT INTO shifts (kassa, sync_id, fn_serial, state, state_data, open_synced, close_synced, created_at, updated_at)
             VALUES ('shop', ?1, '9999078900001234', 'CLOSED', '{}', 1, 1, ?2, ?2)",
        )?;
        let fiscal = r#"{"state":"APPROVED","fiscal":{"fn_serial":"9999078900001234","fd_number":123456,"fiscal_sign":1234567890,"time":"2026-01-01T12:00:00","shift_number":200,"receipt_number":42,"total":45000}}"#;
        for day in 0..days {
            let day_at = start + day_ms * day as i64;
            sh.execute(params![format!("shift-{day}"), day_at])?;
            for i in 0..per_day {
                let n = day * per_day + i;
                let at = day_at + (i as i64 * day_ms) / per_day as i64;
                op.execute(params![format!("{n:08x}"), body(n), fiscal, at])?;
                let id = tx.last_insert_rowid();
                for (event, state) in [
                    ("Received", "RECEIVED"),
                    ("StartPrinting", "PRINTING"),
                    ("Printed", "PRINTED"),
                    ("ApproveDelivered", "APPROVED"),
                ] {
                    tr.execute(params![id, event, state, fiscal, at])?;
                }
                ob.execute(params![id, fiscal, at])?;
            }
        }
    }
    tx.commit()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let days = env_number("MASTERKASSA_BENCH_DAYS", 365);
    let per_day = env_number("MASTERKASSA_BENCH_PER_DAY", 1000);
    let runs = env_number("MASTERKASSA_BENCH_STATUS_RUNS", 20).max(1);
    let base = std::env::var_os("MASTERKASSA_BENCH_DIR");
    let dir = match &base {
        Some(b) => tempfile::tempdir_in(b)?,
        None => tempfile::tempdir()?,
    };
    let path = dir.path().join("journal.db");
    let now = Timestamp::now();
    drop(Journal::open(&path)?);
    let t = Instant::now();
    fill(&path, days, per_day, now)?;
    println!(
        "filled {} operations ({days} days × {per_day}) in {:.1?}",
        days * per_day,
        t.elapsed()
    );
    let journal = Journal::open(&path)?;
    // The kassa's current shift, as the daemon would have it.
    journal.begin_shift("shop", "9999078900001234", 1)?;
    let day_start = now.checked_sub(SignedDuration::from_hours(12))?;
    println!("journal size: {:.1} MB", journal.size_bytes()? as f64 / 1e6);

    let mut daemon = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let summary = journal.kassa_summary("shop", day_start)?;
        let _size = journal.size_bytes()?;
        daemon.push(t.elapsed());
        assert!(summary.today.approved > 0);
    }
    drop(journal);
    let mut cold = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        // What `status` reads with the daemon down (the command itself
        // lives in the binary): open read-only, list kassas, summarise.
        let journal = Journal::open_read_only(&path)?;
        let kassas = journal.kassas()?;
        for name in &kassas {
            journal.kassa_summary(name, day_start)?;
        }
        let _size = journal.size_bytes()?;
        cold.push(t.elapsed());
        assert_eq!(kassas.len(), 1);
    }
    let (daemon, cold) = (median(daemon), median(cold));
    println!("status via the daemon (summary + size): median {daemon:.2?}");
    println!("status with the daemon down (open + summary + size): median {cold:.2?}");

    let journal = Journal::open(&path)?;
    let t = Instant::now();
    let pruned = journal.prune(DEFAULT_KEEP_DAYS, now)?;
    println!(
        "prune keep_days={DEFAULT_KEEP_DAYS}: {} operations, {} shifts removed in {:.1?}",
        pruned.operations,
        pruned.shifts,
        t.elapsed()
    );
    let t = Instant::now();
    let pruned = journal.prune(days as u32 / 2, now)?;
    println!(
        "prune keep_days={}: {} operations, {} shifts removed in {:.1?}",
        days / 2,
        pruned.operations,
        pruned.shifts,
        t.elapsed()
    );

    if daemon > TARGET || cold > TARGET {
        anyhow::bail!("status is over {TARGET:?}");
    }
    Ok(())
}
