//! The emulator's control protocol: one text command per line, used by the
//! control socket of `masterkassa emulate shtrih --control SOCKET` (and
//! usable from tests). Every reply ends with a line `ok` or `error: …`;
//! `tape`, `archive` and `status` print their data lines before it.
//!
//! Commands (documented with their effects in docs/emulator.md):
//! `paper-out`, `paper-in`, `paper-out-mid-print`, `cover-open`,
//! `cover-close`, `garble N`, `garble-in N`, `drop N`, `slow MS`,
//! `print-time MS`, `fn-fail CODE`, `fn-ok`, `fn-warnings BITS` (hex),
//! `power-cut-after CMD`, `power-cut-before CMD`, `power-cut-mid-answer CMD`
//! (CMD in hex: `FF45`, `0x85`), `power-cut`, `power-on`,
//! `advance-clock SECONDS`, `ofd-confirm`, `tape`, `archive`, `status`,
//! `help`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{CutPoint, EmulatorControl};
use shtrih::frame::Code;

/// A parsed control command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PaperOut,
    PaperIn,
    PaperOutMidPrint,
    CoverOpen,
    CoverClose,
    Garble(u32),
    GarbleIn(u32),
    Drop(u32),
    Slow(u64),
    PrintTime(u64),
    FnFail(u8),
    FnOk,
    FnWarnings(u8),
    PowerCutAt(Code, CutPoint),
    PowerCut,
    PowerOn,
    AdvanceClock(i64),
    OfdConfirm,
    Tape,
    Archive,
    Status,
    Help,
}

/// Text of `help`.
pub const HELP: &str = "paper-out | paper-in | paper-out-mid-print | cover-open | cover-close | \
garble N | garble-in N | drop N | slow MS | print-time MS | fn-fail CODE | fn-ok | fn-warnings BITS | \
power-cut-after CMD | power-cut-before CMD | \
power-cut-mid-answer CMD | power-cut | power-on | \
advance-clock SECONDS | ofd-confirm | tape | archive | status | help";

fn parse_code(s: &str) -> Result<Code, String> {
    let hex = s.trim_start_matches("0x").trim_start_matches("0X");
    let v = u16::from_str_radix(hex, 16).map_err(|_| format!("bad command code {s:?}"))?;
    if v > 0xFF && v >> 8 != 0xFF {
        return Err(format!("bad command code {s:?}: extended codes are FFnn"));
    }
    Ok(Code(v))
}

fn parse_byte(s: &str) -> Result<u8, String> {
    let hex = s.trim_start_matches("0x").trim_start_matches("0X");
    u8::from_str_radix(hex, 16).map_err(|_| format!("bad hex byte {s:?}"))
}

fn num<T: std::str::FromStr>(arg: Option<&str>, what: &str) -> Result<T, String> {
    let a = arg.ok_or_else(|| format!("missing {what}"))?;
    a.parse().map_err(|_| format!("bad {what} {a:?}"))
}

/// Parses one line.
pub fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let cmd = words.next().ok_or("empty command")?;
    let arg = words.next();
    let c = match cmd {
        "paper-out" => Command::PaperOut,
        "paper-in" => Command::PaperIn,
        "paper-out-mid-print" => Command::PaperOutMidPrint,
        "cover-open" => Command::CoverOpen,
        "cover-close" => Command::CoverClose,
        "garble" => Command::Garble(num(arg, "count")?),
        "garble-in" => Command::GarbleIn(num(arg, "count")?),
        "drop" => Command::Drop(num(arg, "count")?),
        "slow" => Command::Slow(num(arg, "milliseconds")?),
        "print-time" => Command::PrintTime(num(arg, "milliseconds")?),
        "fn-fail" => Command::FnFail(parse_byte(arg.ok_or("missing FN error code")?)?),
        "fn-ok" => Command::FnOk,
        "fn-warnings" => Command::FnWarnings(parse_byte(arg.ok_or("missing warning bits")?)?),
        "power-cut-after" => Command::PowerCutAt(
            parse_code(arg.ok_or("missing command code")?)?,
            CutPoint::AfterCommit,
        ),
        "power-cut-before" => Command::PowerCutAt(
            parse_code(arg.ok_or("missing command code")?)?,
            CutPoint::BeforeCommit,
        ),
        "power-cut-mid-answer" => Command::PowerCutAt(
            parse_code(arg.ok_or("missing command code")?)?,
            CutPoint::MidAnswer,
        ),
        "power-cut" => Command::PowerCut,
        "power-on" => Command::PowerOn,
        "advance-clock" => Command::AdvanceClock(num(arg, "seconds")?),
        "ofd-confirm" => Command::OfdConfirm,
        "tape" => Command::Tape,
        "archive" => Command::Archive,
        "status" => Command::Status,
        "help" => Command::Help,
        other => return Err(format!("unknown command {other:?}; try help")),
    };
    let takes_arg = matches!(
        c,
        Command::Garble(_)
            | Command::GarbleIn(_)
            | Command::Drop(_)
            | Command::Slow(_)
            | Command::PrintTime(_)
            | Command::FnFail(_)
            | Command::FnWarnings(_)
            | Command::PowerCutAt(..)
            | Command::AdvanceClock(_)
    );
    if words.next().is_some() || (!takes_arg && arg.is_some()) {
        return Err(format!("too many arguments to {cmd}"));
    }
    Ok(c)
}

