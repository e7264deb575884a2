//! Where the `kassatka` commands find what they talk to, never from the
//! command line's secrets:
//! - Kassatka: the `KASSATKA_TOKEN` environment variable, or the
//!   `[kassa.kassatka]` settings of a `source = "kassatka"` kassa in the
//!   configuration file (`api_url`, `token_file` / `token_env` /
//!   `token_credential`);
//! - MoySklad (for `push-nomenclature --from moysklad`): `MOYSKLAD_TOKEN`,
//!   or a `source = "moysklad"` kassa of the same file.
//!
//! Pure apart from reading the token where the configuration says it is;
//! the caller passes the environment lookups.

use super::client::{ApiToken, DEFAULT_BASE_URL};
use crate::config::{CloudConfig, Config, KassaConfig, KassatkaConfig, MoyskladConfig, Source};
use thiserror::Error;

/// Environment variable holding the Kassatka API token.
pub const TOKEN_ENV: &str = "KASSATKA_TOKEN";
/// Environment variable that may hold the Kassatka API base URL.
pub const URL_ENV: &str = "KASSATKA_API_URL";
/// Environment variable that may hold a MoySklad POS API token.
pub const MOYSKLAD_TOKEN_ENV: &str = "MOYSKLAD_TOKEN";

/// What the commands need to reach Kassatka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub api_url: String,
    pub token: ApiToken,
}

/// How to reach MoySklad's POS API for the assortment. `Debug` never shows
/// the token.
#[derive(Clone, PartialEq, Eq)]
pub struct MoyskladAccess {
    pub api_url: String,
    pub cashier_uid: String,
    pub token: String,
}

impl std::fmt::Debug for MoyskladAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoyskladAccess")
            .field("api_url", &self.api_url)
            .field("cashier_uid", &self.cashier_uid)
            .finish_non_exhaustive()
    }
}

/// Why settings could not be assembled.
#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(
        "no Kassatka API token: set the {TOKEN_ENV} environment variable, or give --config \
         with a kassa whose source is \"kassatka\""
    )]
    NoToken,
    #[error(
        "no MoySklad token: set {MOYSKLAD_TOKEN_ENV}, or give --config with a kassa whose \
         source is \"moysklad\" (as `masterkassa attach` writes it)"
    )]
    NoMoyskladToken,
    #[error("the configuration has no {kind} kassa named {name:?}")]
    NoKassa { kind: Source, name: String },
    #[error("the configuration has several {kind} kassas ({names}): pick one with {flag} NAME")]
    WhichKassa {
        kind: Source,
        names: String,
        flag: &'static str,
    },
    #[error("kassa {kassa}: token from {origin}: {message}")]
    Secret {
        kassa: String,
        origin: String,
        message: String,
    },
    #[error("Kassatka API token from {origin}: {reason}")]
    BadToken { origin: String, reason: String },
}

