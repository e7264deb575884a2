//! Throughput of the whole agent: receipts per minute with 1 and 8
//! emulated Shtrih-M printers at 115200 baud, and the agent's overhead over
//! the line time of the bytes a receipt needs.
//!
//! Each run is what a shop runs: `masterkassa run --config …` as a child
//! process, the fake MoySklad cloud (one retail store, organisation and
//! token per kassa) with R queued 10-position cash sales per kassa, and one
//! emulator per kassa on its own PTY. The rate is taken from the cloud's
//! log of accepted approves (first to last approve of each kassa, so the
//! start-up, recovery and shift opening are left out); the agent's CPU time
//! from /proc/PID/stat over the same stretch. Every run also checks that
//! each sale was approved exactly once and that the FN archives hold one
//! receipt per sale, so a fast but wrong agent does not go unnoticed.
//!
//! Overhead: a third single-printer run puts a byte-counting PTY relay
//! between agent and emulator (unpaced) to learn how many bytes one
//! receipt takes each way, whatever commands the agent sends; their wire
//! time (10 bit times per byte, as the emulator paces them) is compared
//! with the measured time per receipt at 115200 and with an unpaced
//! (`--baud 0`) emulator.
//!
//! Run: `cargo bench --bench worker_throughput`
//! (`MASTERKASSA_BENCH_RECEIPTS=N` sales per kassa, default 60;
//! `MASTERKASSA_BENCH_UNPACED_RECEIPTS=N` for the unpaced runs, default 30;
//! `MASTERKASSA_BENCH_RUNS=1,1u,1r,8,8u,32` to pick runs;
//! `MASTERKASSA_BENCH_LOG=info` for the agent's log in its temp dir,
//! `MASTERKASSA_BENCH_KEEP=1` to keep that dir).

mod bench_support;

use bench_support::{Fleet, Relay, env_num, load_line, mean};
use std::time::{Duration, Instant};

struct RunResult {
    label: String,
    kassas: usize,
    receipts: u32,
    /// Per kassa: steady-state receipts per minute.
    per_kassa_rpm: Vec<f64>,
    /// Agent CPU per receipt.
    cpu_per_receipt: Duration,
    /// Bytes per receipt each way (relay runs only).
    bytes: Option<(f64, f64)>,
    /// Spawn to last approve.
    end_to_end: Duration,
    problems: Vec<String>,
    kept_log: Option<std::path::PathBuf>,
}

impl RunResult {
    fn ms_per_receipt(&self) -> f64 {
        60_000.0 / mean(&self.per_kassa_rpm)
    }

    fn print(&self) {
        let total: f64 = self.per_kassa_rpm.iter().sum();
        let min = self
            .per_kassa_rpm
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        println!(
            "{:<30} {} kassa(s) × {} receipts | {:>7.0} receipts/min total | per printer {:>6.0}/min (min {:>5.0}) = {:>6.1} ms/receipt | agent CPU {:>6.2} ms/receipt | spawn→last approve {:>5.1} s",
            self.label,
            self.kassas,
            self.receipts,
            total,
            mean(&self.per_kassa_rpm),
            min,
            self.ms_per_receipt(),
            self.cpu_per_receipt.as_secs_f64() * 1e3,
            self.end_to_end.as_secs_f64(),
        );
        for p in &self.problems {
            println!("    PROBLEM: {p}");
        }
        if let Some(log) = &self.kept_log {
            println!("    agent log kept: {}", log.display());
        }
    }
}

