//! The `masterkassa kassatka` and `masterkassa fake-kassatka` commands, run
//! as the user runs them: the real binary, the token in the environment,
//! the fake Kassatka on loopback.

use masterkassa::kassatka::{ApiToken, ClientConfig, KassatkaClient, NoProgress, WaitPolicy};
use serde_json::Value;
use sim_kassatka::{FakeKassatka, FakeKassatkaConfig, ProcessPace};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const TOKEN: &str = "cli-test-token-5f1e";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn start_fake(runtime: &tokio::runtime::Runtime) -> FakeKassatka {
    runtime.block_on(async {
        let mut config = FakeKassatkaConfig::new(TOKEN);
        config.pace = ProcessPace {
            duration: Duration::from_millis(100),
            polls: 1,
        };
        FakeKassatka::start(config).await.unwrap()
    })
}

fn masterkassa(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_masterkassa"));
    command
        .args(args)
        .env_remove("KASSATKA_TOKEN")
        .env_remove("KASSATKA_API_URL")
        .env_remove("MASTERKASSA_CONFIG")
        .env_remove("MOYSKLAD_TOKEN");
    if let Some(token) = token {
        command.env("KASSATKA_TOKEN", token);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn receipts_export_the_seed_receipts_as_json_with_kopeck_sums() {
    let rt = runtime();
    let fake = start_fake(&rt);
    let url = fake.base_url();
    let output = masterkassa(
        &[
            "kassatka",
            "receipts",
            "--from",
            "2018-04-16 00:00:00",
            "--to",
            "2018-04-16",
            "--api-url",
            &url,
        ],
        Some(TOKEN),
    );
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let receipts = json.as_array().unwrap();
    assert_eq!(receipts.len(), 4);
    let paid: Vec<(i64, i64, i64, i64)> = receipts
        .iter()
        .map(|r| {
            (
                r["doc_sum_kopecks"].as_i64().unwrap(),
                r["doc_sum_with_discount_kopecks"].as_i64().unwrap(),
                r["pay_cash_kopecks"].as_i64().unwrap(),
                r["pay_card_kopecks"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        paid,
        [
            (259_000, 259_000, 259_000, 0),
            (269_000, 269_000, 0, 269_000),
            (209_000, 209_000, 209_000, 0),
            (259_000, 181_300, 181_300, 0),
        ]
    );
    let first = &receipts[0];
    assert_eq!(first["doc_num"], "5ad4842fd849da0012343342");
    assert_eq!(first["cash_box_code"], "189");
    assert_eq!(first["store_name"], "Удача");
    assert_eq!(first["date"], "2018-04-16T11:08:31Z");
    assert_eq!(first["products"][1]["price_kopecks"], 199_000);
    assert_eq!(receipts[1]["products"][0]["quantity"], "2");
    assert_eq!(receipts[3]["products"][1]["discount_kopecks"], 59_700);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("4 receipts, 9183.00 paid in total"),
        "{stderr}"
    );
    // The period went out as Kassatka wants it.
    assert_eq!(
        fake.requests()[0].query.as_deref(),
        Some("from=2018-04-16+00%3A00%3A00&to=2018-04-16+23%3A59%3A59")
    );
}

#[test]
fn receipts_export_as_csv_to_a_file() {
    let rt = runtime();
    let fake = start_fake(&rt);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipts.csv");
    let url = fake.base_url();
    let output = masterkassa(
        &[
            "kassatka",
            "receipts",
            "--from",
            "2018-04-16",
            "--to",
            "2018-04-16",
            "--format",
            "csv",
            "--output",
            path.to_str().unwrap(),
            "--api-url",
            &url,
        ],
        Some(TOKEN),
    );
    assert!(stdout(&output).is_empty());
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 12);
    assert!(lines[0].starts_with("date,organization_code,cash_box_code,"));
    assert_eq!(
        lines[10],
        "2018-04-16T11:09:37Z,155,189,Касса 1,169,Удача,5ad48471d849da0013494373,\
         259000,181300,0,181300,2,УТ-00000003,Фиделе 90 таб.,796,199000,59700,1,199000,139300"
    );
}

#[test]
fn the_token_comes_from_the_environment_or_the_config_file() {
    let rt = runtime();
    let fake = start_fake(&rt);
    let url = fake.base_url();
    let args = [
        "kassatka",
        "receipts",
        "--from",
        "2018-04-16",
        "--to",
        "2018-04-16",
        "--api-url",
        &url,
    ];
    let output = masterkassa(&args, None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("KASSATKA_TOKEN"), "{stderr}");
    assert!(
        fake.requests().is_empty(),
        "nothing is sent without a token"
    );

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[kassa]]\nname = \"cafe\"\nsource = \"kassatka\"\n[kassa.kassatka]\n\
             api_url = \"{url}\"\ntoken_file = \"{}\"\ncash_box_code = \"189\"\n\
             [kassa.device]\nport = \"/dev/kkt1\"\n",
            token_file.display()
        ),
    )
    .unwrap();
    let output = masterkassa(
        &[
            "kassatka",
            "receipts",
            "--from",
            "2018-04-16",
            "--to",
            "2018-04-16",
            "--config",
            config.to_str().unwrap(),
        ],
        None,
    );
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);

    let output = masterkassa(&args, Some("not-the-token"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Неверный api-token"), "{stderr}");
    assert!(!stderr.contains("not-the-token"), "{stderr}");
}

#[test]
fn push_nomenclature_sends_a_csv_catalogue_and_waits() {
    let rt = runtime();
    let fake = start_fake(&rt);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalogue.csv");
    std::fs::write(
        &path,
        "code;name;barcode;group_code;group_name;price;price_type\n\
         УТ-00000003;Фиделе 90 таб.;4260133180178;;;1 990,00;Прайс-лист\n\
         00-00000016;Версан Флюид 2,5 мл;7640153060112;00-00000001;Товары;6099;Прайс-лист\n",
    )
    .unwrap();
    let url = fake.base_url();
    let output = masterkassa(
        &[
            "kassatka",
            "push-nomenclature",
            "--from",
            path.to_str().unwrap(),
            "--date",
            "2018-04-13",
            "--api-url",
            &url,
        ],
        Some(TOKEN),
    );
    let out = stdout(&output);
    assert!(
        out.starts_with("nomenclature of 13.04.2018: 2 products (2 with a price), 2 groups"),
        "{out}"
    );
    let uploads = fake.nomenclature_uploads();
    assert_eq!(uploads.len(), 1);
    let xml = &uploads[0].xml;
    assert!(
        xml.contains("<ProductsGroups Date=\"13.04.2018\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<ProductGroup Code=\"00-00000001\" Name=\"Товары\" ParentCode=\"none\">")
    );
    assert!(xml.contains("Code=\"УТ-00000003\" Name=\"Фиделе 90 таб.\" ParentCode=\"\""));
    assert!(xml.contains("Price=\"6 099,00\""));
    assert!(uploads[0].parsed.is_ok());
}

#[test]
fn push_nomenclature_refuses_a_bad_catalogue_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalogue.json");
    std::fs::write(
        &path,
        r#"[{"code": "A", "name": "Сыр", "price": "12,345"}]"#,
    )
    .unwrap();
    let output = masterkassa(
        &[
            "kassatka",
            "push-nomenclature",
            "--from",
            path.to_str().unwrap(),
            "--dry-run",
        ],
        None,
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("item 1: price=\"12,345\": more than 2 digits after the decimal separator"),
        "{stderr}"
    );
}

