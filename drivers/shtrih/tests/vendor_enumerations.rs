//! Every enumeration that ends up in a device byte, pinned to the value the
//! vendor's own software uses, so a refactor cannot renumber one silently.
//!
//! Sources (named per table): the vendor JavaPOS driver
//! `shtrih-m/javapos_shtrih` at af0a237 (2026-02-18) —
//! `FiscalPrinterImpl.getVatCodeShtrih[Nano]`, `VatRate`, `TLVTags`
//! (`addList1214`, `addList2108`, `addBits1055`), `FSCloseReceipt`; and the
//! vendor developer's log parser `VitalyKravtsov2016/logplayer`
//! `CommandParser.pas` (`CheckTypeToString`, `CheckType2ToString`,
//! `PaymentItemSignToString`, `PaymentTypeSigntoString`,
//! `TaxTypeToString`).

use kkt::{MeasureUnit, Operation, PaymentMethod, PaymentObject, TaxSystem, VatRate};
use shtrih::commands::{OpenReceipt, payment_index};
use shtrih::tax_code::{RATES, TaxCodeTable, tax_byte};

#[test]
fn ff46_tax_byte_is_the_vendor_bit_mask() {
    // getVatCodeShtrih / getVatCodeShtrihNano, vatId 1..12 in VatRate order.
    let vendor: [(VatRate, u8, u8); 12] = [
        (VatRate::Vat20, 0x01, 0x01),
        (VatRate::Vat10, 0x02, 0x02),
        (VatRate::Vat0, 0x04, 0x04),
        (VatRate::NoVat, 0x08, 0x08),
        (VatRate::Vat20_120, 0x10, 0x10),
        (VatRate::Vat10_110, 0x20, 0x20),
        (VatRate::Vat5, 0x81, 0x81),
        (VatRate::Vat7, 0x82, 0x82),
        (VatRate::Vat5_105, 0x84, 0x84),
        (VatRate::Vat7_107, 0x88, 0x88),
        (VatRate::Vat22, 0xCB, 0x90),
        (VatRate::Vat22_122, 0xCC, 0xA0),
    ];
    for (i, (rate, standard, nano)) in vendor.into_iter().enumerate() {
        assert_eq!(RATES[i], rate, "vendor order, vatId {}", i + 1);
        assert_eq!(tax_byte(rate, TaxCodeTable::Standard), standard, "{rate:?}");
        assert_eq!(
            tax_byte(rate, TaxCodeTable::Nano),
            nano,
            "{rate:?} on NANO-F"
        );
    }
    // PrinterConst.PRINTER_MODEL_SHTRIH_NANO_F.
    assert_eq!(TaxCodeTable::for_model(152), TaxCodeTable::Nano);
}

#[test]
fn tag_1054_operation_type_of_ff46() {
    // CheckType2ToString: 1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода.
    assert_eq!(Operation::Income.code(), 1);
    assert_eq!(Operation::IncomeReturn.code(), 2);
    assert_eq!(Operation::Expense.code(), 3);
    assert_eq!(Operation::ExpenseReturn.code(), 4);
}

#[test]
fn open_receipt_type_of_8d() {
    // CheckTypeToString: 0 приход, 1 расход, 2 возврат прихода, 3 возврат расхода.
    assert_eq!(OpenReceipt::SALE, 0);
    assert_eq!(OpenReceipt::SALE_RETURN, 2);
}

#[test]
fn tag_1214_payment_method() {
    // TLVTags.addList1214 and PaymentTypeSigntoString.
    let vendor = [
        (PaymentMethod::FullPrepayment, 1),
        (PaymentMethod::PartialPrepayment, 2),
        (PaymentMethod::Advance, 3),
        (PaymentMethod::FullPayment, 4),
        (PaymentMethod::PartialPaymentAndCredit, 5),
        (PaymentMethod::Credit, 6),
        (PaymentMethod::CreditPayment, 7),
    ];
    for (m, code) in vendor {
        assert_eq!(m.code(), code, "{m:?}");
    }
}

#[test]
fn tag_1212_payment_object() {
    // PaymentItemSignToString: 1 Товар, 2 Подакцизный товар, 3 Работа,
    // 4 Услуга, 10 Платеж, 30 АТНМ, 31 АТМ, 32 ТНМ, 33 ТМ.
    let vendor = [
        (PaymentObject::COMMODITY, 1),
        (PaymentObject::EXCISE, 2),
        (PaymentObject::JOB, 3),
        (PaymentObject::SERVICE, 4),
        (PaymentObject::PAYMENT, 10),
        (PaymentObject::EXCISE_MARKED_NO_CODE, 30),
        (PaymentObject::EXCISE_MARKED, 31),
        (PaymentObject::MARKED_NO_CODE, 32),
        (PaymentObject::MARKED, 33),
    ];
    for (o, code) in vendor {
        assert_eq!(o.0, code);
    }
}

#[test]
fn tag_2108_measure() {
    // TLVTags.addList2108.
    let vendor = [
        (MeasureUnit::PIECE, 0),
        (MeasureUnit::GRAM, 10),
        (MeasureUnit::KILOGRAM, 11),
        (MeasureUnit::TONNE, 12),
        (MeasureUnit::CENTIMETRE, 20),
        (MeasureUnit::DECIMETRE, 21),
        (MeasureUnit::METRE, 22),
        (MeasureUnit::SQUARE_CENTIMETRE, 30),
        (MeasureUnit::SQUARE_DECIMETRE, 31),
        (MeasureUnit::SQUARE_METRE, 32),
        (MeasureUnit::MILLILITRE, 40),
        (MeasureUnit::LITRE, 41),
        (MeasureUnit::CUBIC_METRE, 42),
        (MeasureUnit::KILOWATT_HOUR, 50),
        (MeasureUnit::GIGACALORIE, 51),
        (MeasureUnit::DAY, 70),
        (MeasureUnit::HOUR, 71),
        (MeasureUnit::MINUTE, 72),
        (MeasureUnit::SECOND, 73),
        (MeasureUnit::KILOBYTE, 80),
        (MeasureUnit::MEGABYTE, 81),
        (MeasureUnit::GIGABYTE, 82),
        (MeasureUnit::TERABYTE, 83),
        (MeasureUnit::OTHER, 255),
    ];
    for (u, code) in vendor {
        assert_eq!(u.0, code);
    }
}

#[test]
fn tag_1055_tax_system_bit_of_ff45() {
    // TLVTags.addBits1055 (bit numbers) and TaxTypeToString (byte values).
    let vendor = [
        (TaxSystem::General, 1),
        (TaxSystem::SimplifiedIncome, 2),
        (TaxSystem::SimplifiedIncomeExpense, 4),
        (TaxSystem::Envd, 8),
        (TaxSystem::Agricultural, 16),
        (TaxSystem::Patent, 32),
    ];
    for (t, bit) in vendor {
        assert_eq!(t.bit(), bit, "{t:?}");
    }
}

#[test]
fn ff45_payment_slots() {
    // FSCloseReceipt: sum 1 cash, 2..13 electronic, 14 prepayment, 15
    // postpayment (credit), 16 counter-provision; indexes from 0.
    assert_eq!(payment_index::CASH, 0);
    assert_eq!(payment_index::ELECTRONIC, 1);
    assert_eq!(payment_index::PREPAYMENT, 13);
    assert_eq!(payment_index::CREDIT, 14);
    assert_eq!(payment_index::OTHER, 15);
}
