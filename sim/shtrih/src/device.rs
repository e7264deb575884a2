//! The emulated Shtrih-M-01F behind the link: takes one decoded request
//! frame, checks the password, mode and printer sensors as the real device
//! does, runs the command against the simulated FN and printer, persists the
//! state when it changed, and returns the answer frame (`CMD ERR DATA`).
//!
//! Pure state machine, no I/O except the state file: the serving loop owns
//! the port and the pacing. Command handlers live in [`super::handlers`],
//! one module per command family, as `impl Device` blocks.

use std::path::PathBuf;

use jiff::civil::{Date, DateTime};

use super::faults::{CutPoint, Faults};
use super::handlers::marking::MarkingState;
use super::persist::{self, PersistError, PersistedState};
use super::receipt::OpenReceipt;
use super::tables::{self, TableIdentity};
use super::tape::{Header, Tape, TapeEntry};
use shtrih::frame::{Code, Frame};
use shtrih::wire::Reader;
use sim_fn::clock::Clock;
use sim_fn::storage::FnStorage;

/// Who the emulated device is: names and numbers it reports and prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Model name answered by 0xFC.
    pub model_name: String,
    /// Model number answered by 0xFC; 152 (ШТРИХ-NANO-Ф) switches the
    /// 0xFF46 tax byte to that model's codes.
    pub model_id: u8,
    /// Firmware from 2025 on: takes close receipt V3/V4 (0xFF76/0xFF78).
    pub close_v3_v4: bool,
    /// KKT factory number (digits; 0x11 carries it as a 4-byte integer).
    pub kkt_serial: String,
    /// FN serial, 16 digits.
    pub fn_serial: String,
    /// Taxpayer INN (10 or 12 digits).
    pub inn: String,
    /// KKT registration number (16 digits).
    pub reg_number: String,
    pub organisation: String,
    pub address: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            model_name: "ШТРИХ-М-01Ф".into(),
            model_id: 250,
            close_v3_v4: true,
            kkt_serial: "0012345678".into(),
            fn_serial: "9999078900012345".into(),
            inn: "7700000000".into(),
            reg_number: "0000000001012345".into(),
            organisation: "ООО \"ЭМУЛЯТОР\"".into(),
            address: "г. Москва, ул. Тестовая, 1".into(),
        }
    }
}

impl Identity {
    pub(crate) fn header(&self) -> Header {
        Header {
            organisation: self.organisation.clone(),
            address: self.address.clone(),
            inn: self.inn.clone(),
            kkt_reg_number: self.reg_number.clone(),
            kkt_serial: self.kkt_serial.clone(),
        }
    }

    pub(crate) fn table_identity(&self) -> TableIdentity {
        TableIdentity {
            kkt_serial: self.kkt_serial.clone(),
            inn: self.inn.clone(),
            reg_number: self.reg_number.clone(),
            organisation: self.organisation.clone(),
            address: self.address.clone(),
        }
    }
}

/// A FN document begun but not yet signed (0xFF41 / 0xFF42).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PendingDoc {
    ShiftOpen,
    ShiftClose,
}

/// Password level a command demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Any operator (cashiers 1–28, administrators 29 and 30).
    Operator,
    /// Administrator (29) or system administrator (30).
    Admin,
    /// System administrator (30) only: FN commands, tables, date/time.
    System,
}

/// What the serving loop does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Send this answer.
    Answer(Frame),
    /// The power failed; say nothing.
    PowerCut,
    /// The power fails half-way through sending this answer.
    PowerCutMidAnswer(Frame),
}

/// A handler's result: the data after the error byte, or an error code.
pub(crate) type Reply = Result<Vec<u8>, u8>;

