//! Where the `kassatka` commands find the API URL and token: the
//! `KASSATKA_TOKEN` environment variable, or the `[kassatka]` table of the
//! configuration file (`token` or `token_file`), never the command line.
//! Also where `push-nomenclature --from moysklad` finds the MoySklad POS
//! API: a `[[kassa]]` entry of the same file (as `attach` writes it) or
//! `MOYSKLAD_TOKEN`. Pure: the caller passes the environment values and
//! the file's text.

use super::client::{ApiToken, DEFAULT_BASE_URL};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Environment variable holding the API token.
pub const TOKEN_ENV: &str = "KASSATKA_TOKEN";
/// Environment variable that may hold the API base URL.
pub const URL_ENV: &str = "KASSATKA_API_URL";

/// The `[kassatka]` table of the configuration file. Other tables and
/// unknown keys are left to their owners.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct KassatkaSection {
    pub api_url: Option<String>,
    /// The token itself (keep the file private: mode 0600).
    pub token: Option<String>,
    /// A file holding only the token (e.g. a systemd credential).
    pub token_file: Option<PathBuf>,
}

/// Each reader looks at its own part of the file only, so a problem in
/// one part does not stop the other command.
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    kassatka: KassatkaSection,
}

#[derive(Debug, Default, Deserialize)]
struct KassaList {
    #[serde(default)]
    kassa: Vec<KassaEntry>,
}

/// What `push-nomenclature --from moysklad` reads of a `[[kassa]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct KassaEntry {
    pub name: String,
    pub api_url: Option<String>,
    pub cashier_uid: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// Environment variable that may hold a MoySklad POS API token.
pub const MOYSKLAD_TOKEN_ENV: &str = "MOYSKLAD_TOKEN";

/// How to reach MoySklad's POS API for the assortment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoyskladAccess {
    pub api_url: String,
    pub cashier_uid: String,
    /// The token itself; wrap it in the cloud client's secret at once.
    pub token: String,
}

/// Reads the `[[kassa]]` entries of a configuration file's text.
pub fn kassas_from_toml(path: &Path, text: &str) -> Result<Vec<KassaEntry>, SettingsError> {
    toml::from_str::<KassaList>(text)
        .map(|c| c.kassa)
        .map_err(|e| SettingsError::Config {
            path: path.to_path_buf(),
            message: e.message().lines().next().unwrap_or_default().to_string(),
        })
}

/// Picks the kassa entry (`wanted` by name, or the only one) and the token:
/// `MOYSKLAD_TOKEN`, else the entry's token file. Without any entry, the
/// token must come from the environment and the URL is `default_url`.
pub fn moysklad_access(
    entries: &[KassaEntry],
    wanted: Option<&str>,
    env_token: Option<&str>,
    default_url: &str,
    read_file: impl Fn(&Path) -> std::io::Result<String>,
) -> Result<MoyskladAccess, SettingsError> {
    let entry = match (wanted, entries) {
        (Some(name), _) => Some(
            entries
                .iter()
                .find(|e| e.name == name)
                .ok_or_else(|| SettingsError::NoKassa(name.to_string()))?,
        ),
        (None, []) => None,
        (None, [only]) => Some(only),
        (None, _) => {
            let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            return Err(SettingsError::WhichKassa(names.join(", ")));
        }
    };
    let env_token = env_token.map(str::trim).filter(|t| !t.is_empty());
    let token = match (env_token, entry.and_then(|e| e.token_file.as_ref())) {
        (Some(token), _) => token.to_string(),
        (None, Some(path)) => {
            let text = read_file(path).map_err(|e| SettingsError::TokenFile {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let token = text.trim().to_string();
            if token.is_empty() {
                return Err(SettingsError::TokenFile {
                    path: path.clone(),
                    message: "empty".into(),
                });
            }
            token
        }
        (None, None) => return Err(SettingsError::NoMoyskladToken),
    };
    Ok(MoyskladAccess {
        api_url: entry
            .and_then(|e| e.api_url.clone())
            .unwrap_or_else(|| default_url.to_string()),
        cashier_uid: entry
            .and_then(|e| e.cashier_uid.clone())
            .unwrap_or_default(),
        token,
    })
}

/// Reads the `[kassatka]` table from a configuration file's text.
pub fn section_from_toml(path: &Path, text: &str) -> Result<KassatkaSection, SettingsError> {
    toml::from_str::<ConfigFile>(text)
        .map(|c| c.kassatka)
        .map_err(|e| SettingsError::Config {
            path: path.to_path_buf(),
            // toml's message has line and column; it never quotes the token
            // unless the token's own line is broken, so keep only the first line.
            message: e.message().lines().next().unwrap_or_default().to_string(),
        })
}

/// What the commands need to reach Kassatka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub api_url: String,
    pub token: ApiToken,
}

/// Why settings could not be assembled.
#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(
        "no Kassatka API token: set the {TOKEN_ENV} environment variable, or token / token_file \
         in the [kassatka] table of the configuration file"
    )]
    NoToken,
    #[error("no [[kassa]] named {0:?} in the configuration")]
    NoKassa(String),
    #[error("the configuration has several kassas ({0}): pick one with --kassa NAME")]
    WhichKassa(String),
    #[error(
        "no MoySklad token: set {MOYSKLAD_TOKEN_ENV}, or give --config with a [[kassa]] \
         entry (as `masterkassa attach` writes it)"
    )]
    NoMoyskladToken,
    #[error("token file {path}: {message}")]
    TokenFile { path: PathBuf, message: String },
    #[error("Kassatka API token from {origin}: {reason}")]
    BadToken { origin: String, reason: String },
}

