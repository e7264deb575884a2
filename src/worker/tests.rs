//! Worker behaviour against an in-memory printer and a scripted queue:
//! exactly-once printing through faults, recovery, shifts and the outbox.

mod fn_end_of_life;
mod journal_unwritable;
mod sim;

use super::*;
use crate::device::DeviceHandle;
use crate::journal::OpState;
use crate::receipt::{OperationInput, PositionInput, TaxSystemInput};
use kkt::{DocumentKind, Money, Quantity, ReceiptKind, TaxSystem};
use sim::{ScriptedSource, SimKkt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn sale(total: i64) -> OperationInput {
    let positions = vec![PositionInput {
        name: Some("Хлеб".into()),
        quantity: Quantity::ONE,
        price: Money(total),
        discount_millionths: None,
        vat_millionths: Some(20_000_000),
        vat_enabled: None,
        sum: None,
        marks: vec![],
        assortment: None,
        subject: None,
        components: Vec::new(),
    }];
    OperationInput {
        tax_system: Some(TaxSystemInput::Known(TaxSystem::General)),
        has_base_document: true,
        ..OperationInput::cash_sale(positions, Money(total))
    }
}

fn settings() -> KassaSettings {
    let mut s = KassaSettings::new("test");
    s.refused_retry_min = Duration::from_millis(30);
    s.refused_retry_max = Duration::from_millis(60);
    s.poll_interval = Duration::from_millis(5);
    s.idle_poll_max = Duration::from_millis(20);
    s.device_retry = Duration::from_millis(20);
    s.outbox_retry_max = Duration::from_millis(40);
    s.state_interval = Duration::from_secs(3600);
    s
}

struct Running {
    handle: KassaHandle,
    stop: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

fn start<J: Store>(sim: &SimKkt, source: &Arc<ScriptedSource>, store: &Arc<J>) -> Running {
    start_with(settings(), sim, source, store)
}

fn start_with<J: Store>(
    cfg: KassaSettings,
    sim: &SimKkt,
    source: &Arc<ScriptedSource>,
    store: &Arc<J>,
) -> Running {
    let sim2 = sim.clone();
    let device = DeviceHandle::spawn(
        "test",
        Box::new(move || {
            if sim2.state().link_down {
                return Err(kkt::KktError::Link("sim: no port".into()));
            }
            Ok(Box::new(sim2.clone()) as Box<dyn kkt::Kkt>)
        }),
    )
    .unwrap();
    let (kassa, handle) = Kassa::new(cfg, source.clone(), store.clone(), device);
    let (stop, rx) = watch::channel(false);
    let join = tokio::spawn(kassa.run(rx));
    Running { handle, stop, join }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.join).await;
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn approves(source: &ScriptedSource) -> Vec<(String, u32)> {
    source
        .lock()
        .delivered
        .iter()
        .filter_map(|m| match m {
            OutboxMessage::Approve { op_id, fiscal, .. } => Some((op_id.clone(), fiscal.fd_number)),
            _ => None,
        })
        .collect()
}

/// Asks the running kassa to close the shift, as the control socket does.
async fn close_shift_command(run: &Running) -> Result<String, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    run.handle
        .commands
        .send(Command::CloseShift(tx))
        .await
        .unwrap();
    rx.await.unwrap()
}

/// True if the source was delivered a message `is` accepts.
fn delivered(source: &ScriptedSource, is: impl Fn(&OutboxMessage) -> bool) -> bool {
    source.lock().delivered.iter().any(is)
}

/// Prints `op` straight on the device, as the agent did before a crash.
fn print_on(k: &mut SimKkt, op: &OperationInput) {
    use kkt::Kkt;
    let receipt = crate::receipt::render(op, &Default::default()).unwrap();
    k.print_receipt(&receipt).unwrap();
}

fn receipts_in_archive(sim: &SimKkt) -> usize {
    sim.state()
        .archive
        .iter()
        .filter(|d| d.kind == DocumentKind::Receipt)
        .count()
}

fn setup() -> (SimKkt, Arc<ScriptedSource>) {
    (SimKkt::new(), Arc::new(ScriptedSource::default()))
}

/// A kassa's store on a fresh SQLite journal in a temporary directory: the
/// worker's tests run on the real journal, so its transition rules are the
/// ones under test. The directory lives as long as the store.
pub(super) struct TestJournal {
    pub store: Arc<journal_store::JournalStore>,
    _dir: tempfile::TempDir,
}

pub(super) fn test_journal() -> TestJournal {
    let dir = tempfile::tempdir().unwrap();
    let j = Arc::new(crate::journal::Journal::open(dir.path().join("journal.db")).unwrap());
    let store = journal_store::JournalStore::new(j, "test", crate::journal::Source::Moysklad);
    TestJournal {
        store: Arc::new(store),
        _dir: dir,
    }
}

/// One `#[tokio::test]` per scenario, each on its own journal.
macro_rules! on_journal {
    ($($name:ident),* $(,)?) => {
        mod on_journal {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let j = test_journal();
                    super::$name(j.store.clone()).await
                }
            )*
        }
    };
}

