//! The HTTP sink against an in-process fake ERP that fails on purpose.

use std::collections::HashMap;
use std::fs;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

mod common;

/// What the fake ERP saw: requests per order ref, bookings (2xx answers) per ref, and
/// the Authorization headers it received.
#[derive(Default)]
struct Erp {
    requests: HashMap<String, u32>,
    booked: HashMap<String, u32>,
    auth: Vec<String>,
    idempotency_keys: Vec<String>,
}

type Shared = Arc<Mutex<Erp>>;

/// Scripted behaviour by order ref: A fails twice with 500, B is rate limited once,
/// C is refused with 422, D always fails with 503, E never answers in time.
async fn orders(State(erp): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let r = v["ref"].as_str().unwrap_or("?").to_string();
    let n = {
        let mut e = erp.lock().unwrap();
        e.auth.extend(headers.get("authorization").and_then(|h| h.to_str().ok()).map(str::to_string));
        e.idempotency_keys.extend(headers.get("idempotency-key").and_then(|h| h.to_str().ok()).map(str::to_string));
        let n = e.requests.entry(r.clone()).or_default();
        *n += 1;
        *n
    };
    let answer = match (r.as_str(), n) {
        ("A", 1 | 2) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        ("B", 1) => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        ("C", _) => (StatusCode::UNPROCESSABLE_ENTITY, r#"{"error":"unknown sku X-1"}"#).into_response(),
        ("D", _) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        ("E", _) => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::CREATED.into_response(),
    };
    if answer.status().is_success() {
        *erp.lock().unwrap().booked.entry(r).or_default() += 1;
    }
    answer
}

/// Starts the fake ERP on a loopback port, on its own thread and runtime.
fn start_erp() -> (SocketAddr, Shared) {
    let erp: Shared = Arc::default();
    let addr = common::serve(Router::new().route("/orders", post(orders)).with_state(erp.clone()));
    (addr, erp)
}

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").unwrap()
}

