//! Crash safety: `flowgate run` is killed with SIGKILL at random points and restarted;
//! in the end every record is booked exactly once by the ERP or held exactly once, and
//! the flow's `state` remembers exactly the records that were booked.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

mod common;

/// The fake ERP books each idempotency key once, as idempotent APIs do: a repeated key
/// gets the first answer again and books nothing.
#[derive(Default)]
struct Erp {
    booked: HashMap<String, u32>,
    repeats: u32,
}

async fn orders(State(erp): State<Arc<Mutex<Erp>>>, headers: HeaderMap, body: String) -> Response {
    tokio::time::sleep(Duration::from_millis(10)).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let r = v["ref"].as_str().unwrap_or("?").to_string();
    if r.ends_with("-refused") {
        return (StatusCode::UNPROCESSABLE_ENTITY, "refused").into_response();
    }
    let key = headers.get("idempotency-key").and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let mut e = erp.lock().unwrap();
    match e.booked.entry(key) {
        std::collections::hash_map::Entry::Occupied(_) => e.repeats += 1,
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(1);
        }
    }
    StatusCode::CREATED.into_response()
}

fn start_erp() -> (SocketAddr, Arc<Mutex<Erp>>) {
    let erp: Arc<Mutex<Erp>> = Arc::default();
    let addr = common::serve(Router::new().route("/orders", post(orders)).with_state(erp.clone()));
    (addr, erp)
}

#[test]
fn killed_runs_lose_nothing_and_book_nothing_twice() {
    let (addr, erp) = start_erp();
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("crash.flow");
    fs::copy("tests/fixtures/http/crash_state.flow", &flow).unwrap();
    let total = 3000;
    let mut input = String::new();
    for i in 0..total {
        let line = match i % 20 {
            7 => format!("{{\"ref\": \"r{i}\", \"amount\": \"not a number\"}}"), // held at the source
            11 => format!("{{\"ref\": \"r{i}\", \"amount\": 0}}"),               // held by validate
            13 => format!("{{\"ref\": \"r{i}-refused\", \"amount\": 5}}"),       // held: the ERP says 422
            _ => format!("{{\"ref\": \"r{i}\", \"amount\": \"{}.50\"}}", i + 1),
        };
        input.push_str(&line);
        input.push('\n');
    }
    fs::write(dir.path().join("in.ndjson"), input).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("flowgate");
    let start = || {
        Command::new(&exe)
            .arg("run")
            .arg(&flow)
            .env("ERP_URL", format!("http://{addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut rng = fastrand::Rng::with_seed(20261124);
    let mut finished_early = 0;
    for _ in 0..20 {
        let mut child = start();
        std::thread::sleep(Duration::from_millis(rng.u64(60..300)));
        match child.try_wait().unwrap() {
            Some(_) => finished_early += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
            }
        }
    }
    assert!(finished_early <= 2, "the kills must land mid-run ({finished_early} of 20 runs had already finished)");
    let status = start().wait().unwrap();
    assert!(status.success(), "the final run completes");

    let export = Command::new(&exe)
        .args(["holds", "export", "--state"])
        .arg(dir.path().join(".flowgate/state.db"))
        .output()
        .unwrap();
    let held: Vec<serde_json::Value> =
        String::from_utf8(export.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let held_refs: Vec<String> = held.iter().map(|h| h["record"]["ref"].as_str().unwrap_or("?").to_string()).collect();
    let held_set: HashSet<&String> = held_refs.iter().collect();
    assert_eq!(held_refs.len(), held_set.len(), "no record is held twice");

    let e = erp.lock().unwrap();
    let booked: HashSet<&String> = e.booked.keys().collect();
    assert!(booked.is_disjoint(&held_set), "no record is both booked and held");
    assert_eq!(
        booked.len() + held_set.len(),
        total,
        "every record is booked or held ({} booked, {} held)",
        booked.len(),
        held_set.len()
    );
    assert_eq!(held_set.len(), 3 * total / 20, "exactly the bad, invalid and refused records are held");
    // A value is committed with its record's delivery, never before: the remembered refs
    // are the booked ones (one remembered but not booked would be filtered for good).
    let db = rusqlite::Connection::open(dir.path().join(".flowgate/state.db")).unwrap();
    let mut stmt = db.prepare("SELECT key FROM state_values WHERE flow = 'crash' AND name = 'last_amount'").unwrap();
    let remembered: HashSet<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let booked_refs: HashSet<String> = booked.iter().map(|r| r.to_string()).collect();
    assert_eq!(remembered, booked_refs, "the state remembers exactly the booked records");
    eprintln!(
        "{finished_early} of 20 runs finished before the kill; {} repeated sends absorbed by idempotency keys",
        e.repeats
    );
}
