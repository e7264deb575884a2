//! Receipt commands: open receipt (0x8D), operation V2 (0xFF46), close
//! receipt V2/V3/V4 (0xFF45/0xFF76/0xFF78), cancel (0x88), continue printing (0xB0), cash in/out
//! (0x50/0x51), print line (0x17) and cut (0x25).
//!
//! Layouts, after the password, as the vendor JavaPOS driver
//! (`FSPrintRecItem`, `FSCloseReceipt`) and the vendor's log parser
//! (`VitalyKravtsov2016/logplayer`, `ParserCommandFF45/FF46`) write them:
//! - 0xFF46: receipt type(1: 1 sale, 2 sale return, 3 purchase, 4 purchase
//!   return), quantity(6, millionths), price(5), sum(5, all-FF = device
//!   computes), tax amount(5, all-FF = device computes), tax(1), department(1),
//!   payment method 1214(1), payment object 1212(1), name (≤128 CP1251, no
//!   padding). Answer: nothing.
//! - 0xFF45: 16 payment sums × 5 (index 0 cash, 1 electronic, …, 13
//!   prepayment offset, 14 credit, 15 counter-provision), rounding(1), 6 tax
//!   sums × 5, tax system(1, bit mask), text (≤64, no padding). Answer:
//!   change(5), FD number(4), fiscal sign(4), and on newer firmware the
//!   document date-time(5 `YY MM DD HH MM`).
//! - 0xFF76 / 0xFF78: as 0xFF45 with 10 / 12 tax sums; a real device
//!   answered change, FD number and fiscal sign only.
//! - 0x50/0x51: sum(5); answer operator, document number(2).

use super::{Answer, Command, Operator, bodyless_command, read_opt_money, write_opt_money};
use crate::frame::Code;
use crate::wire::{Reader, WireError, Writer, decode_cp1251};
use jiff::civil::DateTime;

/// 0x8D: open a receipt of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenReceipt {
    /// 0 sale, 1 purchase, 2 sale return, 3 purchase return.
    pub receipt_type: u8,
}

impl OpenReceipt {
    pub const SALE: u8 = 0;
    pub const SALE_RETURN: u8 = 2;
}

impl Command for OpenReceipt {
    const CODE: Code = Code(0x8D);
    const NAME: &'static str = "open receipt";
    type Answer = Operator;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.receipt_type)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(OpenReceipt {
            receipt_type: r.u8("receipt type")?,
        })
    }
}

/// Longest position name 0xFF46 carries.
pub const OPERATION_NAME_MAX: usize = 128;

/// 0xFF46: register one position (operation V2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationV2 {
    /// 1 sale (приход), 2 sale return, 3 purchase (расход), 4 purchase return.
    pub operation: u8,
    /// Millionths (6 bytes on the wire).
    pub quantity: u64,
    /// Kopecks.
    pub price: u64,
    /// Line sum in kopecks; `None` = device computes price × quantity.
    pub sum: Option<u64>,
    /// VAT amount in kopecks; `None` = device computes.
    pub tax_amount: Option<u64>,
    /// VAT rate bit mask ([`crate::tax_code`]).
    pub tax: u8,
    pub department: u8,
    /// Payment method sign, tag 1214.
    pub payment_method: u8,
    /// Payment object sign, tag 1212.
    pub payment_object: u8,
    pub name: String,
}

impl Command for OperationV2 {
    const CODE: Code = Code(0xFF46);
    const NAME: &'static str = "operation V2";
    type Answer = super::Empty;
    fn write_body(&self, w: Writer) -> Writer {
        let w = w
            .u8(self.operation)
            .uint(self.quantity, 6)
            .uint(self.price, 5);
        let w = write_opt_money(w, self.sum);
        write_opt_money(w, self.tax_amount)
            .u8(self.tax)
            .u8(self.department)
            .u8(self.payment_method)
            .u8(self.payment_object)
            .text_var(&self.name, OPERATION_NAME_MAX)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(OperationV2 {
            operation: r.u8("operation type")?,
            quantity: r.uint(6, "quantity")?,
            price: r.uint(5, "price")?,
            sum: read_opt_money(r, "sum")?,
            tax_amount: read_opt_money(r, "tax amount")?,
            tax: r.u8("tax")?,
            department: r.u8("department")?,
            payment_method: r.u8("payment method")?,
            payment_object: r.u8("payment object")?,
            name: decode_cp1251(r.rest()),
        })
    }
}

