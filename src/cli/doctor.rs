//! `masterkassa doctor [--config FILE] [--json]`: checks an installation
//! from the bottom up and stops at the first rung that fails, saying what
//! to do, in Russian: config → tokens → journal → cloud → token and
//! organisation → port → port permission → device → FN → shift → daemon.
//!
//! While the daemon runs it holds the printer port, so the device rungs
//! are answered from its status over the control socket instead of
//! opening the port.

use crate::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, RetryPolicy};
use crate::config::{CloudConfig, Config, KassaConfig};
use crate::control::{self, DaemonStatus, Request, Unreachable};
use crate::worker::status::KassaStatus;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file.
    #[arg(long, default_value = crate::config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rung {
    /// Stable id for scripts: `config`, `token`, `journal`, `cloud`,
    /// `auth`, `port`, `port_access`, `device`, `fn`, `shift`, `daemon`.
    pub id: &'static str,
    /// What was checked (Russian).
    pub title: &'static str,
    pub ok: bool,
    /// What was found (Russian).
    pub detail: String,
    /// What to do when it failed (Russian).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The rungs climbed, the last one failed unless `ok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub rungs: Vec<Rung>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(check(&args.config));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    if report.ok {
        Ok(())
    } else {
        // The report already says what failed; only the exit code is left.
        std::process::exit(1)
    }
}

/// Human output.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.rungs {
        let mark = if r.ok { "[ок]    " } else { "[ОШИБКА]" };
        out.push_str(&format!("{mark} {}: {}\n", r.title, r.detail));
        if let Some(fix) = &r.fix {
            out.push_str(&format!("         Что сделать: {fix}\n"));
        }
    }
    if report.ok {
        out.push_str("Всё в порядке.\n");
    } else {
        out.push_str("Проверка остановлена на первой ошибке.\n");
    }
    out
}

/// Collects rungs until the first failure.
struct Ladder(Vec<Rung>);

impl Ladder {
    /// Adds a rung; false when it failed (the caller stops).
    fn rung(
        &mut self,
        id: &'static str,
        title: &'static str,
        result: Result<String, (String, String)>,
    ) -> bool {
        let (ok, detail, fix) = match result {
            Ok(detail) => (true, detail, None),
            Err((detail, fix)) => (false, detail, Some(fix)),
        };
        self.0.push(Rung {
            id,
            title,
            ok,
            detail,
            fix,
        });
        ok
    }

    fn done(self) -> Report {
        Report {
            ok: self.0.iter().all(|r| r.ok),
            rungs: self.0,
        }
    }
}

/// Climbs the ladder for the installation configured in `config_path`.
pub async fn check(config_path: &Path) -> Report {
    let mut l = Ladder(Vec::new());
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            l.rung(
                "config",
                "Настройки читаются",
                Err((
                    e.to_string(),
                    format!(
                        "исправьте названные ключи и проверьте: masterkassa config check {}",
                        config_path.display()
                    ),
                )),
            );
            return l.done();
        }
    };
    let names: Vec<&str> = config.kassas.iter().map(|k| k.name.as_str()).collect();
    l.rung(
        "config",
        "Настройки читаются",
        Ok(format!(
            "{}, кассы: {}",
            config_path.display(),
            names.join(", ")
        )),
    );
    if !l.rung("token", "Токены читаются", tokens(&config)) {
        return l.done();
    }
    let daemon = ask_daemon(&config.control_socket);
    if !l.rung(
        "journal",
        "Журнал доступен для записи",
        journal(&config, &daemon),
    ) {
        return l.done();
    }
    let (cloud, auth) = cloud(&config).await;
    if !l.rung("cloud", "Облако доступно", cloud)
        || !l.rung("auth", "Токен принят, организация совпадает", auth)
    {
        return l.done();
    }
    if !l.rung("clock", "Часы компьютера верны", clock(&config).await) {
        return l.done();
    }
    if !l.rung("port", "Порт ККТ существует", ports(&config))
        || !l.rung("port_access", "Порт доступен службе", port_access(&config))
    {
        return l.done();
    }
    let kassas = match kassa_states(&config, &daemon) {
        Ok(k) => {
            l.rung("device", "ККТ отвечает", Ok(device_detail(&k, &daemon)));
            k
        }
        Err(e) => {
            l.rung("device", "ККТ отвечает", Err(e));
            return l.done();
        }
    };
    let now = crate::worker::moscow_now();
    if !l.rung("fn", "ФН в порядке", fn_state(&kassas, now))
        || !l.rung("shift", "Смена моложе 24 часов", shift_age(&kassas, now))
    {
        return l.done();
    }
    l.rung("daemon", "Демон работает", daemon_health(&config, &daemon));
    l.done()
}

