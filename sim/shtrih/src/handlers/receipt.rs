//! Receipt commands: classic (0x8D open, 0x80 sale, 0x82 sale return, 0x85
//! close, 0x88 cancel — the set older drivers use) and the FN-era ones
//! (0xFF46 operation V2, 0xFF45 close receipt V2).
//!
//! Layouts: classic quantity is 5 bytes of thousandths, V2 quantity 6
//! bytes of millionths; money is 5 bytes of kopecks (pyshtrih `sale`,
//! `close_check`; JavaPOS `FSPrintRecItem`, `FSCloseReceipt`). The classic
//! text field is read to the end of the frame (drivers send 40 or 48
//! bytes), zeros stripped.

use crate::device::{Device, Level, Reply, err};
use crate::receipt::{CloseRefusal, Item, OpenReceipt, ReceiptType, change_due, line_sum};
use crate::tape;
use shtrih::tax_code::{self, TaxCodeTable};
use shtrih::wire::{Reader, Writer, decode_cp1251};
use sim_fn::storage::{ArchivedPosition, Document};

fn param<T, E>(r: Result<T, E>) -> Result<T, u8> {
    r.map_err(|_| err::BAD_PARAM)
}

/// Classic tax group 1–4: the first four rows of the default tax table
/// (20 %, 10 %, 0 %, no VAT).
fn classic_tax_group(group: u8) -> Option<kkt::VatRate> {
    tax_code::RATES
        .get(usize::from(group).checked_sub(1)?)
        .copied()
        .filter(|_| group <= 4)
}

/// The position as the FN archives it. On an FFD 1.2 device a position
/// registered without tag 2108 is archived with 0 (pieces): the vendor's
/// FFD 1.2 note gives 0 as the measure's default, and its JavaPOS driver
/// sends 2108 only when the sale names another measure.
fn archived(item: &Item, ffd_1_2: bool) -> ArchivedPosition {
    ArchivedPosition {
        name: item.name.clone(),
        quantity: item.quantity,
        price: item.price,
        sum: item.sum,
        vat: item.vat.map(tax_code::tag_1199),
        method: item.method,
        object: item.object,
        measure: item.measure().or(ffd_1_2.then_some(0)),
    }
}

impl Device {
    /// Opens a receipt of `kind`, or checks the open one has that kind.
    fn start_receipt(&mut self, kind: ReceiptType) -> Result<(), u8> {
        if self.pending_date.is_some() || self.pending_doc.is_some() {
            return Err(err::WRONG_MODE);
        }
        self.check_printer()?;
        if let Some(r) = &self.receipt {
            return if r.kind == kind {
                Ok(())
            } else {
                Err(err::WRONG_RECEIPT_TYPE)
            };
        }
        let fs = &self.state.fn_storage;
        if !fs.shift.open {
            return Err(err::SHIFT_CLOSED);
        }
        if fs.shift_expired(self.now()) {
            return Err(err::SHIFT_EXPIRED);
        }
        self.check_fn()?;
        self.receipt = Some(OpenReceipt::new(kind));
        Ok(())
    }

    fn add_item(&mut self, mut item: Item) {
        if let Some(code) = self.marking.bound_next.take() {
            item.marking_code = Some(code);
            self.marking.last_awaits_bind = false;
        } else {
            self.marking.last_awaits_bind = self.marking.accepted.is_some();
        }
        if let Some(r) = &mut self.receipt {
            r.items.push(item);
        }
    }

    /// Signs, prints and forgets the open receipt; returns the document and
    /// the change.
    fn finish_receipt(
        &mut self,
        payments: &[u64; 16],
        rounding: u64,
        tax_system: u8,
    ) -> Result<(Document, u64), u8> {
        let Some(receipt) = self.receipt.as_ref() else {
            return Err(err::RECEIPT_CLOSED);
        };
        self.check_printer()?;
        if receipt.items.is_empty() {
            return Err(err::BAD_PARAM);
        }
        let total = receipt.total().saturating_sub(rounding);
        let change = change_due(total, payments).map_err(|e| match e {
            CloseRefusal::PaymentsLessThanTotal => err::PAYMENTS_LESS,
            CloseRefusal::NonCashExceedsTotal => err::NON_CASH_EXCEEDS,
        })?;
        let cash_kept = payments[0] - change;
        let cash_comes_in = matches!(
            receipt.kind,
            ReceiptType::Sale | ReceiptType::PurchaseReturn
        );
        if !cash_comes_in && cash_kept > self.state.cash {
            return Err(err::NO_CASH);
        }
        self.check_fn()?;
        let mut receipt = receipt.clone();
        if let Some(code) = self.marking.bound_next.take()
            && let Some(last) = receipt.items.last_mut()
            && last.marking_code.is_none()
        {
            // Bound after its position was registered.
            last.marking_code = Some(code);
        }
        let now = self.now();
        let ffd_1_2 = self.runs_ffd_1_2();
        let doc = self
            .state
            .fn_storage
            .commit_receipt(
                now,
                receipt.kind.tag1054(),
                total,
                receipt.items.iter().map(|i| archived(i, ffd_1_2)).collect(),
            )
            .map_err(|e| e.code())?;
        if cash_comes_in {
            self.state.cash = self.state.cash.saturating_add(cash_kept);
        } else {
            self.state.cash -= cash_kept;
        }
        self.receipt = None;
        self.marking = Default::default();
        let entry = tape::receipt(
            &self.identity.header(),
            &self.state.fn_storage.serial,
            &receipt,
            payments,
            change,
            tax_system,
            &doc,
        );
        self.print(entry);
        Ok((doc, change))
    }

