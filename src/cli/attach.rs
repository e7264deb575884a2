//! `masterkassa attach`: connects this installation to a MoySklad retail
//! store. Logs in with the account's login (password from
//! `MASTERKASSA_PASSWORD` or a prompt, never argv), lists the stores, lets
//! the user pick one, attaches (token + cashier uid), reads the store's
//! settings (organisation, tax system, fiscal type) and writes the config:
//! a `[[kassa]]` entry in the TOML file and the token in its own file, both
//! `root:masterkassa` 0640 so the `User=masterkassa` service can read them
//! (0600 and the exact command to run when that group does not exist yet).
//!
//! Without a terminal (a script, `ssh host cmd`) nothing is asked: the
//! password comes from `MASTERKASSA_PASSWORD`, the store from `--store`,
//! the takeover of an attached store from `--yes`; each missing one is a
//! Russian error naming the flag.
//!
//! The config editing ([`upsert_kassa`]) and store choice ([`find_store`])
//! are pure and unit-tested; the rest is I/O.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cloud::models::{FiscalType, RetailStore};
use crate::cloud::{
    AdminApi, AdminClient, ClientConfig, DEFAULT_BASE_URL, Limits, PosApi, PosClient, RateLimiter,
    Secret,
};

/// Where the password may come from instead of the prompt.
pub const PASSWORD_ENV: &str = "MASTERKASSA_PASSWORD";

/// Arguments of `masterkassa attach`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// MoySklad login of the account owner (e.g. admin@myshop).
    #[arg(long)]
    pub login: String,
    /// POS API root.
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    pub api_url: String,
    /// Config file to create or update.
    #[arg(long, default_value = crate::config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Retail store to attach, by name or id (asked when omitted).
    #[arg(long)]
    pub store: Option<String>,
    /// Name of this kassa in the config: up to 32 latin letters, digits,
    /// '-' or '_' (default: the store's name, transliterated).
    #[arg(long, value_parser = parse_kassa_name)]
    pub name: Option<String>,
    /// Token file (default: `<store id>.token` next to the config).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Printer's serial port, for a new `[kassa.device]`.
    #[arg(long, default_value = "/dev/ttyUSB0")]
    pub port: String,
    /// Take over a store that already has a device attached without
    /// asking (attaching cuts the other device off).
    #[arg(long)]
    pub yes: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let password = read_password(&args.login)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("не удалось запустить асинхронную среду")?;
    runtime.block_on(attach(args, password))
}

fn read_password(login: &str) -> anyhow::Result<Secret> {
    if let Ok(p) = std::env::var(PASSWORD_ENV)
        && !p.is_empty()
    {
        return Ok(Secret::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "нет терминала, чтобы спросить пароль: передайте его в переменной окружения \
             {PASSWORD_ENV} (например, {PASSWORD_ENV}=… masterkassa attach --login {login} \
             --store НАЗВАНИЕ --yes)"
        );
    }
    let p = rpassword::prompt_password(format!("Пароль МойСклад для {login}: "))
        .with_context(|| format!("пароль не прочитан; задайте его в {PASSWORD_ENV}"))?;
    if p.is_empty() {
        bail!("пустой пароль");
    }
    Ok(Secret::new(p))
}

