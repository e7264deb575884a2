//! One simulated ATOL printer: executes one JSON task against the FN of
//! `sim-fn` and answers as the ATOL driver would (result JSON or a driver
//! error code).

use atol::decimal::Rubles;
use atol::envelope::ErrorBody;
use atol::error_codes::code;
use atol::result::{
    DeviceInfoBody, DeviceInfoResult, DeviceStatusBody, DeviceStatusResult, FiscalParams,
    FiscalResult, FiscalWarnings, FnDocumentBody, FnDocumentResult, FnInfoBody, FnInfoResult,
    FnStatusBody, FnStatusResult, FnWarningsBody, OfdExchangeBody, OfdExchangeResult,
    ShiftStateName, ShiftStatusBody, ShiftStatusResult,
};
use atol::task::{Item, PaymentMethod, PositionItem, ReceiptTask, Task};
use jiff::civil::DateTime;
use kkt::Money;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sim_fn::clock::Clock;
use sim_fn::storage::{ArchivedPosition, Document, FnRefusal, FnStorage};

/// Fault switches, set by tests and the control API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// No paper: nothing printing is done.
    #[serde(default)]
    pub paper_out: bool,
    /// The next receipt is signed by the FN, then the paper runs out.
    #[serde(default)]
    pub paper_out_mid_receipt: bool,
    #[serde(default)]
    pub cover_open: bool,
    /// The next fiscal task fails with this driver code (FN trouble).
    #[serde(default)]
    pub fn_error: Option<i32>,
}

/// The printer and its FN; what the state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AtolDevice {
    pub serial: String,
    pub fn_storage: FnStorage,
    pub faults: Faults,
    /// A signed document waits for `continuePrint`.
    pub unprinted: bool,
    /// FFD 1.2 marking codes checked and accepted for the next receipt.
    #[serde(default)]
    pub marking: crate::marking::MarkingDesk,
    #[serde(skip)]
    pub clock: Clock,
}

type TaskOutcome = Result<Value, ErrorBody>;

fn err(code: i32, description: &str) -> ErrorBody {
    ErrorBody {
        code,
        description: description.to_string(),
    }
}

fn refusal(r: FnRefusal) -> ErrorBody {
    match r {
        FnRefusal::ShiftExpired => err(code::SHIFT_EXPIRED, "Смена превысила 24 часа"),
        FnRefusal::NoData => err(code::FN_NO_MORE_DATA, "Нет запрошенных данных в ФН"),
        FnRefusal::WrongState => err(code::FN_INVALID_STATE, "Неверное состояние ФН"),
    }
}

