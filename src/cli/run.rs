//! `masterkassa run --config FILE`: the daemon. Loads and validates the
//! config, opens the journal, starts one independent loop per kassa (each
//! with its own device thread and cloud client), serves the control socket
//! and talks to systemd (READY, WATCHDOG, STATUS). Tokens come from files,
//! the environment or systemd credentials, never from argv.

use super::logging::LogFormat;
use crate::catalogue::{Catalogue, CatalogueSync, ProductLookup};
use crate::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter};
use crate::config::{Baud, CloudConfig, Config, KassaConfig};
use crate::device::DeviceHandle;
use crate::journal::Journal;
use crate::kassatka::source::KassatkaSource;
use crate::worker::daemon::Daemon;
use crate::worker::journal_store::{JournalStore, day_start};
use crate::worker::moysklad::MoySkladSource;
use crate::worker::status::ErrorReport;
use crate::worker::{Kassa, KassaSettings, StatusCell, Store};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file.
    #[arg(long, default_value = crate::config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Log format on stderr: auto (journald lines under systemd, else
    /// text, coloured only on a terminal), text, journald or json.
    #[arg(long, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Poll, render and validate every queued operation and show what
    /// would be printed; print nothing and answer nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    super::logging::init(args.log_format, "info");
    let config = Config::load(&args.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if args.dry_run {
        let mut out = String::new();
        let result = runtime.block_on(super::dry_run::run(&config, &mut out));
        print!("{out}");
        return result.map(|_| ());
    }
    runtime.block_on(run_daemon(config, std::future::pending()))
}

