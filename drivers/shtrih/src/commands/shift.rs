//! Shift and report commands.
//!
//! The vendor driver (JavaPOS `SMFiscalPrinterImpl`) opens a shift as
//! "begin shift open" 0xFF41 → TLVs (cashier 1021) via 0xFF0C → open shift
//! 0xE0, and closes it as 0xFF42 → TLVs → Z-report 0x41; the printer then
//! forms the FN document itself. 0xFF0B / 0xFF43 are the bare FN
//! variants, answering shift number(2), FD number(4), fiscal sign(4).
//! X-report 0x40 and Z-report 0x41 answer the operator number, and so does
//! 0xE0 (vendor `BeginFiscalDay`; a recorded ШТРИХ-ЛАЙТ-02Ф answer); the
//! decoder ignores it, since pyshtrih's older devices send none.

use super::{Answer, Empty, Operator, bodyless_command};
use crate::wire::{Reader, WireError, Writer};

bodyless_command!(
    /// 0xFF41: begin opening a shift (TLVs may follow).
    BeginShiftOpen, 0xFF41, "begin shift open", Empty
);
bodyless_command!(
    /// 0xE0: open the shift (prints the shift-open report, forms the FN document).
    OpenShift, 0xE0, "open shift", Empty
);
bodyless_command!(
    /// 0xFF0B: open the shift in the FN.
    OpenShiftFn, 0xFF0B, "open shift in FN", ShiftDocument
);
bodyless_command!(
    /// 0xFF42: begin closing the shift (TLVs may follow).
    BeginShiftClose, 0xFF42, "begin shift close", Empty
);
bodyless_command!(
    /// 0x41: Z-report, closes the shift.
    ZReport, 0x41, "Z-report", Operator
);
bodyless_command!(
    /// 0xFF43: close the shift in the FN.
    CloseShiftFn, 0xFF43, "close shift in FN", ShiftDocument
);
bodyless_command!(
    /// 0x40: X-report (shift totals, no fiscal document).
    XReport, 0x40, "X-report", Operator
);

/// Answer of 0xFF0B / 0xFF43.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShiftDocument {
    pub shift_number: u16,
    pub fd_number: u32,
    pub fiscal_sign: u32,
}

impl Answer for ShiftDocument {
    fn write(&self, w: Writer) -> Writer {
        w.u16(self.shift_number)
            .u32(self.fd_number)
            .u32(self.fiscal_sign)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ShiftDocument {
            shift_number: r.u16("shift number")?,
            fd_number: r.u32("FD number")?,
            fiscal_sign: r.u32("fiscal sign")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn z_report_matches_reference_bytes() {
        let f = crate::commands::request_frame(30, &ZReport);
        assert_eq!(
            f.encode().unwrap(),
            vec![0x02, 0x05, 0x41, 30, 0, 0, 0, 0x05 ^ 0x41 ^ 30]
        );
    }

    proptest! {
        #[test]
        fn shift_commands_round_trip(s in any::<u16>(), fd in any::<u32>(), fp in any::<u32>(), op in any::<u8>(), pw in any::<u32>()) {
            roundtrip::request(pw, &BeginShiftOpen);
            roundtrip::request(pw, &OpenShift);
            roundtrip::request(pw, &OpenShiftFn);
            roundtrip::request(pw, &BeginShiftClose);
            roundtrip::request(pw, &ZReport);
            roundtrip::request(pw, &CloseShiftFn);
            roundtrip::request(pw, &XReport);
            let doc = ShiftDocument { shift_number: s, fd_number: fd, fiscal_sign: fp };
            roundtrip::answer::<OpenShiftFn>(&doc);
            roundtrip::answer::<CloseShiftFn>(&doc);
            roundtrip::answer::<ZReport>(&Operator { operator: op });
            roundtrip::answer::<OpenShift>(&Empty);
        }

        #[test]
        fn shift_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            roundtrip::fuzz::<OpenShiftFn>(&bytes);
            roundtrip::fuzz::<CloseShiftFn>(&bytes);
            roundtrip::fuzz::<XReport>(&bytes);
        }
    }
}
