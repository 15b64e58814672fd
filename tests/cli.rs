//! The `flowgate` binary as CI and users run it: exit codes, output formats, `--emit`.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).expect("write fixture");
    path
}

const CLEAN: &str = r#"
import shopify
flow ok {
  source orders: stdin {} : shopify.Order
  filter record.line_items.count() > 0
  sink out: stdout {}
}
"#;

const BROKEN: &str = r#"
import shopify
flow broken {
  source orders: stdin {} : shopify.Order
  filter record.totl_price > 10
  sink out: stdout {}
}
"#;

const WARNS: &str = r#"
import shopify
import erp
flow warns {
  source orders: stdin {} : shopify.Order
  sink out: stdout {}
}
"#;

#[test]
fn clean_file_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "ok.flow", CLEAN);
    flowgate()
        .arg("check")
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("checked 1 file: 0 errors, 0 warnings"));
}

#[test]
fn errors_exit_one_and_name_the_code_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "broken.flow", BROKEN);
    flowgate()
        .arg("check")
        .arg(&f)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("E0102"))
        .stdout(predicate::str::contains("did you mean `total_price`?"))
        // piped output carries no colour codes
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn missing_path_exits_two() {
    flowgate()
        .args(["check", "definitely/not/here.flow"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("definitely/not/here.flow"));
}

#[test]
fn a_missing_path_is_named_as_missing() {
    flowgate()
        .args(["check", "definitely/not/here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("definitely/not/here does not exist"));
}

#[test]
fn a_directory_without_flows_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "notes.txt", "not a flow");
    flowgate()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(format!("no .flow files in {}", dir.path().display())));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "warns.flow", WARNS);
    flowgate().arg("check").arg(&f).assert().code(0).stdout(predicate::str::contains("W0003"));
    flowgate().arg("check").arg("--deny-warnings").arg(&f).assert().code(1);
}

#[test]
fn json_format_has_one_object_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "broken.flow", BROKEN);
    let out = flowgate().args(["check", "--format", "json"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    let d = &lines[0];
    assert_eq!(d["code"], "E0102");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 5);
    assert_eq!(d["column"], 17);
    // `end` is the position just after the span
    assert_eq!(d["end"]["column"], 27);
    assert!(d["file"].as_str().unwrap().ends_with("broken.flow"));
    assert!(d["message"].as_str().unwrap().contains("totl_price"));
    assert!(d["help"].as_str().unwrap().contains("total_price"));
}

#[test]
fn github_format_prints_workflow_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "broken.flow", BROKEN);
    flowgate().args(["check", "--format", "github"]).arg(&f).assert().code(1).stdout(
        predicate::str::is_match(
            r"^::error file=[^,]*broken\.flow,line=5,col=17,endLine=5,endColumn=26,title=E0102 unknown field::",
        )
        .unwrap(),
    );
}

#[test]
fn directories_are_searched_recursively() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("a/b")).unwrap();
    write(&dir, "a/ok.flow", CLEAN);
    write(&dir, "a/b/broken.flow", BROKEN);
    write(&dir, "a/b/notes.txt", "not a flow");
    flowgate()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("checked 2 files: 1 error, 0 warnings"));
}

#[test]
fn the_shipped_flows_and_stdlib_are_clean() {
    flowgate().args(["check", "--deny-warnings", "flows", "stdlib"]).assert().code(0);
}

#[test]
fn emit_ir_of_the_example_flows() {
    for flow in ["flows/shopify_orders_to_erp.flow", "flows/shopify_inventory_to_erp.flow"] {
        let out = flowgate().args(["check", "--emit", "ir", flow]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let name = flow.trim_start_matches("flows/").trim_end_matches(".flow");
        insta::assert_snapshot!(format!("ir_{name}"), String::from_utf8(out.stdout).unwrap());
    }
}

#[test]
fn emit_ir_refuses_a_broken_flow() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "broken.flow", BROKEN);
    flowgate().args(["check", "--emit", "ir"]).arg(&f).assert().code(1).stdout(predicate::str::is_empty());
}
