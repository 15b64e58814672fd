//! `group by`: records folded into one record per key, each record ending once with its
//! group (delivered, or held and replayed whole), and the run's accounting balanced.

mod common;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn exported(state: &Path, status: &str) -> Vec<serde_json::Value> {
    let out = flowgate().args(["holds", "export", "--status", status, "--state"]).arg(state).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Stock levels of three locations, the first seen first; amounts a float would not add up.
const LEVELS: &str = r#"{"sku": "A", "location": "north", "value": "0.10", "qty": 1}
{"sku": "B", "location": "south", "value": "19.99", "qty": 2}
{"sku": "C", "location": "north", "value": "0.20", "qty": 3}
{"sku": "D", "location": "east", "value": "12345678901234567.80", "qty": 5}
{"sku": "E", "location": "south", "value": "0.01", "qty": 5}
{"sku": "F", "location": "east", "value": "0.10", "qty": 5}
"#;

const STOCK: &str = r#"
type Level = { sku: String, location: String, value: Decimal(2), qty: Int }
flow stock {
  source levels: file { path: "levels.ndjson" } : Level
  group by record.location {
    location: key
    value: sum(record.value)
    qty: sum(record.qty)
    bins: count()
    first: first(record.sku)
    last: last(record.sku)
    skus: list(record.sku)
    most: max(record.qty)
  }
  sink out: file { path: "out.ndjson" }
}
"#;

fn stock_dir(flow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("stock.flow"), flow).unwrap();
    fs::write(dir.path().join("levels.ndjson"), LEVELS).unwrap();
    dir
}

