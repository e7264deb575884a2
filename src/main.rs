//! Entry point: parses the command line and dispatches to `masterkassa::cli`.

use clap::{Parser, Subcommand};
mod cli;

// The subcommands in `cli` were written as part of the agent library and
// name its modules `crate::…`; importing them at the binary's root keeps
// those paths valid while the library itself knows nothing of the
// stand-ins (the fake cloud, the fake Kassatka, the emulators), which only
// the binary links.
use masterkassa::{
    catalogue, cloud, config, control, device, journal, kassatka, receipt, state, worker,
};
use sim_kassatka as fake_kassatka;
use sim_moysklad as fake_cloud;

#[derive(Debug, Parser)]
#[command(
    name = "masterkassa",
    version,
    about = "Master-kassa agent for MoySklad and a Russian fiscal printer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon.
    Run(cli::run::Args),
    /// Show how every kassa is doing.
    Status(cli::status::Args),
    /// Run the whole pipeline on an embedded default: fake cloud + emulated printer.
    Demo(cli::demo::Args),
    /// Serve an emulated fiscal printer on a PTY.
    Emulate(cli::emulate::Args),
    /// Talk to a fiscal printer directly (for the engineer at the printer).
    Device(cli::device::Args),
    /// Connect this installation to a MoySklad retail store.
    Attach(cli::attach::Args),
    /// Serve a fake MoySklad POS API on loopback.
    FakeCloud(cli::fake_cloud::Args),
    /// Kassatka 1C API: push nomenclature, download receipts.
    Kassatka(cli::kassatka::Args),
    /// Serve a fake Kassatka 1C API on loopback.
    FakeKassatka(cli::fake_kassatka::Args),
    /// Close (or inspect) fiscal shifts.
    Shift(cli::shift::Args),
    /// Validate a configuration file.
    Config(cli::config_check::Args),
    /// Check the installation rung by rung and say what to fix first.
    Doctor(cli::doctor::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cli::run::run(a),
        Command::Status(a) => cli::status::run(a),
        Command::Demo(a) => cli::demo::run(a),
        Command::Emulate(a) => cli::emulate::run(a),
        Command::Device(a) => cli::device::run(a),
        Command::Attach(a) => cli::attach::run(a),
        Command::FakeCloud(a) => cli::fake_cloud::run(a),
        Command::Kassatka(a) => cli::kassatka::run(a),
        Command::FakeKassatka(a) => cli::fake_kassatka::run(a),
        Command::Shift(a) => cli::shift::run(a),
        Command::Config(a) => cli::config_check::run(a),
        Command::Doctor(a) => cli::doctor::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("masterkassa: {}", error_chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text its
/// parent already quotes (many error types name their source in their own
/// message, and "No such file" twice helps nobody).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
