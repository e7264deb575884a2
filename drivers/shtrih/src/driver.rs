//! `ShtrihDriver`: the Shtrih-M implementation of [`kkt::Kkt`].
//!
//! Top of the stack: it turns device-neutral calls into sequences of
//! [`crate::commands`] sent over a [`crate::link::Link`], and device error
//! bytes into typed [`KktError`]s via [`crate::error_codes`].
//!
//! Exactly-once rules it keeps (ARCHITECTURE.md, "Exactly-once printing"):
//! - A command is only retried when the device said it did *not* run it
//!   (error 0x50 "printing the previous command" → wait and resend).
//! - If closing a receipt fails in any way (device error, lost answer,
//!   power cut), the driver asks the FN whether the receipt was signed: if
//!   the FN's last document is the one this receipt was to get, and it is a
//!   receipt with the same total, the receipt *is* fiscalised and
//!   `print_receipt` returns `Ok` — printing may be interrupted (paper out),
//!   which [`Kkt::status`] reports as `awaiting_continue` and the next
//!   `print_receipt` resumes with continue-print (0xB0) before anything else.
//!   A close the FN did not sign leaves the receipt open: the caller may
//!   cancel it, and the next `print_receipt` cancels it anyway (an open
//!   receipt is never fiscal).
//! - Shift open/close follow the vendor driver (0xFF41 → cashier TLV → 0xE0;
//!   0xFF42 → TLV → Z-report 0x41) and take their FD data from the FN
//!   archive, since the printer's own commands do not return it.

use crate::commands::{
    self, AcceptMarkingCode, BeginShiftClose, BeginShiftOpen, BindMarkingCode, CancelReceipt,
    CashIn, CashOut, CheckMarkingCode, CloseReceiptV2, Command, ContinuePrint, Cut, DecodeError,
    DeviceErrorCode, DeviceType, DocumentDetails, FindDocument, FnCancelDocument, FnStatus,
    FnStatusAnswer, FnValidity, FnVersion, FoundDocument, FullStatus, OPERATION_NAME_MAX,
    OfdExchangeStatus, OpenReceipt, OpenShift, OperationV2, PRINT_LINE_WIDTH, PrintLine,
    ReadDocumentBlock, ReadDocumentTlv, ReadTable, ShiftParams, ShortStatus, ShortStatusAnswer,
    TlvItem, WriteOperationTlv, WriteTlv, XReport, ZReport, item_status, payment_index, tlv,
    tlv_text,
};
use crate::error_codes;
use crate::link::{Link, LinkConfig, LinkError, Port, STANDARD_BAUD_RATES};
use crate::tax_code::{TaxCodeTable, tax_byte};
use crate::wire::cp1251_prefix;
use kkt::{
    ArchivedDocument, DeviceInfo, DeviceStatus, DocumentKind, FiscalDoc, FnInfo, FnWarnings, Kkt,
    KktError, MeasureUnit, Money, Operation, Receipt, ReceiptKind, ReceiptPrinted, ShiftClosed,
    ShiftOpened, ShiftState,
};
use std::time::{Duration, Instant};

/// FFD tags the driver sends.
mod tag {
    pub const BUYER_CONTACT: u16 = 1008;
    pub const CASHIER: u16 = 1021;
    pub const MEASURE: u16 = 2108;
}

/// Error code "printing the previous command": the command did not run.
const ERR_BUSY_PRINTING: u8 = 0x50;
/// Error code "no receipt paper" (also what the printer answers with the
/// cover open: the head cannot print).
const ERR_NO_PAPER: u8 = 0x6B;
/// Error code "document open, operation impossible".
const ERR_DOCUMENT_OPEN: u8 = 0x4A;

/// Longest text of tags 1008 (buyer contact) and 1021 (cashier), FFD.
const TAG_TEXT_MAX: usize = 64;
/// Longest marking code accepted: what fits 0xFF61 with room to spare
/// (real DataMatrix codes are under 150 bytes).
const MARKING_CODE_MAX: usize = 200;

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    /// Operator password sent with every command. 30 is the system
    /// administrator (factory default), who may run every command used here.
    pub password: u32,
    /// Department (section) positions are registered in.
    pub department: u8,
    /// How long to keep resending a command the device refuses with 0x50
    /// ("printing the previous command").
    pub busy_timeout: Duration,
    /// Pause between those resends.
    pub busy_poll: Duration,
    /// How many documents besides receipts (corrections, reports) may lie
    /// between a shift's open document and now; bounds the archive search
    /// for the open document.
    pub shift_scan_limit: u32,
    /// Upper bound on any command's answer timeout (the vendor defaults run
    /// to 120 s for a shift open); `None` keeps the per-command defaults.
    pub answer_timeout_limit: Option<Duration>,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            password: 30,
            department: 1,
            busy_timeout: Duration::from_secs(30),
            busy_poll: Duration::from_millis(200),
            shift_scan_limit: 64,
            answer_timeout_limit: None,
        }
    }
}

