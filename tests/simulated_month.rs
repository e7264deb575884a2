//! A month in a shop in about a minute: the worker, the emulated Shtrih-M
//! and the fake MoySklad cloud over real HTTP, with the printer's clock —
//! which the kassa reads too (`KassaSettings::clock`) — stepped two hours at
//! a time through 31 days, a sale, return, prepayment or prepayment return
//! queued at every step, around the clock.
//!
//! - Days 1–15 have no daily close: each shift runs into its 24-hour limit
//!   and the kassa closes and reopens it before the next receipt. Then the
//!   kassa is restarted with `daily_close = 23:00` (a config change), and
//!   from then on every shift is closed at 23:00.
//! - Day 4: the cloud is down for an hour (an outage while a sale waits).
//! - Day 6: the printer is out of paper for ten minutes while a sale waits.
//! - From day 2 the OFD receives nothing: the backlog grows until the
//!   25-day warning shows in status, then the OFD takes everything and the
//!   warning goes.
//!
//! Afterwards: every operation approved once and printed once, every
//! device shift opened and closed in MoySklad in step with the FN archive,
//! the test process's RSS (kassa, emulator and fake cloud together) at the
//! end within a bound of its RSS after the first day, and the journal's
//! size (both reported).

use masterkassa::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use masterkassa::device::{DeviceHandle, shtrih_opener};
use masterkassa::journal::{Journal, Source};
use masterkassa::worker::journal_store::JournalStore;
use masterkassa::worker::moysklad::MoySkladSource;
use masterkassa::worker::queue::samples;
use masterkassa::worker::{Kassa, KassaHandle, KassaSettings, WallClock};
use shtrih::driver::{Baud, DriverConfig};
use sim_moysklad::{FakeCloud, FakeCloudConfig, FakeCloudHandle, Fault, FaultKind, OpKind};
use sim_shtrih::{Clock, Emulator, EmulatorConfig, EmulatorHandle, doc_type};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use test_support::wait::wait_for;

/// Simulated hours between two steps.
const STEP_HOURS: i64 = 2;
const DAYS: i64 = 31;

/// Queues sample `body` as operation number `n` (its own syncid).
fn enqueue(cloud: &FakeCloudHandle, body: &str, n: usize) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    let href = v["meta"]["href"].as_str().unwrap().to_string();
    let (base, id) = href.rsplit_once('/').unwrap();
    v["meta"]["href"] = format!("{base}/{n:06x}{}", &id[6..]).into();
    let kind = OpKind::parse(v["meta"]["type"].as_str().unwrap()).unwrap();
    cloud.enqueue(kind, v).unwrap()
}

fn rss_kib() -> u64 {
    test_support::agent::proc_status(std::process::id()).vm_rss_kb
}

struct Running {
    handle: KassaHandle,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}