/// Index of each payment kind in 0xFF45's 16 sums.
pub mod payment_index {
    pub const CASH: usize = 0;
    pub const ELECTRONIC: usize = 1;
    /// Type 14: offset of a prepayment (зачёт аванса).
    pub const PREPAYMENT: usize = 13;
    /// Type 15: credit (в кредит).
    pub const CREDIT: usize = 14;
    /// Type 16: counter-provision (встречное представление).
    pub const OTHER: usize = 15;
}

/// Longest trailer text 0xFF45 carries.
pub const CLOSE_TEXT_MAX: usize = 64;

/// Close the receipt, extended form with `SLOTS` tax sums: 0xFF45 (V2, six
/// slots), 0xFF76 (V3, ten) and 0xFF78 (V4, twelve). V3 and V4 exist on
/// firmware from 2025 for the new rates; the vendor's log player names
/// them and a real ШТРИХ-ЛАЙТ-02Ф answered both. Slots 1–6 are VAT 20 %,
/// VAT 10 %, turnover at 0 %, turnover without VAT, VAT 20/120, VAT 10/110;
/// 7–10 carried 5 %, 7 %, 5/105, 7/107 in the captured V3 request (the
/// order of 11–12, 22 % and 22/122, is inferred).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReceipt<const SLOTS: usize> {
    /// Kopecks by payment type, see [`payment_index`].
    pub payments: [u64; 16],
    /// Rounding to a ruble, kopecks (0–99).
    pub rounding: u8,
    /// Tax sums in kopecks (ignored by a device computing taxes itself,
    /// tax mode 0 of table 1).
    pub taxes: [u64; SLOTS],
    /// Tax system bit mask (tag 1055): bit 0 ОСН … bit 5 ПСН.
    pub tax_system: u8,
    pub text: String,
}

impl<const SLOTS: usize> Default for CloseReceipt<SLOTS> {
    fn default() -> Self {
        CloseReceipt {
            payments: [0; 16],
            rounding: 0,
            taxes: [0; SLOTS],
            tax_system: 0,
            text: String::new(),
        }
    }
}

/// 0xFF45: close the receipt (V2, extended).
pub type CloseReceiptV2 = CloseReceipt<6>;
/// 0xFF76: close the receipt (V3, ten tax sums).
pub type CloseReceiptV3 = CloseReceipt<10>;
/// 0xFF78: close the receipt (V4, twelve tax sums).
pub type CloseReceiptV4 = CloseReceipt<12>;

macro_rules! close_receipt_command {
    ($slots:expr, $code:expr, $name:expr) => {
        impl Command for CloseReceipt<$slots> {
            const CODE: Code = Code($code);
            const NAME: &'static str = $name;
            type Answer = CloseReceiptAnswer;
            fn write_body(&self, w: Writer) -> Writer {
                let w = self.payments.iter().fold(w, |w, p| w.uint(*p, 5));
                let w = w.u8(self.rounding);
                let w = self.taxes.iter().fold(w, |w, t| w.uint(*t, 5));
                w.u8(self.tax_system).text_var(&self.text, CLOSE_TEXT_MAX)
            }
            fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
                let mut payments = [0u64; 16];
                for p in payments.iter_mut() {
                    *p = r.uint(5, "payment sum")?;
                }
                let rounding = r.u8("rounding")?;
                let mut taxes = [0u64; $slots];
                for t in taxes.iter_mut() {
                    *t = r.uint(5, "tax sum")?;
                }
                Ok(CloseReceipt {
                    payments,
                    rounding,
                    taxes,
                    tax_system: r.u8("tax system")?,
                    text: decode_cp1251(r.rest()),
                })
            }
        }
    };
}
close_receipt_command!(6, 0xFF45, "close receipt V2");
close_receipt_command!(10, 0xFF76, "close receipt V3");
close_receipt_command!(12, 0xFF78, "close receipt V4");

