//! Kassatka as the worker's receipt source, end to end: the fake Kassatka
//! over HTTP, the real worker loop, the SQLite journal and an in-memory
//! fiscal printer. Every downloaded receipt is printed exactly once, also
//! when windows overlap and across a restart.

use jiff::{SignedDuration, Timestamp};
use kkt::{
    ArchivedDocument, DeviceInfo, DeviceStatus, DocumentKind, FiscalDoc, FnInfo, FnWarnings, Kkt,
    KktError, Money, Receipt, ReceiptPrinted, ShiftClosed, ShiftOpened, ShiftState, TaxSystem,
};
use masterkassa::device::DeviceHandle;
use masterkassa::journal::OpState;
use masterkassa::journal::{Journal, Source};
use masterkassa::kassatka::source::{KassatkaSource, KassatkaSourceSettings};
use masterkassa::kassatka::{ApiToken, ClientConfig, KassatkaClient, WaitPolicy};
use masterkassa::worker::journal_store::JournalStore;
use masterkassa::worker::{Kassa, KassaSettings, Store};
use sim_kassatka::{FakeKassatka, FakeKassatkaConfig, ProcessPace, seed_receipts};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const TOKEN: &str = "source-test-token";

/// A fiscal printer in memory: an FN archive and the receipts printed.
#[derive(Default)]
struct Printer {
    archive: Vec<ArchivedDocument>,
    shift: Option<u32>,
    last_shift: u32,
    printed: Vec<Receipt>,
}

#[derive(Clone, Default)]
struct MemKkt(Arc<Mutex<Printer>>);

impl MemKkt {
    fn printed(&self) -> Vec<Receipt> {
        self.0.lock().unwrap().printed.clone()
    }

    fn document(p: &mut Printer, kind: DocumentKind, total: Option<Money>) -> FiscalDoc {
        let number = p.archive.len() as u32 + 1;
        let doc = FiscalDoc {
            number,
            fiscal_sign: 3_000_000 + number,
            time: jiff::civil::date(2026, 11, 24).at(12, 0, 0, 0),
        };
        p.archive.push(ArchivedDocument {
            kind,
            doc,
            operation: total.map(|_| kkt::Operation::Income),
            total,
        });
        doc
    }
}

impl Kkt for MemKkt {
    fn device_info(&mut self) -> Result<DeviceInfo, KktError> {
        Ok(DeviceInfo {
            vendor: "test".into(),
            model: "memory".into(),
            serial: "0001".into(),
            firmware: "1".into(),
            ffd_version: "1.2".into(),
            tax_systems: vec![TaxSystem::SimplifiedIncome],
            inn: None,
            clock: None,
        })
    }
    fn status(&mut self) -> Result<DeviceStatus, KktError> {
        Ok(DeviceStatus {
            paper_present: true,
            cover_open: false,
            receipt_open: false,
            awaiting_continue: false,
            mode: 2,
            submode: 0,
        })
    }
    fn fn_info(&mut self) -> Result<FnInfo, KktError> {
        let p = self.0.lock().unwrap();
        Ok(FnInfo {
            serial: "9999078900001234".into(),
            valid_until: None,
            last_fd_number: p.archive.len() as u32,
            version: None,
            warnings: FnWarnings::default(),
            ofd_unsent_count: 0,
            ofd_first_unsent_number: None,
            ofd_first_unsent_at: None,
        })
    }
    fn shift_state(&mut self) -> Result<ShiftState, KktError> {
        let p = self.0.lock().unwrap();
        Ok(match p.shift {
            Some(number) => ShiftState::Open {
                number,
                opened_at: None,
                receipts: 0,
            },
            None => ShiftState::Closed {
                last_number: p.last_shift,
            },
        })
    }
    fn open_shift(&mut self, _cashier: &str) -> Result<ShiftOpened, KktError> {
        let mut p = self.0.lock().unwrap();
        p.last_shift += 1;
        p.shift = Some(p.last_shift);
        let doc = Self::document(&mut p, DocumentKind::ShiftOpen, None);
        Ok(ShiftOpened {
            shift_number: p.last_shift,
            doc,
        })
    }
    fn close_shift(&mut self, _cashier: &str) -> Result<ShiftClosed, KktError> {
        let mut p = self.0.lock().unwrap();
        let doc = Self::document(&mut p, DocumentKind::ShiftClose, None);
        p.shift = None;
        Ok(ShiftClosed {
            shift_number: p.last_shift,
            doc,
            receipts_in_shift: 0,
            documents_in_shift: 0,
        })
    }
    fn print_receipt(&mut self, receipt: &Receipt) -> Result<ReceiptPrinted, KktError> {
        let mut p = self.0.lock().unwrap();
        let total = receipt
            .total()
            .ok_or_else(|| KktError::BadReceipt("overflow".into()))?;
        if receipt.payments.total() != Some(total) {
            return Err(KktError::BadReceipt("payments differ from total".into()));
        }
        let doc = Self::document(&mut p, DocumentKind::Receipt, Some(total));
        p.printed.push(receipt.clone());
        Ok(ReceiptPrinted {
            doc,
            receipt_number: p.printed.len() as u32,
            shift_number: p.last_shift,
            total,
        })
    }
    fn cancel_receipt(&mut self) -> Result<(), KktError> {
        Ok(())
    }
    fn continue_print(&mut self) -> Result<(), KktError> {
        Ok(())
    }
    fn read_document(&mut self, number: u32) -> Result<ArchivedDocument, KktError> {
        let p = self.0.lock().unwrap();
        p.archive
            .get(number as usize - 1)
            .copied()
            .ok_or_else(|| KktError::Protocol(format!("no document {number}")))
    }
    fn x_report(&mut self) -> Result<(), KktError> {
        Ok(())
    }
    fn cash_in(&mut self, _sum: Money) -> Result<(), KktError> {
        Ok(())
    }
    fn cash_out(&mut self, _sum: Money) -> Result<(), KktError> {
        Ok(())
    }
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<Timestamp>>);

