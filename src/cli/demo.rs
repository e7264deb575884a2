//! `masterkassa demo`: the whole pipeline on an embedded default, no
//! hardware, no account. An emulated Shtrih-M-01F serves a PTY, a local
//! MoySklad master queue holds consistent variants of the seed's sample
//! operations (all four kinds) plus the seed's own sale, whose sums do not
//! add up, and the agent polls, prints, approves and rejects exactly as the
//! daemon does. The paper tape of each document and the request that went
//! back to the cloud are shown, then the status; exit code 0 when every
//! operation ended approved or rejected as expected.

use crate::device::DeviceHandle;
use crate::journal::{Journal, Source};
use crate::worker::journal_store::JournalStore;
use crate::worker::queue::{MemoryQueue, Received, samples};
use crate::worker::{Kassa, KassaSettings};
use anyhow::Context;
use shtrih::emulator::{Emulator, EmulatorConfig, EmulatorControl};
use std::sync::Arc;
use std::time::Duration;

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
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
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
    let result = runtime.block_on(demo(&dir, args.json));
    drop(runtime);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn demo(dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let link = dir.join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link).state_file(dir.join("emulator.json")))
        .context("cannot start the emulated printer")?;
    println!("masterkassa demo {}", crate::state::VERSION);
    println!(
        "  ККТ: эмулятор ШТРИХ-М-01Ф на {} ({}), 115200 бод",
        link.display(),
        emu.pty_path().display()
    );
    println!(
        "  Облако: локальная очередь МойСклад (мастер-касса), журнал {}",
        dir.join("journal.db").display()
    );

    let queue = Arc::new(MemoryQueue::new());
    let names = [
        "предоплата",
        "продажа с зачётом предоплаты",
        "возврат продажи",
        "возврат предоплаты",
        "продажа из примера API как есть (суммы не сходятся)",
    ];
    println!("  В очереди {} операций:", samples::ALL.len());
    for (body, name) in samples::ALL.iter().zip(names) {
        let id = queue.push(body);
        println!("    {id}  {name}");
    }

    let journal = Arc::new(Journal::open(dir.join("journal.db"))?);
    let store = Arc::new(JournalStore::new(journal, "демо", Source::Moysklad));
    let port = link.to_string_lossy().to_string();
    let device = DeviceHandle::spawn(
        "демо",
        crate::device::shtrih_opener(
            port,
            shtrih::driver::Baud::Fixed(115_200),
            shtrih::driver::DriverConfig::default(),
        ),
    )?;
    let mut settings = KassaSettings::new("демо");
    settings.poll_interval = Duration::from_millis(50);
    settings.idle_poll_max = Duration::from_millis(200);
    // A store's default, as `tax_system` in the config would set it.
    settings.default_tax_system = Some(kkt::TaxSystem::General);
    let (kassa, handle) = Kassa::new(settings, queue.clone(), store, device);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(kassa.run(rx));

    let started = std::time::Instant::now();
    let control = emu.control();
    let mut shown = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let received = queue.received();
        for r in received.iter().skip(shown) {
            show(r, &control, json);
        }
        shown = received.len();
        if queue.queued() == 0 {
            break;
        }
        if tokio::time::Instant::now() > deadline {
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
        kassas: vec![handle.snapshot()],
    };
    let paths = crate::cli::status::Paths {
        socket: dir.join("control.sock"),
        journal: dir.join("journal.db"),
    };
    println!("\n=== masterkassa status ===");
    print!("{}", crate::cli::status::render(&status, &paths));

    let received = queue.received();
    let approves = received.iter().filter(|r| r.endpoint == "approve").count();
    let rejects = received.iter().filter(|r| r.endpoint == "reject").count();
    let receipts = control
        .archive()
        .iter()
        .filter(|d| d.kind == shtrih::emulator::doc_type::RECEIPT)
        .count();
    println!("\nИтог: чеков в архиве ФН {receipts}, approve {approves}, reject {rejects}.");
    if queue.queued() != 0 || approves != 4 || rejects != 1 || receipts != 4 {
        anyhow::bail!(
            "демо не завершилось как ожидалось (в очереди осталось {})",
            queue.queued()
        );
    }
    Ok(())
}

fn show(r: &Received, emu: &EmulatorControl, json: bool) {
    let fd = match r.endpoint {
        "approve" => r.body["cheque"]["fiscalDocNumber"].as_str(),
        "openshift" | "closeshift" => r.body["cheque"]["start"]["fiscalDocNumber"].as_str(),
        _ => None,
    }
    .and_then(|s| s.parse::<u32>().ok());
    let title = match r.endpoint {
        "approve" => format!("Чек ФД {}", fd.unwrap_or(0)),
        "openshift" => format!("Открытие смены №{}", r.body["name"].as_str().unwrap_or("?")),
        "closeshift" => "Закрытие смены".to_string(),
        "reject" => "Операция отклонена, чек не печатался".to_string(),
        _ => return,
    };
    println!("\n--- {title} ---");
    if let Some(entry) = fd.and_then(|fd| emu.printed_document(fd)) {
        for line in &entry.lines {
            println!("  | {line}");
        }
    }
    let path = match r.endpoint {
        "approve" => "PUT /cheque/rpc/master/approve",
        "reject" => "PUT /cheque/rpc/master/reject",
        "openshift" => "PUT /rpc/openshift",
        _ => "PUT /rpc/closeshift",
    };
    if json {
        println!("  → {path} {}", r.body);
        return;
    }
    let b = &r.body;
    let op = b["meta"]["href"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("");
    match r.endpoint {
        "approve" => println!(
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
        "reject" => println!(
            "  → {path}: операция {op}: «{}»",
            b["fiscalErrMsg"].as_str().unwrap_or("")
        ),
        _ => println!(
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