/// Answer to 0xFF45 / 0xFF76 / 0xFF78.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CloseReceiptAnswer {
    pub change: u64,
    pub fd_number: u32,
    pub fiscal_sign: u32,
    /// Present on newer firmware.
    pub time: Option<DateTime>,
}

impl Answer for CloseReceiptAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = w
            .uint(self.change, 5)
            .u32(self.fd_number)
            .u32(self.fiscal_sign);
        match self.time {
            Some(t) => w.fn_datetime(t),
            None => w,
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let change = r.uint(5, "change")?;
        let fd_number = r.u32("FD number")?;
        let fiscal_sign = r.u32("fiscal sign")?;
        let time = if r.remaining() >= 5 {
            super::read_opt_fn_datetime(r, "document date-time")?
        } else {
            None
        };
        Ok(CloseReceiptAnswer {
            change,
            fd_number,
            fiscal_sign,
            time,
        })
    }
}

bodyless_command!(
    /// 0x88: cancel (annul) the open receipt.
    CancelReceipt, 0x88, "cancel receipt", Operator
);
bodyless_command!(
    /// 0xB0: continue printing after paper out.
    ContinuePrint, 0xB0, "continue printing", Operator
);

/// 0x50: cash in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashIn {
    pub sum: u64,
}

/// 0x51: cash out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashOut {
    pub sum: u64,
}

/// Answer to 0x50 / 0x51.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CashAnswer {
    pub operator: u8,
    pub document_number: u16,
}

impl Answer for CashAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.u8(self.operator).u16(self.document_number)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(CashAnswer {
            operator: r.u8("operator")?,
            document_number: r.u16("document number")?,
        })
    }
}

macro_rules! cash_command {
    ($name:ident, $code:expr, $text:expr) => {
        impl Command for $name {
            const CODE: Code = Code($code);
            const NAME: &'static str = $text;
            type Answer = CashAnswer;
            fn write_body(&self, w: Writer) -> Writer {
                w.uint(self.sum, 5)
            }
            fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok($name {
                    sum: r.uint(5, "sum")?,
                })
            }
        }
    };
}
cash_command!(CashIn, 0x50, "cash in");
cash_command!(CashOut, 0x51, "cash out");

/// Widest text 0x17 prints on a line (the vendor driver cuts a line to
/// its print width and sends it unpadded).
pub const PRINT_LINE_WIDTH: usize = 40;

/// 0x17: print a line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintLine {
    /// Bit 0 journal, bit 1 receipt tape.
    pub flags: u8,
    pub text: String,
}

impl Command for PrintLine {
    const CODE: Code = Code(0x17);
    const NAME: &'static str = "print line";
    type Answer = Operator;
    fn write_body(&self, w: Writer) -> Writer {
        // An empty line goes as a space, as the vendor driver sends it.
        let text = if self.text.is_empty() {
            " "
        } else {
            &self.text
        };
        w.u8(self.flags).text_var(text, PRINT_LINE_WIDTH)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(PrintLine {
            flags: r.u8("flags")?,
            text: decode_cp1251(r.rest()),
        })
    }
}

/// 0x25: cut the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// false full cut, true partial.
    pub partial: bool,
}

