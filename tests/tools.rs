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

// ------------------------------------------------------------------ explain

#[test]
fn explain_prints_the_section_of_every_code() {
    let page = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md")).unwrap();
    for code in flowgate::diagnostic::Code::ALL {
        let heading = format!("## {}: {}", code.as_str(), code.title());
        assert!(page.contains(&heading), "docs/diagnostics.md has no section `{heading}`");
        let out = flowgate().args(["explain", code.as_str()]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "explain {}", code.as_str());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(&heading), "explain {} printed:\n{text}", code.as_str());
        // Only this section: the next code's heading is not in it.
        assert_eq!(text.matches("\n## ").count(), 0, "explain {} printed more than its section", code.as_str());
        assert!(text.lines().count() > 3, "explain {} printed only a heading", code.as_str());
    }
}

#[test]
fn explain_takes_any_case_and_prints_the_fixed_example() {
    flowgate()
        .args(["explain", "e0107"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("## E0107: unrounded Decimal into a scaled target"))
        .stdout(predicate::str::contains("round("));
}

#[test]
fn explain_of_an_unknown_code_exits_two_and_suggests_the_nearest() {
    flowgate()
        .args(["explain", "E107"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("`E107` is not a flowgate diagnostic code"))
        .stderr(predicate::str::contains("E0107 (unrounded Decimal into a scaled target)"));
}

// ------------------------------------------------------------------ graph

#[test]
fn graph_of_the_example_flows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["shopify_orders_to_erp", "shopify_inventory_to_erp"] {
        let flow = root.join(format!("flows/{name}.flow"));
        for format in ["mermaid", "dot"] {
            let out = flowgate().args(["graph", "--format", format]).arg(&flow).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            insta::assert_snapshot!(format!("graph_{name}_{format}"), String::from_utf8(out.stdout).unwrap());
        }
    }
}

#[test]
fn the_documented_graph_is_the_current_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = flowgate().arg("graph").arg(root.join("flows/shopify_orders_to_erp.flow")).output().unwrap();
    let graph = String::from_utf8(out.stdout).unwrap();
    let doc = fs::read_to_string(root.join("docs/tools.md")).unwrap();
    assert!(
        doc.contains(&format!("```mermaid\n{graph}```")),
        "docs/tools.md should show the graph of flows/shopify_orders_to_erp.flow as it is now:\n{graph}"
    );
}

const ROUTED: &str = r#"
import shopify
lookup regions: String -> String = { "CA" => "NA", "DE" => "EU" }
fn region(o: shopify.Order) -> String = regions[o.currency] ?? hold "unknown_region" "no region for ${o.currency}"
flow routed {
  source orders: stdin {} : shopify.Order
  let r = region(record)
  sink big: http.post { url: "http://localhost/x", when: record.total_price > 100.00 }
  sink small: file { path: "out.ndjson", when: record.total_price <= 100.00 }
}
"#;

#[test]
fn graph_shows_when_conditions_and_what_called_functions_read_and_hold() {
    let dir = tempfile::tempdir().unwrap();
    let flow = write(dir.path(), "routed.flow", ROUTED);
    let out = flowgate().arg("graph").arg(&flow).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "  stage1[\"1. let r<br/>line 7\"]",
        "  stage1 -- \"when record.total_price #gt; 100.00\" --> sink1",
        "  stage1 -- \"when record.total_price #lt;= 100.00\" --> sink2",
        "  lookup1 -.-> stage1",
        "  held3{{\"held: unknown_region\"}}",
        "  stage1 -.-> held3",
        "  sink1 -.-> held4",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    // A file sink fails no HTTP request.
    assert!(!text.contains("sink2 -.->"), "{text}");
    let dot = flowgate().args(["graph", "--format", "dot"]).arg(&flow).output().unwrap();
    let dot = String::from_utf8(dot.stdout).unwrap();
    assert!(dot.contains("stage1 -> sink1 [label=\"when record.total_price > 100.00\"];"), "{dot}");
}

#[test]
fn graph_svg_without_graphviz_says_what_is_missing() {
    let empty = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    flowgate()
        .env("PATH", empty.path())
        .args(["graph", "--format", "svg"])
        .arg(root.join("flows/shopify_orders_to_erp.flow"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs Graphviz's `dot`"));
}

#[test]
fn graph_of_a_flow_with_errors_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let flow = write(dir.path(), "bad.flow", "flow f {\n  source s: stdin {} : Nope\n  sink o: stdout {}\n}\n");
    flowgate().arg("graph").arg(&flow).assert().code(2).stderr(predicate::str::contains("E0101"));
}
