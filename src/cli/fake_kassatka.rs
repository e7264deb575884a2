//! `masterkassa fake-kassatka --listen ADDR`: serve the fake Kassatka 1C API
//! (see [`crate::fake_kassatka`]) until interrupted (Ctrl-C or SIGTERM), for trying the
//! `kassatka` commands and the agent without a Kassatka account.
//!
//! The accepted token is read from `KASSATKA_TOKEN`, like the client's, so
//! one exported variable serves both sides.

use crate::fake_kassatka::{FakeKassatka, FakeKassatkaConfig, Faults, ProcessPace};
use crate::kassatka::settings::TOKEN_ENV;
use crate::kassatka::{ApiToken, parse_documents};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `masterkassa fake-kassatka`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8095", value_name = "ADDR")]
    listen: SocketAddr,
    /// Serve the receipts of this Documents XML file instead of the seed's
    /// example receipts.
    #[arg(long, value_name = "FILE")]
    receipts: Option<PathBuf>,
    /// How long every process takes, in milliseconds.
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    process_ms: u64,
    /// Polls of /process answered "processing" before a process can finish.
    #[arg(long, default_value_t = 2, value_name = "N")]
    process_polls: u32,
    /// Fault: every process ends in an error with this message.
    #[arg(long, value_name = "MESSAGE")]
    fail_processes: Option<String>,
    /// Fault: the first N requests get HTTP 502.
    #[arg(long, default_value_t = 0, value_name = "N")]
    server_errors: u32,
    /// Fault: receipt downloads return malformed XML.
    #[arg(long)]
    malformed_xml: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_ENV).with_context(|| {
        format!("set {TOKEN_ENV} to the token the fake should accept (never on the command line)")
    })?;
    let token = ApiToken::new(token).context(TOKEN_ENV)?;
    let receipts = match &args.receipts {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(parse_documents(&bytes).with_context(|| format!("{}", path.display()))?)
        }
        None => None,
    };
    let config = FakeKassatkaConfig {
        listen: args.listen,
        token: token.expose().to_string(),
        pace: ProcessPace {
            duration: Duration::from_millis(args.process_ms),
            polls: args.process_polls,
        },
        faults: Faults {
            fail_processes: args.fail_processes,
            server_errors: args.server_errors,
            malformed_xml: args.malformed_xml,
            running_unsuccessful: false,
        },
        receipts,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Listen for SIGTERM before announcing the address: whoever reads
        // the line may stop us at once.
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("cannot listen for SIGTERM")?;
        let fake = FakeKassatka::start(config).await?;
        println!(
            "fake Kassatka serving {} receipts at {}",
            fake.receipts().len(),
            fake.base_url()
        );
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("cannot wait for Ctrl-C")?,
            _ = terminate.recv() => {}
        }
        fake.shutdown().await;
        Ok(())
    })
}
