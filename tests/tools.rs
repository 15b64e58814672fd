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

// ------------------------------------------------------------------ init

const INIT_COMBINATIONS: [(&str, &str); 4] =
    [("shopify", "erp"), ("shopify", "file"), ("woocommerce", "erp"), ("woocommerce", "file")];

#[test]
fn init_writes_a_flow_that_checks_is_formatted_and_passes_its_recorded_case() {
    for (from, to) in INIT_COMBINATIONS {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("project");
        flowgate().args(["init", "--from", from, "--to", to]).arg(&dir).assert().success();
        let name = format!("{from}_orders_to_{to}");
        let flow = fs::read_to_string(dir.join(format!("{name}.flow"))).unwrap();
        assert!(flow.contains(&format!("import {from}")), "{name}:\n{flow}");
        assert!(flow.contains("validate {"), "{name}");
        assert!(flow.contains("csv(\"lookups/carriers.csv\""), "{name}");
        let readme = fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(readme.contains(&format!("flowgate run {name}.flow --dry-run")), "{readme}");

        flowgate().current_dir(&dir).args(["check", "--deny-warnings", "."]).assert().success();
        flowgate().current_dir(&dir).args(["fmt", "--check", "."]).assert().success();
        flowgate()
            .current_dir(&dir)
            .args(["test", "."])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("ok      {name}.flow :: recorded_orders")))
            .stdout(predicate::str::contains("1 passed, 0 failed"));
        // The same case, run from elsewhere, still passes: the report names no directory.
        flowgate().arg("test").arg(&dir).assert().success().stdout(predicate::str::contains("1 passed"));

        // The recorded report shows each feature: a delivery with the looked-up carrier and
        // a record held for its missing email.
        let expected = fs::read_to_string(dir.join(format!("{name}.tests/recorded_orders/expected.txt"))).unwrap();
        let sink = if to == "erp" { "sink erp" } else { "sink export" };
        assert!(expected.contains(sink), "{name}:\n{expected}");
        assert!(expected.contains("\"carrier\": \"STD\""), "{name}:\n{expected}");
        assert!(expected.contains("held `no_email`"), "{name}:\n{expected}");
        assert!(expected.contains("delivered         1"), "{name}:\n{expected}");
        if to == "erp" {
            assert!(expected.contains("POST <ERP_URL>/sales-orders"), "{name}:\n{expected}");
        }

        // A dry run of the flow as written reads the sample orders beside it.
        flowgate()
            .current_dir(&dir)
            .args(["run", &format!("{name}.flow"), "--dry-run"])
            .assert()
            .success()
            .stdout(predicate::str::contains("records in        2"));
    }
}

#[test]
fn init_records_the_report_that_test_update_would() {
    let tmp = tempfile::tempdir().unwrap();
    flowgate().args(["init", "--from", "woocommerce", "--to", "erp"]).arg(tmp.path()).assert().success();
    let expected = tmp.path().join("woocommerce_orders_to_erp.tests/recorded_orders/expected.txt");
    let written = fs::read_to_string(&expected).unwrap();
    flowgate().arg("test").arg(tmp.path()).arg("--update").assert().success();
    assert_eq!(fs::read_to_string(&expected).unwrap(), written);
}

#[test]
fn init_defaults_to_shopify_into_the_erp_in_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    flowgate()
        .current_dir(tmp.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("shopify_orders_to_erp.flow"));
    assert!(tmp.path().join("shopify_orders_to_erp.tests/recorded_orders/expected.txt").is_file());
    assert!(tmp.path().join("lookups/carriers.csv").is_file());
}

#[test]
fn init_never_overwrites_a_file_and_writes_nothing_then() {
    let tmp = tempfile::tempdir().unwrap();
    let readme = write(tmp.path(), "README.md", "my own readme\n");
    flowgate()
        .args(["init", "--from", "shopify", "--to", "file"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("README.md already exists"));
    assert_eq!(fs::read_to_string(&readme).unwrap(), "my own readme\n");
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("README.md")]);

    // A second init into a scaffolded directory is refused the same way.
    let other = tempfile::tempdir().unwrap();
    flowgate().arg("init").arg(other.path()).assert().success();
    let flow = other.path().join("shopify_orders_to_erp.flow");
    fs::write(&flow, "// edited\n").unwrap();
    flowgate()
        .arg("init")
        .arg(other.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("shopify_orders_to_erp.flow already exists"));
    assert_eq!(fs::read_to_string(&flow).unwrap(), "// edited\n");
}

