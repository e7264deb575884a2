//! One kassa's loop: poll → journal → validate → print → approve/reject.
//!
//! [`Kassa::run`] is the loop of ARCHITECTURE.md for one printer and one
//! shop. Each turn, in this order:
//! 1. run recovery if the device was (re)opened since the last recovery;
//! 2. deliver the outbox (approve/reject/shift messages, FIFO);
//! 3. print the oldest operation left in RECEIVED (journaled first);
//! 4. poll for a new operation once the outbox is empty;
//! 5. report state when it changed or is due.
//!
//! Device faults that waiting can fix (paper, cover, link, busy) never
//! reject an operation: the loop waits and retries. Only data errors and
//! permanent device errors reject, and only after the FN proved that the
//! receipt was not made.

use super::error::{JOURNAL_UNWRITABLE_RU, WorkerError, layer_of};
use super::known_device::KnownDevice;
use super::recovery::{ApproveFacts, Recovery, RecoveryOutcome};
use super::shift::{Shifts, daily_close_due, next_fd};
use super::source::{
    OutboxMessage, Polled, PrintedReceipt, PrinterInfo, ReceiptSource, SourceError,
};
use super::status::{ErrorReport, KassaStatus, StatusCell};
use super::store::{Delivery, Store, StoredOp};
use crate::catalogue::{ProductLookup, Resolved};
use crate::device::DeviceHandle;
use crate::journal::OpState;
use crate::receipt::{RenderContext, render};
use kkt::{KktError, TaxSystem};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Settings of one kassa's loop.
#[derive(Debug, Clone)]
pub struct KassaSettings {
    pub name: String,
    /// Cashier printed on receipts and shift documents (tag 1021).
    pub cashier: String,
    pub default_tax_system: Option<TaxSystem>,
    /// Poll interval while operations flow.
    pub poll_interval: Duration,
    /// Longest poll interval when the queue stays empty.
    pub idle_poll_max: Duration,
    /// Poll interval for `busy_spell` after an operation (a queue where a
    /// sale must be fetched); `None`: straight to the idle pace.
    pub busy_poll: Option<Duration>,
    /// How long after an operation `busy_poll` applies.
    pub busy_spell: Duration,
    /// Periodic state report.
    pub state_interval: Duration,
    /// Wait before retrying after a recoverable device fault.
    pub device_retry: Duration,
    /// Longest wait between outbox retries.
    pub outbox_retry_max: Duration,
    /// First wait before a message the cloud refused (4xx: approve,
    /// reject, openshift, closeshift) is sent again; doubles up to
    /// `refused_retry_max`.
    pub refused_retry_min: Duration,
    pub refused_retry_max: Duration,
    /// Close the shift every day at this local time, if set.
    pub daily_close: Option<jiff::civil::Time>,
    /// The time of day for daily close, FN end-of-life checks and status.
    pub clock: super::WallClock,
}

impl KassaSettings {
    pub fn new(name: &str) -> Self {
        KassaSettings {
            name: name.to_string(),
            cashier: "Кассир".to_string(),
            default_tax_system: None,
            poll_interval: Duration::from_millis(500),
            idle_poll_max: Duration::from_secs(5),
            busy_poll: None,
            busy_spell: super::poll_budget::BUSY_SPELL,
            state_interval: Duration::from_secs(300),
            device_retry: Duration::from_secs(2),
            outbox_retry_max: Duration::from_secs(60),
            refused_retry_min: Duration::from_secs(30),
            refused_retry_max: Duration::from_secs(300),
            daily_close: None,
            clock: super::WallClock::moscow(),
        }
    }
}

/// Requests from the control socket.
#[derive(Debug)]
pub enum Command {
    /// Close the fiscal shift now (Z-report); replies with the Russian
    /// outcome.
    CloseShift(oneshot::Sender<Result<String, String>>),
}

/// One kassa: its source, journal, device and status.
pub struct Kassa<S: ReceiptSource, J: Store> {
    pub(super) cfg: KassaSettings,
    pub(super) source: Arc<S>,
    pub(super) store: Arc<J>,
    pub(super) device: DeviceHandle,
    pub(super) status: StatusCell,
    pub(super) commands: mpsc::Receiver<Command>,
    /// Device generation recovery last ran for.
    pub(super) recovered_gen: Option<u64>,
    pub(super) printer: Option<PrinterInfo>,
    pub(super) device_tax_systems: Vec<TaxSystem>,
    /// Printing stopped for good (FN replaced, archive mismatch).
    pub(super) halted: Option<String>,
    /// The shop's catalogue (MoySklad kassas): names positions and brings
    /// the store's tax system and receipt template.
    pub(super) catalogue: Option<Arc<ProductLookup>>,
    /// The last journal write failed as unwritable (mirrors
    /// `status.journal_blocked` without locking it on every write).
    journal_blocked: bool,
    /// The FN refused a document as unable to sign (memory full, blocked):
    /// printing pauses until a document goes through.
    fn_refused: Option<String>,
    next_poll: Instant,
    poll_backoff: Duration,
    /// When the cloud last handed out an operation to print.
    last_work: Option<Instant>,
    next_outbox: Instant,
    outbox_backoff: Duration,
    /// When refused approves/rejects go back in the queue.
    next_refused_retry: Instant,
    refused_backoff: Duration,
    /// Some outbox message is parked after a refusal (as of the last turn).
    refused_pending: bool,
    /// The last operation whose refused answer was re-queued because the
    /// cloud handed it out again, and when: the cloud hands out the same
    /// operation on every poll, which must not become a tight loop.
    last_handout_retry: Option<(String, Instant)>,
    next_print: Instant,
    next_state: Instant,
    last_state: Instant,
    state_dirty: bool,
    state_sent_once: bool,
    /// Something is waiting to print (as of the last turn).
    print_pending: bool,
    /// The outbox is not empty (as of the last turn).
    outbox_pending: bool,
    /// Device facts from the last clean receipt; dropped by anything else
    /// that may change the FN (shift commands, recovery, errors).
    known: Option<KnownDevice>,
    /// What the source last asked status to show (as in `status`).
    source_notes: Vec<String>,
}

