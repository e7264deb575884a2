//! `masterkassa demo`: the whole pipeline on an embedded default, no
//! hardware, no account. An emulated Shtrih-M-01F serves a PTY (or, with
//! `--printer atol`, the ATOL Web-server stand-in serves loopback HTTP), the fake
//! MoySklad cloud listens on loopback with consistent variants of the
//! seed's sample operations queued (all four kinds) plus the seed's own
//! sale, whose sums do not add up, and the agent polls, prints, approves
//! and rejects over HTTP exactly as the daemon does. The paper tape of each document and the request that went
//! back to the cloud are shown, then the status; exit code 0 when every
//! operation ended approved or rejected as expected.

use crate::catalogue::{Catalogue, CatalogueSync, ProductLookup, UnknownProduct};
use crate::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use crate::device::DeviceHandle;
use crate::fake_cloud::{FakeCloud, FakeCloudConfig, OpKind};
use crate::journal::{Journal, Source};
use crate::worker::journal_store::JournalStore;
use crate::worker::moysklad::MoySkladSource;
use crate::worker::queue::samples;
use crate::worker::{Kassa, KassaSettings};
use anyhow::Context;
use sim_atol::{AtolServer, ServerOptions};
use sim_shtrih::{Document, Emulator, EmulatorConfig, EmulatorHandle};
use std::sync::Arc;
use std::time::Duration;

/// `println!` that never panics: when stdout is a closed pipe
/// (`masterkassa demo | head`) the demo finishes quietly and still removes
/// its temporary directory.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's files (journal, emulator state) in this directory
    /// instead of a temporary one.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Print full request bodies as JSON.
    #[arg(long)]
    pub json: bool,
    /// Which printer family to emulate.
    #[arg(long, value_enum, default_value_t = PrinterKind::Shtrih)]
    pub printer: PrinterKind,
}

/// The emulated printer behind the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrinterKind {
    /// Shtrih-M-01F over a PTY, the serial protocol.
    Shtrih,
    /// ATOL 30F behind the ATOL Web-server's JSON task API.
    Atol,
}

/// A running emulated printer: what the demo shows of its tape and FN.
enum Printer {
    Shtrih(EmulatorHandle),
    Atol(AtolServer),
}

impl Printer {
    fn start(kind: PrinterKind, dir: &std::path::Path) -> anyhow::Result<Printer> {
        Ok(match kind {
            PrinterKind::Shtrih => {
                let link = dir.join("kkt");
                let emu = Emulator::spawn(
                    EmulatorConfig::new(&link).state_file(dir.join("emulator.json")),
                )
                .context("cannot start the emulated printer")?;
                out!(
                    "  ККТ: эмулятор ШТРИХ-М-01Ф на {} ({}), 115200 бод",
                    link.display(),
                    emu.pty_path().display()
                );
                Printer::Shtrih(emu)
            }
            PrinterKind::Atol => {
                let server = AtolServer::start(ServerOptions::loopback())
                    .context("cannot start the ATOL Web-server stand-in")?;
                out!(
                    "  ККТ: эмулятор АТОЛ 30Ф за веб-сервером драйвера АТОЛ на {}",
                    server.url()
                );
                Printer::Atol(server)
            }
        })
    }

    fn opener(&self, dir: &std::path::Path) -> crate::device::Opener {
        match self {
            Printer::Shtrih(_) => crate::device::shtrih_opener(
                dir.join("kkt").to_string_lossy().to_string(),
                shtrih::driver::Baud::Fixed(115_200),
                shtrih::driver::DriverConfig::default(),
            ),
            Printer::Atol(server) => {
                crate::device::atol_opener(atol::transport::WebServerConfig::new(&server.url()))
            }
        }
    }

    fn archive(&self) -> Vec<Document> {
        match self {
            Printer::Shtrih(emu) => emu.control().archive(),
            Printer::Atol(server) => server.with_device(|d| d.fn_storage.archive.clone()),
        }
    }

