//! Where and how the daemon's log lines are written (stderr).
//!
//! - on a terminal: human lines, coloured (unless `NO_COLOR` is set);
//! - redirected to a file or pipe: the same lines, never an ANSI escape;
//! - under systemd (`JOURNAL_STREAM` names our stderr): one line per event
//!   with a syslog priority prefix (`<3>` error … `<7>` trace) and no time
//!   stamp, since journald adds its own and shows the priority;
//! - `--log-format json`: one JSON object per line for log collectors.
//!
//! Every time stamp is Moscow time with its offset (RFC 3339,
//! `2026-11-24T10:15:00.123+03:00`): the same clock `status` and the
//! receipts use, so a log line and a status line can be compared by eye.

use std::io::IsTerminal;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// journald lines under systemd, else text (coloured on a terminal).
    #[default]
    Auto,
    /// Human lines with a time stamp.
    Text,
    /// Lines with a `<N>` priority prefix for journald.
    Journald,
    /// One JSON object per line.
    Json,
}

/// What [`LogFormat::Auto`] and the terminal check resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text { colour: bool },
    Journald,
    Json,
}

/// Facts about stderr the choice depends on (pure, so it can be tested).
#[derive(Debug, Clone, Default)]
pub struct Stderr {
    pub is_terminal: bool,
    /// `JOURNAL_STREAM` (`DEV:INODE` of the stream systemd connected).
    pub journal_stream: Option<String>,
    /// `DEV:INODE` of our stderr.
    pub dev_inode: Option<(u64, u64)>,
    pub no_colour: bool,
}

impl Stderr {
    /// Reads the facts about this process's stderr.
    pub fn current() -> Self {
        use std::os::unix::fs::MetadataExt;
        // /proc/self/fd/2 resolves to the open file, pipe or socket itself.
        let dev_inode = std::fs::metadata("/proc/self/fd/2")
            .ok()
            .map(|m| (m.dev(), m.ino()));
        Stderr {
            is_terminal: std::io::stderr().is_terminal(),
            journal_stream: std::env::var("JOURNAL_STREAM").ok(),
            dev_inode,
            no_colour: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }

    /// True when stderr is the journal stream systemd set up (a child whose
    /// stderr was redirected elsewhere inherits the variable but not the
    /// stream, so the variable alone is not enough).
    fn is_journal(&self) -> bool {
        let (Some(stream), Some((dev, ino))) = (&self.journal_stream, self.dev_inode) else {
            return false;
        };
        stream
            .split_once(':')
            .and_then(|(d, i)| Some((d.trim().parse::<u64>().ok()?, i.trim().parse::<u64>().ok()?)))
            == Some((dev, ino))
    }
}

/// The output for `format` on `stderr`.
pub fn resolve(format: LogFormat, stderr: &Stderr) -> Output {
    let text = Output::Text {
        colour: stderr.is_terminal && !stderr.no_colour,
    };
    match format {
        LogFormat::Auto if stderr.is_journal() => Output::Journald,
        LogFormat::Auto | LogFormat::Text => text,
        LogFormat::Journald => Output::Journald,
        LogFormat::Json => Output::Json,
    }
}

/// Installs the global logger on stderr; `RUST_LOG` overrides `level`.
pub fn init(format: LogFormat, level: &str) {
    let output = resolve(format, &Stderr::current());
    let _ = tracing::subscriber::set_global_default(subscriber(output, level, std::io::stderr));
}

/// The subscriber for `output`, writing to `writer`.
pub fn subscriber<W>(output: Output, level: &str, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_timer(MoscowTime);
    match output {
        Output::Text { colour } => Box::new(builder.with_ansi(colour).finish()),
        Output::Journald => Box::new(
            builder
                .with_ansi(false)
                .event_format(Journald(format::format().without_time().with_ansi(false)))
                .finish(),
        ),
        Output::Json => Box::new(
            builder
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
    }
}

/// Moscow time with its offset, milliseconds.
struct MoscowTime;

impl FormatTime for MoscowTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", moscow_rfc3339(jiff::Timestamp::now()))
    }
}

/// `t` as `2026-11-24T10:15:00.123+03:00`.
pub fn moscow_rfc3339(t: jiff::Timestamp) -> String {
    let zoned = t.to_zoned_datetime(crate::worker::moscow());
    zoned.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// The text format behind a syslog priority prefix.
struct Journald<F>(F);

/// syslog priority of a tracing level.
fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

impl<S, N, F> FormatEvent<S, N> for Journald<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(output: Output) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(output, "info", move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(kassa = "магазин", "kassa configured");
            tracing::error!("cannot open the port");
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn only_a_terminal_gets_colour_and_only_the_journal_stream_gets_priorities() {
        let file = Stderr {
            dev_inode: Some((64769, 1234)),
            ..Stderr::default()
        };
        assert_eq!(
            resolve(LogFormat::Auto, &file),
            Output::Text { colour: false }
        );
        let tty = Stderr {
            is_terminal: true,
            ..file.clone()
        };
        assert_eq!(
            resolve(LogFormat::Auto, &tty),
            Output::Text { colour: true }
        );
        let no_colour = Stderr {
            no_colour: true,
            ..tty
        };
        assert_eq!(
            resolve(LogFormat::Text, &no_colour),
            Output::Text { colour: false }
        );
        let journal = Stderr {
            journal_stream: Some("64769:1234".into()),
            ..file.clone()
        };
        assert_eq!(resolve(LogFormat::Auto, &journal), Output::Journald);
        // Inherited by a child whose stderr went elsewhere.
        let inherited = Stderr {
            journal_stream: Some("64769:999".into()),
            ..file
        };
        assert_eq!(
            resolve(LogFormat::Auto, &inherited),
            Output::Text { colour: false }
        );
        assert_eq!(resolve(LogFormat::Json, &inherited), Output::Json);
    }

    #[test]
    fn text_without_a_terminal_has_no_escapes_and_a_moscow_offset() {
        let text = logged(Output::Text { colour: false });
        assert!(!text.contains('\x1b'), "{text:?}");
        let first = text.lines().next().unwrap();
        let stamp = first.split_whitespace().next().unwrap();
        let parsed: jiff::Timestamp = stamp.parse().unwrap();
        assert!(stamp.ends_with("+03:00"), "{first}");
        let skew = jiff::Timestamp::now().duration_since(parsed).abs();
        assert!(skew < jiff::SignedDuration::from_secs(60), "{first}");
    }

    #[test]
    fn journald_lines_carry_a_priority_and_no_time() {
        let text = logged(Output::Journald);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("<6> INFO "), "{text}");
        assert!(lines[0].contains("kassa configured"), "{text}");
        assert!(lines[1].starts_with("<3>ERROR "), "{text}");
        assert!(!text.contains('\x1b') && !text.contains("+03:00"), "{text}");
    }

    #[test]
    fn json_lines_parse_and_carry_an_rfc3339_offset() {
        let text = logged(Output::Json);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let stamp = v["timestamp"].as_str().unwrap();
            assert!(stamp.ends_with("+03:00"), "{line}");
            stamp.parse::<jiff::Timestamp>().unwrap();
        }
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["message"], "kassa configured");
        assert_eq!(first["kassa"], "магазин");
    }
}
