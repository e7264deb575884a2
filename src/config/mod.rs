//! The agent's configuration: a TOML file (default
//! `/etc/masterkassa/config.toml`), validated into the types below with
//! errors that name the key, e.g. `kassa[1].device.baud: expected a number
//! or "auto"`. Every problem in the file is reported at once.
//!
//! ```toml
//! [journal]
//! path = "/var/lib/masterkassa/journal.db"
//! keep_days = 400    # settled operations kept this long (366..=36500)
//! [control]
//! socket = "/run/masterkassa/control.sock"
//! [[kassa]]
//! name = "shop1"
//! cashier_uid = "cashier@myorg"
//! token_file = "/etc/masterkassa/shop1.token"   # or token_env / token_credential
//! [kassa.device]
//! port = "/dev/kkt0"
//! ```
//!
//! `docs/config.example.toml` documents every key. Tokens never live in
//! the file ([`secret`]). Two environment overrides exist for packaging and
//! tests: `MASTERKASSA_JOURNAL_PATH` and `MASTERKASSA_CONTROL_SOCKET`.
//!
//! The file is parsed by `toml` into a generic table and then validated by
//! hand in [`parse`], rather than deserialized with serde derive: that is
//! what lets every error carry its full key path (`kassa[1].device.baud`)
//! and lets all problems be listed together.
//!
//! Public API: [`Config::load`], [`Config::parse`] (text, base directory,
//! env lookup), [`Config::kassa`], [`Config::summary`]; types [`Config`],
//! [`KassaConfig`], [`CloudConfig`] (`Moysklad(MoyskladConfig)` |
//! `Kassatka(KassatkaConfig)`), [`DeviceConfig`], [`Driver`], [`Baud`],
//! [`secret::Secret`], [`secret::SecretSource`], [`ConfigError`], [`KeyError`].

pub mod parse;
pub mod secret;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::journal::Source;
pub use secret::{Secret, SecretError, SecretSource};

/// Default path of the config file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/masterkassa/config.toml";
/// Default journal path (systemd `StateDirectory=masterkassa`).
pub const DEFAULT_JOURNAL_PATH: &str = "/var/lib/masterkassa/journal.db";
/// Default control socket (systemd `RuntimeDirectory=masterkassa`).
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/masterkassa/control.sock";
/// Default MoySklad POS API base URL.
pub const DEFAULT_MOYSKLAD_API_URL: &str = "https://online.moysklad.ru/api/posap/1.0";

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[journal] path`.
    pub journal_path: PathBuf,
    /// `[journal] keep_days`: settled operations older than this are
    /// removed from the journal (default 400).
    pub journal_keep_days: u32,
    /// `[control] socket`.
    pub control_socket: PathBuf,
    /// `[metrics] listen`: where to serve Prometheus metrics (off if absent).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `[[kassa]]`, in file order; names and ports are unique.
    pub kassas: Vec<KassaConfig>,
}

/// One kassa: a printer and the cloud queue it prints for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KassaConfig {
    /// Unique name (letters, digits, `-`, `_`), used in logs, the journal
    /// and `status`.
    pub name: String,
    /// Where operations come from, with that cloud's settings.
    pub cloud: CloudConfig,
    /// `poll_interval_ms` (default 1000): the poll interval while work
    /// flows; an idle MoySklad kassa polls every 4/5 of it, so a new sale
    /// waits at most this long (longer only when many kassas share one
    /// token), and for 10 s after an operation every 1/5 of it (a sale
    /// right after another is fetched sooner); an idle Kassatka kassa backs
    /// off to 10× (at least 5 s).
    pub poll_interval: Duration,
    /// `daily_close = "23:55"`: close the shift every day at this local time.
    pub daily_close: Option<jiff::civil::Time>,
    /// `tax_system`: used when an operation does not name one.
    pub tax_system: Option<kkt::TaxSystem>,
    /// `[kassa.device]`.
    pub device: DeviceConfig,
}

impl KassaConfig {
    /// `source`: which cloud this kassa serves.
    pub fn source(&self) -> Source {
        match self.cloud {
            CloudConfig::Moysklad(_) => Source::Moysklad,
            CloudConfig::Kassatka(_) => Source::Kassatka,
        }
    }
}

/// The cloud side of a kassa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudConfig {
    /// `source = "moysklad"` (the default).
    Moysklad(MoyskladConfig),
    /// `source = "kassatka"`, settings in `[kassa.kassatka]`.
    Kassatka(KassatkaConfig),
}

/// MoySklad POS API settings of a kassa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoyskladConfig {
    /// `api_url` (default [`DEFAULT_MOYSKLAD_API_URL`]), without a
    /// trailing slash.
    pub api_url: String,
    /// `cashier_uid`, e.g. `cashier@myorg`.
    pub cashier_uid: String,
    /// `org_id`: the retail store id; `None` means read it from
    /// `/settings/retailstore`.
    pub org_id: Option<String>,
    /// `token_file` / `token_env` / `token_credential`.
    pub token: SecretSource,
    /// `catalogue_refresh` (default `"1h"`): how often the catalogue and
    /// the store's settings are read again.
    pub catalogue_refresh: std::time::Duration,
    /// `unknown_product = "wait" | "generic"` (default `"wait"`).
    pub unknown_product: crate::catalogue::UnknownProduct,
    /// `receipt_template` (default true): print the store's receipt
    /// header and footer.
    pub receipt_template: bool,
    /// `bundles = "whole" | "components"` (default `"whole"`): print a
    /// bundle as one line, or as its components.
    pub bundles: crate::catalogue::Bundles,
    /// `request_timeout_ms` (default 30000, 1000..=120000): how long one
    /// request to the cloud may take, the answer's body included.
    pub request_timeout: std::time::Duration,
}

/// Kassatka 1C API settings of a kassa (`[kassa.kassatka]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KassatkaConfig {
    /// `api_url`, without a trailing slash.
    pub api_url: String,
    /// `token_file` / `token_env` / `token_credential`.
    pub token: SecretSource,
    /// `cash_box_code` (`CashBoxCode` in the API), e.g. `"189"`.
    pub cash_box_code: String,
    /// `lookback_minutes` (default 15): each download reaches this far back
    /// before the previous one's end, for receipts that reach Kassatka
    /// late.
    pub lookback_minutes: u32,
}

