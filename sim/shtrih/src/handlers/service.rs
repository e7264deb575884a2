//! Service commands: free-text printing (0x17) and cut (0x25), X-report
//! (0x40), cash in / cash out (0x50 / 0x51), time and date (0x21, 0x22 +
//! 0x23 confirmation), tables (0x1E write, 0x1F read) and continue
//! printing after a paper change (0xB0).

use jiff::civil::{Date, Time};

use crate::device::{Device, Level, Reply, err};
use crate::{tables, tape};
use shtrih::wire::{Reader, Writer, decode_cp1251};

impl Device {
    /// 0x17: flags (receipt/journal), text.
    pub(crate) fn print_line(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let _flags = r.u8("flags").map_err(|_| err::BAD_PARAM)?;
        let text = decode_cp1251(r.rest());
        self.check_printer()?;
        self.state.tape.push_free_line(text);
        self.touch();
        Ok(vec![op])
    }

    /// 0x25: 0 full cut, 1 partial.
    pub(crate) fn cut(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let _kind = r.u8("cut type").map_err(|_| err::BAD_PARAM)?;
        self.check_printer()?;
        self.state.tape.cut();
        self.touch();
        Ok(vec![op])
    }

    /// 0x40.
    pub(crate) fn x_report(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Admin)?;
        self.check_no_receipt()?;
        self.check_printer()?;
        let entry = tape::x_report(
            &self.identity.header(),
            &self.state.fn_storage.shift,
            self.state.cash,
            self.now(),
        );
        self.print(entry);
        Ok(vec![op])
    }

    /// 0x50 / 0x51: sum (5); answers operator and document number.
    pub(crate) fn cash_in_out(&mut self, r: &mut Reader, cash_in: bool) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let sum = r.uint(5, "sum").map_err(|_| err::BAD_PARAM)?;
        self.check_no_receipt()?;
        self.check_printer()?;
        let fs = &self.state.fn_storage;
        if !fs.shift.open {
            return Err(err::SHIFT_CLOSED);
        }
        if fs.shift_expired(self.now()) {
            return Err(err::SHIFT_EXPIRED);
        }
        if cash_in {
            self.state.cash = self.state.cash.saturating_add(sum);
        } else {
            if sum > self.state.cash {
                return Err(err::NO_CASH);
            }
            self.state.cash -= sum;
        }
        let doc_no = self.state.doc_counter.wrapping_add(1);
        let entry = tape::cash_slip(&self.identity.header(), cash_in, sum, doc_no, self.now());
        self.print(entry);
        Ok(Writer::new()
            .u8(op)
            .u16(self.state.doc_counter)
            .into_bytes())
    }

    /// 0x21: `HH MM SS`.
    pub(crate) fn set_time(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let t: Time = r.time("time").map_err(|_| err::BAD_PARAM)?;
        self.check_no_receipt()?;
        let at = self.now().date().to_datetime(t);
        self.clock.set(at);
        self.touch();
        Ok(vec![])
    }

    /// 0x22: `DD MM YY`; the device then waits for 0x23 with the same date.
    pub(crate) fn set_date(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let d: Date = r.date("date").map_err(|_| err::BAD_PARAM)?;
        if self.receipt.is_some() || self.state.fn_storage.shift.open {
            return Err(err::WRONG_MODE);
        }
        self.pending_date = Some(d);
        Ok(vec![])
    }

    /// 0x23: confirms the date given by 0x22.
    pub(crate) fn confirm_date(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let d: Date = r.date("date").map_err(|_| err::BAD_PARAM)?;
        match self.pending_date {
            None => Err(err::WRONG_MODE),
            Some(p) if p != d => Err(err::DATE_MISMATCH),
            Some(_) => {
                self.pending_date = None;
                let at = d.to_datetime(self.now().time());
                self.clock.set(at);
                self.touch();
                Ok(vec![])
            }
        }
    }

    /// 0x1E: table (1), row (2), field (1), value.
    pub(crate) fn write_table(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let table = r.u8("table").map_err(|_| err::BAD_PARAM)?;
        let row = r.u16("row").map_err(|_| err::BAD_PARAM)?;
        let field = r.u8("field").map_err(|_| err::BAD_PARAM)?;
        let value = r.rest();
        tables::write(&mut self.state.tables, table, row, field, value).map_err(|e| e.code())?;
        self.touch();
        Ok(vec![])
    }

    /// 0x1F: table (1), row (2), field (1); answers the raw value.
    pub(crate) fn read_table(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let table = r.u8("table").map_err(|_| err::BAD_PARAM)?;
        let row = r.u16("row").map_err(|_| err::BAD_PARAM)?;
        let field = r.u8("field").map_err(|_| err::BAD_PARAM)?;
        tables::read(
            &self.state.tables,
            &self.identity.table_identity(),
            table,
            row,
            field,
        )
        .map_err(|e| e.code())
    }

    /// Whether table 17 says the device writes FFD 1.2 documents.
    pub(crate) fn runs_ffd_1_2(&self) -> bool {
        tables::read(
            &self.state.tables,
            &self.identity.table_identity(),
            17,
            1,
            17,
        ) == Ok(vec![4])
    }

    /// 0xB0: finishes a document whose printing the paper cut short.
    pub(crate) fn continue_print(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let (paper, cover_open) = self.faults.sensors();
        if self.interrupted_print.is_some() {
            if !paper || cover_open {
                return Err(err::NO_PAPER);
            }
            if let Some(entry) = self.interrupted_print.take() {
                self.state.tape.push(entry);
                self.touch();
            }
        }
        Ok(vec![op])
    }
}