async fn attach(args: Args, password: Secret) -> anyhow::Result<()> {
    let client_config = ClientConfig::with_base_url(args.api_url.clone());
    // One account, one limiter: the admin and the kassa calls share it.
    let limiter = RateLimiter::new(Limits::moysklad());
    let admin = AdminClient::new(&client_config, &args.login, password, limiter.clone())?;

    let stores = admin
        .list_stores()
        .await
        .context("не удалось получить список точек продаж (GET /admin/retailstore)")?
        .rows;
    if stores.is_empty() {
        bail!("у учётной записи {} нет точек продаж", args.login);
    }
    let store = match &args.store {
        Some(wanted) => find_store(&stores, wanted)?,
        None => ask_store(&stores)?,
    };
    eprintln!("Точка продаж: {} ({})", store.name, store.id);

    if store.auth_token_attached == Some(true) && !args.yes {
        confirm_takeover(store)?;
    }

    let attached = admin.attach(&store.id).await.with_context(|| {
        format!(
            "не удалось подключиться к точке продаж {} (POST /admin/attach)",
            store.id
        )
    })?;

    let kassa_client = PosClient::new(
        &client_config,
        attached.token.clone(),
        &attached.uid,
        limiter,
    )?;
    let settings = kassa_client
        .settings_retailstore()
        .await
        .context("не удалось прочитать настройки точки продаж (GET /settings/retailstore)")?;
    let org_id = settings
        .organization
        .org_id()
        .map(str::to_owned)
        .context("в настройках точки продаж нет организации (organization)")?;
    warn_fiscal_type(&settings);

    let config_path = absolute(&args.config)?;
    let config_dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let token_path = match &args.token_file {
        Some(p) => absolute(p)?,
        None => config_dir.join(format!("{}.token", file_safe(&store.id))),
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| kassa_name_for(&store.name));

    let existing = match std::fs::read_to_string(&config_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("не читается {}", config_path.display())),
    };
    let entry = KassaEntry {
        name: name.clone(),
        api_url: args.api_url.trim_end_matches('/').to_owned(),
        cashier_uid: attached.uid.clone(),
        org_id: org_id.clone(),
        token_file: token_path.to_string_lossy().into_owned(),
        port: args.port.clone(),
    };
    let new_config = upsert_kassa(existing.as_deref(), &entry)
        .with_context(|| format!("не удалось дополнить {}", config_path.display()))?;

    // The token first: a config must never point at a missing token file.
    let mut token_text = attached.token.expose().to_owned();
    token_text.push('\n');
    let group = service_group();
    write_for_service(&token_path, token_text.as_bytes(), group)
        .with_context(|| format!("не удалось записать файл токена {}", token_path.display()))?;
    write_for_service(&config_path, new_config.as_bytes(), group)
        .with_context(|| format!("не удалось записать {}", config_path.display()))?;

    println!("Касса «{name}» подключена к точке продаж «{}».", store.name);
    println!("  организация (org_id): {org_id}");
    println!("  кассир (cashier_uid): {}", attached.uid);
    if let Some(tax) = &settings.default_tax_system {
        println!("  система налогообложения по умолчанию: {}", tax.as_code());
    }
    println!("  конфигурация: {}", config_path.display());
    match group {
        Some(_) => println!(
            "  токен: {} (владелец root:{SERVICE_GROUP}, права 0640: служба их читает)",
            token_path.display()
        ),
        None => {
            println!("  токен: {} (права 0600)", token_path.display());
            println!(
                "Группы {SERVICE_GROUP} пока нет, и служба (User=masterkassa) эти файлы не прочтёт. \
                 После установки службы выполните:\n  sudo chgrp {SERVICE_GROUP} {0} {1} && sudo chmod 0640 {0} {1}",
                config_path.display(),
                token_path.display()
            );
        }
    }
    if existing.is_none() {
        println!(
            "Проверьте порт принтера в [kassa.device] (сейчас {}) и запустите: masterkassa run --config {}",
            args.port,
            config_path.display()
        );
    }
    Ok(())
}

/// Finds a store by exact id, else by name (case-insensitive); an unknown
/// or ambiguous name is an error listing the stores.
pub fn find_store<'a>(stores: &'a [RetailStore], wanted: &str) -> anyhow::Result<&'a RetailStore> {
    if let Some(s) = stores.iter().find(|s| s.id == wanted) {
        return Ok(s);
    }
    let wanted_lower = wanted.trim().to_lowercase();
    let by_name: Vec<_> = stores
        .iter()
        .filter(|s| s.name.trim().to_lowercase() == wanted_lower)
        .collect();
    match by_name.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "нет точки продаж с названием или id «{wanted}»; у учётной записи есть: {}",
            list_names(stores)
        ),
        _ => bail!(
            "несколько точек продаж называются «{wanted}»; укажите id: {}",
            list_names(stores)
        ),
    }
}

fn list_names(stores: &[RetailStore]) -> String {
    stores
        .iter()
        .map(|s| format!("{:?} ({})", s.name, s.id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ask_store(stores: &[RetailStore]) -> anyhow::Result<&RetailStore> {
    if let [only] = stores {
        return Ok(only);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "точек продаж несколько, а спросить негде (нет терминала): укажите --store НАЗВАНИЕ|ID ({})",
            list_names(stores)
        );
    }
    choose_store(stores, &mut stdin.lock(), &mut std::io::stderr())
}

/// Lists the stores on `out` and reads the user's choice (a number) from
/// `input`, asking again on anything else.
pub fn choose_store<'a>(
    stores: &'a [RetailStore],
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<&'a RetailStore> {
    writeln!(out, "Точки продаж:")?;
    for (i, s) in stores.iter().enumerate() {
        let attached = if s.auth_token_attached == Some(true) {
            " [уже подключена]"
        } else {
            ""
        };
        writeln!(out, "  {}. {} ({}){attached}", i + 1, s.name, s.id)?;
    }
    loop {
        write!(out, "Номер точки продаж: ")?;
        out.flush().ok();
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            bail!("точка продаж не выбрана");
        }
        match line.trim().parse::<usize>() {
            Ok(n) if (1..=stores.len()).contains(&n) => return Ok(&stores[n - 1]),
            _ => writeln!(out, "Введите число от 1 до {}.", stores.len())?,
        }
    }
}

