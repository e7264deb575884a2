//! The tax byte of operation V2 (0xFF46): a VAT rate as the device takes
//! it, shared by the driver (encoding) and the emulator (decoding, tape
//! label, FFD tag 1199).
//!
//! The byte is a bit mask, not a row number. Bits 0–5 select the six
//! classic rates (20 %, 10 %, 0 %, no VAT, 20/120, 10/110); bit 7 marks the
//! 2025–26 rates, whose codes the vendor's JavaPOS driver
//! (`FiscalPrinterImpl.getVatCodeShtrih` / `getVatCodeShtrihNano`, February
//! 2026) lists per model: ШТРИХ-NANO-Ф (model 152 in 0xFC) numbers 22 % and
//! 22/122 differently from every other model. A real ШТРИХ-ЛАЙТ-02Ф
//! (firmware of 17.12.2025) accepted 0xCB for 22 % (vendor log-player
//! capture, kept in `sim/shtrih/tests/data/shtrih_captures.txt`).

use kkt::VatRate;

/// Model number ШТРИХ-NANO-Ф reports in 0xFC (vendor
/// `PrinterConst.PRINTER_MODEL_SHTRIH_NANO_F`).
pub const MODEL_SHTRIH_NANO_F: u8 = 152;

/// Which tax-byte table a device uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxCodeTable {
    /// Every model but ШТРИХ-NANO-Ф.
    Standard,
    /// ШТРИХ-NANO-Ф.
    Nano,
}

impl TaxCodeTable {
    /// The table for the model number 0xFC reports.
    pub fn for_model(model: u8) -> Self {
        if model == MODEL_SHTRIH_NANO_F {
            TaxCodeTable::Nano
        } else {
            TaxCodeTable::Standard
        }
    }
}

/// Every rate in the vendor driver's order (`initVatRates`).
pub const RATES: [VatRate; 12] = [
    VatRate::Vat20,
    VatRate::Vat10,
    VatRate::Vat0,
    VatRate::NoVat,
    VatRate::Vat20_120,
    VatRate::Vat10_110,
    VatRate::Vat5,
    VatRate::Vat7,
    VatRate::Vat5_105,
    VatRate::Vat7_107,
    VatRate::Vat22,
    VatRate::Vat22_122,
];

/// The 0xFF46 tax byte of `vat` on a device using `table`.
pub fn tax_byte(vat: VatRate, table: TaxCodeTable) -> u8 {
    match (vat, table) {
        (VatRate::Vat20, _) => 0x01,
        (VatRate::Vat10, _) => 0x02,
        (VatRate::Vat0, _) => 0x04,
        (VatRate::NoVat, _) => 0x08,
        (VatRate::Vat20_120, _) => 0x10,
        (VatRate::Vat10_110, _) => 0x20,
        (VatRate::Vat5, _) => 0x81,
        (VatRate::Vat7, _) => 0x82,
        (VatRate::Vat5_105, _) => 0x84,
        (VatRate::Vat7_107, _) => 0x88,
        (VatRate::Vat22, TaxCodeTable::Standard) => 0xCB,
        (VatRate::Vat22, TaxCodeTable::Nano) => 0x90,
        (VatRate::Vat22_122, TaxCodeTable::Standard) => 0xCC,
        (VatRate::Vat22_122, TaxCodeTable::Nano) => 0xA0,
    }
}

/// Why a device refuses a tax byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaxByteError {
    /// More than one classic rate bit (or none at all).
    #[error("tax byte {0:#04x} selects more or fewer than one rate")]
    NotOneRate(u8),
    /// A 2025–26 code this model does not know.
    #[error("tax byte {0:#04x} is no rate of this model")]
    Unknown(u8),
}

