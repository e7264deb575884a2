//! The agent against the simplest print loop a shop could write, in one run
//! on the same emulated Shtrih-M-01F and the same ten-position cash sales.
//!
//! - **agent**: `masterkassa run` as a child process, the fake MoySklad cloud
//!   over HTTP with R queued sales, one emulator at BAUD. Wall time per
//!   receipt is the spacing of the cloud's accepted approves (first to last,
//!   so start-up, recovery and the shift opening are left out); CPU is the
//!   agent process's utime+stime over the same stretch. Exactly-once is
//!   checked (one approve per sale, one FN receipt per sale).
//! - **pyshtrih**: `benches/interop/pyshtrih_loop.py` on a fresh emulator at
//!   the same speed: open shift once, then per receipt ten classic sales
//!   (0x80) and a close (0x85). Wall and CPU per receipt as the script
//!   measures them (interpreter start-up excluded), first receipt dropped.
//!
//! Then latency, enqueue → receipt open on the emulator and enqueue →
//! approve accepted by the cloud: p50/p99 of sales queued one every 250 ms
//! while the kassa is busy (`MASTERKASSA_BENCH_BUSY`, default 40 sales),
//! then of one sale queued after an idle spell.
//!
//! Needs a Python with pyshtrih 2.0.6 (`$PYSHTRIH_PYTHON`, else
//! `.ci/venv/bin/python` as .ci/run installs it, else `python3`).
//!
//! Run: `cargo bench --bench agent_vs_pyshtrih`. Knobs:
//! `MASTERKASSA_BENCH_RECEIPTS` (default 40), `MASTERKASSA_BENCH_BAUDS`
//! (default `115200,9600`; 9600 uses a quarter of the receipts),
//! `MASTERKASSA_BENCH_IDLE_SECS` (default 30; 0 skips the idle latency),
//! `MASTERKASSA_BENCH_LOG`, `MASTERKASSA_BENCH_KEEP`.

mod bench_support;

use bench_support::{Fleet, env_num, load_line, mean};
use sim_shtrih::{Emulator, EmulatorConfig};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Per-receipt figures of one side.
struct Side {
    wall_ms: f64,
    cpu_ms: f64,
    receipts: usize,
}

