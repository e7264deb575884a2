//! `masterkassa run` with `driver = "atol"`: the daemon against the fake
//! cloud and the ATOL Web-server stand-in (with Basic auth, the password
//! from an environment variable). It prints and approves the four kinds of
//! operation with the fiscal data the stand-in's FN signed; then, killed
//! with a print request held on the server and restarted, it still leaves
//! exactly one receipt per operation in the FN archive.

mod crash_support;

use masterkassa::worker::queue::samples;
use sim_atol::{AtolServer, ServerOptions};
use sim_moysklad::{FakeCloud, FakeCloudConfig, FakeCloudHandle, OpKind};
use sim_shtrih::{Document, doc_type};
use std::path::Path;
use std::time::{Duration, Instant};

const USER: &str = "kassir";
const PASSWORD: &str = "atol-web-secret";

fn atol_server() -> AtolServer {
    atol_server_for(&[])
}

/// A stand-in serving one printer per `deviceID` (one printer when empty).
fn atol_server_for(device_ids: &[&str]) -> AtolServer {
    let mut opts = ServerOptions::loopback();
    opts.credentials = Some((USER.into(), PASSWORD.into()));
    opts.device_ids = device_ids.iter().map(|d| d.to_string()).collect();
    AtolServer::start(opts).expect("ATOL stand-in starts")
}

/// The `[kassa.device]` lines of a kassa on the stand-in at `url`.
fn atol_device(url: &str, device_id: Option<&str>) -> String {
    let id = device_id.map_or(String::new(), |id| format!("device_id = \"{id}\"\n"));
    format!(
        "driver = \"atol\"\nurl = \"{url}\"\n{id}user = \"{USER}\"\npassword_env = \"MASTERKASSA_TEST_ATOL_PASSWORD\"\n"
    )
}

/// The crash tests' config with its printer swapped for the stand-in.
fn atol_config(dir: &Path, api_url: &str, atol_url: &str) -> std::path::PathBuf {
    let path = crash_support::config(dir, api_url, Path::new("/dev/unused"));
    crash_support::replace_device(&path, &atol_device(atol_url, None));
    path
}

fn spawn_agent(cfg: &Path, dir: &Path) -> std::process::Child {
    // The password reaches the agent only through its environment, as the
    // config's password_env asks.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("agent.log"))
        .unwrap();
    cmd.arg("run")
        .arg("--config")
        .arg(cfg)
        .env(
            "MASTERKASSA_TEST_TOKEN",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("MASTERKASSA_TEST_ATOL_PASSWORD", PASSWORD)
        .env("RUST_LOG", "masterkassa=info")
        .stdout(std::process::Stdio::null())
        .stderr(log);
    cmd.spawn().unwrap()
}

/// Queues a sample operation; `batch` > 0 gives it a new syncid, so the
/// same sample can be queued again as another operation.
fn enqueue(cloud: &FakeCloudHandle, body: &str, batch: u8) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    if batch > 0 {
        let href = v["meta"]["href"].as_str().unwrap();
        let (base, id) = href.rsplit_once('/').unwrap();
        let href = format!("{base}/{batch:02x}{}", &id[2..]);
        v["meta"]["href"] = href.into();
    }
    let kind = OpKind::parse(v["meta"]["type"].as_str().unwrap()).unwrap();
    cloud.enqueue(kind, v).unwrap()
}

