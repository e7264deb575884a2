//! `masterkassa shift close [--kassa NAME] [--config FILE]`: closes the
//! fiscal shift (Z-report) through the running daemon, which owns the
//! printer port and keeps the MoySklad retail shift in step.

use crate::control::{self, CommandReply, Request};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Close the shift (Z-report) on one kassa or all.
    Close {
        /// Kassa name from the config (all kassas if omitted).
        #[arg(long)]
        kassa: Option<String>,
        #[arg(long, default_value = super::status::DEFAULT_CONFIG)]
        config: PathBuf,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Close { kassa, config } => {
            let paths = super::status::paths(&config)?;
            let reply: CommandReply = control::request(
                &paths.socket,
                &Request::CloseShift { kassa },
                Duration::from_secs(180),
            )
            .map_err(|e| anyhow::anyhow!("демон не отвечает, смену закрыть нельзя: {e}"))?;
            let mut failed = false;
            for r in &reply.results {
                println!("{}: {}", r.kassa, r.message);
                failed |= !r.ok;
            }
            if failed {
                anyhow::bail!("не все смены закрыты");
            }
            Ok(())
        }
    }
}