/// Picks URL and token. URL: command line, then `KASSATKA_API_URL`, then
/// the file, then Kassatka's production URL. Token: `KASSATKA_TOKEN`, then
/// the file's `token`, then its `token_file` (read with `read_file`).
pub fn resolve(
    cli_url: Option<&str>,
    env_url: Option<&str>,
    env_token: Option<&str>,
    section: &KassatkaSection,
    read_file: impl Fn(&Path) -> std::io::Result<String>,
) -> Result<Settings, SettingsError> {
    let non_empty = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let api_url = non_empty(cli_url)
        .or_else(|| non_empty(env_url))
        .or_else(|| non_empty(section.api_url.as_deref()))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let bad = |origin: &str| {
        let origin = origin.to_string();
        move |e: super::error::KassatkaError| SettingsError::BadToken {
            origin,
            reason: e.to_string(),
        }
    };
    let token = if let Some(token) = non_empty(env_token) {
        ApiToken::new(token).map_err(bad(TOKEN_ENV))?
    } else if let Some(token) = non_empty(section.token.as_deref()) {
        ApiToken::new(token).map_err(bad("[kassatka] token"))?
    } else if let Some(path) = &section.token_file {
        let text = read_file(path).map_err(|e| SettingsError::TokenFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        ApiToken::new(text).map_err(bad(&format!("token file {}", path.display())))?
    } else {
        return Err(SettingsError::NoToken);
    };
    Ok(Settings { api_url, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_file(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    }

    #[test]
    fn env_wins_over_the_file_and_the_default_url_is_kassatkas() {
        let section = KassatkaSection {
            token: Some("from-file".into()),
            ..KassatkaSection::default()
        };
        let s = resolve(None, None, Some("from-env"), &section, no_file).unwrap();
        assert_eq!(s.token.expose(), "from-env");
        assert_eq!(s.api_url, DEFAULT_BASE_URL);
        let s = resolve(None, None, Some("  "), &section, no_file).unwrap();
        assert_eq!(s.token.expose(), "from-file");
    }

    #[test]
    fn url_precedence_is_cli_env_file() {
        let section = KassatkaSection {
            api_url: Some("https://file/".into()),
            token: Some("t".into()),
            ..KassatkaSection::default()
        };
        let url = |cli, env| resolve(cli, env, None, &section, no_file).unwrap().api_url;
        assert_eq!(
            url(Some("https://cli/"), Some("https://env/")),
            "https://cli/"
        );
        assert_eq!(url(None, Some("https://env/")), "https://env/");
        assert_eq!(url(None, None), "https://file/");
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let section = section_from_toml(
            Path::new("c.toml"),
            "[kassa]\nname = \"x\"\n[kassatka]\ntoken_file = \"/run/credentials/kassatka\"\n",
        )
        .unwrap();
        let s = resolve(None, None, None, &section, |p| {
            assert_eq!(p, Path::new("/run/credentials/kassatka"));
            Ok("secret-token\n".into())
        })
        .unwrap();
        assert_eq!(s.token.expose(), "secret-token");
    }

    #[test]
    fn moysklad_access_comes_from_the_kassa_entry_or_the_environment() {
        let text = "[[kassa]]\nname = \"Удача\"\napi_url = \"http://127.0.0.1:9/api/posap/1.0\"\n\
                    cashier_uid = \"u1\"\ntoken_file = \"/etc/masterkassa/s1.token\"\n\
                    [kassa.device]\nport = \"/dev/ttyUSB0\"\n";
        let entries = kassas_from_toml(Path::new("c.toml"), text).unwrap();
        let read = |p: &Path| {
            assert_eq!(p, Path::new("/etc/masterkassa/s1.token"));
            Ok("ms-token\n".to_string())
        };
        let access = moysklad_access(&entries, None, None, "https://default", read).unwrap();
        assert_eq!(access.api_url, "http://127.0.0.1:9/api/posap/1.0");
        assert_eq!(access.cashier_uid, "u1");
        assert_eq!(access.token, "ms-token");
        let access = moysklad_access(&entries, Some("Удача"), Some("env"), "x", read).unwrap();
        assert_eq!(access.token, "env");
        assert!(matches!(
            moysklad_access(&entries, Some("Другая"), None, "x", read),
            Err(SettingsError::NoKassa(_))
        ));
        let two = [
            entries[0].clone(),
            KassaEntry {
                name: "B".into(),
                ..KassaEntry::default()
            },
        ];
        assert!(matches!(
            moysklad_access(&two, None, None, "x", read),
            Err(SettingsError::WhichKassa(n)) if n == "Удача, B"
        ));
        let access = moysklad_access(&[], None, Some("t"), "https://default", no_file).unwrap();
        assert_eq!(access.api_url, "https://default");
        assert!(matches!(
            moysklad_access(&[], None, None, "x", no_file),
            Err(SettingsError::NoMoyskladToken)
        ));
    }

    #[test]
    fn missing_or_broken_sources_are_explained() {
        let err = resolve(None, None, None, &KassatkaSection::default(), no_file).unwrap_err();
        assert!(err.to_string().contains("KASSATKA_TOKEN"), "{err}");
        let section = KassatkaSection {
            token_file: Some("/nope".into()),
            ..KassatkaSection::default()
        };
        let err = resolve(None, None, None, &section, no_file).unwrap_err();
        assert_eq!(err.to_string(), "token file /nope: absent");
        let err = section_from_toml(Path::new("c.toml"), "[kassatka]\napi_url = 5\n").unwrap_err();
        assert!(
            err.to_string().starts_with("configuration c.toml: "),
            "{err}"
        );
        let err = resolve(
            None,
            None,
            Some("bad\u{1}token"),
            &KassatkaSection::default(),
            no_file,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("bad\u{1}token"));
    }
}
