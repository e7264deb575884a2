//! Test doubles: an in-memory fiscal printer with an FN archive and fault
//! switches, and a scripted receipt source that behaves like the cloud
//! queue (an operation is handed out until it is approved or rejected).

use crate::receipt::{OperationInput, RejectReason};
use crate::worker::source::*;
use kkt::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct SimState {
    pub fn_serial: String,
    pub archive: Vec<ArchivedDocument>,
    pub shift_open: Option<(u32, u32, bool)>, // number, receipts, expired
    pub last_shift: u32,
    pub receipt_open: bool,
    pub awaiting_continue: bool,
    pub paper: bool,
    pub link_down: bool,
    /// Next print: the FN closes the receipt, then the printer runs out of
    /// paper (error after fiscalisation).
    pub paper_out_after_close: bool,
    /// Next print: paper runs out before close; the receipt stays open.
    pub paper_out_before_close: bool,
    /// Next print: the link dies after the FN closed the receipt.
    pub link_lost_after_close: bool,
    /// Next print: the device refuses the data (permanent).
    pub refuse_next: bool,
    /// The FN's validity date as it reports it.
    pub fn_valid_until: Option<Date>,
    /// Documents waiting for the OFD: how many, and since when.
    pub ofd_backlog: Option<(u32, DateTime)>,
    /// The FN memory is full: it refuses every document.
    pub fn_full: bool,
    pub printed: Vec<Receipt>,
    pub cancels: u32,
    pub continues: u32,
    /// Calls that only read the device (status, FN, shift).
    pub reads: u32,
    /// The idempotency key of each receipt print, in order.
    pub print_keys: Vec<String>,

    clock: i64,
}

impl SimState {
    pub fn last_fd(&self) -> u32 {
        self.archive.len() as u32
    }

    fn next_doc(
        &mut self,
        kind: DocumentKind,
        operation: Option<Operation>,
        total: Option<Money>,
    ) -> FiscalDoc {
        self.clock += 1;
        let number = self.last_fd() + 1;
        let doc = FiscalDoc {
            number,
            fiscal_sign: 1_000_000 + number * 7,
            time: jiff::civil::date(2026, 11, 24).at(10, 0, 0, 0)
                + jiff::SignedDuration::from_secs(self.clock),
        };
        self.archive.push(ArchivedDocument {
            kind,
            doc,
            operation,
            total,
        });
        doc
    }
}

#[derive(Clone)]
pub struct SimKkt(pub Arc<Mutex<SimState>>);

impl SimKkt {
    pub fn new() -> Self {
        SimKkt(Arc::new(Mutex::new(SimState {
            fn_serial: "9999078900001234".into(),
            fn_valid_until: Some(jiff::civil::date(2027, 12, 31)),
            paper: true,
            ..SimState::default()
        })))
    }
    pub fn state(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn guard(&mut self) -> Result<std::sync::MutexGuard<'_, SimState>, KktError> {
        let s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.link_down {
            return Err(KktError::Link("sim: cable out".into()));
        }
        Ok(s)
    }
}

fn dev_err(code: u8, text: &str, class: ErrorClass) -> KktError {
    KktError::Device {
        command: "sim".into(),
        code,
        text: text.into(),
        class,
    }
}