async fn wait_answered(cloud: &FakeCloudHandle, n: usize, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answered = cloud.operations().iter().filter(|o| o.answered()).count();
        if answered >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{answered} of {n} operations answered; see {}",
            dir.join("agent.log").display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn receipts(server: &AtolServer) -> Vec<Document> {
    receipts_on(server, None)
}

/// The receipts in the FN of printer `device_id` (`None`: the first).
fn receipts_on(server: &AtolServer, device_id: Option<&str>) -> Vec<Document> {
    let of = |d: &mut sim_atol::AtolDevice| -> Vec<Document> {
        d.fn_storage
            .archive
            .iter()
            .filter(|doc| doc.kind == doc_type::RECEIPT)
            .cloned()
            .collect()
    };
    match device_id {
        Some(id) => server.with_device_id(id, of),
        None => server.with_device(of),
    }
}

/// The FD number an approve body names.
fn approved_fd(approve: &serde_json::Value) -> u32 {
    let fd = approve["cheque"]["fiscalDocNumber"].as_str();
    fd.and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no FD number in {approve}"))
}

/// `"123.45"` or `123.45` as kopecks, without going through a float.
fn kopecks(v: &serde_json::Value) -> u64 {
    let text = v.to_string().trim_matches('"').to_string();
    let (rub, kop) = text.split_once('.').unwrap_or((&text, "0"));
    let kop = format!("{kop:0<2}");
    rub.parse::<u64>().unwrap() * 100 + kop[..2].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_prints_all_four_kinds_on_atol_and_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let server = atol_server();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let kinds = [
        samples::SALE,
        samples::SALE_RETURN,
        samples::PREPAYMENT,
        samples::PREPAYMENT_RETURN,
    ];
    let ids: Vec<String> = kinds.iter().map(|b| enqueue(&cloud, b, 0)).collect();
    let cfg = atol_config(dir.path(), &cloud.base_url(), &server.url());
    let mut agent = spawn_agent(&cfg, dir.path());
    wait_answered(&cloud, 4, dir.path()).await;

    let fn_serial = server.with_device(|d| d.fn_storage.serial.clone());
    let printed = receipts(&server);
    assert_eq!(printed.len(), 4, "one receipt per operation");
    let ops = cloud.operations();
    for id in &ids {
        let op = ops.iter().find(|o| &o.id == id).unwrap();
        assert_eq!((op.approves_accepted, op.rejects_accepted), (1, 0), "{id}");
        let a = op.approve.as_ref().unwrap();
        let fd = approved_fd(a);
        let doc = printed.iter().find(|d| d.number == fd).unwrap();
        assert_eq!(
            a["cheque"]["fiscalDocSign"].as_str().unwrap(),
            doc.fiscal_sign.to_string(),
            "{id}"
        );
        assert_eq!(a["cheque"]["fnNumber"].as_str().unwrap(), fn_serial);
        assert_eq!(
            a["cheque"]["number"].as_str().unwrap(),
            doc.receipt_number.unwrap().to_string()
        );
        assert_eq!(Some(kopecks(&a["cheque"]["sum"])), doc.total, "{id}");
    }
    // Sale and prepayment are income (1), both returns are refunds (2).
    let operations: Vec<Option<u8>> = printed.iter().map(|d| d.operation).collect();
    assert_eq!(operations, [Some(1), Some(2), Some(1), Some(2)]);

    // A second batch; the agent dies while a request waits on the server.
    let more: Vec<String> = kinds.iter().map(|b| enqueue(&cloud, b, 1)).collect();
    server.hold(true);
    // Killed once the journal says PRINTING for the batch's first operation
    // and its request (posted after its marking codes were checked) sits
    // unanswered on the server.
    let deadline = Instant::now() + Duration::from_secs(30);
    let printing = format!("printing kassa=crash op={}", more[0]);
    while !std::fs::read_to_string(dir.path().join("agent.log"))
        .unwrap()
        .contains(&printing)
        || server.pending_documents() == 0
    {
        assert!(
            Instant::now() < deadline,
            "the agent never posted {}",
            more[0]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    agent.kill().unwrap();
    agent.wait().unwrap();
    // The held request now runs with nobody waiting for it.
    server.hold(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receipts(&server).len(),
        5,
        "the held request was the first receipt of the second batch"
    );
    let mut agent = spawn_agent(&cfg, dir.path());
    wait_answered(&cloud, 8, dir.path()).await;
    agent.kill().unwrap();
    agent.wait().unwrap();

    let printed = receipts(&server);
    assert_eq!(printed.len(), 8, "one receipt per operation after the kill");
    let ops = cloud.operations();
    let mut fds = Vec::new();
    for id in ids.iter().chain(&more) {
        let op = ops.iter().find(|o| &o.id == id).unwrap();
        assert_eq!((op.approves_accepted, op.rejects_accepted), (1, 0), "{id}");
        let fd = approved_fd(op.approve.as_ref().unwrap());
        assert!(printed.iter().any(|d| d.number == fd), "{id}: FD {fd}");
        fds.push(fd);
    }
    fds.sort_unstable();
    fds.dedup();
    assert_eq!(fds.len(), 8, "each operation approved with its own receipt");
}

/// Two shops' kassas on one ATOL Web-server with two printers: each kassa
/// names its printer by `device_id`, and each shop's sales reach its own
/// printer's FN, once, approved with that FN's number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kassas_print_on_their_own_printers_of_one_web_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = atol_server_for(&["kkt-1", "kkt-2"]);
    let north = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let south = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let mut text = test_support::config::config_text(
        dir.path(),
        &[
            crash_support::fake_cloud_entry("north", &north, Path::new("/dev/unused-1")),
            crash_support::fake_cloud_entry("south", &south, Path::new("/dev/unused-2")),
        ],
    );
    for (port, id) in [("/dev/unused-1", "kkt-1"), ("/dev/unused-2", "kkt-2")] {
        let shtrih = format!("driver = \"shtrih\"\nport = \"{port}\"\nbaud = 115200\n");
        assert!(text.contains(&shtrih));
        text = text.replace(&shtrih, &atol_device(&server.url(), Some(id)));
    }
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    enqueue(&north, samples::SALE, 0);
    enqueue(&north, samples::SALE, 1);
    enqueue(&south, samples::SALE_RETURN, 0);
    let mut agent = spawn_agent(&cfg, dir.path());
    wait_answered(&north, 2, dir.path()).await;
    wait_answered(&south, 1, dir.path()).await;
    agent.kill().unwrap();
    agent.wait().unwrap();

    for (cloud, id, operations) in [
        (&north, "kkt-1", vec![Some(1), Some(1)]),
        (&south, "kkt-2", vec![Some(2)]),
    ] {
        let printed = receipts_on(&server, Some(id));
        let kinds: Vec<Option<u8>> = printed.iter().map(|d| d.operation).collect();
        assert_eq!(kinds, operations, "{id}");
        let fn_serial = server.with_device_id(id, |d| d.fn_storage.serial.clone());
        for op in cloud.operations() {
            assert_eq!((op.approves_accepted, op.rejects_accepted), (1, 0), "{id}");
            let a = op.approve.as_ref().unwrap();
            assert_eq!(a["cheque"]["fnNumber"].as_str().unwrap(), fn_serial, "{id}");
            assert!(printed.iter().any(|d| d.number == approved_fd(a)), "{id}");
        }
    }
}