async fn sale_is_printed_once_and_approved_after_openshift<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(10000)));
    source.push("op-2", Ok(sale(2500)));
    let run = start(&sim, &source, &store);
    wait_for("two approves", || approves(&source).len() == 2).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 2);
    let delivered = source.lock().delivered.clone();
    let OutboxMessage::OpenShift { shift_id, opened } = &delivered[0] else {
        panic!("openshift must go first: {delivered:?}");
    };
    assert_eq!(opened.fd_number, 1);
    let OutboxMessage::Approve {
        fiscal,
        shift_id: s2,
        printer,
        tax_system,
        ..
    } = &delivered[1]
    else {
        panic!()
    };
    assert_eq!(s2, shift_id);
    assert_eq!(fiscal.fd_number, 2);
    assert_eq!(fiscal.total, Money(10000));
    assert_eq!(fiscal.fiscal_sign, sim.state().archive[1].doc.fiscal_sign);
    assert_eq!(fiscal.receipt_number, 1);
    assert_eq!(printer.serial, "0012345678");
    assert_eq!(*tax_system, TaxSystem::General);
    // Each print is keyed by what PRINTING journaled: operation, FN and the
    // FD it was expected to get.
    assert_eq!(
        sim.state().print_keys,
        [
            crate::worker::print_key::print_key("op-1", "9999078900001234", 2),
            crate::worker::print_key::print_key("op-2", "9999078900001234", 3),
        ]
    );
    for id in ["op-1", "op-2"] {
        let phase = store.get(id).unwrap().unwrap().phase;
        assert!(matches!(phase, OpState::Approved(_)), "{id}: {phase:?}");
    }
}

async fn invalid_operation_is_rejected_and_not_printed<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    let mut bad = sale(1000);
    bad.cash = Some(Money(999));
    source.push("bad", Ok(bad));
    source.push(
        "worse",
        Err(crate::receipt::RejectReason(
            "Ошибка данных: нет суммы".into(),
        )),
    );
    let run = start(&sim, &source, &store);
    wait_for("two rejects", || source.lock().delivered.len() == 2).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 0);
    let delivered = source.lock().delivered.clone();
    match &delivered[0] {
        OutboxMessage::Reject { op_id, message, .. } => {
            assert_eq!(op_id, "bad");
            assert!(message.contains("не равна сумме чека"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    for id in ["bad", "worse"] {
        let phase = store.get(id).unwrap().unwrap().phase;
        assert!(matches!(phase, OpState::Rejected { .. }), "{id}: {phase:?}");
    }
}

async fn paper_out_after_fiscalisation_approves_without_reprint<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    sim.state().paper_out_after_close = true;
    source.push("op-1", Ok(sale(5000)));
    source.push("op-2", Ok(sale(700)));
    let run = start(&sim, &source, &store);
    wait_for("approve of op-1", || {
        approves(&source).iter().any(|(id, _)| id == "op-1")
    })
    .await;
    // op-2 must wait for paper: continue-print is pending.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receipts_in_archive(&sim), 1);
    assert_eq!(run.handle.status.get().last_error.unwrap().layer, "printer");
    sim.state().paper = true;
    wait_for("approve of op-2", || approves(&source).len() == 2).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 2);
    assert_eq!(sim.state().continues, 1);
    assert_eq!(
        approves(&source),
        vec![("op-1".into(), 2), ("op-2".into(), 3)]
    );
}

async fn paper_out_before_close_cancels_and_prints_once_paper_is_back<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    sim.state().paper_out_before_close = true;
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("cancel", || sim.state().cancels == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        approves(&source).is_empty(),
        "never approved or rejected while paper is out"
    );
    assert!(
        source
            .lock()
            .delivered
            .iter()
            .all(|m| !matches!(m, OutboxMessage::Reject { .. }))
    );
    sim.state().paper = true;
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}