/// Picks the kassa of `source`: the one named `wanted`, or the only one.
fn pick<'a>(
    config: Option<&'a Config>,
    source: Source,
    wanted: Option<&str>,
    flag: &'static str,
) -> Result<Option<&'a KassaConfig>, SettingsError> {
    let kassas: Vec<&KassaConfig> = config
        .map(|c| c.kassas.iter().filter(|k| k.source() == source).collect())
        .unwrap_or_default();
    match (wanted, kassas.as_slice()) {
        (Some(name), _) => kassas
            .iter()
            .find(|k| k.name == name)
            .copied()
            .map(Some)
            .ok_or_else(|| SettingsError::NoKassa {
                kind: source,
                name: name.to_string(),
            }),
        (None, []) => Ok(None),
        (None, [only]) => Ok(Some(only)),
        (None, many) => Err(SettingsError::WhichKassa {
            kind: source,
            names: many
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            flag,
        }),
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Kassatka URL and token. URL: command line, then `KASSATKA_API_URL`,
/// then the kassa's `api_url`, then Kassatka's production URL. Token:
/// `KASSATKA_TOKEN`, then the kassa's token source (read with `env` for
/// `token_env` / `token_credential`).
pub fn kassatka_settings(
    config: Option<&Config>,
    kassa: Option<&str>,
    cli_url: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, SettingsError> {
    let entry = pick(config, Source::Kassatka, kassa, "--kassa")?;
    let kassatka: Option<(&str, &KassatkaConfig)> = entry.and_then(|k| match &k.cloud {
        CloudConfig::Kassatka(c) => Some((k.name.as_str(), c)),
        CloudConfig::Moysklad(_) => None,
    });
    let api_url = non_empty(cli_url)
        .or_else(|| non_empty(env(URL_ENV).as_deref()))
        .or_else(|| kassatka.map(|(_, c)| c.api_url.clone()))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let token = if let Some(token) = non_empty(env(TOKEN_ENV).as_deref()) {
        ApiToken::new(token).map_err(|e| SettingsError::BadToken {
            origin: TOKEN_ENV.into(),
            reason: e.to_string(),
        })?
    } else if let Some((name, c)) = kassatka {
        let secret = c.token.load_with(env).map_err(|e| SettingsError::Secret {
            kassa: name.to_string(),
            origin: c.token.describe(),
            message: e.to_string(),
        })?;
        ApiToken::new(secret.expose().clone()).map_err(|e| SettingsError::BadToken {
            origin: c.token.describe(),
            reason: e.to_string(),
        })?
    } else {
        return Err(SettingsError::NoToken);
    };
    Ok(Settings { api_url, token })
}

/// MoySklad URL, cashier and token for reading the assortment: the
/// `moysklad` kassa (named, or the only one) with its token, or
/// `MOYSKLAD_TOKEN` (which also wins over the kassa's token source).
pub fn moysklad_access(
    config: Option<&Config>,
    kassa: Option<&str>,
    default_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<MoyskladAccess, SettingsError> {
    let entry = pick(config, Source::Moysklad, kassa, "--moysklad-kassa")?;
    let moysklad: Option<(&str, &MoyskladConfig)> = entry.and_then(|k| match &k.cloud {
        CloudConfig::Moysklad(c) => Some((k.name.as_str(), c)),
        CloudConfig::Kassatka(_) => None,
    });
    let token = match (non_empty(env(MOYSKLAD_TOKEN_ENV).as_deref()), moysklad) {
        (Some(token), _) => token,
        (None, Some((name, c))) => c
            .token
            .load_with(env)
            .map_err(|e| SettingsError::Secret {
                kassa: name.to_string(),
                origin: c.token.describe(),
                message: e.to_string(),
            })?
            .expose()
            .clone(),
        (None, None) => return Err(SettingsError::NoMoyskladToken),
    };
    Ok(MoyskladAccess {
        api_url: moysklad
            .map(|(_, c)| c.api_url.clone())
            .unwrap_or_else(|| default_url.to_string()),
        cashier_uid: moysklad
            .map(|(_, c)| c.cashier_uid.clone())
            .unwrap_or_default(),
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    const CONFIG: &str = r#"
[[kassa]]
name = "shop"
cashier_uid = "cashier@myorg"
token_env = "SHOP_TOKEN"
[kassa.device]
port = "/dev/kkt0"

[[kassa]]
name = "cafe"
source = "kassatka"
[kassa.kassatka]
api_url = "https://kassatka.example.ru/1c-api/v1"
token_file = "cafe.token"
cash_box_code = "189"
[kassa.device]
port = "/dev/kkt1"
"#;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn config(dir: &Path) -> Config {
        std::fs::write(dir.join("cafe.token"), "file-token\n").unwrap();
        Config::parse(CONFIG, "test.toml", dir, |_| None).unwrap()
    }

    #[test]
    fn kassatka_token_and_url_come_from_the_kassatka_kassa() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let s = kassatka_settings(Some(&config), None, None, &env(&[])).unwrap();
        assert_eq!(s.api_url, "https://kassatka.example.ru/1c-api/v1");
        assert_eq!(s.token.expose(), "file-token");
        let s = kassatka_settings(
            Some(&config),
            Some("cafe"),
            Some("http://127.0.0.1:1/1c-api/v1"),
            &env(&[(TOKEN_ENV, "env-token")]),
        )
        .unwrap();
        assert_eq!(s.api_url, "http://127.0.0.1:1/1c-api/v1");
        assert_eq!(s.token.expose(), "env-token");
        let err = kassatka_settings(Some(&config), Some("shop"), None, &env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the configuration has no kassatka kassa named \"shop\""
        );
    }

    #[test]
    fn without_a_config_the_environment_is_enough() {
        let s = kassatka_settings(
            None,
            None,
            None,
            &env(&[(TOKEN_ENV, "t"), (URL_ENV, "https://env/1c-api/v1")]),
        )
        .unwrap();
        assert_eq!(s.api_url, "https://env/1c-api/v1");
        let s = kassatka_settings(None, None, None, &env(&[(TOKEN_ENV, "t")])).unwrap();
        assert_eq!(s.api_url, DEFAULT_BASE_URL);
        let err = kassatka_settings(None, None, None, &env(&[])).unwrap_err();
        assert!(err.to_string().contains("KASSATKA_TOKEN"), "{err}");
    }

    #[test]
    fn moysklad_access_comes_from_the_moysklad_kassa() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let access = moysklad_access(
            Some(&config),
            None,
            "https://default",
            &env(&[("SHOP_TOKEN", "ms")]),
        )
        .unwrap();
        assert_eq!(access.api_url, "https://online.moysklad.ru/api/posap/1.0");
        assert_eq!(access.cashier_uid, "cashier@myorg");
        assert_eq!(access.token, "ms");
        assert!(!format!("{access:?}").contains("ms\""));
        let err = moysklad_access(Some(&config), None, "x", &env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kassa shop: token from environment variable SHOP_TOKEN: environment variable \
             SHOP_TOKEN is not set (or not valid UTF-8)"
        );
        let access = moysklad_access(
            None,
            None,
            "https://default",
            &env(&[(MOYSKLAD_TOKEN_ENV, "t")]),
        )
        .unwrap();
        assert_eq!(access.api_url, "https://default");
        assert!(matches!(
            moysklad_access(None, None, "x", &env(&[])),
            Err(SettingsError::NoMoyskladToken)
        ));
    }

    #[test]
    fn several_kassas_of_a_kind_need_a_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cafe.token"), "t").unwrap();
        let text = CONFIG.to_string()
            + "\n[[kassa]]\nname = \"bar\"\nsource = \"kassatka\"\n[kassa.kassatka]\n\
               api_url = \"https://k/1c-api/v1\"\ntoken_file = \"cafe.token\"\n\
               cash_box_code = \"190\"\n[kassa.device]\nport = \"/dev/kkt2\"\n";
        let config = Config::parse(&text, "t.toml", dir.path(), |_| None).unwrap();
        let err = kassatka_settings(Some(&config), None, None, &env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the configuration has several kassatka kassas (cafe, bar): pick one with --kassa NAME"
        );
        let s = kassatka_settings(Some(&config), Some("bar"), None, &env(&[])).unwrap();
        assert_eq!(s.api_url, "https://k/1c-api/v1");
    }
}
