//! `masterkassa shift` (placeholder until its issue lands).

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("this command is not available yet")
}