/// Device error codes used across handlers (texts from the protocol's
/// error table).
pub(crate) mod err {
    /// FN: unknown command or wrong format.
    pub const FN_FORMAT: u8 = 0x01;
    /// FN: wrong FN state.
    pub const FN_STATE: u8 = 0x02;
    /// FN: no requested data.
    pub const FN_NO_DATA: u8 = 0x08;
    /// FN: bad parameter value.
    pub const FN_PARAM: u8 = 0x09;
    /// Bad parameters in the command.
    pub const BAD_PARAM: u8 = 0x33;
    /// Command not supported by this model.
    pub const UNSUPPORTED: u8 = 0x37;
    /// Shift is not open.
    pub const SHIFT_CLOSED: u8 = 0x3D;
    /// Payments are less than the receipt total.
    pub const PAYMENTS_LESS: u8 = 0x45;
    /// Not enough cash in the drawer.
    pub const NO_CASH: u8 = 0x46;
    /// Operation impossible in an open receipt of this type.
    pub const WRONG_RECEIPT_TYPE: u8 = 0x49;
    /// A receipt is open.
    pub const RECEIPT_OPEN: u8 = 0x4A;
    /// Non-cash payments exceed the total.
    pub const NON_CASH_EXCEEDS: u8 = 0x4D;
    /// Shift longer than 24 hours.
    pub const SHIFT_EXPIRED: u8 = 0x4E;
    /// Wrong password.
    pub const PASSWORD: u8 = 0x4F;
    /// Receipt closed: operation impossible.
    pub const RECEIPT_CLOSED: u8 = 0x55;
    /// Still printing the previous command's output.
    pub const PRINTING: u8 = 0x50;
    /// Waiting for the continue-print command.
    pub const WAIT_CONTINUE: u8 = 0x58;
    /// No receipt paper (also answered with the cover open: the head
    /// cannot print, flag bit 10 tells which).
    pub const NO_PAPER: u8 = 0x6B;
    /// Command not supported in this mode.
    pub const WRONG_MODE: u8 = 0x73;
    /// Dates differ (0x23 after 0x22).
    pub const DATE_MISMATCH: u8 = 0x7C;
}

/// The device.
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) state: PersistedState,
    pub(crate) identity: Identity,
    pub(crate) clock: Clock,
    pub(crate) faults: Faults,
    pub(crate) state_file: Option<PathBuf>,
    // Volatile memory, lost on a power cut.
    pub(crate) receipt: Option<OpenReceipt>,
    pub(crate) pending_doc: Option<PendingDoc>,
    /// TLVs sent for a pending shift document.
    pub(crate) pending_tlvs: Vec<(u16, Vec<u8>)>,
    pub(crate) marking: MarkingState,
    /// A document whose printing stopped when the paper ran out; 0xB0
    /// prints it once paper is back.
    pub(crate) interrupted_print: Option<TapeEntry>,
    pub(crate) pending_date: Option<Date>,
    /// Document being read by 0xFF3A/0xFF3B: TLV bytes and read position.
    pub(crate) doc_read: Option<(Vec<u8>, usize)>,
    /// The printer is busy printing until then.
    pub(crate) printing_until: Option<std::time::Instant>,
    /// Operator of the last accepted password.
    pub(crate) operator: u8,
    dirty: bool,
    /// Last failure to write the state file, for the handle to report.
    pub(crate) last_save_error: Option<String>,
}

/// The state of a factory-fresh, registered device.
pub(crate) fn fresh_state(identity: &Identity, clock: &Clock) -> PersistedState {
    let now = clock.now();
    let registered = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    PersistedState {
        version: persist::VERSION,
        fn_storage: FnStorage::new(&identity.fn_serial, registered),
        cash: 0,
        doc_counter: 1,
        clock_offset_secs: clock.offset_secs(),
        tables: Default::default(),
        tape: Tape::default(),
    }
}

