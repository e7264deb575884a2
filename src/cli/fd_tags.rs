//! What the known tags of a fiscal document read back from the FN mean,
//! for `device fd N --tlv`: the engineer at the printer should see
//! "24.11.2026 10:15" and "1 234,50 ₽", not `E8B8...` hex. Encodings
//! (FFD): times are 4-byte little-endian seconds since 1970 counted in the
//! shop's civil time, counters are little-endian integers, sums are
//! little-endian kopecks, the fiscal sign is the last 4 bytes big-endian of
//! its 6. An unknown tag, or a value of the wrong length, decodes to `None`
//! (the hex is always shown).

/// How a tag's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Time,
    Counter,
    Kopecks,
    FiscalSign,
    Byte,
}

/// Name and kind of the tags masterkassa prints and reads back.
fn known(tag: u16) -> Option<(&'static str, Kind)> {
    Some(match tag {
        1012 => ("дата и время", Kind::Time),
        1038 => ("номер смены", Kind::Counter),
        1040 => ("номер ФД", Kind::Counter),
        1042 => ("номер чека за смену", Kind::Counter),
        1077 => ("ФП документа", Kind::FiscalSign),
        1020 => ("сумма расчёта", Kind::Kopecks),
        1031 => ("наличными", Kind::Kopecks),
        1081 => ("безналичными", Kind::Kopecks),
        1215 => ("предоплатой (зачёт аванса)", Kind::Kopecks),
        1054 => ("признак расчёта", Kind::Byte),
        1055 => ("система налогообложения", Kind::Byte),
        1209 => ("версия ФФД", Kind::Byte),
        _ => return None,
    })
}

/// `value` of `tag` in words, e.g. `дата и время: 24.11.2026 10:15:00`.
pub fn describe(tag: u16, value: &[u8]) -> Option<String> {
    let (name, kind) = known(tag)?;
    let shown = match kind {
        Kind::Time => {
            let secs = u32::from_le_bytes(value.try_into().ok()?);
            let t = jiff::Timestamp::from_second(i64::from(secs)).ok()?;
            // Civil time stored "as if UTC": read it back the same way.
            jiff::tz::TimeZone::UTC
                .to_datetime(t)
                .strftime("%d.%m.%Y %H:%M:%S")
                .to_string()
        }
        Kind::Counter => little_endian(value, 4)?.to_string(),
        Kind::Kopecks => {
            let k = little_endian(value, 8)?;
            format!("{}.{:02} руб.", k / 100, k % 100)
        }
        Kind::FiscalSign => {
            let tail: [u8; 4] = value.get(value.len().checked_sub(4)?..)?.try_into().ok()?;
            (value.len() == 6).then_some(())?;
            u32::from_be_bytes(tail).to_string()
        }
        Kind::Byte => match value {
            [b] => b.to_string(),
            _ => return None,
        },
    };
    Some(format!("{name}: {shown}"))
}

/// A little-endian unsigned of 1…`max` bytes.
fn little_endian(value: &[u8], max: usize) -> Option<u64> {
    if value.is_empty() || value.len() > max {
        return None;
    }
    Some(
        value
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tags_read_as_dates_numbers_and_roubles() {
        let secs = jiff::civil::date(2026, 11, 24)
            .at(10, 15, 0, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second() as u32;
        assert_eq!(
            describe(1012, &secs.to_le_bytes()).as_deref(),
            Some("дата и время: 24.11.2026 10:15:00")
        );
        assert_eq!(
            describe(1040, &42u32.to_le_bytes()).as_deref(),
            Some("номер ФД: 42")
        );
        assert_eq!(
            describe(1020, &[0x3A, 0x30, 0x00]).as_deref(),
            Some("сумма расчёта: 123.46 руб.")
        );
        assert_eq!(
            describe(1077, &[0, 0, 0x12, 0x34, 0x56, 0x78]).as_deref(),
            Some("ФП документа: 305419896")
        );
        assert_eq!(describe(1054, &[1]).as_deref(), Some("признак расчёта: 1"));
    }

    #[test]
    fn unknown_tags_and_bad_lengths_are_left_to_the_hex() {
        assert_eq!(describe(1008, b"a@b.ru"), None);
        assert_eq!(describe(1012, &[1, 2, 3]), None);
        assert_eq!(describe(1077, &[1, 2, 3, 4]), None);
        assert_eq!(describe(1020, &[0; 9]), None);
        assert_eq!(describe(1054, &[]), None);
    }
}
