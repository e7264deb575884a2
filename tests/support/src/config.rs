//! One writer of `masterkassa run` configs for the tests and benches: a
//! journal and a control socket in the test's directory, and one
//! `[[kassa]]` per printer against a MoySklad URL.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One `[[kassa]]` section (a MoySklad kassa on a Shtrih-M port).
#[derive(Debug, Clone)]
pub struct KassaEntry {
    pub name: String,
    pub api_url: String,
    pub cashier_uid: String,
    pub org_id: String,
    /// The env var the token is read from (never the token itself).
    pub token_env: String,
    pub poll_interval_ms: u64,
    pub port: PathBuf,
    pub baud: u32,
}

/// The config text: `[journal]` and `[control]` in `dir`, then the kassas.
pub fn config_text(dir: &Path, kassas: &[KassaEntry]) -> String {
    let mut text = format!(
        "[journal]\npath = \"{}\"\n[control]\nsocket = \"{}\"\n",
        dir.join("journal.db").display(),
        dir.join("control.sock").display()
    );
    for k in kassas {
        let _ = write!(
            text,
            r#"
[[kassa]]
name = "{name}"
api_url = "{api_url}"
cashier_uid = "{uid}"
org_id = "{org}"
token_env = "{env}"
poll_interval_ms = {poll}
tax_system = "osn"
[kassa.device]
driver = "shtrih"
port = "{port}"
baud = {baud}
"#,
            name = k.name,
            api_url = k.api_url,
            uid = k.cashier_uid,
            org = k.org_id,
            env = k.token_env,
            poll = k.poll_interval_ms,
            port = k.port.display(),
            baud = k.baud,
        );
    }
    text
}

/// Writes `dir/config.toml`; returns its path.
pub fn write_config(dir: &Path, kassas: &[KassaEntry]) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, config_text(dir, kassas)).expect("write config");
    path
}
