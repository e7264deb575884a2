//! The Kassatka client against the fake Kassatka over real HTTP on loopback:
//! every endpoint, the complete flows, and every switchable fault.

use jiff::civil::DateTime;
use kkt::Money;
use masterkassa::kassatka::{
    ApiToken, ClientConfig, Download, KassatkaClient, KassatkaError, NoProgress, ProcessKey,
    ProcessStatus, ProductsGroups, WaitPolicy,
};
use sim_kassatka::{FakeKassatka, FakeKassatkaConfig, Faults, ProcessPace, seed_receipts};
use std::time::Duration;

const TOKEN: &str = "6d4fbe2d-426b-45c2-864b-2745c09ee578";

/// Processes take a few polls and a little time, as the real API's do.
fn pace() -> ProcessPace {
    ProcessPace {
        duration: Duration::from_millis(50),
        polls: 2,
    }
}

/// Short pauses, generous overall limit (the machine may be loaded).
fn policy() -> WaitPolicy {
    WaitPolicy {
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        timeout: Duration::from_secs(30),
    }
}

async fn fake() -> FakeKassatka {
    let mut config = FakeKassatkaConfig::new(TOKEN);
    config.pace = pace();
    FakeKassatka::start(config).await.unwrap()
}

fn client_with(fake: &FakeKassatka, token: &str) -> KassatkaClient {
    let mut config = ClientConfig::new(fake.base_url(), ApiToken::new(token).unwrap());
    config.request_timeout = Duration::from_secs(20);
    KassatkaClient::new(config).unwrap()
}

fn client(fake: &FakeKassatka) -> KassatkaClient {
    client_with(fake, TOKEN)
}

fn at(text: &str) -> DateTime {
    text.parse().unwrap()
}

fn seed_period() -> (DateTime, DateTime) {
    (at("2018-04-16T00:00:00"), at("2018-04-17T00:00:00"))
}

fn seed_nomenclature() -> ProductsGroups {
    ProductsGroups::from_xml(include_bytes!("fixtures/kassatka/nomenclature.xml")).unwrap()
}

#[tokio::test]
async fn receipts_flow_downloads_the_seed_receipts_with_kopeck_sums() {
    let fake = fake().await;
    let (from, to) = seed_period();
    let receipts = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(receipts, seed_receipts().unwrap());
    let sums: Vec<(i64, i64, i64)> = receipts
        .iter()
        .map(|r| {
            (
                r.head.doc_sum_with_discount.0,
                r.head.pay_cash.0,
                r.head.pay_card.0,
            )
        })
        .collect();
    assert_eq!(
        sums,
        [
            (259_000, 259_000, 0),
            (269_000, 0, 269_000),
            (209_000, 209_000, 0),
            (181_300, 181_300, 0)
        ]
    );
    assert_eq!(receipts[3].products[1].discount, Money(59_700));

    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.token_ok), "{requests:?}");
    assert_eq!(requests[0].path, "/receipts");
    // `YYYY-MM-DD HH:MM:SS`, form-encoded.
    assert_eq!(
        requests[0].query.as_deref(),
        Some("from=2018-04-16+00%3A00%3A00&to=2018-04-17+00%3A00%3A00")
    );
    let polls = requests
        .iter()
        .filter(|r| r.path.starts_with("/process/"))
        .count();
    assert!(polls >= 3, "the process needed 3 polls, saw {polls}");
    assert!(requests.last().unwrap().path.starts_with("/download/"));
}

#[tokio::test]
async fn a_period_without_receipts_gives_an_empty_list() {
    let fake = fake().await;
    let receipts = client(&fake)
        .fetch_receipts(
            at("2019-01-01T00:00:00"),
            at("2019-02-01T00:00:00"),
            &policy(),
            &mut NoProgress,
        )
        .await
        .unwrap();
    assert!(receipts.is_empty());
}

