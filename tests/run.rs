//! Running flows end to end: exact money, bad input held, dry-run reports, `flowgate test`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

/// Copies a fixture directory's files into a fresh temp dir, so runs write nowhere else.
fn sandbox(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let from = Path::new("tests/fixtures/run").join(f);
        let to = dir.path().join(f);
        copy(&from, &to);
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}

fn lines(path: PathBuf) -> Vec<serde_json::Value> {
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn money_is_exact_end_to_end() {
    let dir = sandbox(&["money.flow", "money.ndjson"]);
    flowgate().arg("run").arg(dir.path().join("money.flow")).assert().code(0);
    let out = fs::read_to_string(dir.path().join("out/money.ndjson")).unwrap();
    // Written as exact JSON numbers: 0.1 + 0.2 is 0.3, digits f64 cannot hold survive,
    // and round(…, 2, half_even) keeps its two places.
    assert_eq!(
        out,
        concat!(
            r#"{"id":1,"sum":0.3,"product":0.02,"rounded":0.30}"#,
            "\n",
            r#"{"id":2,"sum":12345678901234567.90,"product":123456789012345.6789,"rounded":12345678901234567.90}"#,
            "\n",
            r#"{"id":3,"sum":1.005,"product":0,"rounded":1.00}"#,
            "\n",
            r#"{"id":4,"sum":0.375,"product":0.03125,"rounded":0.38}"#,
            "\n",
        )
    );
}

#[test]
fn a_record_used_as_another_type_is_decoded_and_projected() {
    // `ship` is a `Place` written into a `Town` field, `bill` a `Spot` passed to a function
    // taking a `Town`: no expression reads `city` by their own types, yet both need it.
    let dir = sandbox(&["widened.flow", "widened.ndjson"]);
    flowgate().arg("run").arg(dir.path().join("widened.flow")).assert().code(0);
    let out = fs::read_to_string(dir.path().join("out/widened.ndjson")).unwrap();
    // The output has the declared type's fields only: a map target is closed.
    assert_eq!(out, "{\"id\":1,\"ship\":{\"city\":\"Leeds\"},\"where\":\"York\"}\n");
}

#[test]
fn bad_input_is_held_and_the_rest_goes_on() {
    let dir = sandbox(&["corpus.flow", "corpus"]);
    let state = dir.path().join("state.db");
    let out = flowgate().arg("run").arg(dir.path().join("corpus.flow")).arg("--state").arg(&state).output().unwrap();
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let delivered: Vec<i64> =
        lines(dir.path().join("out/corpus.ndjson")).iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_eq!(delivered, vec![1, 8, 11, 12], "{summary}");

    let holds = flowgate().args(["holds", "export", "--state"]).arg(&state).output().unwrap();
    assert_eq!(holds.status.code(), Some(0));
    let holds: Vec<serde_json::Value> =
        String::from_utf8(holds.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_reason = |r: &str| holds.iter().filter(|h| h["reason"] == r).count();
    // malformed line, deep nesting (in a field the flow never reads: still too deep),
    // invalid UTF-8, the empty file
    assert_eq!(by_reason("malformed_input"), 4, "{holds:#?}");
    // wrong type, missing field, number too large, fractional Int, "x" as Decimal, and
    // lines nested 5,000 deep (a list where a line should be)
    assert_eq!(by_reason("schema_mismatch"), 6, "{holds:#?}");
    assert_eq!(by_reason("no_lines"), 1);
    let missing =
        holds.iter().find(|h| h["message"].as_str().unwrap_or("").contains("`total`")).expect("a hold naming `total`");
    assert!(missing["message"].as_str().unwrap().contains("expected Decimal"), "{missing:#}");
    assert!(summary.contains("records in       15"), "{summary}");
    assert!(summary.contains("delivered         4"), "{summary}");
    assert!(summary.contains("held             11"), "{summary}");
}

#[test]
fn dry_run_of_the_example_flow() {
    let out = flowgate()
        .args(["run", "flows/shopify_orders_to_erp.flow", "--dry-run", "--now", "2026-11-24T12:00:00Z", "--state"])
        .arg(tempfile::tempdir().unwrap().path().join("state.db"))
        .env_remove("ERP_URL")
        .env_remove("ERP_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(!report.contains("ERP_TOKEN_VALUE"));
    insta::assert_snapshot!("dry_run_shopify_orders_to_erp", report);
}

#[test]
fn dry_run_never_prints_a_secret() {
    let out = flowgate()
        .args(["run", "flows/shopify_orders_to_erp.flow", "--dry-run", "--state"])
        .arg(tempfile::tempdir().unwrap().path().join("state.db"))
        .env("ERP_URL", "https://erp.example")
        .env("ERP_TOKEN", "s3cr3t-token-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("Authorization: Bearer <redacted>") || all.contains("Authorization: <redacted>"), "{all}");
    assert!(!all.contains("s3cr3t-token-value"));
    assert!(all.contains("POST https://erp.example/sales-orders"));
}

#[test]
fn a_real_run_refuses_to_start_without_its_environment() {
    flowgate()
        .args(["run", "flows/shopify_orders_to_erp.flow", "--state"])
        .arg(tempfile::tempdir().unwrap().path().join("state.db"))
        .env_remove("ERP_URL")
        .env_remove("ERP_TOKEN")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ERP_TOKEN").and(predicate::str::contains("ERP_URL")));
}

#[test]
fn flowgate_test_passes_on_the_shipped_cases() {
    flowgate()
        .args(["test", "flows"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"\n[1-9][0-9]* passed, 0 failed\n$").unwrap());
}

#[test]
fn flowgate_test_shows_a_diff_and_update_accepts() {
    let dir = tempfile::tempdir().unwrap();
    copy(Path::new("tests/fixtures/run/money.flow"), &dir.path().join("money.flow"));
    let case = dir.path().join("money.tests/basic");
    copy(Path::new("tests/fixtures/run/money.ndjson"), &case.join("input/money.ndjson"));
    fs::write(case.join("expected.txt"), "not what it does\n").unwrap();
    flowgate()
        .arg("test")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-not what it does").and(predicate::str::contains("0 passed, 1 failed")));
    flowgate().arg("test").arg("--update").arg(dir.path()).assert().code(0);
    flowgate().arg("test").arg(dir.path()).assert().code(0).stdout(predicate::str::contains("1 passed, 0 failed"));
    let expected = fs::read_to_string(case.join("expected.txt")).unwrap();
    assert!(expected.contains(r#""sum": 0.3"#), "{expected}");
}

#[test]
fn a_held_record_replays_after_the_flow_is_fixed() {
    let dir = sandbox(&["corpus.flow", "corpus"]);
    let flow = dir.path().join("corpus.flow");
    flowgate().arg("run").arg(&flow).assert().code(0);
    let state = dir.path().join(".flowgate/state.db");
    assert!(state.exists(), "state is kept beside the flow");
    // Still broken: replaying holds it again and counts the attempt.
    flowgate()
        .args(["holds", "replay"])
        .arg(&flow)
        .args(["--reason", "no_lines"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("held again: no_lines"));
    // Fix the rule, replay: delivered, and the hold is marked replayed with the outcome.
    let fixed = fs::read_to_string(&flow).unwrap().replace("count() > 0", "count() >= 0");
    fs::write(&flow, fixed).unwrap();
    flowgate()
        .args(["holds", "replay"])
        .arg(&flow)
        .args(["--reason", "no_lines"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("delivered to out").and(predicate::str::contains("1 replayed")));
    let out = flowgate()
        .args(["holds", "export", "--status", "all", "--reason", "no_lines", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let hold: serde_json::Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(hold["status"], "replayed");
    assert_eq!(hold["outcome"], "delivered to out");
    assert_eq!(hold["attempts"], 2);
    // The replayed record reached the sink, after what the first run delivered.
    let delivered: Vec<i64> =
        lines(dir.path().join("out/corpus.ndjson")).iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_eq!(delivered, vec![1, 8, 11, 12, 7]);
}

#[test]
fn a_record_held_after_dedupe_replays_and_is_not_its_own_duplicate() {
    let dir = sandbox(&["corpus.flow", "corpus"]);
    let flow = dir.path().join("corpus.flow");
    let with_dedupe = fs::read_to_string(&flow)
        .unwrap()
        .replace("  validate {", "  dedupe by \"${record.id}\" within 1d\n  validate {");
    fs::write(&flow, with_dedupe).unwrap();
    flowgate().arg("run").arg(&flow).assert().code(0);
    let fixed = fs::read_to_string(&flow).unwrap().replace("count() > 0", "count() >= 0");
    fs::write(&flow, fixed).unwrap();
    flowgate()
        .args(["holds", "replay"])
        .arg(&flow)
        .args(["--reason", "no_lines"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("delivered to out"));
}

#[test]
fn a_sink_with_batch_sends_arrays() {
    let dir = sandbox(&["batching_sink.flow", "money.ndjson"]);
    let out = flowgate()
        .arg("run")
        .arg(dir.path().join("batching_sink.flow"))
        .args(["--dry-run", "--state"])
        .arg(dir.path().join("s.db"))
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}{}", String::from_utf8_lossy(&out.stderr));
    // Four records in batches of two: two requests, each a JSON array.
    assert_eq!(report.matches("POST https://erp.example/stock").count(), 2, "{report}");
    assert!(report.contains("(2 records) → sink erp"), "{report}");
    assert!(report.contains("delivered         4"), "{report}");
    // With room for only one record's bytes, every request carries one.
    let flow = dir.path().join("batching_sink.flow");
    fs::write(&flow, fs::read_to_string(&flow).unwrap().replace("max_bytes: 200", "max_bytes: 20")).unwrap();
    let out =
        flowgate().arg("run").arg(&flow).args(["--dry-run", "--state"]).arg(dir.path().join("s.db")).output().unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.matches("POST https://erp.example/stock").count(), 4, "{report}");
}

/// Runs `flow` in `dir` as a dry run over `inputs`, with no `--state`: stdout and stderr.
fn dry_run_in(dir: &Path, flow: &str, inputs: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = flowgate();
    cmd.current_dir(dir).args(["run", flow, "--dry-run", "--now", "2026-11-24T12:00:00Z", "--input"]).args(inputs);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_dry_run_creates_no_files() {
    let dir = sandbox(&["money.flow", "money.ndjson"]);
    let out = flowgate().current_dir(dir.path()).args(["run", "money.flow", "--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut left: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, vec!["money.flow", "money.ndjson"], "a dry run wrote files");
}

#[test]
fn recorded_poll_pages_are_read_through_the_sources_records_path() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("poll.flow"), fs::read_to_string("tests/fixtures/http/poll.flow").unwrap()).unwrap();
    let page = r##"{"orders": [
        {"id": 1, "name": "#1001", "updated_at": "2026-11-01T10:00:00Z"},
        {"id": 2, "name": "#1002", "updated_at": "2026-11-01T11:00:00Z"}
    ]}"##;
    fs::write(dir.path().join("page1.json"), page).unwrap();
    let (code, report, err) = dry_run_in(dir.path(), "poll.flow", &["page1.json"], &[]);
    assert_eq!(code, 0, "{report}{err}");
    assert!(report.contains("records in        2"), "{report}");
    assert!(report.contains("delivered         2"), "{report}");
    assert!(report.contains("\"name\": \"#1002\""), "{report}");
}

#[test]
fn a_dry_run_filters_webhook_repeats_as_a_real_run_does_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let flow = r##"
type Order = { id: Int, name: String }
flow hooks {
  source hooks: webhook {
    path: "/hooks"
    signature: "shopify"
    secret: secret("HOOK_SECRET")
    dedupe_key: "${record.id}"
  } : Order
  sink out: stdout {}
}
"##;
    fs::write(dir.path().join("hooks.flow"), flow).unwrap();
    let bodies =
        "{\"id\": 1, \"name\": \"#1001\"}\n{\"id\": 2, \"name\": \"#1002\"}\n{\"id\": 1, \"name\": \"#1001\"}\n";
    fs::write(dir.path().join("requests.ndjson"), bodies).unwrap();
    let (code, report, err) = dry_run_in(dir.path(), "hooks.flow", &["requests.ndjson"], &[("HOOK_SECRET", "k")]);
    assert_eq!(code, 0, "{report}{err}");
    assert!(report.contains("delivered         2"), "{report}");
    // Counted under the source that filtered it, not under the sinks' `when`.
    assert!(report.contains("filtered          1   source hooks: 1"), "{report}");
    assert!(!report.contains("when"), "{report}");
}

#[test]
fn a_filtered_batch_counts_each_of_its_records() {
    let dir = sandbox(&["money.ndjson"]);
    let flow = r#"
type In = { id: Int, a: Decimal, b: Decimal }
flow batched {
  source rows: file { path: "money.ndjson" } : In
  batch { size: 2 }
  filter record.count() > 5
  sink out: stdout {}
}
"#;
    fs::write(dir.path().join("batched.flow"), flow).unwrap();
    let out = flowgate().current_dir(dir.path()).args(["run", "batched.flow", "--dry-run"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("records in        4"), "{report}");
    assert!(report.contains("filtered          4"), "{report}");
}

#[test]
fn a_webhook_endpoint_with_an_empty_secret_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy("tests/fixtures/http/webhook.flow", dir.path().join("webhook.flow")).unwrap();
    flowgate()
        .current_dir(dir.path())
        .args(["run", "webhook.flow", "--listen", "127.0.0.1:0", "--state", "s.db"])
        .env("SHOPIFY_WEBHOOK_SECRET", "")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("empty secret"));
}

/// The holds of `flow` with status `status`, as `holds export` gives them.
fn exported(state: &Path, status: &str) -> Vec<serde_json::Value> {
    let out = flowgate().args(["holds", "export", "--status", status, "--state"]).arg(state).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_hold_ends_when_a_later_run_delivers_its_record() {
    let dir = sandbox(&["corpus.flow", "corpus"]);
    let flow = dir.path().join("corpus.flow");
    flowgate().arg("run").arg(&flow).assert().code(0);
    let state = dir.path().join(".flowgate/state.db");
    let held: Vec<String> =
        exported(&state, "held").iter().map(|h| h["reason"].as_str().unwrap().to_string()).collect();
    assert!(held.contains(&"no_lines".to_string()), "{held:?}");
    // The cause is fixed and the same input is run again: the record goes through.
    let fixed = fs::read_to_string(&flow).unwrap().replace("count() > 0", "count() >= 0");
    fs::write(&flow, fixed).unwrap();
    flowgate().arg("run").arg(&flow).assert().code(0);
    let still: Vec<String> =
        exported(&state, "held").iter().map(|h| h["reason"].as_str().unwrap().to_string()).collect();
    assert!(!still.contains(&"no_lines".to_string()), "the delivered record is still counted as held: {still:?}");
    let ended = exported(&state, "replayed");
    let hold = ended.iter().find(|h| h["reason"] == "no_lines").expect("the hold is ended, not deleted");
    let outcome = hold["outcome"].as_str().unwrap();
    assert!(outcome.starts_with("delivered to out by a later run"), "{outcome}");
    // Nothing is left to send twice.
    flowgate()
        .args(["holds", "replay"])
        .arg(&flow)
        .args(["--reason", "no_lines"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("nothing to replay"));
}

#[test]
fn a_repeat_filtered_by_dedupe_does_not_end_the_hold_of_its_record() {
    let dir = sandbox(&["corpus.flow", "corpus"]);
    let flow = dir.path().join("corpus.flow");
    let with_dedupe = fs::read_to_string(&flow)
        .unwrap()
        .replace("  validate {", "  dedupe by \"${record.id}\" within 1d\n  validate {");
    fs::write(&flow, with_dedupe).unwrap();
    flowgate().arg("run").arg(&flow).assert().code(0);
    let state = dir.path().join(".flowgate/state.db");
    let before = exported(&state, "held").len();
    assert!(before > 0);
    // The hold committed the record's key, so a rerun filters it as a repeat: it was
    // never delivered, and its hold stays open.
    flowgate().arg("run").arg(&flow).assert().code(0);
    assert_eq!(exported(&state, "held").len(), before);
}

#[test]
fn a_replay_reads_its_records_whatever_format_the_source_declares() {
    let dir = tempfile::tempdir().unwrap();
    let flow = r##"
type Order = { id: Int, lines: Int }
flow json_orders {
  source orders: file { path: "orders.txt", format: "json" } : Order
  hold when record.lines == 0 "no_lines" "order ${record.id} has no lines"
  sink out: file { path: "out.ndjson" }
}
"##;
    fs::write(dir.path().join("orders.flow"), flow).unwrap();
    fs::write(dir.path().join("orders.txt"), r#"[{"id": 1, "lines": 2}, {"id": 2, "lines": 0}]"#).unwrap();
    flowgate().current_dir(dir.path()).args(["run", "orders.flow"]).assert().code(0);
    let fixed = flow.replace("record.lines == 0", "record.lines < 0");
    fs::write(dir.path().join("orders.flow"), fixed).unwrap();
    flowgate()
        .current_dir(dir.path())
        .args(["holds", "replay", "orders.flow", "--all"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("delivered to out").and(predicate::str::contains("1 replayed")));
    let ids: Vec<i64> = lines(dir.path().join("out.ndjson")).iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2]);
}

#[test]
fn a_held_batch_is_replayed_whole_never_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"
type Level = { sku: String, qty: Int }
flow stock {
  source levels: file { path: "levels.ndjson" } : Level
  batch { size: 3 }
  map { total: record.map(l => l.qty).sum(), skus: record.map(l => l.sku) }
  hold when record.total > 10 "too_much" "a batch of ${record.total}"
  sink out: file { path: "out.ndjson" }
}
"#;
    fs::write(dir.path().join("stock.flow"), flow).unwrap();
    let levels: String = [("A", 1), ("B", 2), ("C", 3), ("D", 5), ("E", 5), ("F", 5), ("G", 1)]
        .iter()
        .map(|(s, q)| format!("{{\"sku\": \"{s}\", \"qty\": {q}}}\n"))
        .collect();
    fs::write(dir.path().join("levels.ndjson"), levels).unwrap();
    flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).assert().code(0);
    let state = dir.path().join(".flowgate/state.db");
    let held = exported(&state, "held");
    assert_eq!(held.len(), 3, "{held:?}");
    let one = held[1]["id"].as_i64().unwrap().to_string();
    fs::write(dir.path().join("stock.flow"), flow.replace("> 10", "> 100")).unwrap();
    // Replaying one record of the batch sends the whole batch, as it was.
    let out =
        flowgate().current_dir(dir.path()).args(["holds", "replay", "stock.flow", "--id", &one]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("3 replayed"), "{said}");
    let sent = lines(dir.path().join("out.ndjson"));
    let last = sent.last().unwrap();
    assert_eq!(last["total"], 15, "{sent:?}");
    assert_eq!(last["skus"], serde_json::json!(["D", "E", "F"]));
    assert!(exported(&state, "held").is_empty());
}