type Outcome = Result<String, (String, String)>;

fn tokens(config: &Config) -> Outcome {
    let mut found = Vec::new();
    for k in &config.kassas {
        let source = match &k.cloud {
            CloudConfig::Moysklad(m) => &m.token,
            CloudConfig::Kassatka(c) => &c.token,
        };
        if let Err(e) = source.load() {
            return Err((
                format!("касса {}: {e}", k.name),
                "положите токен туда, куда указывает конфигурация (masterkassa attach пишет его сам); \
                 переменную окружения для проверки задайте и в этой оболочке"
                    .into(),
            ));
        }
        found.push(format!("{}: {}", k.name, source.describe()));
    }
    Ok(found.join("; "))
}

/// The daemon's status, or why it could not be asked.
fn ask_daemon(socket: &Path) -> Result<DaemonStatus, Unreachable> {
    control::request::<DaemonStatus>(socket, &Request::Status, Duration::from_secs(5))
        .map_err(|e| e.unreachable())
}

fn journal(config: &Config, daemon: &Result<DaemonStatus, Unreachable>) -> Outcome {
    let path = &config.journal_path;
    if daemon.is_ok() {
        return Ok(format!("{} открыт работающим демоном", path.display()));
    }
    // The nearest existing ancestor is where the daemon will create it.
    let target = std::iter::successors(Some(path.as_path()), |p| p.parent())
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    if writable(target) {
        Ok(format!(
            "{} (запись в {} разрешена)",
            path.display(),
            target.display()
        ))
    } else {
        Err((
            format!("нет права записи в {}", target.display()),
            format!(
                "каталог журнала должен принадлежать службе: sudo install -d -o masterkassa -g masterkassa -m 0750 {}",
                path.parent().unwrap_or(Path::new("/")).display()
            ),
        ))
    }
}

/// access(2) W_OK for this user.
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Rungs "cloud reachable" and "token accepted, organisation matches",
/// from one settings request per MoySklad kassa.
async fn cloud(config: &Config) -> (Outcome, Outcome) {
    let mut reached = Vec::new();
    let mut accepted = Vec::new();
    for k in &config.kassas {
        let CloudConfig::Moysklad(ms) = &k.cloud else {
            reached.push(format!("{}: Kassatka не проверяется", k.name));
            continue;
        };
        if let Err(e) = resolve(&ms.api_url) {
            return (
                Err((
                    format!("касса {}: {e}", k.name),
                    "проверьте DNS и доступ в интернет: getent hosts online.moysklad.ru".into(),
                )),
                Ok(String::new()),
            );
        }
        let token = match ms.token.load() {
            Ok(t) => t,
            Err(e) => {
                return (
                    Err((e.to_string(), "см. шаг «Токены»".into())),
                    Ok(String::new()),
                );
            }
        };
        let client_config = ClientConfig {
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..ClientConfig::with_base_url(&ms.api_url)
        };
        let client = match PosClient::new(
            &client_config,
            crate::cloud::Secret::new(token.expose().clone()),
            &ms.cashier_uid,
            RateLimiter::new(Limits::moysklad()),
        ) {
            Ok(c) => c,
            Err(e) => {
                return (
                    Err((format!("касса {}: {e}", k.name), "проверьте api_url".into())),
                    Ok(String::new()),
                );
            }
        };
        match client.settings_retailstore().await {
            Ok(store) => {
                reached.push(format!("{}: {}", k.name, ms.api_url));
                let org = store
                    .organization
                    .org_id()
                    .map(str::to_string)
                    .unwrap_or_else(|| store.id.clone());
                match &ms.org_id {
                    Some(want) if *want != org => {
                        return (
                            Ok(reached.join("; ")),
                            Err((
                                format!(
                                    "касса {}: в настройках org_id = {want}, а точка продаж «{}» принадлежит организации {org}",
                                    k.name, store.name
                                ),
                                "исправьте org_id (или удалите его: демон прочтёт его из облака)"
                                    .into(),
                            )),
                        );
                    }
                    _ => accepted.push(format!(
                        "{}: точка продаж «{}», организация {org}",
                        k.name, store.name
                    )),
                }
            }
            Err(e) if e.is_transient() => {
                return (
                    Err((
                        format!("касса {}: {e}", k.name),
                        "проверьте доступ в интернет, прокси и часы компьютера (TLS не примет сильно сбитые часы)".into(),
                    )),
                    Ok(String::new()),
                );
            }
            Err(e) => {
                // It answered, only not yes.
                reached.push(format!("{}: {}", k.name, ms.api_url));
                return (
                    Ok(reached.join("; ")),
                    Err((
                        format!("касса {}: {e}", k.name),
                        "токен не принят: подключите кассу заново (masterkassa attach) или исправьте токен".into(),
                    )),
                );
            }
        }
    }
    (Ok(reached.join("; ")), Ok(accepted.join("; ")))
}