fn run(label: &str, kassas: usize, emulator_baud: u32, receipts: u32, relay: bool) -> RunResult {
    let mut relays = Vec::new();
    let fleet = Fleet::start(kassas, emulator_baud, 200, |device| {
        if relay {
            let link = device.with_extension("relay");
            relays.push(Relay::start(device, &link));
            link
        } else {
            device.to_path_buf()
        }
    });
    fleet.enqueue_sales(receipts);
    let expected = receipts * kassas as u32;
    let mut agent = fleet.spawn_agent();
    let bytes_now = || -> (u64, u64) {
        relays.iter().fold((0, 0), |(a, b), r| {
            let (x, y) = r.counts.snapshot();
            (a + x, b + y)
        })
    };
    // (approved, agent CPU, relay bytes) when the first approve was seen,
    // and at the last change.
    let mut first: Option<(u32, Duration, (u64, u64))> = None;
    let mut last = (0u32, Duration::ZERO, (0u64, 0u64));
    let mut problems = Vec::new();
    let timeout = Duration::from_secs(120 + u64::from(expected) * 2);
    let deadline = Instant::now() + timeout;
    loop {
        let (approved, rejected) = fleet.answered();
        if rejected > 0 {
            problems.push(format!("{rejected} sale(s) rejected"));
            break;
        }
        if approved > last.0 {
            let snap = (approved, agent.cpu(), bytes_now());
            if first.is_none() {
                first = Some(snap);
            }
            last = snap;
        }
        if approved >= expected {
            break;
        }
        if !agent.alive() {
            problems.push("the agent exited".into());
            break;
        }
        if Instant::now() > deadline {
            problems.push(format!(
                "timed out after {timeout:?} with {approved}/{expected} approved"
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let end_to_end = agent.started.elapsed();
    agent.stop();

    let mut per_kassa_rpm = Vec::new();
    for (k, times) in fleet.approve_times().iter().enumerate() {
        match (times.first(), times.last()) {
            (Some(a), Some(b)) if times.len() > 1 && b > a => {
                let span = b.duration_since(*a).as_secs_f64();
                per_kassa_rpm.push((times.len() - 1) as f64 * 60.0 / span);
            }
            _ => problems.push(format!("kassa {k}: fewer than two approves")),
        }
    }
    problems.extend(fleet.anomalies());
    let in_fn = fleet.receipts_in_fn();
    if in_fn != expected as usize {
        problems.push(format!(
            "{in_fn} receipts in the FN archives for {expected} sales"
        ));
    }
    let kept_log = (!problems.is_empty() || std::env::var_os("MASTERKASSA_BENCH_KEEP").is_some())
        .then(|| {
            let log = fleet.log_path();
            // Keep the temp dir for a look at the log.
            let _ = fleet.dir.keep();
            log
        });
    let (cpu_per_receipt, bytes) = match first {
        Some(f) if last.0 > f.0 => {
            let n = last.0 - f.0;
            let cpu = last.1.saturating_sub(f.1) / n;
            let bytes = relay.then(|| {
                (
                    (last.2.0 - f.2.0) as f64 / f64::from(n),
                    (last.2.1 - f.2.1) as f64 / f64::from(n),
                )
            });
            (cpu, bytes)
        }
        _ => (Duration::ZERO, None),
    };
    RunResult {
        label: label.to_string(),
        kassas,
        receipts,
        per_kassa_rpm,
        cpu_per_receipt,
        bytes,
        end_to_end,
        problems,
        kept_log,
    }
}

/// Line time of `bytes` at `baud`, 10 bit times per byte, in ms.
fn wire_ms(bytes: f64, baud: u32) -> f64 {
    bytes * 10.0 * 1e3 / f64::from(baud)
}

fn main() {
    let receipts = u32::try_from(env_num("MASTERKASSA_BENCH_RECEIPTS", 60))
        .unwrap_or(60)
        .max(2);
    println!("worker throughput: 10-position cash sales, `masterkassa run` child process");
    println!("before: {}", load_line());

    // MASTERKASSA_BENCH_RUNS picks runs: 1 (1 printer), 1u (unpaced),
    // 1r (unpaced with the byte-counting relay), 8, 8u, 32 (32 printers at
    // 115200, each kassa with its own token as separate shops).
    let runs = std::env::var("MASTERKASSA_BENCH_RUNS").unwrap_or_else(|_| "1,1u,1r,8,8u,32".into());
    let wanted = |name: &str| runs.split(',').any(|r| r.trim() == name);
    // Unpaced runs stay inside one window of the MoySklad request budget
    // (100 requests per 5 s per token, 2 per receipt): past it the agent's
    // own rate limiter, not the agent's work, sets the pace (~570/min).
    let unpaced_receipts = u32::try_from(env_num("MASTERKASSA_BENCH_UNPACED_RECEIPTS", 30))
        .unwrap_or(30)
        .max(2);
    let pick = |name: &str, label: &str, kassas: usize, baud: u32, relay: bool| {
        wanted(name).then(|| {
            let n = if baud == 0 {
                unpaced_receipts
            } else {
                receipts
            };
            let r = run(label, kassas, baud, n, relay);
            r.print();
            r
        })
    };
    let one = pick("1", "1 printer, 115200 baud", 1, 115_200, false);
    let one_unpaced = pick("1u", "1 printer, unpaced (baud 0)", 1, 0, false);
    let counted = pick("1r", "1 printer, unpaced, relay", 1, 0, true);
    let _eight = pick("8", "8 printers, 115200 baud", 8, 115_200, false);
    let _eight_unpaced = pick("8u", "8 printers, unpaced (baud 0)", 8, 0, false);
    let _thirty_two = pick("32", "32 printers, 115200 baud", 32, 115_200, false);
    println!("after: {}", load_line());

    let (Some(one), Some(one_unpaced), Some((up, down))) =
        (one, one_unpaced, counted.and_then(|c| c.bytes))
    else {
        println!("overhead needs runs 1, 1u and 1r");
        return;
    };
    let wire = wire_ms(up + down, 115_200);
    let measured = one.ms_per_receipt();
    println!();
    println!(
        "per receipt on the line: host→device {up:.0} B, device→host {down:.0} B; wire time {wire:.1} ms at 115200 ({:.1} ms at 9600)",
        wire_ms(up + down, 9_600)
    );
    println!(
        "measured at 115200: {measured:.1} ms/receipt → agent overhead over the emulator's wire time {:.1} ms ({:.0} % of the receipt's time)",
        measured - wire,
        (measured - wire) / measured * 100.0
    );
    println!(
        "unpaced emulator: {:.1} ms/receipt (agent + HTTP + journal + emulator work, no line time)",
        one_unpaced.ms_per_receipt()
    );
    println!(
        "agent CPU per receipt: {:.2} ms at 115200, {:.2} ms unpaced",
        one.cpu_per_receipt.as_secs_f64() * 1e3,
        one_unpaced.cpu_per_receipt.as_secs_f64() * 1e3
    );
}
