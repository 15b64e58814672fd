//! Chaos: an ERP that answers 30% 500s, 10% 429 with Retry-After, hangs past the timeout
//! 5% of the time and 5% of the time books the record but loses the answer. Every record
//! ends delivered or held, none is booked twice, and once the ERP recovers a replay of
//! the holds delivers them.

use std::collections::HashMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

mod common;

#[derive(Default)]
struct Erp {
    /// Idempotency key to the order ref it booked.
    booked: HashMap<String, String>,
    /// Bookings per order ref: more than one would be a double booking.
    per_ref: HashMap<String, u32>,
    attempts: HashMap<String, u32>,
}

#[derive(Clone)]
struct App {
    erp: Arc<Mutex<Erp>>,
    healthy: Arc<AtomicBool>,
}

/// A deterministic die per (key, attempt): 0..100.
fn roll(key: &str, attempt: u32) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (key, attempt, "chaos").hash(&mut h);
    h.finish() % 100
}

fn book(erp: &mut Erp, key: &str, r: &str) {
    if !erp.booked.contains_key(key) {
        erp.booked.insert(key.to_string(), r.to_string());
        *erp.per_ref.entry(r.to_string()).or_default() += 1;
    }
}

async fn orders(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let r = v["ref"].as_str().unwrap_or("?").to_string();
    let key = headers.get("idempotency-key").and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let attempt = {
        let mut e = app.erp.lock().unwrap();
        let n = e.attempts.entry(key.clone()).or_default();
        *n += 1;
        *n
    };
    let already = app.erp.lock().unwrap().booked.contains_key(&key);
    if app.healthy.load(Ordering::Relaxed) || already {
        book(&mut app.erp.lock().unwrap(), &key, &r);
        return StatusCode::CREATED.into_response();
    }
    match roll(&key, attempt) {
        0..=29 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        30..=39 => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")]).into_response(),
        40..=44 => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::CREATED.into_response()
        }
        45..=49 => {
            // Booked, but the answer never arrives in time.
            book(&mut app.erp.lock().unwrap(), &key, &r);
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::CREATED.into_response()
        }
        _ => {
            book(&mut app.erp.lock().unwrap(), &key, &r);
            StatusCode::CREATED.into_response()
        }
    }
}

fn start_erp() -> (SocketAddr, App) {
    let app = App { erp: Arc::default(), healthy: Arc::default() };
    let addr = common::serve(Router::new().route("/orders", post(orders)).with_state(app.clone()));
    (addr, app)
}

#[test]
fn five_thousand_records_against_a_chaotic_erp() {
    let (addr, app) = start_erp();
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("chaos.flow");
    fs::copy("tests/fixtures/http/chaos.flow", &flow).unwrap();
    let total = 5000;
    let input: String =
        (0..total).map(|i| format!("{{\"ref\": \"o{i}\", \"amount\": \"{}.99\"}}\n", i % 500)).collect();
    fs::write(dir.path().join("in.ndjson"), input).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("flowgate");
    let out = Command::new(&exe).arg("run").arg(&flow).env("ERP_URL", format!("http://{addr}")).output().unwrap();
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let count = |label: &str| -> usize {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).and_then(|rest| rest.split_whitespace().next()?.parse().ok()))
            .unwrap_or_else(|| panic!("no `{label}` in {summary}"))
    };
    let (delivered, held) = (count("delivered"), count("held"));
    assert_eq!(delivered + held, total, "every record is delivered or held: {summary}");
    assert!(held > 0, "with this much chaos some records exhaust their retries: {summary}");
    {
        let e = app.erp.lock().unwrap();
        assert!(e.per_ref.values().all(|n| *n == 1), "no order is booked twice");
        assert!(e.booked.iter().all(|(k, r)| k == r), "each booking carries its own order's key");
        // Delivered ones are booked; some held ones were booked too (the answer was lost).
        assert!(e.per_ref.len() >= delivered, "{} booked, {delivered} delivered", e.per_ref.len());
    }

    // The ERP recovers; replaying the holds delivers every one, booking none twice.
    app.healthy.store(true, Ordering::Relaxed);
    let replay = Command::new(&exe)
        .args(["holds", "replay"])
        .arg(&flow)
        .arg("--all")
        .env("ERP_URL", format!("http://{addr}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&replay.stdout).to_string();
    assert_eq!(replay.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(text.contains(&format!("{held} replayed: {held} were delivered or filtered, 0 held again")), "{text}");
    let e = app.erp.lock().unwrap();
    assert_eq!(e.per_ref.len(), total, "every order is booked in the end");
    assert!(e.per_ref.values().all(|n| *n == 1), "and none twice");
}