    /// 0x8D: type 0 sale, 1 purchase, 2 sale return, 3 purchase return.
    pub(crate) fn open_receipt(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let t = param(r.u8("receipt type"))?;
        let kind = ReceiptType::from_classic(t).ok_or(err::BAD_PARAM)?;
        if self.receipt.is_some() {
            // What a real ШТРИХ-ЛАЙТ-02Ф answered (vendor log-player capture).
            return Err(err::WRONG_MODE);
        }
        self.start_receipt(kind)?;
        Ok(vec![op])
    }

    /// 0x80 / 0x82: quantity (5, thousandths), price (5), department,
    /// taxes 1–4, text.
    pub(crate) fn classic_item(&mut self, r: &mut Reader, kind: ReceiptType) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let qty = param(r.uint(5, "quantity"))?;
        let price = param(r.uint(5, "price"))?;
        let department = param(r.u8("department"))?;
        let taxes = param(r.take(4, "taxes"))?;
        let name = decode_cp1251(r.rest());
        if qty == 0 {
            return Err(err::BAD_PARAM);
        }
        self.start_receipt(kind)?;
        let quantity = qty.saturating_mul(1000);
        self.add_item(Item {
            name,
            quantity,
            price,
            sum: line_sum(quantity, price),
            vat: taxes
                .iter()
                .copied()
                .find(|t| *t != 0)
                .and_then(classic_tax_group),
            department,
            method: 4,
            object: 1,
            marking_code: None,
            tlvs: Vec::new(),
        });
        Ok(vec![op])
    }

    /// 0x85: cash, payment types 2–4, discount (2, signed), taxes, text;
    /// answers the operator and the change.
    pub(crate) fn classic_close(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let mut payments = [0u64; 16];
        for p in payments.iter_mut().take(4) {
            *p = param(r.uint(5, "payment"))?;
        }
        let _discount = param(r.u16("discount"))?;
        let _taxes = param(r.take(4, "taxes"))?;
        let (_, change) = self.finish_receipt(&payments, 0, 0)?;
        Ok(Writer::new().u8(op).uint(change, 5).into_bytes())
    }

    /// 0x88.
    pub(crate) fn cancel_receipt(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        if self.receipt.take().is_none() {
            return Err(err::RECEIPT_CLOSED);
        }
        self.marking = Default::default();
        let (paper, cover_open) = self.faults.sensors();
        if paper && !cover_open && self.interrupted_print.is_none() {
            let entry = tape::cancelled(&self.identity.header(), self.now());
            self.print(entry);
        }
        Ok(vec![op])
    }

    /// 0xFF46: type (tag 1054), quantity (6, millionths), price, sum and
    /// tax amount (5 each, all-FF = let the device compute), tax byte (a
    /// bit mask, [`crate::tax_code`]),
    /// department, payment method (1214), payment object (1212), name.
    pub(crate) fn operation_v2(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::Operator)?;
        let t = param(r.u8("operation"))?;
        let quantity = param(r.uint(6, "quantity"))?;
        let price = param(r.uint(5, "price"))?;
        let sum = param(r.uint(5, "sum"))?;
        let _tax_amount = param(r.uint(5, "tax amount"))?;
        let tax = param(r.u8("tax"))?;
        let department = param(r.u8("department"))?;
        let method = param(r.u8("payment method"))?;
        let object = param(r.u8("payment object"))?;
        let name = decode_cp1251(r.rest());
        let kind = ReceiptType::from_tag1054(t).ok_or(err::BAD_PARAM)?;
        if quantity == 0 || name.is_empty() {
            return Err(err::BAD_PARAM);
        }
        // A bit mask with one rate, in this model's codes; anything else is
        // refused as a bad parameter, nothing registered.
        let table = TaxCodeTable::for_model(self.identity.model_id);
        let vat = tax_code::rate_of_byte(tax, table).map_err(|_| err::BAD_PARAM)?;
        const COMPUTE: u64 = 0xFF_FFFF_FFFF;
        let sum = if sum == COMPUTE {
            line_sum(quantity, price)
        } else {
            sum
        };
        self.start_receipt(kind)?;
        self.add_item(Item {
            name,
            quantity,
            price,
            sum,
            vat: Some(vat),
            department,
            method,
            object,
            marking_code: None,
            tlvs: Vec::new(),
        });
        Ok(vec![])
    }

    /// 0xFF45 (6 tax sums), 0xFF76 (10) and 0xFF78 (12): 16 payment sums,
    /// rounding (kopecks), the tax sums, tax system mask, text; answers
    /// change, FD number, fiscal sign, and for 0xFF45 the date and time
    /// (the vendor driver's layout; a real device answered 0xFF76 without
    /// them). Firmware without the 2025 commands answers 0x37.
    pub(crate) fn close_receipt_extended(&mut self, r: &mut Reader, tax_slots: usize) -> Reply {
        if tax_slots > 6 && !self.identity.close_v3_v4 {
            return Err(err::UNSUPPORTED);
        }
        self.auth(r, Level::Operator)?;
        let mut payments = [0u64; 16];
        for p in payments.iter_mut() {
            *p = param(r.uint(5, "payment"))?;
        }
        let rounding = param(r.u8("rounding"))? as u64;
        for _ in 0..tax_slots {
            param(r.uint(5, "tax sum"))?;
        }
        let tax_system = param(r.u8("tax system"))?;
        let (doc, change) = self.finish_receipt(&payments, rounding, tax_system)?;
        let w = Writer::new()
            .uint(change, 5)
            .u32(doc.number)
            .u32(doc.fiscal_sign);
        Ok(if tax_slots == 6 {
            w.fn_datetime(doc.time).into_bytes()
        } else {
            w.into_bytes()
        })
    }
}
