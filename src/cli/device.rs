//! `masterkassa device`: talk to a fiscal printer directly, for the engineer
//! standing at it. Opens the port (detecting the speed unless told) or, for
//! an ATOL printer, the ATOL Web-server's URL, runs one
//! action through the `kkt::Kkt` trait, and prints the result — readable
//! Russian by default, a stable JSON object with `--json` for scripts.

use anyhow::Context;
use kkt::{
    ArchivedDocument, DeviceInfo, DeviceStatus, DocumentKind, FnInfo, Kkt, Operation, ShiftClosed,
    ShiftOpened, ShiftState,
};
use serde::Serialize;
use shtrih::driver::{Baud, DriverConfig, SerialDriver, ShtrihDriver};
use std::fmt::Write as _;
use std::io::Write;

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serial port or PTY of a Shtrih-M printer, e.g. /dev/ttyACM0 or /tmp/kkt.
    #[arg(long, required_unless_present = "url")]
    pub port: Option<String>,
    /// ATOL Web-server URL, e.g. http://127.0.0.1:16732 (`--driver atol`).
    #[arg(long, required_if_eq("driver", "atol"))]
    pub url: Option<String>,
    /// ATOL: which printer of a Web-server serving several (`deviceID`).
    #[arg(long)]
    pub device_id: Option<String>,
    /// ATOL: Web-server user for HTTP Basic auth.
    #[arg(long, requires = "password_file")]
    pub user: Option<String>,
    /// ATOL: file holding the Web-server password (never on the command line).
    #[arg(long, requires = "user")]
    pub password_file: Option<std::path::PathBuf>,
    /// Line speed: a number (2400…115200) or `auto` to try the standard rates.
    #[arg(long, default_value = "auto", value_parser = parse_baud)]
    pub baud: BaudArg,
    /// Printer protocol.
    #[arg(long, value_enum, default_value_t = DriverKind::Shtrih)]
    pub driver: DriverKind,
    /// Operator password (30 = system administrator, the factory default).
    #[arg(
        long,
        env = "MASTERKASSA_DEVICE_PASSWORD",
        default_value_t = 30,
        hide_env_values = true
    )]
    pub password: u32,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Action,
}

/// Parsed `--baud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaudArg(pub Baud);