/// The rate a device using `table` reads from a tax byte.
pub fn rate_of_byte(b: u8, table: TaxCodeTable) -> Result<VatRate, TaxByteError> {
    if b & 0x80 == 0 {
        // Classic form: a mask of bits 0–5, exactly one set.
        if b & 0xC0 != 0 || b.count_ones() != 1 {
            return Err(TaxByteError::NotOneRate(b));
        }
        let bit = b.trailing_zeros() as usize;
        return Ok(RATES[bit]);
    }
    RATES
        .iter()
        .copied()
        .find(|r| tax_byte(*r, table) == b)
        .ok_or(TaxByteError::Unknown(b))
}

/// The rate as a receipt prints it (vendor `VatRate` display names).
pub fn tape_label(vat: VatRate) -> &'static str {
    match vat {
        VatRate::Vat20 => "НДС 20%",
        VatRate::Vat10 => "НДС 10%",
        VatRate::Vat0 => "НДС 0%",
        VatRate::NoVat => "БЕЗ НДС",
        VatRate::Vat20_120 => "НДС 20/120",
        VatRate::Vat10_110 => "НДС 10/110",
        VatRate::Vat5 => "НДС 5%",
        VatRate::Vat7 => "НДС 7%",
        VatRate::Vat5_105 => "НДС 5/105",
        VatRate::Vat7_107 => "НДС 7/107",
        VatRate::Vat22 => "НДС 22%",
        VatRate::Vat22_122 => "НДС 22/122",
    }
}

/// FFD tag 1199 value the FN stores for the rate. 1–6 are the vendor
/// driver's `TLVTags.addList1199`; 7–10 are the 5 % / 7 % values added to
/// FFD in 2025; 22 % and 22/122 reuse 1 and 3, which the tax service
/// reassigned to the new standard rate from 2026 (no device capture of a
/// 22 % receipt's TLV was available to confirm this).
pub fn tag_1199(vat: VatRate) -> u8 {
    match vat {
        VatRate::Vat20 | VatRate::Vat22 => 1,
        VatRate::Vat10 => 2,
        VatRate::Vat20_120 | VatRate::Vat22_122 => 3,
        VatRate::Vat10_110 => 4,
        VatRate::Vat0 => 5,
        VatRate::NoVat => 6,
        VatRate::Vat5 => 7,
        VatRate::Vat7 => 8,
        VatRate::Vat5_105 => 9,
        VatRate::Vat7_107 => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_rate_reads_back_on_both_tables() {
        for table in [TaxCodeTable::Standard, TaxCodeTable::Nano] {
            for r in RATES {
                assert_eq!(rate_of_byte(tax_byte(r, table), table), Ok(r), "{r:?}");
            }
        }
    }

    #[test]
    fn the_other_models_22_percent_code_is_refused() {
        assert_eq!(
            rate_of_byte(0xCB, TaxCodeTable::Nano),
            Err(TaxByteError::Unknown(0xCB))
        );
        assert_eq!(
            rate_of_byte(0x90, TaxCodeTable::Standard),
            Err(TaxByteError::Unknown(0x90))
        );
    }

    #[test]
    fn two_rate_bits_or_none_are_refused() {
        for b in [0x00, 0x03, 0x0C, 0x21, 0x40, 0x41] {
            assert_eq!(
                rate_of_byte(b, TaxCodeTable::Standard),
                Err(TaxByteError::NotOneRate(b))
            );
        }
    }

    #[test]
    fn nano_is_chosen_by_model_152_only() {
        assert_eq!(TaxCodeTable::for_model(152), TaxCodeTable::Nano);
        assert_eq!(TaxCodeTable::for_model(250), TaxCodeTable::Standard);
    }

    proptest! {
        #[test]
        fn a_byte_is_accepted_only_as_the_code_of_its_rate(b in any::<u8>()) {
            for table in [TaxCodeTable::Standard, TaxCodeTable::Nano] {
                if let Ok(r) = rate_of_byte(b, table) {
                    prop_assert_eq!(tax_byte(r, table), b);
                }
            }
        }
    }
}