    /// The printed copy with the free text around it; the ATOL stand-in
    /// keeps no tape, so only its FN archive is shown.
    fn tape(&self, fd: u32) -> Option<Vec<String>> {
        match self {
            Printer::Shtrih(emu) => emu.control().tape().document_with_text(fd),
            Printer::Atol(_) => None,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    super::logging::init(super::logging::LogFormat::Auto, "error");
    let (dir, temporary) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let name = format!("masterkassa-demo-{}-{stamp}", std::process::id());
            (std::env::temp_dir().join(name), true)
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(demo(&dir, args.json, args.printer));
    drop(runtime);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn demo(dir: &std::path::Path, json: bool, kind: PrinterKind) -> anyhow::Result<()> {
    out!("masterkassa demo {}", crate::state::VERSION);
    let printer = Printer::start(kind, dir)?;
    let cloud = FakeCloud::start(FakeCloudConfig::default())
        .await
        .context("cannot start the fake cloud")?;
    out!(
        "  Облако: фейковый МойСклад на {} (организация {})",
        cloud.base_url(),
        cloud.org_id()
    );
    out!("  Журнал: {}", dir.join("journal.db").display());
    let names = [
        "предоплата",
        "продажа с зачётом предоплаты",
        "возврат продажи",
        "возврат предоплаты",
        "продажа из примера API как есть (суммы не сходятся)",
    ];
    out!("  В очереди {} операций:", samples::ALL.len());
    for (body, name) in samples::ALL.iter().zip(names) {
        let value: serde_json::Value = serde_json::from_str(body)?;
        let kind = value["meta"]["type"]
            .as_str()
            .and_then(OpKind::parse)
            .context("sample without a kind")?;
        let id = cloud
            .enqueue(kind, value)
            .map_err(|e| anyhow::anyhow!("the fake cloud refused a sample: {e:?}"))?;
        out!("    {id}  {name}");
    }
    let id = cloud
        .enqueue(OpKind::RetailDemand, catalogue_sale())
        .map_err(|e| anyhow::anyhow!("the fake cloud refused the demo sale: {e:?}"))?;
    out!("    {id}  продажа: услуга и весовой товар (названия из справочника, СНО точки)");
    let client = PosClient::new(
        &ClientConfig::with_base_url(cloud.base_url()),
        Secret::new(cloud.token().unwrap_or_else(|| "demo-token".into())),
        cloud.cashier_uid(),
        RateLimiter::new(Limits::moysklad()),
    )?;
    let api: Arc<dyn PosApi> = Arc::new(client);
    let journal = Arc::new(Journal::open(dir.join("journal.db"))?);
    let catalogue = Arc::new(Catalogue::open(&dir.join("journal.db"), "демо")?);
    let report = CatalogueSync::new(api.clone(), catalogue.clone(), Duration::from_secs(3600))
        .refresh_all()
        .await?;
    out!(
        "  Справочник: {} товаров и услуг за {} запросов; шапка и подвал чека из настроек точки",
        report.items,
        report.requests
    );
    let lookup = Arc::new(ProductLookup::new(
        api.clone(),
        catalogue,
        UnknownProduct::Wait,
    ));
    let source = Arc::new(MoySkladSource::new(api, &cloud.org_id(), &cloud.base_url()));

    let store = Arc::new(JournalStore::new(journal, "демо", Source::Moysklad));
    let device = DeviceHandle::spawn("демо", printer.opener(dir))?;
    let mut settings = KassaSettings::new("демо");
    settings.poll_interval = Duration::from_millis(50);
    settings.idle_poll_max = Duration::from_millis(200);
    // No `tax_system`: the store's `defaultTaxSystem` applies.
    let (kassa, handle) = Kassa::new(settings, source, store, device);
    let kassa = kassa.with_catalogue(lookup);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(kassa.run(rx));

    let started = std::time::Instant::now();
    let mut shown_shifts = std::collections::HashSet::new();
    let mut shown_ops = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        for shift in cloud.shifts() {
            if shown_shifts.insert(shift.id.clone()) {
                show("openshift", &shift.open_body, &printer, json);
            }
        }
        let ops = cloud.operations();
        for op in &ops {
            let answer = match (&op.approve, &op.reject) {
                (Some(a), _) => Some(("approve", a)),
                (None, Some(r)) => Some(("reject", r)),
                _ => None,
            };
            if let Some((endpoint, body)) = answer
                && shown_ops.insert(op.id.clone())
            {
                show(endpoint, body, &printer, json);
            }
        }
        if shown_ops.len() == ops.len() || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;

    let status = crate::control::DaemonStatus {
        schema: 1,
        daemon_running: true,
        version: crate::state::VERSION.to_string(),
        uptime_secs: Some(started.elapsed().as_secs()),
        never_ran: false,
        kassas: vec![handle.snapshot()],
    };
    let paths = crate::cli::status::Paths {
        socket: dir.join("control.sock"),
        journal: dir.join("journal.db"),
        kassas: Vec::new(),
    };
    out!("\n=== masterkassa status ===");
    {
        use std::io::Write as _;
        let text = crate::cli::status::render(&status, &paths);
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    let ops = cloud.operations();
    let approves: u32 = ops.iter().map(|o| o.approves_accepted).sum();
    let rejects: u32 = ops.iter().map(|o| o.rejects_accepted).sum();
    let unanswered = ops.iter().filter(|o| !o.answered()).count();
    let receipts = printer
        .archive()
        .iter()
        .filter(|d| d.kind == sim_shtrih::doc_type::RECEIPT)
        .count();
    out!("\nИтог: чеков в архиве ФН {receipts}, approve {approves}, reject {rejects}.");
    if unanswered != 0 || approves != 5 || rejects != 1 || receipts != 5 {
        anyhow::bail!("демо не завершилось как ожидалось (без ответа осталось {unanswered})");
    }
    Ok(())
}

/// A sale of the store's service and 1.5 kg of its weighed product, with
/// no tax system (the store's default applies): real names, 1212 = 4 and
/// 2108 = 11 in the FN, the store's header and footer on the tape.
fn catalogue_sale() -> serde_json::Value {
    use crate::fake_cloud::catalogue::{SERVICE_ID, WEIGHED_ID};
    let base = "https://online.moysklad.ru/api/posap/1.0/entity";
    samples::catalogue_sale(
        "5a1e0000-0000-4000-8000-0000000000d1",
        &[
            (format!("{base}/service/{SERVICE_ID}"), 1.0, 25000),
            (format!("{base}/product/{WEIGHED_ID}"), 1.5, 12000),
        ],
    )
}

fn show(endpoint: &str, body: &serde_json::Value, printer: &Printer, json: bool) {
    let fd = match endpoint {
        "approve" => body["cheque"]["fiscalDocNumber"].as_str(),
        "openshift" | "closeshift" => body["cheque"]["start"]["fiscalDocNumber"].as_str(),
        _ => None,
    }
    .and_then(|s| s.parse::<u32>().ok());
    let title = match endpoint {
        "approve" => format!("Чек ФД {}", fd.unwrap_or(0)),
        "openshift" => format!("Открытие смены №{}", body["name"].as_str().unwrap_or("?")),
        "closeshift" => "Закрытие смены".to_string(),
        "reject" => "Операция отклонена, чек не печатался".to_string(),
        _ => return,
    };
    out!("\n--- {title} ---");
    // With the free text around it: the store's receipt header and footer.
    if let Some(lines) = fd.and_then(|fd| printer.tape(fd)) {
        for line in &lines {
            out!("  | {line}");
        }
    }
    // What the FN signed for each line: the tags a tax inspector reads.
    if let Some(doc) = fd.and_then(|fd| printer.archive().into_iter().find(|d| d.number == fd)) {
        for (n, p) in doc.positions.iter().enumerate() {
            let measure = p.measure.map_or("нет".to_string(), |m| m.to_string());
            out!(
                "  ФН, позиция {}: 1030 «{}», 1212 = {}, 2108 = {measure}",
                n + 1,
                p.name,
                p.object
            );
        }
    }
    let path = match endpoint {
        "approve" => "PUT /cheque/rpc/master/approve",
        "reject" => "PUT /cheque/rpc/master/reject",
        "openshift" => "PUT /rpc/openshift",
        _ => "PUT /rpc/closeshift",
    };
    if json {
        out!("  → {path} {body}");
        return;
    }
    let b = body;
    let op = b["meta"]["href"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("");
    match endpoint {
        "approve" => out!(
            "  → {path}: операция {op}, ФН {}, ФД {}, ФП {}, сумма {}, смена {}",
            b["cheque"]["fnNumber"].as_str().unwrap_or("?"),
            b["cheque"]["fiscalDocNumber"].as_str().unwrap_or("?"),
            b["cheque"]["fiscalDocSign"].as_str().unwrap_or("?"),
            b["cheque"]["sum"],
            b["retailShift"]["meta"]["href"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
        ),
        "reject" => out!(
            "  → {path}: операция {op}: «{}»",
            b["fiscalErrMsg"].as_str().unwrap_or("")
        ),
        _ => out!(
            "  → {path}: смена {}, ФД {}",
            b["retailShift"]["meta"]["href"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or(""),
            fd.unwrap_or(0)
        ),
    }
}
