//! Shared by the worker benches (`worker_throughput`, `worker_footprint`,
//! `agent_vs_pyshtrih`), on top of `test-support` (config, agent process,
//! operations): a fleet of N kassas as a shop runs them — the fake MoySklad cloud with
//! one retail store (own organisation, cashier and token) per kassa, one
//! emulated Shtrih-M per kassa on its own PTY, and `masterkassa run` as a
//! child process with a generated config — plus readers of the child's
//! /proc counters, a byte-counting PTY relay and a 10-position sale
//! generator. Benches measure; this module never asserts on timing.

#![allow(dead_code, unused_imports)]

use sim_moysklad::{FakeCloud, FakeCloudConfig, FakeCloudHandle, FakeStore, OpKind};
use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use test_support::agent::run_command;
pub use test_support::agent::{Agent, ProcStatus, proc_status, process_cpu};
use test_support::config::{KassaEntry, write_config};
pub use test_support::operations::ten_position_sale;

/// An env var as a number, or `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `uptime`-style load line, printed with every set of numbers (the
/// machine is shared).
pub fn load_line() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "load average {} ({cpus} CPUs)",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// One kassa's identity in the fake cloud and the config.
pub struct KassaIdent {
    pub name: String,
    pub org_id: String,
    pub cashier_uid: String,
    pub token: String,
}

impl KassaIdent {
    fn new(i: usize) -> Self {
        KassaIdent {
            name: format!("k{i:02}"),
            org_id: uuid::Uuid::new_v4().to_string(),
            cashier_uid: format!("cashier{i}@bench"),
            token: format!("{:040x}", 0xbe_0000_u128 + i as u128),
        }
    }

    fn token_env(&self) -> String {
        format!("MASTERKASSA_BENCH_TOKEN_{}", self.name.to_uppercase())
    }
}

/// The fake cloud, the emulators and the generated config of N kassas.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
    pub cloud: FakeCloudHandle,
    pub emulators: Vec<EmulatorHandle>,
    pub kassas: Vec<KassaIdent>,
    pub config: PathBuf,
}

impl Fleet {
    /// Starts the cloud and `n` emulators at `emulator_baud` (0 = no line
    /// pacing). `ports` maps emulator i's link to the port the agent opens
    /// (identity, or a relay in front of it).
    pub fn start(
        n: usize,
        emulator_baud: u32,
        poll_interval_ms: u64,
        mut ports: impl FnMut(&Path) -> PathBuf,
    ) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let kassas: Vec<KassaIdent> = (0..n).map(KassaIdent::new).collect();
        let main = &kassas[0];
        let config = FakeCloudConfig {
            org_id: main.org_id.clone(),
            token: Some(main.token.clone()),
            cashier_uid: main.cashier_uid.clone(),
            extra_stores: kassas[1..]
                .iter()
                .map(|k| FakeStore {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: format!("Точка {}", k.name),
                    org_id: k.org_id.clone(),
                    cashier_uid: k.cashier_uid.clone(),
                    token: Some(k.token.clone()),
                })
                .collect(),
            catalogue_size: 200,
            ..FakeCloudConfig::default()
        };
        let cloud = runtime
            .block_on(FakeCloud::start(config))
            .expect("fake cloud");
        let mut emulators = Vec::new();
        let mut agent_ports = Vec::new();
        for k in &kassas {
            let link = dir.path().join(format!("{}.tty", k.name));
            let emu =
                Emulator::spawn(EmulatorConfig::new(&link).baud(emulator_baud)).expect("emulator");
            agent_ports.push(ports(emu.link_path()));
            emulators.push(emu);
        }
        // An unpaced emulator answers at any speed; the agent still needs one.
        let agent_baud = if emulator_baud == 0 {
            115_200
        } else {
            emulator_baud
        };
        let entries: Vec<KassaEntry> = kassas
            .iter()
            .zip(&agent_ports)
            .map(|(k, port)| KassaEntry {
                name: k.name.clone(),
                api_url: cloud.base_url(),
                cashier_uid: k.cashier_uid.clone(),
                org_id: k.org_id.clone(),
                token_env: k.token_env(),
                poll_interval_ms,
                port: port.clone(),
                baud: agent_baud,
            })
            .collect();
        let config = write_config(dir.path(), &entries);
        Fleet {
            dir,
            runtime,
            cloud,
            emulators,
            kassas,
            config,
        }
    }

    /// Queues `per_kassa` 10-position sales for every kassa.
    pub fn enqueue_sales(&self, per_kassa: u32) {
        for k in 0..self.kassas.len() {
            for i in 0..per_kassa {
                let id = format!("c0ffee00-{k:04}-4000-8000-{i:012}");
                self.enqueue_sale(k, &id, i)
                    .expect("fake cloud accepts the generated sale");
            }
        }
    }

    /// Queues ten-position sale number `i` with syncid `id` for kassa `k`.
    pub fn enqueue_sale(&self, k: usize, id: &str, i: u32) -> Result<String, String> {
        self.cloud
            .enqueue_for(
                &self.kassas[k].org_id,
                OpKind::RetailDemand,
                ten_position_sale(id, i),
            )
            .map_err(|e| e.to_string())
    }

    /// Starts `masterkassa run --config …`; its log goes to `agent.log`.
    pub fn spawn_agent(&self) -> Agent {
        // MASTERKASSA_BENCH_BIN runs another build (a copy of the binary
        // before a change) against the same cloud and emulators.
        let bin = std::env::var_os("MASTERKASSA_BENCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_masterkassa").into());
        let mut cmd = run_command(bin, &self.config, &self.log_path());
        cmd.env(
            "RUST_LOG",
            std::env::var("MASTERKASSA_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        );
        for k in &self.kassas {
            cmd.env(k.token_env(), &k.token);
        }
        let child = cmd.spawn().expect("spawn masterkassa run");
        Agent {
            child,
            started: Instant::now(),
        }
    }

    /// (approved, rejected) answers accepted by the cloud so far.
    pub fn answered(&self) -> (u32, u32) {
        // Counted in place: cloning every operation's body each 5 ms took
        // most of a core and held the queue's lock against the agent.
        self.cloud.inspect_operations(|ops| {
            ops.iter().fold((0, 0), |(a, r), o| {
                (a + o.approves_accepted, r + o.rejects_accepted)
            })
        })
    }

    /// Operations approved more than once, or not exactly once in total.
    pub fn anomalies(&self) -> Vec<String> {
        self.cloud
            .operations()
            .iter()
            .filter(|o| o.approves_accepted != 1 || o.rejects_accepted != 0)
            .map(|o| {
                format!(
                    "{}: {} approves, {} rejects",
                    o.id, o.approves_accepted, o.rejects_accepted
                )
            })
            .collect()
    }

    /// Receipts in every emulator's FN archive.
    pub fn receipts_in_fn(&self) -> usize {
        self.emulators
            .iter()
            .map(|e| {
                e.archive()
                    .iter()
                    .filter(|d| d.kind == sim_shtrih::doc_type::RECEIPT)
                    .count()
            })
            .sum()
    }

    /// Accepted approves per kassa, as instants, from the cloud's request log.
    pub fn approve_times(&self) -> Vec<Vec<Instant>> {
        let requests = self.cloud.requests();
        self.kassas
            .iter()
            .map(|k| {
                requests
                    .iter()
                    .filter(|r| {
                        r.user == k.cashier_uid
                            && r.path.contains("master/approve")
                            && (200..300).contains(&r.status)
                    })
                    .map(|r| r.at)
                    .collect()
            })
            .collect()
    }

    /// Waits until `cond` holds or `timeout` passes; false on timeout.
    pub fn wait(&self, timeout: Duration, step: Duration, mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !cond() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(step);
        }
        true
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("agent.log")
    }
}

