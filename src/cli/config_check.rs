//! `masterkassa config check [FILE]`: validates a configuration file,
//! prints a summary with secrets hidden, and checks that each kassa's token
//! can be read (unless `--no-secrets`). Exits non-zero with every problem,
//! each naming its key.

use std::path::PathBuf;

use anyhow::Context;

use super::config_warnings::{self, host};
use crate::config::{CloudConfig, Config, DEFAULT_CONFIG_PATH, SecretError, SecretSource};

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
    let service = host::service_user();
    let present = host::serial_ports();
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    for kassa in &config.kassas {
        let name = &kassa.name;
        let source = match &kassa.cloud {
            CloudConfig::Moysklad(m) => &m.token,
            CloudConfig::Kassatka(k) => &k.token,
        };
        if !no_secrets {
            match source.load() {
                Ok(_) => println!("касса {name}: токен читается"),
                // systemd provides both to the service, not to this shell.
                Err(SecretError::EnvMissing(var)) => warnings.push(format!(
                    "касса {name}: переменная окружения {var} не задана в этой оболочке; \
                     служба получит её от systemd, если она есть в юните \
                     (Environment= или EnvironmentFile=)"
                )),
                Err(SecretError::NoCredentialsDirectory(cred)) => warnings.push(format!(
                    "касса {name}: учётные данные systemd {cred} видны только службе; \
                     проверьте строку LoadCredential={cred}:… в юните"
                )),
                Err(e) => failures.push(format!("касса {name}: токен не читается: {e}")),
            }
        }
        if let SecretSource::File(path) = source
            && let Some(facts) = host::facts(path)
            && let Some(w) = config_warnings::token_file(path, facts)
        {
            warnings.push(format!("касса {name}: {w}"));
        }
        let port = &kassa.device.port;
        if kassa.device.atol.is_none()
            && let Some(w) = config_warnings::port(port, host::facts(port), &service, &present)
        {
            warnings.push(format!("касса {name}: {w}"));
        }
    }
    for w in &warnings {
        println!("ПРЕДУПРЕЖДЕНИЕ: {w}");
    }
    if !failures.is_empty() {
        return Err(anyhow::anyhow!(failures.join("\n")))
            .with_context(|| format!("{}: токены не читаются", file.display()));
    }
    if warnings.is_empty() {
        println!("{}: настройки верны", file.display());
    } else {
        println!(
            "{}: настройки верны, предупреждений: {}",
            file.display(),
            warnings.len()
        );
    }
    Ok(())
}
