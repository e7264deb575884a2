//! Validation of the parsed TOML table into [`Config`]. Pure: no file or
//! environment access except through the `env` lookup it is given. Every
//! problem is collected with its full key path; unknown keys are errors
//! (a typo such as `pol_interval_ms` must not silently use the default).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalogue::{Bundles, UnknownProduct};
use toml::{Table, Value};

use super::{
    AtolDevice, Baud, CloudConfig, Config, ConfigError, DEFAULT_CONTROL_SOCKET,
    DEFAULT_JOURNAL_PATH, DEFAULT_MOYSKLAD_API_URL, DeviceConfig, Driver, KassaConfig,
    KassatkaConfig, KeyError, MoyskladConfig, Secret, SecretSource, Source,
};

/// Default `poll_interval_ms`.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;
/// Allowed `poll_interval_ms` range: MoySklad allows 100 requests per 5 s
/// per user, shared by every kassa and request kind.
pub const POLL_INTERVAL_MS: std::ops::RangeInclusive<i64> = 200..=600_000;
/// Where the ATOL Web-server listens when installed with its defaults.
const DEFAULT_ATOL_URL: &str = "http://127.0.0.1:16732";

/// Default device operator password of Shtrih-M printers.
pub const DEFAULT_DEVICE_PASSWORD: u32 = 30;

/// Collected problems.
#[derive(Default)]
struct Problems(Vec<KeyError>);

impl Problems {
    fn push(&mut self, key: &str, message: impl Into<String>) {
        self.0.push(KeyError {
            key: key.to_string(),
            message: message.into(),
        });
    }
}

/// A table being read, with its key path (`kassa[1].device`).
struct Section<'a> {
    path: String,
    table: &'a Table,
}