impl TestClock {
    fn new(at: &str) -> Self {
        TestClock(Arc::new(Mutex::new(at.parse().unwrap())))
    }
    fn set(&self, at: &str) {
        *self.0.lock().unwrap() = at.parse().unwrap();
    }
}

struct Running {
    stop: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
    handle: masterkassa::worker::KassaHandle,
}

fn start(
    fake: &FakeKassatka,
    journal: &Arc<Journal>,
    printer: &MemKkt,
    clock: &TestClock,
) -> Running {
    let client = KassatkaClient::new(ClientConfig::new(
        fake.base_url(),
        ApiToken::new(TOKEN).unwrap(),
    ))
    .unwrap();
    let mut settings = KassatkaSourceSettings::new("2018-04-16T00:00:00Z".parse().unwrap());
    settings.interval = Duration::from_millis(50);
    settings.overlap = SignedDuration::from_mins(10);
    settings.fiscal.tax_system = Some(TaxSystem::SimplifiedIncome);
    settings.wait = WaitPolicy {
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    };
    let time = clock.0.clone();
    settings.clock = Arc::new(move || *time.lock().unwrap());
    // The daily reconciliation looks receipts up in the journal.
    let lookup = journal.clone();
    settings.known = Some(Arc::new(move |id| {
        let key = masterkassa::journal::OpKey::new("kassatka-1", Source::Kassatka, id);
        matches!(lookup.get(&key), Ok(Some(_)))
    }));
    let source = Arc::new(KassatkaSource::new(client, settings));
    let store = Arc::new(JournalStore::new(
        journal.clone(),
        "kassatka-1",
        Source::Kassatka,
    ));
    let kkt = printer.clone();
    let device = DeviceHandle::spawn(
        "kassatka-1",
        Box::new(move || Ok(Box::new(kkt.clone()) as Box<dyn Kkt>)),
    )
    .unwrap();
    let mut cfg = KassaSettings::new("kassatka-1");
    cfg.poll_interval = Duration::from_millis(10);
    cfg.idle_poll_max = Duration::from_millis(50);
    cfg.device_retry = Duration::from_millis(20);
    cfg.outbox_retry_max = Duration::from_millis(50);
    cfg.default_tax_system = Some(TaxSystem::SimplifiedIncome);
    let (kassa, handle) = Kassa::new(cfg, source, store, device);
    let (stop, rx) = watch::channel(false);
    let join = tokio::spawn(kassa.run(rx));
    Running { stop, join, handle }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(20), self.join).await;
    }
}

