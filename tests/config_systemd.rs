//! The systemd/udev/sysusers files under `systemd/` parse and say what the
//! install guide promises: a notify service with a watchdog, its own user,
//! state/runtime directories, a strict sandbox, serial devices only, the
//! token as a credential. `systemd-analyze verify` runs too when present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn file(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("systemd")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    (path, text)
}

/// A unit file as section → key → values (keys may repeat).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Parses systemd's ini dialect; fails on anything that is neither a
/// comment, a section header nor `Key=value`.
fn parse_unit(text: &str) -> Result<Unit, String> {
    let mut unit = Unit::new();
    let mut section: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            unit.entry(name.to_string()).or_default();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: not Key=value: {line}", n + 1));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("line {}: bad key {key:?}", n + 1));
        }
        let Some(section) = &section else {
            return Err(format!("line {}: key outside a section", n + 1));
        };
        unit.get_mut(section)
            .ok_or("section vanished")?
            .entry(key.to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    Ok(unit)
}

fn values<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a [String] {
    unit.get(section)
        .and_then(|s| s.get(key))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn one<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    match values(unit, section, key) {
        [v] => v,
        other => panic!("[{section}] {key}: expected one value, found {other:?}"),
    }
}

#[test]
fn the_service_unit_has_the_required_settings() {
    let (_, text) = file("masterkassa.service");
    let unit = parse_unit(&text).unwrap();
    assert!(unit.contains_key("Unit") && unit.contains_key("Install"));
    let s = "Service";
    assert_eq!(one(&unit, s, "Type"), "notify");
    let watchdog: u64 = one(&unit, s, "WatchdogSec").parse().unwrap();
    assert!((10..=600).contains(&watchdog), "WatchdogSec={watchdog}");
    assert_eq!(one(&unit, s, "User"), "masterkassa");
    assert_eq!(one(&unit, s, "StateDirectory"), "masterkassa");
    assert_eq!(one(&unit, s, "RuntimeDirectory"), "masterkassa");
    assert_eq!(one(&unit, s, "ProtectSystem"), "strict");
    assert_eq!(one(&unit, s, "NoNewPrivileges"), "yes");
    assert_eq!(one(&unit, s, "DevicePolicy"), "closed");
    let devices = values(&unit, s, "DeviceAllow");
    for dev in ["char-ttyUSB rw", "char-ttyACM rw"] {
        assert!(
            devices.iter().any(|d| d == dev),
            "DeviceAllow {dev} missing: {devices:?}"
        );
    }
    assert!(!values(&unit, s, "LoadCredential").is_empty());
    assert_eq!(one(&unit, s, "Restart"), "always");
    // The daemon gets its config path, never a secret, on the command line.
    let exec = one(&unit, s, "ExecStart");
    assert!(
        exec.ends_with("masterkassa run --config /etc/masterkassa/config.toml"),
        "{exec}"
    );
    assert!(!exec.to_lowercase().contains("token"), "{exec}");
    assert_eq!(one(&unit, "Install", "WantedBy"), "multi-user.target");
}

#[test]
fn the_unit_parser_refuses_garbage() {
    assert!(parse_unit("[Service]\nType notify\n").is_err());
    assert!(parse_unit("Type=notify\n").is_err());
    assert!(parse_unit("[Service]\nTy pe=notify\n").is_err());
}

#[test]
fn systemd_analyze_verify_accepts_the_unit_when_available() {
    let available = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !available {
        eprintln!("systemd-analyze not installed: skipped");
        return;
    }
    // verify checks that ExecStart exists: point it at the built binary.
    let (_, text) = file("masterkassa.service");
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("masterkassa.service");
    std::fs::write(
        &unit,
        text.replace("/usr/bin/masterkassa", env!("CARGO_BIN_EXE_masterkassa")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // systemd-analyze exits 0 even for settings it ignores; those lines
    // name the unit file.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("masterkassa.service"))
        .collect();
    assert!(complaints.is_empty(), "{stderr}");
}

#[test]
fn the_udev_rule_makes_stable_kkt_names_for_serial_printers() {
    let (_, text) = file("99-masterkassa.rules");
    let rules: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(!rules.is_empty());
    for rule in &rules {
        for pair in rule.split(", ") {
            let ok = ["==", "+=", "="].iter().any(|op| {
                pair.split_once(op)
                    .is_some_and(|(k, v)| !k.is_empty() && v.starts_with('"') && v.ends_with('"'))
            });
            assert!(ok, "not KEY==\"value\": {pair:?} in {rule}");
        }
        assert!(rule.contains("SUBSYSTEM==\"tty\""), "{rule}");
        assert!(rule.contains("SYMLINK+=\"kkt"), "{rule}");
        assert!(rule.contains("GROUP=\"dialout\""), "{rule}");
        assert!(rule.contains("ENV{ID_MM_DEVICE_IGNORE}=\"1\""), "{rule}");
    }
}

#[test]
fn sysusers_and_tmpfiles_create_the_user_and_directories() {
    let (_, sysusers) = file("masterkassa.sysusers");
    let lines: Vec<Vec<&str>> = sysusers
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        lines.iter().any(|f| f[..2] == ["u", "masterkassa"]),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|f| f[..] == ["m", "masterkassa", "dialout"]),
        "{lines:?}"
    );
    let (_, tmpfiles) = file("masterkassa.tmpfiles");
    let dirs: Vec<Vec<&str>> = tmpfiles
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    for d in &dirs {
        assert_eq!(d.len(), 6, "{d:?}");
        assert_eq!(d[0], "d");
    }
    assert!(
        dirs.iter()
            .any(|d| d[1] == "/etc/masterkassa" && d[4] == "masterkassa")
    );
    assert!(
        dirs.iter()
            .any(|d| d[1] == "/etc/masterkassa/credentials" && d[2] == "0700")
    );
}
