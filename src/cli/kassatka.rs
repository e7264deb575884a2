//! `masterkassa kassatka`: talk to the Kassatka 1C API by hand.
//! - `receipts --from … --to … [--format json|csv]` downloads the receipts of
//!   a period and prints them (money in integer kopecks);
//! - `push-nomenclature --from FILE|moysklad` sends the product catalogue
//!   (a CSV or JSON file, or the MoySklad assortment) and waits for
//!   Kassatka to import it.
//!
//! The token comes from `KASSATKA_TOKEN` or the configuration file, never
//! from the command line (argv is visible to every user of the machine).

use crate::cloud;
use crate::config::Config;
use crate::kassatka::assortment;
use crate::kassatka::catalogue::{self, LocatedRow};
use crate::kassatka::client::plain_http_warning;
use crate::kassatka::settings::{self, Settings};
use crate::kassatka::{
    ClientConfig, KassatkaClient, KassatkaReceipt, ProductsGroups, TerminalProgress, WaitPolicy,
    export,
};
use anyhow::{Context, bail};
use jiff::civil::{Date, DateTime};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `masterkassa kassatka`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Kassatka API base URL [default: KASSATKA_API_URL, the config's
    /// [kassatka] api_url, or http://api.kassatka.link/1c-api/v1].
    #[arg(long, global = true, value_name = "URL")]
    api_url: Option<String>,
    /// Configuration file; the Kassatka URL and token are taken from its
    /// kassa with `source = "kassatka"`.
    #[arg(
        long,
        global = true,
        env = "MASTERKASSA_CONFIG",
        hide_env_values = true,
        value_name = "PATH"
    )]
    config: Option<PathBuf>,
    /// The kassatka kassa of the configuration to use (when there are several).
    #[arg(long, global = true, value_name = "NAME")]
    kassa: Option<String>,
    /// Give up waiting for Kassatka to finish a process after this many seconds.
    #[arg(long, global = true, default_value_t = 300, value_name = "SECONDS")]
    timeout: u64,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Download the receipts of a period and print them.
    Receipts(ReceiptsArgs),
    /// Send the product catalogue to Kassatka and wait for the import.
    PushNomenclature(PushArgs),
}

#[derive(Debug, clap::Args)]
struct ReceiptsArgs {
    /// Start of the period: `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (00:00:00).
    #[arg(long, value_name = "DATETIME")]
    from: String,
    /// End of the period: `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (23:59:59).
    #[arg(long, value_name = "DATETIME")]
    to: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
struct PushArgs {
    /// Catalogue file (`.csv` or `.json`; see docs/kassatka.md for columns),
    /// or `moysklad` for the MoySklad assortment.
    #[arg(long, value_name = "FILE|moysklad")]
    from: String,
    /// With `--from moysklad`: the moysklad kassa of the configuration whose
    /// token to use (when there are several).
    #[arg(long, value_name = "NAME")]
    moysklad_kassa: Option<String>,
    /// File format; by default from the file name's extension.
    #[arg(long, value_enum)]
    format: Option<CatalogueFormat>,
    /// Date written into the nomenclature [default: today].
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<Date>,
    /// Print the XML that would be sent and send nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CatalogueFormat {
    Csv,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let policy = WaitPolicy {
        timeout: Duration::from_secs(args.timeout),
        ..WaitPolicy::default()
    };
    match &args.command {
        Command::Receipts(r) => {
            let (from, to) = period(&r.from, &r.to)?;
            let settings = load_settings(&args)?;
            let client = connect(&settings)?;
            let receipts = runtime()?.block_on(async {
                client
                    .fetch_receipts(from, to, &policy, &mut TerminalProgress::stderr())
                    .await
            })?;
            let text = match r.format {
                Format::Json => export::to_json(&receipts),
                Format::Csv => export::to_csv(&receipts),
            };
            write_output(r.output.as_deref(), &text)?;
            eprintln!("{}", receipts_summary(&receipts));
            Ok(())
        }
        Command::PushNomenclature(p) => {
            let nomenclature = if p.from == "moysklad" {
                moysklad_catalogue(&args, p)?
            } else {
                read_catalogue(p)?
            };
            if p.dry_run {
                print!("{}", nomenclature.to_xml());
                eprintln!(
                    "{} (dry run, nothing sent)",
                    nomenclature_summary(&nomenclature)
                );
                return Ok(());
            }
            let settings = load_settings(&args)?;
            let client = connect(&settings)?;
            let key = runtime()?.block_on(async {
                client
                    .push_nomenclature_and_wait(
                        &nomenclature,
                        &policy,
                        &mut TerminalProgress::stderr(),
                    )
                    .await
            })?;
            println!(
                "{}; Kassatka imported it (process {key})",
                nomenclature_summary(&nomenclature)
            );
            Ok(())
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn load_config(args: &Args) -> anyhow::Result<Option<Config>> {
    args.config
        .as_ref()
        .map(|path| Config::load(path).map_err(anyhow::Error::from))
        .transpose()
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn load_settings(args: &Args) -> anyhow::Result<Settings> {
    let config = load_config(args)?;
    Ok(settings::kassatka_settings(
        config.as_ref(),
        args.kassa.as_deref(),
        args.api_url.as_deref(),
        &env_lookup,
    )?)
}

fn connect(settings: &Settings) -> anyhow::Result<KassatkaClient> {
    let client = KassatkaClient::new(ClientConfig::new(
        settings.api_url.clone(),
        settings.token.clone(),
    ))?;
    if let Some(warning) = plain_http_warning(client.base_url()) {
        eprintln!("warning: {warning}");
    }
    Ok(client)
}

/// Reads `--from`/`--to`; a bare date means the start (from) or the last
/// second (to) of that day.
fn period(from: &str, to: &str) -> anyhow::Result<(DateTime, DateTime)> {
    let from = parse_bound(from, false).with_context(|| format!("--from {from:?}"))?;
    let to = parse_bound(to, true).with_context(|| format!("--to {to:?}"))?;
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    Ok((from, to))
}

fn parse_bound(text: &str, end_of_day: bool) -> anyhow::Result<DateTime> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = DateTime::strptime(format, text) {
            return Ok(dt);
        }
    }
    if let Ok(date) = Date::strptime("%Y-%m-%d", text) {
        return Ok(if end_of_day {
            date.at(23, 59, 59, 0)
        } else {
            date.at(0, 0, 0, 0)
        });
    }
    bail!("expected `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`")
}

fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write to standard output")
        }
    }
}