fn confirm_takeover(store: &RetailStore) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "к точке продаж «{}» уже подключено устройство; новое подключение отключит его. \
             Терминала для вопроса нет: чтобы подключить всё равно, добавьте --yes",
            store.name
        );
    }
    eprint!(
        "К точке продаж «{}» уже подключено устройство; новое подключение отключит его. Продолжить? [y/N] ",
        store.name
    );
    std::io::stderr().flush().ok();
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes" | "д" | "Д" | "да") {
        Ok(())
    } else {
        bail!("отменено")
    }
}

fn warn_fiscal_type(settings: &RetailStore) {
    match &settings.fiscal_type {
        Some(FiscalType::Master) => {}
        Some(other) => eprintln!(
            "ВНИМАНИЕ: у точки продаж «{}» тип формирования чеков {}, а не MASTER \
             («Обработка облачных операций»). Облачные чеки на эту кассу приходить не будут: \
             включите этот режим в настройках точки продаж в МойСклад.",
            settings.name,
            other.as_code()
        ),
        None => eprintln!(
            "ВНИМАНИЕ: МойСклад не сообщил тип формирования чеков точки продаж «{}». \
             Убедитесь, что в её настройках выбрано «Обработка облачных операций» (MASTER), \
             иначе облачные чеки на эту кассу приходить не будут.",
            settings.name
        ),
    }
}

/// What `attach` writes for one kassa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KassaEntry {
    pub name: String,
    pub api_url: String,
    pub cashier_uid: String,
    pub org_id: String,
    pub token_file: String,
    /// Serial port for a new `[kassa.device]`.
    pub port: String,
}

/// Adds the kassa to the config text, or updates the `[[kassa]]` with the
/// same name (keeping its other keys, e.g. `[kassa.device]`). A new file
/// gets `[journal]` and `[control]` defaults. Malformed TOML is an error,
/// never overwritten.
pub fn upsert_kassa(existing: Option<&str>, entry: &KassaEntry) -> anyhow::Result<String> {
    use toml::{Table, Value};
    let mut doc: Table = match existing {
        Some(text) => toml::from_str(text)
            .context("существующий файл настроек — не корректный TOML (он не перезаписан)")?,
        None => {
            let mut doc = Table::new();
            let mut journal = Table::new();
            journal.insert(
                "path".into(),
                Value::String(crate::config::DEFAULT_JOURNAL_PATH.into()),
            );
            let mut control = Table::new();
            control.insert(
                "socket".into(),
                Value::String(crate::config::DEFAULT_CONTROL_SOCKET.into()),
            );
            doc.insert("journal".into(), Value::Table(journal));
            doc.insert("control".into(), Value::Table(control));
            doc
        }
    };
    let kassas = doc
        .entry("kassa")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(kassas) = kassas else {
        bail!("`kassa` в существующем файле настроек — не массив таблиц ([[kassa]])");
    };
    let position = kassas
        .iter()
        .position(|k| k.get("name").and_then(Value::as_str) == Some(entry.name.as_str()));
    let table = match position {
        Some(i) => match &mut kassas[i] {
            Value::Table(t) => t,
            _ => bail!("kassa[{i}] в существующем файле настроек — не таблица"),
        },
        None => {
            let mut t = Table::new();
            t.insert("poll_interval_ms".into(), Value::Integer(1000));
            let mut device = Table::new();
            device.insert("driver".into(), Value::String("shtrih".into()));
            device.insert("port".into(), Value::String(entry.port.clone()));
            device.insert("baud".into(), Value::String("auto".into()));
            // Shtrih-M's factory operator password.
            device.insert("password".into(), Value::Integer(30));
            t.insert("device".into(), Value::Table(device));
            kassas.push(Value::Table(t));
            match kassas.last_mut() {
                Some(Value::Table(t)) => t,
                _ => bail!("internal: the new kassa entry vanished"),
            }
        }
    };
    for (key, value) in [
        ("name", &entry.name),
        ("api_url", &entry.api_url),
        ("cashier_uid", &entry.cashier_uid),
        ("org_id", &entry.org_id),
        ("token_file", &entry.token_file),
    ] {
        table.insert(key.into(), Value::String(value.clone()));
    }
    // A token pasted into the config earlier must not stay next to the
    // token file.
    table.remove("token");
    toml::to_string(&doc).context("не удалось записать настройки в TOML")
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("current directory")?
            .join(path))
    }
}