async fn link_lost_after_close_recovers_from_the_archive<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    sim.state().link_lost_after_close = true;
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("the receipt", || receipts_in_archive(&sim) == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.state().link_down = false;
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
    assert_eq!(approves(&source), vec![("op-1".into(), 2)]);
}

/// A crash between "close receipt" and the journal write: the journal says
/// PRINTING, the FN has the receipt. A fresh worker approves it from the
/// archive and prints nothing.
async fn restart_with_receipt_in_fn_approves_from_archive<J: Store>(store: Arc<J>) {
    let (sim, source) = crashed_before_the_document(&*store);
    print_on(&mut sim.clone(), &sale(5000));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
    let delivered = source.lock().delivered.clone();
    assert!(
        matches!(delivered[0], OutboxMessage::OpenShift { .. }),
        "the adopted shift is announced first"
    );
    assert_eq!(approves(&source), vec![("op-1".into(), 2)]);
}

async fn restart_without_receipt_prints_it_once<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    journal_printing(&*store, 1);
    sim.state().receipt_open = true;
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(sim.state().cancels, 1);
    assert_eq!(receipts_in_archive(&sim), 1);
}

/// op-1 (a 50.00 sale) received and journaled PRINTING at FD `fd`.
fn journal_printing<J: Store>(store: &J, fd: u32) {
    journal_printing_on(store, fd, "9999078900001234");
}

/// op-1 (a 50.00 sale) received and journaled PRINTING at FD `fd` of the
/// FN `fn_serial`.
fn journal_printing_on<J: Store>(store: &J, fd: u32, fn_serial: &str) {
    store.insert_received("op-1", "{}").unwrap();
    store
        .start_printing("op-1", fd, fn_serial, ReceiptKind::Sale, Money(5000))
        .unwrap();
}

/// A shift open (FD 1) and op-1 journaled PRINTING at FD 2, as a crash
/// leaves them when the printer never made the receipt.
fn crashed_before_the_document<J: Store>(store: &J) -> (SimKkt, Arc<ScriptedSource>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    {
        let mut k = sim.clone();
        use kkt::Kkt;
        k.open_shift("x").unwrap();
    }
    journal_printing(store, 2);
    (sim, source)
}

/// A crash after PRINTING was journaled but before the printer made the
/// document: the print after the restart goes out under the key of the
/// journaled attempt, so a printer that still holds that request (the ATOL
/// Web-server) answers it instead of printing a second receipt.
async fn reprint_after_a_crash_reuses_the_journaled_key<J: Store>(store: Arc<J>) {
    let (sim, source) = crashed_before_the_document(&*store);
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
    assert_eq!(
        sim.state().print_keys,
        [crate::worker::print_key::print_key(
            "op-1",
            "9999078900001234",
            2
        )]
    );
}

async fn another_fn_halts_the_kassa<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    journal_printing_on(&*store, 1, "1111111111111111");
    let run = start(&sim, &source, &store);
    wait_for("halt", || run.handle.status.get().halted.is_some()).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let halted = run.handle.status.get().halted.unwrap();
    run.stop().await;
    assert!(halted.contains("ФН заменён"), "{halted}");
    assert_eq!(receipts_in_archive(&sim), 0);
    assert!(source.lock().delivered.is_empty());
}