/// Wait before asking the cloud again about a product it could not be
/// asked about (one request each time).
const CATALOGUE_RETRY: Duration = Duration::from_secs(5);

/// Shortest gap between two state reports triggered by changes.
const STATE_MIN_GAP: Duration = Duration::from_secs(10);

/// Reads a kassa's journal counters (for status snapshots).
pub type CountsReader = Arc<dyn Fn() -> Option<super::store::Counts> + Send + Sync>;

/// Handle to a running kassa: its status and its command channel.
#[derive(Clone)]
pub struct KassaHandle {
    pub name: String,
    pub status: StatusCell,
    pub commands: mpsc::Sender<Command>,
    pub counts: CountsReader,
}

impl KassaHandle {
    /// Status with fresh journal counters.
    pub fn snapshot(&self) -> KassaStatus {
        let mut s = self.status.get();
        if let Some(c) = (self.counts)() {
            s.counts = c;
        }
        s
    }
}

impl<S: ReceiptSource, J: Store> Kassa<S, J> {
    pub fn new(
        cfg: KassaSettings,
        source: Arc<S>,
        store: Arc<J>,
        device: DeviceHandle,
    ) -> (Self, KassaHandle) {
        let (tx, rx) = mpsc::channel(8);
        let status = StatusCell::new(&cfg.name);
        let now = Instant::now();
        let counts_store = store.clone();
        let handle = KassaHandle {
            name: cfg.name.clone(),
            status: status.clone(),
            commands: tx,
            counts: Arc::new(move || counts_store.counts().ok()),
        };
        let kassa = Kassa {
            poll_backoff: cfg.poll_interval,
            last_work: None,
            outbox_backoff: Duration::from_millis(200),
            next_refused_retry: now,
            refused_backoff: cfg.refused_retry_min,
            refused_pending: true,
            last_handout_retry: None,
            cfg,
            source,
            store,
            device,
            status,
            commands: rx,
            recovered_gen: None,
            printer: None,
            device_tax_systems: Vec::new(),
            halted: None,
            catalogue: None,
            journal_blocked: false,
            fn_refused: None,
            next_poll: now,
            next_outbox: now,
            next_print: now,
            next_state: now,
            last_state: now.checked_sub(STATE_MIN_GAP).unwrap_or(now),
            state_dirty: true,
            state_sent_once: false,
            known: None,
            source_notes: Vec::new(),
            print_pending: true,
            outbox_pending: true,
        };
        (kassa, handle)
    }