#[tokio::test]
async fn nomenclature_is_uploaded_as_multipart_xml_and_awaited() {
    let fake = fake().await;
    let nomenclature = seed_nomenclature();
    let key = client(&fake)
        .push_nomenclature_and_wait(&nomenclature, &policy(), &mut NoProgress)
        .await
        .unwrap();
    let uploads = fake.nomenclature_uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].xml, nomenclature.to_xml());
    assert!(uploads[0].xml.contains("Price=\"1 990,00\""));
    assert!(
        uploads[0]
            .xml
            .contains("<ProductsGroups Date=\"13.04.2018\">")
    );
    assert_eq!(uploads[0].parsed.as_ref().unwrap(), &nomenclature);
    let requests = fake.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/nomenclature");
    assert_eq!(requests.last().unwrap().path, format!("/process/{key}"));
}

#[tokio::test]
async fn each_endpoint_alone() {
    let fake = fake().await;
    fake.set_pace(ProcessPace {
        duration: Duration::from_secs(3600),
        polls: 1,
    });
    let client = client(&fake);
    let (from, to) = seed_period();
    let key = client.request_receipts(from, to).await.unwrap();
    assert_eq!(
        client.process_status(&key).await.unwrap(),
        ProcessStatus::Running("processing".into())
    );
    assert_eq!(
        client.download(&key).await.unwrap(),
        Download::NotReady("processing".into())
    );
    fake.set_pace(ProcessPace {
        duration: Duration::ZERO,
        polls: 0,
    });
    assert_eq!(
        client.process_status(&key).await.unwrap(),
        ProcessStatus::Success
    );
    let Download::Ready(body) = client.download(&key).await.unwrap() else {
        panic!("expected the file");
    };
    assert!(body.starts_with(b"<?xml"));

    let key = client
        .push_nomenclature(&seed_nomenclature())
        .await
        .unwrap();
    assert_eq!(
        client.process_status(&key).await.unwrap(),
        ProcessStatus::Success
    );

    let err = client
        .process_status(&ProcessKey("no-such-key".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KassatkaError::Http { status: 404, message, .. } if message == "Процесс не найден"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_the_servers_message_and_never_shown() {
    let fake = fake().await;
    let (from, to) = seed_period();
    let err = client_with(&fake, "wrong-secret-token")
        .request_receipts(from, to)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KassatkaError::Unauthorized { status: 401, message, .. } if message == "Неверный api-token"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("wrong-secret-token"));
    assert!(!format!("{err:?}").contains("wrong-secret-token"));
    assert!(!fake.requests()[0].token_ok);
}

#[tokio::test]
async fn a_failed_process_is_an_error_with_the_servers_text() {
    let fake = fake().await;
    fake.set_faults(Faults {
        fail_processes: Some("Ошибка формирования выгрузки".into()),
        ..Faults::default()
    });
    let (from, to) = seed_period();
    let err = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KassatkaError::ProcessFailed { message, .. } if message == "Ошибка формирования выгрузки"),
        "{err:?}"
    );
    let err = client(&fake)
        .push_nomenclature_and_wait(&seed_nomenclature(), &policy(), &mut NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, KassatkaError::ProcessFailed { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_5xx_on_the_first_request_is_a_server_error_with_the_body() {
    let fake = fake().await;
    fake.set_faults(Faults {
        server_errors: 1,
        ..Faults::default()
    });
    let (from, to) = seed_period();
    let err = client(&fake).request_receipts(from, to).await.unwrap_err();
    assert!(
        matches!(&err, KassatkaError::Server { status: 502, message, .. } if message.contains("502 Bad Gateway")),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn server_errors_while_waiting_are_ridden_out() {
    let fake = fake().await;
    let client = client(&fake);
    let (from, to) = seed_period();
    let key = client.request_receipts(from, to).await.unwrap();
    fake.set_faults(Faults {
        server_errors: 4,
        ..Faults::default()
    });
    let receipts = client
        .wait_and_download_receipts(&key, &policy(), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 4);
    assert_eq!(fake.faults().server_errors, 0, "all four 502s were served");
}

#[tokio::test]
async fn malformed_xml_is_an_error_naming_the_problem() {
    let fake = fake().await;
    fake.set_faults(Faults {
        malformed_xml: true,
        ..Faults::default()
    });
    let (from, to) = seed_period();
    let err = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, KassatkaError::Documents(_)), "{err:?}");
    assert!(err.to_string().starts_with("receipts XML: "), "{err}");
}

#[tokio::test]
async fn sums_that_do_not_add_up_name_the_document_and_field() {
    let fake = fake().await;
    let mut receipts = seed_receipts().unwrap();
    receipts[1].head.doc_sum = Money(269_100);
    fake.set_receipts(receipts);
    let (from, to) = seed_period();
    let err = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "receipts XML: Doc #2 (DocNum 5ad48437d849da0013494372): DocSum is 2691.00 \
         but the document adds up to 2690.00"
    );
}

#[tokio::test]
async fn waiting_gives_up_after_the_timeout() {
    let fake = fake().await;
    fake.set_pace(ProcessPace {
        duration: Duration::from_secs(3600),
        polls: 0,
    });
    let policy = WaitPolicy {
        timeout: Duration::from_millis(300),
        ..policy()
    };
    let (from, to) = seed_period();
    let err = client(&fake)
        .fetch_receipts(from, to, &policy, &mut NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KassatkaError::Timeout { last, .. } if last == "processing"),
        "{err:?}"
    );
}

#[tokio::test]
async fn new_receipts_appear_in_later_downloads() {
    let fake = fake().await;
    let mut extra = seed_receipts().unwrap()[0].clone();
    extra.head.doc_num = "new-doc".into();
    extra.head.date = "2018-04-16T12:00:00Z".parse().unwrap();
    fake.add_receipts([extra]);
    let (from, to) = seed_period();
    let receipts = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 5);
    assert_eq!(receipts[4].key().to_string(), "189/new-doc");
}