/// How far the computer's clock may be from the cloud's: beyond it the
/// daily close, shift ages and `status` times are wrong, and much further
/// TLS certificates stop being accepted.
const MAX_CLOCK_SKEW_SECS: i64 = 120;

/// Rung "clock": this computer's clock against the `Date` header of the
/// first MoySklad kassa's API (any answer carries one).
async fn clock(config: &Config) -> Outcome {
    let Some(api_url) = config.kassas.iter().find_map(|k| match &k.cloud {
        CloudConfig::Moysklad(ms) => Some(ms.api_url.clone()),
        CloudConfig::Kassatka(_) => None,
    }) else {
        return Ok("облако МойСклад не настроено, не с чем сравнить".into());
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| (format!("HTTP-клиент не создаётся: {e}"), String::new()))?;
    let answer = client.head(&api_url).send().await.map_err(|e| {
        (
            format!("{api_url}: {e}"),
            "см. шаг «Облако доступно»".to_string(),
        )
    })?;
    let date = answer
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    clock_skew(date.as_deref(), jiff::Timestamp::now())
}

/// Compares the cloud's `Date` header with `now`.
fn clock_skew(date: Option<&str>, now: jiff::Timestamp) -> Outcome {
    let Some(date) = date else {
        return Ok("облако не прислало время (заголовок Date), не проверено".into());
    };
    let cloud = jiff::fmt::rfc2822::parse(date)
        .map(|z| z.timestamp())
        .map_err(|e| {
            (
                format!("время облака «{date}» не читается: {e}"),
                String::new(),
            )
        })?;
    let skew = now.as_second() - cloud.as_second();
    if skew.abs() <= MAX_CLOCK_SKEW_SECS {
        return Ok(format!("расхождение с облаком {skew:+} с"));
    }
    let (word, secs) = if skew > 0 {
        ("спешат", skew)
    } else {
        ("отстают", -skew)
    };
    Err((
        format!(
            "часы компьютера {word} на {} мин {} с относительно облака",
            secs / 60,
            secs % 60
        ),
        "включите синхронизацию времени: sudo timedatectl set-ntp true \
         (и проверьте: timedatectl status)"
            .into(),
    ))
}

/// The API host resolves.
fn resolve(api_url: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let with_port = if authority.contains(':') {
        authority.to_string()
    } else if api_url.starts_with("http://") {
        format!("{authority}:80")
    } else {
        format!("{authority}:443")
    };
    with_port
        .to_socket_addrs()
        .map(|_| ())
        .map_err(|e| format!("имя {authority} не разрешается (DNS): {e}"))
}

