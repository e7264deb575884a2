//! Outside input never panics a parser: mutated valid samples (bytes
//! flipped, inserted, deleted) of the cloud's JSON, the control socket's
//! request line and Kassatka documents each come back as a
//! value or an error, and the error names what was being read.

use masterkassa::cloud::models::{
    AssortmentPage, ModelError, RetailStore, RetailStoreList, parse_json, parse_operation,
    parse_poll,
};
use masterkassa::control::Request;
use proptest::prelude::*;

const CLOUD_SAMPLES: &[&[u8]] = &[
    include_bytes!("../sim/moysklad/src/samples/minion_retaildemand.json"),
    include_bytes!("../sim/moysklad/src/samples/minion_retailsalesreturn.json"),
    include_bytes!("../sim/moysklad/src/samples/minion_prepayment.json"),
    include_bytes!("../sim/moysklad/src/samples/minion_prepaymentreturn.json"),
    include_bytes!("../sim/moysklad/src/samples/openshift.json"),
    include_bytes!("../sim/moysklad/src/samples/closeshift.json"),
    include_bytes!("../sim/moysklad/src/samples/assortment.json"),
    include_bytes!("../sim/moysklad/src/samples/admin_retailstore.json"),
];

const KASSATKA_DOCUMENTS: &[u8] = include_bytes!("fixtures/kassatka/documents.xml");

const CONTROL_SAMPLES: &[&[u8]] = &[
    br#"{"cmd":"status"}"#,
    br#"{"cmd":"close_shift","kassa":"main"}"#,
    br#"{"cmd":"close_shift","kassa":null}"#,
];

/// One edit to a sample: what a truncated, garbled or spliced body looks like.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip { at, byte }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn mutate(sample: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut body = sample.to_vec();
    for e in edits {
        let n = body.len().max(1);
        match *e {
            Edit::Flip { at, byte } => {
                if let Some(b) = body.get_mut(at % n) {
                    *b = byte;
                }
            }
            Edit::Insert { at, byte } => body.insert(at % (body.len() + 1), byte),
            Edit::Delete { at, len } => {
                let start = at % n;
                let end = (start + len).min(body.len());
                if start < end {
                    body.drain(start..end);
                }
            }
            Edit::Truncate { at } => body.truncate(at % n),
        }
    }
    body
}

/// A model error must say which document it was reading.
fn names_what(err: &ModelError, what: &str) -> bool {
    err.to_string().contains(what)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cloud_json_survives_mutated_samples(
        which in 0..CLOUD_SAMPLES.len(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let body = mutate(CLOUD_SAMPLES[which], &edits);
        let _ = parse_poll(&body);
        let _ = parse_operation(&body);
        if let Err(e) = parse_json::<AssortmentPage>("entity/assortment", &body) {
            prop_assert!(names_what(&e, "entity/assortment"), "{e}");
        }
        if let Err(e) = parse_json::<RetailStore>("entity/retailstore", &body) {
            prop_assert!(names_what(&e, "entity/retailstore"), "{e}");
        }
        if let Err(e) = parse_json::<RetailStoreList>("admin/retailstore", &body) {
            prop_assert!(names_what(&e, "admin/retailstore"), "{e}");
        }
    }

    #[test]
    fn cloud_json_survives_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_poll(&body);
        let _ = parse_operation(&body);
        if let Err(e) = parse_json::<AssortmentPage>("entity/assortment", &body) {
            prop_assert!(names_what(&e, "entity/assortment"), "{e}");
        }
        let _ = parse_json::<RetailStore>("entity/retailstore", &body);
    }

    #[test]
    fn control_request_line_survives_mutation(
        which in 0..CONTROL_SAMPLES.len(),
        edits in proptest::collection::vec(edit(), 0..4),
    ) {
        let body = mutate(CONTROL_SAMPLES[which], &edits);
        let _ = serde_json::from_slice::<Request>(&body);
    }

    #[test]
    fn kassatka_documents_survive_mutated_sample(
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let body = mutate(KASSATKA_DOCUMENTS, &edits);
        let _ = kassatka_format::documents::parse_documents_each(&body);
        let _ = kassatka_format::documents::parse_documents(&body);
    }

    #[test]
    fn kassatka_csv_survives_arbitrary_text(text in "\\PC{0,300}") {
        let _ = masterkassa::kassatka::csv_text::read(&text);
    }
}

#[test]
fn the_unmutated_samples_parse() {
    assert!(parse_json::<AssortmentPage>("entity/assortment", CLOUD_SAMPLES[6]).is_ok());
    assert!(parse_json::<RetailStoreList>("admin/retailstore", CLOUD_SAMPLES[7]).is_ok());
    for s in CONTROL_SAMPLES {
        assert!(serde_json::from_slice::<Request>(s).is_ok());
    }
    assert!(kassatka_format::documents::parse_documents(KASSATKA_DOCUMENTS).is_ok());
}

#[test]
fn a_truncated_operation_is_a_syntax_error_not_a_panic() {
    let body = mutate(CLOUD_SAMPLES[0], &[Edit::Truncate { at: 40 }]);
    assert!(matches!(
        parse_operation(&body),
        Err(ModelError::Syntax { .. })
    ));
}
