//! The FN's end of life, judged from what it reports, so the kassa stops
//! (or warns) *before* the device refuses a receipt half way through.
//!
//! An FN stops signing documents when its validity date has passed, when
//! its memory is full, and when documents have waited for the OFD for 30
//! days (it blocks until they are sent). The first and last can be seen
//! coming from [`FnInfo`]; a full memory only shows as a refusal of the
//! device (error class `FiscalStorage`), which the loop turns into the
//! same pause instead of rejecting the operation. Pure: the caller passes
//! today's date and the time.

use kkt::{Date, DateTime, FnInfo};

/// Days before the end of validity the shop is warned.
const WARN_DAYS: i64 = 30;
/// Days before the end of validity the warning becomes urgent.
const URGENT_DAYS: i64 = 3;
/// The FN blocks once its oldest unsent document is this many days old.
const OFD_BLOCK_DAYS: i64 = 30;
/// The OFD backlog is warned about from this age on.
const OFD_WARN_DAYS: i64 = 25;

/// What the FN's state means for printing, in Russian for status and
/// `/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FnLife {
    /// Printing must stop, and why.
    pub stop: Option<String>,
    /// The shop must act soon.
    pub warnings: Vec<String>,
}

fn date_ru(d: Date) -> String {
    d.strftime("%d.%m.%Y").to_string()
}

/// Judges `info` on `today` at `now` (Moscow time, as the FN counts).
pub fn assess(info: &FnInfo, today: Date, now: DateTime) -> FnLife {
    let mut life = FnLife::default();
    if let Some(until) = info.valid_until {
        let left = i64::from((until - today).get_days());
        if left < 0 {
            life.stop = Some(format!(
                "срок действия ФН истёк {}: печать остановлена, замените ФН",
                date_ru(until)
            ));
        } else if left <= URGENT_DAYS {
            life.warnings.push(format!(
                "ФН действует до {}: осталось {left} дн., срочно замените ФН",
                date_ru(until)
            ));
        } else if left <= WARN_DAYS {
            life.warnings.push(format!(
                "ФН действует до {}: осталось {left} дн., подготовьте замену",
                date_ru(until)
            ));
        }
    }
    if info.ofd_unsent_count > 0
        && let Some(first) = info.ofd_first_unsent_at
    {
        // Whole days; a first-unsent time in the future (clock skew) is 0.
        let age = now.duration_since(first).as_secs().max(0) / 86_400;
        if age >= OFD_BLOCK_DAYS {
            let text = format!(
                "{} док. не переданы в ОФД с {} ({age} дн.): ФН заблокирован, печать остановлена до передачи в ОФД",
                info.ofd_unsent_count,
                date_ru(first.date())
            );
            // Expiry, if both, is the one to fix first.
            life.stop.get_or_insert(text);
        } else if age >= OFD_WARN_DAYS {
            life.warnings.push(format!(
                "{} док. не переданы в ОФД с {} ({age} дн.): через {} дн. ФН заблокирует печать",
                info.ofd_unsent_count,
                date_ru(first.date()),
                OFD_BLOCK_DAYS - age
            ));
        }
    }
    life
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn fn_info(valid_until: Option<Date>, unsent: u32, first: Option<DateTime>) -> FnInfo {
        FnInfo {
            serial: "9999078900001234".into(),
            valid_until,
            last_fd_number: 10,
            version: None,
            warnings: Default::default(),
            ofd_unsent_count: unsent,
            ofd_first_unsent_number: first.map(|_| 5),
            ofd_first_unsent_at: first,
        }
    }

    const TODAY: Date = date(2026, 12, 3);

    fn now() -> DateTime {
        TODAY.at(12, 0, 0, 0)
    }

    #[test]
    fn validity_warns_at_30_and_3_days_and_stops_after_the_last_day() {
        let at = |until| assess(&fn_info(Some(until), 0, None), TODAY, now());
        assert_eq!(at(date(2027, 1, 3)), FnLife::default(), "31 days left");
        let w30 = at(date(2027, 1, 2));
        assert_eq!(w30.stop, None);
        assert_eq!(
            w30.warnings,
            ["ФН действует до 02.01.2027: осталось 30 дн., подготовьте замену"]
        );
        let w3 = at(date(2026, 12, 6));
        assert_eq!(
            w3.warnings,
            ["ФН действует до 06.12.2026: осталось 3 дн., срочно замените ФН"]
        );
        // The last valid day still prints.
        assert_eq!(at(TODAY).stop, None);
        let expired = at(date(2026, 12, 2));
        assert_eq!(
            expired.stop.as_deref(),
            Some("срок действия ФН истёк 02.12.2026: печать остановлена, замените ФН")
        );
    }

    #[test]
    fn ofd_backlog_warns_from_25_days_and_stops_at_30() {
        let at = |days_ago: i64| {
            let first = now() - jiff::SignedDuration::from_hours(24 * days_ago);
            assess(&fn_info(None, 7, Some(first)), TODAY, now())
        };
        assert_eq!(at(24), FnLife::default());
        let w = at(25);
        assert_eq!(w.stop, None);
        assert_eq!(
            w.warnings,
            ["7 док. не переданы в ОФД с 08.11.2026 (25 дн.): через 5 дн. ФН заблокирует печать"]
        );
        let stop = at(30).stop.unwrap();
        assert!(stop.contains("ФН заблокирован"), "{stop}");
        assert!(stop.contains("03.11.2026"), "{stop}");
        // Sent documents leave nothing to warn about, whatever the date.
        let first = now() - jiff::SignedDuration::from_hours(24 * 40);
        assert_eq!(
            assess(&fn_info(None, 0, Some(first)), TODAY, now()),
            FnLife::default()
        );
    }

    #[test]
    fn expiry_is_the_reason_given_when_both_stop_printing() {
        let first = now() - jiff::SignedDuration::from_hours(24 * 31);
        let life = assess(
            &fn_info(Some(date(2026, 12, 1)), 3, Some(first)),
            TODAY,
            now(),
        );
        assert!(life.stop.unwrap().starts_with("срок действия ФН истёк"));
    }
}
