//! Footprint of the agent: resident memory with 1 and 32 kassas, and CPU
//! use while idle.
//!
//! For each size N, `masterkassa run` runs as a child process with a
//! generated config of N kassas, each with its own emulated Shtrih-M PTY
//! (115200 baud) and its own retail store in the fake cloud. Every kassa
//! first prints one 10-position sale (so the device, HTTP client, journal
//! and shift code have all run once), then the queue stays empty. After a
//! settling pause the bench reads VmRSS / VmHWM / Threads from
//! /proc/PID/status, then the utime+stime delta from /proc/PID/stat over
//! the idle window, and counts the cloud requests the idle agent made.
//!
//! Run: `cargo bench --bench worker_footprint`
//! (`MASTERKASSA_BENCH_IDLE_SECS=N` idle window, default 60;
//! `MASTERKASSA_BENCH_SETTLE_SECS=N` settling pause, default 10;
//! `MASTERKASSA_BENCH_KASSAS=1,32` sizes).

mod bench_support;

use bench_support::{Fleet, env_num, load_line};
use std::time::{Duration, Instant};

fn measure(kassas: usize, settle: Duration, idle: Duration) {
    // 1 s poll interval: what a shop would configure (the default).
    let fleet = Fleet::start(kassas, 115_200, 1000, |link| link.to_path_buf());
    fleet.enqueue_sales(1);
    let agent = fleet.spawn_agent();
    let ok = fleet.wait(
        Duration::from_secs(120 + kassas as u64 * 5),
        Duration::from_millis(200),
        || fleet.answered().0 >= kassas as u32,
    );
    let warm = agent.started.elapsed();
    if !ok {
        println!(
            "{kassas} kassa(s): not every sale approved in time ({} of {kassas}); agent log {}",
            fleet.answered().0,
            fleet.log_path().display()
        );
        agent.stop();
        let _ = fleet.dir.keep();
        return;
    }
    let after_receipt = agent.memory();
    std::thread::sleep(settle);
    let settled = agent.memory();
    let requests0 = fleet.cloud.requests().len();
    let cpu0 = agent.cpu();
    let t0 = Instant::now();
    std::thread::sleep(idle);
    let cpu = agent.cpu().saturating_sub(cpu0);
    let wall = t0.elapsed();
    let requests = fleet.cloud.requests().len() - requests0;
    let end = agent.memory();
    let problems = fleet.anomalies();
    agent.stop();
    println!(
        "{kassas:>2} kassa(s) | every sale approved {:.1} s after spawn | VmRSS after the receipt {:>6} kB, settled {:>6} kB, after idle {:>6} kB (VmHWM {:>6} kB) | {:>3} threads",
        warm.as_secs_f64(),
        after_receipt.vm_rss_kb,
        settled.vm_rss_kb,
        end.vm_rss_kb,
        end.vm_hwm_kb,
        end.threads,
    );
    println!(
        "           idle {:.0} s: CPU {:.3} s = {:.3} % of one core ({:.2} ms CPU per second) | {} cloud requests ({:.2}/s)",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        cpu.as_secs_f64() * 1e3 / wall.as_secs_f64(),
        requests,
        requests as f64 / wall.as_secs_f64(),
    );
    for p in problems {
        println!("    PROBLEM: {p}");
    }
}

fn main() {
    let idle = Duration::from_secs(env_num("MASTERKASSA_BENCH_IDLE_SECS", 60).max(1));
    let settle = Duration::from_secs(env_num("MASTERKASSA_BENCH_SETTLE_SECS", 10));
    let sizes: Vec<usize> = std::env::var("MASTERKASSA_BENCH_KASSAS")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .filter(|n| *n > 0)
                .collect()
        })
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 32]);
    println!("worker footprint: `masterkassa run` child process, 115200-baud emulators");
    println!("before: {}", load_line());
    for n in sizes {
        measure(n, settle, idle);
    }
    println!("after: {}", load_line());
}