impl<'a> Section<'a> {
    fn key(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// Reports keys not in `allowed`.
    fn only(&self, allowed: &[&str], p: &mut Problems) {
        for key in self.table.keys() {
            if !allowed.contains(&key.as_str()) {
                p.push(
                    &self.key(key),
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                );
            }
        }
    }

    fn string(&self, key: &str, p: &mut Problems) -> Option<&'a str> {
        match self.table.get(key)? {
            Value::String(s) => Some(s.as_str()),
            other => {
                p.push(
                    &self.key(key),
                    format!("expected a string, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// The string at `key` read by `parse`; a text `parse` refuses is
    /// reported in the words of `refused`.
    fn parsed<T>(
        &self,
        key: &str,
        p: &mut Problems,
        parse: impl FnOnce(&str) -> Option<T>,
        refused: impl FnOnce(&str) -> String,
    ) -> Option<T> {
        let text = self.string(key, p)?;
        let parsed = parse(text);
        if parsed.is_none() {
            p.push(&self.key(key), refused(text));
        }
        parsed
    }

    /// A string that must be present and non-blank.
    fn required_string(&self, key: &str, p: &mut Problems) -> Option<&'a str> {
        if !self.has(key) {
            p.push(&self.key(key), "missing (required)");
            return None;
        }
        let s = self.string(key, p)?;
        if s.trim().is_empty() {
            p.push(&self.key(key), "must not be empty");
            return None;
        }
        Some(s)
    }

    fn integer(&self, key: &str, p: &mut Problems) -> Option<i64> {
        match self.table.get(key)? {
            Value::Integer(i) => Some(*i),
            other => {
                p.push(
                    &self.key(key),
                    format!("expected a number, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn section(&self, key: &str, p: &mut Problems) -> Option<Section<'a>> {
        match self.table.get(key)? {
            Value::Table(t) => Some(Section {
                path: self.key(key),
                table: t,
            }),
            other => {
                p.push(
                    &self.key(key),
                    format!("expected a table, found {}", other.type_str()),
                );
                None
            }
        }
    }
}

/// Default and largest Kassatka `lookback_minutes` (a week).
const DEFAULT_LOOKBACK_MINUTES: u32 = 15;
const MAX_LOOKBACK_MINUTES: u32 = 7 * 24 * 60;

/// Bounds of `[journal] keep_days`.
const MIN_KEEP_DAYS: u32 = 366;
const MAX_KEEP_DAYS: u32 = 36_500;

pub(super) fn parse(
    text: &str,
    origin: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let table: Table = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((1, 1));
        ConfigError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut p = Problems::default();
    let root = Section {
        path: String::new(),
        table: &table,
    };
    root.only(&["journal", "control", "metrics", "kassa"], &mut p);

    let mut journal_path = PathBuf::from(DEFAULT_JOURNAL_PATH);
    let mut journal_keep_days = crate::journal::DEFAULT_KEEP_DAYS;
    if let Some(s) = root.section("journal", &mut p) {
        s.only(&["path", "keep_days"], &mut p);
        if let Some(path) = s.string("path", &mut p) {
            journal_path = absolute_path(&s.key("path"), path, &mut p);
        }
        if let Some(days) = s.integer("keep_days", &mut p) {
            // Under a year would drop receipts the shop may still be asked
            // about (and the cloud may still hand out) within the fiscal
            // year.
            match u32::try_from(days) {
                Ok(d) if (MIN_KEEP_DAYS..=MAX_KEEP_DAYS).contains(&d) => journal_keep_days = d,
                _ => p.push(
                    &s.key("keep_days"),
                    format!("expected {MIN_KEEP_DAYS}..={MAX_KEEP_DAYS} days, found {days}"),
                ),
            }
        }
    }
    let mut control_socket = PathBuf::from(DEFAULT_CONTROL_SOCKET);
    if let Some(s) = root.section("control", &mut p) {
        s.only(&["socket"], &mut p);
        if let Some(path) = s.string("socket", &mut p) {
            control_socket = absolute_path(&s.key("socket"), path, &mut p);
        }
    }
    let mut metrics_listen = None;
    if let Some(s) = root.section("metrics", &mut p) {
        s.only(&["listen"], &mut p);
        if let Some(text) = s.string("listen", &mut p) {
            match text.parse::<std::net::SocketAddr>() {
                Ok(addr) => metrics_listen = Some(addr),
                Err(_) => p.push(
                    &s.key("listen"),
                    format!(
                        "expected an address and port such as \"127.0.0.1:9464\", found {text:?}"
                    ),
                ),
            }
        }
    }
    if let Some(path) = env("MASTERKASSA_JOURNAL_PATH").filter(|v| !v.is_empty()) {
        journal_path = PathBuf::from(path);
    }
    if let Some(path) = env("MASTERKASSA_CONTROL_SOCKET").filter(|v| !v.is_empty()) {
        control_socket = PathBuf::from(path);
    }

    let mut kassas = Vec::new();
    match table.get("kassa") {
        None => p.push("kassa", "at least one [[kassa]] is required"),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                p.push("kassa", "at least one [[kassa]] is required");
            }
            for (i, item) in items.iter().enumerate() {
                let path = format!("kassa[{i}]");
                match item {
                    Value::Table(t) => {
                        let s = Section { path, table: t };
                        if let Some(k) = kassa(&s, base, &mut p) {
                            kassas.push(k);
                        }
                    }
                    other => p.push(
                        &path,
                        format!("expected a table ([[kassa]]), found {}", other.type_str()),
                    ),
                }
            }
        }
        Some(other) => p.push(
            "kassa",
            format!(
                "expected an array of tables ([[kassa]]), found {}",
                other.type_str()
            ),
        ),
    }
    check_unique(&kassas, &mut p);

    if p.0.is_empty() {
        Ok(Config {
            journal_path,
            journal_keep_days,
            control_socket,
            metrics_listen,
            kassas,
        })
    } else {
        Err(ConfigError::Invalid {
            origin: origin.to_string(),
            problems: p.0,
        })
    }
}

const KASSA_KEYS: [&str; 18] = [
    "name",
    "source",
    "api_url",
    "cashier_uid",
    "org_id",
    "token_file",
    "token_env",
    "token_credential",
    "poll_interval_ms",
    "daily_close",
    "tax_system",
    "device",
    "kassatka",
    "catalogue_refresh",
    "unknown_product",
    "receipt_template",
    "bundles",
    "request_timeout_ms",
];

const MOYSKLAD_ONLY: [&str; 11] = [
    "api_url",
    "cashier_uid",
    "org_id",
    "token_file",
    "token_env",
    "token_credential",
    "catalogue_refresh",
    "unknown_product",
    "receipt_template",
    "bundles",
    "request_timeout_ms",
];

/// Allowed `request_timeout_ms`: long enough for a slow mobile link, short
/// enough that an answer that never ends does not hold the kassa for long.
const REQUEST_TIMEOUT_MS: std::ops::RangeInclusive<i64> = 1_000..=120_000;

/// Default `request_timeout_ms`.
const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;

fn kassa(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<KassaConfig> {
    let before = p.0.len();
    if s.has("token") {
        p.push(
            &s.key("token"),
            "a token may not be written in the config file; use token_file, token_env or token_credential",
        );
    }
    s.only(&[&KASSA_KEYS[..], &["token"]].concat(), p);

    let name = s.required_string("name", p).and_then(|n| {
        let valid = n.len() <= 32
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Some(n.to_string())
        } else {
            p.push(
                &s.key("name"),
                "use up to 32 latin letters, digits, '-' or '_'",
            );
            None
        }
    });

    let source = match s.string("source", p) {
        None => Source::Moysklad,
        Some(text) => match Source::parse(text) {
            Some(source) => source,
            None => {
                p.push(
                    &s.key("source"),
                    format!("expected \"moysklad\" or \"kassatka\", found \"{text}\""),
                );
                Source::Moysklad
            }
        },
    };

    let cloud = match source {
        Source::Moysklad => {
            if s.has("kassatka") {
                p.push(
                    &s.key("kassatka"),
                    "only for source = \"kassatka\" (this kassa is a moysklad kassa)",
                );
            }
            moysklad(s, base, p).map(CloudConfig::Moysklad)
        }
        Source::Kassatka => {
            for key in MOYSKLAD_ONLY {
                if s.has(key) {
                    p.push(
                        &s.key(key),
                        "not used by a kassatka kassa; put it in [kassa.kassatka]",
                    );
                }
            }
            match s.section("kassatka", p) {
                Some(k) => kassatka(&k, base, p).map(CloudConfig::Kassatka),
                None => {
                    if !s.has("kassatka") {
                        p.push(
                            &s.key("kassatka"),
                            "missing (required for source = \"kassatka\")",
                        );
                    }
                    None
                }
            }
        }
    };

    let poll_ms = match s.integer("poll_interval_ms", p) {
        None => Some(DEFAULT_POLL_INTERVAL_MS),
        Some(ms) if POLL_INTERVAL_MS.contains(&ms) => u64::try_from(ms).ok(),
        Some(ms) => {
            p.push(
                &s.key("poll_interval_ms"),
                format!(
                    "{ms} is out of range ({}..={} ms)",
                    POLL_INTERVAL_MS.start(),
                    POLL_INTERVAL_MS.end()
                ),
            );
            None
        }
    };

    let daily_close = s.parsed(
        "daily_close",
        p,
        |text| jiff::civil::Time::strptime("%H:%M", text).ok(),
        |text| format!("expected a time like \"23:55\", found \"{text}\""),
    );

    let tax_system = s.parsed(
        "tax_system",
        p,
        tax_system,
        |text| {
            format!(
                "unknown tax system \"{text}\" (expected osn, usn_income, usn_income_expense, envd, eshn or patent)"
            )
        },
    );

    let device = match s.section("device", p) {
        Some(d) => device(&d, base, p),
        None => {
            if !s.has("device") {
                p.push(&s.key("device"), "missing (required: [kassa.device])");
            }
            None
        }
    };

    if p.0.len() > before {
        return None;
    }
    Some(KassaConfig {
        name: name?,
        cloud: cloud?,
        poll_interval: Duration::from_millis(poll_ms?),
        daily_close,
        tax_system,
        device: device?,
    })
}

fn moysklad(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<MoyskladConfig> {
    let api_url = match s.string("api_url", p) {
        None if s.has("api_url") => None,
        None => Some(DEFAULT_MOYSKLAD_API_URL.to_string()),
        Some(url) => api_url(&s.key("api_url"), url, p),
    };
    let cashier_uid = s.required_string("cashier_uid", p).map(str::to_string);
    let org_id = s.string("org_id", p).and_then(|id| {
        if id.trim().is_empty() {
            p.push(
                &s.key("org_id"),
                "must not be empty (leave it out to read it from /settings/retailstore)",
            );
            None
        } else {
            Some(id.to_string())
        }
    });
    let token = token(s, base, p);
    let catalogue_refresh = if s.has("catalogue_refresh") {
        s.parsed("catalogue_refresh", p, refresh_period, |text| {
            format!(
                "expected a period from \"5m\" to \"24h\" (like \"30m\", \"1h\"), found \"{text}\""
            )
        })
    } else {
        Some(DEFAULT_CATALOGUE_REFRESH)
    };
    let unknown_product = match s.string("unknown_product", p) {
        None | Some("wait") => Some(UnknownProduct::Wait),
        Some("generic") => Some(UnknownProduct::Generic),
        Some(other) => {
            p.push(
                &s.key("unknown_product"),
                format!("expected \"wait\" or \"generic\", found \"{other}\""),
            );
            None
        }
    };
    let receipt_template = match s.table.get("receipt_template") {
        None => Some(true),
        Some(Value::Boolean(b)) => Some(*b),
        Some(other) => {
            p.push(
                &s.key("receipt_template"),
                format!("expected true or false, found {}", other.type_str()),
            );
            None
        }
    };
    let bundles = match s.string("bundles", p) {
        None | Some("whole") => Some(Bundles::Whole),
        Some("components") => Some(Bundles::Components),
        Some(other) => {
            p.push(
                &s.key("bundles"),
                format!("expected \"whole\" or \"components\", found \"{other}\""),
            );
            None
        }
    };
    let request_timeout = match s.integer("request_timeout_ms", p) {
        None => Some(std::time::Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS)),
        Some(ms) if REQUEST_TIMEOUT_MS.contains(&ms) => {
            u64::try_from(ms).ok().map(std::time::Duration::from_millis)
        }
        Some(ms) => {
            p.push(
                &s.key("request_timeout_ms"),
                format!(
                    "{ms} is out of range ({}..={} ms)",
                    REQUEST_TIMEOUT_MS.start(),
                    REQUEST_TIMEOUT_MS.end()
                ),
            );
            None
        }
    };
    Some(MoyskladConfig {
        api_url: api_url?,
        cashier_uid: cashier_uid?,
        org_id,
        token: token?,
        catalogue_refresh: catalogue_refresh?,
        unknown_product: unknown_product?,
        receipt_template: receipt_template?,
        bundles: bundles?,
        request_timeout: request_timeout?,
    })
}

/// Default `catalogue_refresh`.
pub const DEFAULT_CATALOGUE_REFRESH: Duration = Duration::from_secs(3600);

/// `"90s"`, `"30m"`, `"1h"`: between 5 minutes (a full sync costs up to
/// 50 requests) and a day.
fn refresh_period(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (300..=86_400)
        .contains(&secs)
        .then(|| Duration::from_secs(secs))
}

fn kassatka(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<KassatkaConfig> {
    s.only(
        &[
            "api_url",
            "token_file",
            "token_env",
            "token_credential",
            "cash_box_code",
            "lookback_minutes",
        ],
        p,
    );
    if s.has("token") {
        p.push(
            &s.key("token"),
            "a token may not be written in the config file; use token_file, token_env or token_credential",
        );
    }
    let url = s
        .required_string("api_url", p)
        .and_then(|url| api_url(&s.key("api_url"), url, p));
    let code = match s.table.get("cash_box_code") {
        None => {
            p.push(&s.key("cash_box_code"), "missing (required)");
            None
        }
        Some(Value::Integer(i)) if *i >= 0 => Some(i.to_string()),
        Some(Value::String(c)) if !c.trim().is_empty() => Some(c.trim().to_string()),
        Some(other) => {
            p.push(
                &s.key("cash_box_code"),
                format!(
                    "expected a non-empty string or number, found {}",
                    other.type_str()
                ),
            );
            None
        }
    };
    let token = token(s, base, p);
    let mut lookback_minutes = DEFAULT_LOOKBACK_MINUTES;
    if let Some(minutes) = s.integer("lookback_minutes", p) {
        match u32::try_from(minutes) {
            Ok(m) if (1..=MAX_LOOKBACK_MINUTES).contains(&m) => lookback_minutes = m,
            _ => p.push(
                &s.key("lookback_minutes"),
                format!("expected 1..={MAX_LOOKBACK_MINUTES} minutes, found {minutes}"),
            ),
        }
    }
    Some(KassatkaConfig {
        api_url: url?,
        token: token?,
        cash_box_code: code?,
        lookback_minutes,
    })
}

fn api_url(key: &str, url: &str, p: &mut Problems) -> Option<String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                p.push(
                    key,
                    "must not contain credentials; use token_file / token_env",
                );
                return None;
            }
            Some(url.trim_end_matches('/').to_string())
        }
        Ok(_) => {
            p.push(key, "expected an http:// or https:// URL");
            None
        }
        Err(e) => {
            p.push(key, format!("not a valid URL ({e})"));
            None
        }
    }
}

fn token(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<SecretSource> {
    let source = secret_source(s, "token", base, p);
    if source.is_none()
        && !["token_file", "token_env", "token_credential"]
            .iter()
            .any(|k| s.has(k))
    {
        p.push(
            &s.key("token_file"),
            "missing: set one of token_file, token_env or token_credential",
        );
    }
    source
}

/// Where a secret named `name` comes from: `{name}_file`, `{name}_env` or
/// `{name}_credential`; `None` when none is set or the one set is broken
/// (the latter reported).
fn secret_source(
    s: &Section<'_>,
    name: &str,
    base: &Path,
    p: &mut Problems,
) -> Option<SecretSource> {
    let keys = [
        format!("{name}_file"),
        format!("{name}_env"),
        format!("{name}_credential"),
    ];
    let present: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| s.has(k))
        .collect();
    match present.as_slice() {
        [] => None,
        [one] => {
            let value = s.string(one, p)?;
            if value.trim().is_empty() {
                p.push(&s.key(one), "must not be empty");
                return None;
            }
            Some(match one.rsplit('_').next() {
                Some("file") => {
                    let path = Path::new(value);
                    SecretSource::File(if path.is_absolute() {
                        path.to_path_buf()
                    } else {
                        base.join(path)
                    })
                }
                Some("env") => SecretSource::Env(value.to_string()),
                _ => {
                    if value.contains('/') {
                        p.push(&s.key(one), "a credential name, not a path");
                        return None;
                    }
                    SecretSource::Credential(value.to_string())
                }
            })
        }
        many => {
            p.push(
                &s.key(many[1]),
                format!("set only one of {}", many.join(", ")),
            );
            None
        }
    }
}

/// Keys of `[kassa.device]` for a Shtrih-M printer on a serial port.
const SHTRIH_DEVICE_KEYS: [&str; 4] = ["driver", "port", "baud", "password"];
/// Keys of `[kassa.device]` for an ATOL printer behind the ATOL Web-server.
const ATOL_DEVICE_KEYS: [&str; 7] = [
    "driver",
    "url",
    "device_id",
    "user",
    "password_file",
    "password_env",
    "password_credential",
];

fn device(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<DeviceConfig> {
    let driver = match s.string("driver", p) {
        None if s.has("driver") => None,
        None | Some("shtrih") => Some(Driver::Shtrih),
        Some("atol") => Some(Driver::Atol),
        Some(other) => {
            p.push(
                &s.key("driver"),
                format!("unknown driver \"{other}\" (supported: \"shtrih\", \"atol\")"),
            );
            None
        }
    };
    match driver {
        Some(Driver::Atol) => return atol_device(s, base, p),
        Some(Driver::Shtrih) => s.only(&SHTRIH_DEVICE_KEYS, p),
        None => s.only(
            &[&SHTRIH_DEVICE_KEYS[..], &ATOL_DEVICE_KEYS[..]].concat(),
            p,
        ),
    }
    let port = s
        .required_string("port", p)
        .and_then(|port| absolute_path(&s.key("port"), port, p).into());
    let baud = match s.table.get("baud") {
        None => Some(Baud::Auto),
        Some(Value::String(text)) if text == "auto" => Some(Baud::Auto),
        Some(Value::Integer(rate)) => match u32::try_from(*rate) {
            Ok(rate) if Baud::SUPPORTED.contains(&rate) => Some(Baud::Fixed(rate)),
            _ => {
                p.push(
                    &s.key("baud"),
                    format!(
                        "{rate} is not a supported rate (one of {}, or \"auto\")",
                        Baud::SUPPORTED.map(|r| r.to_string()).join(", ")
                    ),
                );
                None
            }
        },
        Some(_) => {
            p.push(&s.key("baud"), "expected a number or \"auto\"");
            None
        }
    };
    let password = match s.integer("password", p) {
        None if s.has("password") => None,
        None => Some(DEFAULT_DEVICE_PASSWORD),
        Some(pw) => match u32::try_from(pw) {
            Ok(pw) => Some(pw),
            Err(_) => {
                p.push(&s.key("password"), "expected a number from 0 to 4294967295");
                None
            }
        },
    };
    Some(DeviceConfig {
        driver: driver?,
        port: port?,
        baud: baud?,
        password: Secret::new(password?),
        atol: None,
    })
}

/// `[kassa.device]` with `driver = "atol"`: the Web-server's address, the
/// printer on it and the Basic auth credentials, whose password is read
/// like a token (never written in the file).
fn atol_device(s: &Section<'_>, base: &Path, p: &mut Problems) -> Option<DeviceConfig> {
    s.only(&ATOL_DEVICE_KEYS, p);
    let url = match s.string("url", p) {
        None if s.has("url") => None,
        None => Some(DEFAULT_ATOL_URL.to_string()),
        Some(url) => web_server_url(&s.key("url"), url, p),
    };
    let device_id = non_empty(s, "device_id", p);
    let user = non_empty(s, "user", p);
    let password = secret_source(s, "password", base, p);
    let credentials_broken =
        s.has("password_file") || s.has("password_env") || s.has("password_credential");
    match (&user, &password) {
        (Some(_), None) if !credentials_broken => p.push(
            &s.key("password_file"),
            "missing: with user set, set one of password_file, password_env or password_credential",
        ),
        (None, Some(_)) => p.push(&s.key("user"), "missing (required with a password)"),
        _ => {}
    }
    Some(DeviceConfig {
        driver: Driver::Atol,
        port: PathBuf::new(),
        baud: Baud::Auto,
        password: Secret::new(DEFAULT_DEVICE_PASSWORD),
        atol: Some(AtolDevice {
            url: url?,
            device_id,
            credentials: match (user, password) {
                (Some(user), Some(password)) => Some((user, password)),
                _ => None,
            },
        }),
    })
}

/// An optional string key that, when present, must not be blank.
fn non_empty(s: &Section<'_>, key: &str, p: &mut Problems) -> Option<String> {
    let value = s.string(key, p)?;
    if value.trim().is_empty() {
        p.push(&s.key(key), "must not be empty (leave it out instead)");
        return None;
    }
    Some(value.to_string())
}

/// The Web-server's base URL: `http://` or `https://`, host, optional port.
fn web_server_url(key: &str, text: &str, p: &mut Problems) -> Option<String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(rest)
            if !rest.trim_end_matches('/').is_empty() && !rest.contains(char::is_whitespace) =>
        {
            Some(text.trim_end_matches('/').to_string())
        }
        _ => {
            p.push(
                key,
                format!("expected an address like \"{DEFAULT_ATOL_URL}\", found \"{text}\""),
            );
            None
        }
    }
}

fn absolute_path(key: &str, text: &str, p: &mut Problems) -> PathBuf {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        p.push(key, format!("expected an absolute path, found \"{text}\""));
    }
    path
}

fn tax_system(text: &str) -> Option<kkt::TaxSystem> {
    use kkt::TaxSystem::*;
    Some(match text.to_ascii_lowercase().as_str() {
        "osn" | "general" => General,
        "usn_income" | "simplified_income" => SimplifiedIncome,
        "usn_income_expense" | "simplified_income_expense" => SimplifiedIncomeExpense,
        "envd" => Envd,
        "eshn" | "esn" | "agricultural" => Agricultural,
        "patent" | "psn" => Patent,
        _ => return None,
    })
}

fn check_unique(kassas: &[KassaConfig], p: &mut Problems) {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ports: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut atol_printers: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for (i, k) in kassas.iter().enumerate() {
        if let Some(first) = names.insert(&k.name, i) {
            p.push(
                &format!("kassa[{i}].name"),
                format!("\"{}\" is already used by kassa[{first}]", k.name),
            );
        }
        if let Some(atol) = &k.device.atol {
            let printer = (atol.url.clone(), atol.device_id.clone());
            if let Some(first) = atol_printers.insert(printer, i) {
                p.push(
                    &format!("kassa[{i}].device.url"),
                    format!(
                        "{} (device_id {}) is already used by kassa[{first}]",
                        atol.url,
                        atol.device_id.as_deref().unwrap_or("default")
                    ),
                );
            }
            continue;
        }
        // Two names for one device (a udev symlink and its target) are
        // the same port.
        let port = std::fs::canonicalize(&k.device.port).unwrap_or_else(|_| k.device.port.clone());
        if let Some(first) = ports.insert(port, i) {
            p.push(
                &format!("kassa[{i}].device.port"),
                format!(
                    "{} is already used by kassa[{first}]",
                    k.device.port.display()
                ),
            );
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, column)
}
