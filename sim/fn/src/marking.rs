//! Marking codes as the simulated FN and OISM judge them, the same for
//! every emulator: a code containing `BAD` fails the FN's own crypto check,
//! one containing `WITHDRAWN` passes it but the OISM reports the item's
//! status wrong (tag 2106 = 0x05), and every other code is fully valid
//! (tag 2106 = 0x0F).

/// What the device answers about a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkingVerdict {
    /// FN check status: 1 negative, 2 positive.
    pub local_status: u8,
    /// FN check error: 0 none, 4 check failed.
    pub local_error: u8,
    /// Code type (tag 2100): 0 unknown, 3 code with a 44-char crypto tail.
    pub code_type: u8,
    /// OISM answer (tag 2106 bits: code checked, code valid, status
    /// checked, status valid); `None` when no OISM check happened.
    pub tag2106: Option<u8>,
}

/// The simulated verdict for a code.
pub fn verdict(code: &str) -> MarkingVerdict {
    let code_type = if code.contains('\u{1d}') { 3 } else { 0 };
    if code.contains("BAD") {
        MarkingVerdict {
            local_status: 1,
            local_error: 4,
            code_type,
            tag2106: None,
        }
    } else if code.contains("WITHDRAWN") {
        MarkingVerdict {
            local_status: 2,
            local_error: 0,
            code_type,
            tag2106: Some(0x05),
        }
    } else {
        MarkingVerdict {
            local_status: 2,
            local_error: 0,
            code_type,
            tag2106: Some(0x0F),
        }
    }
}
