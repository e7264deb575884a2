//! The shop's catalogue on the device, through the whole pipeline as a shop
//! runs it: `masterkassa run` (the binary, no `tax_system` in its config)
//! against the fake MoySklad cloud and the emulated Shtrih on a PTY. One
//! sale of a weighed product in kg, a service, a marked product sold
//! without codes and with them, and a product whose Cyrillic name is
//! longer than the device takes; the FN archive must hold the catalogue's
//! names, payment objects (1212) and measures (2108), the tape the store's
//! receipt template and the VAT labels, and the approve the store's tax
//! system.

mod crash_support;

use masterkassa::worker::queue::samples;
use serde_json::json;
use sim_moysklad::catalogue::{SERVICE_ID, WEIGHED_ID, row};
use sim_moysklad::{FakeCloud, FakeCloudConfig, OpKind};
use sim_shtrih::{ArchivedPosition, Emulator, EmulatorConfig, doc_type};
use std::time::{Duration, Instant};

const BASE: &str = "https://online.moysklad.ru/api/posap/1.0/entity";
const MARKED_ID: &str = "3a5e0000-0000-4000-8000-00000000000c";
const LONG_ID: &str = "3a5e0000-0000-4000-8000-00000000000d";

/// 127 Cyrillic characters, then «₽», which CP1251 can only write as two
/// bytes («р.»): the 128-byte limit falls inside it, so a clean cut ends
/// right before it.
fn long_name() -> String {
    let words = "Набор посуды эмалированной с крышками ";
    let mut name: String = words.chars().cycle().take(127).collect();
    name.push('₽');
    name.push_str(" подарочная упаковка");
    name
}

/// `crash_support::config` without `tax_system`: the store's default must
/// apply.
fn config_without_tax_system(dir: &std::path::Path, api: &str, port: &std::path::Path) {
    let path = crash_support::config(dir, api, port);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("tax_system"))
        .collect();
    assert_eq!(kept.len() + 1, text.lines().count(), "{text}");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

