//! Worker benchmark, in process (a plain binary: `cargo bench --bench worker_inprocess`).
//!
//! Prints:
//! 1. receipts per minute with 1 and 8 emulated Shtrih printers at 115200
//!    baud, each kassa with its own in-process queue, all on one journal;
//! 2. the agent's overhead per receipt over the emulator's own wire + print
//!    time (the same receipts printed by the bare driver);
//! 3. RSS of `masterkassa run` with 1 and 32 kassas (idle, fake cloud);
//! 4. CPU used by an idle `masterkassa run` with 1 kassa over 60 s
//!    (`MASTERKASSA_BENCH_IDLE_SECS` to change).
//!
//! `MASTERKASSA_BENCH_RECEIPTS` sets receipts per printer (default 40).

use masterkassa::device::{DeviceHandle, shtrih_opener};
use masterkassa::journal::{Journal, Source};
use masterkassa::receipt::{OperationInput, RenderContext, render};
use masterkassa::worker::journal_store::JournalStore;
use masterkassa::worker::queue::MemoryQueue;
use masterkassa::worker::{Kassa, KassaSettings};
use shtrih::driver::{Baud, DriverConfig};
use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A sale of two lines paid by card, with a unique id.
fn sale(kassa: usize, i: usize) -> String {
    let id = format!("bench000-0000-4000-8000-{kassa:04}{i:08}");
    serde_json::json!({
        "meta": {"href": format!("https://online.moysklad.ru/api/posap/1.0/entity/retaildemand/syncid/{id}"), "type": "retaildemand"},
        "name": format!("{i}"),
        "moment": "2026-11-24 10:00:00",
        "positions": [
            {"assortment": {"meta": {"href": "https://online.moysklad.ru/api/posap/1.0/entity/product/1"}}, "quantity": 2, "price": 12_345, "discount": 5, "vat": 20},
            {"assortment": {"meta": {"href": "https://online.moysklad.ru/api/posap/1.0/entity/product/2"}}, "quantity": 1, "price": 9_900, "vat": 10},
        ],
        "noCashSum": 23_456 + 9_900,
        "vatEnabled": true,
        "vatIncluded": true,
        "taxSystem": "GENERAL_TAX_SYSTEM",
    })
    .to_string()
}

fn emulator(dir: &Path, n: usize) -> EmulatorHandle {
    Emulator::spawn(EmulatorConfig::new(dir.join(format!("kkt{n}"))).baud(115_200))
        .expect("emulator")
}

fn opener(emu: &EmulatorHandle) -> masterkassa::device::Opener {
    shtrih_opener(
        emu.link_path().to_string_lossy().to_string(),
        Baud::Fixed(115_200),
        DriverConfig::default(),
    )
}

/// Receipts through the whole agent on `printers` printers; returns
/// (wall time, receipts).
async fn through_agent(printers: usize, per_printer: usize) -> (Duration, usize) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let (stop, _) = tokio::sync::watch::channel(false);
    let mut emus = Vec::new();
    let mut queues = Vec::new();
    let mut tasks = Vec::new();
    for p in 0..printers {
        let emu = emulator(dir.path(), p);
        // Open the shift first so every run measures receipts only.
        let mut k = opener(&emu)().unwrap();
        k.open_shift("Кассир").unwrap();
        drop(k);
        let queue = Arc::new(MemoryQueue::new());
        for i in 0..per_printer {
            queue.push(&sale(p, i));
        }
        let name = format!("bench{p}");
        let store = Arc::new(JournalStore::new(journal.clone(), &name, Source::Moysklad));
        let device = DeviceHandle::spawn(&name, opener(&emu)).unwrap();
        let mut settings = KassaSettings::new(&name);
        settings.poll_interval = Duration::from_millis(200);
        let (kassa, _) = Kassa::new(settings, queue.clone(), store, device);
        queues.push(queue);
        emus.push(emu);
        tasks.push((kassa, stop.subscribe()));
    }
    let started = Instant::now();
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|(k, rx)| tokio::spawn(k.run(rx)))
        .collect();
    while queues.iter().any(|q| q.queued() > 0) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    (elapsed, printers * per_printer)
}

