//! Input as it arrives, end to end: odd characters, byte order marks, empty files, exact
//! numbers in untyped fields, amounts written to their declared scale, flow versions.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

/// A fixture directory under tests/fixtures/run, copied into a fresh temp dir.
fn sandbox(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(&Path::new("tests/fixtures/run").join(fixture), dir.path());
    dir
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn lines(path: PathBuf) -> Vec<String> {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).lines().map(String::from).collect()
}

/// Runs `flow` in `dir` with its own state; returns the exit code and the run summary.
fn run(dir: &Path, flow: &str) -> (Option<i32>, String) {
    let out = flowgate().arg("run").arg(dir.join(flow)).arg("--state").arg(dir.join("state.db")).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The holds in `dir`'s state, as exported.
fn holds(dir: &Path) -> Vec<serde_json::Value> {
    let out = flowgate().args(["holds", "export", "--state"]).arg(dir.join("state.db")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn multi_byte_characters_in_checked_fields_hold_only_their_record() {
    let dir = sandbox("multibyte");
    let (code, summary) = run(dir.path(), "multibyte.flow");
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(
        lines(dir.path().join("out/orders.ndjson")),
        [r#"{"id":1,"name":"Zoë"}"#, r#"{"id":7,"name":"日本"}"#],
        "{summary}"
    );
    let holds = holds(dir.path());
    let held: Vec<(&str, &str)> =
        holds.iter().map(|h| (h["reason"].as_str().unwrap(), h["message"].as_str().unwrap())).collect();
    assert_eq!(held.len(), 5, "{held:#?}");
    assert!(held.iter().all(|(reason, _)| *reason == "schema_mismatch"), "{held:#?}");
    assert!(held[0].1.starts_with("`placed_at`: expected DateTime"), "{held:#?}");
    assert!(held[2].1.starts_with("`ship_by`: expected Date?"), "{held:#?}");
    assert!(held[4].1.starts_with("`total`: expected Decimal(2)"), "{held:#?}");
}