/// Runs every kassa of `config` until SIGTERM/SIGINT or `until` resolves.
pub async fn run_daemon(
    config: Config,
    until: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // Two daemons on one journal would fight over the ports and poll the
    // cloud twice; the second one would also remove the first one's
    // control socket when it stops. The lock lives as long as the daemon.
    let _instance = lock_instance(&config.journal_path)?;
    let journal = Arc::new(
        Journal::open(&config.journal_path)
            .with_context(|| format!("journal {}", config.journal_path.display()))?,
    );
    let _prune =
        crate::worker::retention::spawn_daily_prune(journal.clone(), config.journal_keep_days);
    let mut daemon = Daemon::new();
    // Every kassa is listed and the socket served before any waits for the
    // cloud: `status` must say "waiting for the cloud", not "not running".
    let mut stores = Vec::new();
    let mut cells = Vec::new();
    for k in &config.kassas {
        let store = Arc::new(JournalStore::new(journal.clone(), &k.name, k.source()));
        let counts = store.clone();
        let cell = daemon.placeholder(&k.name, Arc::new(move || counts.counts().ok()));
        if let CloudConfig::Moysklad(ms) = &k.cloud
            && ms.org_id.is_none()
        {
            // Said before the socket answers its first request.
            cell.update(|s| s.last_error = Some(waiting_for_cloud("подключение")));
        }
        cells.push(cell);
        stores.push(store);
    }
    if let Some(addr) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("[metrics] listen = \"{addr}\": cannot listen"))?;
        tracing::info!(%addr, "serving metrics on /metrics");
        daemon.serve_metrics(listener);
    }
    daemon.serve(Some(config.control_socket.clone()))?;
    // One limiter per token: MoySklad counts requests per user.
    let mut limiters: Vec<(String, Arc<RateLimiter>)> = Vec::new();
    let queues = QueueClaims::default();
    for ((k, store), cell) in config.kassas.iter().zip(stores).zip(cells) {
        let ms = match &k.cloud {
            CloudConfig::Moysklad(ms) => ms,
            CloudConfig::Kassatka(kc) => {
                // From the journaled download cursor (the first time: the
                // start of today): the journal keeps anything already
                // printed from printing again, so overlapping is safe.
                let source =
                    KassatkaSource::for_kassa_journaled(kc, journal.clone(), &k.name, day_start())
                        .map_err(|e| anyhow::anyhow!("kassa {}: Kassatka: {e}", k.name))?;
                let device = open_device(k)?;
                let (kassa, handle) = Kassa::new(settings(k), Arc::new(source), store, device);
                daemon.start(kassa, handle);
                tracing::info!(kassa = %k.name, device = %device_location(k), "Kassatka kassa configured");
                continue;
            }
        };
        let token = ms
            .token
            .load()
            .map_err(|e| anyhow::anyhow!("kassa {}: token: {e}", k.name))?;
        let limiter = match limiters.iter().find(|(t, _)| t == token.expose()) {
            Some((_, l)) => l.clone(),
            None => {
                let l = RateLimiter::new(Limits::moysklad());
                limiters.push((token.expose().clone(), l.clone()));
                l
            }
        };
        let client = PosClient::new(
            &ClientConfig {
                request_timeout: ms.request_timeout,
                ..ClientConfig::with_base_url(&ms.api_url)
            },
            crate::cloud::Secret::new(token.expose().clone()),
            &ms.cashier_uid,
            limiter,
        )
        .with_context(|| format!("kassa {}: cloud client", k.name))?;
        let api: Arc<dyn PosApi> = Arc::new(client);
        let api_for_org = api.clone();
        let catalogue = Arc::new(
            Catalogue::open(&config.journal_path, &k.name)
                .with_context(|| format!("kassa {}: catalogue cache", k.name))?,
        );
        let sync = CatalogueSync::new(api.clone(), catalogue.clone(), ms.catalogue_refresh);
        daemon.spawn_background(move |stop| sync.run(stop));
        let mut lookup = ProductLookup::new(api.clone(), catalogue, ms.unknown_product);
        lookup.print_template = ms.receipt_template;
        lookup.bundles = ms.bundles;
        let lookup = Arc::new(lookup);
        let device = open_device(k)?;
        let mut cfg = settings(k);
        // The MoySklad queue cannot notify: idle polling sets how long a
        // new sale waits.
        let sharers = kassas_on_token(&config.kassas, &ms.token);
        cfg.idle_poll_max = crate::worker::poll_budget::idle_poll_max(k.poll_interval, sharers);
        cfg.busy_poll = Some(crate::worker::poll_budget::busy_poll_interval(
            k.poll_interval,
            sharers,
        ));
        let api_url = ms.api_url.clone();
        let start = move |org_id: String| {
            let source = Arc::new(MoySkladSource::new(api.clone(), &org_id, &api_url));
            let (kassa, handle) = Kassa::new(cfg, source, store, device);
            (kassa.with_catalogue(lookup), handle)
        };
        let base = ms.api_url.trim_end_matches('/').to_string();
        match &ms.org_id {
            Some(id) => {
                queues
                    .claim(&base, id, &k.name)
                    .map_err(|e| anyhow::anyhow!(e))?;
                let (kassa, handle) = start(id.clone());
                daemon.start(kassa, handle);
            }
            // Waiting for the cloud must not hold up the kassas after this
            // one, nor keep the socket from saying why this one waits.
            None => {
                let api = api_for_org.clone();
                let queues = queues.clone();
                let name = k.name.clone();
                daemon.start_when_ready(async move {
                    let org_id = org_id_from_cloud(&*api, &name, &cell).await;
                    if let Err(conflict) = queues.claim(&base, &org_id, &name) {
                        tracing::error!(kassa = %name, "{conflict}");
                        cell.update(|s| {
                            s.last_error = Some(ErrorReport {
                                layer: "config".into(),
                                message: format!(
                                    "касса не запущена: организацию {org_id} уже обслуживает другая касса этого демона, \
                                     каждая операция печаталась бы дважды; оставьте в настройках одну"
                                ),
                                at: crate::worker::moscow_now(),
                            })
                        });
                        return None;
                    }
                    Some(start(org_id))
                });
            }
        }
        tracing::info!(kassa = %k.name, device = %device_location(k), "kassa configured");
    }
    if !daemon.has_started() {
        anyhow::bail!("no kassa can run: check the [[kassa]] sections of the config");
    }
    daemon
        .run_until(Some(config.control_socket.clone()), until)
        .await
}

