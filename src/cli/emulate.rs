//! `masterkassa emulate shtrih --link PATH [--state FILE] [--baud N]
//! [--control SOCKET]`: serves an emulated Shtrih-M-01F on a PTY linked at
//! PATH until SIGINT/SIGTERM, keeping its FN and counters in FILE across
//! restarts. The control socket takes the line commands of
//! `shtrih::emulator::control` (faults, tape, archive); see docs/emulator.md.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use shtrih::emulator::control::ControlServer;
use shtrih::emulator::{DEFAULT_BAUD, Emulator, EmulatorConfig};

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub device: EmulatedDevice,
}

/// Which printer to emulate.
#[derive(Debug, clap::Subcommand)]
pub enum EmulatedDevice {
    /// Shtrih-M-01F with a simulated FN.
    Shtrih(ShtrihArgs),
}

/// Options of `emulate shtrih`.
#[derive(Debug, clap::Args)]
pub struct ShtrihArgs {
    /// Symlink to create for the emulated serial port (what the driver opens).
    #[arg(long)]
    pub link: PathBuf,
    /// State file: FN archive, counters, clock, tape; created if missing.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Line speed the answers are paced at (0 = no pacing).
    #[arg(long, default_value_t = DEFAULT_BAUD)]
    pub baud: u32,
    /// Unix socket for fault injection and inspection (line commands).
    #[arg(long)]
    pub control: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.device {
        EmulatedDevice::Shtrih(a) => run_shtrih(a),
    }
}

fn run_shtrih(a: ShtrihArgs) -> anyhow::Result<()> {
    let mut cfg = EmulatorConfig::new(&a.link).baud(a.baud);
    if let Some(s) = &a.state {
        cfg = cfg.state_file(s);
    }
    let emu = Emulator::spawn(cfg).context("starting the Shtrih-M emulator")?;
    let _control = match &a.control {
        Some(path) => Some(
            ControlServer::start(path, emu.control())
                .with_context(|| format!("binding control socket {}", path.display()))?,
        ),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "pty {}", emu.pty_path().display())?;
    writeln!(out, "link {}", emu.link_path().display())?;
    if let Some(c) = &a.control {
        writeln!(out, "control {}", c.display())?;
    }
    writeln!(
        out,
        "serving ШТРИХ-М-01Ф at {} baud, FN {}, last FD {}; Ctrl-C to stop",
        a.baud,
        emu.fn_serial(),
        emu.last_fd()
    )?;
    out.flush()?;
    drop(out);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the signal runtime")?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    if let Some(e) = emu.last_save_error() {
        tracing::warn!(error = %e, "last state save failed");
    }
    emu.shutdown().context("stopping the emulator")?;
    Ok(())
}
