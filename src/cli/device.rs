//! `masterkassa device`: talk to a fiscal printer directly, for the engineer
//! standing at it. Opens the port (detecting the speed unless told), runs one
//! action through the `kkt::Kkt` trait, and prints the result — readable
//! Russian by default, a stable JSON object with `--json` for scripts.

use anyhow::Context;
use kkt::{
    ArchivedDocument, DeviceInfo, DeviceStatus, DocumentKind, FnInfo, Kkt, Operation, ShiftClosed,
    ShiftOpened, ShiftState,
};
use serde::Serialize;
use shtrih::driver::{Baud, DriverConfig, ShtrihDriver};

/// Arguments of this subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serial port or PTY of the printer, e.g. /dev/ttyACM0 or /tmp/kkt.
    #[arg(long)]
    pub port: String,
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
    Shtrih,
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
    },
}

/// `status --json` output.
#[derive(Debug, Serialize)]
struct StatusReport {
    port: String,
    baud: u32,
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
    let DriverKind::Shtrih = args.driver;
    let cfg = DriverConfig {
        password: args.password,
        ..DriverConfig::default()
    };
    let mut kkt = ShtrihDriver::open(&args.port, args.baud.0, cfg)
        .with_context(|| format!("cannot reach the printer on {}", args.port))?;
    let json = args.json;
    match args.action {
        Action::Status => {
            let report = StatusReport {
                port: args.port.clone(),
                baud: kkt.baud(),
                device: kkt.device_info().map_err(kkt_err)?,
                status: kkt.status().map_err(kkt_err)?,
                fn_info: kkt.fn_info().map_err(kkt_err)?,
                shift: kkt.shift_state().map_err(kkt_err)?,
            };
            emit(json, &report, print_status)
        }
        Action::OpenShift { cashier } => {
            let r = kkt.open_shift(&cashier).map_err(kkt_err)?;
            emit(json, &r, print_opened)
        }
        Action::CloseShift { cashier } => {
            let r = kkt.close_shift(&cashier).map_err(kkt_err)?;
            emit(json, &r, print_closed)
        }
        Action::XReport => {
            kkt.x_report().map_err(kkt_err)?;
            emit(
                json,
                &Done {
                    ok: true,
                    action: "x_report",
                },
                |_| println!("X-отчёт напечатан."),
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
            kkt.print_lines(&lines).map_err(kkt_err)?;
            emit(
                json,
                &Done {
                    ok: true,
                    action: "print_test",
                },
                |_| println!("Тестовая страница напечатана."),
            )
        }
        Action::Fd { number } => {
            let d = kkt.read_document(number).map_err(kkt_err)?;
            emit(json, &d, print_document)
        }
    }
}

/// Device errors keep their Russian text and class for the engineer.
fn kkt_err(e: kkt::KktError) -> anyhow::Error {
    anyhow::anyhow!(
        "{} [{}; {}] ({e})",
        e.message_ru(),
        e.class().name_ru(),
        if e.is_recoverable() {
            "устранимо"
        } else {
            "неустранимо"
        }
    )
}

fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        human(value);
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "да" } else { "нет" }
}

fn print_status(r: &StatusReport) {
    let d = &r.device;
    println!(
        "ККТ:            {} {} (порт {}, {} бод)",
        d.vendor, d.model, r.port, r.baud
    );
    println!("Заводской №:    {}", d.serial);
    println!("Прошивка:       {}", d.firmware);
    println!("ФФД:            {}", d.ffd_version);
    if let Some(inn) = &d.inn {
        println!("ИНН:            {inn}");
    }
    if let Some(c) = d.clock {
        println!("Часы ККТ:       {}", c.strftime("%d.%m.%Y %H:%M:%S"));
    }
    let s = &r.status;
    println!(
        "Бумага:         {}",
        if s.paper_present {
            "есть"
        } else {
            "НЕТ"
        }
    );
    println!(
        "Крышка:         {}",
        if s.cover_open {
            "ОТКРЫТА"
        } else {
            "закрыта"
        }
    );
    println!("Открыт чек:     {}", yes_no(s.receipt_open));
    println!("Ждёт допечатки: {}", yes_no(s.awaiting_continue));
    println!("Режим/подрежим: {}/{}", s.mode, s.submode);
    let f = &r.fn_info;
    println!("ФН:             {}", f.serial);
    if let Some(v) = f.valid_until {
        println!("ФН действует до {}", v.strftime("%d.%m.%Y"));
    }
    println!("Последний ФД:   {}", f.last_fd_number);
    println!("Не отправлено в ОФД: {}", f.ofd_unsent_count);
    if let (Some(n), Some(t)) = (f.ofd_first_unsent_number, f.ofd_first_unsent_at) {
        println!(
            "  первый неотправленный: ФД {n} от {}",
            t.strftime("%d.%m.%Y %H:%M")
        );
    }
    if f.warnings.any() {
        println!("ПРЕДУПРЕЖДЕНИЯ ФН: {:?}", f.warnings);
    }
    match r.shift {
        ShiftState::Closed { last_number } => {
            println!("Смена:          закрыта (последняя № {last_number})")
        }
        ShiftState::Open {
            number, receipts, ..
        } => println!("Смена:          открыта, № {number}, чеков {receipts}"),
        ShiftState::Expired {
            number, receipts, ..
        } => println!("Смена:          № {number} ПРЕВЫСИЛА 24 ЧАСА, чеков {receipts}"),
    }
}

fn print_opened(r: &ShiftOpened) {
    println!("Смена № {} открыта.", r.shift_number);
    println!(
        "ФД {}, ФП {}, {}",
        r.doc.number,
        r.doc.fiscal_sign,
        r.doc.time.strftime("%d.%m.%Y %H:%M")
    );
}

fn print_closed(r: &ShiftClosed) {
    println!("Смена № {} закрыта.", r.shift_number);
    println!(
        "ФД {}, ФП {}, {}",
        r.doc.number,
        r.doc.fiscal_sign,
        r.doc.time.strftime("%d.%m.%Y %H:%M")
    );
    println!(
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

fn print_document(d: &ArchivedDocument) {
    println!("ФД {}: {}", d.doc.number, kind_ru(d.kind));
    println!("ФП:    {}", d.doc.fiscal_sign);
    println!("Время: {}", d.doc.time.strftime("%d.%m.%Y %H:%M"));
    if let Some(op) = d.operation {
        println!("Признак расчёта: {}", operation_ru(op));
    }
    if let Some(t) = d.total {
        println!("Сумма: {t}");
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
        assert!(matches!(cli.args.action, Action::Fd { number: 42 }));
        assert_eq!(cli.args.password, 30);
    }
}