fn ports(config: &Config) -> Outcome {
    let mut seen = Vec::new();
    // An ATOL printer is reached through its Web-server, not a port.
    for k in config.kassas.iter().filter(|k| k.device.atol.is_none()) {
        let port = &k.device.port;
        if !port.exists() {
            let present = super::config_warnings::host::serial_ports();
            return Err((
                format!(
                    "касса {}: порта {} нет (сейчас есть: {})",
                    k.name,
                    port.display(),
                    if present.is_empty() { "ни одного".into() } else { present.join(", ") }
                ),
                "подключите и включите ККТ; найдите её порт: ls /dev/ttyUSB* /dev/ttyACM*; dmesg | tail".into(),
            ));
        }
        seen.push(format!("{}: {}", k.name, port.display()));
    }
    Ok(seen.join("; "))
}

fn port_access(config: &Config) -> Outcome {
    use super::config_warnings::{host, port};
    let service = host::service_user();
    for k in config.kassas.iter().filter(|k| k.device.atol.is_none()) {
        let p = &k.device.port;
        if let Some(problem) = port(p, host::facts(p), &service, &[]) {
            return Err((
                format!("касса {}: {problem}", k.name),
                "установите правило udev (systemd/99-masterkassa.rules: GROUP=\"dialout\", MODE=\"0660\") \
                 или добавьте службу в группу порта"
                    .into(),
            ));
        }
    }
    Ok("чтение и запись разрешены".into())
}

/// Each kassa's device state: from the daemon, or read from the device.
fn kassa_states(
    config: &Config,
    daemon: &Result<DaemonStatus, Unreachable>,
) -> Result<Vec<KassaStatus>, (String, String)> {
    if let Ok(status) = daemon {
        for k in &status.kassas {
            if k.printer.is_none() {
                let why = k
                    .last_error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "демон ещё не связался с ККТ".into());
                return Err((
                    format!("касса {} (по данным демона): {why}", k.name),
                    "проверьте питание и кабель ККТ; подробности: journalctl -u masterkassa".into(),
                ));
            }
        }
        return Ok(status.kassas.clone());
    }
    config.kassas.iter().map(read_device).collect()
}

/// Reads one kassa's device directly (the daemon is not running).
fn read_device(k: &KassaConfig) -> Result<KassaStatus, (String, String)> {
    let (mut kkt, fail) = match &k.device.atol {
        Some(atol) => {
            let url = atol.url.clone();
            let fail = move |e: kkt::KktError| {
                (
                    format!("касса {}: {} ({e})", k.name, e.message_ru()),
                    format!(
                        "проверьте, что ATOL Web-server запущен по адресу {url} \
                         и в его настройках выбрана эта ККТ"
                    ),
                )
            };
            let cfg = super::run::atol_settings(atol).map_err(|e| {
                (
                    format!("касса {}: {e:#}", k.name),
                    "проверьте файл или переменную с паролем ATOL Web-server".into(),
                )
            })?;
            let driver = atol::driver::AtolDriver::new(cfg).map_err(&fail)?;
            (
                Box::new(driver) as Box<dyn kkt::Kkt>,
                Box::new(fail) as Box<dyn Fn(kkt::KktError) -> (String, String)>,
            )
        }
        None => {
            let (port, baud, cfg) = super::run::driver_settings(k);
            let shown = port.clone();
            let fail = move |e: kkt::KktError| {
                let port = &shown;
                (
                    format!("касса {}: {} ({e})", k.name, e.message_ru()),
                    format!(
                        "проверьте питание, кабель и скорость порта {port}; \
                         точнее: masterkassa device --port {port} status"
                    ),
                )
            };
            let driver = shtrih::driver::ShtrihDriver::open(&port, baud, cfg).map_err(&fail)?;
            (
                Box::new(driver) as Box<dyn kkt::Kkt>,
                Box::new(fail) as Box<dyn Fn(kkt::KktError) -> (String, String)>,
            )
        }
    };
    let mut s = KassaStatus {
        name: k.name.clone(),
        ..KassaStatus::default()
    };
    let info = kkt.device_info().map_err(&fail)?;
    s.printer = Some(crate::worker::source::PrinterInfo::from_device(&info));
    s.apply_fn_info(&kkt.fn_info().map_err(&fail)?);
    s.apply_shift_state(&kkt.shift_state().map_err(&fail)?);
    Ok(s)
}