/// Line speed to use when opening a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    Fixed(u32),
    /// Try the standard rates until the device answers.
    Auto,
}

/// Device facts the positions of one receipt are encoded with.
#[derive(Debug, Clone, Copy)]
struct PositionPlan {
    tax_table: TaxCodeTable,
    send_measure: bool,
}

/// The measure (tag 2108) a position needs sent, if any. Pieces are the
/// device's default for 2108 (the vendor's FFD 1.2 note), and its JavaPOS
/// driver sends the tag only for another measure: one exchange per
/// position saved.
fn measure_to_send(p: &kkt::Position) -> Option<MeasureUnit> {
    p.measure.filter(|m| *m != MeasureUnit::PIECE)
}

/// `line` split into pieces that each fit the 0x17 print field; an empty
/// line stays one empty piece (a blank line on paper).
fn printable_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = line;
    loop {
        let part = cp1251_prefix(rest, PRINT_LINE_WIDTH);
        parts.push(part);
        rest = &rest[part.len()..];
        if rest.is_empty() || part.is_empty() {
            return parts;
        }
    }
}

/// A Shtrih-M fiscal printer behind a link.
pub struct ShtrihDriver<P: Port> {
    link: Link<P>,
    cfg: DriverConfig,
    /// Model number from 0xFC, read when first needed (it picks the
    /// tax-byte table for 22 % and 22/122).
    model: Option<u8>,
    /// Whether the device runs FFD 1.2, read when first needed (measure
    /// of quantity goes on the wire only then).
    ffd_1_2: Option<bool>,
    /// Commands sent so far: tells whether anything ran on the device
    /// since the last receipt.
    commands: u64,
    /// What the last receipt left known, while nothing else has run.
    chain: Option<ReceiptChain>,
}

/// The device's state right after a receipt closed cleanly: the next FD
/// number, the shift and the next receipt number are known from its
/// answers, and the paper, cover and mode were fine a moment ago. The next
/// receipt within [`CHAIN_WINDOW`], with no other command in between,
/// skips the short status, the FN status and the shift parameters (three
/// exchanges of about 27).
#[derive(Debug, Clone, Copy)]
struct ReceiptChain {
    /// `commands` when the receipt finished.
    after: u64,
    at: Instant,
    next_fd: u32,
    shift_number: u32,
    next_receipt_number: u32,
}

/// How long a clean receipt's facts are trusted for the next one: a
/// printer can run out of paper or have its cover opened at any time, but
/// then the next command fails with that error just as the status would
/// have said; the window bounds how old the FD and shift numbers may be.
const CHAIN_WINDOW: Duration = Duration::from_secs(3);

/// The driver on a real serial port (or PTY), as [`ShtrihDriver::open`] makes it.
#[cfg(unix)]
pub type SerialDriver = ShtrihDriver<crate::serial::SerialLine>;

#[cfg(unix)]
impl ShtrihDriver<crate::serial::SerialLine> {
    /// Opens the serial port (or PTY) at `path`; with [`Baud::Auto`] finds
    /// the device's speed first.
    pub fn open(path: &str, baud: Baud, cfg: DriverConfig) -> Result<Self, KktError> {
        let initial = match baud {
            Baud::Fixed(b) => b,
            Baud::Auto => STANDARD_BAUD_RATES[0],
        };
        let port = crate::serial::SerialLine::open(path, initial)
            .map_err(|e| KktError::Link(format!("open: {e}")))?;
        let mut link = Link::new(
            port,
            LinkConfig {
                baud: initial,
                ..LinkConfig::default()
            },
        );
        if baud == Baud::Auto {
            let probe = commands::request_frame(cfg.password, &ShortStatus);
            link.detect_baud(&STANDARD_BAUD_RATES, &probe)
                .map_err(|e| KktError::Link(format!("baud detection on {path}: {e}")))?;
        }
        Ok(ShtrihDriver::new(link, cfg))
    }
}

fn link_err(what: &str, e: LinkError) -> KktError {
    if let LinkError::Frame(f) = &e {
        // Nothing was sent: the data itself does not fit the protocol.
        return bad(format!(
            "{what}: данные не помещаются в кадр протокола ({f})"
        ));
    }
    let doubt = if e.may_have_executed() {
        " (the command may have run on the device)"
    } else {
        ""
    };
    KktError::Link(format!("{what}: {e}{doubt}"))
}

