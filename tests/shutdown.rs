//! SIGTERM stops intake and lets records in flight finish; a second signal stops at once.

use std::collections::HashMap;
use std::fs;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

mod common;

type Booked = Arc<Mutex<HashMap<String, u32>>>;

/// Books each idempotency key once, after `delay`.
fn start_erp(delay: Duration) -> (SocketAddr, Booked) {
    let booked: Booked = Arc::default();
    let state = (booked.clone(), delay);
    let app = Router::new()
        .route(
            "/orders",
            post(|State((booked, delay)): State<(Booked, Duration)>, headers: HeaderMap| async move {
                tokio::time::sleep(delay).await;
                let key = headers.get("idempotency-key").and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
                *booked.lock().unwrap().entry(key).or_default() += 1;
                StatusCode::CREATED
            }),
        )
        .with_state(state);
    (common::serve(app), booked)
}

fn setup(records: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy("tests/fixtures/http/crash.flow", dir.path().join("crash.flow")).unwrap();
    let input: String =
        (0..records).map(|i| format!("{{\"ref\": \"r{i}\", \"amount\": \"{}.00\"}}\n", i + 1)).collect();
    fs::write(dir.path().join("in.ndjson"), input).unwrap();
    dir
}

fn spawn(dir: &tempfile::TempDir, addr: SocketAddr) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .arg("run")
        .arg(dir.path().join("crash.flow"))
        .env("ERP_URL", format!("http://{addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

#[test]
fn sigterm_drains_in_flight_records_and_exits_zero() {
    let (addr, booked) = start_erp(Duration::from_millis(5));
    let dir = setup(3000);
    let child = spawn(&dir, addr);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no new records are read"), "{stderr}");
    let first = booked.lock().unwrap().len();
    assert!(first > 0 && first < 3000, "stopped part way: {first} booked");
    // The summary accounts for every record that was read: delivered (nothing was held).
    let read: usize = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("records in").map(|n| n.trim().parse().unwrap()))
        .expect("a summary");
    assert!(stderr.contains(&format!("delivered    {read:>6}")), "every record read was delivered: {stderr}");
    // The next run goes on; nothing is booked twice.
    let status = spawn(&dir, addr).wait().unwrap();
    assert!(status.success());
    let b = booked.lock().unwrap();
    assert_eq!(b.len(), 3000);
    assert!(b.values().all(|n| *n == 1), "no key booked twice");
}

#[test]
fn a_second_signal_stops_at_once() {
    let (addr, _) = start_erp(Duration::from_secs(3));
    let dir = setup(50);
    let child = spawn(&dir, addr);
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, "-TERM");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(2), "stopped at once");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopping at once"));
}
