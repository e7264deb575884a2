//! The shop's catalogue end to end: the fake MoySklad cloud serves the
//! assortment and the store's settings, the emulated Shtrih prints, and the
//! worker names every position from the synced cache. A product the cloud
//! does not know is rejected with the line named; while the cloud cannot
//! be asked the operation waits and is printed once afterwards; the
//! store's `defaultTaxSystem` applies, and a change is picked up by the
//! next refresh.

use masterkassa::catalogue::{Catalogue, CatalogueSync, ProductLookup, UnknownProduct};
use masterkassa::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use masterkassa::device::{DeviceHandle, shtrih_opener};
use masterkassa::journal::{Journal, Source};
use masterkassa::worker::journal_store::JournalStore;
use masterkassa::worker::moysklad::MoySkladSource;
use masterkassa::worker::queue::samples;
use masterkassa::worker::{Kassa, KassaHandle, KassaSettings};
use serde_json::Value;
use shtrih::driver::{Baud, DriverConfig};
use sim_moysklad::catalogue::{SERVICE_ID, StoreTemplate, WEIGHED_ID};
use sim_moysklad::{FakeCloud, FakeCloudConfig, Fault, FaultKind, OpKind};
use sim_shtrih::{Emulator, EmulatorConfig, doc_type};
use std::sync::Arc;
use std::time::Duration;
use test_support::wait::wait_for;

const BASE: &str = "https://online.moysklad.ru/api/posap/1.0/entity";

struct Rig {
    _dir: tempfile::TempDir,
    emu: sim_shtrih::EmulatorHandle,
    cloud: sim_moysklad::FakeCloudHandle,
    sync: CatalogueSync,
    handle: KassaHandle,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let client = PosClient::new(
        &ClientConfig::with_base_url(cloud.base_url()),
        Secret::new(cloud.token().unwrap_or_else(|| "test-token".into())),
        cloud.cashier_uid(),
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    let api: Arc<dyn PosApi> = Arc::new(client);
    let db = dir.path().join("journal.db");
    let journal = Arc::new(Journal::open(&db).unwrap());
    let catalogue = Arc::new(Catalogue::open(&db, "cat").unwrap());
    let sync = CatalogueSync::new(api.clone(), catalogue.clone(), Duration::from_secs(3600));
    sync.refresh_all().await.unwrap();
    let lookup = Arc::new(ProductLookup::new(
        api.clone(),
        catalogue,
        UnknownProduct::Wait,
    ));
    let source = Arc::new(MoySkladSource::new(api, &cloud.org_id(), &cloud.base_url()));
    let store = Arc::new(JournalStore::new(journal, "cat", Source::Moysklad));
    let device = DeviceHandle::spawn(
        "cat",
        shtrih_opener(
            link.to_string_lossy().to_string(),
            Baud::Fixed(115_200),
            DriverConfig::default(),
        ),
    )
    .unwrap();
    let mut settings = KassaSettings::new("cat");
    settings.poll_interval = Duration::from_millis(50);
    settings.idle_poll_max = Duration::from_millis(200);
    settings.outbox_retry_max = Duration::from_millis(500);
    // No tax system in the config: the store's default must apply.
    settings.default_tax_system = None;
    let (kassa, handle) = Kassa::new(settings, source, store, device);
    let kassa = kassa.with_catalogue(lookup);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(kassa.run(rx));
    Rig {
        _dir: dir,
        emu,
        cloud,
        sync,
        handle,
        stop,
        task,
    }
}

impl Rig {
    /// Queues a cash sale of `lines` (href, quantity, price) without a
    /// tax system; returns its id.
    fn sell(&self, sync_id: &str, lines: &[(&str, f64, i64)]) -> String {
        let lines: Vec<(String, f64, i64)> = lines
            .iter()
            .map(|(h, q, p)| (h.to_string(), *q, *p))
            .collect();
        self.cloud
            .enqueue(
                OpKind::RetailDemand,
                samples::catalogue_sale(sync_id, &lines),
            )
            .unwrap()
    }

    async fn answered(&self, id: &str) -> Value {
        wait_for(&format!("an answer to {id}"), 60, || {
            self.cloud.operation(id).is_some_and(|o| o.answered())
        })
        .await;
        let op = self.cloud.operation(id).unwrap();
        op.approve.or(op.reject).unwrap()
    }