fn device_err<C: Command>(code: u8) -> KktError {
    let info = error_codes::lookup(code);
    KktError::Device {
        command: format!("{} {}", C::CODE, C::NAME),
        code,
        text: info.text.to_string(),
        class: info.class,
    }
}

fn bad(why: impl Into<String>) -> KktError {
    KktError::BadReceipt(why.into())
}

impl<P: Port> ShtrihDriver<P> {
    pub fn new(link: Link<P>, cfg: DriverConfig) -> Self {
        ShtrihDriver {
            link,
            cfg,
            model: None,
            ffd_1_2: None,
            commands: 0,
            chain: None,
        }
    }

    pub fn link(&self) -> &Link<P> {
        &self.link
    }

    pub fn link_mut(&mut self) -> &mut Link<P> {
        &mut self.link
    }

    pub fn config(&self) -> &DriverConfig {
        &self.cfg
    }

    pub fn into_link(self) -> Link<P> {
        self.link
    }

    /// Sends one command and decodes its answer; waits out 0x50 "busy
    /// printing" by resending (the device did not run the command).
    pub fn execute<C: Command>(&mut self, cmd: &C) -> Result<C::Answer, KktError> {
        self.commands += 1;
        let frame = commands::request_frame(self.cfg.password, cmd);
        let deadline = Instant::now() + self.cfg.busy_timeout;
        let timeout = match self.cfg.answer_timeout_limit {
            Some(limit) => cmd.timeout().min(limit),
            None => cmd.timeout(),
        };
        loop {
            let answer = self
                .link
                .transact(&frame, timeout)
                .map_err(|e| link_err(&format!("{} {}", C::CODE, C::NAME), e))?;
            for stale in self.link.take_stale_answers() {
                tracing::warn!(code = %stale.code, "device delivered an answer nobody waited for");
            }
            match commands::parse_answer::<C>(&answer) {
                Ok(Ok(a)) => return Ok(a),
                Ok(Err(DeviceErrorCode(ERR_BUSY_PRINTING))) if Instant::now() < deadline => {
                    std::thread::sleep(self.cfg.busy_poll);
                }
                Ok(Err(DeviceErrorCode(code))) => return Err(device_err::<C>(code)),
                Err(e @ (DecodeError::Wire(_) | DecodeError::WrongCode { .. })) => {
                    return Err(KktError::Protocol(format!("{} {}: {e}", C::CODE, C::NAME)));
                }
            }
        }
    }

    /// Prints non-fiscal text lines on the receipt tape (0x17 each, cut to
    /// the 40-byte field) and cuts the paper (0x25, partial): the engineer's
    /// print test.
    pub fn print_lines(&mut self, lines: &[String]) -> Result<(), KktError> {
        self.print_text(lines)?;
        self.execute(&Cut { partial: true }).map(|_| ())
    }