/// The printer of a kassa (`[kassa.device]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    /// `driver` (default `"shtrih"`).
    pub driver: Driver,
    /// `port`, e.g. `/dev/kkt0` (a stable udev symlink) or `/dev/ttyACM0`.
    pub port: PathBuf,
    /// `baud`: a rate or `"auto"` (default): probe the usual rates.
    pub baud: Baud,
    /// `password`: the device operator password (default 30).
    pub password: Secret<u32>,
    /// The ATOL Web-server settings; `Some` exactly when `driver = "atol"`
    /// (then `port` is empty and `baud`/`password` unused).
    pub atol: Option<AtolDevice>,
}

/// An ATOL printer behind the ATOL Web-server (`driver = "atol"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtolDevice {
    /// `url` (default `http://127.0.0.1:16732`), without a trailing slash.
    pub url: String,
    /// `device_id`: which printer of a Web-server serving several.
    pub device_id: Option<String>,
    /// `user` and `password_file`/`password_env`/`password_credential`:
    /// HTTP Basic credentials, when the Web-server asks for them.
    pub credentials: Option<(String, SecretSource)>,
}

/// Printer protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// Shtrih-M protocol.
    Shtrih,
    /// ATOL Driver 10 JSON tasks through the ATOL Web-server.
    Atol,
}

impl Driver {
    pub fn as_str(&self) -> &'static str {
        match self {
            Driver::Shtrih => "shtrih",
            Driver::Atol => "atol",
        }
    }
}

/// Serial line speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    /// Probe the supported rates, fastest first.
    Auto,
    Fixed(u32),
}

impl Baud {
    /// The rates Shtrih-M devices support, slowest first.
    pub const SUPPORTED: [u32; 7] = [2400, 4800, 9600, 19200, 38400, 57600, 115_200];
}

impl std::fmt::Display for Baud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Baud::Auto => f.write_str("auto"),
            Baud::Fixed(rate) => write!(f, "{rate}"),
        }
    }
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Full key path, e.g. `kassa[1].device.baud`.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML.
    #[error("{origin}:{line}:{column}: invalid TOML: {message}")]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Valid TOML, but keys are missing, mistyped or out of range. Lists
    /// every problem found, one per line.
    #[error("{}", display_problems(.origin, .problems))]
    Invalid {
        origin: String,
        problems: Vec<KeyError>,
    },
}