impl Device {
    /// A device with `state` (loaded from disk or fresh).
    pub(crate) fn new(
        state: PersistedState,
        identity: Identity,
        clock: Clock,
        faults: Faults,
        state_file: Option<PathBuf>,
    ) -> Self {
        clock.set_offset_secs(state.clock_offset_secs);
        Device {
            state,
            identity,
            clock,
            faults,
            state_file,
            receipt: None,
            pending_doc: None,
            pending_tlvs: Vec::new(),
            marking: MarkingState::default(),
            interrupted_print: None,
            pending_date: None,
            doc_read: None,
            printing_until: None,
            operator: 30,
            dirty: false,
            last_save_error: None,
        }
    }

    /// Loads the state file (or starts fresh when there is none).
    pub(crate) fn load_state(
        identity: &Identity,
        clock: &Clock,
        state_file: Option<&std::path::Path>,
    ) -> Result<PersistedState, PersistError> {
        match state_file {
            Some(p) => Ok(persist::load(p)?.unwrap_or_else(|| fresh_state(identity, clock))),
            None => Ok(fresh_state(identity, clock)),
        }
    }

    /// Forgets everything held in RAM (a power cut).
    pub(crate) fn lose_ram(&mut self) {
        self.receipt = None;
        self.pending_doc = None;
        self.pending_tlvs.clear();
        self.marking = MarkingState::default();
        if let Some(entry) = self.interrupted_print.take() {
            // What had been printed before the paper ran out stays on paper.
            self.state.tape.push(entry);
        }
        self.pending_date = None;
        self.doc_read = None;
        self.printing_until = None;
    }

    /// Reads the state back from the file after a power cut (the FN and
    /// registers are non-volatile; a device without a file keeps its
    /// in-memory copy, which is what the file would hold).
    pub(crate) fn reload(&mut self) -> Result<(), PersistError> {
        if let Some(p) = &self.state_file
            && let Some(s) = persist::load(p)?
        {
            self.clock.set_offset_secs(s.clock_offset_secs);
            self.state = s;
        }
        Ok(())
    }

    /// Marks persisted state as changed.
    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// Writes the state file if anything persisted changed.
    pub(crate) fn persist_if_dirty(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.state.clock_offset_secs = self.clock.offset_secs();
        if let Some(p) = &self.state_file {
            match persist::save(p, &self.state) {
                Ok(()) => self.last_save_error = None,
                Err(e) => {
                    tracing::error!(error = %e, "emulator state not saved");
                    self.last_save_error = Some(e.to_string());
                }
            }
        }
    }

    /// Runs one request.
    pub(crate) fn handle(&mut self, req: &Frame) -> Outcome {
        let cut = self.faults.take_power_cut(req.code);
        if cut == Some(CutPoint::BeforeCommit) {
            self.lose_ram();
            return Outcome::PowerCut;
        }
        let reply = self.dispatch(req.code, &req.payload);
        self.persist_if_dirty();
        if cut == Some(CutPoint::AfterCommit) {
            self.lose_ram();
            return Outcome::PowerCut;
        }
        let payload = match reply {
            Ok(data) => {
                let mut p = Vec::with_capacity(data.len() + 1);
                p.push(0);
                p.extend(data);
                p
            }
            Err(code) => vec![code],
        };
        let answer = Frame::new(req.code, payload);
        if cut == Some(CutPoint::MidAnswer) {
            self.lose_ram();
            return Outcome::PowerCutMidAnswer(answer);
        }
        Outcome::Answer(answer)
    }

