//! `kkt::Kkt` over the ATOL Web-server.
//!
//! Exactly-once: every receipt request carries a uuid derived from a key, so
//! posting the same receipt again (after a timeout, a lost answer or an agent
//! crash) finds the first request instead of printing a second receipt. The
//! key is the caller's (operation id + attempt, [`kkt::Kkt::print_receipt_keyed`])
//! or, without one, the FN serial, the number the receipt's document will
//! get and the receipt's content — a receipt that did not make it into the FN
//! leaves that number free, so its retry lands on the same uuid. A request
//! that ended without a document (paper out before the FN signed, an FN
//! refusal) spends its uuid; the retry moves on to the key's next uuid.

use crate::decimal::Rubles;
use crate::envelope::{RequestState, TaskResult, TaskStatus};
use crate::error_codes::to_kkt_error;
use crate::receipt_task::{operator, receipt_task};
use crate::result::{
    DeviceInfoResult, DeviceStatusResult, FiscalParams, FiscalResult, FnDocumentResult,
    FnInfoResult, FnStatusResult, MarkingCheckBegun, MarkingCheckStatus, OfdExchangeResult,
    ShiftStateName, ShiftStatusResult,
};
use crate::task::{
    CashTask, FnDocumentQuery, Item, ItemInfoCheckResult, MarkingCheck, MarkingCheckTask,
    NonFiscalTask, OperatorTask, Task, TextItem,
};
use crate::transport::{Posted, TransportError, WebServer, WebServerConfig};
use kkt::{
    ArchivedDocument, DateTime, DeviceInfo, DeviceStatus, DocumentKind, FiscalDoc, FnInfo,
    FnWarnings, Kkt, KktError, Money, Operation, Receipt, ReceiptPrinted, ShiftClosed, ShiftOpened,
    ShiftState,
};
use serde::de::DeserializeOwned;

/// How many spent uuids of one key are skipped before giving up.
const MAX_ATTEMPTS_PER_KEY: u32 = 64;

/// An ATOL printer behind a Web-server.
pub struct AtolDriver {
    server: WebServer,
    /// A document was signed but not printed (paper ran out): the next
    /// `status` reports it until `continuePrint` succeeds.
    unprinted: bool,
}

