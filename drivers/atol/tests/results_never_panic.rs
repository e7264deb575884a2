//! The Web-server's answers never panic the driver's models: arbitrary bytes
//! and mutated valid answers (bytes flipped, inserted, deleted, cut short)
//! come back as a value or a serde error.

use atol::envelope::RequestState;
use atol::result::{DeviceStatusResult, FiscalResult, FnStatusResult, ShiftStatusResult};
use proptest::prelude::*;

const SAMPLES: &[&str] = &[
    r#"{"fiscalParams":{"fiscalDocumentNumber":49,"fiscalDocumentSign":"2403680979","fiscalDocumentDateTime":"2026-03-01T10:00:00+03:00","fiscalReceiptNumber":12,"shiftNumber":3,"fnNumber":"9999078900004792","registrationNumber":"0000000001012345","total":180.47,"fnsUrl":"www.nalog.gov.ru"},"warnings":{"notPrinted":false}}"#,
    r#"{"deviceStatus":{"currentDateTime":"2026-03-01T10:00:00+03:00","shift":"opened","blocked":false,"coverOpened":false,"paperPresent":true,"fiscal":true,"fnFiscal":true,"fnPresent":true,"cashDrawerOpened":false,"documentNotPrinted":false}}"#,
    r#"{"shiftStatus":{"state":"expired","number":7,"expiredTime":"2026-03-02T10:00:00+03:00","documentsCount":4}}"#,
    r#"{"fnStatus":{"fiscalDocumentNumber":49,"fiscalReceiptNumber":12,"warnings":{"needReplacement":true}}}"#,
    r#"{"results":[{"status":"ready","result":{"fiscalParams":{}}},{"status":"error","error":{"code":44,"description":"Нет бумаги"}}]}"#,
];

/// Tries every model the driver reads from the Web-server on one body.
fn parse_all(body: &[u8]) -> usize {
    [
        serde_json::from_slice::<FiscalResult>(body).is_ok(),
        serde_json::from_slice::<DeviceStatusResult>(body).is_ok(),
        serde_json::from_slice::<ShiftStatusResult>(body).is_ok(),
        serde_json::from_slice::<FnStatusResult>(body).is_ok(),
        serde_json::from_slice::<RequestState>(body).is_ok(),
    ]
    .iter()
    .filter(|ok| **ok)
    .count()
}

fn mutate(sample: &str, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut body = sample.as_bytes().to_vec();
    for &(kind, at, byte) in edits {
        let n = body.len().max(1);
        match kind % 4 {
            0 => {
                if let Some(b) = body.get_mut(at % n) {
                    *b = byte;
                }
            }
            1 => body.insert(at % (body.len() + 1), byte),
            2 => {
                let start = at % n;
                let end = (start + usize::from(byte % 16) + 1).min(body.len());
                if start < end {
                    body.drain(start..end);
                }
            }
            _ => body.truncate(at % n),
        }
    }
    body
}

proptest! {
    #[test]
    fn arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        parse_all(&body);
    }

    #[test]
    fn mutated_answers(
        which in 0..SAMPLES.len(),
        edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6),
    ) {
        parse_all(&mutate(SAMPLES[which], &edits));
    }
}

#[test]
fn every_unmutated_sample_parses_as_its_model() {
    for sample in SAMPLES {
        assert!(parse_all(sample.as_bytes()) >= 1, "{sample}");
    }
    assert_eq!(parse_all(&SAMPLES[0].as_bytes()[..30]), 0);
}