/// Runs a command; returns the reply (data lines, then `ok`/`error: …`).
pub fn execute(ctl: &EmulatorControl, cmd: &Command) -> String {
    let f = ctl.faults();
    let mut out = String::new();
    match cmd {
        Command::PaperOut => f.set_paper_out(true),
        Command::PaperIn => f.set_paper_out(false),
        Command::PaperOutMidPrint => f.paper_runs_out_during_next_print(),
        Command::CoverOpen => f.set_cover_open(true),
        Command::CoverClose => f.set_cover_open(false),
        Command::Garble(n) => f.garble_next(*n),
        Command::GarbleIn(n) => f.garble_in_next(*n),
        Command::Drop(n) => f.drop_next(*n),
        Command::Slow(ms) => f.set_slow(Some(Duration::from_millis(*ms))),
        Command::PrintTime(ms) => f.set_print_line_time(Some(Duration::from_millis(*ms))),
        Command::FnFail(code) => f.set_fn_failure(Some(*code)),
        Command::FnOk => f.set_fn_failure(None),
        Command::FnWarnings(bits) => f.set_fn_warnings(*bits),
        Command::PowerCutAt(code, point) => f.power_cut_at(*code, *point),
        Command::PowerCut => ctl.power_cut(),
        Command::PowerOn => {
            if let Err(e) = ctl.power_on() {
                return format!("error: {e}\n");
            }
        }
        Command::AdvanceClock(s) => ctl.advance_clock(*s),
        Command::OfdConfirm => ctl.ofd_confirm_all(),
        Command::Tape => out.push_str(&ctl.tape_text()),
        Command::Archive => {
            for d in ctl.archive() {
                out.push_str(&format!(
                    "FD {} type {} time {} FP {} shift {} operation {} total {}\n",
                    d.number,
                    d.kind,
                    d.time,
                    d.fiscal_sign,
                    d.shift_number,
                    d.operation.map(|o| o.to_string()).unwrap_or("-".into()),
                    d.total.map(|t| t.to_string()).unwrap_or("-".into()),
                ));
            }
        }
        Command::Status => {
            let s = ctl.shift();
            let fs = f.state();
            out.push_str(&format!(
                "powered {}\nshift {} open {} receipts {}\nlast FD {}\nOFD unsent {}\n\
                 cash {}\npaper {}\ncover {}\n",
                ctl.is_powered(),
                s.number,
                s.open,
                s.receipts,
                ctl.last_fd(),
                ctl.ofd_unsent(),
                ctl.cash(),
                if fs.paper_out { "out" } else { "in" },
                if fs.cover_open { "open" } else { "closed" },
            ));
        }
        Command::Help => {
            out.push_str(HELP);
            out.push('\n');
        }
    }
    out.push_str("ok\n");
    out
}

/// Serves the control protocol on a Unix socket until stopped.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ControlServer {
    /// Binds `path` (replacing a stale socket file) and serves `ctl`.
    pub fn start(path: &Path, ctl: EmulatorControl) -> std::io::Result<ControlServer> {
        if let Ok(m) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if m.file_type().is_socket() {
                std::fs::remove_file(path)?;
            }
        }
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("shtrih-emulator-control".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let ctl = ctl.clone();
                            let _ = std::thread::Builder::new()
                                .name("shtrih-emulator-client".into())
                                .spawn(move || serve_client(stream, &ctl));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "control socket accept failed");
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
            })?;
        Ok(ControlServer {
            path: path.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve_client(stream: UnixStream, ctl: &EmulatorControl) {
    let _ = stream.set_nonblocking(false);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match parse(&line) {
            Ok(cmd) => execute(ctl, &cmd),
            Err(e) => format!("error: {e}\n"),
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command_and_rejects_junk() {
        assert_eq!(parse("garble 3"), Ok(Command::Garble(3)));
        assert_eq!(
            parse("power-cut-after FF45"),
            Ok(Command::PowerCutAt(Code(0xFF45), CutPoint::AfterCommit))
        );
        assert_eq!(
            parse("power-cut-before 0x85"),
            Ok(Command::PowerCutAt(Code(0x85), CutPoint::BeforeCommit))
        );
        assert_eq!(parse("slow 250"), Ok(Command::Slow(250)));
        assert_eq!(parse("fn-fail 0x06"), Ok(Command::FnFail(6)));
        assert_eq!(parse("fn-warnings 8"), Ok(Command::FnWarnings(8)));
        assert!(parse("fn-fail 1FF").is_err());
        assert!(parse("fn-ok 1").is_err());
        assert!(parse("garble").is_err());
        assert!(parse("garble x").is_err());
        assert!(parse("power-cut-after 1234").is_err());
        assert!(parse("paper-out now").is_err());
        assert!(parse("explode").is_err());
        assert!(parse("").is_err());
    }
}
