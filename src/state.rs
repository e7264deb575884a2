//! The agent's state report (MoySklad `POST /state`), built from a kassa's
//! status. Pure: the worker decides when to send it (at start, on change,
//! periodically) and the source turns it into the wire body.

use crate::worker::source::StateReport;
use crate::worker::status::KassaStatus;
use kkt::TaxSystem;

/// Software version reported to the cloud and shown by `status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds the report from a status snapshot.
pub fn build_report(status: &KassaStatus, tax_systems: &[TaxSystem]) -> StateReport {
    let fn_error = if let Some(halted) = &status.halted {
        Some(("halted".to_string(), halted.clone()))
    } else if let Some(blocked) = &status.journal_blocked {
        // The kassa does not print: the shop must see it where printer
        // trouble shows.
        Some(("journal".to_string(), blocked.clone()))
    } else if let Some(blocked) = &status.fn_blocked {
        Some(("fn".to_string(), blocked.clone()))
    } else {
        status
            .last_error
            .as_ref()
            .filter(|e| matches!(e.layer.as_str(), "fn" | "printer" | "link"))
            .map(|e| (e.layer.clone(), e.message.clone()))
            .or_else(|| {
                (!status.fn_warnings.is_empty())
                    .then(|| ("warning".to_string(), status.fn_warnings.join("; ")))
            })
    };
    let sync_message = status
        .last_error
        .as_ref()
        .filter(|e| e.layer == "cloud")
        .map(|e| e.message.clone());
    StateReport {
        software_version: VERSION.to_string(),
        printer: status.printer.clone(),
        fn_valid_until: status.fn_valid_until,
        tax_systems: tax_systems.to_vec(),
        device_clock: None,
        last_sync_attempt: status.last_poll,
        sync_message,
        fn_error,
        ofd_unsent: status.ofd_unsent.unwrap_or(0),
        ofd_first_unsent_at: status.ofd_first_unsent_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::status::ErrorReport;

    #[test]
    fn device_errors_become_fn_errors_and_cloud_errors_sync_messages() {
        let at = jiff::civil::date(2026, 11, 24).at(12, 0, 0, 0);
        let mut s = KassaStatus {
            ofd_unsent: Some(3),
            ..KassaStatus::default()
        };
        s.last_error = Some(ErrorReport {
            layer: "printer".into(),
            message: "нет бумаги".into(),
            at,
        });
        let r = build_report(&s, &[TaxSystem::General]);
        assert_eq!(r.fn_error, Some(("printer".into(), "нет бумаги".into())));
        assert_eq!(r.sync_message, None);
        assert_eq!(r.ofd_unsent, 3);
        s.last_error = Some(ErrorReport {
            layer: "cloud".into(),
            message: "облако недоступно".into(),
            at,
        });
        let r = build_report(&s, &[]);
        assert_eq!(r.fn_error, None);
        assert_eq!(r.sync_message.as_deref(), Some("облако недоступно"));
        s.halted = Some("ФН заменён".into());
        assert_eq!(build_report(&s, &[]).fn_error.unwrap().1, "ФН заменён");
    }
}
