//! `masterkassa status [--config FILE] [--json]`: how every kassa is doing.
//!
//! Asks the daemon over its control socket; if the daemon does not answer,
//! reads the journal read-only and says that the daemon is not running.
//! Only `[journal] path` and `[control] socket` are read from the config,
//! so status works even when other parts of the config are broken.

use crate::control::{self, DaemonStatus, Request};
use crate::worker::status::{ErrorReport, KassaStatus, ShiftStatus};
use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_CONFIG: &str = "/etc/masterkassa/config.toml";
pub const DEFAULT_SOCKET: &str = "/run/masterkassa/control.sock";
pub const DEFAULT_JOURNAL: &str = "/var/lib/masterkassa/journal.db";

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (for the socket and journal paths).
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Machine-readable output (stable schema).
    #[arg(long)]
    pub json: bool,
}

/// The two paths `status` and `shift` need from the config.
pub struct Paths {
    pub socket: PathBuf,
    pub journal: PathBuf,
}

/// Reads `[control] socket` and `[journal] path` (defaults if absent).
pub fn paths(config: &Path) -> anyhow::Result<Paths> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read config {}", config.display()))?;
    let value: toml::Table = toml::from_str(&text)
        .with_context(|| format!("config {} is not valid TOML", config.display()))?;
    let get = |table: &str, key: &str| {
        value
            .get(table)
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .map(PathBuf::from)
    };
    // The daemon honours the same environment overrides.
    let env = |name: &str| std::env::var_os(name).map(PathBuf::from);
    Ok(Paths {
        socket: env("MASTERKASSA_CONTROL_SOCKET")
            .or_else(|| get("control", "socket"))
            .unwrap_or_else(|| DEFAULT_SOCKET.into()),
        journal: env("MASTERKASSA_JOURNAL_PATH")
            .or_else(|| get("journal", "path"))
            .unwrap_or_else(|| DEFAULT_JOURNAL.into()),
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let paths = paths(&args.config)?;
    let status = match control::request::<DaemonStatus>(
        &paths.socket,
        &Request::Status,
        Duration::from_secs(10),
    ) {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "daemon did not answer");
            from_journal(&paths.journal)?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status, &paths));
    }
    Ok(())
}

/// Status read from the journal when the daemon is down.
pub fn from_journal(path: &Path) -> anyhow::Result<DaemonStatus> {
    let journal = crate::journal::Journal::open_read_only(path).with_context(|| {
        format!(
            "the daemon is not running and the journal {} cannot be read",
            path.display()
        )
    })?;
    let mut kassas = Vec::new();
    for name in journal.kassas()? {
        let summary = journal.kassa_summary(&name, crate::worker::journal_store::day_start())?;
        let shift = summary.shift.as_ref().and_then(|s| {
            let opened = s.state.opened()?;
            Some(ShiftStatus {
                state: if s.state.closed().is_some() {
                    "closed"
                } else {
                    "open"
                }
                .into(),
                number: opened.shift_number,
                opened_at: Some(opened.doc.time),
            })
        });
        kassas.push(KassaStatus {
            name: name.clone(),
            fn_serial: summary.shift.as_ref().map(|s| s.fn_serial.clone()),
            shift,
            last_error: summary
                .last_error
                .as_ref()
                .map(|(at, message)| ErrorReport {
                    layer: "journal".into(),
                    message: message.clone(),
                    at: jiff::tz::TimeZone::fixed(jiff::tz::offset(3)).to_datetime(*at),
                }),
            counts: crate::worker::journal_store::counts_of(&summary),
            ..KassaStatus::default()
        });
    }
    Ok(DaemonStatus {
        schema: 1,
        daemon_running: false,
        version: crate::state::VERSION.to_string(),
        uptime_secs: None,
        kassas,
    })
}

fn when(t: &kkt::DateTime) -> String {
    t.strftime("%d.%m.%Y %H:%M:%S").to_string()
}

fn duration_ru(secs: u64) -> String {
    let (d, h, m) = (secs / 86400, secs % 86400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} дн {h} ч {m} мин")
    } else if h > 0 {
        format!("{h} ч {m} мин")
    } else {
        format!("{m} мин {} с", secs % 60)
    }
}

/// Human output, in Russian, for the shop owner.
pub fn render(s: &DaemonStatus, paths: &Paths) -> String {
    let mut out = String::new();
    if s.daemon_running {
        let up = s.uptime_secs.map(duration_ru).unwrap_or_default();
        let _ = writeln!(out, "masterkassa {}: демон работает {up}", s.version);
    } else {
        let _ = writeln!(
            out,
            "masterkassa {}: ДЕМОН НЕ ЗАПУЩЕН (нет ответа на {}); данные из журнала {}",
            s.version,
            paths.socket.display(),
            paths.journal.display()
        );
    }
    if s.kassas.is_empty() {
        let _ = writeln!(out, "Касс нет.");
    }
    for k in &s.kassas {
        render_kassa(&mut out, k);
    }
    out
}