/// Bytes a [`Relay`] has passed each way.
#[derive(Default)]
pub struct RelayCounts {
    pub host_to_device: AtomicU64,
    pub device_to_host: AtomicU64,
}

impl RelayCounts {
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.host_to_device.load(Ordering::Relaxed),
            self.device_to_host.load(Ordering::Relaxed),
        )
    }
}

/// A PTY the agent opens, copying every byte to and from the emulator's
/// PTY and counting them: how many bytes a receipt really takes on the
/// line, whatever commands the agent chose to send. It adds a little
/// latency, so timed runs go straight to the emulator.
pub struct Relay {
    pub path: PathBuf,
    pub counts: Arc<RelayCounts>,
    stop: Arc<AtomicBool>,
    // Kept open so the PTY stays up while the agent closes and reopens it.
    _slave: OwnedFd,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn make_raw(fd: i32) {
    // SAFETY: termios is plain old data, fully written by tcgetattr before
    // use; `fd` is an open terminal descriptor owned by the caller for the
    // duration of the calls.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
    }
}

fn copy(
    mut from: std::fs::File,
    mut to: std::fs::File,
    count: Arc<RelayCounts>,
    up: bool,
    stop: Arc<AtomicBool>,
) {
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let n = match from.read(&mut buf) {
            Ok(0) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO while the agent has the port closed: wait for it.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let counter = if up {
            &count.host_to_device
        } else {
            &count.device_to_host
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

impl Relay {
    /// A relay in front of the emulator link `device`; its PTY is
    /// symlinked at `link`.
    pub fn start(device: &Path, link: &Path) -> Relay {
        let sim_shtrih::pty::Pty {
            master,
            slave,
            slave_path: pts,
        } = sim_shtrih::pty::open().expect("openpty");
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&pts, link).expect("relay symlink");

        use std::os::unix::fs::OpenOptionsExt;
        let upstream = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(device)
            .expect("open emulator port");
        make_raw(upstream.as_raw_fd());
        let counts = Arc::new(RelayCounts::default());
        let (m2, u2) = (
            master.try_clone().expect("dup"),
            upstream.try_clone().expect("dup"),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counts.clone(), stop.clone());
        std::thread::spawn(move || copy(master, upstream, c, true, s));
        let (c, s) = (counts.clone(), stop.clone());
        std::thread::spawn(move || copy(u2, m2, c, false, s));
        Relay {
            path: link.to_path_buf(),
            counts,
            stop,
            _slave: slave,
        }
    }
}

/// Mean of `v` as f64.
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
