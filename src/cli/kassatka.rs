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
use crate::kassatka::assortment;
use crate::kassatka::catalogue::{self, LocatedRow};
use crate::kassatka::client::plain_http_warning;
use crate::kassatka::settings::{self, KassatkaSection, Settings};
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
    /// Configuration file with a [kassatka] table (api_url, token or
    /// token_file), or the agent's config: its first kassa with
    /// source = "kassatka" then gives URL and token.
    #[arg(long, global = true, env = "MASTERKASSA_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
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
    /// With `--from moysklad`: the `[[kassa]]` of the configuration whose
    /// MoySklad token to use (needed when there are several).
    #[arg(long, value_name = "NAME")]
    kassa: Option<String>,
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

fn load_settings(args: &Args) -> anyhow::Result<Settings> {
    let section = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read configuration {}", path.display()))?;
            let section = settings::section_from_toml(path, &text)?;
            if section == KassatkaSection::default() {
                section_from_kassa(path)?.unwrap_or(section)
            } else {
                section
            }
        }
        None => KassatkaSection::default(),
    };
    let env = |name: &str| std::env::var(name).ok();
    Ok(settings::resolve(
        args.api_url.as_deref(),
        env(settings::URL_ENV).as_deref(),
        env(settings::TOKEN_ENV).as_deref(),
        &section,
        |path| std::fs::read_to_string(path),
    )?)
}

/// The agent's own config (`masterkassa run --config`) has no `[kassatka]`
/// table (its checker refuses one) but may have a `[[kassa]]` with
/// `source = "kassatka"`: its `[kassa.kassatka]` URL and token then serve
/// here too, so one file is enough. `None` when the file has no such kassa.
fn section_from_kassa(path: &Path) -> anyhow::Result<Option<KassatkaSection>> {
    let Ok(config) = crate::config::Config::load(path) else {
        return Ok(None);
    };
    let Some(kassatka) = config.kassas.iter().find_map(|k| match &k.cloud {
        crate::config::CloudConfig::Kassatka(kassatka) => Some(kassatka),
        crate::config::CloudConfig::Moysklad(_) => None,
    }) else {
        return Ok(None);
    };
    // KASSATKA_TOKEN wins anyway; do not demand a readable token file then.
    let token = if std::env::var_os(settings::TOKEN_ENV).is_some() {
        None
    } else {
        // The error names the source already (and its cause, once).
        let secret = kassatka
            .token
            .load()
            .map_err(|e| anyhow::anyhow!("{}: the Kassatka kassa's token: {e}", path.display()))?;
        Some(secret.expose().clone())
    };
    Ok(Some(KassatkaSection {
        api_url: Some(kassatka.api_url.clone()),
        token,
        token_file: None,
    }))
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
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read catalogue {}", path.display()))?;
    let rows: Vec<LocatedRow> = match format {
        CatalogueFormat::Csv => catalogue::read_csv(&text),
        CatalogueFormat::Json => catalogue::read_json(&text),
    }
    .with_context(|| format!("catalogue {}", path.display()))?;
    catalogue::to_nomenclature(&rows, nomenclature_date(args))
        .with_context(|| format!("catalogue {}", path.display()))
}

fn nomenclature_date(args: &PushArgs) -> Date {
    args.date
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date())
}

/// The MoySklad assortment (every page) as the nomenclature.
fn moysklad_catalogue(args: &Args, push: &PushArgs) -> anyhow::Result<ProductsGroups> {
    let entries = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read configuration {}", path.display()))?;
            settings::kassas_from_toml(path, &text)?
        }
        None => Vec::new(),
    };
    let access = settings::moysklad_access(
        &entries,
        push.kassa.as_deref(),
        std::env::var(settings::MOYSKLAD_TOKEN_ENV).ok().as_deref(),
        cloud::DEFAULT_BASE_URL,
        |path| std::fs::read_to_string(path),
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
    fn agent_config_with_a_kassatka_kassa_gives_url_and_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = dir.path().join("cafe.token");
        std::fs::write(&token, "tok-123\n").expect("token");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                "[[kassa]]\nname = \"cafe\"\nsource = \"kassatka\"\n\
                 [kassa.kassatka]\napi_url = \"http://127.0.0.1:8095/1c-api/v1\"\n\
                 token_file = {:?}\ncash_box_code = \"189\"\n\
                 [kassa.device]\nport = \"/tmp/kkt\"\n",
                token.display().to_string()
            ),
        )
        .expect("config");
        let section = section_from_kassa(&path)
            .expect("loads")
            .expect("has a Kassatka kassa");
        assert_eq!(
            section.api_url.as_deref(),
            Some("http://127.0.0.1:8095/1c-api/v1")
        );
        if std::env::var_os(settings::TOKEN_ENV).is_none() {
            assert_eq!(section.token.as_deref(), Some("tok-123"));
        }

        std::fs::write(
            &path,
            "[[kassa]]\nname = \"shop\"\ncashier_uid = \"c@x\"\ntoken_env = \"T\"\n\
             [kassa.device]\nport = \"/tmp/kkt\"\n",
        )
        .expect("config");
        assert!(section_from_kassa(&path).expect("loads").is_none());
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