/// The same receipts printed by the bare driver on one printer.
fn bare_driver(per_printer: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(dir.path(), 0);
    let mut k = opener(&emu)().unwrap();
    k.open_shift("Кассир").unwrap();
    let ctx = RenderContext::default();
    let receipts: Vec<_> = (0..per_printer)
        .map(|i| {
            let op = masterkassa::cloud::models::parse_operation(sale(0, i).as_bytes()).unwrap();
            render(&OperationInput::from_cloud(&op), &ctx).unwrap()
        })
        .collect();
    let started = Instant::now();
    for r in &receipts {
        k.print_receipt(r).unwrap();
    }
    started.elapsed()
}

fn write_config(dir: &Path, api: &str, emus: &[EmulatorHandle]) -> std::path::PathBuf {
    let mut text = format!(
        "[journal]\npath = \"{}\"\n[control]\nsocket = \"{}\"\n",
        dir.join("journal.db").display(),
        dir.join("control.sock").display()
    );
    for (i, e) in emus.iter().enumerate() {
        text.push_str(&format!(
            "[[kassa]]\nname = \"k{i}\"\napi_url = \"{api}\"\ncashier_uid = \"cashier@myorg\"\norg_id = \"7944ef04-f831-11e5-7a69-971500188b19\"\ntoken_env = \"MASTERKASSA_BENCH_TOKEN\"\npoll_interval_ms = 1000\n[kassa.device]\nport = \"{}\"\nbaud = 115200\n",
            e.link_path().display()
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = text.rsplit(')').next()?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after ")".
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Starts `masterkassa run` with `n` idle kassas; returns (RSS kB after
/// settling, idle CPU % over `idle` if asked).
async fn daemon(n: usize, idle: Option<Duration>) -> (u64, Option<f64>) {
    let dir = tempfile::tempdir().unwrap();
    let cloud = sim_moysklad::FakeCloud::start(Default::default())
        .await
        .unwrap();
    let emus: Vec<_> = (0..n).map(|i| emulator(dir.path(), i)).collect();
    let cfg = write_config(dir.path(), &cloud.base_url(), &emus);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .arg("run")
        .arg("--config")
        .arg(&cfg)
        .env("MASTERKASSA_BENCH_TOKEN", "bench-token-0123456789")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let rss = proc_status_kb(child.id(), "VmRSS:").unwrap_or(0);
    let cpu = match idle {
        Some(d) => {
            let hz = 100.0; // USER_HZ on Linux
            let before = cpu_ticks(child.id()).unwrap_or(0);
            tokio::time::sleep(d).await;
            let after = cpu_ticks(child.id()).unwrap_or(0);
            Some((after - before) as f64 / hz / d.as_secs_f64() * 100.0)
        }
        None => None,
    };
    let _ = child.kill();
    let _ = child.wait();
    (rss, cpu)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let per = env_u64("MASTERKASSA_BENCH_RECEIPTS", 40) as usize;
    let idle = Duration::from_secs(env_u64("MASTERKASSA_BENCH_IDLE_SECS", 60));
    runtime.block_on(async {
        let bare = tokio::task::spawn_blocking(move || bare_driver(per)).await.unwrap();
        let bare_ms = bare.as_secs_f64() * 1000.0 / per as f64;
        println!("bare driver + emulator, 1 printer: {bare_ms:.1} ms per receipt ({:.0} receipts/min)", 60_000.0 / bare_ms);
        for printers in [1usize, 8] {
            let (t, n) = through_agent(printers, per).await;
            let per_min = n as f64 / t.as_secs_f64() * 60.0;
            println!(
                "agent, {printers} printer(s) at 115200: {n} receipts in {:.2} s = {per_min:.0} receipts/min ({:.0} per printer)",
                t.as_secs_f64(),
                per_min / printers as f64
            );
            if printers == 1 {
                let agent_ms = t.as_secs_f64() * 1000.0 / n as f64;
                println!(
                    "agent overhead over the emulator's wire+print time: {:.1} ms per receipt ({agent_ms:.1} vs {bare_ms:.1})",
                    agent_ms - bare_ms
                );
            }
        }
        for n in [1usize, 32] {
            let (rss, _) = daemon(n, None).await;
            println!("RSS of `masterkassa run` with {n} kassa(s): {:.1} MiB", rss as f64 / 1024.0);
        }
        let (_, cpu) = daemon(1, Some(idle)).await;
        println!("CPU of an idle `masterkassa run` (1 kassa) over {} s: {:.2} %", idle.as_secs(), cpu.unwrap_or(0.0));
    });
}