fn read_catalogue(args: &PushArgs) -> anyhow::Result<ProductsGroups> {
    let path = Path::new(&args.from);
    let format = match args.format {
        Some(format) => format,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => CatalogueFormat::Csv,
            Some(e) if e.eq_ignore_ascii_case("json") => CatalogueFormat::Json,
            _ => bail!(
                "cannot tell the format of {} from its name: pass --format csv|json",
                path.display()
            ),
        },
    };
    let bytes =
        std::fs::read(path).with_context(|| format!("не читается каталог {}", path.display()))?;
    let text = catalogue_text(&bytes).with_context(|| format!("каталог {}", path.display()))?;
    let rows: Vec<LocatedRow> = match format {
        CatalogueFormat::Csv => catalogue::read_csv(&text),
        CatalogueFormat::Json => catalogue::read_json(&text),
    }
    .with_context(|| format!("catalogue {}", path.display()))?;
    catalogue::to_nomenclature(&rows, nomenclature_date(args))
        .with_context(|| format!("catalogue {}", path.display()))
}

/// The catalogue file as text: UTF-8 (with or without a BOM), else
/// Windows-1251, which is what Russian Excel saves "CSV" as.
fn catalogue_text(bytes: &[u8]) -> anyhow::Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    if bytes.contains(&0) {
        bail!("в файле нулевые байты: это не текст (сохраните как CSV или JSON)");
    }
    Ok(shtrih::wire::decode_cp1251(bytes))
}

fn nomenclature_date(args: &PushArgs) -> Date {
    args.date
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date())
}

/// The MoySklad assortment (every page) as the nomenclature.
fn moysklad_catalogue(args: &Args, push: &PushArgs) -> anyhow::Result<ProductsGroups> {
    let config = load_config(args)?;
    let access = settings::moysklad_access(
        config.as_ref(),
        push.moysklad_kassa.as_deref(),
        cloud::DEFAULT_BASE_URL,
        &env_lookup,
    )?;
    let client = cloud::PosClient::new(
        &cloud::ClientConfig::with_base_url(access.api_url.clone()),
        cloud::Secret::new(access.token),
        access.cashier_uid,
        cloud::RateLimiter::new(cloud::Limits::default()),
    )
    .context("MoySklad client")?;
    let items = runtime()?
        .block_on(cloud::fetch_assortment(&client, ASSORTMENT_PAGE_SIZE))
        .with_context(|| format!("reading the assortment from {}", access.api_url))?;
    let rows = assortment::rows_from_assortment(&items);
    eprintln!("MoySklad assortment: {} items", items.len());
    catalogue::to_nomenclature(&rows, nomenclature_date(push)).context("MoySklad assortment")
}

/// Rows per assortment page (MoySklad's maximum is 1000).
const ASSORTMENT_PAGE_SIZE: u32 = 1000;

fn nomenclature_summary(n: &ProductsGroups) -> String {
    format!(
        "nomenclature of {}: {} products ({} with a price), {} groups",
        n.date.strftime("%d.%m.%Y"),
        n.product_count(),
        n.priced_count(),
        n.groups.len()
    )
}

fn receipts_summary(receipts: &[KassatkaReceipt]) -> String {
    let total = receipts.iter().fold(0i128, |acc, r| {
        acc + i128::from(r.head.doc_sum_with_discount.0)
    });
    let sign = if total < 0 { "-" } else { "" };
    let abs = total.unsigned_abs();
    format!(
        "{} receipts, {sign}{}.{:02} paid in total",
        receipts.len(),
        abs / 100,
        abs % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cp1251_catalogue_from_russian_excel_reads_like_utf8() {
        let utf8 = "Наименование;Цена\nМолоко 3,2%;89.90\n";
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(utf8);
        assert!(std::str::from_utf8(&cp1251).is_err());
        assert_eq!(catalogue_text(&cp1251).unwrap(), utf8);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(utf8.as_bytes());
        assert_eq!(catalogue_text(&bom).unwrap(), utf8);
        assert!(catalogue_text(b"\xFF\x00\x01").is_err());
    }

    #[test]
    fn bounds_take_both_notations_and_bare_dates() {
        let (from, to) = period("2018-04-16", "2018-04-16").unwrap();
        assert_eq!(from.to_string(), "2018-04-16T00:00:00");
        assert_eq!(to.to_string(), "2018-04-16T23:59:59");
        let (from, _) = period("2018-04-16 11:08:31", "2018-04-17T00:00:00").unwrap();
        assert_eq!(from.to_string(), "2018-04-16T11:08:31");
        assert!(period("2018-04-17", "2018-04-16").is_err());
        assert!(period("16.04.2018", "2018-04-16").is_err());
    }
}
