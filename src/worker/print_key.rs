//! The idempotency key a receipt is printed under.
//!
//! A printer that remembers requests by key (the ATOL Web-server keeps each
//! request's result under its uuid) makes at most one document per key. The
//! key must therefore be the same when the agent prints an operation again
//! after a crash, and different for a genuinely new attempt. Everything it
//! is built from is journaled in PRINTING before the printer is touched: the
//! operation, the FN and the fiscal document number the receipt is expected
//! to get. A retry after a crash that made no document expects the same
//! number and reuses the key (so a request still running on the server is
//! waited for, not posted twice); once a document was made, the FN counter
//! has moved on and the key cannot match an older request.

/// The key of printing operation `op_id` as document `expected_fd` of the
/// FN `fn_serial`.
pub fn print_key(op_id: &str, fn_serial: &str, expected_fd: u32) -> String {
    format!("{op_id}/fn{fn_serial}/fd{expected_fd}")
}

#[cfg(test)]
mod tests {
    use super::print_key;

    #[test]
    fn same_journal_facts_give_the_same_key_and_any_change_a_new_one() {
        let k = print_key("op-1", "9999078900001234", 17);
        assert_eq!(k, print_key("op-1", "9999078900001234", 17));
        assert_ne!(k, print_key("op-2", "9999078900001234", 17));
        assert_ne!(k, print_key("op-1", "9999078900001235", 17));
        assert_ne!(k, print_key("op-1", "9999078900001234", 18));
    }
}