async fn archive_mismatch_halts_instead_of_guessing<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    {
        use kkt::Kkt;
        let mut k = sim.clone();
        k.open_shift("x").unwrap();
        print_on(&mut k, &sale(4999));
    }
    journal_printing(&*store, 2);
    let run = start(&sim, &source, &store);
    wait_for("halt", || run.handle.status.get().halted.is_some()).await;
    let halted = run.handle.status.get().halted.unwrap();
    run.stop().await;
    assert!(halted.contains("не совпадает"), "{halted}");
    assert!(approves(&source).is_empty());
    assert_eq!(receipts_in_archive(&sim), 1);
}

async fn permanent_device_refusal_rejects_with_device_text<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    sim.state().refuse_next = true;
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("reject", || {
        source
            .lock()
            .delivered
            .iter()
            .any(|m| matches!(m, OutboxMessage::Reject { .. }))
    })
    .await;
    run.stop().await;
    let delivered = source.lock().delivered.clone();
    let msg = delivered
        .iter()
        .find_map(|m| match m {
            OutboxMessage::Reject { message, .. } => Some(message.clone()),
            _ => None,
        })
        .unwrap();
    assert!(msg.contains("некорректные параметры"), "{msg}");
    assert_eq!(receipts_in_archive(&sim), 0);
}

async fn cloud_outage_delays_but_delivers_every_answer_once<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.lock().fail_deliveries = 5;
    source.lock().fail_polls = 3;
    for i in 0..4 {
        source.push(&format!("op-{i}"), Ok(sale(100 + i)));
    }
    let run = start(&sim, &source, &store);
    wait_for("four approves", || approves(&source).len() == 4).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 4);
    let mut ids: Vec<_> = approves(&source).into_iter().map(|(id, _)| id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);
}

async fn settled_operation_handed_out_again_is_answered_not_reprinted<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    // The cloud lost our approve and queues the operation again.
    let op = source.lock().all[0].clone();
    source.lock().queue.push_back(op);
    wait_for("second approve", || approves(&source).len() == 2).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
    let a = approves(&source);
    assert_eq!(a[0], a[1], "the same fiscal data is sent again");
}

/// Issue 14: after a clean receipt the FN number, FN serial and shift are
/// known, so the next receipts go to the printer without reading it again,
/// and the journal still expects the right FD for each.
async fn receipts_in_a_row_skip_the_device_reads<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    let reads_before = sim.state().reads;
    source.push("op-2", Ok(sale(100)));
    source.push("op-3", Ok(sale(200)));
    wait_for("three approves", || approves(&source).len() == 3).await;
    run.stop().await;
    assert_eq!(sim.state().reads, reads_before, "no status/FN/shift reads");
    let fds: Vec<u32> = approves(&source).iter().map(|a| a.1).collect();
    assert_eq!(fds, [2, 3, 4]);
    assert_eq!(receipts_in_archive(&sim), 3);
}

async fn expired_shift_is_closed_and_reopened<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    {
        let mut s = sim.state();
        let (n, r, _) = s.shift_open.unwrap();
        s.shift_open = Some((n, r, true));
    }
    source.push("op-2", Ok(sale(100)));
    wait_for("second approve", || approves(&source).len() == 2).await;
    run.stop().await;
    let kinds: Vec<String> = source
        .lock()
        .delivered
        .iter()
        .map(|m| m.label().split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["openshift", "approve", "closeshift", "openshift", "approve"]
    );
    let delivered = source.lock().delivered.clone();
    let OutboxMessage::CloseShift {
        opened,
        closed,
        receipts,
        ..
    } = &delivered[2]
    else {
        panic!()
    };
    assert_eq!((opened.fd_number, closed.fd_number, *receipts), (1, 3, 1));
}

async fn close_shift_command_closes_and_reports<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    let answer = close_shift_command(&run).await.unwrap();
    assert_eq!(answer, "смена №1 закрыта");
    wait_for("closeshift", || {
        source
            .lock()
            .delivered
            .iter()
            .any(|m| matches!(m, OutboxMessage::CloseShift { .. }))
    })
    .await;
    run.stop().await;
    assert!(sim.state().shift_open.is_none());
}

