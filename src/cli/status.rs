//! `masterkassa status [--config FILE] [--json]`: how every kassa is doing.
//!
//! Asks the daemon over its control socket; if the daemon does not answer,
//! reads the journal read-only and says that the daemon is not running.
//! Only `[journal] path` and `[control] socket` are read from the config,
//! so status works even when other parts of the config are broken.

use crate::control::{self, DaemonStatus, Request, Unreachable};
use crate::worker::status::{ErrorReport, KassaStatus, ShiftStatus};
use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::config::{
    DEFAULT_CONFIG_PATH as DEFAULT_CONFIG, DEFAULT_CONTROL_SOCKET as DEFAULT_SOCKET,
    DEFAULT_JOURNAL_PATH as DEFAULT_JOURNAL,
};

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

/// What `status` and `shift` need from the config.
pub struct Paths {
    pub socket: PathBuf,
    pub journal: PathBuf,
    /// Kassa names of the config, so a kassa that never reached its printer
    /// (and so is not in the journal) is still listed.
    pub kassas: Vec<String>,
}

/// Reads `[control] socket`, `[journal] path` (defaults if absent) and
/// the kassa names.
pub fn paths(config: &Path) -> anyhow::Result<Paths> {
    let text = match std::fs::read_to_string(config) {
        Ok(text) => text,
        // The config is 0640 root:masterkassa: a user outside the group
        // can still be told what the daemon says, from the default paths.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!(
                "masterkassa: нет прав на чтение настроек {}; беру пути по умолчанию",
                config.display()
            );
            String::new()
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("не читается файл настроек {}", config.display()));
        }
    };
    let value: toml::Table = toml::from_str(&text)
        .with_context(|| format!("файл настроек {} — не TOML", config.display()))?;
    let get = |table: &str, key: &str| {
        value
            .get(table)
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .map(PathBuf::from)
    };
    let kassas = value
        .get("kassa")
        .and_then(|k| k.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|k| match k.get("name")? {
                    toml::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    // The daemon honours the same environment overrides.
    let env = |name: &str| std::env::var_os(name).map(PathBuf::from);
    Ok(Paths {
        socket: env("MASTERKASSA_CONTROL_SOCKET")
            .or_else(|| get("control", "socket"))
            .unwrap_or_else(|| DEFAULT_SOCKET.into()),
        journal: env("MASTERKASSA_JOURNAL_PATH")
            .or_else(|| get("journal", "path"))
            .unwrap_or_else(|| DEFAULT_JOURNAL.into()),
        kassas,
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
        Err(e) => match e.unreachable() {
            Unreachable::NotRunning => {
                tracing::debug!(error = %e, "daemon did not answer");
                offline(&paths)?
            }
            Unreachable::NoPermission => anyhow::bail!("{}", no_permission(&paths.socket)),
            Unreachable::NoAnswer => anyhow::bail!(
                "демон не ответил на {} за 10 с (возможно, занят или завис): {e}",
                paths.socket.display()
            ),
        },
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status, &paths));
    }
    Ok(())
}

/// What to tell a user who may not open the control socket.
pub fn no_permission(socket: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let group = std::fs::metadata(socket)
        .ok()
        .and_then(|m| group_name(m.gid()))
        .unwrap_or_else(|| "masterkassa".into());
    format!(
        "нет прав на сокет управления {}: демон, возможно, работает, но спросить его могут \
         только root и группа {group}. Добавьте себя в группу (sudo usermod -aG {group} $USER, \
         затем войдите заново) или запустите через sudo",
        socket.display()
    )
}

/// Name of group `gid` from /etc/group.
fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == gid).then(|| name.to_string())
    })
}

/// Status without the daemon: from the journal, or only the configured
/// kassas when there is no journal yet.
pub fn offline(paths: &Paths) -> anyhow::Result<DaemonStatus> {
    let mut status = if paths.journal.exists() {
        from_journal(&paths.journal)?
    } else {
        DaemonStatus {
            schema: 1,
            daemon_running: false,
            version: crate::state::VERSION.to_string(),
            uptime_secs: None,
            never_ran: true,
            kassas: Vec::new(),
        }
    };
    for name in &paths.kassas {
        if !status.kassas.iter().any(|k| &k.name == name) {
            status.kassas.push(KassaStatus {
                name: name.clone(),
                ..KassaStatus::default()
            });
        }
    }
    Ok(status)
}