impl Kkt for SimKkt {
    fn device_info(&mut self) -> Result<DeviceInfo, KktError> {
        drop(self.guard()?);
        Ok(DeviceInfo {
            vendor: "ШТРИХ-М".into(),
            model: "ШТРИХ-М-01Ф (sim)".into(),
            serial: "0012345678".into(),
            firmware: "A4.1".into(),
            ffd_version: "1.2".into(),
            tax_systems: vec![TaxSystem::General, TaxSystem::SimplifiedIncome],
            inn: Some("7700000000".into()),
            clock: None,
        })
    }
    fn status(&mut self) -> Result<DeviceStatus, KktError> {
        let mut s = self.guard()?;
        s.reads += 1;
        Ok(DeviceStatus {
            paper_present: s.paper,
            cover_open: false,
            receipt_open: s.receipt_open,
            awaiting_continue: s.awaiting_continue,
            mode: 0,
            submode: 0,
        })
    }
    fn fn_info(&mut self) -> Result<FnInfo, KktError> {
        let mut s = self.guard()?;
        s.reads += 1;
        Ok(FnInfo {
            serial: s.fn_serial.clone(),
            valid_until: s.fn_valid_until,
            last_fd_number: s.last_fd(),
            version: None,
            warnings: FnWarnings::default(),
            ofd_unsent_count: s.ofd_backlog.map_or(0, |(n, _)| n),
            ofd_first_unsent_number: s.ofd_backlog.map(|_| 1),
            ofd_first_unsent_at: s.ofd_backlog.map(|(_, at)| at),
        })
    }
    fn shift_state(&mut self) -> Result<ShiftState, KktError> {
        let mut s = self.guard()?;
        s.reads += 1;
        Ok(match s.shift_open {
            None => ShiftState::Closed {
                last_number: s.last_shift,
            },
            Some((number, receipts, false)) => ShiftState::Open {
                number,
                opened_at: None,
                receipts,
            },
            Some((number, receipts, true)) => ShiftState::Expired {
                number,
                opened_at: None,
                receipts,
            },
        })
    }
    fn open_shift(&mut self, _cashier: &str) -> Result<ShiftOpened, KktError> {
        let mut s = self.guard()?;
        if s.shift_open.is_some() {
            return Err(dev_err(0x16, "смена открыта", ErrorClass::Device));
        }
        s.last_shift += 1;
        let n = s.last_shift;
        s.shift_open = Some((n, 0, false));
        let doc = s.next_doc(DocumentKind::ShiftOpen, None, None);
        Ok(ShiftOpened {
            shift_number: n,
            doc,
        })
    }
    fn close_shift(&mut self, _cashier: &str) -> Result<ShiftClosed, KktError> {
        let mut s = self.guard()?;
        let Some((n, receipts, _)) = s.shift_open else {
            return Err(dev_err(0x16, "смена закрыта", ErrorClass::Device));
        };
        let open_fd = s
            .archive
            .iter()
            .rposition(|d| d.kind == DocumentKind::ShiftOpen)
            .unwrap_or(0) as u32
            + 1;
        let doc = s.next_doc(DocumentKind::ShiftClose, None, None);
        s.shift_open = None;
        Ok(ShiftClosed {
            shift_number: n,
            doc,
            receipts_in_shift: receipts,
            documents_in_shift: doc.number - open_fd + 1,
        })
    }
    fn print_receipt_keyed(
        &mut self,
        receipt: &Receipt,
        key: &str,
    ) -> Result<ReceiptPrinted, KktError> {
        self.guard()?.print_keys.push(key.to_string());
        self.print_receipt(receipt)
    }
    fn print_receipt(&mut self, receipt: &Receipt) -> Result<ReceiptPrinted, KktError> {
        let mut s = self.guard()?;
        let Some((n, receipts, expired)) = s.shift_open else {
            return Err(dev_err(0x16, "смена не открыта", ErrorClass::Device));
        };
        if expired {
            return Err(dev_err(
                0x4E,
                "смена превысила 24 часа",
                ErrorClass::ShiftExpired,
            ));
        }
        if s.receipt_open {
            return Err(dev_err(0x4A, "открыт чек", ErrorClass::Device));
        }
        if !s.paper {
            return Err(dev_err(0x6B, "нет бумаги", ErrorClass::Paper));
        }
        if s.fn_full {
            return Err(dev_err(
                0x14,
                "ФН: исчерпан ресурс хранения",
                ErrorClass::FiscalStorage,
            ));
        }
        if s.refuse_next {
            s.refuse_next = false;
            return Err(dev_err(
                0x33,
                "некорректные параметры в команде",
                ErrorClass::BadData,
            ));
        }
        s.receipt_open = true;
        if s.paper_out_before_close {
            s.paper_out_before_close = false;
            s.paper = false;
            return Err(dev_err(0x6B, "нет бумаги", ErrorClass::Paper));
        }
        let total = receipt.total();
        let doc = s.next_doc(DocumentKind::Receipt, Some(receipt.kind.operation()), total);
        s.receipt_open = false;
        s.shift_open = Some((n, receipts + 1, false));
        s.printed.push(receipt.clone());
        if s.paper_out_after_close {
            s.paper_out_after_close = false;
            s.paper = false;
            s.awaiting_continue = true;
            return Err(dev_err(0x6B, "нет бумаги", ErrorClass::Paper));
        }
        if s.link_lost_after_close {
            s.link_lost_after_close = false;
            s.link_down = true;
            return Err(KktError::Link("sim: cable pulled".into()));
        }
        Ok(ReceiptPrinted {
            doc,
            receipt_number: receipts + 1,
            shift_number: n,
            total: total.unwrap_or_default(),
        })
    }
    fn cancel_receipt(&mut self) -> Result<(), KktError> {
        let mut s = self.guard()?;
        if !s.receipt_open {
            return Err(dev_err(0x4B, "чек не открыт", ErrorClass::BadData));
        }
        s.receipt_open = false;
        s.cancels += 1;
        Ok(())
    }
    fn continue_print(&mut self) -> Result<(), KktError> {
        let mut s = self.guard()?;
        if !s.paper {
            return Err(dev_err(0x6B, "нет бумаги", ErrorClass::Paper));
        }
        s.awaiting_continue = false;
        s.continues += 1;
        Ok(())
    }
    fn read_document(&mut self, number: u32) -> Result<ArchivedDocument, KktError> {
        let s = self.guard()?;
        s.archive
            .get(number.wrapping_sub(1) as usize)
            .copied()
            .ok_or_else(|| dev_err(0x08, "документ не найден", ErrorClass::BadData))
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

/// Cloud-like queue: hands out the first unsettled operation.
#[derive(Default)]
pub struct ScriptedSource {
    pub inner: Mutex<SourceInner>,
}

#[derive(Default)]
pub struct SourceInner {
    pub queue: VecDeque<SourceOperation>,
    pub all: Vec<SourceOperation>,
    pub delivered: Vec<OutboxMessage>,
    pub fail_deliveries: u32,
    /// Approves/rejects to refuse with a 4xx, one per delivery attempt.
    pub refuse_answers: u32,
    /// openshift/closeshift to refuse with a 4xx, one per delivery attempt.
    pub refuse_shift_messages: u32,
    /// Messages refused so far.
    pub refused: Vec<OutboxMessage>,
    pub fail_polls: u32,
    pub states: u32,
    pub polls: u32,
}

impl ScriptedSource {
    pub fn push(&self, id: &str, input: Result<OperationInput, RejectReason>) {
        let op = SourceOperation {
            id: id.into(),
            body: format!("{{\"id\":\"{id}\"}}"),
            kind: "retaildemand".into(),
            reference: serde_json::json!({ "href": format!("https://x/entity/retaildemand/syncid/{id}") }),
            input,
        };
        let mut s = self.inner.lock().unwrap();
        s.queue.push_back(op.clone());
        s.all.push(op);
    }
    pub fn lock(&self) -> std::sync::MutexGuard<'_, SourceInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ReceiptSource for ScriptedSource {
    async fn poll(&self) -> Result<Polled, SourceError> {
        let mut s = self.lock();
        s.polls += 1;
        if s.fail_polls > 0 {
            s.fail_polls -= 1;
            return Err(SourceError::Transient {
                message: "503".into(),
                retry_after: None,
                shop: None,
            });
        }
        Ok(match s.queue.front() {
            Some(op) => Polled::Operation(Box::new(op.clone())),
            None => Polled::Empty,
        })
    }
    async fn deliver(&self, msg: &OutboxMessage) -> Result<(), SourceError> {
        let mut s = self.lock();
        if s.fail_deliveries > 0 {
            s.fail_deliveries -= 1;
            return Err(SourceError::Transient {
                message: "502".into(),
                retry_after: None,
                shop: None,
            });
        }
        let refuse = if msg.op_id().is_some() {
            &mut s.refuse_answers
        } else {
            &mut s.refuse_shift_messages
        };
        if *refuse > 0 {
            *refuse -= 1;
            s.refused.push(msg.clone());
            return Err(SourceError::Permanent {
                status: 412,
                message: "refused".into(),
            });
        }
        if let Some(id) = msg.op_id() {
            s.queue.retain(|o| o.id != id);
        }
        s.delivered.push(msg.clone());
        Ok(())
    }
    async fn report_state(&self, _report: &StateReport) -> Result<(), SourceError> {
        self.lock().states += 1;
        Ok(())
    }
    fn decode(&self, id: &str, _body: &str) -> SourceOperation {
        let s = self.lock();
        s.all
            .iter()
            .find(|o| o.id == id)
            .cloned()
            .unwrap_or_else(|| SourceOperation {
                id: id.into(),
                body: String::new(),
                kind: "retaildemand".into(),
                reference: serde_json::Value::Null,
                input: Err(RejectReason("unknown".into())),
            })
    }
}