/// Runs `masterkassa run` with the config in `dir` until the cloud has an
/// answer (approve or reject body) for each of `ids`; returns them in order.
async fn run_until_answered(
    cloud: &sim_moysklad::FakeCloudHandle,
    dir: &std::path::Path,
    ids: &[&str],
) -> Vec<serde_json::Value> {
    let mut agent = crash_support::spawn_agent(&dir.join("config.toml"), dir);
    let deadline = Instant::now() + Duration::from_secs(90);
    let answers = loop {
        let answers: Vec<serde_json::Value> = ids
            .iter()
            .filter_map(|id| cloud.operation(id))
            .filter(|op| op.answered())
            .filter_map(|op| op.approve.or(op.reject))
            .collect();
        if answers.len() == ids.len() || Instant::now() > deadline {
            break answers;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = agent.kill();
    let _ = agent.wait();
    if answers.len() != ids.len() {
        let log = std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default();
        panic!("{ids:?} never all answered; agent log:\n{log}");
    }
    answers
}

/// The FD number an approve names.
fn approved_fd(answer: &serde_json::Value) -> u32 {
    answer["cheque"]["fiscalDocNumber"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not approved: {answer}"))
}

fn position<'a>(doc: &'a [ArchivedPosition], name_start: &str) -> &'a ArchivedPosition {
    doc.iter()
        .find(|p| p.name.starts_with(name_start))
        .unwrap_or_else(|| panic!("no position named {name_start}…: {doc:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_names_objects_measures_and_template_reach_the_fn() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let mut marked = row("product", MARKED_ID, "Кроссовки беговые", "шт", "GOOD");
    marked["trackingType"] = json!("SHOES");
    cloud.put_item(marked).unwrap();
    cloud
        .put_item(row("product", LONG_ID, &long_name(), "шт", "GOOD"))
        .unwrap();

    let mut sale = samples::catalogue_sale(
        "c0000000-0000-4000-8000-0000000000e1",
        &[
            (format!("{BASE}/product/{WEIGHED_ID}"), 1.5, 12000),
            (format!("{BASE}/service/{SERVICE_ID}"), 1.0, 25000),
            (format!("{BASE}/product/{MARKED_ID}"), 1.0, 450000),
            (format!("{BASE}/product/{LONG_ID}"), 2.0, 99999),
            (format!("{BASE}/product/{MARKED_ID}"), 2.0, 450000),
        ],
    );
    // The second pair of shoes is scanned: one code per pair.
    sale["positions"][4]["marks"] = json!([
        { "cis": "010460043993125621JgXJ5.T" },
        { "cis": "010460043993125621Kx7Lm2Q" },
    ]);
    // The service is sold without VAT.
    sale["positions"][1]["vatEnabled"] = json!(false);
    let id = cloud.enqueue(OpKind::RetailDemand, sale).unwrap();

    config_without_tax_system(dir.path(), &cloud.base_url(), &link);
    let answer = run_until_answered(&cloud, dir.path(), &[&id])
        .await
        .remove(0);

    // The approve: the store's default tax system, the FN's document.
    assert_eq!(answer["taxSystem"], "GENERAL_TAX_SYSTEM", "{answer}");
    let fd = approved_fd(&answer);
    assert_eq!(answer["cheque"]["fnNumber"], emu.fn_serial(), "{answer}");

    // The FN archive: exactly one receipt, positions as in the catalogue.
    let receipts: Vec<_> = emu
        .archive()
        .into_iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:#?}");
    let doc = &receipts[0];
    assert_eq!(doc.number, fd);
    assert_eq!(doc.operation, Some(1), "a sale");
    // 1.5 × 120.00 + 250.00 + 4500.00 + 2 × 999.99 + 2 × 4500.00, to the
    // kopeck.
    assert_eq!(doc.total, Some(18000 + 25000 + 450000 + 199998 + 900000));
    let p = &doc.positions;
    assert_eq!(p.len(), 6, "one position per code: {p:#?}");

    let apples = position(p, "Яблоки Гренни Смит");
    assert_eq!(apples.name, "Яблоки Гренни Смит");
    assert_eq!(apples.object, 1, "товар");
    assert_eq!(apples.measure, Some(11), "кг");
    assert_eq!(
        (apples.quantity, apples.price, apples.sum),
        (1_500_000, 12000, 18000)
    );
    assert_eq!(apples.vat, Some(2), "НДС 10%");

    let delivery = position(p, "Доставка по городу");
    assert_eq!(delivery.object, 4, "услуга");
    assert_eq!(delivery.measure, Some(0), "шт");
    assert_eq!(delivery.sum, 25000);
    assert_eq!(delivery.vat, Some(6), "без НДС");

    let shoes = position(p, "Кроссовки беговые");
    assert_eq!(shoes.object, 32, "marked goods sold without a code");
    assert_eq!(shoes.measure, Some(0));
    assert_eq!(shoes.sum, 450000);
    let scanned: Vec<_> = p.iter().filter(|x| x.object == 33).collect();
    assert_eq!(scanned.len(), 2, "marked goods with a code: {p:#?}");
    for pair in scanned {
        assert_eq!(pair.name, "Кроссовки беговые");
        assert_eq!(pair.measure, Some(0), "one code is one piece");
        assert_eq!((pair.quantity, pair.sum), (1_000_000, 450000));
    }

    let full = long_name();
    let cut = position(p, "Набор посуды");
    assert!(full.starts_with(&cut.name), "not a clean prefix: {cut:?}");
    assert_eq!(cut.name.chars().count(), 127, "{:?}", cut.name);
    assert_eq!(cut.object, 1);
    assert_eq!(cut.measure, Some(0));
    assert_eq!(
        (cut.quantity, cut.price, cut.sum),
        (2_000_000, 99999, 199998)
    );

    // The tape: the template's header before the receipt, its footer after.
    let tape = emu.tape_text();
    let header = tape.find("Добро пожаловать!");
    let receipt = tape.find("КАССОВЫЙ ЧЕК");
    let footer = tape.find("Спасибо за покупку!");
    assert!(
        header.is_some() && receipt.is_some() && footer.is_some(),
        "{tape}"
    );
    assert!(header < receipt && receipt < footer, "{tape}");
    assert!(
        tape.contains("Ждём вас снова"),
        "second footer line: {tape}"
    );
    let printed = emu.printed_document(fd).unwrap().lines.join("\n");
    assert!(printed.contains("НДС 10%"), "{printed}");
    assert!(printed.contains("БЕЗ НДС"), "{printed}");
    assert!(printed.contains("Яблоки Гренни Смит"), "{printed}");
    assert!(!printed.contains("Товар 1"), "no invented name: {printed}");
}

/// A prepayment of part of an order and the full return of another reach
/// the FN as the goods they pay for: the catalogue's names, objects and
/// measures, 1214 = 2 (partial) and 1 (full), the calculated VAT rate, the
/// prepaid sum spread over the goods to the kopeck, and the marked goods
/// without their codes (1212 = 32).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepayments_reach_the_fn_as_the_goods_they_pay_for() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let mut marked = row("product", MARKED_ID, "Кроссовки беговые", "шт", "GOOD");
    marked["trackingType"] = json!("SHOES");
    cloud.put_item(marked).unwrap();
    let prepayment = |kind: &str, sync_id: &str, sum: i64| {
        let body = if kind == "prepayment" {
            samples::PREPAYMENT
        } else {
            samples::PREPAYMENT_RETURN
        };
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["meta"]["href"] = json!(format!("{BASE}/{kind}/syncid/{sync_id}"));
        v["positions"] = json!([
            { "assortment": { "meta": { "href": format!("{BASE}/product/{WEIGHED_ID}") } },
              "quantity": 1.5, "price": 12000, "vat": 10 },
            { "assortment": { "meta": { "href": format!("{BASE}/product/{MARKED_ID}") } },
              "quantity": 1, "price": 450000, "vat": 10 },
        ]);
        v["sum"] = json!(sum);
        // Paid in cash, refunded to the card (the drawer holds too little).
        let cash = if kind == "prepayment" { sum } else { 0 };
        v["cashSum"] = json!(cash);
        v["noCashSum"] = json!(sum - cash);
        v
    };
    let partial = cloud
        .enqueue(
            OpKind::Prepayment,
            prepayment("prepayment", "c0000000-0000-4000-8000-0000000000f1", 100000),
        )
        .unwrap();
    let full_return = cloud
        .enqueue(
            OpKind::PrepaymentReturn,
            prepayment(
                "prepaymentreturn",
                "c0000000-0000-4000-8000-0000000000f2",
                468000,
            ),
        )
        .unwrap();

    config_without_tax_system(dir.path(), &cloud.base_url(), &link);
    let fds: Vec<u32> = run_until_answered(&cloud, dir.path(), &[&partial, &full_return])
        .await
        .iter()
        .map(approved_fd)
        .collect();

    let doc = |fd: u32| {
        emu.document(fd)
            .unwrap_or_else(|| panic!("FD {fd} archived"))
    };
    let paid = doc(fds[0]);
    assert_eq!(paid.operation, Some(1), "a prepayment is income");
    assert_eq!(paid.total, Some(100000));
    let p = &paid.positions;
    assert_eq!(p.len(), 2, "{p:#?}");
    let apples = position(p, "Яблоки Гренни Смит");
    // 1000.00 × 180.00 / 4680.00 = 38.46; 1.5 kg, price rounded.
    assert_eq!((apples.quantity, apples.sum), (1_500_000, 3846));
    assert_eq!(
        (apples.method, apples.object, apples.measure),
        (2, 1, Some(11))
    );
    assert_eq!(apples.vat, Some(4), "НДС 10/110");
    let shoes = position(p, "Кроссовки беговые");
    assert_eq!(
        (shoes.quantity, shoes.price, shoes.sum),
        (1_000_000, 96154, 96154)
    );
    assert_eq!(
        (shoes.method, shoes.object),
        (2, 32),
        "prepaid without a code"
    );

    let returned = doc(fds[1]);
    assert_eq!(returned.operation, Some(2), "a prepayment return");
    assert_eq!(returned.total, Some(468000));
    assert!(
        returned.positions.iter().all(|x| x.method == 1),
        "full prepayment"
    );
    assert!(
        !returned
            .positions
            .iter()
            .any(|x| x.name.starts_with("Предоплата") || x.name.starts_with("Возврат предоплаты"))
    );
}

/// `bundles = "components"`: a bundle of 4 plates (1.50 each), 1.5 kg of
/// charcoal (4.00/kg) and an assembly service (7.99), shaped like the
/// seed's «Комплект», sold twice for 19.99 each, reaches the FN as its
/// components with their own names, objects and measures, the 39.98 shared
/// by their sale prices to the kopeck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_reaches_the_fn_as_its_components() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let part = |kind: &str, id: &str, name: &str, uom: &str, pit: &str, price: i64| {
        let mut r = row(kind, id, name, uom, pit);
        r["salePrices"] = json!([{ "value": price, "priceType": "Цена продажи" }]);
        cloud.put_item(r).unwrap();
        json!({ "meta": { "href": format!("{BASE}/{kind}/{id}"), "type": kind } })
    };
    let plate = part(
        "product",
        "b0000000-0000-4000-8000-000000000001",
        "Тарелка",
        "шт",
        "GOOD",
        150,
    );
    let coal = part(
        "product",
        "b0000000-0000-4000-8000-000000000002",
        "Уголь",
        "кг",
        "GOOD",
        400,
    );
    let work = part(
        "service",
        "b0000000-0000-4000-8000-000000000003",
        "Сборка",
        "шт",
        "SERVICE",
        799,
    );
    let bundle_id = "b0000000-0000-4000-8000-0000000000bb";
    let mut bundle = row(
        "bundle",
        bundle_id,
        "Набор для пикника",
        "шт",
        "COMPOUND_PAYMENT_ITEM",
    );
    bundle["components"] = json!([
        { "meta": plate["meta"], "quantity": 4 },
        { "meta": coal["meta"], "quantity": 1.5 },
        { "meta": work["meta"], "quantity": 1 },
    ]);
    cloud.put_item(bundle).unwrap();
    let sale = samples::catalogue_sale(
        "c0000000-0000-4000-8000-0000000000b1",
        &[(format!("{BASE}/bundle/{bundle_id}"), 2.0, 1999)],
    );
    let id = cloud.enqueue(OpKind::RetailDemand, sale).unwrap();
    config_without_tax_system(dir.path(), &cloud.base_url(), &link);
    let cfg = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen(
            "[kassa.device]",
            "bundles = \"components\"\n[kassa.device]",
            1,
        ),
    )
    .unwrap();
    let answer = run_until_answered(&cloud, dir.path(), &[&id])
        .await
        .remove(0);
    let fd = approved_fd(&answer);
    let doc = emu.document(fd).unwrap();
    assert_eq!(doc.total, Some(3998));
    let names: Vec<&str> = doc.positions.iter().map(|p| p.name.as_str()).collect();
    assert!(!names.contains(&"Набор для пикника"), "{names:?}");
    let of = |name: &str| -> Vec<&ArchivedPosition> {
        doc.positions.iter().filter(|p| p.name == name).collect()
    };
    let total = |name: &str| -> (u64, u64) {
        of(name)
            .iter()
            .fold((0, 0), |(q, s), p| (q + p.quantity, s + p.sum))
    };
    // Weights 4 × 1.50 : 1.5 × 4.00 : 7.99 of 19.99, for two bundles.
    assert_eq!(total("Тарелка"), (8_000_000, 1200), "{:#?}", doc.positions);
    assert_eq!(total("Уголь"), (3_000_000, 1200));
    assert_eq!(total("Сборка"), (2_000_000, 1598));
    assert!(
        of("Уголь")
            .iter()
            .all(|p| p.measure == Some(11) && p.object == 1)
    );
    assert!(of("Сборка").iter().all(|p| p.object == 4));
    for p in &doc.positions {
        assert_eq!(p.price * p.quantity / 1_000_000, p.sum, "{p:?}");
    }
}