fn parse_baud(s: &str) -> Result<BaudArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(BaudArg(Baud::Auto));
    }
    let n: u32 = s
        .parse()
        .map_err(|_| format!("`{s}` is neither a number nor `auto`"))?;
    if !shtrih::link::STANDARD_BAUD_RATES.contains(&n) {
        return Err(format!(
            "{n} is not a Shtrih-M speed; use one of {:?} or auto",
            shtrih::link::STANDARD_BAUD_RATES
        ));
    }
    Ok(BaudArg(Baud::Fixed(n)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriverKind {
    /// Shtrih-M serial protocol.
    Shtrih,
    /// ATOL Driver 10 JSON tasks through the ATOL Web-server.
    Atol,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Device, paper, FN and shift state.
    Status,
    /// Open a fiscal shift.
    OpenShift {
        /// Cashier name printed and sent as tag 1021.
        #[arg(long, default_value = "Администратор")]
        cashier: String,
    },
    /// Close the fiscal shift (Z-report).
    CloseShift {
        #[arg(long, default_value = "Администратор")]
        cashier: String,
    },
    /// Print an X-report (no fiscal document).
    XReport,
    /// Print a few non-fiscal test lines and cut.
    PrintTest,
    /// Read fiscal document N back from the FN archive.
    Fd {
        /// Fiscal document number.
        number: u32,
        /// Also read the document's full TLV from the FN archive.
        #[arg(long)]
        tlv: bool,
    },
}

/// `fd N` output: the archive summary and, with `--tlv`, every tag.
#[derive(Debug, Serialize)]
struct DocumentReport {
    #[serde(flatten)]
    document: ArchivedDocument,
    #[serde(skip_serializing_if = "Option::is_none")]
    tlv: Option<Vec<TlvView>>,
}

/// One TLV tag for people and scripts.
#[derive(Debug, Serialize)]
struct TlvView {
    tag: u16,
    hex: String,
    /// CP1251 text when the value is printable.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// A known tag's meaning and value (date, number, sum).
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<String>,
}

impl TlvView {
    fn new(item: &shtrih::commands::TlvItem) -> TlvView {
        let hex = item.value.iter().map(|b| format!("{b:02X}")).collect();
        let text = shtrih::wire::decode_cp1251(&item.value);
        let printable = !item.value.is_empty()
            && text.chars().count() == item.value.len()
            && text.chars().all(|c| !c.is_control());
        let decoded = super::fd_tags::describe(item.tag, &item.value);
        TlvView {
            tag: item.tag,
            hex,
            text: (printable && decoded.is_none()).then_some(text),
            decoded,
        }
    }
}

/// `status --json` output.
#[derive(Debug, Serialize)]
struct StatusReport {
    /// Shtrih: the serial port and its speed.
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baud: Option<u32>,
    /// ATOL: the Web-server.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    device: DeviceInfo,
    status: DeviceStatus,
    #[serde(rename = "fn")]
    fn_info: FnInfo,
    shift: ShiftState,
}

#[derive(Debug, Serialize)]
struct Done {
    ok: bool,
    action: &'static str,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    run_to(args, &mut std::io::stdout().lock())
}

/// The opened printer: the trait for every action, the Shtrih driver for
/// what only its protocol offers (line speed, raw TLV of an archived
/// document).
enum Opened {
    Shtrih(SerialDriver),
    Atol(atol::driver::AtolDriver),
}

impl Opened {
    fn kkt(&mut self) -> &mut dyn Kkt {
        match self {
            Opened::Shtrih(d) => d,
            Opened::Atol(d) => d,
        }
    }
}

fn open(args: &Args) -> anyhow::Result<Opened> {
    match args.driver {
        DriverKind::Shtrih => {
            let Some(port) = args.port.as_deref() else {
                anyhow::bail!(
                    "для Штрих-М укажите порт: --port /dev/ttyACM0 (--url — для --driver atol)"
                );
            };
            let cfg = DriverConfig {
                password: args.password,
                ..DriverConfig::default()
            };
            match ShtrihDriver::open(port, args.baud.0, cfg) {
                Ok(kkt) => Ok(Opened::Shtrih(kkt)),
                Err(e) if port_is_held(port) => anyhow::bail!("{}", held_by_another(port, &e)),
                Err(e) => Err(kkt_err(e)).with_context(|| format!("нет связи с ККТ на {port}")),
            }
        }
        DriverKind::Atol => {
            let url = args.url.as_deref().unwrap_or_default();
            let mut cfg = atol::transport::WebServerConfig::new(url);
            cfg.device_id = args.device_id.clone();
            if let (Some(user), Some(file)) = (&args.user, &args.password_file) {
                let password = std::fs::read_to_string(file).with_context(|| {
                    format!(
                        "не читается файл пароля веб-сервера АТОЛ {}",
                        file.display()
                    )
                })?;
                cfg.credentials = Some((user.clone(), password.trim_end().to_string()));
            }
            let kkt = atol::driver::AtolDriver::new(cfg)
                .map_err(kkt_err)
                .with_context(|| format!("нет связи с веб-сервером АТОЛ {url}"))?;
            Ok(Opened::Atol(kkt))
        }
    }
}

/// Runs the action and writes its output to `out`.
pub fn run_to(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut opened = open(&args)?;
    let (port, baud) = match &opened {
        Opened::Shtrih(d) => (args.port.clone(), Some(d.baud())),
        Opened::Atol(_) => (None, None),
    };
    let url = args.url.clone().filter(|_| args.driver == DriverKind::Atol);
    let kkt = opened.kkt();
    let json = args.json;
    match args.action {
        Action::Status => {
            let report = StatusReport {
                port,
                baud,
                url,
                device: kkt.device_info().map_err(kkt_err)?,
                status: kkt.status().map_err(kkt_err)?,
                fn_info: kkt.fn_info().map_err(kkt_err)?,
                shift: kkt.shift_state().map_err(kkt_err)?,
            };
            emit(out, json, &report, print_status)
        }
        Action::OpenShift { cashier } => {
            // The FN's own answer to a second open is "wrong FN state";
            // say what is actually wrong instead.
            match kkt.shift_state().map_err(kkt_err)? {
                ShiftState::Open { number, .. } => {
                    anyhow::bail!("смена № {number} уже открыта")
                }
                ShiftState::Expired { number, .. } => anyhow::bail!(
                    "смена № {number} открыта больше 24 часов: сначала закройте её (close-shift)"
                ),
                ShiftState::Closed { .. } => {}
            }
            let r = kkt.open_shift(&cashier).map_err(kkt_err)?;
            emit(out, json, &r, print_opened)
        }
        Action::CloseShift { cashier } => {
            if let ShiftState::Closed { last_number } = kkt.shift_state().map_err(kkt_err)? {
                anyhow::bail!("смена уже закрыта (последняя № {last_number})");
            }
            let r = kkt.close_shift(&cashier).map_err(kkt_err)?;
            emit(out, json, &r, print_closed)
        }
        Action::XReport => {
            kkt.x_report().map_err(kkt_err)?;
            emit(
                out,
                json,
                &Done {
                    ok: true,
                    action: "x_report",
                },
                |o, _| o.push_str("X-отчёт напечатан.\n"),
            )
        }
        Action::PrintTest => {
            let now = format!("{} UTC", jiff::Timestamp::now().strftime("%d.%m.%Y %H:%M"));
            let lines = vec![
                "*** ТЕСТ ПЕЧАТИ ***".to_string(),
                "masterkassa device print-test".to_string(),
                now,
                "Нефискальный документ".to_string(),
            ];
            match &mut opened {
                Opened::Shtrih(d) => d.print_lines(&lines),
                Opened::Atol(d) => {
                    d.print_test(&lines.iter().map(String::as_str).collect::<Vec<_>>())
                }
            }
            .map_err(kkt_err)?;
            emit(
                out,
                json,
                &Done {
                    ok: true,
                    action: "print_test",
                },
                |o, _| o.push_str("Тестовая страница напечатана.\n"),
            )
        }
        Action::Fd { number, tlv } => {
            let last = kkt.fn_info().map_err(kkt_err)?.last_fd_number;
            if number == 0 || number > last {
                anyhow::bail!("ФД {number} нет в архиве ФН: номера документов 1…{last}");
            }
            let document = kkt.read_document(number).map_err(kkt_err)?;
            let tlv = match (tlv, &mut opened) {
                (false, _) => None,
                (true, Opened::Shtrih(d)) => {
                    let items = d.read_document_tlv(number).map_err(kkt_err)?;
                    Some(items.iter().map(TlvView::new).collect())
                }
                (true, Opened::Atol(_)) => anyhow::bail!(
                    "--tlv только для Штрих-М: веб-сервер АТОЛ отдаёт документ без TLV"
                ),
            };
            emit(out, json, &DocumentReport { document, tlv }, print_document)
        }
    }
}

/// True when another process holds the port's lock (the daemon locks
/// every port it uses, as this command does).
fn port_is_held(port: &str) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking and no controlling terminal: probing must not wait for
    // a modem line or adopt the printer as our terminal.
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(port)
    else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// What to do when the port is busy, and whether the daemon answers.
fn held_by_another(port: &str, e: &kkt::KktError) -> String {
    tracing::debug!(port, error = %e, "port is locked by another process");
    let daemon = crate::control::request::<crate::control::DaemonStatus>(
        std::path::Path::new(super::status::DEFAULT_SOCKET),
        &crate::control::Request::Status,
        std::time::Duration::from_secs(2),
    );
    let who = match daemon {
        Ok(_) => "его держит работающий демон masterkassa",
        Err(_) => "его держит другой процесс (обычно демон masterkassa)",
    };
    format!(
        "порт {port} занят: {who}. Смену закройте через демон: masterkassa shift close. \
         Для прямой работы с ККТ остановите демон (sudo systemctl stop masterkassa), \
         выполните команду и запустите его снова (sudo systemctl start masterkassa)"
    )
}

/// Device errors keep their Russian text and say whether waiting or fixing
/// the printer helps; the English detail follows for logs.
fn kkt_err(e: kkt::KktError) -> anyhow::Error {
    let fix = if e.is_recoverable() {
        "устранимо"
    } else {
        "неустранимо"
    };
    anyhow::anyhow!("{} [{fix}] ({e})", e.message_ru())
}

fn emit<T: Serialize>(
    out: &mut dyn Write,
    json: bool,
    value: &T,
    human: impl FnOnce(&mut String, &T),
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    } else {
        let mut text = String::new();
        human(&mut text, value);
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "да" } else { "нет" }
}

fn print_status(out: &mut String, r: &StatusReport) {
    let d = &r.device;
    let link = match (&r.port, r.baud, &r.url) {
        (Some(port), Some(baud), _) => format!("порт {port}, {baud} бод"),
        (_, _, Some(url)) => format!("веб-сервер {url}"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "ККТ:            {} ({link})",
        kkt::model_label(&d.vendor, &d.model)
    );
    let _ = writeln!(out, "Заводской №:    {}", d.serial);
    let _ = writeln!(out, "Прошивка:       {}", d.firmware);
    let _ = writeln!(out, "ФФД:            {}", d.ffd_version);
    if let Some(inn) = &d.inn {
        let _ = writeln!(out, "ИНН:            {inn}");
    }
    if let Some(c) = d.clock {
        let _ = writeln!(out, "Часы ККТ:       {}", c.strftime("%d.%m.%Y %H:%M:%S"));
    }
    let s = &r.status;
    let _ = writeln!(
        out,
        "Бумага:         {}",
        if s.paper_present {
            "есть"
        } else {
            "НЕТ"
        }
    );
    let _ = writeln!(
        out,
        "Крышка:         {}",
        if s.cover_open {
            "ОТКРЫТА"
        } else {
            "закрыта"
        }
    );
    let _ = writeln!(out, "Открыт чек:     {}", yes_no(s.receipt_open));
    let _ = writeln!(out, "Ждёт допечатки: {}", yes_no(s.awaiting_continue));
    let _ = writeln!(out, "Режим/подрежим: {}/{}", s.mode, s.submode);
    let f = &r.fn_info;
    let _ = writeln!(out, "ФН:             {}", f.serial);
    if let Some(v) = f.valid_until {
        let _ = writeln!(out, "ФН действует до {}", v.strftime("%d.%m.%Y"));
    }
    let _ = writeln!(out, "Последний ФД:   {}", f.last_fd_number);
    let _ = writeln!(out, "Не отправлено в ОФД: {}", f.ofd_unsent_count);
    if let (Some(n), Some(t)) = (f.ofd_first_unsent_number, f.ofd_first_unsent_at) {
        let _ = writeln!(
            out,
            "  первый неотправленный: ФД {n} от {}",
            t.strftime("%d.%m.%Y %H:%M")
        );
    }
    if f.warnings.any() {
        let _ = writeln!(out, "ПРЕДУПРЕЖДЕНИЯ ФН: {:?}", f.warnings);
    }
    let shift = match r.shift {
        ShiftState::Closed { last_number } => format!("закрыта (последняя № {last_number})"),
        ShiftState::Open {
            number, receipts, ..
        } => format!("открыта, № {number}, чеков {receipts}"),
        ShiftState::Expired {
            number, receipts, ..
        } => format!("№ {number} ПРЕВЫСИЛА 24 ЧАСА, чеков {receipts}"),
    };
    let _ = writeln!(out, "Смена:          {shift}");
}

/// The "ФД …, ФП …, time" line every shift report prints for its fiscal document.
fn print_doc_line(out: &mut String, doc: &kkt::FiscalDoc) {
    let _ = writeln!(
        out,
        "ФД {}, ФП {}, {}",
        doc.number,
        doc.fiscal_sign,
        doc.time.strftime("%d.%m.%Y %H:%M")
    );
}

fn print_opened(out: &mut String, r: &ShiftOpened) {
    let _ = writeln!(out, "Смена № {} открыта.", r.shift_number);
    print_doc_line(out, &r.doc);
}

fn print_closed(out: &mut String, r: &ShiftClosed) {
    let _ = writeln!(out, "Смена № {} закрыта.", r.shift_number);
    print_doc_line(out, &r.doc);
    let _ = writeln!(
        out,
        "Чеков за смену: {}, документов: {}",
        r.receipts_in_shift, r.documents_in_shift
    );
}

fn kind_ru(k: DocumentKind) -> String {
    match k {
        DocumentKind::Registration => "отчёт о регистрации".into(),
        DocumentKind::ShiftOpen => "отчёт об открытии смены".into(),
        DocumentKind::Receipt => "кассовый чек".into(),
        DocumentKind::Bso => "БСО".into(),
        DocumentKind::ShiftClose => "отчёт о закрытии смены".into(),
        DocumentKind::FnClose => "отчёт о закрытии ФН".into(),
        DocumentKind::ReRegistration => "отчёт об изменении параметров регистрации".into(),
        DocumentKind::SettlementReport => "отчёт о текущем состоянии расчётов".into(),
        DocumentKind::CorrectionReceipt => "кассовый чек коррекции".into(),
        DocumentKind::CorrectionBso => "БСО коррекции".into(),
        DocumentKind::Other(c) => format!("документ типа {c}"),
    }
}

fn operation_ru(o: Operation) -> &'static str {
    match o {
        Operation::Income => "приход",
        Operation::IncomeReturn => "возврат прихода",
        Operation::Expense => "расход",
        Operation::ExpenseReturn => "возврат расхода",
    }
}

fn print_document(out: &mut String, r: &DocumentReport) {
    let d = &r.document;
    let _ = writeln!(out, "ФД {}: {}", d.doc.number, kind_ru(d.kind));
    let _ = writeln!(out, "ФП:    {}", d.doc.fiscal_sign);
    let _ = writeln!(out, "Время: {}", d.doc.time.strftime("%d.%m.%Y %H:%M"));
    if let Some(op) = d.operation {
        let _ = writeln!(out, "Признак расчёта: {}", operation_ru(op));
    }
    if let Some(t) = d.total {
        let _ = writeln!(out, "Сумма: {t}");
    }
    for t in r.tlv.iter().flatten() {
        match (&t.decoded, &t.text) {
            (Some(decoded), _) => {
                let _ = writeln!(out, "  тег {:>4}: {decoded} ({})", t.tag, t.hex);
            }
            (None, Some(text)) => {
                let _ = writeln!(out, "  тег {:>4}: «{text}»", t.tag);
            }
            (None, None) => {
                let _ = writeln!(out, "  тег {:>4}: {}", t.tag, t.hex);
            }
        }
    }
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
    fn baud_is_auto_or_a_standard_rate() {
        assert_eq!(parse_baud("auto"), Ok(BaudArg(Baud::Auto)));
        assert_eq!(parse_baud("9600"), Ok(BaudArg(Baud::Fixed(9600))));
        assert!(
            parse_baud("9601")
                .unwrap_err()
                .contains("not a Shtrih-M speed")
        );
        assert!(parse_baud("fast").unwrap_err().contains("neither"));
    }

    #[test]
    fn json_flag_may_follow_the_action() {
        let cli = Cli::try_parse_from(["device", "--port", "/tmp/kkt", "status", "--json"])
            .expect("parses");
        assert!(cli.args.json);
        assert_eq!(cli.args.baud, BaudArg(Baud::Auto));
        assert!(matches!(cli.args.action, Action::Status));
        let cli = Cli::try_parse_from([
            "device", "--port", "/tmp/kkt", "--baud", "115200", "fd", "42",
        ])
        .expect("parses");
        assert!(matches!(
            cli.args.action,
            Action::Fd {
                number: 42,
                tlv: false
            }
        ));
        assert_eq!(cli.args.password, 30);
    }

    fn args(port: &str, extra: &[&str]) -> Args {
        let mut argv = vec!["device", "--port", port, "--baud", "115200"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("parses").args
    }

    #[test]
    fn status_open_shift_and_fd_against_the_emulator() {
        use sim_shtrih::{Emulator, EmulatorConfig};
        let dir = tempfile::tempdir().expect("tempdir");
        let emu =
            Emulator::spawn(EmulatorConfig::new(dir.path().join("kkt")).baud(0)).expect("emulator");
        let port = emu.link_path().to_string_lossy().into_owned();

        let mut out = Vec::new();
        run_to(args(&port, &["status", "--json"]), &mut out).expect("status");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["fn"]["serial"], emu.fn_serial());
        assert_eq!(v["fn"]["last_fd_number"], emu.last_fd());
        assert_eq!(v["shift"]["state"], "closed");
        assert_eq!(v["status"]["paper_present"], true);
        assert_eq!(v["baud"], 115_200);
        // Not read from this device: absent, not an empty list.
        assert!(v["device"].get("tax_systems").is_none(), "{v}");

        let mut out = Vec::new();
        run_to(
            args(&port, &["open-shift", "--cashier", "Петров"]),
            &mut out,
        )
        .expect("open");
        let text = String::from_utf8(out).expect("utf-8");
        let fd = emu.last_fd();
        assert!(text.contains(&format!("ФД {fd},")), "{text}");
        assert!(emu.shift().open);

        let mut out = Vec::new();
        run_to(args(&port, &["fd", &fd.to_string(), "--json"]), &mut out).expect("fd");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["kind"], "shift_open");
        assert_eq!(v["doc"]["number"], fd);
        let sign = emu.document(fd).expect("archived").fiscal_sign;
        assert_eq!(v["doc"]["fiscal_sign"], sign);

        let mut out = Vec::new();
        run_to(args(&port, &["status"]), &mut out).expect("human status");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("Смена:          открыта"), "{text}");

        let mut out = Vec::new();
        run_to(
            args(&port, &["fd", &fd.to_string(), "--tlv", "--json"]),
            &mut out,
        )
        .expect("tlv");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let tags: Vec<u64> = v["tlv"]
            .as_array()
            .expect("tlv array")
            .iter()
            .filter_map(|t| t["tag"].as_u64())
            .collect();
        assert!(tags.contains(&1040), "{tags:?}");
        let serial = v["tlv"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == 1041)
            .map(|t| t["text"].clone());
        assert_eq!(serial, Some(serde_json::Value::from(emu.fn_serial())));
        let number = v["tlv"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == 1040)
            .map(|t| t["decoded"].clone());
        assert_eq!(
            number,
            Some(serde_json::Value::from(format!("номер ФД: {fd}")))
        );

        let err = run_to(args(&port, &["fd", "999"]), &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("ФД 999 нет в архиве ФН: номера документов 1…{fd}")),
            "{err}"
        );

        let err = run_to(args(&port, &["open-shift"]), &mut Vec::new()).unwrap_err();
        let number = emu.shift().number;
        assert_eq!(err.to_string(), format!("смена № {number} уже открыта"));
        run_to(args(&port, &["close-shift"]), &mut Vec::new()).expect("close");
        assert!(!emu.shift().open);
        let err = run_to(args(&port, &["close-shift"]), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("смена уже закрыта"), "{err}");
    }

    #[test]
    fn a_port_the_daemon_holds_is_named_as_busy_with_how_to_stop_it() {
        use sim_shtrih::{Emulator, EmulatorConfig};
        let dir = tempfile::tempdir().expect("tempdir");
        let emu =
            Emulator::spawn(EmulatorConfig::new(dir.path().join("kkt")).baud(0)).expect("emulator");
        let port = emu.link_path().to_string_lossy().into_owned();
        // What the daemon's open port looks like to another process.
        let held = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&port)
            .expect("open");
        held.try_lock().expect("lock");
        let err = run_to(args(&port, &["status"]), &mut Vec::new()).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.starts_with(&format!("порт {port} занят")), "{text}");
        assert!(text.contains("sudo systemctl stop masterkassa"), "{text}");
        assert!(text.contains("masterkassa shift close"), "{text}");
        assert!(!text.contains("Unable to acquire"), "{text}");
    }

    #[test]
    fn atol_status_shift_and_fd_through_the_web_server() {
        use sim_atol::{AtolServer, ServerOptions};
        let mut opts = ServerOptions::loopback();
        opts.credentials = Some(("kassir".into(), "s3cret".into()));
        let server = AtolServer::start(opts).expect("stand-in");
        let dir = tempfile::tempdir().expect("tempdir");
        let password = dir.path().join("atol.password");
        std::fs::write(&password, "s3cret\n").expect("password file");
        let url = server.url();
        let args = |extra: &[&str]| {
            let mut argv = vec![
                "device", "--driver", "atol", "--url", &url, "--user", "kassir",
            ];
            argv.extend_from_slice(&["--password-file", password.to_str().expect("utf-8")]);
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv).expect("parses").args
        };

        let mut out = Vec::new();
        run_to(args(&["status", "--json"]), &mut out).expect("status");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let fn_serial = server.with_device(|d| d.fn_storage.serial.clone());
        assert_eq!(v["fn"]["serial"], fn_serial.as_str(), "{v}");
        assert_eq!(v["url"], url.as_str());
        assert!(v.get("port").is_none() && v.get("baud").is_none(), "{v}");
        assert_eq!(v["shift"]["state"], "closed");

        let mut out = Vec::new();
        run_to(args(&["open-shift"]), &mut out).expect("open");
        let fd = server.with_device(|d| d.fn_storage.last_fd());
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains(&format!("ФД {fd},")), "{text}");
        assert!(server.with_device(|d| d.fn_storage.shift.open));

        let mut out = Vec::new();
        run_to(args(&["fd", &fd.to_string(), "--json"]), &mut out).expect("fd");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["kind"], "shift_open", "{v}");
        let sign = server.with_device(|d| d.fn_storage.find(fd).map(|d| d.fiscal_sign));
        assert_eq!(v["doc"]["fiscal_sign"], sign.expect("archived"));

        let mut out = Vec::new();
        run_to(args(&["status"]), &mut out).expect("human status");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains(&format!("(веб-сервер {url})")), "{text}");
        assert!(!text.contains("АТОЛ АТОЛ"), "{text}");

        let err = run_to(args(&["fd", "1", "--tlv"]), &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().starts_with("--tlv только для Штрих-М"),
            "{err}"
        );

        // A wrong password is the Web-server's refusal, never the password.
        std::fs::write(&password, "wrong").expect("password file");
        let err = run_to(args(&["status"]), &mut Vec::new()).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            !text.contains("wrong") && !text.contains("s3cret"),
            "{text}"
        );
    }

    #[test]
    fn atol_needs_a_url_and_shtrih_a_port() {
        assert!(Cli::try_parse_from(["device", "--driver", "atol", "status"]).is_err());
        assert!(Cli::try_parse_from(["device", "status"]).is_err());
        let cli = Cli::try_parse_from([
            "device",
            "--driver",
            "atol",
            "--url",
            "http://h:1",
            "status",
        ])
        .expect("parses");
        assert_eq!(cli.args.driver, DriverKind::Atol);
        // A password is only read from a file.
        assert!(
            Cli::try_parse_from([
                "device",
                "--driver",
                "atol",
                "--url",
                "http://h:1",
                "--user",
                "u",
                "status"
            ])
            .is_err()
        );
    }
}