fn device_detail(kassas: &[KassaStatus], daemon: &Result<DaemonStatus, Unreachable>) -> String {
    let via = if daemon.is_ok() {
        " (через демон)"
    } else {
        ""
    };
    let list: Vec<String> = kassas
        .iter()
        .filter_map(|k| {
            let p = k.printer.as_ref()?;
            Some(format!(
                "{}: {}, зав. № {}",
                k.name,
                kkt::model_label(&p.vendor, &p.model),
                p.serial
            ))
        })
        .collect();
    format!("{}{via}", list.join("; "))
}

/// FN not expired, no FN warnings, nothing stuck on the way to the OFD
/// for more than a day.
pub fn fn_state(kassas: &[KassaStatus], now: kkt::DateTime) -> Outcome {
    let mut seen = Vec::new();
    for k in kassas {
        let serial = k.fn_serial.clone().unwrap_or_else(|| "?".into());
        if let Some(until) = k.fn_valid_until
            && until < now.date()
        {
            return Err((
                format!(
                    "касса {}: срок ФН {serial} истёк {}",
                    k.name,
                    until.strftime("%d.%m.%Y")
                ),
                "замените ФН и перерегистрируйте ККТ в налоговой".into(),
            ));
        }
        if !k.fn_warnings.is_empty() {
            return Err((
                format!(
                    "касса {}: ФН {serial}: {}",
                    k.name,
                    k.fn_warnings.join(", ")
                ),
                "обратитесь в сервисный центр: ФН скоро перестанет принимать чеки".into(),
            ));
        }
        if let Some(first) = k.ofd_first_unsent_at
            && now.duration_since(first) > jiff::SignedDuration::from_hours(24)
        {
            return Err((
                format!(
                    "касса {}: в ОФД не отправлено {} док., первый от {}",
                    k.name,
                    k.ofd_unsent.unwrap_or(0),
                    first.strftime("%d.%m.%Y %H:%M")
                ),
                "проверьте доступ ККТ в интернет и настройки ОФД; через 30 дней ФН заблокируется"
                    .into(),
            ));
        }
        let until = k
            .fn_valid_until
            .map(|d| format!(", действует до {}", d.strftime("%d.%m.%Y")))
            .unwrap_or_default();
        seen.push(format!("{}: ФН {serial}{until}", k.name));
    }
    Ok(seen.join("; "))
}

/// No shift open longer than 24 hours (the FN refuses receipts then).
pub fn shift_age(kassas: &[KassaStatus], now: kkt::DateTime) -> Outcome {
    let mut seen = Vec::new();
    for k in kassas {
        let Some(shift) = &k.shift else {
            seen.push(format!("{}: нет данных", k.name));
            continue;
        };
        let too_old = shift.state == "expired"
            || shift.opened_at.is_some_and(|at| {
                shift.state == "open"
                    && now.duration_since(at) > jiff::SignedDuration::from_hours(24)
            });
        if too_old {
            return Err((
                format!("касса {}: смена №{} открыта больше 24 часов", k.name, shift.number),
                "закройте смену: masterkassa shift close (или, без демона, masterkassa device … close-shift)".into(),
            ));
        }
        let state = if shift.state == "open" {
            "открыта"
        } else {
            "закрыта"
        };
        seen.push(format!("{}: смена №{} {state}", k.name, shift.number));
    }
    Ok(seen.join("; "))
}

