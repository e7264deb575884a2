//! End to end over real HTTP: the fake MoySklad cloud, the emulated Shtrih
//! on a PTY, and the worker with the real POS client. Every operation kind
//! is approved once with the FN archive's data (checked field by field),
//! the invalid one rejected; cloud faults (5xx, 429, dropped connections,
//! malformed answers, an outage) only delay the answers.

use masterkassa::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use masterkassa::device::{DeviceHandle, shtrih_opener};
use masterkassa::journal::{Journal, Source};
use masterkassa::worker::journal_store::JournalStore;
use masterkassa::worker::moysklad::MoySkladSource;
use masterkassa::worker::queue::samples;
use masterkassa::worker::{Kassa, KassaSettings};
use shtrih::driver::{Baud, DriverConfig};
use sim_moysklad::{FakeCloud, FakeCloudConfig, Fault, FaultKind, OpKind};
use sim_shtrih::{Emulator, EmulatorConfig, doc_type};
use std::sync::Arc;
use std::time::Duration;
use test_support::wait::wait_for;

fn kind_of(body: &serde_json::Value) -> OpKind {
    let t = body["meta"]["type"].as_str().unwrap();
    OpKind::parse(t).unwrap()
}

async fn run_scenario(faults: Vec<Fault>) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let mut ids = Vec::new();
    for body in samples::ALL {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        ids.push(cloud.enqueue(kind_of(&v), v).unwrap());
    }
    for f in faults {
        cloud.add_fault(f);
    }
    let client = PosClient::new(
        &ClientConfig::with_base_url(cloud.base_url()),
        Secret::new(cloud.token().unwrap_or_else(|| "test-token".into())),
        cloud.cashier_uid(),
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    let api: Arc<dyn PosApi> = Arc::new(client);
    let source = Arc::new(MoySkladSource::new(api, &cloud.org_id(), &cloud.base_url()));
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let store = Arc::new(JournalStore::new(journal, "e2e", Source::Moysklad));
    let device = DeviceHandle::spawn(
        "e2e",
        shtrih_opener(
            link.to_string_lossy().to_string(),
            Baud::Fixed(115_200),
            DriverConfig::default(),
        ),
    )
    .unwrap();
    let mut settings = KassaSettings::new("e2e");
    settings.poll_interval = Duration::from_millis(50);
    settings.idle_poll_max = Duration::from_millis(200);
    settings.outbox_retry_max = Duration::from_millis(500);
    settings.default_tax_system = Some(kkt::TaxSystem::General);
    let (kassa, _handle) = Kassa::new(settings, source, store, device);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(kassa.run(rx));
    wait_for("every operation answered", 120, || {
        cloud.operations().iter().all(|o| o.answered())
    })
    .await;
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;

    let ops = cloud.operations();
    let receipts: Vec<_> = emu
        .archive()
        .into_iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    assert_eq!(receipts.len(), 4, "four valid operations, four receipts");
    let shifts = cloud.shifts();
    assert_eq!(shifts.len(), 1, "one retail shift opened");
    for (i, id) in ids.iter().enumerate() {
        let op = ops.iter().find(|o| &o.id == id).unwrap();
        if i == 4 {
            assert_eq!((op.approves_accepted, op.rejects_accepted), (0, 1), "{id}");
            let msg = op.reject.as_ref().unwrap()["fiscalErrMsg"]
                .as_str()
                .unwrap();
            assert!(msg.starts_with("Ошибка данных"), "{msg}");
            continue;
        }
        assert_eq!((op.approves_accepted, op.rejects_accepted), (1, 0), "{id}");
        let a = op.approve.as_ref().unwrap();
        let fd: u32 = a["cheque"]["fiscalDocNumber"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let doc = emu.document(fd).unwrap();
        assert_eq!(doc.kind, doc_type::RECEIPT);
        assert_eq!(
            a["cheque"]["fiscalDocSign"].as_str().unwrap(),
            doc.fiscal_sign.to_string()
        );
        assert_eq!(a["cheque"]["fnNumber"].as_str().unwrap(), emu.fn_serial());
        assert_eq!(
            a["cheque"]["number"].as_str().unwrap(),
            doc.receipt_number.unwrap().to_string()
        );
        let sum = (a["cheque"]["sum"].as_f64().unwrap() * 100.0).round() as u64;
        assert_eq!(Some(sum), doc.total);
        assert_eq!(
            a["cheque"]["time"].as_str().unwrap(),
            doc.time.strftime("%Y-%m-%d %H:%M:00").to_string()
        );
        assert_eq!(a["taxSystem"], "GENERAL_TAX_SYSTEM");
        assert_eq!(a["chequePrinter"]["serial"].as_str().unwrap(), "12345678");
        assert_eq!(op.shift_id.as_deref(), Some(shifts[0].id.as_str()));
    }
    let opened = &shifts[0].open_body;
    let open_fd: u32 = opened["cheque"]["start"]["fiscalDocNumber"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(emu.document(open_fd).unwrap().kind, doc_type::SHIFT_OPEN);
    assert!(!cloud.states().is_empty(), "POST /state was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_over_http_is_approved_with_archive_data() {
    run_scenario(Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_faults_only_delay_the_answers() {
    run_scenario(vec![
        Fault::new(FaultKind::Status { status: 500 }, 3).on_path("master/approve"),
        Fault::new(FaultKind::Status { status: 429 }, 5),
        Fault::new(FaultKind::Drop, 2).on_path("master/reject"),
        Fault::new(FaultKind::MalformedJson, 2).on_path("master/poll"),
        Fault::new(FaultKind::Status { status: 502 }, 2).on_path("openshift"),
        Fault::new(
            FaultKind::Outage {
                ms: 1500,
                status: 503,
            },
            1,
        ),
    ])
    .await;
}