#[test]
fn records_are_folded_into_one_record_per_key_in_order_of_first_appearance() {
    let dir = stock_dir(STOCK);
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let sent = lines(&dir.path().join("out.ndjson"));
    let locations: Vec<&str> = sent.iter().map(|g| g["location"].as_str().unwrap()).collect();
    assert_eq!(locations, ["north", "south", "east"]);
    // Exact: 0.10 + 0.20 is 0.30, and digits a float cannot hold survive the sum.
    let text = fs::read_to_string(dir.path().join("out.ndjson")).unwrap();
    assert!(text.contains(r#""value":0.30"#), "{text}");
    assert!(text.contains(r#""value":12345678901234567.90"#), "{text}");
    assert_eq!(sent[1]["value"].to_string(), "20.00");
    assert_eq!(sent[0]["qty"], 4);
    assert_eq!(sent[0]["bins"], 2);
    assert_eq!((sent[0]["first"].as_str(), sent[0]["last"].as_str()), (Some("A"), Some("C")));
    assert_eq!(sent[2]["skus"], serde_json::json!(["D", "F"]));
    assert_eq!(sent[1]["most"], 5);
    // Six records in, three groups out, six delivered (each with its group): balanced.
    assert!(said.contains("records in        6"), "{said}");
    assert!(said.contains("groups out        3"), "{said}");
    assert!(said.contains("delivered         6"), "{said}");
}

#[test]
fn a_held_group_holds_each_record_once_and_a_replay_sends_the_whole_group() {
    let flow = STOCK.replace(
        "  sink out:",
        "  hold when record.qty > 9 \"too_much\" \"${record.location} has ${record.qty}\"\n  sink out:",
    );
    let dir = stock_dir(&flow);
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    // east (5 + 5) is held: its two records, once each, with the group's reason.
    assert!(said.contains("held              2"), "{said}");
    assert!(said.contains("delivered         4"), "{said}");
    let state = dir.path().join(".flowgate/state.db");
    let held = exported(&state, "held");
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held.iter().all(|h| h["reason"] == "too_much" && h["message"] == "east has 10"), "{held:?}");
    let records: Vec<&str> = held.iter().map(|h| h["record"]["sku"].as_str().unwrap()).collect();
    assert_eq!(records, ["D", "F"]);
    // Replaying one of them sends the group again whole: both records, summed as before.
    fs::write(dir.path().join("stock.flow"), flow.replace("> 9", "> 99")).unwrap();
    let one = held[1]["id"].as_i64().unwrap().to_string();
    let out =
        flowgate().current_dir(dir.path()).args(["holds", "replay", "stock.flow", "--id", &one]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("2 replayed"), "{said}");
    let sent = lines(&dir.path().join("out.ndjson"));
    let last = sent.last().unwrap();
    assert_eq!((last["location"].as_str(), last["qty"].as_i64()), (Some("east"), Some(10)), "{sent:?}");
    assert_eq!(last["skus"], serde_json::json!(["D", "F"]));
    assert!(exported(&state, "held").is_empty());
}

#[test]
fn a_record_held_before_its_group_is_not_replayed_into_a_group_of_its_own() {
    let flow = STOCK.replace(
        "  group by record.location {",
        "  hold when record.sku == \"E\" \"not_yet\"\n  group by record.location {",
    );
    let dir = stock_dir(&flow);
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    // south went out without E: B's 2 alone.
    let sent = lines(&dir.path().join("out.ndjson"));
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!((sent[1]["location"].as_str(), sent[1]["qty"].as_i64()), (Some("south"), Some(2)));
    // Replayed alone, E would be a south of its own (qty 5): a total of part of south's
    // records, sent as if it were south's. It is held again, and nothing is sent.
    fs::write(dir.path().join("stock.flow"), STOCK).unwrap();
    let state = dir.path().join(".flowgate/state.db");
    let out = flowgate()
        .current_dir(dir.path())
        .args(["holds", "replay", "stock.flow", "--reason", "not_yet"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("held again: group_incomplete"), "{said}");
    assert_eq!(lines(&dir.path().join("out.ndjson")).len(), 3);
    let held = exported(&state, "held");
    assert_eq!((held.len(), held[0]["record"]["sku"].as_str()), (1, Some("E")), "{held:?}");
}

#[test]
fn a_total_remembered_after_a_group_is_committed_with_the_group_and_by_its_replay() {
    let flow = STOCK.replace(
        "  sink out:",
        "  state last: Int by record.location = record.qty\n  filter last != record.qty\n  hold when record.qty > 9 \"too_much\"\n  sink out:",
    );
    let dir = stock_dir(&flow);
    let run = |dir: &Path| {
        let out = flowgate().current_dir(dir).args(["run", "stock.flow"]).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{said}");
        said
    };
    // east (10) is held after the state stage: its total is not remembered.
    let said = run(dir.path());
    assert!(said.contains("delivered         4"), "{said}");
    assert!(said.contains("held              2"), "{said}");
    fs::write(dir.path().join("stock.flow"), flow.replace("> 9", "> 99")).unwrap();
    let out = flowgate().current_dir(dir.path()).args(["holds", "replay", "stock.flow", "--all"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // The same input again: every total is the one remembered, east's by its replay.
    let said = run(dir.path());
    assert!(said.contains("delivered         0"), "{said}");
    assert!(said.contains("filtered          6"), "{said}");
    assert_eq!(lines(&dir.path().join("out.ndjson")).len(), 3);
}

#[test]
fn a_record_whose_key_cannot_be_worked_out_is_held_alone_and_the_run_balances() {
    let flow = STOCK
        .replace("location: String,", "location: String?,")
        .replace("group by record.location {", "group by record.location ?? hold \"no_location\" {");
    let dir = stock_dir(&flow);
    let levels = LEVELS.to_string() + "{\"sku\": \"G\", \"location\": null, \"value\": \"1.00\", \"qty\": 1}\n";
    fs::write(dir.path().join("levels.ndjson"), levels).unwrap();
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("records in        7"), "{said}");
    assert!(said.contains("held              1"), "{said}");
    assert!(said.contains("delivered         6"), "{said}");
    let held = exported(&dir.path().join(".flowgate/state.db"), "held");
    assert_eq!((held.len(), held[0]["reason"].as_str()), (1, Some("no_location")));
}

#[test]
fn a_group_a_sink_refuses_is_held_whole_with_the_sinks_reason() {
    let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = bodies.clone();
    let app = axum::Router::new().route(
        "/stock",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let seen = seen.clone();
            async move {
                let refused = body["location"] == "south";
                seen.lock().unwrap().push(body);
                if refused {
                    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, "unknown warehouse south")
                } else {
                    (axum::http::StatusCode::OK, "ok")
                }
            }
        }),
    );
    let addr = common::serve(app);
    let flow = STOCK.replace(
        "  sink out: file { path: \"out.ndjson\" }",
        "  sink erp: http.post { url: env(\"ERP_URL\") + \"/stock\", retry: { attempts: 1 } }",
    );
    let dir = stock_dir(&flow);
    let out = flowgate()
        .current_dir(dir.path())
        .env("ERP_URL", format!("http://{addr}"))
        .args(["run", "stock.flow"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(bodies.lock().unwrap().len(), 3, "one request a group");
    assert!(said.contains("held              2"), "{said}");
    assert!(said.contains("delivered         4"), "{said}");
    let held = exported(&dir.path().join(".flowgate/state.db"), "held");
    let skus: Vec<&str> = held.iter().map(|h| h["record"]["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["B", "E"], "{held:?}");
    assert!(held.iter().all(|h| h["batch"].is_string() && h["batch"] == held[0]["batch"]), "{held:?}");
}

#[test]
fn a_group_is_formatted_one_field_a_line_and_still_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.flow");
    let messy = "type L = { sku: String, location: String, qty: Int }\nflow g {\n  source l: stdin {} : L\n  group   by record.location   within 30s   { location: key, qty: sum(record.qty) }\n  sink out: stdout {}\n}\n";
    fs::write(&path, messy).unwrap();
    flowgate().args(["fmt"]).arg(&path).assert().code(0);
    let formatted = fs::read_to_string(&path).unwrap();
    assert!(
        formatted
            .contains("  group by record.location within 30s {\n    location: key\n    qty: sum(record.qty)\n  }\n"),
        "{formatted}"
    );
    flowgate().args(["check"]).arg(&path).assert().code(0);
}

#[test]
fn groups_batched_together_end_each_of_their_records_and_are_replayed_as_the_same_groups() {
    let flow = r#"
type Level = { sku: String, location: String, qty: Int }
flow stock {
  source levels: file { path: "levels.ndjson" } : Level
  group by record.location {
    location: key
    qty: sum(record.qty)
  }
  batch { size: 10 }
  hold when record.map(g => g.qty).sum() > 5 "too_much" "a batch of ${record.len()} groups"
  sink out: file { path: "out.ndjson" }
}
"#;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("stock.flow"), flow).unwrap();
    let levels = "{\"sku\": \"A\", \"location\": \"n\", \"qty\": 1}\n{\"sku\": \"B\", \"location\": \"s\", \"qty\": 2}\n{\"sku\": \"C\", \"location\": \"n\", \"qty\": 3}\n";
    fs::write(dir.path().join("levels.ndjson"), levels).unwrap();
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    // Three records in two groups in one batch: each record held once.
    assert!(said.contains("groups out        2"), "{said}");
    assert!(said.contains("held              3"), "{said}");
    let state = dir.path().join(".flowgate/state.db");
    let held = exported(&state, "held");
    assert_eq!(held.len(), 3, "{held:?}");
    fs::write(dir.path().join("stock.flow"), flow.replace("> 5", "> 50")).unwrap();
    let out = flowgate().current_dir(dir.path()).args(["holds", "replay", "stock.flow", "--all"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("3 replayed"), "{said}");
    // The same two groups again, in one batch: not one group of the three records.
    let sent = lines(&dir.path().join("out.ndjson"));
    assert_eq!(sent, vec![serde_json::json!([{"location": "n", "qty": 4}, {"location": "s", "qty": 2}])]);
    assert!(exported(&state, "held").is_empty());
}

#[test]
fn a_typed_group_is_built_in_its_declared_numeric_form() {
    let flow = r#"
type Level = { sku: String, location: String, qty: Int, value: Decimal }
type Total = { location: String, qty: Decimal(2), value: Decimal(2), n: Int }
flow stock {
  source levels: file { path: "levels.ndjson" } : Level
  group by record.location : Total {
    location: key
    qty: sum(record.qty)
    value: round(sum(record.value), 2, half_even)
    n: count()
  }
  sink out: file { path: "out.ndjson" }
}
"#;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("stock.flow"), flow).unwrap();
    let levels = "{\"sku\": \"A\", \"location\": \"n\", \"qty\": 1, \"value\": \"0.105\"}\n{\"sku\": \"B\", \"location\": \"s\", \"qty\": 2, \"value\": \"1\"}\n{\"sku\": \"C\", \"location\": \"n\", \"qty\": 3, \"value\": \"0.1\"}\n";
    fs::write(dir.path().join("levels.ndjson"), levels).unwrap();
    flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).assert().code(0);
    // An Int sum in a Decimal(2) field has two places; 0.105 + 0.1 rounds half-even to 0.20.
    assert_eq!(
        fs::read_to_string(dir.path().join("out.ndjson")).unwrap(),
        "{\"location\":\"n\",\"qty\":4.00,\"value\":0.20,\"n\":2}\n{\"location\":\"s\",\"qty\":2.00,\"value\":1.00,\"n\":1}\n"
    );
}

/// A webhook's input never ends: its groups close with their window, and a record after a
/// close opens the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_flow_closes_its_groups_with_their_window() {
    use flowgate::connectors::webhook::sign;
    use std::time::{Duration, Instant};
    const SECRET: &str = "whsec-group-1";
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"
type Level = { sku: String, location: String, qty: Int }
flow pushed {
  source levels: webhook { path: "/hooks/levels", signature: "shopify", secret: secret("SHOPIFY_WEBHOOK_SECRET") } : Level
  group by record.location within 2s {
    location: key
    qty: sum(record.qty)
    skus: list(record.sku)
  }
  sink out: file { path: "out.ndjson" }
}
"#;
    fs::write(dir.path().join("pushed.flow"), flow).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .current_dir(dir.path())
        .args(["run", "pushed.flow", "--listen", &format!("127.0.0.1:{port}")])
        .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    while !client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(start.elapsed() < Duration::from_secs(10), "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = |sku: &str, location: &str, qty: i64| {
        let body = format!("{{\"sku\": \"{sku}\", \"location\": \"{location}\", \"qty\": {qty}}}");
        client
            .post(format!("{base}/hooks/levels"))
            .header("X-Shopify-Webhook-Id", sku)
            .header("X-Shopify-Hmac-Sha256", sign(SECRET.as_bytes(), body.as_bytes()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    for (sku, location, qty) in [("A", "north", 1), ("B", "south", 2), ("C", "north", 3)] {
        assert_eq!(post(sku, location, qty).await.unwrap().status(), 202);
    }
    let out = dir.path().join("out.ndjson");
    let wait_lines = |n: usize| {
        let start = Instant::now();
        while fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < n {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {n} groups");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_lines(2);
    // A record after the window closed opens the next one.
    assert_eq!(post("D", "north", 5).await.unwrap().status(), 202);
    wait_lines(3);
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let sent = lines(&out);
    assert_eq!(sent[0], serde_json::json!({"location": "north", "qty": 4, "skus": ["A", "C"]}));
    assert_eq!(sent[1], serde_json::json!({"location": "south", "qty": 2, "skus": ["B"]}));
    assert_eq!(sent[2], serde_json::json!({"location": "north", "qty": 5, "skus": ["D"]}));
    assert!(stderr.contains("groups out        3"), "{stderr}");
    assert!(stderr.contains("delivered         4"), "{stderr}");
}

#[test]
fn each_record_of_a_held_group_is_listed_under_its_own_key() {
    let flow = STOCK.replace("  sink out:", "  hold when record.location == \"east\" \"paused\"\n  sink out:");
    let dir = stock_dir(&flow);
    let out = flowgate().current_dir(dir.path()).args(["run", "stock.flow"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let held = exported(&dir.path().join(".flowgate/state.db"), "held");
    let keys: Vec<(&str, &str)> = held
        .iter()
        .map(|h| (h["record"]["sku"].as_str().unwrap(), h["blocking_key"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(keys, [("D", "D"), ("F", "F")]);
}