fn daemon_health(config: &Config, daemon: &Result<DaemonStatus, Unreachable>) -> Outcome {
    match daemon {
        Ok(status) => {
            if let Some(k) = status.kassas.iter().find(|k| k.halted.is_some()) {
                return Err((
                    format!(
                        "касса {}: печать остановлена: {}",
                        k.name,
                        k.halted.clone().unwrap_or_default()
                    ),
                    "подробности: masterkassa status; journalctl -u masterkassa".into(),
                ));
            }
            Ok(format!("отвечает на {}", config.control_socket.display()))
        }
        Err(Unreachable::NoPermission) => Err((
            super::status::no_permission(&config.control_socket),
            "запустите doctor через sudo или из группы masterkassa".into(),
        )),
        Err(Unreachable::NotRunning) => Err((
            format!("нет ответа на {}", config.control_socket.display()),
            "запустите: sudo systemctl enable --now masterkassa; почему остановился: journalctl -u masterkassa".into(),
        )),
        Err(Unreachable::NoAnswer) => Err((
            format!("сокет {} есть, но демон не ответил", config.control_socket.display()),
            "перезапустите: sudo systemctl restart masterkassa; journalctl -u masterkassa".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::status::ShiftStatus;

    fn at(d: i8, h: i8) -> kkt::DateTime {
        jiff::civil::date(2026, 11, d).at(h, 0, 0, 0)
    }

    #[test]
    fn fn_and_shift_rungs_fail_on_what_stops_printing() {
        let now = at(24, 12);
        let good = KassaStatus {
            name: "a".into(),
            fn_serial: Some("99".into()),
            fn_valid_until: Some(jiff::civil::date(2027, 1, 1)),
            ofd_unsent: Some(1),
            ofd_first_unsent_at: Some(at(24, 9)),
            shift: Some(ShiftStatus {
                state: "open".into(),
                number: 3,
                opened_at: Some(at(24, 8)),
            }),
            ..KassaStatus::default()
        };
        assert!(fn_state(std::slice::from_ref(&good), now).is_ok());
        assert!(shift_age(std::slice::from_ref(&good), now).is_ok());

        let expired = KassaStatus {
            fn_valid_until: Some(jiff::civil::date(2026, 11, 1)),
            ..good.clone()
        };
        let (detail, _) = fn_state(&[expired], now).unwrap_err();
        assert!(detail.contains("срок ФН 99 истёк 01.11.2026"), "{detail}");

        let backlog = KassaStatus {
            ofd_first_unsent_at: Some(at(22, 9)),
            ..good.clone()
        };
        let (detail, fix) = fn_state(&[backlog], now).unwrap_err();
        assert!(detail.contains("в ОФД не отправлено 1"), "{detail}");
        assert!(fix.contains("30 дней"), "{fix}");

        let old_shift = KassaStatus {
            shift: Some(ShiftStatus {
                state: "open".into(),
                number: 3,
                opened_at: Some(at(23, 8)),
            }),
            ..good
        };
        let (detail, fix) = shift_age(&[old_shift], now).unwrap_err();
        assert!(
            detail.contains("смена №3 открыта больше 24 часов"),
            "{detail}"
        );
        assert!(fix.contains("masterkassa shift close"), "{fix}");
    }

    #[test]
    fn clock_rung_fails_beyond_two_minutes_either_way() {
        let now: jiff::Timestamp = "2026-12-03T17:40:00Z".parse().unwrap();
        let ok = clock_skew(Some("Thu, 03 Dec 2026 17:39:10 GMT"), now).unwrap();
        assert_eq!(ok, "расхождение с облаком +50 с");
        let (detail, fix) = clock_skew(Some("Thu, 03 Dec 2026 17:50:30 GMT"), now).unwrap_err();
        assert_eq!(
            detail,
            "часы компьютера отстают на 10 мин 30 с относительно облака"
        );
        assert!(fix.contains("timedatectl set-ntp true"), "{fix}");
        let (detail, _) = clock_skew(Some("Thu, 03 Dec 2026 17:30:00 GMT"), now).unwrap_err();
        assert!(
            detail.starts_with("часы компьютера спешат на 10 мин 0 с"),
            "{detail}"
        );
        assert!(clock_skew(None, now).is_ok());
        assert!(clock_skew(Some("yesterday"), now).is_err());
    }
}
