//! Config validation as a user meets it: the example file loads, every
//! mistake is reported with its key path, secrets never show, and
//! `masterkassa config check` exits non-zero naming the key.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use masterkassa::config::{Baud, CloudConfig, Config, ConfigError, Driver, SecretSource, Source};

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "test.toml", Path::new("/etc/masterkassa"), no_env)
}

/// The problems as `key: message` lines.
fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(c) => panic!("expected errors, got {c:?}"),
        Err(e) => {
            let list: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
            assert!(!list.is_empty(), "not a key error: {e}");
            list
        }
    }
}

const MINIMAL: &str = r#"
[[kassa]]
name = "shop1"
cashier_uid = "cashier@myorg"
token_env = "TOKEN"
[kassa.device]
port = "/dev/kkt0"
"#;

#[test]
fn the_example_config_is_valid_and_means_what_it_says() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.example.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.kassas.len(), 2);
    let shop = config.kassa("shop1").unwrap();
    assert_eq!(shop.source(), Source::Moysklad);
    assert_eq!(shop.poll_interval, Duration::from_millis(1000));
    assert_eq!(
        shop.daily_close,
        Some(jiff::civil::Time::constant(23, 55, 0, 0))
    );
    assert_eq!(shop.tax_system, Some(kkt::TaxSystem::SimplifiedIncome));
    assert_eq!(shop.device.baud, Baud::Auto);
    assert_eq!(*shop.device.password.expose(), 30);
    match &shop.cloud {
        CloudConfig::Moysklad(m) => {
            assert_eq!(m.cashier_uid, "cashier@myorg");
            assert_eq!(m.token, SecretSource::Credential("shop1.token".into()));
        }
        other => panic!("{other:?}"),
    }
    let cafe = config.kassa("cafe").unwrap();
    assert_eq!(cafe.source(), Source::Kassatka);
    assert_eq!(cafe.device.baud, Baud::Fixed(115_200));
    match &cafe.cloud {
        CloudConfig::Kassatka(k) => {
            assert_eq!(k.cash_box_code, "189");
            assert_eq!(k.api_url, "https://kassatka.example.ru/api");
            assert_eq!(k.lookback_minutes, 15);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn defaults_fill_what_the_minimal_config_leaves_out() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.journal_path, Path::new("/var/lib/masterkassa/journal.db"));
    assert_eq!(c.control_socket, Path::new("/run/masterkassa/control.sock"));
    let k = &c.kassas[0];
    assert_eq!(k.device.driver, Driver::Shtrih);
    assert_eq!(k.device.baud, Baud::Auto);
    assert_eq!(k.poll_interval, Duration::from_millis(1000));
    assert_eq!(k.daily_close, None);
    match &k.cloud {
        CloudConfig::Moysklad(m) => {
            assert_eq!(m.api_url, "https://online.moysklad.ru/api/posap/1.0");
            assert_eq!(m.org_id, None);
            assert_eq!(m.token, SecretSource::Env("TOKEN".into()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn catalogue_keys_default_and_refuse_nonsense_by_name() {
    let c = parse(MINIMAL).unwrap();
    let CloudConfig::Moysklad(m) = &c.kassas[0].cloud else {
        panic!("a moysklad kassa")
    };
    assert_eq!(m.catalogue_refresh, Duration::from_secs(3600));
    assert_eq!(
        m.unknown_product,
        masterkassa::catalogue::UnknownProduct::Wait
    );
    assert!(m.receipt_template);
    let text = MINIMAL.replace(
        "token_env = \"TOKEN\"",
        "token_env = \"TOKEN\"\ncatalogue_refresh = \"30m\"\nunknown_product = \"generic\"\nreceipt_template = false",
    );
    let c = parse(&text).unwrap();
    let CloudConfig::Moysklad(m) = &c.kassas[0].cloud else {
        panic!("a moysklad kassa")
    };
    assert_eq!(m.catalogue_refresh, Duration::from_secs(1800));
    assert_eq!(
        m.unknown_product,
        masterkassa::catalogue::UnknownProduct::Generic
    );
    assert!(!m.receipt_template);
    let bad = MINIMAL.replace(
        "token_env = \"TOKEN\"",
        "token_env = \"TOKEN\"\ncatalogue_refresh = \"10s\"\nunknown_product = \"guess\"\nreceipt_template = \"yes\"",
    );
    let p = problems(&bad);
    assert!(
        p.iter()
            .any(|l| l.contains("catalogue_refresh") && l.contains("10s")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("unknown_product") && l.contains("guess")),
        "{p:?}"
    );
    assert!(p.iter().any(|l| l.contains("receipt_template")), "{p:?}");
}

#[test]
fn a_bad_baud_is_named_by_its_full_key() {
    let text = format!(
        "{MINIMAL}\n[[kassa]]\nname = \"b\"\ncashier_uid = \"c\"\ntoken_env = \"T\"\n\
         [kassa.device]\nport = \"/dev/kkt1\"\nbaud = \"fast\"\n"
    );
    assert_eq!(
        problems(&text),
        ["kassa[1].device.baud: expected a number or \"auto\""]
    );
    let text = text.replace("\"fast\"", "12345");
    let p = problems(&text);
    assert!(
        p[0].starts_with("kassa[1].device.baud: 12345 is not a supported rate"),
        "{p:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let p = problems(
        r#"
[journal]
path = "relative.db"
[[kassa]]
name = "bad name!"
source = "ms"
poll_interval_ms = "fast"
daily_close = "25:99"
tax_system = "simple"
pol_interval_ms = 5
[kassa.device]
driver = "parallel"
baud = true
password = -1
"#,
    );
    let expect = [
        "journal.path: expected an absolute path",
        "kassa[0].name: use up to 32 latin letters",
        "kassa[0].source: expected \"moysklad\" or \"kassatka\"",
        "kassa[0].poll_interval_ms: expected a number, found string",
        "kassa[0].daily_close: expected a time like \"23:55\"",
        "kassa[0].tax_system: unknown tax system \"simple\"",
        "kassa[0].pol_interval_ms: unknown key",
        "kassa[0].device.driver: unknown driver \"parallel\"",
        "kassa[0].device.port: missing (required)",
        "kassa[0].device.baud: expected a number or \"auto\"",
        "kassa[0].device.password: expected a number from 0",
        "kassa[0].cashier_uid: missing (required)",
        "kassa[0].token_file: missing: set one of token_file, token_env or token_credential",
    ];
    for e in expect {
        assert!(
            p.iter().any(|got| got.starts_with(e)),
            "no problem starting with {e:?} in {p:#?}"
        );
    }
    assert_eq!(p.len(), expect.len(), "{p:#?}");
}

#[test]
fn a_token_in_the_file_is_refused_without_echoing_it() {
    let text = MINIMAL.replace("token_env = \"TOKEN\"", "token = \"s3cr3t-value\"");
    let err = parse(&text).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("kassa[0].token: a token may not be written"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
fn two_token_sources_or_credentials_in_the_url_are_refused() {
    let text = MINIMAL.replace(
        "token_env = \"TOKEN\"",
        "token_env = \"TOKEN\"\ntoken_file = \"t\"",
    );
    assert!(problems(&text)[0].contains("set only one of token_file, token_env"));
    let text = MINIMAL.replace(
        "name = \"shop1\"",
        "name = \"shop1\"\napi_url = \"https://user:pw@example.ru/api\"",
    );
    let p = problems(&text);
    assert!(
        p[0].starts_with("kassa[0].api_url: must not contain credentials"),
        "{p:?}"
    );
    assert!(!p[0].contains("pw@"), "{p:?}");
}

#[test]
fn relative_token_files_are_relative_to_the_config_directory() {
    let text = MINIMAL.replace("token_env = \"TOKEN\"", "token_file = \"shop1.token\"");
    let c = parse(&text).unwrap();
    match &c.kassas[0].cloud {
        CloudConfig::Moysklad(m) => assert_eq!(
            m.token,
            SecretSource::File("/etc/masterkassa/shop1.token".into())
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn kassa_names_and_ports_are_unique() {
    let text = format!("{MINIMAL}{MINIMAL}");
    let p = problems(&text);
    assert!(
        p.contains(&"kassa[1].name: \"shop1\" is already used by kassa[0]".to_string()),
        "{p:?}"
    );
    assert!(
        p.contains(&"kassa[1].device.port: /dev/kkt0 is already used by kassa[0]".to_string()),
        "{p:?}"
    );
}

#[test]
fn kassatka_settings_belong_in_their_section() {
    let p = problems(
        r#"
[[kassa]]
name = "cafe"
source = "kassatka"
cashier_uid = "x"
[kassa.kassatka]
api_url = "ftp://x"
token_env = "T"
[kassa.device]
port = "/dev/kkt0"
"#,
    );
    assert!(
        p.iter()
            .any(|e| e.starts_with("kassa[0].cashier_uid: not used by a kassatka kassa")),
        "{p:?}"
    );
    assert!(
        p.iter().any(
            |e| e.starts_with("kassa[0].kassatka.api_url: expected an http:// or https:// URL")
        ),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|e| e.starts_with("kassa[0].kassatka.cash_box_code: missing")),
        "{p:?}"
    );
    let p = problems(
        "[[kassa]]\nname = \"cafe\"\nsource = \"kassatka\"\n[kassa.device]\nport = \"/dev/kkt0\"\n",
    );
    assert_eq!(
        p,
        ["kassa[0].kassatka: missing (required for source = \"kassatka\")"]
    );
}

#[test]
fn no_kassa_or_broken_toml_are_clear_errors() {
    assert_eq!(
        problems("[journal]\n"),
        ["kassa: at least one [[kassa]] is required"]
    );
    match parse("[[kassa]\nname = 1\n") {
        Err(ConfigError::Syntax { line, origin, .. }) => {
            assert_eq!(line, 1);
            assert_eq!(origin, "test.toml");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn env_overrides_replace_journal_and_socket_paths() {
    let env = |name: &str| match name {
        "MASTERKASSA_JOURNAL_PATH" => Some("/tmp/j.db".to_string()),
        "MASTERKASSA_CONTROL_SOCKET" => Some("/tmp/c.sock".to_string()),
        _ => None,
    };
    let c = Config::parse(MINIMAL, "t", Path::new("/"), env).unwrap();
    assert_eq!(c.journal_path, Path::new("/tmp/j.db"));
    assert_eq!(c.control_socket, Path::new("/tmp/c.sock"));
}

#[test]
fn debug_and_summary_never_show_the_device_password_or_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.token"), "tok-SECRET-123\n").unwrap();
    let text = MINIMAL
        .replace("token_env = \"TOKEN\"", "token_file = \"t.token\"")
        .replace(
            "port = \"/dev/kkt0\"",
            "port = \"/dev/kkt0\"\npassword = 987654",
        );
    let c = Config::parse(&text, "t", dir.path(), no_env).unwrap();
    let shown = format!("{c:?}\n{}", c.summary());
    assert!(!shown.contains("987654"), "{shown}");
    assert!(!shown.contains("tok-SECRET"), "{shown}");
    assert!(shown.contains("t.token"), "{shown}");
}

fn masterkassa(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(args)
        .env_remove("MASTERKASSA_JOURNAL_PATH")
        .env_remove("MASTERKASSA_CONTROL_SOCKET")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_check_prints_a_redacted_summary_and_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.token"), "tok-SECRET-123\n").unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        MINIMAL.replace("token_env = \"TOKEN\"", "token_file = \"t.token\""),
    )
    .unwrap();
    let (ok, stdout, stderr) = masterkassa(&["config", "check", good.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Касса shop1 (source = moysklad):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Токен: файл") && stdout.contains("t.token (значение скрыто)"),
        "{stdout}"
    );
    assert!(stdout.contains(": настройки верны"), "{stdout}");
    assert!(stdout.contains("касса shop1: токен читается"), "{stdout}");
    assert!(!stdout.contains("tok-SECRET") && !stderr.contains("tok-SECRET"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        MINIMAL.replace("port = \"/dev/kkt0\"", "port = \"/dev/kkt0\"\nbaud = [1]"),
    )
    .unwrap();
    let (ok, _, stderr) = masterkassa(&["config", "check", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("kassa[0].device.baud: expected a number or \"auto\""),
        "{stderr}"
    );
    assert!(stderr.contains("bad.toml"), "{stderr}");

    // A token that cannot be read fails the check, unless --no-secrets.
    let missing = dir.path().join("missing.toml");
    std::fs::write(
        &missing,
        MINIMAL.replace("token_env = \"TOKEN\"", "token_file = \"nope.token\""),
    )
    .unwrap();
    let (ok, _, stderr) = masterkassa(&["config", "check", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("nope.token"), "{stderr}");
    let (ok, _, _) = masterkassa(&["config", "check", "--no-secrets", missing.to_str().unwrap()]);
    assert!(ok);
}

#[test]
fn config_check_warns_about_what_the_service_would_trip_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // systemd sets the variable for the service, not for this shell.
    let env = dir.path().join("env.toml");
    std::fs::write(
        &env,
        MINIMAL.replace("TOKEN", "MASTERKASSA_SURELY_UNSET_TOKEN"),
    )
    .unwrap();
    let (ok, stdout, stderr) = masterkassa(&["config", "check", env.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ПРЕДУПРЕЖДЕНИЕ: касса shop1: переменная окружения MASTERKASSA_SURELY_UNSET_TOKEN не задана"),
        "{stdout}"
    );
    // The port does not exist: say so and how to look.
    assert!(stdout.contains("порт /dev/kkt0 не существует"), "{stdout}");
    assert!(stdout.contains("ls /dev/ttyUSB* /dev/ttyACM*"), "{stdout}");

    // A token file everyone can read; a port only root may open.
    let token = dir.path().join("t.token");
    std::fs::write(&token, "tok-SECRET-123\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let port = dir.path().join("ttyFAKE");
    std::fs::write(&port, "").unwrap();
    std::fs::set_permissions(&port, std::fs::Permissions::from_mode(0o600)).unwrap();
    let open = dir.path().join("open.toml");
    std::fs::write(
        &open,
        MINIMAL
            .replace("token_env = \"TOKEN\"", "token_file = \"t.token\"")
            .replace("/dev/kkt0", port.to_str().unwrap()),
    )
    .unwrap();
    let (ok, stdout, stderr) = masterkassa(&["config", "check", open.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("читают все пользователи (права 0644)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("порт {} недоступен службе", port.display())),
        "{stdout}"
    );
    assert!(stdout.contains("предупреждений: 2"), "{stdout}");
    assert!(!stdout.contains("tok-SECRET"), "{stdout}");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = include_str!("../docs/config.example.toml");

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Arbitrary text: an error or a config, never a panic.
        #[test]
        fn arbitrary_text(text in "\\PC{0,400}") {
            let _ = parse(&text);
        }

        /// The example with one line replaced by a random `key = value`.
        #[test]
        fn the_example_with_one_line_garbled(
            line in 0usize..60,
            key in "[a-z_]{1,16}",
            value in prop_oneof![
                Just("1".to_string()), Just("-1".to_string()), Just("\"\"".to_string()),
                Just("true".to_string()), Just("[]".to_string()), Just("{}".to_string()),
                Just("9999999999999".to_string()), "\"\\PC{0,20}\"",
            ],
        ) {
            let mut lines: Vec<String> = EXAMPLE.lines().map(str::to_string).collect();
            let at = line % lines.len();
            lines[at] = format!("{key} = {value}");
            let text = lines.join("\n");
            if let Err(e) = parse(&text) {
                // Whatever went wrong is said, with a key or a position.
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn metrics_listen_is_an_address_or_a_named_error() {
    let c = parse(&format!(
        "[metrics]\nlisten = \"127.0.0.1:9464\"\n{MINIMAL}"
    ))
    .unwrap();
    assert_eq!(c.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(parse(MINIMAL).unwrap().metrics_listen, None);
    let list = problems(&format!("[metrics]\nlisten = \"localhost\"\n{MINIMAL}"));
    assert!(list[0].starts_with("metrics.listen: "), "{list:?}");
}

#[test]
fn journal_keep_days_defaults_to_400_and_is_bounded() {
    assert_eq!(parse(MINIMAL).unwrap().journal_keep_days, 400);
    let with = |days: &str| format!("[journal]\nkeep_days = {days}\n{MINIMAL}");
    assert_eq!(parse(&with("730")).unwrap().journal_keep_days, 730);
    for bad in ["30", "-1", "100000"] {
        let found = problems(&with(bad));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("journal.keep_days:") && p.contains("366..=36500")),
            "{bad}: {found:?}"
        );
    }
    let found = problems(&with("\"forever\""));
    assert!(
        found.iter().any(|p| p.starts_with("journal.keep_days:")),
        "{found:?}"
    );
}

#[test]
fn kassatka_lookback_is_configurable_and_bounded() {
    let cafe = |extra: &str| {
        format!(
            "[[kassa]]\nname = \"cafe\"\nsource = \"kassatka\"\n[kassa.kassatka]\n\
             api_url = \"https://k.example.ru/api\"\ntoken_env = \"T\"\ncash_box_code = \"189\"\n\
             {extra}\n[kassa.device]\nport = \"/dev/kkt0\"\n"
        )
    };
    let lookback = |c: Config| match &c.kassas[0].cloud {
        CloudConfig::Kassatka(k) => k.lookback_minutes,
        other => panic!("{other:?}"),
    };
    assert_eq!(lookback(parse(&cafe("")).unwrap()), 15);
    assert_eq!(
        lookback(parse(&cafe("lookback_minutes = 240")).unwrap()),
        240
    );
    for bad in ["0", "20000"] {
        let found = problems(&cafe(&format!("lookback_minutes = {bad}")));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("kassa[0].kassatka.lookback_minutes:")),
            "{bad}: {found:?}"
        );
    }
}

/// The minimal kassa with an ATOL printer instead of the port.
fn atol_kassa() -> String {
    MINIMAL.replace("port = \"/dev/kkt0\"", "driver = \"atol\"")
}

#[test]
fn an_atol_kassa_needs_no_port_and_defaults_to_the_local_web_server() {
    let config = parse(&atol_kassa()).unwrap();
    let k = config.kassa("shop1").unwrap();
    assert_eq!(k.device.driver, Driver::Atol);
    let atol = k.device.atol.as_ref().unwrap();
    assert_eq!(atol.url, "http://127.0.0.1:16732");
    assert_eq!(atol.device_id, None);
    assert_eq!(atol.credentials, None);

    let full = atol_kassa()
        + "url = \"http://kkt-host:8080/\"\ndevice_id = \"kkt2\"\nuser = \"admin\"\npassword_file = \"atol.password\"\n";
    let config = parse(&full).unwrap();
    let atol = config.kassas[0].device.atol.clone().unwrap();
    assert_eq!(atol.url, "http://kkt-host:8080");
    assert_eq!(atol.device_id.as_deref(), Some("kkt2"));
    assert_eq!(
        atol.credentials,
        Some((
            "admin".to_string(),
            SecretSource::File("/etc/masterkassa/atol.password".into())
        ))
    );
    // The summary says where the password comes from, never what it is.
    let summary = config.summary();
    assert!(
        summary.contains(
            "ККТ: АТОЛ через веб-сервер http://kkt-host:8080, device_id kkt2, пользователь admin, \
             пароль: файл /etc/masterkassa/atol.password"
        ),
        "{summary}"
    );
}

#[test]
fn atol_device_mistakes_are_named_by_key() {
    let p = problems(&(atol_kassa() + "url = \"kkt-host:16732\"\nport = \"/dev/kkt0\"\n"));
    assert!(
        p.iter().any(|l| l.starts_with(
            "kassa[0].device.url: expected an address like \"http://127.0.0.1:16732\""
        )),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("kassa[0].device.port: unknown key")),
        "{p:?}"
    );

    let p = problems(&(atol_kassa() + "user = \"admin\"\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("kassa[0].device.password_file: missing"),
        "{p:?}"
    );

    let p = problems(&(atol_kassa() + "password_env = \"ATOL_PASSWORD\"\n"));
    assert!(p[0].starts_with("kassa[0].device.user: missing"), "{p:?}");

    let p = problems(&(atol_kassa() + "password = \"secret123\"\n"));
    assert!(p.iter().all(|l| !l.contains("secret123")), "{p:?}");
    assert!(
        p[0].starts_with("kassa[0].device.password: unknown key"),
        "{p:?}"
    );
}

#[test]
fn two_kassas_on_one_atol_printer_are_refused() {
    let text = atol_kassa() + &atol_kassa().replace("shop1", "shop2");
    let p = problems(&text);
    assert!(
        p.contains(&"kassa[1].device.url: http://127.0.0.1:16732 (device_id default) is already used by kassa[0]".to_string()),
        "{p:?}"
    );
    let text = atol_kassa() + &atol_kassa().replace("shop1", "shop2") + "device_id = \"second\"\n";
    parse(&text).unwrap();
}

#[test]
fn bundles_and_request_timeout_parse_and_are_checked() {
    let c = parse(MINIMAL).unwrap();
    let CloudConfig::Moysklad(ms) = &c.kassas[0].cloud else {
        panic!("a MoySklad kassa")
    };
    assert_eq!(ms.bundles, masterkassa::catalogue::Bundles::Whole);
    assert_eq!(ms.request_timeout, Duration::from_secs(30));
    let set = MINIMAL.replace(
        "token_env = \"TOKEN\"",
        "token_env = \"TOKEN\"\nbundles = \"components\"\nrequest_timeout_ms = 5000",
    );
    let c = parse(&set).unwrap();
    let CloudConfig::Moysklad(ms) = &c.kassas[0].cloud else {
        panic!("a MoySklad kassa")
    };
    assert_eq!(ms.bundles, masterkassa::catalogue::Bundles::Components);
    assert_eq!(ms.request_timeout, Duration::from_secs(5));
    let bad = MINIMAL.replace(
        "token_env = \"TOKEN\"",
        "token_env = \"TOKEN\"\nbundles = \"split\"\nrequest_timeout_ms = 500",
    );
    let p = problems(&bad);
    assert!(
        p.iter().any(|l| l.starts_with(
            "kassa[0].bundles: expected \"whole\" or \"components\", found \"split\""
        )),
        "{p:?}"
    );
    assert!(
        p.iter().any(|l| l
            .starts_with("kassa[0].request_timeout_ms: 500 is out of range (1000..=120000 ms)")),
        "{p:?}"
    );
}