fn display_problems(origin: &str, problems: &[KeyError]) -> String {
    problems
        .iter()
        .map(|p| format!("{origin}: {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// The problems with keys, if that is what went wrong.
    pub fn problems(&self) -> &[KeyError] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

impl Config {
    /// Reads and validates the file, applying `MASTERKASSA_*` overrides from
    /// the process environment. Relative `token_file` paths are relative to
    /// the file's directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &path.display().to_string(), base, |name| {
            std::env::var(name).ok()
        })
    }

    /// Validates config text. `origin` names it in errors, `base` anchors
    /// relative paths, `env` looks up `MASTERKASSA_*` overrides.
    pub fn parse(
        text: &str,
        origin: &str,
        base: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        parse::parse(text, origin, base, &env)
    }

    /// The kassa with this name.
    pub fn kassa(&self, name: &str) -> Option<&KassaConfig> {
        self.kassas.iter().find(|k| k.name == name)
    }

    /// The summary `masterkassa config check` prints for the shop's IT
    /// person, in Russian with each setting's key: tokens shown only by
    /// where they are read from, passwords masked.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Журнал (journal.path): {}",
            self.journal_path.display()
        );
        let _ = writeln!(
            out,
            "Хранить завершённые операции (journal.keep_days): {} дн.",
            self.journal_keep_days
        );
        let _ = writeln!(
            out,
            "Сокет управления (control.socket): {}",
            self.control_socket.display()
        );
        if let Some(addr) = self.metrics_listen {
            let _ = writeln!(
                out,
                "Метрики Prometheus (metrics.listen): http://{addr}/metrics"
            );
        }
        for k in &self.kassas {
            let _ = writeln!(out, "Касса {} (source = {}):", k.name, k.source());
            match &k.cloud {
                CloudConfig::Moysklad(m) => {
                    let _ = writeln!(out, "  МойСклад (api_url): {}", m.api_url);
                    let _ = writeln!(out, "  Кассир (cashier_uid): {}", m.cashier_uid);
                    let _ = writeln!(
                        out,
                        "  Организация (org_id): {}",
                        m.org_id
                            .as_deref()
                            .unwrap_or("из настроек точки продаж (/settings/retailstore)")
                    );
                    let _ = writeln!(out, "  Токен: {} (значение скрыто)", m.token.describe_ru());
                }
                CloudConfig::Kassatka(c) => {
                    let _ = writeln!(out, "  Кассатка (kassatka.api_url): {}", c.api_url);
                    let _ = writeln!(out, "  Код кассы (cash_box_code): {}", c.cash_box_code);
                    let _ = writeln!(
                        out,
                        "  Запас по времени (lookback_minutes): {} мин",
                        c.lookback_minutes
                    );
                    let _ = writeln!(out, "  Токен: {} (значение скрыто)", c.token.describe_ru());
                }
            }
            let _ = writeln!(
                out,
                "  Опрос облака (poll_interval_ms): {} мс",
                k.poll_interval.as_millis()
            );
            let _ = writeln!(
                out,
                "  Ежедневное закрытие смены (daily_close): {}",
                k.daily_close
                    .map(|t| t.strftime("%H:%M").to_string())
                    .unwrap_or_else(|| "нет".into())
            );
            let _ = writeln!(
                out,
                "  СНО (tax_system): {}",
                k.tax_system
                    .map(|t| t.name_ru())
                    .unwrap_or("из операции, иначе из настроек точки продаж")
            );
            if let Some(atol) = &k.device.atol {
                let _ = writeln!(
                    out,
                    "  ККТ: АТОЛ через веб-сервер {}{}{}",
                    atol.url,
                    atol.device_id
                        .as_ref()
                        .map(|id| format!(", device_id {id}"))
                        .unwrap_or_default(),
                    atol.credentials
                        .as_ref()
                        .map(|(user, source)| format!(
                            ", пользователь {user}, пароль: {}",
                            source.describe_ru()
                        ))
                        .unwrap_or_default()
                );
            } else {
                let _ = writeln!(
                    out,
                    "  ККТ: {} на {}, скорость {}, пароль ***",
                    k.device.driver.as_str(),
                    k.device.port.display(),
                    match k.device.baud {
                        Baud::Auto => "определяется (auto)".to_string(),
                        Baud::Fixed(b) => format!("{b} бод"),
                    }
                );
            }
        }
        out
    }
}