/// Kills the spawned fake even when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn fake_kassatka_command_serves_the_seed_receipts() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args([
            "fake-kassatka",
            "--listen",
            "127.0.0.1:0",
            "--process-ms",
            "50",
        ])
        .env("KASSATKA_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _child = KillOnDrop(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        line.starts_with("fake Kassatka serving 4 receipts at http://127.0.0.1:"),
        "{line}"
    );
    let receipts = runtime().block_on(async {
        let client =
            KassatkaClient::new(ClientConfig::new(url, ApiToken::new(TOKEN).unwrap())).unwrap();
        let policy = WaitPolicy {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            timeout: Duration::from_secs(30),
        };
        client
            .fetch_receipts(
                "2018-04-16T00:00:00".parse().unwrap(),
                "2018-04-17T00:00:00".parse().unwrap(),
                &policy,
                &mut NoProgress,
            )
            .await
    });
    assert_eq!(receipts.unwrap().len(), 4);
}

#[test]
fn fake_kassatka_command_needs_a_token() {
    let output = masterkassa(&["fake-kassatka", "--listen", "127.0.0.1:0"], None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("KASSATKA_TOKEN"));
}

#[test]
fn fake_kassatka_command_stops_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["fake-kassatka", "--listen", "127.0.0.1:0"])
        .env("KASSATKA_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("fake Kassatka serving"), "{line}");
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// A scripted MoySklad POS API serving the seed's assortment in two pages
/// (the second one is the seed page's first item again with another code,
/// so paging is visible in the result), checking the token header.
async fn scripted_moysklad(token: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::collections::HashMap;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}/api/posap/1.0");
    let next = format!("{base}/entity/assortment?limit=1000&offsetId=page-2&direction=forward");
    let app = axum::Router::new().route(
        "/api/posap/1.0/entity/assortment",
        axum::routing::get(
            move |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| {
                let next = next.clone();
                async move {
                    if headers
                        .get("Lognex-Pos-Auth-Token")
                        .and_then(|v| v.to_str().ok())
                        != Some(token)
                    {
                        return (StatusCode::UNAUTHORIZED, "{}").into_response();
                    }
                    let mut page: Value =
                        serde_json::from_str(include_str!("fixtures/moysklad/assortment.json"))
                            .unwrap();
                    if q.get("offsetId").map(String::as_str) == Some("page-2") {
                        let mut item = page["rows"][0].clone();
                        item["code"] = "00099".into();
                        page["rows"] = Value::Array(vec![item]);
                        page["meta"].as_object_mut().unwrap().remove("nextHref");
                    } else {
                        page["meta"]["nextHref"] = next.into();
                    }
                    axum::Json(page).into_response()
                }
            },
        ),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, server)
}

