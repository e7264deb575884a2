//! The task and result models against ATOL-shaped JSON: samples parse and
//! re-serialise to the same JSON, every enum value round-trips, and unknown
//! fields or values never break parsing.

use atol::envelope::{RequestBody, RequestState, TaskStatus};
use atol::result::{
    DeviceStatusResult, FiscalResult, FnStatusResult, ShiftStateName, ShiftStatusResult,
};
use atol::task::{PaymentMethod, PaymentObject, PaymentType, Task, TaxType, TaxationType};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn round_trip<T: Serialize + DeserializeOwned>(sample: Value) -> T {
    let parsed: T = serde_json::from_value(sample.clone()).expect("sample parses");
    let again = serde_json::to_value(&parsed).expect("serialises");
    assert_eq!(again, sample, "re-serialised sample differs");
    parsed
}

#[test]
fn marking_check_tasks_and_results_round_trip() {
    let begin = json!({
        "type": "beginMarkingCodeValidation",
        "params": {
            "imcType": "auto",
            "imc": "MDEwNDYwNDA2MDAwNjAwMDIxTjRONTdSU0NCVVpUUQ==",
            "itemEstimatedStatus": "itemPieceSold",
            "imcModeProcessing": 0,
            "itemQuantity": 1,
            "itemUnits": "piece"
        }
    });
    let task: Task = round_trip(begin);
    let Task::BeginMarkingCodeValidation(t) = task else {
        panic!("not a marking check")
    };
    assert_eq!(
        atol::task::imc_decode(&t.params.code.imc).as_deref(),
        Some("010460406000600021N4N57RSCBUZTQ")
    );
    for name in [
        "getMarkingCodeValidationStatus",
        "acceptMarkingCode",
        "declineMarkingCode",
        "cancelMarkingCodeValidation",
        "clearMarkingCodeValidationResult",
    ] {
        let task: Task = round_trip(json!({ "type": name }));
        assert_eq!(task.name(), name);
    }
    let _: atol::result::MarkingCheckBegun = round_trip(json!({
        "offlineValidation": {"fmCheck": true, "fmCheckResult": false, "fmCheckErrorReason": "Ошибка проверки КП КМ"}
    }));
    let status: atol::result::MarkingCheckStatus = round_trip(json!({
        "ready": true,
        "sentImcRequest": true,
        "driverError": {"code": 0},
        "onlineValidation": {
            "itemInfoCheckResult": {
                "imcCheckFlag": true, "imcCheckResult": true, "imcStatusInfo": true,
                "imcEstimatedStatusCorrect": false, "ecrStandAloneFlag": false
            },
            "markOperatorItemStatus": "itemEstimatedStatusIncorrect",
            "imcType": "auto"
        }
    }));
    assert!(status.ready);
    // Fields a newer Web-server adds are ignored.
    let _: atol::result::MarkingCheckStatus =
        serde_json::from_value(json!({"ready": false, "somethingNew": [1, 2]})).unwrap();
}

#[test]
fn sell_request_sample_round_trips() {
    let sample = json!({
        "uuid": "0ba40014-5fa5-4b5a-9e3b-5c3a7ac3c5d9",
        "request": [{
            "type": "sell",
            "taxationType": "osn",
            "operator": {"name": "Иванов", "vatin": "123654789507"},
            "clientInfo": {"emailOrPhone": "+79161234567"},
            "items": [
                {"type": "text", "text": "Спасибо за покупку", "alignment": "center"},
                {
                    "type": "position",
                    "name": "Бананы",
                    "price": 73.15,
                    "quantity": 1.1,
                    "amount": 80.47,
                    "measurementUnit": 11,
                    "paymentMethod": "fullPayment",
                    "paymentObject": "commodity",
                    "tax": {"type": "vat22"}
                },
                {
                    "type": "position",
                    "name": "Молоко",
                    "price": 100,
                    "quantity": 1,
                    "amount": 100,
                    "paymentMethod": "fullPrepayment",
                    "paymentObject": "commodityWithMarking",
                    "tax": {"type": "vat122"},
                    // imc is the scanned code in Base64 (KKTServiceLib's
                    // MarkingCodeParams_12 requires it; the raw code fails).
                    "imcParams": {
                        "imcType": "auto",
                        "imc": "MDEwNDYwNDA2MDAwNjAwMDIxTjRONTdSU0NCVVpUUQ==",
                        "itemEstimatedStatus": "itemPieceSold",
                        "imcModeProcessing": 0,
                        "itemInfoCheckResult": {
                            "imcCheckFlag": true, "imcCheckResult": true, "imcStatusInfo": true,
                            "imcEstimatedStatusCorrect": true, "ecrStandAloneFlag": false
                        }
                    }
                }
            ],
            "payments": [{"type": "cash", "sum": 100}, {"type": "electronically", "sum": 80.47}],
            "total": 180.47
        }]
    });
    let body: RequestBody = round_trip(sample);
    let Task::Sell(t) = &body.request[0] else {
        panic!("not a sell task")
    };
    assert_eq!(t.total.map(|r| r.0.0), Some(18047));
    assert_eq!(t.payments[1].sum.0.0, 8047);
}