/// A refused approve is parked, shown in status, and sent
/// again later (capped backoff); the receipt is printed once.
async fn refused_approve_is_retried_later_not_dropped<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.lock().refuse_answers = 2;
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("first refusal", || !source.lock().refused.is_empty()).await;
    wait_for("refusal in status", || {
        run.handle.status.get().last_error.is_some_and(|e| {
            e.message
                .contains("облако не принимает подтверждение чека op-1")
        })
    })
    .await;
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(source.lock().refused.len(), 2);
    assert_eq!(receipts_in_archive(&sim), 1, "never reprinted");
    let phase = store.get("op-1").unwrap().unwrap().phase;
    assert!(matches!(phase, OpState::Approved(_)), "{phase:?}");
    assert!(store.refused_answers().unwrap().is_empty());
}

/// A refused openshift is not parked for good: it is shown in status and
/// `/state` and sent again with the approves' capped backoff.
async fn refused_openshift_is_retried_and_shown<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.lock().refuse_shift_messages = 2;
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("refusal in status and /state", || {
        let status = run.handle.status.get();
        let shown = status
            .last_error
            .as_ref()
            .is_some_and(|e| e.message.contains("облако не принимает открытие смены"));
        let report = crate::state::build_report(&status, &[]);
        shown
            && report
                .sync_message
                .is_some_and(|m| m.contains("открытие смены"))
    })
    .await;
    wait_for("approve and openshift", || {
        let opened = source
            .lock()
            .delivered
            .iter()
            .filter(|m| matches!(m, OutboxMessage::OpenShift { .. }))
            .count();
        opened == 1 && approves(&source).len() == 1
    })
    .await;
    run.stop().await;
    assert_eq!(source.lock().refused.len(), 2);
    assert_eq!(receipts_in_archive(&sim), 1, "never reprinted");
    assert!(store.refused_answers().unwrap().is_empty());
}

/// A refused closeshift is sent again too.
async fn refused_closeshift_is_retried<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    source.lock().refuse_shift_messages = 2;
    assert_eq!(
        close_shift_command(&run).await,
        Ok("смена №1 закрыта".to_string())
    );
    wait_for("closeshift delivered", || {
        delivered(&source, |m| matches!(m, OutboxMessage::CloseShift { .. }))
    })
    .await;
    run.stop().await;
    assert_eq!(source.lock().refused.len(), 2);
    assert!(store.refused_answers().unwrap().is_empty());
}

/// The cloud handing out an operation whose answer it refused
/// re-queues that answer at once, long before the backoff.
async fn refused_reject_is_requeued_when_handed_out_again<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.lock().refuse_answers = 1;
    source.push(
        "bad",
        Err(crate::receipt::RejectReason("Ошибка данных".into())),
    );
    let mut cfg = settings();
    cfg.refused_retry_min = Duration::from_secs(3600);
    cfg.refused_retry_max = Duration::from_secs(3600);
    let run = start_with(cfg, &sim, &source, &store);
    wait_for("reject delivered", || {
        delivered(&source, |m| matches!(m, OutboxMessage::Reject { .. }))
    })
    .await;
    run.stop().await;
    assert_eq!(source.lock().refused.len(), 1);
    let phase = store.get("bad").unwrap().unwrap().phase;
    assert!(matches!(phase, OpState::Rejected { .. }), "{phase:?}");
    assert_eq!(receipts_in_archive(&sim), 0);
}

/// After a shift change, an approve sent again is the one
/// journaled the first time (same retailShift), not a re-rendered one.
async fn resent_approve_repeats_the_journaled_one_after_a_shift_change<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    close_shift_command(&run).await.unwrap();
    // A new shift with a new syncId, opened by the next sale.
    source.push("op-2", Ok(sale(700)));
    wait_for("approve of op-2", || approves(&source).len() == 2).await;
    let op = source.lock().all[0].clone();
    source.lock().queue.push_back(op);
    wait_for("second approve of op-1", || approves(&source).len() == 3).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 2);
    let sent: Vec<OutboxMessage> = source
        .lock()
        .delivered
        .iter()
        .filter(|m| m.op_id() == Some("op-1"))
        .cloned()
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "byte for byte the first approve");
}