fn render_kassa(out: &mut String, k: &KassaStatus) {
    let _ = writeln!(out, "\nКасса «{}»", k.name);
    if let Some(halted) = &k.halted {
        let _ = writeln!(out, "  ПЕЧАТЬ ОСТАНОВЛЕНА: {halted}");
    }
    if let Some(blocked) = &k.fn_blocked {
        let _ = writeln!(out, "  ПЕЧАТЬ ПРИОСТАНОВЛЕНА: {blocked}");
    }
    if let Some(blocked) = &k.journal_blocked {
        let _ = writeln!(out, "  ПЕЧАТЬ ПРИОСТАНОВЛЕНА: {blocked}");
    }
    match &k.printer {
        Some(p) => {
            let _ = writeln!(
                out,
                "  ККТ: {} {}, зав. № {}, прошивка {}, ФФД {}",
                p.vendor, p.model, p.serial, p.firmware, p.ffd_version
            );
        }
        None => {
            let _ = writeln!(out, "  ККТ: нет данных");
        }
    }
    let fn_line = match (&k.fn_serial, &k.fn_valid_until) {
        (Some(s), Some(d)) => format!("{s}, действует до {}", d.strftime("%d.%m.%Y")),
        (Some(s), None) => s.clone(),
        _ => "нет данных".into(),
    };
    let _ = writeln!(out, "  ФН: {fn_line}");
    for w in &k.fn_warnings {
        let _ = writeln!(out, "  ВНИМАНИЕ: {w}");
    }
    let shift = match &k.shift {
        Some(sh) => {
            let state = match sh.state.as_str() {
                "open" => "открыта",
                "expired" => "открыта более 24 часов",
                _ => "закрыта",
            };
            match (sh.state.as_str(), &sh.opened_at) {
                ("closed", _) => format!("{state} (последняя №{})", sh.number),
                (_, Some(at)) => format!("{state}, №{} с {}", sh.number, when(at)),
                _ => format!("{state}, №{}", sh.number),
            }
        }
        None => "нет данных".into(),
    };
    let _ = writeln!(out, "  Смена: {shift}");
    let c = &k.counts;
    let _ = writeln!(
        out,
        "  Чеки: ждут печати {}, печатаются {}, ждут подтверждения облака {}",
        c.waiting, c.printing, c.awaiting_approve
    );
    let _ = writeln!(
        out,
        "  Сегодня: подтверждено {}, отклонено {}",
        c.approved_today, c.rejected_today
    );
    if !c.undeliverable.is_empty() {
        let _ = writeln!(
            out,
            "  Облако отказалось принять ({}):",
            c.undeliverable.len()
        );
        for u in &c.undeliverable {
            let _ = writeln!(out, "    {u}");
        }
    }
    if c.journal_bytes > 0 {
        let _ = writeln!(
            out,
            "  Журнал: {:.1} МБ",
            c.journal_bytes as f64 / (1024.0 * 1024.0)
        );
    }
    let ofd = match (&k.ofd_first_unsent_at, k.ofd_unsent) {
        (_, 0) => "все документы отправлены".to_string(),
        (Some(at), n) => format!("не отправлено {n}, первый от {}", when(at)),
        (None, n) => format!("не отправлено {n}"),
    };
    let _ = writeln!(out, "  ОФД: {ofd}");
    let poll = k
        .last_poll
        .as_ref()
        .map(when)
        .unwrap_or_else(|| "не было".into());
    let _ = writeln!(out, "  Последний успешный опрос облака: {poll}");
    match &k.last_error {
        Some(e) => {
            let _ = writeln!(
                out,
                "  Последняя ошибка ({}): {} — {}",
                layer_ru(&e.layer),
                e.message,
                when(&e.at)
            );
        }
        None => {
            let _ = writeln!(out, "  Ошибок нет");
        }
    }
}

fn layer_ru(layer: &str) -> &str {
    match layer {
        "cloud" => "облако",
        "link" => "связь с ККТ",
        "printer" => "принтер",
        "fn" => "ФН/ОФД",
        "data" => "данные операции",
        "config" => "настройки",
        "journal" => "журнал",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_shop_readable_summary() {
        let mut k = KassaStatus {
            name: "магазин".into(),
            fn_serial: Some("9999078900001234".into()),
            fn_valid_until: Some(jiff::civil::date(2027, 12, 31)),
            ofd_unsent: 3,
            ofd_first_unsent_at: Some(jiff::civil::date(2026, 11, 24).at(9, 0, 0, 0)),
            ..KassaStatus::default()
        };
        k.counts.approved_today = 12;
        k.shift = Some(ShiftStatus {
            state: "open".into(),
            number: 3,
            opened_at: Some(jiff::civil::date(2026, 11, 24).at(8, 0, 0, 0)),
        });
        let s = DaemonStatus {
            schema: 1,
            daemon_running: false,
            version: "0.1.0".into(),
            uptime_secs: None,
            kassas: vec![k],
        };
        let paths = Paths {
            socket: "/run/x.sock".into(),
            journal: "/var/j.db".into(),
        };
        let text = render(&s, &paths);
        assert!(text.contains("ДЕМОН НЕ ЗАПУЩЕН"), "{text}");
        assert!(
            text.contains("ФН: 9999078900001234, действует до 31.12.2027"),
            "{text}"
        );
        assert!(
            text.contains("Смена: открыта, №3 с 24.11.2026 08:00:00"),
            "{text}"
        );
        assert!(text.contains("подтверждено 12"), "{text}");
        assert!(
            text.contains("не отправлено 3, первый от 24.11.2026 09:00:00"),
            "{text}"
        );
    }

    #[test]
    fn reads_paths_from_config_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[control]\nsocket = \"/tmp/s.sock\"\n[[kassa]]\nname = 1\n",
        )
        .unwrap();
        let p = paths(&f).unwrap();
        assert_eq!(p.socket, PathBuf::from("/tmp/s.sock"));
        assert_eq!(p.journal, PathBuf::from(DEFAULT_JOURNAL));
    }
}