/// Longest kassa name the config accepts.
const KASSA_NAME_MAX: usize = 32;

/// Whether the config accepts `name` as a kassa name (the same rule as
/// `config::parse`): checked before attaching, because attaching annuls the
/// store's previous token and a config that does not load is useless.
fn is_valid_kassa_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= KASSA_NAME_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_kassa_name(s: &str) -> Result<String, String> {
    if is_valid_kassa_name(s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}`: use up to {KASSA_NAME_MAX} latin letters, digits, '-' or '_'"
        ))
    }
}

/// A config-valid kassa name made from a store's (usually Cyrillic) name:
/// transliterated to lower-case latin, anything else as `_`, at most 32
/// characters; `kassa` when nothing usable is left.
pub fn kassa_name_for(store_name: &str) -> String {
    let mut out = String::new();
    for c in store_name.trim().chars().flat_map(char::to_lowercase) {
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'э' => "e",
            'ё' => "yo",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_ascii_alphanumeric() || c == '-' => {
                out.push(c);
                continue;
            }
            _ => "_",
        };
        // One `_` for a run of spaces and punctuation.
        if latin == "_" && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push_str(latin);
    }
    let mut name: String = out
        .trim_end_matches('_')
        .chars()
        .take(KASSA_NAME_MAX)
        .collect();
    while name.ends_with('_') {
        name.pop();
    }
    if name.is_empty() {
        "kassa".to_owned()
    } else {
        name
    }
}

/// A file name made of the id's safe characters only.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The group the service runs as (`Group=` of the unit).
pub const SERVICE_GROUP: &str = "masterkassa";

/// The gid of [`SERVICE_GROUP`], if the group exists here.
fn service_group() -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let gid = f.nth(1)?.parse().ok()?;
        (name == SERVICE_GROUP).then_some(gid)
    })
}

/// Writes a file atomically (a temporary file in the same directory,
/// fsync, rename, fsync of the directory) readable by the service: mode
/// 0640 and group `gid` when given, else 0600 (owner only). A group that
/// cannot be set (not root) leaves it 0600 rather than readable by the
/// caller's own group.
pub fn write_for_service(path: &Path, contents: &[u8], gid: Option<u32>) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("не создаётся {}", dir.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("не создаётся {}", tmp.display()))?;
    // `mode` only applies when the file is created; a leftover temporary
    // file keeps its mode, so set it explicitly.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    if let Some(gid) = gid
        && std::os::unix::fs::fchown(&file, None, Some(gid)).is_ok()
    {
        file.set_permissions(std::fs::Permissions::from_mode(0o640))?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("не переименовать {} в {}", tmp.display(), path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        d.sync_all().ok();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::models::{RetailStoreList, parse_json};

    fn entry(name: &str) -> KassaEntry {
        KassaEntry {
            name: name.into(),
            api_url: "http://127.0.0.1:1/api/posap/1.0".into(),
            cashier_uid: "kassir@321".into(),
            org_id: "org-1".into(),
            token_file: "/etc/masterkassa/s1.token".into(),
            port: "/dev/ttyACM0".into(),
        }
    }

    #[test]
    fn new_config_has_journal_control_and_the_kassa() {
        let text = upsert_kassa(None, &entry("Магазин")).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            doc["journal"]["path"].as_str(),
            Some("/var/lib/masterkassa/journal.db")
        );
        assert!(doc["control"]["socket"].as_str().is_some());
        let k = &doc["kassa"].as_array().unwrap()[0];
        assert_eq!(k["name"].as_str(), Some("Магазин"));
        assert_eq!(k["cashier_uid"].as_str(), Some("kassir@321"));
        assert_eq!(k["org_id"].as_str(), Some("org-1"));
        assert_eq!(k["token_file"].as_str(), Some("/etc/masterkassa/s1.token"));
        assert_eq!(k["device"]["port"].as_str(), Some("/dev/ttyACM0"));
        assert_eq!(k["device"]["driver"].as_str(), Some("shtrih"));
        assert!(!text.contains("6ab89be1"));
    }

    #[test]
    fn existing_kassa_is_updated_others_kept() {
        let existing = r#"
[journal]
path = "/srv/j.sqlite"

[[kassa]]
name = "A"
api_url = "old"
cashier_uid = "old"
org_id = "old"
token_file = "/old"
token = "pasted-secret"
poll_interval_ms = 250

[kassa.device]
driver = "shtrih"
port = "/dev/ttyS3"
baud = 115200
password = 30

[[kassa]]
name = "B"
api_url = "b"
"#;
        let text = upsert_kassa(Some(existing), &entry("A")).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(doc["journal"]["path"].as_str(), Some("/srv/j.sqlite"));
        let kassas = doc["kassa"].as_array().unwrap();
        assert_eq!(kassas.len(), 2);
        assert_eq!(kassas[0]["cashier_uid"].as_str(), Some("kassir@321"));
        assert_eq!(kassas[0]["poll_interval_ms"].as_integer(), Some(250));
        assert_eq!(kassas[0]["device"]["port"].as_str(), Some("/dev/ttyS3"));
        assert_eq!(kassas[0]["device"]["baud"].as_integer(), Some(115200));
        assert!(kassas[0].get("token").is_none());
        assert_eq!(kassas[1]["api_url"].as_str(), Some("b"));

        let text = upsert_kassa(Some(&text), &entry("C")).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(doc["kassa"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn malformed_config_is_not_overwritten() {
        let err = upsert_kassa(Some("[[kassa]\nname = "), &entry("A")).unwrap_err();
        assert!(format!("{err:#}").contains("не корректный TOML"), "{err:#}");
        let err = upsert_kassa(Some("kassa = 5"), &entry("A")).unwrap_err();
        assert!(err.to_string().contains("массив таблиц"), "{err}");
    }

    #[test]
    fn kassa_name_from_store_name_is_valid_for_the_config() {
        assert_eq!(kassa_name_for("Точка продаж"), "tochka_prodazh");
        assert_eq!(kassa_name_for("Магазин №2 (центр)"), "magazin_2_tsentr");
        assert_eq!(kassa_name_for("Shop-1"), "shop-1");
        assert_eq!(kassa_name_for("«»"), "kassa");
        let long = kassa_name_for("Очень длинное название розничной точки продаж");
        assert!(long.len() <= KASSA_NAME_MAX, "{long}");
        for name in ["Точка продаж", "Щука & Ёж", "", "  ", "a b c", "№№№ 1"]
        {
            assert!(is_valid_kassa_name(&kassa_name_for(name)), "{name}");
        }
        assert!(parse_kassa_name("Точка продаж").is_err());
        assert!(parse_kassa_name("shop1").is_ok());
    }

    #[test]
    fn store_found_by_id_or_name() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/moysklad/admin_retailstore.json"
        ))
        .unwrap();
        let list: RetailStoreList = parse_json("admin/retailstore", &body).unwrap();
        let id = "5d4d2ca2-7b1d-11e6-8a84-bae500000060";
        assert_eq!(find_store(&list.rows, id).unwrap().id, id);
        assert_eq!(find_store(&list.rows, "точка ПРОДАЖ").unwrap().id, id);
        let err = find_store(&list.rows, "Склад").unwrap_err();
        assert!(err.to_string().contains("Точка продаж"), "{err}");
    }

    #[test]
    fn store_chosen_by_number_after_a_bad_answer() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/moysklad/admin_retailstore.json"
        ))
        .unwrap();
        let mut list: RetailStoreList = parse_json("admin/retailstore", &body).unwrap();
        let mut second = list.rows[0].clone();
        second.id = "s2".into();
        second.name = "Второй магазин".into();
        second.auth_token_attached = Some(false);
        list.rows.push(second);
        let mut out = Vec::new();
        let chosen = choose_store(&list.rows, &mut &b"7\nabc\n2\n"[..], &mut out).unwrap();
        assert_eq!(chosen.id, "s2");
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.contains(
                "1. Точка продаж (5d4d2ca2-7b1d-11e6-8a84-bae500000060) [уже подключена]"
            )
        );
        assert!(shown.contains("2. Второй магазин (s2)\n"));
        assert_eq!(shown.matches("Введите число от 1 до 2.").count(), 2);
        assert!(choose_store(&list.rows, &mut &b""[..], &mut Vec::new()).is_err());
    }

    #[test]
    fn files_for_the_service_group_are_0640_in_that_group() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.token");
        // A group this test may always set: its own.
        // SAFETY: getegid has no preconditions.
        let gid = unsafe { libc::getegid() };
        write_for_service(&path, b"tok\n", Some(gid)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert_eq!(meta.gid(), gid);
    }

    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        write_for_service(&path, b"a = 1\n", None).unwrap();
        write_for_service(&path, b"a = 2\n", None).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
