//! README's first command: `masterkassa demo` prints the receipts, the
//! approves and the reject, the status, and exits 0.

use std::process::Command;

/// Runs `masterkassa demo` with `args` in `dir`; its stdout, after checking
/// that it succeeded with five approves and the one reject.
fn demo(dir: &tempfile::TempDir, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .arg("demo")
        .args(args)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("PUT /cheque/rpc/master/approve").count(),
        5,
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("PUT /cheque/rpc/master/reject").count(),
        1,
        "{stdout}"
    );
    stdout
}

#[test]
fn demo_prints_receipts_approves_and_a_reject() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&dir, &[]);
    assert!(stdout.contains("PUT /rpc/openshift"), "{stdout}");
    assert!(
        stdout.contains("КАССОВЫЙ ЧЕК"),
        "the paper tape is shown: {stdout}"
    );
    assert!(stdout.contains("ВОЗВРАТ ПРИХОДА"), "{stdout}");
    // Names from the store's catalogue, never «Товар N».
    assert!(stdout.contains("Доставка по городу"), "{stdout}");
    assert!(stdout.contains("Яблоки Гренни Смит"), "{stdout}");
    assert!(stdout.contains("Пиво"), "{stdout}");
    assert!(!stdout.contains("Товар 1"), "{stdout}");
    assert!(stdout.contains("1.5 кг x 120.00"), "{stdout}");
    // The FN's own record of the catalogue sale's lines.
    assert!(
        stdout.contains("ФН, позиция 1: 1030 «Доставка по городу», 1212 = 4, 2108 = 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ФН, позиция 2: 1030 «Яблоки Гренни Смит», 1212 = 1, 2108 = 11"),
        "{stdout}"
    );
    // The store's receipt template around every printed receipt: the
    // header just before the document, the footer just after it.
    for line in ["Добро пожаловать!", "Спасибо за покупку!", "Ждём вас снова"]
    {
        assert_eq!(
            stdout.matches(&format!("  | {line}\n")).count(),
            5,
            "{line}: {stdout}"
        );
    }
    let header = stdout.find("  | Добро пожаловать!\n  |          ООО");
    assert!(
        header.is_some(),
        "header right before the receipt: {stdout}"
    );
    assert!(
        stdout.contains("\n  | Спасибо за покупку!\n  | Ждём вас снова\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("сумма позиции 10.00 ₽ не равна"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Сегодня: подтверждено 5, отклонено 1"),
        "{stdout}"
    );
    assert!(dir.path().join("journal.db").exists());
}

#[test]
fn demo_on_atol_approves_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&dir, &["--printer", "atol"]);
    assert!(stdout.contains("эмулятор АТОЛ 30Ф"), "{stdout}");
    // The stand-in's FN signed the catalogue's names, objects and units.
    assert!(
        stdout.contains("ФН, позиция 2: 1030 «Яблоки Гренни Смит», 1212 = 1, 2108 = 11"),
        "{stdout}"
    );
    // The model is named once, not «АТОЛ АТОЛ 30Ф».
    assert!(stdout.contains("ККТ: АТОЛ 30Ф, зав. №"), "{stdout}");
    assert!(stdout.contains("Итог: чеков в архиве ФН 5, approve 5, reject 1."));
}