    /// Prints text lines with 0x17 on the receipt tape, as the vendor driver
    /// prints a receipt's header and trailer lines: a line longer than the
    /// print field is continued on the next line, cut at a character.
    fn print_text(&mut self, lines: &[String]) -> Result<(), KktError> {
        for line in lines {
            for part in printable_parts(line) {
                self.execute(&PrintLine {
                    flags: 0x02,
                    text: part.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// Reads a fiscal document's full TLV from the FN archive (0xFF3A, then
    /// 0xFF3B until the announced length is read).
    pub fn read_document_tlv(&mut self, number: u32) -> Result<Vec<TlvItem>, KktError> {
        let header = self.execute(&ReadDocumentTlv { number })?;
        let want = usize::from(header.length);
        let mut bytes = Vec::with_capacity(want);
        while bytes.len() < want {
            let block = self.execute(&ReadDocumentBlock)?;
            if block.bytes.is_empty() {
                break;
            }
            bytes.extend_from_slice(&block.bytes);
        }
        if bytes.len() != want {
            return Err(KktError::Protocol(format!(
                "document {number}: TLV announced {want} bytes, read {}",
                bytes.len()
            )));
        }
        commands::parse_tlv(&bytes)
            .map_err(|e| KktError::Protocol(format!("document {number} TLV: {e}")))
    }

    /// Line speed the link runs at (the detected one after [`Baud::Auto`]).
    pub fn baud(&self) -> u32 {
        self.link.config().baud
    }

    /// The tax-byte table of the device (0xFC model, read once).
    fn tax_table(&mut self) -> Result<TaxCodeTable, KktError> {
        let model = match self.model {
            Some(m) => m,
            None => {
                let m = self.execute(&DeviceType)?.model;
                self.model = Some(m);
                m
            }
        };
        Ok(TaxCodeTable::for_model(model))
    }

    /// Whether the device runs FFD 1.2 (table 17, read once). A device
    /// whose table cannot be read is taken as older: measure of quantity
    /// is then left to the device's default (pieces).
    fn runs_ffd_1_2(&mut self) -> bool {
        if let Some(known) = self.ffd_1_2 {
            return known;
        }
        let yes = match self.ffd_version() {
            Ok(v) => v == Some("1.2"),
            Err(e) => {
                tracing::warn!(error = %e, "FFD version not readable; measure of quantity not sent");
                false
            }
        };
        self.ffd_1_2 = Some(yes);
        yes
    }

    /// What the receipt's positions need to know about the device, asked
    /// before the receipt opens so no question interrupts it.
    fn position_plan(&mut self, receipt: &Receipt) -> Result<PositionPlan, KktError> {
        let needs_model = receipt.positions.iter().any(|p| {
            tax_byte(p.vat, TaxCodeTable::Standard) != tax_byte(p.vat, TaxCodeTable::Nano)
        });
        let tax_table = if needs_model {
            self.tax_table()?
        } else {
            TaxCodeTable::Standard
        };
        let send_measure = receipt
            .positions
            .iter()
            .any(|p| measure_to_send(p).is_some())
            && self.runs_ffd_1_2();
        Ok(PositionPlan {
            tax_table,
            send_measure,
        })
    }

    fn fn_status(&mut self) -> Result<FnStatusAnswer, KktError> {
        self.execute(&FnStatus)
    }

    fn short_status(&mut self) -> Result<ShortStatusAnswer, KktError> {
        self.execute(&ShortStatus)
    }

    fn find(&mut self, number: u32) -> Result<FoundDocument, KktError> {
        self.execute(&FindDocument { number })
    }

    /// FFD version from table 17 row 1 field 17 (vendor driver
    /// `getFDVersion`): 2 → 1.05, 3 → 1.1, 4 → 1.2.
    pub fn ffd_version(&mut self) -> Result<Option<&'static str>, KktError> {
        let v = self.execute(&ReadTable {
            table: 17,
            row: 1,
            field: 17,
        })?;
        Ok(match v.as_uint() {
            1 => Some("1.0"),
            2 => Some("1.05"),
            3 => Some("1.1"),
            4 => Some("1.2"),
            _ => None,
        })
    }

    fn write_text_tlv(&mut self, tag: u16, text: &str) -> Result<(), KktError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        self.execute(&WriteTlv {
            tlv: tlv_text(tag, text),
        })
        .map(|_| ())
    }

    /// Reads the last FN document and checks it is of `kind`.
    fn last_document(&mut self, kind: DocumentKind) -> Result<FoundDocument, KktError> {
        let st = self.fn_status()?;
        let doc = self.find(st.last_fd_number)?;
        if doc.doc_type != kind.code() {
            return Err(KktError::Protocol(format!(
                "last FN document {} is of type {}, expected {:?}",
                doc.number, doc.doc_type, kind
            )));
        }
        Ok(doc)
    }

    /// Finds the open document of the current shift, searching the archive
    /// down from `last_fd`. Every receipt of the shift lies between the open
    /// document and `last_fd`, so the search starts `receipts` documents
    /// down (usually a hit at once) and goes at most `shift_scan_limit`
    /// further.
    fn shift_open_document(
        &mut self,
        last_fd: u32,
        receipts: u16,
    ) -> Result<Option<FoundDocument>, KktError> {
        let start = last_fd.saturating_sub(u32::from(receipts));
        let lowest = start.saturating_sub(self.cfg.shift_scan_limit).max(1);
        for n in (lowest..=start).rev() {
            let d = self.find(n)?;
            if d.doc_type == DocumentKind::ShiftOpen.code() {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// Brings the printer back from "paper refilled, waiting for
    /// continue-print", cancels a receipt left open, and refuses to start
    /// when out of paper.
    fn ready_for_receipt(&mut self) -> Result<(), KktError> {
        let st = self.short_status()?;
        if st.flags.cover_open() {
            return Err(KktError::Device {
                command: format!("{} {}", ShortStatus::CODE, ShortStatus::NAME),
                code: ERR_NO_PAPER,
                text: "Открыта крышка принтера".to_string(),
                class: kkt::ErrorClass::Cover,
            });
        }
        if st.submode.awaiting_continue() {
            tracing::info!("resuming interrupted printing before a new receipt");
            self.execute(&ContinuePrint)?;
        } else if st.submode.paper_out() || !st.flags.receipt_paper() {
            return Err(device_err::<OpenReceipt>(ERR_NO_PAPER));
        }
        if st.mode.document_open() {
            // A receipt left open by an earlier failure. An open receipt is
            // never fiscal (the FN signs at close), so cancelling it cannot
            // lose a sale; the caller's recovery does the same.
            tracing::warn!("cancelling a receipt left open before printing a new one");
            self.execute(&CancelReceipt)?;
            if self.short_status()?.mode.document_open() {
                return Err(device_err::<OpenReceipt>(ERR_DOCUMENT_OPEN));
            }
        }
        Ok(())
    }

    fn validate(receipt: &Receipt) -> Result<Money, KktError> {
        if receipt.positions.is_empty() {
            return Err(bad("в чеке нет позиций"));
        }
        for (i, p) in receipt.positions.iter().enumerate() {
            let n = i + 1;
            if p.name.trim().is_empty() {
                return Err(bad(format!("позиция {n}: пустое наименование")));
            }
            if p.quantity.0 <= 0 {
                return Err(bad(format!(
                    "позиция {n}: количество должно быть больше нуля"
                )));
            }
            if p.price.0 < 0 || p.sum.0 < 0 {
                return Err(bad(format!("позиция {n}: отрицательная цена или сумма")));
            }
            if p.sum.0 as u64 > commands::MONEY_MAX || p.price.0 as u64 > commands::MONEY_MAX {
                return Err(bad(format!("позиция {n}: сумма слишком велика")));
            }
        }
        for (what, text) in [
            ("контакт покупателя", receipt.buyer_contact.as_deref()),
            ("кассир", receipt.cashier.as_deref()),
        ] {
            if text.is_some_and(|t| crate::wire::encode_cp1251(t).len() > TAG_TEXT_MAX) {
                return Err(bad(format!("{what} длиннее {TAG_TEXT_MAX} символов")));
            }
        }
        for p in &receipt.positions {
            if p.marking_code
                .as_ref()
                .is_some_and(|c| c.len() > MARKING_CODE_MAX)
            {
                return Err(bad(format!(
                    "код маркировки позиции «{}» длиннее {MARKING_CODE_MAX} байт",
                    p.name
                )));
            }
        }
        let total = receipt
            .total()
            .ok_or_else(|| bad("переполнение суммы чека"))?;
        let pay = &receipt.payments;
        for (name, m) in [
            ("наличные", pay.cash),
            ("безналичные", pay.electronic),
            ("зачёт аванса", pay.prepayment_offset),
            ("кредит", pay.credit),
        ] {
            if m.0 < 0 {
                return Err(bad(format!("отрицательная оплата: {name}")));
            }
        }
        let paid = pay.total().ok_or_else(|| bad("переполнение суммы оплат"))?;
        if paid < total {
            return Err(bad(format!("оплата {paid} меньше суммы чека {total}")));
        }
        let non_cash = paid.0 - pay.cash.0;
        if non_cash > total.0 {
            return Err(bad(format!(
                "безналичная оплата {} больше суммы чека {total}",
                Money(non_cash)
            )));
        }
        Ok(total)
    }

    /// Registers one position, with its marking code if any.
    fn register_position(
        &mut self,
        kind: ReceiptKind,
        p: &kkt::Position,
        plan: PositionPlan,
    ) -> Result<(), KktError> {
        let sale = kind.operation() == Operation::Income;
        if let Some(code) = &p.marking_code {
            let whole = p.quantity.0 % kkt::Quantity::SCALE == 0;
            let status = match (sale, whole) {
                (true, true) => item_status::PIECE_SOLD,
                (true, false) => item_status::WEIGHT_SOLD,
                (false, true) => item_status::PIECE_RETURNED,
                (false, false) => item_status::WEIGHT_RETURNED,
            };
            let check = self.execute(&CheckMarkingCode {
                item_status: status,
                check_mode: 0,
                code: code.as_bytes().to_vec(),
                tlv: Vec::new(),
            })?;
            if check.locally_rejected() {
                let _ = self.execute(&AcceptMarkingCode {
                    action: AcceptMarkingCode::REJECT,
                });
                return Err(bad(format!(
                    "код маркировки позиции «{}» не прошёл проверку ФН",
                    p.name
                )));
            }
            self.execute(&AcceptMarkingCode {
                action: AcceptMarkingCode::ACCEPT,
            })?;
        }
        self.execute(&OperationV2 {
            operation: kind.operation().code(),
            quantity: p.quantity.0 as u64,
            price: p.price.0 as u64,
            sum: Some(p.sum.0 as u64),
            tax_amount: None,
            tax: tax_byte(p.vat, plan.tax_table),
            department: self.cfg.department,
            payment_method: p.method.code(),
            payment_object: p.object.0,
            name: cp1251_prefix(&p.name, OPERATION_NAME_MAX).to_string(),
        })?;
        if let Some(unit) = measure_to_send(p)
            && plan.send_measure
        {
            // Bound to the operation just registered (vendor
            // `FSWriteOperationTLV`); FFD 1.2 puts 2108 in the position.
            self.execute(&WriteOperationTlv {
                tlv: tlv(tag::MEASURE, &[unit.0]),
            })?;
        }
        if let Some(code) = &p.marking_code {
            self.execute(&BindMarkingCode {
                code: code.as_bytes().to_vec(),
                volume_accounting: false,
            })?;
        }
        Ok(())
    }

    /// Everything between "open receipt" and "close receipt".
    fn fill_receipt(&mut self, receipt: &Receipt, plan: PositionPlan) -> Result<(), KktError> {
        if let Some(cashier) = &receipt.cashier {
            self.write_text_tlv(tag::CASHIER, cashier)?;
        }
        for p in &receipt.positions {
            self.register_position(receipt.kind, p, plan)?;
        }
        if let Some(contact) = &receipt.buyer_contact {
            self.write_text_tlv(tag::BUYER_CONTACT, contact)?;
        }
        Ok(())
    }

    fn close_command(receipt: &Receipt) -> CloseReceiptV2 {
        let mut payments = [0u64; 16];
        let pay = &receipt.payments;
        payments[payment_index::CASH] = pay.cash.0 as u64;
        payments[payment_index::ELECTRONIC] = pay.electronic.0 as u64;
        payments[payment_index::PREPAYMENT] = pay.prepayment_offset.0 as u64;
        payments[payment_index::CREDIT] = pay.credit.0 as u64;
        CloseReceiptV2 {
            payments,
            rounding: 0,
            taxes: [0; 6],
            tax_system: receipt.tax_system.bit(),
            text: String::new(),
        }
    }

    /// After a failed close: did the FN sign the receipt anyway?
    fn resolve_close(
        &mut self,
        expected_fd: u32,
        operation: Operation,
        total: Money,
    ) -> Result<Option<FoundDocument>, KktError> {
        let st = self.fn_status()?;
        if st.last_fd_number < expected_fd {
            return Ok(None);
        }
        let doc = self.find(expected_fd)?;
        let matches = doc.doc_type == DocumentKind::Receipt.code()
            && doc.details
                == DocumentDetails::Receipt {
                    operation: operation.code(),
                    total: total.0 as u64,
                };
        if !matches {
            return Err(KktError::Protocol(format!(
                "FN document {expected_fd} does not match the receipt being closed \
                 (type {}, {:?}); not guessing",
                doc.doc_type, doc.details
            )));
        }
        Ok(Some(doc))
    }

    fn printed(&mut self, doc: FiscalDoc, total: Money) -> Result<ReceiptPrinted, KktError> {
        let params = self.execute(&ShiftParams)?;
        Ok(ReceiptPrinted {
            doc,
            receipt_number: u32::from(params.receipt_number),
            shift_number: u32::from(params.shift_number),
            total,
        })
    }

    /// The template's trailer lines after a signed receipt, then a cut. The
    /// receipt is fiscal already, so a failure here is only logged: the
    /// sale must still be reported as printed.
    fn print_footer(&mut self, footer: &[String]) {
        if footer.is_empty() {
            return;
        }
        let printed = self
            .print_text(footer)
            .and_then(|()| self.execute(&Cut { partial: true }).map(|_| ()));
        if let Err(e) = printed {
            tracing::warn!(error = %e, "receipt footer not printed");
        }
    }

    /// Best-effort cancel after a failure inside an open receipt.
    fn abandon_receipt(&mut self) {
        if let Err(e) = self.execute(&CancelReceipt) {
            tracing::warn!(error = %e, "could not cancel the half-built receipt");
        }
    }
}

impl<P: Port> Kkt for ShtrihDriver<P> {
    fn device_info(&mut self) -> Result<DeviceInfo, KktError> {
        let dt = self.execute(&DeviceType)?;
        self.model = Some(dt.model);
        let full = self.execute(&FullStatus)?;
        let ffd = match self.ffd_version() {
            Ok(v) => v.unwrap_or("unknown").to_string(),
            Err(e) => {
                tracing::debug!(error = %e, "FFD version not readable");
                "unknown".to_string()
            }
        };
        let inn = (full.inn != 0).then(|| {
            if full.inn < 10_000_000_000 {
                format!("{:010}", full.inn)
            } else {
                format!("{:012}", full.inn)
            }
        });
        Ok(DeviceInfo {
            vendor: "ШТРИХ-М".to_string(),
            model: dt.name,
            serial: full.serial.to_string(),
            firmware: full.firmware(),
            ffd_version: ffd,
            tax_systems: Vec::new(),
            inn,
            clock: full.clock,
        })
    }

    fn status(&mut self) -> Result<DeviceStatus, KktError> {
        let st = self.short_status()?;
        Ok(DeviceStatus {
            paper_present: st.flags.receipt_paper() && !st.submode.paper_out(),
            cover_open: st.flags.cover_open(),
            receipt_open: st.mode.document_open(),
            awaiting_continue: st.submode.awaiting_continue()
                || st.submode.0 == commands::Submode::NO_PAPER_ACTIVE,
            mode: st.mode.0,
            submode: st.submode.0,
        })
    }

    fn fn_info(&mut self) -> Result<FnInfo, KktError> {
        let st = self.fn_status()?;
        let validity = self.execute(&FnValidity)?;
        let version = self.execute(&FnVersion)?;
        let ofd = self.execute(&OfdExchangeStatus)?;
        let w = st.warnings;
        Ok(FnInfo {
            serial: st.serial,
            valid_until: validity.valid_until,
            last_fd_number: st.last_fd_number,
            version: Some(version.version).filter(|v| !v.is_empty()),
            warnings: FnWarnings {
                replace_urgent: w & 0x01 != 0,
                resource_exhausted: w & 0x02 != 0,
                memory_almost_full: w & 0x04 != 0,
                ofd_timeout: w & 0x08 != 0,
                critical: w & 0x80 != 0,
            },
            ofd_unsent_count: u32::from(ofd.queue),
            ofd_first_unsent_number: (ofd.queue > 0).then_some(ofd.first_number),
            ofd_first_unsent_at: if ofd.queue > 0 { ofd.first_time } else { None },
        })
    }

    fn shift_state(&mut self) -> Result<ShiftState, KktError> {
        let params = self.execute(&ShiftParams)?;
        let number = u32::from(params.shift_number);
        if !params.shift_open {
            return Ok(ShiftState::Closed {
                last_number: number,
            });
        }
        let st = self.short_status()?;
        let receipts = u32::from(params.receipt_number);
        let last_fd = self.fn_status()?.last_fd_number;
        let opened_at = match self.shift_open_document(last_fd, params.receipt_number) {
            Ok(d) => d.map(|d| d.time),
            Err(e) => {
                tracing::debug!(error = %e, "shift open time not readable");
                None
            }
        };
        Ok(if st.mode.number() == commands::Mode::SHIFT_EXPIRED {
            ShiftState::Expired {
                number,
                opened_at,
                receipts,
            }
        } else {
            ShiftState::Open {
                number,
                opened_at,
                receipts,
            }
        })
    }

    fn open_shift(&mut self, cashier: &str) -> Result<ShiftOpened, KktError> {
        self.execute(&BeginShiftOpen)?;
        self.write_text_tlv(tag::CASHIER, cashier)?;
        self.execute(&OpenShift)?;
        let doc = self.last_document(DocumentKind::ShiftOpen)?;
        let shift_number = match doc.details {
            DocumentDetails::Shift { number } => u32::from(number),
            _ => u32::from(self.execute(&ShiftParams)?.shift_number),
        };
        Ok(ShiftOpened {
            shift_number,
            doc: FiscalDoc {
                number: doc.number,
                fiscal_sign: doc.fiscal_sign,
                time: doc.time,
            },
        })
    }

    fn close_shift(&mut self, cashier: &str) -> Result<ShiftClosed, KktError> {
        let before = self.execute(&ShiftParams)?;
        self.execute(&BeginShiftClose)?;
        self.write_text_tlv(tag::CASHIER, cashier)?;
        self.execute(&ZReport)?;
        let doc = self.last_document(DocumentKind::ShiftClose)?;
        let shift_number = match doc.details {
            DocumentDetails::Shift { number } => u32::from(number),
            _ => u32::from(before.shift_number),
        };
        let open = self.shift_open_document(doc.number - 1, before.receipt_number)?;
        let documents = match &open {
            Some(o) => doc.number - o.number + 1,
            None => {
                tracing::warn!(
                    fd = doc.number,
                    "shift-open document not found; count unknown"
                );
                0
            }
        };
        Ok(ShiftClosed {
            shift_number,
            doc: FiscalDoc {
                number: doc.number,
                fiscal_sign: doc.fiscal_sign,
                time: doc.time,
            },
            receipts_in_shift: u32::from(before.receipt_number),
            documents_in_shift: documents,
        })
    }

    fn print_receipt(&mut self, receipt: &Receipt) -> Result<ReceiptPrinted, KktError> {
        let total = Self::validate(receipt)?;
        let chain = self
            .chain
            .take()
            .filter(|c| c.after == self.commands && c.at.elapsed() < CHAIN_WINDOW);
        if chain.is_none() {
            self.ready_for_receipt()?;
        }
        let plan = self.position_plan(receipt)?;
        // Non-fiscal: a failure here stops before anything is fiscal.
        self.print_text(&receipt.header)?;
        let expected_fd = match chain {
            Some(c) => c.next_fd,
            None => self.fn_status()?.last_fd_number + 1,
        };
        let receipt_type = match receipt.kind.operation() {
            Operation::Income => OpenReceipt::SALE,
            _ => OpenReceipt::SALE_RETURN,
        };
        if let Err(e) = self.execute(&OpenReceipt { receipt_type }) {
            if e.class() == kkt::ErrorClass::Link {
                // The answer was lost; the receipt may be open on the device.
                self.abandon_receipt();
            }
            return Err(e);
        }
        if let Err(e) = self.fill_receipt(receipt, plan) {
            self.abandon_receipt();
            return Err(e);
        }
        let close = Self::close_command(receipt);
        let closed = self.execute(&close);
        let answer = match closed {
            Ok(a) => a,
            Err(e) => {
                // The FN may have signed the receipt before the failure
                // (paper out while printing, lost answer, power cut).
                return match self.resolve_close(expected_fd, receipt.kind.operation(), total) {
                    Ok(Some(doc)) => {
                        tracing::warn!(fd = doc.number, error = %e,
                            "receipt is fiscalised although closing reported an error");
                        self.print_footer(&receipt.footer);
                        self.printed(
                            FiscalDoc {
                                number: doc.number,
                                fiscal_sign: doc.fiscal_sign,
                                time: doc.time,
                            },
                            total,
                        )
                    }
                    Ok(None) => Err(e),
                    Err(resolve) => {
                        tracing::error!(error = %resolve, "cannot tell whether the receipt was signed");
                        Err(e)
                    }
                };
            }
        };
        if answer.fd_number != expected_fd {
            tracing::warn!(
                got = answer.fd_number,
                expected = expected_fd,
                "FD number differs from the FN's next number"
            );
        }
        self.print_footer(&receipt.footer);
        let time = match answer.time {
            Some(t) => t,
            None => self.find(answer.fd_number)?.time,
        };
        let doc = FiscalDoc {
            number: answer.fd_number,
            fiscal_sign: answer.fiscal_sign,
            time,
        };
        let printed = match chain.filter(|c| answer.fd_number == c.next_fd) {
            // The FN numbered it as expected: the shift and its counter
            // moved on by exactly this receipt.
            Some(c) => ReceiptPrinted {
                doc,
                receipt_number: c.next_receipt_number,
                shift_number: c.shift_number,
                total,
            },
            None => self.printed(doc, total)?,
        };
        self.chain = Some(ReceiptChain {
            after: self.commands,
            at: Instant::now(),
            next_fd: printed.doc.number + 1,
            shift_number: printed.shift_number,
            next_receipt_number: printed.receipt_number + 1,
        });
        Ok(printed)
    }

    fn cancel_receipt(&mut self) -> Result<(), KktError> {
        let st = self.short_status()?;
        if st.mode.document_open() {
            return self.execute(&CancelReceipt).map(|_| ());
        }
        let fs = self.fn_status()?;
        if fs.current_document != 0 {
            return self.execute(&FnCancelDocument).map(|_| ());
        }
        Err(bad("нет открытого чека"))
    }

    fn continue_print(&mut self) -> Result<(), KktError> {
        self.execute(&ContinuePrint).map(|_| ())
    }

    fn read_document(&mut self, number: u32) -> Result<ArchivedDocument, KktError> {
        let d = self.find(number)?;
        let (operation, total) = match d.details {
            DocumentDetails::Receipt { operation, total } => (
                Operation::from_code(operation),
                i64::try_from(total).ok().map(Money),
            ),
            _ => (None, None),
        };
        Ok(ArchivedDocument {
            kind: DocumentKind::from_code(d.doc_type),
            doc: FiscalDoc {
                number: d.number,
                fiscal_sign: d.fiscal_sign,
                time: d.time,
            },
            operation,
            total,
        })
    }

    fn x_report(&mut self) -> Result<(), KktError> {
        self.execute(&XReport).map(|_| ())
    }

    fn cash_in(&mut self, sum: Money) -> Result<(), KktError> {
        if sum.0 <= 0 {
            return Err(bad("сумма внесения должна быть больше нуля"));
        }
        self.execute(&CashIn { sum: sum.0 as u64 }).map(|_| ())
    }

    fn cash_out(&mut self, sum: Money) -> Result<(), KktError> {
        if sum.0 <= 0 {
            return Err(bad("сумма выплаты должна быть больше нуля"));
        }
        self.execute(&CashOut { sum: sum.0 as u64 }).map(|_| ())
    }
}