/// Holds an exclusive lock on `<journal>.lock` for the life of the daemon.
fn lock_instance(journal: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the journal directory {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another masterkassa daemon is already running with the journal {} \
             (lock {} is held); stop it first",
            journal.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// The retail store's organization id, read once at start. The daemon
/// must come up without network and with a refused token: it keeps asking
/// (quickly while the cloud is unreachable, every few minutes when the
/// cloud refuses) and says in `status` why the kassa waits.
async fn org_id_from_cloud(api: &dyn PosApi, kassa: &str, status: &StatusCell) -> String {
    let mut wait = Duration::from_secs(1);
    loop {
        let (why, pause) = match api.settings_retailstore().await {
            Ok(store) => return store.organization.id.clone().unwrap_or(store.id),
            Err(e) if e.is_transient() => {
                tracing::warn!(kassa, error = %e, "cannot read the retail store yet; retrying");
                let why = format!("облако недоступно ({e}), повтор через {} с", wait.as_secs());
                let pause = wait;
                wait = (wait * 2).min(Duration::from_secs(60));
                (why, pause)
            }
            Err(e) => {
                tracing::error!(kassa, error = %e, "the cloud refuses the retail store's settings; retrying in 5 min");
                let why = match e.status() {
                    Some(401 | 403) => format!(
                        "облако не приняло токен (HTTP {}): подключите кассу заново \
                         (masterkassa attach) или исправьте токен и перезапустите службу",
                        e.status().unwrap_or(401)
                    ),
                    _ => format!(
                        "облако не отдаёт настройки точки продаж ({e}); \
                         задайте org_id кассы в настройках"
                    ),
                };
                (why, REFUSED_RETRY)
            }
        };
        status.update(|s| s.last_error = Some(waiting_for_cloud(&why)));
        tokio::time::sleep(pause).await;
    }
}

/// How often a refused request for the store's settings is repeated.
const REFUSED_RETRY: Duration = Duration::from_secs(300);

/// The organisation queues this daemon's kassas poll. Two master kassas on
/// one queue would both be handed the same operation and both print it.
#[derive(Clone, Default)]
struct QueueClaims(Arc<std::sync::Mutex<Vec<QueueClaim>>>);

/// One kassa's claim on an organisation's queue at one API.
struct QueueClaim {
    api_url: String,
    org_id: String,
    kassa: String,
}

impl QueueClaims {
    /// Claims the queue of `org_id` at `api_url` for `kassa`; an error
    /// names the kassa that already polls it.
    fn claim(&self, api_url: &str, org_id: &str, kassa: &str) -> Result<(), String> {
        let mut claims = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(other) = claims
            .iter()
            .find(|c| c.api_url == api_url && c.org_id == org_id)
        {
            return Err(format!(
                "kassas {} and {kassa} both serve organisation {org_id} at {api_url}: \
                 each operation would be printed twice; keep one",
                other.kassa
            ));
        }
        claims.push(QueueClaim {
            api_url: api_url.to_string(),
            org_id: org_id.to_string(),
            kassa: kassa.to_string(),
        });
        Ok(())
    }
}

/// MoySklad kassas configured with the same token source: they share one
/// request budget.
fn kassas_on_token(all: &[KassaConfig], token: &crate::config::SecretSource) -> usize {
    all.iter()
        .filter(|o| matches!(&o.cloud, CloudConfig::Moysklad(ms) if &ms.token == token))
        .count()
}

/// The status of a kassa that cannot start before the cloud answers.
fn waiting_for_cloud(detail: &str) -> ErrorReport {
    ErrorReport {
        layer: "cloud".into(),
        message: format!("ожидание облака: {detail}"),
        at: crate::worker::moscow_now(),
    }
}

/// The worker settings of a configured kassa.
pub(crate) fn settings(k: &KassaConfig) -> KassaSettings {
    let mut s = KassaSettings::new(&k.name);
    s.poll_interval = k.poll_interval;
    s.idle_poll_max = (k.poll_interval * 10).max(Duration::from_secs(5));
    s.default_tax_system = k.tax_system;
    s.daily_close = k.daily_close;
    s
}

/// The device thread of a kassa; the port is opened on first use and
/// reopened after the cable comes back.
pub fn open_device(k: &KassaConfig) -> anyhow::Result<DeviceHandle> {
    let opener = match &k.device.atol {
        Some(atol) => crate::device::atol_opener(
            atol_settings(atol).with_context(|| format!("kassa {}: ATOL Web-server", k.name))?,
        ),
        None => {
            let (port, baud, cfg) = driver_settings(k);
            crate::device::shtrih_opener(port, baud, cfg)
        }
    };
    DeviceHandle::spawn(&k.name, opener).with_context(|| format!("kassa {}: device thread", k.name))
}

/// The Web-server settings of an ATOL kassa, its password read from where
/// the config points.
pub(crate) fn atol_settings(
    atol: &crate::config::AtolDevice,
) -> anyhow::Result<atol::transport::WebServerConfig> {
    let mut cfg = atol::transport::WebServerConfig::new(&atol.url);
    cfg.device_id = atol.device_id.clone();
    if let Some((user, source)) = &atol.credentials {
        let password = source
            .load()
            .map_err(|e| anyhow::anyhow!("device.password: {e}"))?;
        cfg.credentials = Some((user.clone(), password.expose().clone()));
    }
    Ok(cfg)
}

/// Where a kassa's printer is, for log lines.
pub(crate) fn device_location(k: &KassaConfig) -> String {
    match &k.device.atol {
        Some(atol) => atol.url.clone(),
        None => k.device.port.display().to_string(),
    }
}

/// Port, speed and driver settings of a kassa's printer.
pub(crate) fn driver_settings(
    k: &KassaConfig,
) -> (String, shtrih::driver::Baud, shtrih::driver::DriverConfig) {
    let port = k.device.port.to_string_lossy().to_string();
    let baud = match k.device.baud {
        Baud::Auto => shtrih::driver::Baud::Auto,
        Baud::Fixed(b) => shtrih::driver::Baud::Fixed(b),
    };
    let cfg = shtrih::driver::DriverConfig {
        password: *k.device.password.expose(),
        ..shtrih::driver::DriverConfig::default()
    };
    (port, baud, cfg)
}