#[test]
fn service_task_samples_round_trip() {
    for sample in [
        json!({"type": "openShift", "operator": {"name": "Иванов"}}),
        json!({"type": "closeShift"}),
        json!({"type": "reportX"}),
        json!({"type": "continuePrint"}),
        json!({"type": "getDeviceStatus"}),
        json!({"type": "getShiftStatus"}),
        json!({"type": "getFnInfo"}),
        json!({"type": "getFnStatus"}),
        json!({"type": "getDeviceInfo"}),
        json!({"type": "ofdExchangeStatus"}),
        json!({"type": "getFnDocument", "fiscalDocumentNumber": 49}),
        json!({"type": "cashIn", "cashSum": 1000.5}),
        json!({"type": "sellReturn", "items": [{"type": "position", "name": "x", "price": 1, "quantity": 1, "amount": 1, "paymentMethod": "fullPayment", "paymentObject": "service", "tax": {"type": "none"}}], "payments": [{"type": "prepaid", "sum": 1}]}),
    ] {
        let _: Task = round_trip(sample);
    }
}

#[test]
fn result_samples_round_trip() {
    let fiscal: FiscalResult = round_trip(json!({
        "fiscalParams": {
            "fiscalDocumentNumber": 49,
            "fiscalDocumentSign": "2403680979",
            "fiscalDocumentDateTime": "2026-03-01T10:00:00+03:00",
            "fiscalReceiptNumber": 12,
            "shiftNumber": 3,
            "fnNumber": "9999078900004792",
            "registrationNumber": "0000000001012345",
            "total": 180.47,
            "fnsUrl": "www.nalog.gov.ru"
        },
        "warnings": {"notPrinted": false, "dataForSendIsEmpty": false}
    }));
    assert_eq!(fiscal.fiscal_params.total.map(|t| t.0.0), Some(18047));
    let status: DeviceStatusResult = round_trip(json!({"deviceStatus": {
        "currentDateTime": "2026-03-01T10:00:00+03:00", "shift": "opened", "blocked": false,
        "coverOpened": false, "paperPresent": true, "fiscal": true, "fnFiscal": true,
        "fnPresent": true, "cashDrawerOpened": false, "documentNotPrinted": false
    }}));
    assert_eq!(status.device_status.shift, ShiftStateName::Opened);
    let _: ShiftStatusResult = round_trip(json!({"shiftStatus": {
        "state": "expired", "number": 7, "expiredTime": "2026-03-02T10:00:00+03:00", "documentsCount": 4
    }}));
    let _: FnStatusResult = round_trip(json!({"fnStatus": {
        "fiscalDocumentNumber": 49, "fiscalReceiptNumber": 12,
        "warnings": {"memoryOverflow": false, "needReplacement": true, "ofdTimeout": false, "resourceExhausted": false, "criticalError": false}
    }}));
    let state: RequestState = round_trip(json!({"results": [
        {"status": "ready", "result": {"fiscalParams": {}}},
        {"status": "error", "error": {"code": 44, "description": "Нет бумаги"}},
        {"status": "interrupted"}
    ]}));
    assert!(state.is_done());
}

#[test]
fn unknown_fields_and_values_do_not_break_parsing() {
    let status: DeviceStatusResult = serde_json::from_value(json!({"deviceStatus": {
        "shift": "someNewState", "paperPresent": false, "brandNewFlag": 5,
        "nested": {"x": [1, 2]}
    }, "extra": true}))
    .unwrap();
    assert_eq!(status.device_status.shift, ShiftStateName::Other);
    assert!(!status.device_status.paper_present);
    let state: RequestState = serde_json::from_value(json!({"results": [
        {"status": "paused", "futureField": 1}
    ], "uuid": "x"}))
    .unwrap();
    assert_eq!(state.results[0].status, TaskStatus::Unknown);
    assert!(
        !state.is_done(),
        "an unknown state must be waited on, not taken as final"
    );
}

fn every_value_round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    values: &[T],
) {
    let mut names = std::collections::HashSet::new();
    for v in values {
        let text = serde_json::to_string(v).unwrap();
        assert!(
            names.insert(text.clone()),
            "two values share the name {text}"
        );
        let back: T = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, v);
    }
}

#[test]
fn every_enum_value_round_trips_with_atol_spelling() {
    every_value_round_trips(&TaxType::ALL);
    every_value_round_trips(&PaymentMethod::ALL);
    let objects: Vec<PaymentObject> = PaymentObject::CODES.iter().map(|(o, _)| *o).collect();
    every_value_round_trips(&objects);
    every_value_round_trips(&[
        PaymentType::Cash,
        PaymentType::Electronically,
        PaymentType::Prepaid,
        PaymentType::Credit,
        PaymentType::Other,
    ]);
    every_value_round_trips(&[
        TaxationType::Osn,
        TaxationType::UsnIncome,
        TaxationType::UsnIncomeOutcome,
        TaxationType::Envd,
        TaxationType::Esn,
        TaxationType::Patent,
    ]);
    every_value_round_trips(&[
        TaskStatus::Wait,
        TaskStatus::InProgress,
        TaskStatus::Ready,
        TaskStatus::Error,
        TaskStatus::Interrupted,
        TaskStatus::Blocked,
        TaskStatus::Canceled,
    ]);
    assert_eq!(
        serde_json::to_string(&TaxType::Vat105).unwrap(),
        "\"vat105\""
    );
    assert_eq!(
        serde_json::to_string(&TaskStatus::InProgress).unwrap(),
        "\"inProgress\""
    );
    for (o, code) in PaymentObject::CODES {
        assert_eq!(PaymentObject::from_ffd(code), Some(o));
        assert_eq!(o.ffd_code(), code);
    }
}
