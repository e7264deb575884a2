//! `Secret`: a token or password that never shows in logs, errors or
//! `Debug` output. Reading it is explicit (`expose`), so every place that
//! puts it on the wire is easy to find.

use serde::{Deserialize, Serialize};

/// A secret string. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the request header or the token file only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("6ab89be1ae6ff147755625ee8da948e42612233b");
        assert!(!format!("{s:?}").contains("6ab8"));
        assert!(!format!("{s}").contains("6ab8"));
        assert_eq!(s.expose(), "6ab89be1ae6ff147755625ee8da948e42612233b");
    }
}