fn iso(t: DateTime) -> String {
    format!("{}+03:00", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn to_value<T: Serialize>(v: &T) -> TaskOutcome {
    serde_json::to_value(v).map_err(|e| err(code::INVALID_PARAM, &e.to_string()))
}

impl AtolDevice {
    pub fn new(clock: Clock) -> Self {
        AtolDevice::numbered(clock, 1)
    }

    /// Printer number `n` of a server serving several: its own serial
    /// number and FN (`n` = 1 is the printer of [`AtolDevice::new`]).
    pub fn numbered(clock: Clock, n: u32) -> Self {
        let now = clock.now();
        AtolDevice {
            serial: format!("001067{n:08}"),
            fn_storage: FnStorage::new(&format!("99604403{n:08}"), now),
            faults: Faults::default(),
            unprinted: false,
            marking: Default::default(),
            clock,
        }
    }

    fn params(&self, d: &Document) -> FiscalParams {
        FiscalParams {
            fiscal_document_number: d.number,
            fiscal_document_sign: d.fiscal_sign.to_string(),
            fiscal_document_date_time: iso(d.time),
            fiscal_receipt_number: d.receipt_number.map(u32::from),
            shift_number: Some(u32::from(d.shift_number)),
            fn_number: Some(self.fn_storage.serial.clone()),
            registration_number: Some("0000000001012345".into()),
            total: d.total.map(|t| Rubles(Money(t as i64))),
            fns_url: Some("www.nalog.gov.ru".into()),
        }
    }

    /// Checks the printing mechanism and the one-shot FN fault.
    fn ready_to_print(&mut self) -> Result<(), ErrorBody> {
        if self.faults.cover_open {
            return Err(err(code::COVER_OPENED, "Открыта крышка"));
        }
        if self.faults.paper_out || self.unprinted {
            return Err(err(code::NO_PAPER, "Нет бумаги"));
        }
        if let Some(c) = self.faults.fn_error.take() {
            return Err(err(c, "Ошибка ФН"));
        }
        Ok(())
    }

    fn signed(&mut self, d: Document) -> TaskOutcome {
        let mut warnings = FiscalWarnings::default();
        if std::mem::take(&mut self.faults.paper_out_mid_receipt) {
            self.faults.paper_out = true;
            self.unprinted = true;
            warnings.not_printed = true;
        }
        to_value(&FiscalResult {
            fiscal_params: self.params(&d),
            warnings: Some(warnings),
        })
    }

    fn receipt(&mut self, operation: u8, t: &ReceiptTask) -> TaskOutcome {
        let now = self.clock.now();
        self.fn_storage
            .check_receipt_allowed(now)
            .map_err(|r| match r {
                FnRefusal::WrongState => err(code::DENIED_IN_CLOSED_SHIFT, "Смена закрыта"),
                other => refusal(other),
            })?;
        let mut total: i64 = 0;
        let mut positions = 0;
        let mut archived = Vec::new();
        for item in &t.items {
            if let Item::Position(p) = item {
                positions += 1;
                archived.push(archived_position(p));
                total = total
                    .checked_add(p.amount.0.0)
                    .ok_or_else(|| err(63, "Переполнение итога чека"))?;
            }
        }
        if positions == 0 {
            return Err(err(code::NO_REQUIRED_PARAM, "Нет позиций"));
        }
        if t.total.is_some_and(|declared| declared.0.0 != total) {
            return Err(err(
                code::INVALID_PARAM,
                "Итог не совпадает с суммой позиций",
            ));
        }
        let paid = t
            .payments
            .iter()
            .try_fold(0i64, |a, p| a.checked_add(p.sum.0.0));
        if paid.is_none_or(|p| p < total) {
            return Err(err(code::NOT_FULLY_PAID, "Чек оплачен не полностью"));
        }
        self.ready_to_print()?;
        let total =
            u64::try_from(total).map_err(|_| err(code::INVALID_PARAM, "Отрицательный итог"))?;
        let codes_left = self.marking.without_codes_of(t)?;
        let d = self
            .fn_storage
            .commit_receipt(now, operation, total, archived)
            .map_err(refusal)?;
        self.marking.accepted = codes_left;
        self.signed(d)
    }

    /// Executes one task.
    pub fn execute(&mut self, task: &Task) -> TaskOutcome {
        let now = self.clock.now();
        match task {
            Task::BeginMarkingCodeValidation(_)
            | Task::GetMarkingCodeValidationStatus {}
            | Task::AcceptMarkingCode {}
            | Task::DeclineMarkingCode {}
            | Task::CancelMarkingCodeValidation {}
            | Task::ClearMarkingCodeValidationResult {} => self.marking.execute(task),
            Task::Sell(t) => self.receipt(1, t),
            Task::SellReturn(t) => self.receipt(2, t),
            Task::Buy(t) => self.receipt(3, t),
            Task::BuyReturn(t) => self.receipt(4, t),
            Task::OpenShift(_) => {
                if self.fn_storage.shift.open {
                    return Err(err(code::DENIED_IN_OPENED_SHIFT, "Смена открыта"));
                }
                self.ready_to_print()?;
                let d = self.fn_storage.open_shift(now).map_err(refusal)?;
                self.signed(d)
            }
            Task::CloseShift(_) => {
                if !self.fn_storage.shift.open {
                    return Err(err(code::DENIED_IN_CLOSED_SHIFT, "Смена закрыта"));
                }
                self.ready_to_print()?;
                let d = self.fn_storage.close_shift(now).map_err(refusal)?;
                self.signed(d)
            }
            Task::ReportX(_) | Task::NonFiscal(_) => {
                self.ready_to_print()?;
                Ok(json!({}))
            }
            Task::CashIn(_) | Task::CashOut(_) => {
                self.fn_storage
                    .check_receipt_allowed(now)
                    .map_err(|_| err(code::DENIED_IN_CLOSED_SHIFT, "Смена закрыта"))?;
                self.ready_to_print()?;
                Ok(json!({}))
            }
            Task::ContinuePrint {} => {
                if self.faults.paper_out {
                    return Err(err(code::NO_PAPER, "Нет бумаги"));
                }
                self.unprinted = false;
                Ok(json!({}))
            }
            Task::GetDeviceInfo {} => to_value(&DeviceInfoResult {
                device_info: DeviceInfoBody {
                    model: 61,
                    model_name: "АТОЛ 30Ф".into(),
                    serial: self.serial.clone(),
                    firmware_version: "5.8.100".into(),
                    configuration_version: Some("5.8.100.0".into()),
                    receipt_line_length: Some(32),
                    ffd_version: Some("1.2".into()),
                    fn_ffd_version: Some("1.2".into()),
                },
            }),
            Task::GetDeviceStatus {} => to_value(&DeviceStatusResult {
                device_status: DeviceStatusBody {
                    current_date_time: Some(iso(now)),
                    shift: self.shift_name(now),
                    blocked: self.unprinted,
                    cover_opened: self.faults.cover_open,
                    paper_present: !self.faults.paper_out,
                    fiscal: true,
                    fn_fiscal: true,
                    fn_present: true,
                    cash_drawer_opened: false,
                    document_not_printed: self.unprinted,
                },
            }),
            Task::GetShiftStatus {} => {
                let s = &self.fn_storage.shift;
                to_value(&ShiftStatusResult {
                    shift_status: ShiftStatusBody {
                        state: self.shift_name(now),
                        number: u32::from(s.number),
                        expired_time: s
                            .opened_at
                            .filter(|_| s.open)
                            .and_then(|t| t.checked_add(jiff::Span::new().hours(24)).ok())
                            .map(iso),
                        documents_count: Some(if s.open { s.documents } else { 0 }),
                    },
                })
            }
            Task::GetFnInfo {} => to_value(&FnInfoResult {
                fn_info: FnInfoBody {
                    serial: self.fn_storage.serial.clone(),
                    version: Some("fn-sim 1.0".into()),
                    validity_date: Some(format!("{}T00:00:00+03:00", self.fn_storage.valid_until)),
                    ffd_version: Some("1.2".into()),
                    live_phase: Some("fiscalMode".into()),
                    warnings: Some(FnWarningsBody::default()),
                },
            }),
            Task::GetFnStatus {} => to_value(&FnStatusResult {
                fn_status: FnStatusBody {
                    fiscal_document_number: self.fn_storage.last_fd(),
                    fiscal_receipt_number: if self.fn_storage.shift.open {
                        u32::from(self.fn_storage.shift.receipts)
                    } else {
                        0
                    },
                    warnings: FnWarningsBody::default(),
                },
            }),
            Task::OfdExchangeStatus {} => {
                let first = self.fn_storage.first_unsent();
                to_value(&OfdExchangeResult {
                    status: OfdExchangeBody {
                        not_sent_count: self.fn_storage.unsent_count(),
                        not_sent_first_doc_number: first.map(|d| d.number),
                        not_sent_first_doc_date_time: first.map(|d| iso(d.time)),
                    },
                })
            }
            Task::GetFnDocument(q) => {
                let d = self
                    .fn_storage
                    .find(q.fiscal_document_number)
                    .map_err(refusal)?;
                to_value(&FnDocumentResult {
                    document: FnDocumentBody {
                        document_type: d.kind,
                        fiscal_document_number: d.number,
                        fiscal_document_sign: d.fiscal_sign.to_string(),
                        fiscal_document_date_time: iso(d.time),
                        shift_number: Some(u32::from(d.shift_number)),
                        operation_type: d.operation,
                        total: d.total.map(|t| Rubles(Money(t as i64))),
                    },
                })
            }
        }
    }

    fn shift_name(&self, now: DateTime) -> ShiftStateName {
        if !self.fn_storage.shift.open {
            ShiftStateName::Closed
        } else if self.fn_storage.shift_expired(now) {
            ShiftStateName::Expired
        } else {
            ShiftStateName::Opened
        }
    }
}

/// A position as the FN archives it (tag 1059). Negative amounts cannot
/// reach here: the receipt's total was checked first, and a negative line
/// is stored as 0 rather than wrapped.
fn archived_position(p: &PositionItem) -> ArchivedPosition {
    let method = PaymentMethod::ALL
        .iter()
        .position(|m| *m == p.payment_method)
        .map_or(0, |i| i as u8 + 1);
    ArchivedPosition {
        name: p.name.clone(),
        quantity: u64::try_from(p.quantity.0.0).unwrap_or(0),
        price: u64::try_from(p.price.0.0).unwrap_or(0),
        sum: u64::try_from(p.amount.0.0).unwrap_or(0),
        vat: None,
        method,
        object: p.payment_object.ffd_code(),
        measure: p.measurement_unit,
    }
}