impl Command for Cut {
    const CODE: Code = Code(0x25);
    const NAME: &'static str = "cut";
    type Answer = Operator;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.partial as u8)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Cut {
            partial: r.u8("cut type")? != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{roundtrip, strategies};
    use proptest::prelude::*;

    #[test]
    fn operation_v2_layout_matches_the_reference() {
        let op = OperationV2 {
            operation: 1,
            quantity: 1_500_000,
            price: 10_000,
            sum: None,
            tax_amount: None,
            tax: 1,
            department: 1,
            payment_method: 4,
            payment_object: 1,
            name: "Хлеб".into(),
        };
        let f = crate::commands::request_frame(30, &op);
        let mut want = vec![30, 0, 0, 0, 1];
        want.extend_from_slice(&[0x60, 0xE3, 0x16, 0, 0, 0]); // 1.5 × 10⁶
        want.extend_from_slice(&[0x10, 0x27, 0, 0, 0]); // 100.00
        want.extend_from_slice(&[0xFF; 10]);
        want.extend_from_slice(&[1, 1, 4, 1, 0xD5, 0xEB, 0xE5, 0xE1]);
        assert_eq!(f.payload, want);
        assert_eq!(f.code, Code(0xFF46));
    }

    #[test]
    fn close_receipt_body_is_182_bytes_plus_text() {
        let c = CloseReceiptV2::default();
        let f = crate::commands::request_frame(30, &c);
        assert_eq!(f.payload.len(), 4 + 16 * 5 + 1 + 6 * 5 + 1);
    }

    #[test]
    fn close_answer_without_time_reads() {
        let f =
            crate::frame::Frame::new(Code(0xFF45), vec![0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 2, 3, 4]);
        let a = crate::commands::parse_answer::<CloseReceiptV2>(&f)
            .unwrap()
            .unwrap();
        assert_eq!((a.fd_number, a.fiscal_sign, a.time), (7, 0x0403_0201, None));
    }

    proptest! {
        #[test]
        fn operation_v2_round_trips(op in 1u8..=4, q in 0u64..(1 << 48), price in strategies::money(),
                                    sum in proptest::option::of(strategies::money()),
                                    tax_amount in proptest::option::of(strategies::money()),
                                    b in any::<[u8; 4]>(), name in strategies::text(60)) {
            roundtrip::request(30, &OperationV2 {
                operation: op, quantity: q, price, sum, tax_amount, tax: b[0], department: b[1],
                payment_method: b[2], payment_object: b[3], name,
            });
        }

        #[test]
        fn close_receipt_round_trips(p in any::<[u32; 16]>(), t in any::<[u32; 6]>(), rounding in 0u8..100,
                                     ts in 0u8..64, text in strategies::text(30),
                                     change in strategies::money(), fd in any::<u32>(), fp in any::<u32>(),
                                     time in proptest::option::of(strategies::fn_datetime())) {
            roundtrip::request(30, &CloseReceiptV2 {
                payments: p.map(u64::from), rounding, taxes: t.map(u64::from), tax_system: ts, text,
            });
            roundtrip::answer::<CloseReceiptV2>(&CloseReceiptAnswer { change, fd_number: fd, fiscal_sign: fp, time });
        }

        #[test]
        fn small_receipt_commands_round_trip(t in 0u8..4, sum in strategies::money(), op in any::<u8>(), doc in any::<u16>(),
                                             text in strategies::text(20), partial in any::<bool>()) {
            roundtrip::request(30, &OpenReceipt { receipt_type: t });
            roundtrip::request(30, &CancelReceipt);
            roundtrip::request(30, &ContinuePrint);
            roundtrip::request(30, &CashIn { sum });
            roundtrip::request(30, &CashOut { sum });
            roundtrip::answer::<CashIn>(&CashAnswer { operator: op, document_number: doc });
            roundtrip::request(30, &PrintLine { flags: 2, text: format!("x{text}") });
            roundtrip::request(30, &Cut { partial });
            roundtrip::answer::<CancelReceipt>(&Operator { operator: op });
        }

        #[test]
        fn receipt_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            roundtrip::fuzz::<OperationV2>(&bytes);
            roundtrip::fuzz::<CloseReceiptV2>(&bytes);
            roundtrip::fuzz::<CashIn>(&bytes);
            roundtrip::fuzz::<PrintLine>(&bytes);
        }
    }
}