/// While the printer is unreachable the worker neither rejects nor
/// hammers the cloud: operations stay queued (or RECEIVED), and polling
/// waits until the printer is back.
async fn unplugged_printer_waits_without_hammering_the_cloud<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    sim.state().link_down = true;
    source.push("op-1", Ok(sale(5000)));
    source.push("op-2", Ok(sale(600)));
    let run = start(&sim, &source, &store);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let polls = source.lock().polls;
    assert!(
        polls <= 3,
        "polled {polls} times while the printer was away"
    );
    assert!(source.lock().delivered.is_empty());
    let phase = store.get("op-1").unwrap().map(|o| o.phase);
    assert!(matches!(phase, None | Some(OpState::Received)), "{phase:?}");
    assert_eq!(run.handle.status.get().last_error.unwrap().layer, "link");
    sim.state().link_down = false;
    wait_for("both approves", || approves(&source).len() == 2).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 2);
}

/// A recovered receipt whose shift nobody knows any more
/// (closed on the device, not in the journal) is never approved with an
/// empty retailShift: the kassa stops and says why.
async fn recovered_receipt_of_unknown_shift_is_never_approved_with_empty_shift<J: Store>(
    store: Arc<J>,
) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    {
        let mut k = sim.clone();
        use kkt::Kkt;
        k.open_shift("x").unwrap();
        let receipt = crate::receipt::render(&sale(5000), &Default::default()).unwrap();
        journal_printing(&*store, 2);
        k.print_receipt(&receipt).unwrap();
        k.close_shift("x").unwrap();
    }
    let run = start(&sim, &source, &store);
    wait_for("halt", || run.handle.status.get().halted.is_some()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let halted = run.handle.status.get().halted.unwrap();
    run.stop().await;
    assert!(halted.contains("неизвестна журналу"), "{halted}");
    let delivered = source.lock().delivered.clone();
    assert!(
        delivered.iter().all(|m| !matches!(
            m,
            OutboxMessage::Approve { shift_id, .. } if shift_id.is_empty()
        )),
        "{delivered:?}"
    );
    assert!(approves(&source).is_empty());
    assert_eq!(receipts_in_archive(&sim), 1, "never reprinted");
}

/// Recovery matches the archive against what was journaled
/// before printing, not against the body rendered again today.
async fn recovery_matches_the_journaled_summary_not_a_fresh_render<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    // Today the body would render to another total (settings changed).
    source.push("op-1", Ok(sale(4000)));
    {
        let mut k = sim.clone();
        use kkt::Kkt;
        k.open_shift("x").unwrap();
        let receipt = crate::receipt::render(&sale(5000), &Default::default()).unwrap();
        journal_printing(&*store, 2);
        k.print_receipt(&receipt).unwrap();
    }
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    let halted = run.handle.status.get().halted;
    run.stop().await;
    assert_eq!(halted, None);
    assert_eq!(approves(&source), vec![("op-1".into(), 2)]);
    assert_eq!(receipts_in_archive(&sim), 1);
}

/// The device made another document at the expected number;
/// the receipt is the next one. It is found and approved, not reprinted.
async fn recovery_finds_the_receipt_after_another_document<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    {
        let mut k = sim.clone();
        use kkt::Kkt;
        journal_printing(&*store, 1);
        // FD 1 is the shift-open report, FD 2 the receipt.
        k.open_shift("x").unwrap();
        print_on(&mut k, &sale(5000));
    }
    let run = start(&sim, &source, &store);
    wait_for("approve", || approves(&source).len() == 1).await;
    let halted = run.handle.status.get().halted;
    run.stop().await;
    assert_eq!(halted, None);
    assert_eq!(approves(&source), vec![("op-1".into(), 2)]);
    assert_eq!(receipts_in_archive(&sim), 1);
}

/// A receipt of another kind at the expected number halts
/// with a Russian message naming both.
async fn recovery_halts_on_another_kind_of_receipt<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    source.push("op-1", Ok(sale(5000)));
    {
        let mut k = sim.clone();
        use kkt::Kkt;
        k.open_shift("x").unwrap();
        let mut ret = sale(5000);
        ret.kind = ReceiptKind::SaleReturn;
        print_on(&mut k, &ret);
    }
    journal_printing(&*store, 2);
    let run = start(&sim, &source, &store);
    wait_for("halt", || run.handle.status.get().halted.is_some()).await;
    let halted = run.handle.status.get().halted.unwrap();
    run.stop().await;
    assert!(halted.contains("чек возврата прихода"), "{halted}");
    assert!(halted.contains("ожидался чек прихода"), "{halted}");
    assert!(approves(&source).is_empty());
}

