//! Secrets (API tokens, the device password): the [`Secret`] wrapper, whose
//! `Debug` never shows the value and which has no `Display`, and
//! [`SecretSource`], where a token comes from. A token is never written in
//! the config file itself nor passed in argv: it is read from a file, an
//! environment variable, or a systemd credential (`LoadCredential=`).

use std::path::{Path, PathBuf};

/// A value that must not reach logs, errors or Debug output. Read it with
/// [`Secret::expose`] exactly where it is used (an HTTP header, a device
/// command).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value itself. Do not log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a token is read from. Holds the location, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `token_file = "/etc/masterkassa/shop1.token"` (relative paths are
    /// relative to the config file's directory).
    File(PathBuf),
    /// `token_env = "MOYSKLAD_TOKEN"`.
    Env(String),
    /// `token_credential = "shop1-token"`: a systemd credential, read from
    /// `$CREDENTIALS_DIRECTORY/shop1-token`.
    Credential(String),
}

/// Why a token could not be loaded. Names the place, never the contents.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("token file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("environment variable {0} is not set (or not valid UTF-8)")]
    EnvMissing(String),
    #[error(
        "systemd credential {0}: CREDENTIALS_DIRECTORY is not set (add LoadCredential= to the unit)"
    )]
    NoCredentialsDirectory(String),
    #[error("{0} is empty")]
    Empty(String),
    #[error("{0} contains control characters inside the token")]
    Malformed(String),
}

impl SecretSource {
    /// Where the token lives, for messages: `file /etc/…`, `env MOYSKLAD_TOKEN`.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::File(p) => format!("file {}", p.display()),
            SecretSource::Env(name) => format!("environment variable {name}"),
            SecretSource::Credential(name) => format!("systemd credential {name}"),
        }
    }

    /// Where the secret is read from, for the shop's IT person.
    pub fn describe_ru(&self) -> String {
        match self {
            SecretSource::File(p) => format!("файл {}", p.display()),
            SecretSource::Env(name) => format!("переменная окружения {name}"),
            SecretSource::Credential(name) => format!("учётные данные systemd {name}"),
        }
    }

    /// Reads the token from the process environment / file system.
    pub fn load(&self) -> Result<Secret<String>, SecretError> {
        self.load_with(|name| std::env::var(name).ok())
    }

    /// Reads the token, looking environment variables up with `env`.
    pub fn load_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Secret<String>, SecretError> {
        let text = match self {
            SecretSource::File(path) => read_file(path)?,
            SecretSource::Env(name) => {
                env(name).ok_or_else(|| SecretError::EnvMissing(name.clone()))?
            }
            SecretSource::Credential(name) => {
                let dir = env("CREDENTIALS_DIRECTORY")
                    .ok_or_else(|| SecretError::NoCredentialsDirectory(name.clone()))?;
                read_file(&Path::new(&dir).join(name))?
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(SecretError::Empty(self.describe()));
        }
        if token.chars().any(char::is_control) {
            return Err(SecretError::Malformed(self.describe()));
        }
        Ok(Secret::new(token.to_string()))
    }
}

fn read_file(path: &Path) -> Result<String, SecretError> {
    std::fs::read_to_string(path).map_err(|source| SecretError::File {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-token".to_string());
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(s.expose(), "hunter2-token");
    }

    #[test]
    fn tokens_load_from_file_env_and_credential_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.token");
        std::fs::write(&file, "abc123\n").unwrap();
        std::fs::write(dir.path().join("cred"), "  xyz \n").unwrap();
        let dir_s = dir.path().to_string_lossy().to_string();
        let env = |name: &str| match name {
            "TOK" => Some("fromenv".to_string()),
            "CREDENTIALS_DIRECTORY" => Some(dir_s.clone()),
            _ => None,
        };
        let got = |s: SecretSource| s.load_with(env).map(|t| t.expose().clone());
        assert_eq!(got(SecretSource::File(file)).unwrap(), "abc123");
        assert_eq!(got(SecretSource::Env("TOK".into())).unwrap(), "fromenv");
        assert_eq!(got(SecretSource::Credential("cred".into())).unwrap(), "xyz");
    }

    #[test]
    fn load_errors_name_the_place_not_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.token");
        std::fs::write(&empty, "\n").unwrap();
        let bad = dir.path().join("bad.token");
        std::fs::write(&bad, "sec\x07ret\n").unwrap();
        let none = |_: &str| None;
        let err = SecretSource::File(empty).load_with(none).unwrap_err();
        assert!(err.to_string().contains("empty.token"), "{err}");
        let err = SecretSource::File(bad).load_with(none).unwrap_err();
        assert!(!err.to_string().contains("sec"), "{err}");
        let err = SecretSource::Env("NOPE".into())
            .load_with(none)
            .unwrap_err();
        assert!(err.to_string().contains("NOPE"), "{err}");
        let err = SecretSource::Credential("c".into())
            .load_with(none)
            .unwrap_err();
        assert!(err.to_string().contains("LoadCredential"), "{err}");
        let err = SecretSource::File(dir.path().join("missing"))
            .load_with(none)
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
