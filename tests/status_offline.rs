//! `masterkassa status` when it cannot ask the daemon: a socket this user
//! may not open is "no permission", not "daemon not running" with made-up
//! good news; before the first `run` it says so and lists the configured
//! kassas instead of printing an SQLite error.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[journal]\npath = \"{}\"\n[control]\nsocket = \"{}\"\n\
         [[kassa]]\nname = \"магазин\"\n[[kassa]]\nname = \"склад\"\n",
        dir.join("journal.db").display(),
        dir.join("control.sock").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// `masterkassa status …` as an unprivileged user: `nobody` via setpriv
/// when the test runs as root (root opens any socket), else ourselves.
fn status_unprivileged(args: &[&str]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_masterkassa");
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("status").args(args).output().unwrap()
}

#[test]
fn a_socket_the_user_may_not_open_is_reported_as_no_permission() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = config(dir.path());
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let socket = dir.path().join("control.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mode = if is_root() { 0o660 } else { 0o000 };
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(mode)).unwrap();

    let out = status_unprivileged(&["--config", cfg.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("нет прав на сокет управления"), "{stderr}");
    assert!(stderr.contains("usermod -aG"), "{stderr}");
    assert!(!stdout.contains("НЕ ЗАПУЩЕН"), "{stdout}");
    assert!(!stdout.contains("все документы отправлены"), "{stdout}");
    assert!(!stdout.contains("Ошибок нет"), "{stdout}");
}

#[test]
fn before_the_first_run_status_lists_the_configured_kassas() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["status", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("ни разу не работал"), "{stdout}");
    assert!(stdout.contains("Касса «магазин»"), "{stdout}");
    assert!(stdout.contains("Касса «склад»"), "{stdout}");
    assert!(stdout.contains("ОФД: неизвестно"), "{stdout}");
    assert!(!stdout.contains("Ошибок нет"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains("Error code"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("journal.db").exists(),
        "status created the journal"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["status", "--json", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["daemon_running"], false);
    assert_eq!(json["never_ran"], true);
    assert_eq!(json["kassas"][1]["name"], "склад");
    assert!(json["kassas"][0]["ofd_unsent"].is_null(), "{json}");
}