/// An FN swap is caught even when nothing was mid-print: the
/// kassa stops, prints nothing on the new FN and does not "close" the old
/// FN's shift with made-up data.
async fn fn_swapped_while_idle_halts_the_kassa<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    let rec = store.begin_shift("1111111111111111", 1).unwrap();
    let doc = source::ShiftDoc {
        fn_serial: "1111111111111111".into(),
        shift_number: 7,
        fd_number: 1,
        fiscal_sign: 42,
        time: jiff::civil::date(2026, 11, 24).at(9, 0, 0, 0),
    };
    let msg = OutboxMessage::OpenShift {
        shift_id: rec.id.clone(),
        opened: doc.clone(),
    };
    store.shift_opened(rec.row, &doc, &msg).unwrap();
    source.push("op-1", Ok(sale(5000)));
    let run = start(&sim, &source, &store);
    wait_for("halt", || run.handle.status.get().halted.is_some()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let halted = run.handle.status.get().halted.unwrap();
    run.stop().await;
    assert!(halted.contains("ФН заменён"), "{halted}");
    assert!(halted.contains("1111111111111111"), "{halted}");
    assert_eq!(receipts_in_archive(&sim), 0);
    assert!(
        source
            .lock()
            .delivered
            .iter()
            .all(|m| !matches!(m, OutboxMessage::CloseShift { .. }))
    );
}

/// A close-shift command that arrives before recovery ran
/// waits for it: the Z-report never takes the FD number an interrupted
/// receipt was expected at.
async fn close_shift_command_runs_after_recovery<J: Store>(store: Arc<J>) {
    let (sim, source) = crashed_before_the_document(&*store);
    let sim2 = sim.clone();
    let device = DeviceHandle::spawn(
        "test",
        Box::new(move || Ok(Box::new(sim2.clone()) as Box<dyn kkt::Kkt>)),
    )
    .unwrap();
    let (kassa, handle) = Kassa::new(settings(), source.clone(), store.clone(), device);
    // Queued before the loop starts: handled before its first turn.
    let (tx, rx) = tokio::sync::oneshot::channel();
    handle.commands.send(Command::CloseShift(tx)).await.unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let join = tokio::spawn(kassa.run(stop_rx));
    let run = Running { handle, stop, join };
    let answer = rx.await.unwrap();
    wait_for("approve", || approves(&source).len() == 1).await;
    let halted = run.handle.status.get().halted;
    run.stop().await;
    assert_eq!(halted, None);
    assert_eq!(answer, Ok("смена №1 закрыта".to_string()));
    let archive = sim.state().archive.clone();
    assert_eq!(archive[1].kind, DocumentKind::ShiftClose, "{archive:?}");
    assert_eq!(receipts_in_archive(&sim), 1);
}

on_journal!(
    close_shift_command_runs_after_recovery,
    fn_swapped_while_idle_halts_the_kassa,
    recovery_matches_the_journaled_summary_not_a_fresh_render,
    recovery_finds_the_receipt_after_another_document,
    recovery_halts_on_another_kind_of_receipt,
    recovered_receipt_of_unknown_shift_is_never_approved_with_empty_shift,
    unplugged_printer_waits_without_hammering_the_cloud,
    resent_approve_repeats_the_journaled_one_after_a_shift_change,
    refused_approve_is_retried_later_not_dropped,
    refused_reject_is_requeued_when_handed_out_again,
    refused_openshift_is_retried_and_shown,
    refused_closeshift_is_retried,
    sale_is_printed_once_and_approved_after_openshift,
    invalid_operation_is_rejected_and_not_printed,
    paper_out_after_fiscalisation_approves_without_reprint,
    paper_out_before_close_cancels_and_prints_once_paper_is_back,
    link_lost_after_close_recovers_from_the_archive,
    restart_with_receipt_in_fn_approves_from_archive,
    restart_without_receipt_prints_it_once,
    reprint_after_a_crash_reuses_the_journaled_key,
    another_fn_halts_the_kassa,
    archive_mismatch_halts_instead_of_guessing,
    permanent_device_refusal_rejects_with_device_text,
    cloud_outage_delays_but_delivers_every_answer_once,
    settled_operation_handed_out_again_is_answered_not_reprinted,
    expired_shift_is_closed_and_reopened,
    close_shift_command_closes_and_reports,
    receipts_in_a_row_skip_the_device_reads,
    polls_quickly_for_a_spell_after_work,
);