/// A stable request uuid for `key` and its `attempt`-th try.
pub fn request_uuid(key: &str, attempt: u32) -> String {
    fn fnv(seed: u64, bytes: &[u8]) -> u64 {
        let mut h = seed;
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h
    }
    let text = format!("masterkassa/atol/{attempt}/{key}");
    let hi = fnv(0xcbf2_9ce4_8422_2325, text.as_bytes());
    let lo = fnv(0x84222325_cbf29ce4, text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    // RFC 9562 version 8 (custom) with the standard variant.
    bytes[6] = (bytes[6] & 0x0F) | 0x80;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn link(e: TransportError) -> KktError {
    match e {
        TransportError::Malformed { .. } => KktError::Protocol(e.to_string()),
        other => KktError::Link(other.to_string()),
    }
}

fn parse_time(text: &str) -> Option<DateTime> {
    text.get(..19)?.parse().ok()
}

fn fiscal_doc(p: &FiscalParams) -> Result<FiscalDoc, KktError> {
    let fiscal_sign = p.fiscal_document_sign.trim().parse().map_err(|_| {
        KktError::Protocol(format!(
            "fiscal sign {:?} is not a number",
            p.fiscal_document_sign
        ))
    })?;
    let time = parse_time(&p.fiscal_document_date_time).ok_or_else(|| {
        KktError::Protocol(format!(
            "fiscal document time {:?} is not ISO-8601",
            p.fiscal_document_date_time
        ))
    })?;
    Ok(FiscalDoc {
        number: p.fiscal_document_number,
        fiscal_sign,
        time,
    })
}

/// The typed result of one final task, or its error.
fn task_result<T: DeserializeOwned>(task: &str, r: &TaskResult) -> Result<T, KktError> {
    match r.status {
        TaskStatus::Ready => {
            let value = r.result.clone().unwrap_or(serde_json::Value::Null);
            parse_result(task, value)
        }
        TaskStatus::Error => {
            let (code, text) = r
                .error
                .as_ref()
                .map(|e| (e.code, e.description.as_str()))
                .unwrap_or((-1, ""));
            Err(to_kkt_error(task, code, text))
        }
        other => Err(KktError::Protocol(format!(
            "task {task} ended as {other:?}"
        ))),
    }
}

fn parse_result<T: DeserializeOwned>(task: &str, value: serde_json::Value) -> Result<T, KktError> {
    serde_json::from_value(value)
        .map_err(|e| KktError::Protocol(format!("result of {task} is malformed: {e}")))
}

/// The items of a receipt task (none for other tasks).
fn receipt_items(task: &mut Task) -> &mut [Item] {
    match task {
        Task::Sell(t) | Task::SellReturn(t) | Task::Buy(t) | Task::BuyReturn(t) => &mut t.items,
        _ => &mut [],
    }
}

fn has_marking_codes(task: &Task) -> bool {
    match task {
        Task::Sell(t) | Task::SellReturn(t) | Task::Buy(t) | Task::BuyReturn(t) => t
            .items
            .iter()
            .any(|i| matches!(i, Item::Position(p) if p.imc_params.is_some())),
        _ => false,
    }
}

impl AtolDriver {
    pub fn new(cfg: WebServerConfig) -> Result<Self, KktError> {
        Ok(AtolDriver {
            server: WebServer::new(cfg).map_err(link)?,
            unprinted: false,
        })
    }

    pub fn server(&self) -> &WebServer {
        &self.server
    }

    /// Runs tasks in one fresh request and returns their final states.
    fn run(&mut self, tasks: &[Task]) -> Result<RequestState, KktError> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let state = self.server.run(&uuid, tasks).map_err(link)?;
        if state.results.len() != tasks.len() {
            return Err(KktError::Protocol(format!(
                "request {uuid}: {} tasks sent, {} results",
                tasks.len(),
                state.results.len()
            )));
        }
        Ok(state)
    }

    fn one<T: DeserializeOwned>(&mut self, task: Task) -> Result<T, KktError> {
        let name = task.name();
        let state = self.run(&[task])?;
        task_result(name, &state.results[0])
    }

    fn two<A: DeserializeOwned, B: DeserializeOwned>(
        &mut self,
        a: Task,
        b: Task,
    ) -> Result<(A, B), KktError> {
        let (na, nb) = (a.name(), b.name());
        let state = self.run(&[a, b])?;
        Ok((
            task_result(na, &state.results[0])?,
            task_result(nb, &state.results[1])?,
        ))
    }

    fn fiscal(&mut self, task: Task) -> Result<FiscalResult, KktError> {
        let r: FiscalResult = self.one(task)?;
        self.note_warnings(&r);
        Ok(r)
    }

    fn note_warnings(&mut self, r: &FiscalResult) {
        if r.warnings.as_ref().is_some_and(|w| w.not_printed) {
            tracing::warn!(
                fd = r.fiscal_params.fiscal_document_number,
                "document signed but not printed; waiting for continuePrint"
            );
            self.unprinted = true;
        }
    }

    fn fn_status(&mut self) -> Result<FnStatusResult, KktError> {
        self.one(Task::GetFnStatus {})
    }

    /// Posts the receipt under `key` and returns what the server made of it,
    /// never running it twice (see the module comment).
    fn print_under_key(
        &mut self,
        receipt: &Receipt,
        key: &str,
    ) -> Result<ReceiptPrinted, KktError> {
        let mut task = receipt_task(receipt)?;
        let name = task.name();
        let expected_total = receipt.total();
        for attempt in 0..MAX_ATTEMPTS_PER_KEY {
            let uuid = request_uuid(key, attempt);
            // A request the server already holds was checked before it was
            // posted; checking again would leave an accepted code behind.
            if has_marking_codes(&task) && !self.server.knows(&uuid).map_err(link)? {
                self.check_marking_codes(&mut task)?;
            }
            let posted = self
                .server
                .post(&uuid, std::slice::from_ref(&task))
                .map_err(link)?;
            let state = match self.server.wait(&uuid) {
                Ok(s) => s,
                Err(TransportError::UnknownRequest { .. }) => {
                    // The server lost the request's result; only the FN can
                    // still say whether the receipt was made.
                    return self.recover_from_fn(receipt, key);
                }
                Err(e) => return Err(link(e)),
            };
            let Some(r) = state.results.first() else {
                return Err(KktError::Protocol(format!("request {uuid} has no result")));
            };
            match r.status {
                TaskStatus::Ready => {
                    let fr: FiscalResult = task_result(name, r)?;
                    self.note_warnings(&fr);
                    let p = &fr.fiscal_params;
                    let total = p
                        .total
                        .map(|t| t.0)
                        .or(expected_total)
                        .unwrap_or(Money::ZERO);
                    return Ok(ReceiptPrinted {
                        doc: fiscal_doc(p)?,
                        receipt_number: p.fiscal_receipt_number.unwrap_or(0),
                        shift_number: p.shift_number.unwrap_or(0),
                        total,
                    });
                }
                TaskStatus::Error | TaskStatus::Interrupted | TaskStatus::Canceled
                    if posted == Posted::AlreadyKnown =>
                {
                    tracing::info!(%uuid, "earlier request of this receipt made no document; posting anew");
                    continue;
                }
                _ => return task_result(name, r),
            }
        }
        Err(KktError::Protocol(format!(
            "receipt key {key}: {MAX_ATTEMPTS_PER_KEY} requests made no document"
        )))
    }

    /// FFD 1.2: has the FN (and the OISM, when reachable) check every
    /// marking code of the receipt, accepts each that passed into the next
    /// receipt, and writes each verdict (tag 2106) into its position. A
    /// code the FN's own check refuses rejects the receipt: it is not
    /// printed. Codes accepted earlier and never used are cleared first.
    fn check_marking_codes(&mut self, task: &mut Task) -> Result<(), KktError> {
        let _: serde_json::Value = self.one(Task::CancelMarkingCodeValidation {})?;
        let _: serde_json::Value = self.one(Task::ClearMarkingCodeValidationResult {})?;
        for (name, imc) in receipt_items(task)
            .iter_mut()
            .filter_map(|item| match item {
                Item::Position(p) => p.imc_params.as_mut().map(|imc| (p.name.clone(), imc)),
                Item::Text(_) => None,
            })
        {
            let check = MarkingCheck {
                code: imc.code.clone(),
                item_quantity: Some(1),
                item_units: Some("piece".into()),
            };
            let begun: MarkingCheckBegun =
                self.one(Task::BeginMarkingCodeValidation(MarkingCheckTask {
                    params: check,
                }))?;
            if let Some(off) = begun
                .offline_validation
                .filter(|o| o.fm_check && !o.fm_check_result)
            {
                // Nothing of this receipt stays accepted for another one.
                let _: serde_json::Value = self.one(Task::DeclineMarkingCode {})?;
                let _: serde_json::Value = self.one(Task::ClearMarkingCodeValidationResult {})?;
                return Err(KktError::BadReceipt(format!(
                    "код маркировки позиции «{name}» не прошёл проверку ФН{}",
                    off.fm_check_error_reason
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )));
            }
            let status = self.marking_verdict()?;
            let verdict = status
                .online_validation
                .and_then(|o| o.item_info_check_result)
                // No OISM answer (offline): the FN's check is all there is.
                .unwrap_or(ItemInfoCheckResult {
                    imc_check_flag: true,
                    imc_check_result: true,
                    ecr_stand_alone_flag: true,
                    ..ItemInfoCheckResult::default()
                });
            let _: serde_json::Value = self.one(Task::AcceptMarkingCode {})?;
            imc.item_info_check_result = Some(verdict);
        }
        Ok(())
    }

    /// Polls the code's check until it is ready (the OISM may take a few
    /// seconds), within the task timeout.
    fn marking_verdict(&mut self) -> Result<MarkingCheckStatus, KktError> {
        let deadline = std::time::Instant::now() + self.server.config().task_timeout;
        loop {
            let status: MarkingCheckStatus = self.one(Task::GetMarkingCodeValidationStatus {})?;
            if status.ready {
                return Ok(status);
            }
            if std::time::Instant::now() > deadline {
                let _: serde_json::Value = self.one(Task::CancelMarkingCodeValidation {})?;
                return Err(KktError::Link(
                    "проверка кода маркировки не закончилась вовремя".into(),
                ));
            }
            std::thread::sleep(self.server.config().poll_interval);
        }
    }

    /// The result of a receipt request is gone: reads the FN's last document
    /// and accepts it only if it is a receipt of this kind and total made
    /// after the request was posted.
    fn recover_from_fn(
        &mut self,
        receipt: &Receipt,
        key: &str,
    ) -> Result<ReceiptPrinted, KktError> {
        let last = self.fn_status()?.fn_status.fiscal_document_number;
        let doc = self.read_document(last)?;
        let matches = doc.kind == DocumentKind::Receipt
            && doc.operation == Some(receipt.kind.operation())
            && doc.total == receipt.total();
        if !matches {
            return Err(KktError::Link(format!(
                "ATOL Web-server lost the result of receipt {key}, and the FN's last document {last} is not it"
            )));
        }
        tracing::warn!(
            key,
            fd = last,
            "receipt result lost by the server; taken from the FN archive"
        );
        let shift = self.shift_state()?.open_number().unwrap_or(0);
        let receipt_number = self.fn_status()?.fn_status.fiscal_receipt_number;
        Ok(ReceiptPrinted {
            doc: doc.doc,
            receipt_number,
            shift_number: shift,
            total: doc.total.unwrap_or(Money::ZERO),
        })
    }
}

impl Kkt for AtolDriver {
    fn device_info(&mut self) -> Result<DeviceInfo, KktError> {
        let (info, status): (DeviceInfoResult, DeviceStatusResult) =
            self.two(Task::GetDeviceInfo {}, Task::GetDeviceStatus {})?;
        let d = info.device_info;
        Ok(DeviceInfo {
            vendor: "АТОЛ".into(),
            model: d.model_name,
            serial: d.serial,
            firmware: d.firmware_version,
            ffd_version: d.ffd_version.unwrap_or_default(),
            tax_systems: Vec::new(),
            inn: None,
            clock: status
                .device_status
                .current_date_time
                .as_deref()
                .and_then(parse_time),
        })
    }

    fn status(&mut self) -> Result<DeviceStatus, KktError> {
        let s: DeviceStatusResult = self.one(Task::GetDeviceStatus {})?;
        let s = s.device_status;
        Ok(DeviceStatus {
            paper_present: s.paper_present,
            cover_open: s.cover_opened,
            // ATOL tasks print a whole receipt or none: none is left open.
            receipt_open: false,
            awaiting_continue: self.unprinted || s.document_not_printed,
            mode: 0,
            submode: 0,
        })
    }

    fn fn_info(&mut self) -> Result<FnInfo, KktError> {
        let tasks = [
            Task::GetFnInfo {},
            Task::GetFnStatus {},
            Task::OfdExchangeStatus {},
        ];
        let state = self.run(&tasks)?;
        let info: FnInfoResult = task_result("getFnInfo", &state.results[0])?;
        let status: FnStatusResult = task_result("getFnStatus", &state.results[1])?;
        let ofd: OfdExchangeResult = task_result("ofdExchangeStatus", &state.results[2])?;
        let w = status.fn_status.warnings;
        Ok(FnInfo {
            serial: info.fn_info.serial,
            valid_until: info
                .fn_info
                .validity_date
                .as_deref()
                .and_then(|d| d.get(..10)?.parse().ok()),
            last_fd_number: status.fn_status.fiscal_document_number,
            version: info.fn_info.version,
            warnings: FnWarnings {
                replace_urgent: w.need_replacement,
                resource_exhausted: w.resource_exhausted,
                memory_almost_full: w.memory_overflow,
                ofd_timeout: w.ofd_timeout,
                critical: w.critical_error,
            },
            ofd_unsent_count: ofd.status.not_sent_count,
            ofd_first_unsent_number: ofd.status.not_sent_first_doc_number,
            ofd_first_unsent_at: ofd
                .status
                .not_sent_first_doc_date_time
                .as_deref()
                .and_then(parse_time),
        })
    }

    fn shift_state(&mut self) -> Result<ShiftState, KktError> {
        let (shift, fns): (ShiftStatusResult, FnStatusResult) =
            self.two(Task::GetShiftStatus {}, Task::GetFnStatus {})?;
        let s = shift.shift_status;
        let opened_at = s
            .expired_time
            .as_deref()
            .and_then(parse_time)
            .and_then(|t| t.checked_sub(jiff::Span::new().hours(24)).ok());
        let receipts = fns.fn_status.fiscal_receipt_number;
        Ok(match s.state {
            ShiftStateName::Closed => ShiftState::Closed {
                last_number: s.number,
            },
            ShiftStateName::Opened => ShiftState::Open {
                number: s.number,
                opened_at,
                receipts,
            },
            ShiftStateName::Expired => ShiftState::Expired {
                number: s.number,
                opened_at,
                receipts,
            },
            ShiftStateName::Other => {
                return Err(KktError::Protocol("unknown shift state".into()));
            }
        })
    }

    fn open_shift(&mut self, cashier: &str) -> Result<ShiftOpened, KktError> {
        let r = self.fiscal(Task::OpenShift(OperatorTask {
            operator: operator(cashier),
        }))?;
        Ok(ShiftOpened {
            shift_number: r.fiscal_params.shift_number.unwrap_or(0),
            doc: fiscal_doc(&r.fiscal_params)?,
        })
    }

    fn close_shift(&mut self, cashier: &str) -> Result<ShiftClosed, KktError> {
        let (shift, fns): (ShiftStatusResult, FnStatusResult) =
            self.two(Task::GetShiftStatus {}, Task::GetFnStatus {})?;
        let r = self.fiscal(Task::CloseShift(OperatorTask {
            operator: operator(cashier),
        }))?;
        Ok(ShiftClosed {
            shift_number: r
                .fiscal_params
                .shift_number
                .unwrap_or(shift.shift_status.number),
            doc: fiscal_doc(&r.fiscal_params)?,
            receipts_in_shift: fns.fn_status.fiscal_receipt_number,
            // The close report itself is a document of the shift.
            documents_in_shift: shift.shift_status.documents_count.unwrap_or(0) + 1,
        })
    }

    fn print_receipt(&mut self, receipt: &Receipt) -> Result<ReceiptPrinted, KktError> {
        let task = receipt_task(receipt)?;
        let serial = {
            let info: FnInfoResult = self.one(Task::GetFnInfo {})?;
            info.fn_info.serial
        };
        let next_fd = self.fn_status()?.fn_status.fiscal_document_number + 1;
        let content = serde_json::to_string(&task)
            .map_err(|e| KktError::BadReceipt(format!("чек не сериализуется: {e}")))?;
        let key = format!("fn:{serial}:fd:{next_fd}:{content}");
        self.print_under_key(receipt, &key)
    }

    fn print_receipt_keyed(
        &mut self,
        receipt: &Receipt,
        key: &str,
    ) -> Result<ReceiptPrinted, KktError> {
        self.print_under_key(receipt, key)
    }

    fn cancel_receipt(&mut self) -> Result<(), KktError> {
        Err(KktError::BadReceipt(
            "на ККТ АТОЛ нет открытого чека: задания печатают чек целиком".into(),
        ))
    }

    fn continue_print(&mut self) -> Result<(), KktError> {
        let _: serde_json::Value = self.one(Task::ContinuePrint {})?;
        self.unprinted = false;
        Ok(())
    }

    fn read_document(&mut self, number: u32) -> Result<ArchivedDocument, KktError> {
        let r: FnDocumentResult = self.one(Task::GetFnDocument(FnDocumentQuery {
            fiscal_document_number: number,
        }))?;
        let d = r.document;
        let params = FiscalParams {
            fiscal_document_number: d.fiscal_document_number,
            fiscal_document_sign: d.fiscal_document_sign,
            fiscal_document_date_time: d.fiscal_document_date_time,
            fiscal_receipt_number: None,
            shift_number: d.shift_number,
            fn_number: None,
            registration_number: None,
            total: d.total,
            fns_url: None,
        };
        Ok(ArchivedDocument {
            kind: DocumentKind::from_code(d.document_type),
            doc: fiscal_doc(&params)?,
            operation: d.operation_type.and_then(Operation::from_code),
            total: d.total.map(|t| t.0),
        })
    }

    fn x_report(&mut self) -> Result<(), KktError> {
        let _: serde_json::Value = self.one(Task::ReportX(OperatorTask::default()))?;
        Ok(())
    }

    fn cash_in(&mut self, sum: Money) -> Result<(), KktError> {
        let _: serde_json::Value = self.one(Task::CashIn(CashTask {
            cash_sum: Rubles(sum),
            operator: None,
        }))?;
        Ok(())
    }

    fn cash_out(&mut self, sum: Money) -> Result<(), KktError> {
        let _: serde_json::Value = self.one(Task::CashOut(CashTask {
            cash_sum: Rubles(sum),
            operator: None,
        }))?;
        Ok(())
    }
}

impl AtolDriver {
    /// Prints a non-fiscal test page.
    pub fn print_test(&mut self, lines: &[&str]) -> Result<(), KktError> {
        let items = lines
            .iter()
            .map(|l| {
                Item::Text(TextItem {
                    text: (*l).to_string(),
                    alignment: None,
                })
            })
            .collect();
        let _: serde_json::Value = self.one(Task::NonFiscal(NonFiscalTask { items }))?;
        Ok(())
    }
}