async fn wait_for(what: &str, done: impl FnMut() -> bool) {
    test_support::wait::wait_for(what, 60, done).await
}

fn totals(printer: &MemKkt) -> Vec<(i64, i64, i64)> {
    printer
        .printed()
        .iter()
        .map(|r| {
            (
                r.total().unwrap().0,
                r.payments.cash.0,
                r.payments.electronic.0,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_downloaded_receipt_is_printed_once_across_windows_and_restarts() {
    let mut config = FakeKassatkaConfig::new(TOKEN);
    config.pace = ProcessPace {
        duration: Duration::from_millis(20),
        polls: 1,
    };
    let fake = FakeKassatka::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let printer = MemKkt::default();

    // First windows end at 11:09:00: the first three seed receipts.
    let clock = TestClock::new("2018-04-16T11:09:00Z");
    let run = start(&fake, &journal, &printer, &clock);
    wait_for("three receipts", || printer.printed().len() == 3).await;
    // Later windows overlap the earlier ones and bring the fourth.
    clock.set("2018-04-16T11:10:00Z");
    wait_for("four receipts", || printer.printed().len() == 4).await;
    // Many more overlapping downloads: still nothing printed twice.
    let downloads_before = download_count(&fake);
    wait_for("more downloads", || {
        download_count(&fake) >= downloads_before + 5
    })
    .await;
    run.stop().await;
    assert_eq!(
        totals(&printer),
        [
            (259_000, 259_000, 0),
            (269_000, 0, 269_000),
            (209_000, 209_000, 0),
            (181_300, 181_300, 0)
        ]
    );

    // Restart: a new source starts from the beginning again and sees all
    // four receipts once more, plus a new one; only the new one prints.
    let mut late = seed_receipts().unwrap()[2].clone();
    late.head.doc_num = "late-doc".into();
    late.head.date = "2018-04-16T11:11:00Z".parse().unwrap();
    fake.add_receipts([late]);
    clock.set("2018-04-16T11:12:00Z");
    let run = start(&fake, &journal, &printer, &clock);
    wait_for("the late receipt", || printer.printed().len() == 5).await;
    let downloads_before = download_count(&fake);
    wait_for("more downloads", || {
        download_count(&fake) >= downloads_before + 5
    })
    .await;
    run.stop().await;
    assert_eq!(printer.printed().len(), 5);
    let names: Vec<String> = printer.printed()[4]
        .positions
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["Фиделе 90 таб.", "Версан в капс. 60"]);
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.token_ok));
}

/// A receipt that reaches Kassatka hours late, long past the windows'
/// look-back, is never downloaded by them; the next day's reconciliation
/// (after 00:30 Moscow) finds it missing from the journal, prints it, and
/// `status` says so. The receipts already printed are not printed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_reconciliation_prints_a_receipt_the_windows_missed() {
    let fake = FakeKassatka::start(FakeKassatkaConfig::new(TOKEN))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let printer = MemKkt::default();
    let clock = TestClock::new("2018-04-16T11:10:00Z");
    let run = start(&fake, &journal, &printer, &clock);
    wait_for("the four seed receipts", || printer.printed().len() == 4).await;
    // Dated 09:00 UTC, it reaches Kassatka at 11:30: two hours behind.
    let mut late = seed_receipts().unwrap()[1].clone();
    late.head.doc_num = "very-late".into();
    late.head.date = "2018-04-16T09:00:00Z".parse().unwrap();
    fake.add_receipts([late]);
    clock.set("2018-04-16T11:30:00Z");
    let downloads = download_count(&fake);
    wait_for("more downloads", || download_count(&fake) >= downloads + 5).await;
    assert_eq!(printer.printed().len(), 4, "outside every window");
    assert!(run.handle.snapshot().source_notes.is_empty());
    // 00:31 Moscow on the next day.
    clock.set("2018-04-16T21:31:00Z");
    wait_for("the late receipt", || printer.printed().len() == 5).await;
    wait_for("the reconciliation note", || {
        !run.handle.snapshot().source_notes.is_empty()
    })
    .await;
    let notes = run.handle.snapshot().source_notes;
    let downloads = download_count(&fake);
    wait_for("more downloads", || download_count(&fake) >= downloads + 5).await;
    run.stop().await;
    assert_eq!(printer.printed().len(), 5, "nothing printed twice");
    assert_eq!(
        notes,
        [
            "сверка с Кассаткой за 16.04.2018: чеков в Кассатке 5, из них 1 не было в журнале \
          (пришли позже окна загрузки) — поставлены в печать"
        ]
    );
}