#[test]
fn delivers_retries_and_holds_against_a_failing_erp() {
    let (addr, erp) = start_erp();
    let dir = tempfile::tempdir().unwrap();
    fs::copy("tests/fixtures/http/to_erp.flow", dir.path().join("to_erp.flow")).unwrap();
    let refs = ["A", "B", "C", "D", "E", "F", "G"];
    let input: String = refs.iter().map(|r| format!("{{\"ref\": \"{r}\", \"amount\": \"10.50\"}}\n")).collect();
    fs::write(dir.path().join("in.ndjson"), input).unwrap();
    let run = || {
        flowgate()
            .arg("run")
            .arg(dir.path().join("to_erp.flow"))
            .env("ERP_URL", format!("http://{addr}"))
            .env("ERP_TOKEN", "tok-s3cret-123")
            .env("RUST_LOG", "debug")
            .args(["--log-format", "json"])
            .output()
            .unwrap()
    };
    let out = run();
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{summary}");
    // Every log line (debug level, JSON) is free of the secret, and they are JSON.
    assert!(!summary.contains("tok-s3cret-123"), "a secret in the logs: {summary}");
    let logs: Vec<&str> = summary.lines().filter(|l| l.starts_with('{')).collect();
    assert!(logs.iter().any(|l| l.contains("\"retrying\"")), "retries are logged: {summary}");
    // A stage's debug lines name the record by its blocking key.
    assert!(
        logs.iter().any(|l| l.contains("\"message\":\"stage\"") && l.contains("\"key\":\"C\"")),
        "keys in the logs: {summary}"
    );
    for l in &logs {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
    }
    assert!(summary.contains("records in        7"), "{summary}");
    assert!(summary.contains("delivered         4"), "{summary}");
    assert!(summary.contains("held              3"), "{summary}");

    {
        let e = erp.lock().unwrap();
        for r in ["A", "B", "F", "G"] {
            assert_eq!(e.booked.get(r), Some(&1), "{r} is booked exactly once");
        }
        assert_eq!(e.requests["A"], 3, "two 500s, then accepted");
        assert_eq!(e.requests["B"], 2, "one 429, then accepted");
        assert_eq!(e.requests["C"], 1, "a 422 is not retried");
        assert_eq!(e.requests["D"], 3, "503 until the attempts run out");
        assert!(e.auth.iter().all(|a| a == "Bearer tok-s3cret-123"), "the secret reaches the header");
        assert!(e.idempotency_keys.contains(&"A".to_string()));
    }

    let state = dir.path().join(".flowgate/state.db");
    let holds = flowgate().args(["holds", "export", "--state"]).arg(&state).output().unwrap();
    let text = String::from_utf8(holds.stdout).unwrap();
    assert!(!text.contains("tok-s3cret-123"), "no secret in holds: {text}");
    let holds: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_key = |k: &str| {
        holds.iter().find(|h| h["blocking_key"] == k).unwrap_or_else(|| panic!("no hold for {k}: {holds:#?}"))
    };
    let c = by_key("C");
    assert_eq!(c["reason"], "http_422");
    assert_eq!(c["attempts"], 1);
    assert!(c["message"].as_str().unwrap().contains("unknown sku X-1"), "{c:#}");
    assert_eq!(c["stage_input"]["headers"]["Authorization"], "<redacted>");
    assert_eq!(c["stage_input"]["body"]["amount"].to_string(), "10.50", "the exact amount that was sent");
    let d = by_key("D");
    assert_eq!(d["reason"], "retries_exhausted");
    assert_eq!(d["attempts"], 3);
    assert!(d["message"].as_str().unwrap().contains("503"), "{d:#}");
    let e = by_key("E");
    assert_eq!(e["reason"], "retries_exhausted");
    assert!(e["message"].as_str().unwrap().contains("timed out"), "{e:#}");

    // A dry run shows the request with the secret redacted.
    let dry = flowgate()
        .arg("run")
        .arg(dir.path().join("to_erp.flow"))
        .arg("--dry-run")
        .env("ERP_URL", format!("http://{addr}"))
        .env("ERP_TOKEN", "tok-s3cret-123")
        .output()
        .unwrap();
    let shown = format!("{}{}", String::from_utf8_lossy(&dry.stdout), String::from_utf8_lossy(&dry.stderr));
    assert!(shown.contains("Authorization: <redacted>") && !shown.contains("tok-s3cret-123"), "{shown}");

    // The same input again: the delivery log knows A, B, F and G, so nothing is booked twice.
    let out = run();
    assert_eq!(out.status.code(), Some(0));
    let e = erp.lock().unwrap();
    for r in ["A", "B", "F", "G"] {
        assert_eq!(e.booked.get(r), Some(&1), "{r} was not booked again");
    }
    assert_eq!(e.requests["F"], 1, "F was not even sent again");
}

/// An ERP that books every order but those whose ref is in its refusal list (422).
#[derive(Default)]
struct Picky {
    refuse: std::collections::HashSet<String>,
    booked: HashMap<String, u32>,
}

async fn picky_orders(State(erp): State<Arc<Mutex<Picky>>>, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let r = v["ref"].as_str().unwrap_or("?").to_string();
    let mut e = erp.lock().unwrap();
    if e.refuse.contains(&r) {
        return (StatusCode::UNPROCESSABLE_ENTITY, r#"{"error":"refused"}"#).into_response();
    }
    *e.booked.entry(r).or_default() += 1;
    StatusCode::CREATED.into_response()
}

/// The holds of a state as `holds export` gives them, by the ref of their record.
fn holds_by_ref(state: &std::path::Path) -> HashMap<String, serde_json::Value> {
    let out = flowgate().args(["holds", "export", "--status", "all", "--state"]).arg(state).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|h| {
            let record: serde_json::Value = match &h["record"] {
                serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or_default(),
                other => other.clone(),
            };
            (record["ref"].as_str().unwrap_or("?").to_string(), h)
        })
        .collect()
}

