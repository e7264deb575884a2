//! `masterkassa config check [FILE]`: validates a configuration file,
//! prints a summary with secrets hidden, and checks that each kassa's token
//! can be read (unless `--no-secrets`). Exits non-zero with every problem,
//! each naming its key.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::{CloudConfig, Config, DEFAULT_CONFIG_PATH};

/// Arguments of `masterkassa config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `masterkassa config …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a configuration file and print what it configures.
    Check {
        /// The file to check.
        #[arg(default_value = DEFAULT_CONFIG_PATH)]
        file: PathBuf,
        /// Do not try to read the tokens (e.g. when checking as another user).
        #[arg(long)]
        no_secrets: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Check { file, no_secrets } => check(&file, no_secrets),
    }
}

fn check(file: &std::path::Path, no_secrets: bool) -> anyhow::Result<()> {
    // ConfigError's message already includes its cause: keep the chain out
    // of it, or `{:#}` prints the I/O error twice.
    let config = Config::load(file).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", config.summary());
    if !no_secrets {
        let mut failures = Vec::new();
        for kassa in &config.kassas {
            let source = match &kassa.cloud {
                CloudConfig::Moysklad(m) => &m.token,
                CloudConfig::Kassatka(k) => &k.token,
            };
            match source.load() {
                Ok(_) => println!("kassa {}: token readable", kassa.name),
                Err(e) => failures.push(format!("kassa {}: {e}", kassa.name)),
            }
        }
        if !failures.is_empty() {
            return Err(anyhow::anyhow!(failures.join("\n")))
                .with_context(|| format!("{}: tokens cannot be read", file.display()));
        }
    }
    println!("{}: OK", file.display());
    Ok(())
}