    /// Names positions from the shop's catalogue before rendering.
    pub fn with_catalogue(mut self, lookup: Arc<ProductLookup>) -> Self {
        lookup.catalogue().watch(self.status.clone());
        self.catalogue = Some(lookup);
        self
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(kassa = %self.cfg.name, "kassa started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            while let Ok(cmd) = self.commands.try_recv() {
                self.handle_command(cmd).await;
            }
            let worked = self.turn().await;
            if worked {
                tokio::task::yield_now().await;
                continue;
            }
            let wake = self.next_wake();
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = shutdown.changed() => {}
                cmd = self.commands.recv() => {
                    if let Some(cmd) = cmd {
                        self.handle_command(cmd).await;
                    }
                }
            }
        }
        tracing::info!(kassa = %self.cfg.name, "kassa stopped");
    }

    /// When the loop has something to do next. Deadlines of idle
    /// activities (an empty outbox, nothing to print) are in the past and
    /// must not count, or the loop would spin.
    fn next_wake(&self) -> Instant {
        let mut wake = self.next_state;
        if self.state_dirty {
            wake = wake.min(self.last_state + STATE_MIN_GAP);
        }
        if self.halted.is_none() {
            wake = wake.min(self.next_poll);
            if self.print_pending || self.needs_recovery() {
                wake = wake.min(self.next_print);
            }
        }
        if self.outbox_pending {
            wake = wake.min(self.next_outbox);
        }
        if self.refused_pending {
            wake = wake.min(self.next_refused_retry);
        }
        wake
    }

    /// One turn of the loop; true if it did something worth an immediate
    /// next turn.
    pub(super) async fn turn(&mut self) -> bool {
        let now = Instant::now();
        if self.halted.is_none() && self.needs_recovery() && now >= self.next_print {
            // Recovery may queue approves.
            self.outbox_pending = true;
            self.known = None;
            match self.recover().await {
                Ok(()) => {}
                Err(e) => {
                    self.trouble(&e);
                    return false;
                }
            }
        }
        if !self.state_sent_once && self.recovered_gen.is_some() {
            // ARCHITECTURE: state goes out at start, whatever else is queued.
            self.state_sent_once = true;
            self.report_state().await;
        }
        if self.refused_pending && now >= self.next_refused_retry {
            let _ = self.retry_refused(None);
        }
        if now >= self.next_outbox {
            match self.deliver_one().await {
                DeliverResult::Delivered => return true,
                DeliverResult::Empty => self.outbox_pending = false,
                DeliverResult::Retry => self.outbox_pending = true,
            }
        }
        if self.halted.is_none() && now >= self.next_print {
            match self.store.pending() {
                Ok(pending) => {
                    self.print_pending = !pending.is_empty();
                    if let Some(op) = pending.into_iter().next() {
                        self.process(op).await;
                        self.outbox_pending = true;
                        return true;
                    }
                }
                Err(e) => {
                    self.journal_error(&e);
                    self.next_print = Instant::now() + self.cfg.device_retry;
                }
            }
            if daily_close_due(
                self.cfg.daily_close,
                &self.status.get(),
                self.cfg.clock.now(),
            ) {
                self.known = None;
                let _ = self.close_shift_now().await;
                return true;
            }
        }
        let outbox_empty = matches!(self.store.outbox_head(), Ok(None));
        // One operation at a time: while one waits for the printer (paper,
        // link) the cloud would only hand out the same one again.
        if self.halted.is_none()
            && outbox_empty
            && !self.print_pending
            && now >= self.next_poll
            && self.poll_once().await
        {
            return true;
        }
        // On change, but not more than once per STATE_MIN_GAP: a busy shop
        // must not spend its request budget on state reports.
        if now >= self.next_state || (self.state_dirty && now >= self.last_state + STATE_MIN_GAP) {
            self.report_state().await;
        }
        false
    }

    pub(super) fn needs_recovery(&self) -> bool {
        self.recovered_gen != Some(self.device.generation())
    }

    async fn poll_once(&mut self) -> bool {
        let result = self.source.poll().await;
        let notes = self.source.notes();
        if self.source_notes != notes {
            self.source_notes = notes.clone();
            self.status.update(|s| s.source_notes = notes);
            self.state_dirty = true;
        }
        let now = Instant::now();
        match result {
            Ok(Polled::Empty) => {
                self.status
                    .update(|s| s.last_poll = Some(self.cfg.clock.now()));
                self.poll_backoff = (self.poll_backoff * 2).min(self.cfg.idle_poll_max);
                let wait = match self.cfg.busy_poll {
                    Some(quick)
                        if self
                            .last_work
                            .is_some_and(|t| now.duration_since(t) < self.cfg.busy_spell) =>
                    {
                        quick.min(self.poll_backoff)
                    }
                    _ => self.poll_backoff,
                };
                self.next_poll = now + super::jitter(wait);
                false
            }
            Ok(Polled::Operation(op)) => {
                self.status
                    .update(|s| s.last_poll = Some(self.cfg.clock.now()));
                if self.accept(*op) {
                    // More is likely queued: poll again as soon as this one
                    // is done (printing paces the loop).
                    self.poll_backoff = self.cfg.poll_interval;
                    self.next_poll = now;
                    self.last_work = Some(now);
                    self.print_pending = true;
                    self.outbox_pending = true;
                    true
                } else {
                    // Handed out again although we answered it: back off as
                    // for an empty queue so a confused cloud is not hammered.
                    self.outbox_pending = true;
                    self.poll_backoff = (self.poll_backoff * 2).min(self.cfg.idle_poll_max);
                    self.next_poll = now + super::jitter(self.poll_backoff);
                    false
                }
            }
            Err(e) => {
                self.cloud_trouble(&e);
                let wait = match &e {
                    SourceError::Transient {
                        retry_after: Some(d),
                        ..
                    } => *d,
                    _ => (self.poll_backoff * 2).min(self.cfg.outbox_retry_max),
                };
                self.poll_backoff = wait.max(self.cfg.poll_interval);
                self.next_poll = now + super::jitter(self.poll_backoff);
                false
            }
        }
    }

    /// Journals a polled operation, or re-sends the answer of one already
    /// settled (the cloud handed it out again). True if it is new work.
    fn accept(&mut self, op: super::source::SourceOperation) -> bool {
        let existing = match self.store.get(&op.id) {
            Ok(e) => e,
            Err(e) => {
                self.journal_error(&e);
                return false;
            }
        };
        let new_work = match &existing {
            None => true,
            Some(stored) => stored.phase.is_pending_print(),
        };
        let result = match existing {
            None => {
                tracing::info!(kassa = %self.cfg.name, op = %op.id, kind = %op.kind, "operation received");
                self.store.insert_received(&op.id, &op.body)
            }
            Some(stored) => match &stored.phase {
                OpState::Approved(_) | OpState::Rejected { .. } => {
                    tracing::info!(kassa = %self.cfg.name, op = %op.id, "settled operation handed out again: re-sending its answer");
                    match self.resend_message(&stored) {
                        Some(msg) => self.store.enqueue(&msg),
                        None => Ok(()),
                    }
                }
                // The cloud asks again for an operation whose answer it
                // refused: send that answer again now.
                OpState::Approving(_) | OpState::Rejecting { .. } => {
                    let now = Instant::now();
                    let recently = self.last_handout_retry.as_ref().is_some_and(|(id, at)| {
                        *id == stored.id && now < *at + self.cfg.refused_retry_min
                    });
                    if !recently && self.retry_refused(Some(&stored.id)) {
                        self.last_handout_retry = Some((stored.id.clone(), now));
                    }
                    Ok(())
                }
                // Pending or answer still in the outbox: nothing new to do.
                _ => Ok(()),
            },
        };
        self.state_dirty = true;
        if let Err(e) = result {
            self.journal_error(&e);
            // Not journaled, so not work: polling again at once would only
            // hammer the cloud with the same operation.
            return false;
        }
        self.journal_writable();
        new_work
    }

    /// The answer to send again for a settled operation: exactly the one
    /// journaled the first time (same shift, printer, tax system), never
    /// one rendered again with today's settings.
    fn resend_message(&mut self, stored: &StoredOp) -> Option<OutboxMessage> {
        let want_approve = match &stored.phase {
            OpState::Approved(_) => true,
            OpState::Rejected { .. } => false,
            _ => return None,
        };
        match self.store.original_answer(&stored.id) {
            Ok(Some(msg)) if matches!(msg, OutboxMessage::Approve { .. }) == want_approve => {
                Some(msg)
            }
            Ok(found) => {
                tracing::error!(kassa = %self.cfg.name, op = %stored.id, found = ?found.map(|m| m.label()), "no journaled answer to send again");
                self.note_error(
                    "journal",
                    &format!(
                        "в журнале нет исходного ответа по операции {}: повтор не отправлен",
                        stored.id
                    ),
                );
                None
            }
            Err(e) => {
                self.journal_error(&e);
                None
            }
        }
    }

    /// What approves say besides the receipt: the configured tax system,
    /// the printer.
    fn approve_facts(&self) -> ApproveFacts {
        ApproveFacts {
            default_tax_system: self.cfg.default_tax_system,
            printer: self.printer.clone().unwrap_or_default(),
        }
    }

    /// The shift handling of this kassa, borrowed for one step.
    fn shifts(&self) -> Shifts<'_, J> {
        Shifts {
            name: &self.cfg.name,
            cashier: &self.cfg.cashier,
            device: &self.device,
            store: &self.store,
            status: &self.status,
            notices: Vec::new(),
        }
    }

    /// Recovery of this kassa, borrowed for one step.
    fn recovery(&self) -> Recovery<'_, S, J> {
        Recovery {
            shifts: self.shifts(),
            source: &self.source,
            render: self.render_context(),
            approve: self.approve_facts(),
            found_printed: 0,
        }
    }

    /// Reports what shift handling had to say.
    fn tell(&mut self, notices: Vec<String>) {
        for notice in notices {
            self.note_error("fn", &notice);
        }
    }

    /// Full recovery; sets the recovered generation when it succeeds.
    async fn recover(&mut self) -> Result<(), WorkerError> {
        let info = self.device.call(|k| k.device_info()).await?;
        let generation = self.device.generation();
        let printer = PrinterInfo::from_device(&info);
        self.device_tax_systems = info.tax_systems.clone();
        self.status.update(|s| s.printer = Some(printer.clone()));
        self.printer = Some(printer);
        tracing::info!(kassa = %self.cfg.name, model = %info.model, serial = %info.serial, "recovery: device found");
        let mut recovery = self.recovery();
        let result = recovery.reconcile().await;
        let notices = std::mem::take(&mut recovery.shifts.notices);
        let found_printed = recovery.found_printed;
        self.tell(notices);
        if found_printed > 0 {
            // As before the recovery/loop split: a receipt recorded from
            // the FN archive ends an FN-refusal pause and the last error.
            self.printed_ok();
        }
        if let Some(reason) = result? {
            self.halt(reason);
            return Ok(());
        }
        if self.device.generation() == generation {
            self.recovered_gen = Some(generation);
        }
        Ok(())
    }

    /// Recovers one operation left in PRINTING (after a failed print).
    async fn recover_one(&mut self, id: &str) -> Result<RecoveryOutcome, WorkerError> {
        let mut recovery = self.recovery();
        let result = recovery.recover_op(id).await;
        let notices = std::mem::take(&mut recovery.shifts.notices);
        self.tell(notices);
        match &result {
            Ok(RecoveryOutcome::Halted(reason)) => self.halt(reason.clone()),
            Ok(RecoveryOutcome::Printed) => self.printed_ok(),
            _ => {}
        }
        result
    }

    /// Makes sure a shift is open; returns its syncId.
    async fn ensure_shift(&mut self) -> Result<String, WorkerError> {
        let mut shifts = self.shifts();
        let result = shifts.ensure().await;
        let notices = std::mem::take(&mut shifts.notices);
        self.tell(notices);
        result
    }

    /// Continues printing interrupted by paper out, cancels a receipt
    /// nobody is printing.
    async fn finish_interrupted_print(&mut self) -> Result<(), WorkerError> {
        super::recovery::finish_interrupted_print(&self.shifts()).await
    }

    pub(super) fn render_context(&self) -> RenderContext {
        // The config's tax system overrides the store's default.
        let store = self
            .catalogue
            .as_ref()
            .map(|l| (l.catalogue().settings(), l.print_template));
        let (header, footer) = match &store {
            Some((s, true)) => (s.header.clone(), s.footer.clone()),
            _ => (Vec::new(), Vec::new()),
        };
        RenderContext {
            device_tax_systems: self.device_tax_systems.clone(),
            default_tax_system: self
                .cfg
                .default_tax_system
                .or(store.and_then(|(s, _)| s.default_tax_system)),
            cashier: Some(self.cfg.cashier.clone()),
            header,
            footer,
        }
    }

    /// The operation's data with names from the catalogue; `None` when it
    /// must wait for the cloud (status says why).
    async fn named_input(
        &mut self,
        op_id: &str,
        input: Result<crate::receipt::OperationInput, crate::receipt::RejectReason>,
    ) -> Option<Result<crate::receipt::OperationInput, crate::receipt::RejectReason>> {
        let (Ok(input), Some(lookup)) = (&input, self.catalogue.clone()) else {
            return Some(input);
        };
        match lookup.resolve(op_id, input.clone()).await {
            Resolved::Ready(named) => Some(Ok(named)),
            Resolved::Reject(reason) => Some(Err(reason)),
            Resolved::Wait(why) => {
                self.note_error("cloud", &why);
                self.next_print = Instant::now() + CATALOGUE_RETRY;
                None
            }
        }
    }

    /// Prints (or rejects) one journaled operation.
    async fn process(&mut self, op: StoredOp) {
        if let OpState::Printing { .. } = op.phase {
            // Left over from an interrupted print: recovery decides.
            self.recovered_gen = None;
            return;
        }
        let decoded = self.source.decode(&op.id, &op.body);
        let Some(input) = self.named_input(&op.id, decoded.input.clone()).await else {
            return;
        };
        let receipt = match input.and_then(|input| render(&input, &self.render_context())) {
            Ok(r) => r,
            Err(reason) => {
                tracing::warn!(kassa = %self.cfg.name, op = %op.id, reason = %reason, "operation rejected");
                self.reject(&op.id, &decoded, &reason.0);
                return;
            }
        };
        let known = self
            .known
            .take()
            .filter(|k| k.valid_for(self.device.generation()));
        let from_last_receipt = known.is_some();
        let (shift_id, fn_serial, expected_fd) = match known {
            Some(k) => (k.shift_id, k.fn_serial, k.next_fd),
            None => match self.read_device_before_print().await {
                Some(facts) => facts,
                None => return,
            },
        };
        let Some(total) = receipt.total() else {
            // render() already refuses such sums; never journal a made-up 0.
            self.reject(&op.id, &decoded, "Ошибка данных: сумма чека слишком велика");
            return;
        };
        if let Err(e) =
            self.store
                .start_printing(&op.id, expected_fd, &fn_serial, receipt.kind, total)
        {
            self.journal_error(&e);
            self.next_print = Instant::now() + self.cfg.device_retry;
            return;
        }
        self.journal_writable();
        tracing::info!(kassa = %self.cfg.name, op = %op.id, fd = expected_fd, "printing");
        let to_print = receipt.clone();
        let key = super::print_key::print_key(&op.id, &fn_serial, expected_fd);
        let started = Instant::now();
        let result = self
            .device
            .call(move |k| k.print_receipt_keyed(&to_print, &key))
            .await;
        match result {
            Ok(printed) => {
                crate::metrics::counters().print_took(&self.cfg.name, started.elapsed());
                self.known = KnownDevice::after_receipt(
                    self.device.generation(),
                    &fn_serial,
                    expected_fd,
                    printed.doc.number,
                    &shift_id,
                );
                let fiscal = PrintedReceipt {
                    fn_serial,
                    fd_number: printed.doc.number,
                    fiscal_sign: printed.doc.fiscal_sign,
                    time: printed.doc.time,
                    shift_number: printed.shift_number,
                    receipt_number: printed.receipt_number,
                    total: printed.total,
                };
                self.record_printed(&op.id, &decoded, Some(&receipt), fiscal, shift_id);
            }
            Err(e) => {
                tracing::warn!(kassa = %self.cfg.name, op = %op.id, error = %e, "print failed; checking the FN");
                self.after_print_error(&op.id, e, from_last_receipt).await;
            }
        }
    }

    /// Shift, interrupted printing and FN facts, read from the device:
    /// (journal shift id, FN serial, number of the next FD). `None` after a
    /// failure (already reported) or when the device was reopened meanwhile
    /// (recovery runs first).
    async fn read_device_before_print(&mut self) -> Option<(String, String, u32)> {
        let shift_id = match self.ensure_shift().await {
            Ok(id) => id,
            Err(e) => {
                self.trouble(&e);
                return None;
            }
        };
        if let Err(e) = self.finish_interrupted_print().await {
            self.trouble(&e);
            return None;
        }
        let fn_info = match self.device.call(|k| k.fn_info()).await {
            Ok(f) => f,
            Err(e) => {
                self.device_trouble(&e);
                return None;
            }
        };
        if self.needs_recovery() {
            // The device reconnected since recovery: reconcile first.
            return None;
        }
        if self.fn_stops_printing(&fn_info) {
            return None;
        }
        match next_fd(fn_info.last_fd_number) {
            Ok(n) => Some((shift_id, fn_info.serial, n)),
            Err(e) => {
                self.device_trouble(&e);
                None
            }
        }
    }

    pub(super) fn record_printed(
        &mut self,
        op_id: &str,
        decoded: &super::source::SourceOperation,
        receipt: Option<&kkt::Receipt>,
        fiscal: PrintedReceipt,
        shift_id: String,
    ) {
        if let Err(e) = self.store.printed(op_id, &fiscal) {
            // The receipt exists; the journal still says PRINTING, so
            // recovery will find it in the FN archive and record it.
            self.journal_error(&e);
            self.recovered_gen = None;
            return;
        }
        crate::metrics::counters().receipt(
            &self.cfg.name,
            &decoded.kind,
            crate::metrics::Outcome::Printed,
        );
        tracing::info!(kassa = %self.cfg.name, op = %op_id, fd = fiscal.fd_number, fp = fiscal.fiscal_sign, "printed");
        let msg = self
            .approve_facts()
            .message(op_id, decoded, receipt, &fiscal, shift_id);
        if let Err(e) = self.store.queue_approve(op_id, &msg) {
            // Recovery queues approves of PRINTED operations.
            self.journal_error(&e);
            self.recovered_gen = None;
            return;
        }
        self.printed_ok();
    }

    /// A receipt went into the FN: a pause for an FN that refused to sign
    /// and the last error are over.
    fn printed_ok(&mut self) {
        if self.fn_refused.take().is_some() {
            self.status.update(|s| s.fn_blocked = None);
        }
        self.status.update(|s| s.last_error = None);
        self.state_dirty = true;
    }

    pub(super) fn reject(
        &mut self,
        op_id: &str,
        decoded: &super::source::SourceOperation,
        message: &str,
    ) {
        let msg = OutboxMessage::Reject {
            op_id: op_id.to_string(),
            kind: decoded.kind.clone(),
            reference: decoded.reference.clone(),
            message: message.to_string(),
        };
        if let Err(e) = self.store.reject(op_id, message, &msg) {
            self.journal_error(&e);
        }
        self.state_dirty = true;
    }

    /// After a failed print: ask the FN whether the receipt exists.
    /// `from_last_receipt`: the print skipped the shift and FN reads,
    /// trusting the previous receipt; a refusal then may only mean the
    /// shift ran past 24 h meanwhile, so the operation is retried after a
    /// full read instead of being rejected.
    async fn after_print_error(&mut self, op_id: &str, error: KktError, from_last_receipt: bool) {
        match self.recover_one(op_id).await {
            Ok(RecoveryOutcome::Printed) => {}
            Ok(RecoveryOutcome::NotPrinted) => {
                if error.is_recoverable() || error.class() == kkt::ErrorClass::FiscalStorage {
                    // An FN that cannot sign refuses every receipt alike:
                    // pause and keep the operation, never reject it.
                    self.device_trouble(&error);
                } else if from_last_receipt {
                    tracing::info!(kassa = %self.cfg.name, op = %op_id, error = %error,
                        "print refused without a fresh device read: reading the device and retrying");
                } else {
                    let decoded = match self.store.get(op_id) {
                        Ok(Some(op)) => self.source.decode(op_id, &op.body),
                        _ => return,
                    };
                    tracing::warn!(kassa = %self.cfg.name, op = %op_id, error = %error, "device refused the receipt: rejecting");
                    self.reject(op_id, &decoded, &error.message_ru());
                }
            }
            Ok(RecoveryOutcome::Halted(_)) => {}
            Err(e) => {
                // Cannot even ask: wait, and recover before anything else.
                self.trouble(&e);
                self.recovered_gen = None;
            }
        }
    }

    /// A step failed on the device or on the journal: say which, wait,
    /// retry.
    pub(super) fn trouble(&mut self, e: &WorkerError) {
        match e {
            WorkerError::Device(k) => self.device_trouble(k),
            WorkerError::Journal(j) if j.unwritable => self.journal_unwritable(j),
            WorkerError::Journal(_) => {
                tracing::error!(kassa = %self.cfg.name, error = %e, "journal trouble; waiting");
                self.note_error(e.layer(), &e.message_ru());
                self.next_print = Instant::now() + self.cfg.device_retry;
            }
        }
    }

    /// The journal failed: its own layer and words, never a printer fault.
    /// An unwritable journal pauses printing until a write succeeds again.
    pub(super) fn journal_error(&mut self, e: &super::store::StoreError) {
        if e.unwritable {
            self.journal_unwritable(e);
            return;
        }
        let e = WorkerError::Journal(e.clone());
        self.note_error(e.layer(), &e.message_ru());
    }

    fn journal_unwritable(&mut self, e: &super::store::StoreError) {
        tracing::error!(kassa = %self.cfg.name, error = %e, "journal cannot be written; printing paused");
        self.journal_blocked = true;
        let text = JOURNAL_UNWRITABLE_RU.to_string();
        self.status
            .update(|s| s.journal_blocked = Some(text.clone()));
        self.note_error("journal", &text);
        self.next_print = Instant::now() + self.cfg.device_retry;
    }

    /// A journal write went through: a pause for an unwritable journal is
    /// over.
    fn journal_writable(&mut self) {
        if !self.journal_blocked {
            return;
        }
        self.journal_blocked = false;
        tracing::info!(kassa = %self.cfg.name, "journal writable again; printing resumes");
        self.status.update(|s| {
            s.journal_blocked = None;
            if s.last_error.as_ref().is_some_and(|e| e.layer == "journal") {
                s.last_error = None;
            }
        });
        self.state_dirty = true;
    }

    pub(super) fn device_trouble(&mut self, e: &KktError) {
        tracing::warn!(kassa = %self.cfg.name, error = %e, class = ?e.class(), "device trouble; waiting");
        crate::metrics::counters().device_error(&self.cfg.name, e.class().as_str());
        if e.class() == kkt::ErrorClass::FiscalStorage {
            let text = format!(
                "ФН не подписывает документы, печать приостановлена: {}",
                e.message_ru()
            );
            self.fn_refused = Some(text.clone());
            self.status.update(|s| s.fn_blocked = Some(text));
        }
        self.note_error(layer_of(e), &e.message_ru());
        self.next_print = Instant::now() + self.cfg.device_retry;
    }

    /// Judges the FN's end of life (expiry, OFD backlog) from `info`,
    /// updates status, and says whether printing must wait. Checked before
    /// a receipt is started, so the device never refuses one half way.
    fn fn_stops_printing(&mut self, info: &kkt::FnInfo) -> bool {
        let now = self.cfg.clock.now();
        let life = super::fn_life::assess(info, now.date(), now);
        let blocked = life.stop.clone().or_else(|| self.fn_refused.clone());
        self.status.update(|s| {
            s.apply_fn_info(info);
            s.fn_warnings.extend(life.warnings);
            s.fn_blocked = blocked;
        });
        match life.stop {
            Some(reason) => {
                tracing::warn!(kassa = %self.cfg.name, reason = %reason, "FN cannot sign: printing paused");
                self.note_error("fn", &reason);
                self.next_print = Instant::now() + self.cfg.device_retry;
                true
            }
            None => false,
        }
    }

    fn cloud_trouble(&mut self, e: &SourceError) {
        tracing::warn!(kassa = %self.cfg.name, error = %e, "cloud trouble");
        self.note_error("cloud", &cloud_text(e));
    }

    pub(super) fn note_error(&mut self, layer: &str, message: &str) {
        let same = self
            .status
            .get()
            .last_error
            .is_some_and(|e| e.message == message);
        if !same {
            let _ = self.store.record_error(&format!("[{layer}] {message}"));
        }
        let report = ErrorReport {
            layer: layer.to_string(),
            message: message.to_string(),
            at: self.cfg.clock.now(),
        };
        self.status.update(|s| s.last_error = Some(report));
        self.state_dirty = true;
    }

    pub(super) fn halt(&mut self, reason: String) {
        tracing::error!(kassa = %self.cfg.name, reason = %reason, "printing stopped");
        self.status.update(|s| s.halted = Some(reason.clone()));
        self.note_error("fn", &reason);
        self.halted = Some(reason);
    }

    /// Puts refused messages (the answer of `only` that operation, or all
    /// of them, shift messages included) back in the outbox. Nothing is
    /// dropped: a refused message is retried with a capped backoff, the
    /// receipt is never reprinted.
    /// True if something was re-queued.
    fn retry_refused(&mut self, only: Option<&str>) -> bool {
        let refused = match self.store.refused_answers() {
            Ok(r) => r,
            Err(e) => {
                self.journal_error(&e);
                return false;
            }
        };
        let mut requeued = false;
        for answer in &refused {
            if only.is_some_and(|id| answer.op_id.as_deref() != Some(id)) {
                continue;
            }
            tracing::info!(kassa = %self.cfg.name, op = ?answer.op_id, seq = answer.seq, "sending a refused message again");
            match self.store.retry_refused_answer(answer.seq) {
                Ok(()) => requeued = true,
                Err(e) => self.journal_error(&e),
            }
        }
        if requeued {
            self.outbox_pending = true;
            self.next_outbox = Instant::now();
        }
        if only.is_none() {
            self.refused_pending = false;
        }
        requeued
    }

    async fn deliver_one(&mut self) -> DeliverResult {
        let (seq, msg) = match self.store.outbox_head() {
            Ok(Some(x)) => x,
            Ok(None) => return DeliverResult::Empty,
            Err(e) => {
                self.journal_error(&e);
                self.next_outbox = Instant::now() + self.cfg.device_retry;
                return DeliverResult::Retry;
            }
        };
        let result = self.source.deliver(&msg).await;
        let delivery = match result {
            Ok(()) => Delivery::Accepted,
            Err(SourceError::Permanent { status, message }) => {
                tracing::error!(kassa = %self.cfg.name, msg = %msg.label(), status, message = %message, "cloud refused the message");
                // Parked, shown in status, and sent again later: shift
                // messages too, or MoySklad would never learn of a shift.
                let what = match &msg {
                    OutboxMessage::Approve { op_id, .. } => format!("подтверждение чека {op_id}"),
                    OutboxMessage::Reject { op_id, .. } => format!("отказ по операции {op_id}"),
                    OutboxMessage::OpenShift { shift_id, .. } => {
                        format!("открытие смены {shift_id}")
                    }
                    OutboxMessage::CloseShift { shift_id, .. } => {
                        format!("закрытие смены {shift_id}")
                    }
                };
                self.note_error(
                    "cloud",
                    &format!(
                        "облако не принимает {what} (ответ {status}); повтор через {} с",
                        self.refused_backoff.as_secs()
                    ),
                );
                self.resend_lost_open_shift(&msg, status, &message);
                self.refused_pending = true;
                self.next_refused_retry = Instant::now() + self.refused_backoff;
                self.refused_backoff = (self.refused_backoff * 2).min(self.cfg.refused_retry_max);
                Delivery::Refused(format!("{status}: {message}"))
            }
            Err(e @ SourceError::Transient { .. }) => {
                self.cloud_trouble(&e);
                let _ = self.store.outbox_attempt_failed(seq, &e.to_string());
                let wait = match &e {
                    SourceError::Transient {
                        retry_after: Some(d),
                        ..
                    } => *d,
                    _ => self.outbox_backoff,
                };
                self.outbox_backoff = (self.outbox_backoff * 2).min(self.cfg.outbox_retry_max);
                self.next_outbox = Instant::now() + super::jitter(wait);
                return DeliverResult::Retry;
            }
        };
        self.outbox_backoff = Duration::from_millis(200);
        if let Err(e) = self.store.outbox_done(seq, &delivery) {
            self.journal_error(&e);
            self.next_outbox = Instant::now() + self.cfg.device_retry;
            return DeliverResult::Retry;
        }
        self.journal_writable();
        if delivery == Delivery::Accepted {
            let settled = match &msg {
                OutboxMessage::Approve { kind, .. } => {
                    Some((kind, crate::metrics::Outcome::Approved))
                }
                OutboxMessage::Reject { kind, .. } => {
                    Some((kind, crate::metrics::Outcome::Rejected))
                }
                _ => None,
            };
            if let Some((kind, outcome)) = settled {
                crate::metrics::counters().receipt(&self.cfg.name, kind, outcome);
            }
            self.refused_backoff = self.cfg.refused_retry_min;
            tracing::info!(kassa = %self.cfg.name, msg = %msg.label(), "delivered");
        }
        self.state_dirty = true;
        DeliverResult::Delivered
    }

    /// Closes the shift now (command or schedule); the Russian outcome.
    pub(super) async fn close_shift_now(&mut self) -> Result<String, String> {
        // A Z-report must not take the FD number an interrupted receipt
        // was expected at: reconcile with the FN first, and never close
        // while an operation is in PRINTING.
        if let Some(reason) = &self.halted {
            return Err(format!("печать остановлена, смена не закрыта: {reason}"));
        }
        if self.needs_recovery()
            && let Err(e) = self.recover().await
        {
            self.trouble(&e);
            return Err(format!(
                "сначала нужна сверка с ФН, смена не закрыта: {}",
                e.message_ru()
            ));
        }
        if let Some(reason) = &self.halted {
            return Err(format!("печать остановлена, смена не закрыта: {reason}"));
        }
        let printing = match self.store.pending() {
            Ok(p) => p
                .iter()
                .any(|o| matches!(o.phase, crate::journal::OpState::Printing { .. })),
            Err(e) => return Err(format!("ошибка журнала, смена не закрыта: {e}")),
        };
        if printing || self.needs_recovery() {
            return Err("сначала нужна сверка с ФН (чек в печати), смена не закрыта".into());
        }
        let mut shifts = self.shifts();
        let result = shifts.close_current().await;
        let notices = std::mem::take(&mut shifts.notices);
        self.tell(notices);
        match result {
            Ok(text) => Ok(text),
            Err(e) => {
                self.trouble(&e);
                Err(e.message_ru())
            }
        }
    }

    /// An approve refused because the cloud does not know its retail shift
    /// (404, code 12012): the openshift was counted delivered but never
    /// reached the cloud (a proxy answered it, the cloud lost it). Send the
    /// openshift again; the parked approve follows with the refused
    /// retries. Without this, every approve of that shift would be refused
    /// for ever.
    fn resend_lost_open_shift(&mut self, msg: &OutboxMessage, status: u16, message: &str) {
        let OutboxMessage::Approve { shift_id, .. } = msg else {
            return;
        };
        if status != 404 || !message.contains("code 12012") {
            return;
        }
        match self.store.resend_open_shift(shift_id) {
            Ok(true) => {
                tracing::warn!(kassa = %self.cfg.name, shift = %shift_id,
                    "the cloud does not know the retail shift: sending its openshift again");
                self.outbox_pending = true;
                self.next_outbox = Instant::now();
            }
            Ok(false) => {}
            Err(e) => self.journal_error(&e),
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::CloseShift(reply) => {
                self.known = None;
                let result = self.close_shift_now().await;
                self.outbox_pending = true;
                let _ = reply.send(result);
            }
        }
    }

    async fn report_state(&mut self) {
        self.state_dirty = false;
        self.last_state = Instant::now();
        self.next_state = Instant::now() + self.cfg.state_interval;
        // Refresh FN data; a device that does not answer is itself news.
        match self.device.call(|k| k.fn_info()).await {
            Ok(info) => {
                self.fn_stops_printing(&info);
            }
            Err(e) => self.note_error(layer_of(&e), &e.message_ru()),
        }
        if let Ok(state) = self.device.call(|k| k.shift_state()).await {
            self.status.update(|s| s.apply_shift_state(&state));
        }
        let snapshot = self.status.get();
        let report = crate::state::build_report(&snapshot, &self.device_tax_systems);
        if let Err(e) = self.source.report_state(&report).await {
            tracing::debug!(kassa = %self.cfg.name, error = %e, "state report failed");
        }
        self.state_dirty = false;
    }

    pub fn status(&self) -> KassaStatus {
        self.status.get()
    }
}

enum DeliverResult {
    Delivered,
    Empty,
    Retry,
}

/// A cloud failure in Russian for status and `/state`; the
/// English detail stays in the log.
pub(super) fn cloud_text(e: &SourceError) -> String {
    match e {
        SourceError::Transient {
            shop: Some(text), ..
        } => text.clone(),
        SourceError::Transient { .. } => "облако временно недоступно, повтор позже".into(),
        SourceError::Permanent { status, .. } => {
            format!("облако отказало в запросе (ответ {status})")
        }
    }
}