    fn dispatch(&mut self, code: Code, payload: &[u8]) -> Reply {
        let mut r = Reader::new(payload);
        let r = &mut r;
        match code.0 {
            0xFC => self.device_type(),
            0x10 => self.short_status(r),
            0x11 => self.full_status(r),
            0x17 => self.print_line(r),
            0x1E => self.write_table(r),
            0x1F => self.read_table(r),
            0x21 => self.set_time(r),
            0x22 => self.set_date(r),
            0x23 => self.confirm_date(r),
            0x25 => self.cut(r),
            0x40 => self.x_report(r),
            0x41 => self.z_report(r),
            0x50 => self.cash_in_out(r, true),
            0x51 => self.cash_in_out(r, false),
            0x80 => self.classic_item(r, super::receipt::ReceiptType::Sale),
            0x82 => self.classic_item(r, super::receipt::ReceiptType::SaleReturn),
            0x85 => self.classic_close(r),
            0x88 => self.cancel_receipt(r),
            0x8D => self.open_receipt(r),
            0xB0 => self.continue_print(r),
            0xE0 => self.open_shift_classic(r),
            0xFF01 => self.fn_status(r),
            0xFF02 => self.fn_serial(r),
            0xFF03 => self.fn_validity(r),
            0xFF04 => self.fn_version(r),
            0xFF08 => self.fn_cancel_document(r),
            0xFF0A => self.fn_find_document(r),
            0xFF0B => self.fn_open_shift(r),
            0xFF0C => self.fn_write_tlv(r),
            0xFF39 => self.fn_exchange_status(r),
            0xFF3A => self.fn_read_document_begin(r),
            0xFF3B => self.fn_read_document_block(r),
            0xFF3F => self.fn_unsent_count(r),
            0xFF40 => self.fn_shift_params(r),
            0xFF41 => self.fn_begin_shift_open(r),
            0xFF42 => self.fn_begin_shift_close(r),
            0xFF43 => self.fn_close_shift(r),
            0xFF45 => self.close_receipt_extended(r, 6),
            0xFF76 => self.close_receipt_extended(r, 10),
            0xFF78 => self.close_receipt_extended(r, 12),
            0xFF46 => self.operation_v2(r),
            0xFF4D => self.fn_write_operation_tlv(r),
            0xFF61 => self.mc_check(r),
            0xFF67 => self.mc_bind(r),
            0xFF69 => self.mc_accept(r),
            _ => Err(if code.is_extended() {
                err::FN_FORMAT
            } else {
                err::UNSUPPORTED
            }),
        }
    }

    /// Reads and checks the password; returns the operator number.
    pub(crate) fn auth(&mut self, r: &mut Reader, level: Level) -> Result<u8, u8> {
        let pw = r.u32("password").map_err(|_| err::PASSWORD)?;
        let op = tables::operator_for_password(&self.state.tables, pw).ok_or(err::PASSWORD)?;
        let ok = match level {
            Level::Operator => true,
            Level::Admin => op >= 29,
            Level::System => op == 30,
        };
        if !ok {
            return Err(err::PASSWORD);
        }
        self.operator = op;
        Ok(op)
    }

    /// Current device time.
    pub(crate) fn now(&self) -> DateTime {
        self.clock.now()
    }

    /// Mode byte (low nibble mode, high nibble its status).
    pub(crate) fn mode(&self) -> u8 {
        if self.pending_date.is_some() {
            return 6;
        }
        if let Some(r) = &self.receipt {
            return 8 | ((r.kind as u8) << 4);
        }
        let fs = &self.state.fn_storage;
        if fs.shift.open {
            if fs.shift_expired(self.now()) { 3 } else { 2 }
        } else {
            4
        }
    }

    /// True while the printer is still printing.
    pub(crate) fn printing(&self) -> bool {
        self.printing_until
            .is_some_and(|t| std::time::Instant::now() < t)
    }

    /// Submode byte.
    pub(crate) fn submode(&self) -> u8 {
        let (paper, _) = self.faults.sensors();
        if paper && self.interrupted_print.is_none() && self.printing() {
            return 5;
        }
        match (&self.interrupted_print, paper) {
            (Some(_), false) => 2,
            (Some(_), true) => 3,
            (None, false) => 1,
            (None, true) => 0,
        }
    }