    fn tape(&self, approve: &Value) -> String {
        let fd: u32 = approve["cheque"]["fiscalDocNumber"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        self.emu.printed_document(fd).unwrap().lines.join("\n")
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_names_store_tax_system_and_missing_products() {
    let rig = rig().await;
    let service = format!("{BASE}/service/{SERVICE_ID}");
    let weighed = format!("{BASE}/product/{WEIGHED_ID}");

    // Named from the cache, the store's default tax system (ОСН).
    let id = rig.sell(
        "c0000000-0000-4000-8000-000000000001",
        &[(&service, 1.0, 25000), (&weighed, 1.5, 12000)],
    );
    let a = rig.answered(&id).await;
    assert_eq!(a["taxSystem"], "GENERAL_TAX_SYSTEM", "{a}");
    let tape = rig.tape(&a);
    assert!(tape.contains("Доставка по городу"), "{tape}");
    assert!(tape.contains("Яблоки Гренни Смит"), "{tape}");
    assert!(!tape.contains("Товар 1"), "no invented name: {tape}");

    // The cloud does not know the product: rejected, the line named.
    let ghost = format!("{BASE}/product/deadbeef-0000-4000-8000-000000000000");
    let id = rig.sell(
        "c0000000-0000-4000-8000-000000000002",
        &[(&service, 1.0, 100), (&ghost, 2.0, 100)],
    );
    let r = rig.answered(&id).await;
    let msg = r["fiscalErrMsg"].as_str().unwrap_or_default();
    assert!(msg.contains("позиция 2"), "{r}");
    assert!(msg.contains("не найден"), "{r}");

    // The store switches to УСН доход: the next refresh applies it.
    rig.cloud.set_store_template(StoreTemplate {
        default_tax_system: Some("SIMPLIFIED_TAX_SYSTEM_INCOME".into()),
        ..StoreTemplate::default()
    });
    rig.sync.refresh_all().await.unwrap();
    // A product added and renamed after the sync: one targeted request.
    rig.cloud
        .put_item(sim_moysklad::catalogue::row(
            "product",
            "0ddba11a-0000-4000-8000-000000000001",
            "Новый товар",
            "л",
            "GOOD",
        ))
        .unwrap();
    assert!(
        rig.cloud
            .rename_item("0ddba11a-0000-4000-8000-000000000001", "Квас живой")
    );
    let fresh = format!("{BASE}/product/0ddba11a-0000-4000-8000-000000000001");
    let id = rig.sell(
        "c0000000-0000-4000-8000-000000000003",
        &[(&fresh, 2.0, 9000)],
    );
    let a = rig.answered(&id).await;
    assert_eq!(a["taxSystem"], "SIMPLIFIED_TAX_SYSTEM_INCOME", "{a}");
    assert!(rig.tape(&a).contains("Квас живой"));
    let item_requests = rig
        .cloud
        .requests()
        .iter()
        .filter(|r| r.path.contains("0ddba11a"))
        .count();
    assert_eq!(item_requests, 1, "one targeted request, not a sync");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_product_waits_while_the_cloud_is_down_then_prints_once() {
    let rig = rig().await;
    rig.cloud
        .put_item(sim_moysklad::catalogue::row(
            "product",
            "0ddba11a-0000-4000-8000-000000000002",
            "Хлеб бородинский",
            "шт",
            "GOOD",
        ))
        .unwrap();
    rig.cloud
        .add_fault(Fault::new(FaultKind::Status { status: 503 }, 100_000).on_path("0ddba11a"));
    let href = format!("{BASE}/product/0ddba11a-0000-4000-8000-000000000002");
    let id = rig.sell(
        "c0000000-0000-4000-8000-000000000004",
        &[(&href, 1.0, 5000)],
    );
    wait_for(
        "status saying the operation waits for its product",
        60,
        || {
            rig.handle
                .snapshot()
                .catalogue
                .is_some_and(|c| c.waiting.contains(&id))
        },
    )
    .await;
    let receipts = |emu: &sim_shtrih::EmulatorHandle| {
        emu.archive()
            .iter()
            .filter(|d| d.kind == doc_type::RECEIPT)
            .count()
    };
    assert_eq!(
        receipts(&rig.emu),
        0,
        "nothing printed under an invented name"
    );
    // Still waiting a moment later: retried, never printed or rejected.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rig.handle
            .snapshot()
            .catalogue
            .unwrap()
            .waiting
            .contains(&id)
    );
    assert_eq!(receipts(&rig.emu), 0);
    let op = rig.cloud.operation(&id).unwrap();
    assert_eq!((op.approves_accepted, op.rejects_accepted), (0, 0));
    rig.cloud.clear_faults();
    let a = rig.answered(&id).await;
    assert!(rig.tape(&a).contains("Хлеб бородинский"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let op = rig.cloud.operation(&id).unwrap();
    assert_eq!((op.approves_accepted, op.rejects_accepted), (1, 0));
    assert_eq!(receipts(&rig.emu), 1, "printed exactly once");
    assert!(rig.handle.snapshot().catalogue.unwrap().waiting.is_empty());
    rig.stop().await;
}