/// Whatever the input format and whichever records the ERP refuses, on the run and on
/// the replay: after `holds replay`, every hold is either ended with the outcome the
/// replay recorded (and its record was booked) or still held with one more attempt, and
/// no record is booked twice.
#[test]
fn a_replay_ends_exactly_the_holds_it_delivered_in_every_format() {
    let erp: Arc<Mutex<Picky>> = Arc::default();
    let addr = common::serve(Router::new().route("/orders", post(picky_orders)).with_state(erp.clone()));
    let refs: Vec<String> = (1..=8).map(|i| format!("R{i}")).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut pick = |share: u64| -> std::collections::HashSet<String> {
        refs.iter()
            .filter(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % 100 < share
            })
            .cloned()
            .collect()
    };
    for format in ["json", "ndjson", "csv"] {
        for round in 0..3 {
            let (first, second) = (pick(50), pick(40));
            {
                let mut e = erp.lock().unwrap();
                e.booked.clear();
                e.refuse = first.clone();
            }
            let dir = tempfile::tempdir().unwrap();
            let input = match format {
                "json" => format!(
                    "[{}]",
                    refs.iter()
                        .map(|r| format!(r#"{{"ref": "{r}", "amount": "1.50"}}"#))
                        .collect::<Vec<_>>()
                        .join(",\n")
                ),
                "ndjson" => refs.iter().map(|r| format!("{{\"ref\": \"{r}\", \"amount\": 1.50}}\n")).collect(),
                _ => format!("ref,amount\n{}", refs.iter().map(|r| format!("{r},1.50\n")).collect::<String>()),
            };
            fs::write(dir.path().join(format!("in.{format}")), input).unwrap();
            let flow = format!(
                "type Row = {{ ref: String, amount: Decimal }}\nflow replayable {{\n  source rows: file {{ path: \"in.{format}\", format: \"{format}\" }} : Row\n  map {{ ref: record.ref, amount: record.amount }}\n  sink erp: http.post {{\n    url: env(\"ERP_URL\") + \"/orders\"\n    retry: {{ attempts: 1 }}\n  }}\n}}\n"
            );
            let flow_path = dir.path().join("replayable.flow");
            fs::write(&flow_path, flow).unwrap();
            let state = dir.path().join("state.db");
            let what = format!("{format}, round {round}, refused {first:?} then {second:?}");
            flowgate()
                .arg("run")
                .arg(&flow_path)
                .arg("--state")
                .arg(&state)
                .env("ERP_URL", format!("http://{addr}"))
                .assert()
                .code(0);
            let held = holds_by_ref(&state);
            let mut held_refs: Vec<&String> = held.keys().collect();
            held_refs.sort();
            let mut want: Vec<&String> = first.iter().collect();
            want.sort();
            assert_eq!(held_refs, want, "{what}");
            {
                let mut e = erp.lock().unwrap();
                e.booked.clear();
                e.refuse = second.clone();
            }
            let replay = flowgate()
                .args(["holds", "replay"])
                .arg(&flow_path)
                .args(["--all", "--state"])
                .arg(&state)
                .env("ERP_URL", format!("http://{addr}"))
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&replay.stdout).into_owned();
            let again = first.intersection(&second).count();
            assert_eq!(replay.status.code(), Some(if again > 0 { 1 } else { 0 }), "{what}\n{said}");
            let booked = erp.lock().unwrap().booked.clone();
            for (r, h) in holds_by_ref(&state) {
                if second.contains(&r) {
                    assert_eq!((h["status"].as_str(), h["attempts"].as_u64()), (Some("held"), Some(2)), "{what}: {r}");
                    assert!(!booked.contains_key(&r), "{what}: {r} was booked but is still held");
                } else {
                    assert_eq!(h["status"], "replayed", "{what}: {r}\n{said}");
                    assert_eq!(h["outcome"], "delivered to erp", "{what}: {r}");
                    assert_eq!(booked.get(&r), Some(&1), "{what}: {r} is marked replayed but was not booked once");
                }
            }
            assert!(booked.keys().all(|r| first.contains(r)), "{what}: the replay sent a record that was not held");
        }
    }
}
