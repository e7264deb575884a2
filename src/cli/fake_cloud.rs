//! `masterkassa fake-cloud`: serves the fake MoySklad POS API
//! (`crate::fake_cloud`) on a local address until interrupted. A test tool:
//! the token may come from `--token` or the env `FAKE_CLOUD_TOKEN`, and the
//! admin password from `FAKE_CLOUD_ADMIN_PASSWORD`; neither is ever printed.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use crate::fake_cloud::{EmptyPollForm, FakeCloud, FakeCloudConfig, config};

/// Arguments of this subcommand.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Organisation id the master queue is polled for.
    #[arg(long = "org", default_value = config::DEFAULT_ORG_ID)]
    pub org_id: String,
    /// Require this POS token on every store resource (else: 401).
    #[arg(long, env = "FAKE_CLOUD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Cashier uid that goes with the token.
    #[arg(long, default_value = config::DEFAULT_CASHIER_UID)]
    pub cashier_uid: String,
    /// Login for the admin resources (Basic auth).
    #[arg(long, default_value = config::DEFAULT_ADMIN_LOGIN)]
    pub admin_login: String,
    /// Skip an operation just handed out for this many seconds (default:
    /// hand out the same operation until it is answered).
    #[arg(long)]
    pub poll_lease_secs: Option<u64>,
    /// Empty-queue answer of poll: 204, 404, empty, {} or null.
    #[arg(long, default_value = "204", value_parser = parse_empty_form)]
    pub empty_poll: EmptyPollForm,
    /// Generated assortment items served besides the seed's sample.
    #[arg(long, default_value_t = 0)]
    pub catalogue: usize,
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Args")
            .field("listen", &self.listen)
            .field("org_id", &self.org_id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("cashier_uid", &self.cashier_uid)
            .field("admin_login", &self.admin_login)
            .finish_non_exhaustive()
    }
}

fn parse_empty_form(s: &str) -> Result<EmptyPollForm, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("unknown empty-poll form '{s}' (204, 404, empty, {{}}, null)"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = FakeCloudConfig {
        listen: args.listen,
        org_id: args.org_id,
        token: args.token,
        cashier_uid: args.cashier_uid,
        admin_login: args.admin_login,
        // Env only, never argv: a password on the command line shows in `ps`.
        admin_password: std::env::var("FAKE_CLOUD_ADMIN_PASSWORD")
            .unwrap_or_else(|_| config::DEFAULT_ADMIN_PASSWORD.to_string()),
        poll_lease: args.poll_lease_secs.map(Duration::from_secs),
        empty_poll: args.empty_poll,
        catalogue_size: args.catalogue,
        ..FakeCloudConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let auth = if config.token.is_some() {
            "token required"
        } else {
            "open (no token)"
        };
        let org = config.org_id.clone();
        let handle = FakeCloud::start(config).await?;
        println!("fake cloud listening: {}", handle.base_url());
        println!("organisation: {org}; auth: {auth}");
        println!("control: {} (see docs/fake-cloud.md)", handle.control_url());
        tokio::select! {
            () = handle.wait() => {}
            r = tokio::signal::ctrl_c() => { r.context("waiting for Ctrl-C")?; }
        }
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_forms_parse() {
        assert_eq!(parse_empty_form("{}"), Ok(EmptyPollForm::EmptyObject));
        assert_eq!(parse_empty_form("404"), Ok(EmptyPollForm::NotFound));
        assert!(parse_empty_form("200").is_err());
    }
}