/// Status read from the journal when the daemon is down.
pub fn from_journal(path: &Path) -> anyhow::Result<DaemonStatus> {
    let journal = crate::journal::Journal::open_read_only(path).map_err(|e| {
        let why = if std::fs::File::open(path)
            .err()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        {
            "нет прав на чтение (запустите через sudo или из группы masterkassa)".to_string()
        } else {
            e.to_string()
        };
        anyhow::anyhow!(
            "демон не запущен, а журнал {} не читается: {why}",
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
                    at: crate::worker::moscow().to_datetime(*at),
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
        never_ran: false,
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
    } else if s.never_ran {
        let _ = writeln!(
            out,
            "masterkassa {}: ДЕМОН НЕ ЗАПУЩЕН и ещё ни разу не работал с журналом {} \
             (журнала нет); кассы из настроек:",
            s.version,
            paths.journal.display()
        );
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
        render_kassa(&mut out, k, s.daemon_running);
    }
    out
}

/// One kassa. Without the daemon, whatever only the daemon knows (OFD
/// backlog, last poll, errors it has not journaled) is shown as unknown,
/// never as good news.
fn render_kassa(out: &mut String, k: &KassaStatus, daemon_running: bool) {
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
                "  ККТ: {}, зав. № {}, прошивка {}, ФФД {}",
                kkt::model_label(&p.vendor, &p.model),
                p.serial,
                p.firmware,
                p.ffd_version
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
    for note in &k.source_notes {
        let _ = writeln!(out, "  {note}");
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
    let unknown = if daemon_running {
        "нет данных (ККТ ещё не прочитана)"
    } else {
        "неизвестно (демон не запущен)"
    };
    let ofd = match (&k.ofd_first_unsent_at, k.ofd_unsent) {
        (_, None) => unknown.to_string(),
        (_, Some(0)) => "все документы отправлены".to_string(),
        (Some(at), Some(n)) => format!("не отправлено {n}, первый от {}", when(at)),
        (None, Some(n)) => format!("не отправлено {n}"),
    };
    let _ = writeln!(out, "  ОФД: {ofd}");
    let poll = match &k.last_poll {
        Some(at) => when(at),
        None if daemon_running => "не было".into(),
        None => "неизвестно (демон не запущен)".into(),
    };
    let _ = writeln!(out, "  Последний успешный опрос облака: {poll}");
    if let Some(c) = &k.catalogue {
        render_catalogue(out, c);
    }
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
        None if daemon_running => {
            let _ = writeln!(out, "  Ошибок нет");
        }
        None => {
            let _ = writeln!(out, "  Ошибки: неизвестно (демон не запущен)");
        }
    }
}

/// The catalogue cache: how many items, when synced, who waits.
fn render_catalogue(out: &mut String, c: &crate::catalogue::CatalogueStatus) {
    let synced = c
        .last_sync
        .as_ref()
        .map(|t| format!("обновлён {}", when(t)))
        .unwrap_or_else(|| "ещё не загружался".into());
    let _ = writeln!(out, "  Справочник товаров: {} позиций, {synced}", c.items);
    if let Some(e) = &c.last_error {
        let _ = writeln!(out, "    {e}");
    }
    if !c.waiting.is_empty() {
        let _ = writeln!(
            out,
            "    ждут товар (облако недоступно): {} — {}",
            c.waiting.len(),
            c.waiting.join(", ")
        );
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

    /// `k` as `status` shows it with the daemon down.
    fn render_offline(k: KassaStatus) -> String {
        let s = DaemonStatus {
            schema: 1,
            daemon_running: false,
            version: "0.1.0".into(),
            uptime_secs: None,
            never_ran: false,
            kassas: vec![k],
        };
        let paths = Paths {
            socket: "/run/x.sock".into(),
            journal: "/var/j.db".into(),
            kassas: Vec::new(),
        };
        render(&s, &paths)
    }

    #[test]
    fn renders_a_shop_readable_summary() {
        let mut k = KassaStatus {
            name: "магазин".into(),
            fn_serial: Some("9999078900001234".into()),
            fn_valid_until: Some(jiff::civil::date(2027, 12, 31)),
            ofd_unsent: Some(3),
            ofd_first_unsent_at: Some(jiff::civil::date(2026, 11, 24).at(9, 0, 0, 0)),
            ..KassaStatus::default()
        };
        k.counts.approved_today = 12;
        k.catalogue = Some(crate::catalogue::CatalogueStatus {
            items: 50_000,
            last_sync: Some(jiff::civil::date(2026, 11, 24).at(7, 30, 0, 0)),
            last_error: None,
            waiting: vec!["op-7".into()],
        });
        k.shift = Some(ShiftStatus {
            state: "open".into(),
            number: 3,
            opened_at: Some(jiff::civil::date(2026, 11, 24).at(8, 0, 0, 0)),
        });
        let text = render_offline(k);
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
            text.contains("Справочник товаров: 50000 позиций, обновлён 24.11.2026 07:30:00"),
            "{text}"
        );
        assert!(
            text.contains("ждут товар (облако недоступно): 1 — op-7"),
            "{text}"
        );
        assert!(
            text.contains("не отправлено 3, первый от 24.11.2026 09:00:00"),
            "{text}"
        );
    }

    #[test]
    fn without_the_daemon_what_only_it_knows_is_unknown_not_good() {
        let text = render_offline(KassaStatus {
            name: "магазин".into(),
            ..KassaStatus::default()
        });
        assert!(
            text.contains("ОФД: неизвестно (демон не запущен)"),
            "{text}"
        );
        assert!(
            text.contains("Последний успешный опрос облака: неизвестно"),
            "{text}"
        );
        assert!(text.contains("Ошибки: неизвестно"), "{text}");
        assert!(!text.contains("все документы отправлены"), "{text}");
        assert!(!text.contains("Ошибок нет"), "{text}");
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
        assert_eq!(p.kassas, vec!["1".to_string()]);
    }
}
