//! An independent Shtrih-M client against the emulator: the third-party
//! Python driver pyshtrih runs `tests/interop/pyshtrih_check.py` over the
//! emulator's PTY (status, shift, receipt, FN archive, OFD queue, errors).
//!
//! Runs when a Python with pyshtrih is available: `$PYSHTRIH_PYTHON`, or
//! `python3`. Without one it says so and passes, so a machine without
//! Python still runs the rest of the suite; CI installs pyshtrih (see
//! docs/emulator.md) so the check really runs there.

mod emulator_support;

use std::path::PathBuf;
use std::process::Command;

use emulator_support::Bench;

fn python_with_pyshtrih() -> Option<String> {
    let candidates = std::env::var("PYSHTRIH_PYTHON")
        .ok()
        .into_iter()
        .chain(["python3".to_string()]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import pyshtrih"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    None
}

#[test]
fn pyshtrih_gets_correct_answers() {
    let Some(py) = python_with_pyshtrih() else {
        eprintln!("SKIPPED: no python with pyshtrih (set PYSHTRIH_PYTHON or pip install pyshtrih)");
        if std::env::var_os("REQUIRE_PYSHTRIH").is_some() {
            panic!("REQUIRE_PYSHTRIH is set but pyshtrih is not importable");
        }
        return;
    };
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/pyshtrih_check.py");
    let b = Bench::start_with(|c| c.baud(115_200));
    let out = Command::new(&py)
        .arg(&script)
        .arg(b.link())
        .arg("115200")
        .output()
        .expect("run pyshtrih_check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pyshtrih check failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all pyshtrih checks passed"), "{stdout}");
    eprintln!("{stdout}");
    // What pyshtrih did is on the emulator's paper and in its FN.
    let tape = b.emu.tape_text();
    assert!(tape.contains("Хлеб") && tape.contains("Молоко"), "{tape}");
    assert!(!b.emu.shift().open);
}