#[test]
fn init_refuses_an_unknown_source_or_target_naming_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    flowgate()
        .args(["init", "--from", "magento"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("magento").and(predicate::str::contains("shopify, woocommerce")));
    flowgate()
        .args(["init", "--to", "sap"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sap").and(predicate::str::contains("erp, file")));
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

// ------------------------------------------------------------------ editors

fn editor_json(path: &str) -> serde_json::Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode").join(path);
    let text = fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every `match`, `begin` and `end` pattern of a TextMate grammar, with the rule's name.
fn grammar_patterns(v: &serde_json::Value, name: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            let name = m.get("name").and_then(|n| n.as_str()).unwrap_or(name);
            for key in ["match", "begin", "end"] {
                if let Some(p) = m.get(key).and_then(|p| p.as_str()) {
                    out.push((name.to_string(), p.to_string()));
                }
            }
            for (k, child) in m {
                if !matches!(k.as_str(), "match" | "begin" | "end") {
                    grammar_patterns(child, name, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| grammar_patterns(i, name, out)),
        _ => {}
    }
}

#[test]
fn the_vscode_extension_names_files_that_exist_and_parse() {
    let package = editor_json("package.json");
    let contributes = &package["contributes"];
    assert_eq!(contributes["languages"][0]["extensions"][0], ".flow");
    for path in [
        &contributes["languages"][0]["configuration"],
        &contributes["grammars"][0]["path"],
        &contributes["snippets"][0]["path"],
        &package["main"],
    ] {
        let path = path.as_str().unwrap().trim_start_matches("./");
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode").join(path).is_file(), "{path}");
    }
    let config = editor_json("language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
    assert_eq!(config["comments"]["blockComment"], serde_json::json!(["/*", "*/"]));
    let snippets = editor_json("snippets/flow.json");
    for prefix in ["source", "sink", "type", "lookup", "flow", "map", "validate"] {
        assert!(snippets.as_object().unwrap().values().any(|s| s["prefix"] == prefix), "no snippet for {prefix}");
    }
    let extension =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/extension.js")).unwrap();
    assert!(extension.contains("args: [\"lsp\"]") && extension.contains("get(\"path\")"));
}

#[test]
fn the_textmate_grammar_compiles_and_its_literals_match_the_language() {
    let grammar = editor_json("syntaxes/flow.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.flow");
    let mut patterns = Vec::new();
    grammar_patterns(&grammar, "", &mut patterns);
    assert!(patterns.len() > 30, "{patterns:?}");
    let mut compiled = std::collections::HashMap::new();
    for (name, pattern) in &patterns {
        // Lookaround and backreferences are Oniguruma's alone; the rest must compile here too.
        if pattern.contains("(?=") || pattern.contains("(?!") || pattern.contains("(?<") {
            continue;
        }
        let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{name}: {pattern}: {e}"));
        compiled.insert(name.clone(), re);
    }
    // Each literal's pattern takes the whole of the literals the grammar (flow.pest) accepts.
    let whole = |name: &str, text: &str| {
        let re = compiled.get(name).unwrap_or_else(|| panic!("no pattern named {name}"));
        assert!(re.find(text).is_some_and(|m| m.as_str() == text), "{name} does not match {text}");
    };
    for d in ["5m", "1h30m", "250ms", "7d", "2w"] {
        whole("constant.numeric.duration.flow", d);
    }
    for r in ["10/s", "600/m", "1/h"] {
        whole("constant.numeric.rate.flow", r);
    }
    whole("constant.numeric.status-class.flow", "5xx");
    whole("constant.numeric.decimal.flow", "10000.00");
    whole("constant.numeric.integer.flow", "429");
    whole("constant.numeric.float.flow", "1.5e3");
    whole("comment.line.double-slash.flow", "// a comment");
    assert!(!compiled["constant.numeric.duration.flow"].is_match("5sec "), "5sec is not a duration");
}
