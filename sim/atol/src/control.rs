//! Fault injection and inspection as text commands, one per line: what
//! `POST /sim/control` on the stand-in runs (e.g.
//! `curl -d paper-out http://127.0.0.1:16732/sim/control`), in the words
//! of the Shtrih emulator's control socket where the two printers share a
//! fault. The `deviceID` header picks the printer, as for the API.
//!
//! Every reply ends with a line `ok` or `error: …`; `status` and
//! `archive` print their data lines before it.

use crate::server::SimControl;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PaperOut,
    PaperIn,
    /// The next receipt is signed, then the paper runs out
    /// (`continuePrint` after `paper-in`).
    PaperOutMidReceipt,
    CoverOpen,
    CoverClose,
    /// The next fiscal task fails with this ATOL driver error code.
    FnError(i32),
    FnOk,
    /// Requests that make a fiscal document wait; queries still run.
    Hold,
    Release,
    LoseNextResult,
    BlockNext,
    Unblock,
    AdvanceClock(i64),
    OfdConfirm,
    Status,
    Archive,
    Help,
}

/// Text of `help`.
pub const HELP: &str = "paper-out | paper-in | paper-out-mid-receipt | cover-open | cover-close | \
fn-error CODE | fn-ok | hold | release | lose-next-result | block-next | unblock | \
advance-clock SECONDS | ofd-confirm | status | archive | help";

fn number<T: std::str::FromStr>(arg: Option<&str>, what: &str) -> Result<T, String> {
    let a = arg.ok_or_else(|| format!("missing {what}"))?;
    a.parse().map_err(|_| format!("bad {what} {a:?}"))
}

/// Parses one line.
pub fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let name = words.next().ok_or("empty command")?;
    let arg = words.next();
    let command = match name {
        "paper-out" => Command::PaperOut,
        "paper-in" => Command::PaperIn,
        "paper-out-mid-receipt" => Command::PaperOutMidReceipt,
        "cover-open" => Command::CoverOpen,
        "cover-close" => Command::CoverClose,
        "fn-error" => Command::FnError(number(arg, "error code")?),
        "fn-ok" => Command::FnOk,
        "hold" => Command::Hold,
        "release" => Command::Release,
        "lose-next-result" => Command::LoseNextResult,
        "block-next" => Command::BlockNext,
        "unblock" => Command::Unblock,
        "advance-clock" => Command::AdvanceClock(number(arg, "seconds")?),
        "ofd-confirm" => Command::OfdConfirm,
        "status" => Command::Status,
        "archive" => Command::Archive,
        "help" => Command::Help,
        other => return Err(format!("unknown command {other:?}; try help")),
    };
    let takes_arg = matches!(command, Command::FnError(_) | Command::AdvanceClock(_));
    if words.next().is_some() || (!takes_arg && arg.is_some()) {
        return Err(format!("too many arguments to {name}"));
    }
    Ok(command)
}

/// Runs `command` on printer `device` (`None`: the first); the reply.
pub fn execute(ctl: &SimControl, device: Option<&str>, command: &Command) -> String {
    let on_device = |f: &mut dyn FnMut(&mut crate::AtolDevice)| ctl.with_printer(device, f);
    let mut out = String::new();
    match command {
        Command::PaperOut => on_device(&mut |d| d.faults.paper_out = true),
        Command::PaperIn => on_device(&mut |d| d.faults.paper_out = false),
        Command::PaperOutMidReceipt => on_device(&mut |d| d.faults.paper_out_mid_receipt = true),
        Command::CoverOpen => on_device(&mut |d| d.faults.cover_open = true),
        Command::CoverClose => on_device(&mut |d| d.faults.cover_open = false),
        Command::FnError(code) => on_device(&mut |d| d.faults.fn_error = Some(*code)),
        Command::FnOk => on_device(&mut |d| d.faults.fn_error = None),
        Command::Hold => ctl.hold(true),
        Command::Release => ctl.hold(false),
        Command::LoseNextResult => ctl.lose_next_result(),
        Command::BlockNext => ctl.block_next(),
        Command::Unblock => ctl.unblock(),
        Command::AdvanceClock(secs) => ctl.clock().advance(*secs),
        Command::OfdConfirm => on_device(&mut |d| d.fn_storage.confirm_all_by_ofd()),
        Command::Status => {
            let mut line = String::new();
            on_device(&mut |d| {
                let fs = &d.fn_storage;
                line = format!(
                    "device {} fn {} last-fd {} shift {} {} ofd-unsent {} paper {} cover {} unprinted {}\n",
                    d.serial,
                    fs.serial,
                    fs.last_fd(),
                    fs.shift.number,
                    if fs.shift.open { "open" } else { "closed" },
                    fs.unsent_count(),
                    if d.faults.paper_out { "out" } else { "ok" },
                    if d.faults.cover_open {
                        "open"
                    } else {
                        "closed"
                    },
                    d.unprinted,
                );
            });
            out.push_str(&line);
            out.push_str(&format!(
                "requests queued {} blocked {} documents-pending {}\n",
                ctl.queued_requests(),
                ctl.blocked_requests(),
                ctl.pending_documents()
            ));
        }
        Command::Archive => on_device(&mut |d| {
            for doc in &d.fn_storage.archive {
                out.push_str(&format!(
                    "FD {} type {} time {} FP {} shift {} operation {} total {}\n",
                    doc.number,
                    doc.kind,
                    doc.time,
                    doc.fiscal_sign,
                    doc.shift_number,
                    doc.operation.map_or("-".into(), |o| o.to_string()),
                    doc.total.map_or("-".into(), |t| t.to_string()),
                ));
            }
        }),
        Command::Help => {
            out.push_str(HELP);
            out.push('\n');
        }
    }
    out.push_str("ok\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_arguments_only() {
        assert_eq!(parse("paper-out"), Ok(Command::PaperOut));
        assert_eq!(parse("  fn-error 235 "), Ok(Command::FnError(235)));
        assert_eq!(
            parse("advance-clock 90000"),
            Ok(Command::AdvanceClock(90000))
        );
        assert!(parse("paper-out now").is_err());
        assert!(parse("fn-error").is_err());
        assert!(parse("fn-error x").is_err());
        assert!(parse("fn-error 1 2").is_err());
        assert!(parse("").is_err());
        assert!(parse("reboot").unwrap_err().contains("help"));
    }

    #[test]
    fn every_command_in_help_parses() {
        for word in HELP.split(" | ") {
            let line = word.replace("CODE", "235").replace("SECONDS", "60");
            assert!(parse(&line).is_ok(), "{line}");
        }
    }
}