#[tokio::test]
async fn https_is_spoken_when_the_url_says_so() {
    // The fake speaks plain http, so a TLS handshake against it fails: proof
    // that an https URL is not silently downgraded.
    let fake = fake().await;
    let url = fake.base_url().replace("http://", "https://");
    let client =
        KassatkaClient::new(ClientConfig::new(url, ApiToken::new(TOKEN).unwrap())).unwrap();
    let (from, to) = seed_period();
    let err = client.request_receipts(from, to).await.unwrap_err();
    assert!(matches!(err, KassatkaError::Transport { .. }), "{err:?}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_fake_refuses_bad_requests_with_an_envelope() {
    let fake = fake().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", fake.base_url()))
            .header("api-token", TOKEN)
            .send()
    };
    let answer = get("/receipts?from=16.04.2018&to=2018-04-17%2000:00:00")
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(
        body["response"]["message"],
        "Параметр from должен быть датой YYYY-MM-DD HH:MM:SS"
    );
    let answer = get("/nothing-here").await.unwrap();
    assert_eq!(answer.status(), 404);
    let form = reqwest::multipart::Form::new().text("other", "x");
    let answer = http
        .post(format!("{}/nomenclature", fake.base_url()))
        .header("api-token", TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["response"]["message"], "Не передан файл nomenclature");
    assert!(fake.nomenclature_uploads().is_empty());
}

#[tokio::test]
async fn still_running_with_success_false_is_still_running() {
    let fake = fake().await;
    fake.set_faults(Faults {
        running_unsuccessful: true,
        ..Faults::default()
    });
    let (from, to) = seed_period();
    let receipts = client(&fake)
        .fetch_receipts(from, to, &policy(), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 4);
    // And a refusal without a status is still a refusal.
    let err = client(&fake)
        .process_status(&ProcessKey("unknown".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, KassatkaError::Http { status: 404, .. }),
        "{err:?}"
    );
}
