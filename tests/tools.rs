//! The authoring commands as users and CI run them: `fmt`, `explain`, `graph`, `init`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).expect("write fixture");
    path
}

const UNFORMATTED: &str = "import shopify\nflow f {\n    source s: stdin {} : shopify.Order\n  filter   record.test==false // keep real ones\n  sink o: stdout {}\n}\n";
const FORMATTED: &str = "import shopify\n\nflow f {\n  source s: stdin {} : shopify.Order\n  filter record.test == false // keep real ones\n  sink o: stdout {}\n}\n";

// ------------------------------------------------------------------ fmt

#[test]
fn fmt_check_prints_a_diff_and_exits_one_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.flow", UNFORMATTED);
    flowgate()
        .args(["fmt", "--check"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-  filter   record.test==false // keep real ones"))
        .stdout(predicate::str::contains("+  filter record.test == false // keep real ones"))
        .stdout(predicate::str::contains("+++ b/"));
    assert_eq!(fs::read_to_string(&path).unwrap(), UNFORMATTED);
}

#[test]
fn fmt_rewrites_files_in_directories_recursively_and_then_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let nested = write(dir.path(), "deep/er/b.flow", UNFORMATTED);
    let done = write(dir.path(), "c.flow", FORMATTED);
    flowgate().arg("fmt").arg(dir.path()).assert().code(0).stdout(predicate::str::contains("b.flow"));
    assert_eq!(fs::read_to_string(&nested).unwrap(), FORMATTED);
    assert_eq!(fs::read_to_string(&done).unwrap(), FORMATTED);
    flowgate().args(["fmt", "--check"]).arg(dir.path()).assert().code(0).stdout("");
}

#[test]
fn fmt_never_rewrites_a_file_that_does_not_parse_and_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "flow f {\n  filter (\n}\n";
    let path = write(dir.path(), "bad.flow", broken);
    let good = write(dir.path(), "good.flow", UNFORMATTED);
    for check in [true, false] {
        let mut cmd = flowgate();
        cmd.arg("fmt");
        if check {
            cmd.arg("--check");
        }
        cmd.arg(dir.path()).assert().code(2).stderr(predicate::str::contains("bad.flow does not parse"));
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
    }
    // The file that parses is still formatted.
    assert_eq!(fs::read_to_string(&good).unwrap(), FORMATTED);
}

#[test]
fn fmt_of_a_missing_path_exits_two() {
    flowgate().args(["fmt", "no/such/dir"]).assert().code(2).stderr(predicate::str::contains("no/such/dir"));
}

#[test]
fn fmt_dash_formats_standard_input() {
    flowgate().args(["fmt", "-"]).write_stdin(UNFORMATTED).assert().code(0).stdout(FORMATTED);
}