fn download_count(fake: &FakeKassatka) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path.starts_with("/download/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_that_does_not_add_up_is_rejected_and_the_others_print() {
    let mut config = FakeKassatkaConfig::new(TOKEN);
    config.pace = ProcessPace {
        duration: Duration::ZERO,
        polls: 0,
    };
    let mut receipts = seed_receipts().unwrap();
    receipts[1].head.pay_cash = Money(100);
    config.receipts = Some(receipts);
    let fake = FakeKassatka::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let printer = MemKkt::default();
    let clock = TestClock::new("2018-04-16T12:00:00Z");
    let run = start(&fake, &journal, &printer, &clock);
    let store = JournalStore::new(journal.clone(), "kassatka-1", Source::Kassatka);
    let broken = "kassatka:189:5ad48437d849da0013494372";
    wait_for("three receipts and a rejection", || {
        printer.printed().len() == 3
            && matches!(
                store.get(broken).ok().flatten().map(|op| op.phase),
                Some(OpState::Rejected { .. })
            )
    })
    .await;
    run.stop().await;
    assert_eq!(printer.printed().len(), 3);
    let Some(OpState::Rejected { message }) = store.get(broken).unwrap().map(|op| op.phase) else {
        panic!("not rejected");
    };
    assert!(
        message.starts_with("Ошибка данных: чек Кассатки 189/5ad48437d849da0013494372 не прочитан"),
        "{message}"
    );
    assert!(message.contains("PayCard+PayCash"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_kassa_prints_only_its_own_cash_box() {
    let mut config = FakeKassatkaConfig::new(TOKEN);
    config.pace = ProcessPace {
        duration: Duration::ZERO,
        polls: 0,
    };
    let mut receipts = seed_receipts().unwrap();
    let mut other = receipts[0].clone();
    other.head.cash_box_code = "190".into();
    receipts.push(other);
    config.receipts = Some(receipts);
    let fake = FakeKassatka::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cafe.token"), format!("{TOKEN}\n")).unwrap();
    let kassa = masterkassa::config::KassatkaConfig {
        api_url: fake.base_url(),
        token: masterkassa::config::SecretSource::File(dir.path().join("cafe.token")),
        cash_box_code: "189".into(),
        lookback_minutes: 15,
    };
    let source = Arc::new(
        KassatkaSource::for_kassa(&kassa, "2018-04-16T00:00:00Z".parse().unwrap()).unwrap(),
    );
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let store = Arc::new(JournalStore::new(journal, "cafe", Source::Kassatka));
    let printer = MemKkt::default();
    let kkt = printer.clone();
    let device = DeviceHandle::spawn(
        "cafe",
        Box::new(move || Ok(Box::new(kkt.clone()) as Box<dyn Kkt>)),
    )
    .unwrap();
    let mut cfg = KassaSettings::new("cafe");
    cfg.poll_interval = Duration::from_millis(10);
    cfg.idle_poll_max = Duration::from_millis(50);
    cfg.default_tax_system = Some(TaxSystem::SimplifiedIncome);
    let (kassa, _handle) = Kassa::new(cfg, source, store.clone(), device);
    let (stop, rx) = watch::channel(false);
    let join = tokio::spawn(kassa.run(rx));
    wait_for("four receipts", || printer.printed().len() == 4).await;
    // Give it time to (wrongly) print the other cash box's receipt.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(20), join).await;
    assert_eq!(printer.printed().len(), 4);
    assert!(
        store
            .get("kassatka:190:5ad4842fd849da0012343342")
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get("kassatka:189:5ad4842fd849da0012343342")
            .unwrap()
            .is_some()
    );
}

/// Download cursors a source saved, oldest first.
type Cursors = Arc<Mutex<Vec<Timestamp>>>;

fn direct_source(fake: &FakeKassatka, token: &str, clock: &TestClock) -> KassatkaSource {
    direct_source_saving(fake, token, clock, &Cursors::default())
}

fn direct_source_saving(
    fake: &FakeKassatka,
    token: &str,
    clock: &TestClock,
    cursors: &Cursors,
) -> KassatkaSource {
    let client = KassatkaClient::new(ClientConfig::new(
        fake.base_url(),
        ApiToken::new(token).unwrap(),
    ))
    .unwrap();
    let mut settings = KassatkaSourceSettings::new("2018-04-16T00:00:00Z".parse().unwrap());
    settings.interval = Duration::from_millis(50);
    settings.wait = WaitPolicy {
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    };
    let time = clock.0.clone();
    settings.clock = Arc::new(move || *time.lock().unwrap());
    let saved = cursors.clone();
    settings.cursor = Some(Arc::new(move |until| saved.lock().unwrap().push(until)));
    KassatkaSource::new(client, settings)
}

#[tokio::test]
async fn a_slow_kassatka_never_holds_up_the_worker_and_failures_are_reported() {
    use masterkassa::worker::{Polled, ReceiptSource, SourceError};
    let mut config = FakeKassatkaConfig::new(TOKEN);
    config.pace = ProcessPace {
        duration: Duration::from_secs(3600),
        polls: 0,
    };
    let fake = FakeKassatka::start(config).await.unwrap();
    let clock = TestClock::new("2018-04-16T12:00:00Z");
    let source = direct_source(&fake, TOKEN, &clock);
    // The process takes an hour; polls answer at once all the same.
    for _ in 0..5 {
        let polled = tokio::time::timeout(Duration::from_secs(5), source.poll())
            .await
            .expect("poll must not wait for Kassatka");
        assert!(matches!(polled, Ok(Polled::Empty)));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Kassatka finishes: the receipts arrive through poll, in order.
    fake.set_pace(ProcessPace {
        duration: Duration::ZERO,
        polls: 0,
    });
    let mut ids = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ids.len() < 4 {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {ids:?}");
        if let Ok(Polled::Operation(op)) = source.poll().await {
            ids.push(op.id.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ids[0], "kassatka:189:5ad4842fd849da0012343342");
    assert_eq!(ids[3], "kassatka:189:5ad48471d849da0013494373");

    // A refused token is reported as permanent, once per failed download.
    let refused = direct_source(&fake, "wrong-token", &clock);
    let mut seen = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the refusal"
        );
        if let Err(e) = refused.poll().await {
            seen = Some(e);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        matches!(seen, Some(SourceError::Permanent { status: 401, .. })),
        "{seen:?}"
    );
}

/// A downloaded receipt stays in the inbox until the worker answers it
/// (which it does only after journaling it): one handed out but never
/// answered — the worker could not journal it — is handed out again, not
/// lost. The download cursor is saved only once every receipt downloaded
/// up to it has been answered.
#[tokio::test]
async fn a_receipt_is_handed_out_until_it_is_answered() {
    use masterkassa::worker::{OutboxMessage, Polled, ReceiptSource};
    let fake = FakeKassatka::start(FakeKassatkaConfig::new(TOKEN))
        .await
        .unwrap();
    let clock = TestClock::new("2018-04-16T12:00:00Z");
    let cursors = Cursors::default();
    let source = direct_source_saving(&fake, TOKEN, &clock, &cursors);
    let mut ops = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ops.len() < 4 {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {ops:?}");
        if let Ok(Polled::Operation(op)) = source.poll().await {
            ops.push(op.id.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let distinct: std::collections::BTreeSet<_> = ops.iter().collect();
    assert_eq!(distinct.len(), 4, "{ops:?}");
    // Nobody answered: the first is handed out again.
    let Ok(Polled::Operation(again)) = source.poll().await else {
        panic!("an unanswered receipt was dropped from the inbox");
    };
    assert_eq!(again.id, ops[0]);
    assert!(
        cursors.lock().unwrap().is_empty(),
        "cursor saved before the receipts were answered"
    );
    for id in &ops {
        source
            .deliver(&OutboxMessage::Reject {
                op_id: id.clone(),
                kind: "kassatka".into(),
                reference: serde_json::Value::Null,
                message: "answered".into(),
            })
            .await
            .unwrap();
    }
    assert!(matches!(source.poll().await, Ok(Polled::Empty)));
    let saved: Timestamp = "2018-04-16T12:00:00Z".parse().unwrap();
    assert_eq!(cursors.lock().unwrap().last(), Some(&saved));
}