#[test]
fn push_nomenclature_sends_the_moysklad_assortment() {
    let rt = runtime();
    let fake = start_fake(&rt);
    let (moysklad_url, _server) = rt.block_on(scripted_moysklad("ms-secret"));
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("store.token");
    std::fs::write(&token_file, "ms-secret\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[kassa]]\nname = \"shop\"\napi_url = \"{moysklad_url}\"\ncashier_uid = \"u1\"\n\
             token_file = \"{}\"\n[kassa.device]\nport = \"/dev/kkt0\"\n",
            token_file.display()
        ),
    )
    .unwrap();
    let url = fake.base_url();
    let output = masterkassa(
        &[
            "kassatka",
            "push-nomenclature",
            "--from",
            "moysklad",
            "--date",
            "2026-11-24",
            "--config",
            config.to_str().unwrap(),
            "--api-url",
            &url,
        ],
        Some(TOKEN),
    );
    let out = stdout(&output);
    // 6 + 1 items; the bundle has two prices.
    assert!(
        out.starts_with("nomenclature of 24.11.2026: 8 products (8 with a price), 1 groups"),
        "{out}"
    );
    let uploads = fake.nomenclature_uploads();
    assert_eq!(uploads.len(), 1);
    let xml = &uploads[0].xml;
    assert!(
        xml.contains(
            "<Product Barcode=\"2000000000015\" Code=\"00004\" Name=\"товар алкогольный\" \
         ParentCode=\"\" UnitCode=\"796\" UnitName=\"Штука\" Price=\"60,00\" Comment=\"\" \
         PriceType=\"Цена продажи\"/>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("Code=\"00099\""),
        "the second page was read: {xml}"
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("ms-secret"));
}

#[test]
fn push_nomenclature_from_moysklad_needs_a_token() {
    let output = masterkassa(
        &[
            "kassatka",
            "push-nomenclature",
            "--from",
            "moysklad",
            "--dry-run",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("MOYSKLAD_TOKEN"));
}

#[test]
fn help_names_the_config_variable_without_an_empty_value() {
    let out = masterkassa(&["kassatka", "--help"], None);
    let help = stdout(&out);
    assert!(help.contains("[env: MASTERKASSA_CONFIG]"), "{help}");
    assert!(!help.contains("MASTERKASSA_CONFIG="), "{help}");
}