    /// Refuses a printing command when the printer cannot print.
    pub(crate) fn check_printer(&self) -> Result<(), u8> {
        let (paper, cover_open) = self.faults.sensors();
        if self.printing() {
            return Err(err::PRINTING);
        }
        if self.interrupted_print.is_some() {
            return Err(if paper {
                err::WAIT_CONTINUE
            } else {
                err::NO_PAPER
            });
        }
        if !paper || cover_open {
            return Err(err::NO_PAPER);
        }
        Ok(())
    }

    /// Refuses when a receipt is open.
    pub(crate) fn check_no_receipt(&self) -> Result<(), u8> {
        if self.receipt.is_some() {
            return Err(err::RECEIPT_OPEN);
        }
        if self.pending_date.is_some() {
            return Err(err::WRONG_MODE);
        }
        Ok(())
    }

    /// Prints a document: to the tape, or into the interrupted-print slot
    /// when the paper runs out during it.
    pub(crate) fn print(&mut self, entry: TapeEntry) {
        self.state.doc_counter = self.state.doc_counter.wrapping_add(1);
        if let Some(per_line) = self.faults.print_line_time() {
            let lines = entry.lines.len() as u32;
            self.printing_until = Some(std::time::Instant::now() + per_line * lines);
        }
        if self.faults.take_paper_runs_out() {
            self.faults.set_paper_out(true);
            self.interrupted_print = Some(entry);
        } else {
            self.state.tape.push(entry);
        }
        self.touch();
    }

    /// The injected FN failure, if any: every signing command answers it.
    pub(crate) fn check_fn(&self) -> Result<(), u8> {
        match self.faults.fn_failure() {
            Some(code) => Err(code),
            None => Ok(()),
        }
    }

    /// 16-byte FN serial as ASCII, padded.
    pub(crate) fn fn_serial_bytes(&self) -> Vec<u8> {
        let mut b = self.state.fn_storage.serial.as_bytes().to_vec();
        b.resize(16, b' ');
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn device() -> Device {
        let clock = Clock::default();
        let id = Identity::default();
        Device::new(fresh_state(&id, &clock), id, clock, Faults::new(), None)
    }

    fn answer(d: &mut Device, code: u16, payload: Vec<u8>) -> Vec<u8> {
        match d.handle(&Frame::new(Code(code), payload)) {
            Outcome::Answer(f) => f.payload,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn every_answer_echoes_the_command_and_starts_with_an_error_byte() {
        let mut d = device();
        let a = answer(&mut d, 0x10, vec![30, 0, 0, 0]);
        assert_eq!(a[0], 0);
        assert_eq!(a.len(), 15);
        assert_eq!(answer(&mut d, 0x10, vec![]), vec![err::PASSWORD]);
    }

    const CODES: &[u16] = &[
        0x10, 0x11, 0x17, 0x1E, 0x1F, 0x21, 0x22, 0x23, 0x25, 0x40, 0x41, 0x50, 0x51, 0x80, 0x82,
        0x85, 0x88, 0x8D, 0xB0, 0xE0, 0xFC, 0xFF01, 0xFF02, 0xFF03, 0xFF04, 0xFF08, 0xFF0A, 0xFF0B,
        0xFF0C, 0xFF39, 0xFF3A, 0xFF3B, 0xFF3F, 0xFF40, 0xFF41, 0xFF42, 0xFF43, 0xFF45, 0xFF46,
        0xFF4D, 0xFF76, 0xFF78, 0xFF61, 0xFF67, 0xFF69,
    ];

    proptest! {
        // Any sequence of requests with any data, under a valid password,
        // gets an answer and never panics the device.
        #[test]
        fn random_requests_never_panic(
            reqs in proptest::collection::vec(
                (proptest::sample::select(CODES), proptest::collection::vec(any::<u8>(), 0..120)),
                1..40,
            )
        ) {
            let mut d = device();
            for (code, data) in reqs {
                let mut payload = vec![30, 0, 0, 0];
                payload.extend(data);
                let a = answer(&mut d, code, payload);
                prop_assert!(!a.is_empty());
                let _ = (d.mode(), d.submode());
            }
        }
    }
}