fn start(
    cloud: &FakeCloudHandle,
    dir: &Path,
    device: &DeviceHandle,
    clock: &Clock,
    daily_close: Option<jiff::civil::Time>,
) -> Running {
    let client = PosClient::new(
        &ClientConfig::with_base_url(cloud.base_url()),
        Secret::new(cloud.token().unwrap_or_else(|| "test-token".into())),
        cloud.cashier_uid(),
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    let api: Arc<dyn PosApi> = Arc::new(client);
    let source = Arc::new(MoySkladSource::new(api, &cloud.org_id(), &cloud.base_url()));
    let journal = Arc::new(Journal::open(dir.join("journal.db")).unwrap());
    let store = Arc::new(JournalStore::new(journal, "month", Source::Moysklad));
    let mut settings = KassaSettings::new("month");
    settings.poll_interval = Duration::from_millis(20);
    settings.idle_poll_max = Duration::from_millis(50);
    settings.outbox_retry_max = Duration::from_millis(300);
    settings.device_retry = Duration::from_millis(100);
    settings.default_tax_system = Some(kkt::TaxSystem::General);
    settings.daily_close = daily_close;
    let printer_clock = clock.clone();
    settings.clock = WallClock::from_fn(move || printer_clock.now());
    let (kassa, handle) = Kassa::new(settings, source, store, device.clone());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(kassa.run(rx));
    Running { handle, stop, task }
}

fn documents(emu: &EmulatorHandle, kind: u8) -> usize {
    emu.archive().iter().filter(|d| d.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_sales_shifts_and_troubles_prints_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let clock = Clock::default();
    let first_day = jiff::civil::date(2026, 12, 1);
    clock.set(first_day.at(1, 30, 0, 0));
    let emu = Emulator::spawn(EmulatorConfig::new(&link).baud(0).clock(clock.clone())).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let device = DeviceHandle::spawn(
        "month",
        shtrih_opener(
            link.to_string_lossy().to_string(),
            Baud::Fixed(115_200),
            DriverConfig::default(),
        ),
    )
    .unwrap();
    let mut kassa = start(&cloud, dir.path(), &device, &clock, None);
    let kinds = [
        samples::SALE,
        samples::SALE_RETURN,
        samples::PREPAYMENT,
        samples::PREPAYMENT_RETURN,
    ];
    let mut ids = Vec::new();
    let mut rss_after_day_one = 0;
    let mut ofd_warned = false;
    let mut z_before_daily_close = 0;
    for step in 0..DAYS * 24 / STEP_HOURS {
        let day = step * STEP_HOURS / 24 + 1;
        let hour = step * STEP_HOURS % 24;
        if day == 16 && hour == 0 {
            // A config change: daily close at 23:00 from now on.
            kassa.stop().await;
            z_before_daily_close = documents(&emu, doc_type::SHIFT_CLOSE);
            kassa = start(
                &cloud,
                dir.path(),
                &device,
                &clock,
                Some(jiff::civil::time(23, 0, 0, 0)),
            );
        }
        if !(2..28).contains(&day) {
            emu.ofd_confirm_all();
        }
        let id = enqueue(&cloud, kinds[ids.len() % 4], ids.len() + 1);
        if day == 4 && hour == 2 {
            // The cloud is down for an hour: the sale waits in its queue.
            cloud.add_fault(Fault::new(
                FaultKind::Outage {
                    ms: 1500,
                    status: 503,
                },
                1,
            ));
            tokio::time::sleep(Duration::from_millis(800)).await;
            assert!(!answered(&cloud, &id), "nothing goes through an outage");
            clock.advance(3600);
        }
        if day == 6 && hour == 10 {
            emu.faults().set_paper_out(true);
            wait_for("status to say the paper is out", 10, || {
                let status = kassa.handle.snapshot();
                status
                    .last_error
                    .is_some_and(|e| e.message.contains("Нет чековой ленты"))
            })
            .await;
            clock.advance(600);
            assert!(!answered(&cloud, &id), "no receipt without paper");
            emu.faults().set_paper_out(false);
        }
        wait_for("the step's operation answered", 60, || {
            answered(&cloud, &id)
        })
        .await;
        ids.push(id);
        // The FN is read before a receipt that does not follow another one
        // closely and with every state report (at most every 10 s).
        if day == 27 && hour == 22 {
            wait_for("the 25-day OFD warning in status", 30, || {
                let warnings = kassa.handle.snapshot().fn_warnings;
                warnings.iter().any(|w| w.contains("не переданы в ОФД"))
            })
            .await;
            ofd_warned = true;
        }
        if day == 28 && hour == 22 {
            wait_for(
                "the OFD warning gone once the OFD took the backlog",
                30,
                || {
                    let warnings = kassa.handle.snapshot().fn_warnings;
                    !warnings.iter().any(|w| w.contains("ОФД"))
                },
            )
            .await;
        }
        if day == 2 && hour == 0 {
            rss_after_day_one = rss_kib();
        }
        clock.advance(STEP_HOURS * 3600);
    }
    let rss_end = rss_kib();
    kassa.stop().await;

    let ops = cloud.operations();
    assert_eq!(ops.len(), ids.len());
    let receipts: Vec<_> = emu
        .archive()
        .into_iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    assert_eq!(receipts.len(), ids.len(), "one receipt per operation");
    let mut fds = Vec::new();
    for op in &ops {
        assert_eq!(
            (op.approves_accepted, op.rejects_accepted),
            (1, 0),
            "{}",
            op.id
        );
        let fd: u32 = op.approve.as_ref().unwrap()["cheque"]["fiscalDocNumber"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(receipts.iter().any(|r| r.number == fd), "{}", op.id);
        fds.push(fd);
    }
    fds.sort_unstable();
    fds.dedup();
    assert_eq!(fds.len(), ids.len(), "every approve names its own receipt");

    // Shifts: one MoySklad retail shift per device shift, closed when the
    // device closed it; only the last one still open.
    let opened = documents(&emu, doc_type::SHIFT_OPEN);
    let closed = documents(&emu, doc_type::SHIFT_CLOSE);
    let shifts = cloud.shifts();
    assert_eq!(shifts.len(), opened, "a retail shift per device shift");
    assert_eq!(shifts.iter().filter(|s| !s.open).count(), closed);
    assert_eq!(opened, closed + 1);
    // 15 days of 24-hour shifts, then one close a day at 23:00.
    assert!(
        z_before_daily_close >= 13,
        "{z_before_daily_close} expired shifts closed"
    );
    assert!(
        closed - z_before_daily_close >= 14,
        "{closed} Z-reports in all"
    );
    assert!(ofd_warned);

    let journal_bytes: u64 = ["journal.db", "journal.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "simulated month: {} operations, {opened} shifts ({z_before_daily_close} closed at 24 h, {} at 23:00), \
         {} FN documents; RSS {rss_after_day_one} KiB after day 1, {rss_end} KiB after day 31; journal {journal_bytes} bytes",
        ids.len(),
        closed - z_before_daily_close,
        emu.archive().len()
    );
    // The test process holds the emulator and the fake cloud too, and both
    // keep every document, body and printed line of the month: a bound
    // against a leak per operation in the kassa (a copy of each body kept
    // would add ~40 MB), not a measure of the agent alone (benches do that).
    assert!(
        rss_end < rss_after_day_one + 32 * 1024,
        "RSS grew from {rss_after_day_one} to {rss_end} KiB"
    );
    assert!(
        journal_bytes < 8 * 1024 * 1024,
        "journal {journal_bytes} bytes"
    );
}

fn answered(cloud: &FakeCloudHandle, id: &str) -> bool {
    cloud
        .operations()
        .iter()
        .any(|o| o.id == id && o.answered())
}
