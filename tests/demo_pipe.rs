//! `masterkassa demo | head -3`: a reader that goes away early must not
//! make the demo panic, and the demo still cleans up after itself.

use std::process::{Command, Stdio};

#[test]
fn demo_into_a_closed_pipe_finishes_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .arg("demo")
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `head` does after its lines.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("masterkassa-demo-"))
        .collect();
    assert!(left.is_empty(), "demo left {left:?} behind");
}
