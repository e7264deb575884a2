//! What the last clean receipt told the worker about its printer, so the
//! next receipt need not ask again.
//!
//! Before a receipt the worker needs the FN serial, the number the FN will
//! give the receipt (journaled in PRINTING for crash recovery) and the open
//! shift. Reading them costs eight commands on the line (shift state, device
//! status, FN status and identity), as much line time as half the receipt.
//! After a receipt closed cleanly they are known: the same FN, the same
//! shift, the next FD number is the receipt's plus one. Nothing else writes
//! to the FN while the worker owns the port, so the knowledge holds until
//! the device is reopened, a shift command runs or anything fails; the
//! worker then drops it and reads everything again.

/// Device facts carried from one clean receipt to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    /// Device generation the facts were learnt in; a reopen voids them.
    pub generation: u64,
    pub fn_serial: String,
    /// Number the FN gives its next document.
    pub next_fd: u32,
    /// Journal id of the open shift.
    pub shift_id: String,
}

impl KnownDevice {
    /// Facts after the receipt numbered `printed_fd` closed, if it got the
    /// number the journal expected (anything else means someone else wrote
    /// to the FN, and nothing may be assumed).
    pub fn after_receipt(
        generation: u64,
        fn_serial: &str,
        expected_fd: u32,
        printed_fd: u32,
        shift_id: &str,
    ) -> Option<KnownDevice> {
        if printed_fd != expected_fd {
            return None;
        }
        Some(KnownDevice {
            generation,
            fn_serial: fn_serial.to_string(),
            next_fd: printed_fd.checked_add(1)?,
            shift_id: shift_id.to_string(),
        })
    }

    /// Still usable with the device at `generation`?
    pub fn valid_for(&self, generation: u64) -> bool {
        self.generation == generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_receipt_gets_the_following_number() {
        let k = KnownDevice::after_receipt(3, "9999078900012345", 41, 41, "shift-1").unwrap();
        assert_eq!(k.next_fd, 42);
        assert_eq!(k.fn_serial, "9999078900012345");
        assert!(k.valid_for(3));
        assert!(!k.valid_for(4), "a reopened device must be read again");
    }

    #[test]
    fn an_unexpected_number_voids_the_knowledge() {
        assert_eq!(KnownDevice::after_receipt(1, "s", 41, 43, "x"), None);
        assert_eq!(
            KnownDevice::after_receipt(1, "s", u32::MAX, u32::MAX, "x"),
            None
        );
    }
}
