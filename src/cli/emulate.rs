//! `masterkassa emulate shtrih --link PATH [--state FILE] [--baud N]
//! [--control SOCKET]`: serves an emulated Shtrih-M-01F on a PTY linked at
//! PATH until SIGINT/SIGTERM, keeping its FN and counters in FILE across
//! restarts. The control socket takes the line commands of
//! `sim_shtrih::control` (faults, tape, archive); see docs/emulator.md.
//!
//! `masterkassa emulate atol [--listen ADDR] [--state FILE] [--device-id ID
//! …]`: serves the ATOL Web-server JSON task API (`sim-atol`) on ADDR,
//! keeping its FN and the requests in flight in FILE across restarts; with
//! device ids, one printer (and FN) per `deviceID`. Faults are switched
//! over HTTP at `POST /sim/control` (`sim_atol::control`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use sim_shtrih::control::ControlServer;
use sim_shtrih::{DEFAULT_BAUD, Emulator, EmulatorConfig};

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
    /// ATOL Web-server (JSON task API) with a simulated ATOL 30F and FN.
    Atol(AtolArgs),
}

/// Options of `emulate atol`.
#[derive(Debug, clap::Args)]
pub struct AtolArgs {
    /// Address to serve the Web-server API on.
    #[arg(long, default_value = "127.0.0.1:16732")]
    pub listen: SocketAddr,
    /// State file: FN archive, shift, requests in flight; created if missing.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Serve several printers, each with its own FN, picked by the
    /// `deviceID` header (repeat: `--device-id kkt-1 --device-id kkt-2`;
    /// the first also answers requests without the header).
    #[arg(long = "device-id", value_name = "ID")]
    pub device_ids: Vec<String>,
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
    /// Ignore a driver whose port is set to another speed than --baud.
    #[arg(long)]
    pub strict_baud: bool,
    /// Unix socket for fault injection and inspection (line commands).
    #[arg(long)]
    pub control: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.device {
        EmulatedDevice::Shtrih(a) => run_shtrih(a),
        EmulatedDevice::Atol(a) => run_atol(a),
    }
}

fn run_atol(a: AtolArgs) -> anyhow::Result<()> {
    let mut opts = sim_atol::ServerOptions::loopback();
    opts.listen = a.listen;
    opts.state_file = a.state.clone();
    opts.device_ids = a.device_ids.clone();
    let server =
        sim_atol::AtolServer::start(opts).context("starting the ATOL Web-server stand-in")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "url {}", server.url())?;
    writeln!(
        out,
        "control POST {}{}",
        server.url(),
        sim_atol::server::CONTROL_PATH
    )?;
    let describe = |d: &mut sim_atol::AtolDevice| {
        format!(
            "FN {}, last FD {}",
            d.fn_storage.serial,
            d.fn_storage.last_fd()
        )
    };
    let first = server.with_device(describe);
    match a.device_ids.first() {
        None => writeln!(
            out,
            "serving АТОЛ 30Ф through the Web-server API, {first}; Ctrl-C to stop"
        )?,
        Some(id) => {
            writeln!(
                out,
                "serving АТОЛ 30Ф through the Web-server API; Ctrl-C to stop"
            )?;
            writeln!(out, "deviceID {id} (also without the header): {first}")?;
            for id in server.other_device_ids() {
                writeln!(
                    out,
                    "deviceID {id}: {}",
                    server.with_device_id(&id, describe)
                )?;
            }
        }
    }
    out.flush()?;
    drop(out);
    wait_for_stop_signal()?;
    server.stop();
    Ok(())
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_stop_signal() -> anyhow::Result<()> {
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
    })
}

fn run_shtrih(a: ShtrihArgs) -> anyhow::Result<()> {
    let mut cfg = EmulatorConfig::new(&a.link)
        .baud(a.baud)
        .strict_baud(a.strict_baud);
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

    wait_for_stop_signal()?;
    if let Some(e) = emu.last_save_error() {
        tracing::warn!(error = %e, "last state save failed");
    }
    emu.shutdown().context("stopping the emulator")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn parses_the_documented_command_line() {
        let cli = Cli::try_parse_from([
            "emulate",
            "shtrih",
            "--link",
            "/tmp/kkt",
            "--state",
            "/tmp/kkt.json",
            "--baud",
            "9600",
            "--strict-baud",
            "--control",
            "/tmp/kkt.sock",
        ])
        .unwrap();
        let EmulatedDevice::Shtrih(a) = cli.args.device else {
            panic!("not shtrih")
        };
        assert_eq!(a.link, PathBuf::from("/tmp/kkt"));
        assert_eq!(a.state, Some(PathBuf::from("/tmp/kkt.json")));
        assert_eq!((a.baud, a.strict_baud), (9600, true));
        assert_eq!(a.control, Some(PathBuf::from("/tmp/kkt.sock")));

        let cli = Cli::try_parse_from(["emulate", "shtrih", "--link", "/tmp/kkt"]).unwrap();
        let EmulatedDevice::Shtrih(a) = cli.args.device else {
            panic!("not shtrih")
        };
        assert_eq!((a.baud, a.state, a.control), (DEFAULT_BAUD, None, None));
        assert!(
            Cli::try_parse_from(["emulate", "shtrih"]).is_err(),
            "--link is required"
        );
        assert!(Cli::try_parse_from(["emulate", "atol", "--link", "x"]).is_err());

        let cli = Cli::try_parse_from([
            "emulate",
            "atol",
            "--listen",
            "127.0.0.1:16800",
            "--state",
            "/tmp/atol.json",
            "--device-id",
            "kkt-1",
            "--device-id",
            "kkt-2",
        ])
        .unwrap();
        let EmulatedDevice::Atol(a) = cli.args.device else {
            panic!("not atol")
        };
        assert_eq!(a.listen, "127.0.0.1:16800".parse().unwrap());
        assert_eq!(a.state, Some(PathBuf::from("/tmp/atol.json")));
        assert_eq!(a.device_ids, ["kkt-1", "kkt-2"]);
        let cli = Cli::try_parse_from(["emulate", "atol"]).unwrap();
        let EmulatedDevice::Atol(a) = cli.args.device else {
            panic!("not atol")
        };
        assert_eq!(
            a.listen.port(),
            16732,
            "the Web-server's own port by default"
        );
    }
}