fn python() -> Option<String> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/python");
    std::env::var("PYSHTRIH_PYTHON")
        .ok()
        .into_iter()
        .chain(venv.exists().then(|| venv.display().to_string()))
        .chain(["python3".to_string()])
        .find(|py| {
            Command::new(py)
                .args(["-c", "import pyshtrih"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn pyshtrih_side(py: &str, baud: u32, receipts: u32) -> Result<Side, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let emu = Emulator::spawn(EmulatorConfig::new(dir.path().join("py.tty")).baud(baud))
        .map_err(|e| format!("emulator: {e}"))?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/interop/pyshtrih_loop.py");
    let out = Command::new(py)
        .arg(&script)
        .arg(emu.link_path())
        .arg(baud.to_string())
        .arg(receipts.to_string())
        .output()
        .map_err(|e| format!("run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "pyshtrih loop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let ["receipt", _, w, c] = f.as_slice() {
            wall.push(w.parse::<f64>().map_err(|e| format!("{line}: {e}"))?);
            cpu.push(c.parse::<f64>().map_err(|e| format!("{line}: {e}"))?);
        }
    }
    let in_fn = emu
        .archive()
        .iter()
        .filter(|d| d.kind == sim_shtrih::doc_type::RECEIPT)
        .count();
    if in_fn != receipts as usize || wall.len() != receipts as usize {
        return Err(format!(
            "pyshtrih printed {in_fn} receipts, reported {}, for {receipts}",
            wall.len()
        ));
    }
    // The first receipt pays for warm-up (imports, first sync).
    let steady = 1.min(wall.len() - 1);
    Ok(Side {
        wall_ms: mean(&wall[steady..]),
        cpu_ms: mean(&cpu[steady..]),
        receipts: wall.len() - steady,
    })
}

/// The agent's side, then (if `idle` is non-zero) the latency of one sale
/// queued after `idle` without work.
fn agent_side(baud: u32, receipts: u32, idle: Duration) -> Result<Side, String> {
    let fleet = Fleet::start(1, baud, 1000, |p| p.to_path_buf());
    fleet.enqueue_sales(receipts);
    let mut agent = fleet.spawn_agent();
    let wait_for = Duration::from_secs(60) + Duration::from_secs(2) * receipts * (115_200 / baud);
    let mut marks: Vec<(u32, Duration)> = Vec::new();
    let deadline = Instant::now() + wait_for;
    let mut problem = None;
    loop {
        let (approved, rejected) = fleet.answered();
        if rejected > 0 {
            problem = Some(format!("{rejected} sale(s) rejected"));
            break;
        }
        if marks.last().is_none_or(|m| m.0 < approved) {
            marks.push((approved, agent.cpu()));
        }
        if approved >= receipts {
            break;
        }
        if !agent.alive() || Instant::now() > deadline {
            problem = Some(format!(
                "{approved}/{receipts} approved, agent stopped or too slow"
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let times = fleet.approve_times().remove(0);
    let mut problems: Vec<String> = problem.into_iter().collect();
    problems.extend(fleet.anomalies());
    if fleet.receipts_in_fn() != receipts as usize {
        problems.push(format!(
            "{} receipts in the FN for {receipts} sales",
            fleet.receipts_in_fn()
        ));
    }
    let side = match (times.first(), times.last(), marks.first(), marks.last()) {
        (Some(a), Some(b), Some(c0), Some(c1)) if times.len() > 1 && c1.0 > c0.0 => Side {
            wall_ms: b.duration_since(*a).as_secs_f64() * 1e3 / (times.len() - 1) as f64,
            cpu_ms: (c1.1.saturating_sub(c0.1)).as_secs_f64() * 1e3 / f64::from(c1.0 - c0.0),
            receipts: times.len() - 1,
        },
        _ => {
            problems.push("fewer than two approves".into());
            Side {
                wall_ms: 0.0,
                cpu_ms: 0.0,
                receipts: 0,
            }
        }
    };
    let busy = u32::try_from(env_num("MASTERKASSA_BENCH_BUSY", 40)).unwrap_or(40);
    if problems.is_empty() && !idle.is_zero() && busy > 0 {
        busy_latency(&fleet, receipts, busy, &mut problems);
    }
    if problems.is_empty() && !idle.is_zero() {
        idle_latency(&fleet, idle, receipts + busy, &mut problems);
    }
    agent.stop();
    if !problems.is_empty() || std::env::var_os("MASTERKASSA_BENCH_KEEP").is_some() {
        let log = fleet.log_path();
        let _ = fleet.dir.keep();
        problems.push(format!("agent log kept: {}", log.display()));
    }
    if problems.iter().any(|p| !p.starts_with("agent log kept")) {
        return Err(problems.join("; "));
    }
    Ok(side)
}

/// Queues `count` sales one every 250 ms (the kassa prints one in about
/// 130 ms, so each finds it just done with or still on the previous one)
/// and prints p50/p99 of enqueue → receipt open and enqueue → approve.
/// Print start is seen by watching the emulator every millisecond (a
/// receipt is open for about 100 ms); sales print in queue order.
fn busy_latency(fleet: &Fleet, done: u32, count: u32, problems: &mut Vec<String>) {
    let emu = &fleet.emulators[0];
    let approves_before = fleet.approve_times().remove(0).len();
    let mut queued = Vec::new();
    let mut starts = Vec::new();
    let mut was_open = emu.receipt_open();
    let mut next = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60) + Duration::from_millis(250) * count;
    while Instant::now() < deadline {
        if queued.len() < count as usize && Instant::now() >= next {
            let i = done + queued.len() as u32;
            let id = format!("c0ffee00-0000-4000-8000-{:012}", 800_000 + i);
            if let Err(e) = fleet.enqueue_sale(0, &id, i) {
                problems.push(format!("enqueue while busy: {e}"));
                return;
            }
            queued.push(Instant::now());
            next += Duration::from_millis(250);
        }
        let open = emu.receipt_open();
        if open && !was_open {
            starts.push(Instant::now());
        }
        was_open = open;
        if fleet.answered().0 >= done + count {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let approves: Vec<Instant> = fleet
        .approve_times()
        .remove(0)
        .into_iter()
        .skip(approves_before)
        .collect();
    if approves.len() != queued.len() || starts.len() != queued.len() {
        problems.push(format!(
            "busy phase: {} queued, {} print starts seen, {} approves",
            queued.len(),
            starts.len(),
            approves.len()
        ));
        return;
    }
    let after = |ends: &[Instant]| -> Vec<f64> {
        let mut ms: Vec<f64> = queued
            .iter()
            .zip(ends)
            .map(|(q, e)| e.saturating_duration_since(*q).as_secs_f64() * 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let (start, approve) = (after(&starts), after(&approves));
    println!(
        "    busy ({count} sales, one every 250 ms): enqueue → print start p50 {:.0} ms p99 {:.0} ms, enqueue → approve p50 {:.0} ms p99 {:.0} ms",
        percentile(&start, 50),
        percentile(&start, 99),
        percentile(&approve, 50),
        percentile(&approve, 99)
    );
}

/// The `p`-th percentile of sorted `values` (nearest rank).
fn percentile(values: &[f64], p: usize) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = (p * values.len()).div_ceil(100).clamp(1, values.len());
    values[rank - 1]
}

/// Waits `idle`, queues one sale and prints enqueue → receipt open and
/// enqueue → approve.
fn idle_latency(fleet: &Fleet, idle: Duration, done: u32, problems: &mut Vec<String>) {
    let requests_before = fleet.cloud.requests().len();
    std::thread::sleep(idle);
    let idle_requests = fleet.cloud.requests().len() - requests_before;
    let emu = &fleet.emulators[0];
    let fd_before = emu.last_fd();
    let queued = Instant::now();
    let id = format!("c0ffee00-0000-4000-8000-{:012}", 900_000 + done);
    if let Err(e) = fleet.enqueue_sale(0, &id, done) {
        problems.push(format!("enqueue after idle: {e}"));
        return;
    }
    let mut print_start = None;
    let deadline = queued + Duration::from_secs(30);
    while Instant::now() < deadline {
        if print_start.is_none() && (emu.receipt_open() || emu.last_fd() > fd_before) {
            print_start = Some(queued.elapsed());
        }
        if fleet.answered().0 > done {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let approve = fleet
        .approve_times()
        .remove(0)
        .last()
        .filter(|t| **t > queued)
        .map(|t| t.duration_since(queued));
    match (print_start, approve) {
        (Some(p), Some(a)) => println!(
            "    after {:.0} s idle ({idle_requests} cloud requests, {:.1}/5 s): enqueue → print start {:.0} ms, enqueue → approve {:.0} ms",
            idle.as_secs_f64(),
            idle_requests as f64 * 5.0 / idle.as_secs_f64(),
            p.as_secs_f64() * 1e3,
            a.as_secs_f64() * 1e3
        ),
        _ => problems.push("the sale queued after the idle spell was not printed in 30 s".into()),
    }
}

fn main() {
    let Some(py) = python() else {
        println!("SKIPPED: no python with pyshtrih (set PYSHTRIH_PYTHON or run .ci/run once)");
        return;
    };
    let receipts = u32::try_from(env_num("MASTERKASSA_BENCH_RECEIPTS", 40))
        .unwrap_or(40)
        .max(4);
    let idle = Duration::from_secs(env_num("MASTERKASSA_BENCH_IDLE_SECS", 30));
    let bauds = std::env::var("MASTERKASSA_BENCH_BAUDS").unwrap_or_else(|_| "115200,9600".into());
    println!("agent vs pyshtrih loop: 10-position cash sales, one emulated Shtrih-M-01F");
    for baud in bauds
        .split(',')
        .filter_map(|b| b.trim().parse::<u32>().ok())
    {
        let n = if baud >= 57_600 {
            receipts
        } else {
            (receipts / 4).max(4)
        };
        println!("{baud} baud, {n} receipts each; before: {}", load_line());
        let agent = agent_side(baud, n, if baud >= 57_600 { idle } else { Duration::ZERO });
        let py_side = pyshtrih_side(&py, baud, n);
        match (agent, py_side) {
            (Ok(a), Ok(p)) => {
                println!(
                    "    agent    {:>7.1} ms wall {:>6.2} ms CPU per receipt ({} receipts)",
                    a.wall_ms, a.cpu_ms, a.receipts
                );
                println!(
                    "    pyshtrih {:>7.1} ms wall {:>6.2} ms CPU per receipt ({} receipts)",
                    p.wall_ms, p.cpu_ms, p.receipts
                );
                println!(
                    "    agent / pyshtrih: wall {:.2}×, CPU {:.2}×",
                    a.wall_ms / p.wall_ms,
                    a.cpu_ms / p.cpu_ms
                );
            }
            (a, p) => {
                for e in [a.err(), p.err()].into_iter().flatten() {
                    println!("    PROBLEM: {e}");
                }
            }
        }
        println!("    after: {}", load_line());
    }
}