/// Right after a receipt the kassa polls at the quick pace, and back at
/// the idle pace once the spell is over.
async fn polls_quickly_for_a_spell_after_work<J: Store>(store: Arc<J>) {
    let (sim, source) = setup();
    let mut cfg = settings();
    cfg.poll_interval = Duration::from_millis(100);
    cfg.idle_poll_max = Duration::from_millis(400);
    cfg.busy_poll = Some(Duration::from_millis(20));
    cfg.busy_spell = Duration::from_millis(600);
    source.push("op-1", Ok(sale(10000)));
    let run = start_with(cfg, &sim, &source, &store);
    wait_for("the approve", || approves(&source).len() == 1).await;
    let polls = || source.lock().polls;
    let before = polls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quick = polls() - before;
    // ~15 at 20 ms ± 20 %; a loaded machine only makes it fewer.
    assert!(quick >= 6, "{quick} polls in 300 ms right after work");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = polls();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let idle = polls() - before;
    // At most one per 320 ms (400 ms − 20 %), plus a boundary.
    assert!(idle <= 3, "{idle} polls in 800 ms after the spell");
    run.stop().await;
}

/// A device claiming its last FD is u32::MAX is an error,
/// never a wrap to FD 0 journaled as the expected number.
#[test]
fn next_fd_never_wraps() {
    assert_eq!(shift::next_fd(41).unwrap(), 42);
    let err = shift::next_fd(u32::MAX).unwrap_err();
    assert_eq!(err.class(), kkt::ErrorClass::Link);
}

/// Cloud failures read in Russian in status, no English
/// error text.
#[test]
fn cloud_failures_are_named_in_russian() {
    let t = kassa::cloud_text(&SourceError::Transient {
        message: "connection refused".into(),
        retry_after: None,
        shop: None,
    });
    assert_eq!(t, "облако временно недоступно, повтор позже");
    let t = kassa::cloud_text(&SourceError::Transient {
        message: "poll: no answer within 30s".into(),
        retry_after: None,
        shop: Some("облако не отвечает дольше 30 с; повтор позже".into()),
    });
    assert_eq!(t, "облако не отвечает дольше 30 с; повтор позже");
    let t = kassa::cloud_text(&SourceError::Permanent {
        status: 412,
        message: "Precondition Failed".into(),
    });
    assert_eq!(t, "облако отказало в запросе (ответ 412)");
}

/// A journal that cannot be written is reported as a journal
/// fault in Russian, not as «ККТ прислала непонятный ответ».
#[tokio::test]
async fn journal_failure_is_not_reported_as_a_printer_fault() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let j = Arc::new(crate::journal::Journal::open(&path).unwrap());
        let store = journal_store::JournalStore::new(j, "test", crate::journal::Source::Moysklad);
        journal_printing(&store, 1);
    }
    // Reads work, every write fails (as on a full or read-only disk).
    let j = Arc::new(crate::journal::Journal::open_read_only(&path).unwrap());
    let store = Arc::new(journal_store::JournalStore::new(
        j,
        "test",
        crate::journal::Source::Moysklad,
    ));
    let (sim, source) = setup();
    let run = start(&sim, &source, &store);
    wait_for("journal error in status", || {
        run.handle
            .status
            .get()
            .last_error
            .is_some_and(|e| e.layer == "journal")
    })
    .await;
    let err = run.handle.status.get().last_error.unwrap();
    run.stop().await;
    assert!(
        err.message.starts_with("журнал не записывается"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("ККТ"), "{}", err.message);
    assert_eq!(receipts_in_archive(&sim), 0);
}
