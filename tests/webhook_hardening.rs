//! The webhook server on the internet: deadlines for slow and idle clients, a bound
//! on connections and on body memory, bursts answered without resets or losses, only
//! harmless headers stored, a state that cannot be written answered 503 and reported,
//! private state files, and the admin surface. Everything runs on loopback, bounded in
//! count and time; assertions are on outcomes, with generous timeouts.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flowgate::connectors::webhook::{self, sign, Endpoint, Limits, Signature};
use flowgate::state::*;

const SECRET: &str = "whsec-test-123";
const PATH: &str = "/webhooks/orders";

fn order(n: usize) -> String {
    let text = fs::read_to_string("flows/payloads/shopify/orders/order-create-with-discount-addresses.json").unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["name"] = serde_json::Value::String(format!("#B{n}"));
    v["id"] = serde_json::json!(7_000_000 + n);
    v.to_string()
}

/// A signed Shopify request with delivery id `id`, closing its connection after.
fn request(body: &str, id: &str, extra: &str) -> Vec<u8> {
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Shopify-Hmac-Sha256: {sig}\r\n\
         X-Shopify-Webhook-Id: {id}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `raw` on a new connection and reads the whole answer: its status, or the error.
fn exchange(addr: SocketAddr, raw: &[u8]) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(raw)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, out))
}

fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> std::io::Result<(u16, String)> {
    let auth = auth.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").as_bytes())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `flowgate run` of a webhook fixture on a loopback port, in its own directory.
struct Server {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(fixture: &str, args: &[&str], open_files: Option<u64>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let flow = dir.path().join("webhook.flow");
        fs::copy(fixture, &flow).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("flowgate"));
        cmd.arg("run")
            .arg(&flow)
            .args(["--listen", &addr.to_string()])
            .args(args)
            .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
            .env_remove("FLOWGATE_ADMIN_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(n) = open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().unwrap();
        let server = Server { child, addr, dir };
        wait_for("the server", || get(server.addr, "/healthz", None).is_ok_and(|(s, _)| s == 200 || s == 404));
        server
    }

    fn state(&self) -> std::path::PathBuf {
        self.dir.path().join(".flowgate/state.db")
    }

    /// The peak resident memory of the server process, in bytes.
    fn peak_memory(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    }

    /// Stops the server with SIGTERM; its exit code and stderr.
    fn stop(mut self) -> (Option<i32>, String, tempfile::TempDir) {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (status.code(), stderr, dir)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The delivery ids stored in the inbox of the state at `path`.
fn inbox_ids(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT dedupe_key FROM inbox").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_client_trickling_headers_or_sending_nothing_is_cut_off() {
    let server =
        Server::start("tests/fixtures/http/webhook.flow", &["--header-timeout", "1", "--idle-timeout", "1"], None);
    // Silent: never sends a byte.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // Slowloris: a header line, then a byte every 200 ms, never the end of the head.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"POST /webhooks/orders HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    let start = Instant::now();
    let mut cut = false;
    while start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
        if slow.write_all(b"X").is_err() {
            cut = true;
            break;
        }
    }
    assert!(cut, "a connection trickling its headers stayed open for 20 s");
    let mut buf = [0u8; 64];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)), "a silent connection stayed open");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn idle_sockets_do_not_keep_out_a_valid_request_or_the_health_check() {
    // The server may open 1024 files; the test opens three times as many idle sockets.
    let server = Server::start("tests/fixtures/http/webhook.flow", &[], Some(1024));
    let mut idle = Vec::new();
    for _ in 0..3000 {
        match TcpStream::connect_timeout(&server.addr, Duration::from_secs(5)) {
            Ok(s) => idle.push(s),
            Err(_) => break,
        }
    }
    assert!(idle.len() > 1500, "only {} idle connections opened", idle.len());
    let body = order(1);
    let (status, text) = exchange(server.addr, &request(&body, "idle-1", "")).unwrap();
    assert_eq!(status, 202, "{text}");
    let (status, text) = get(server.addr, "/healthz", None).unwrap();
    assert_eq!(status, 200, "{text}");
    drop(idle);
    let (code, stderr, _dir) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_flood_of_unsigned_large_bodies_keeps_memory_bounded() {
    let server = Server::start("tests/fixtures/http/webhook_default_body.flow", &[], None);
    let body = vec![b'x'; 5 << 20];
    let addr = server.addr;
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let body = body.clone();
            std::thread::spawn(move || {
                // Half carry no signature, half a well-formed one that does not match.
                let sig =
                    if i % 2 == 0 { String::new() } else { format!("X-Shopify-Hmac-Sha256: {}\r\n", sign(b"x", b"y")) };
                let head = format!(
                    "POST {PATH} HTTP/1.1\r\nHost: localhost\r\n{sig}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let Ok(mut s) = TcpStream::connect(addr) else { return };
                let _ = s.set_write_timeout(Some(Duration::from_secs(30)));
                let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
                let _ = s.read_to_end(&mut Vec::new());
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let peak = server.peak_memory();
    assert!(peak < 100 << 20, "the server peaked at {} MB", peak >> 20);
    let (status, _) = get(server.addr, "/healthz", None).unwrap();
    assert_eq!(status, 200);
}

#[test]
fn a_burst_of_valid_webhooks_is_answered_without_resets_and_nothing_answered_is_lost() {
    let server = Server::start("tests/fixtures/http/webhook.flow", &[], None);
    let addr = server.addr;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let results: Vec<(usize, Result<u16, String>)> = rt.block_on(async move {
        let tasks: Vec<_> = (0..500)
            .map(|i| {
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let raw = request(&order(i), &format!("burst-{i}"), "");
                    let go = async {
                        let mut s = tokio::net::TcpStream::connect(addr).await?;
                        s.write_all(&raw).await?;
                        let mut out = Vec::new();
                        s.read_to_end(&mut out).await?;
                        Ok::<_, std::io::Error>(
                            String::from_utf8_lossy(&out).get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0),
                        )
                    };
                    let r = match tokio::time::timeout(Duration::from_secs(120), go).await {
                        Ok(Ok(status)) => Ok(status),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("no answer in 120 s".into()),
                    };
                    (i, r)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let failed: Vec<_> = results.iter().filter(|(_, r)| !matches!(r, Ok(200..=299 | 503))).collect();
    assert!(failed.is_empty(), "{} of 500 failed, e.g. {:?}", failed.len(), &failed[..failed.len().min(5)]);
    let accepted: Vec<String> =
        results.iter().filter(|(_, r)| matches!(r, Ok(200..=299))).map(|(i, _)| format!("burst-{i}")).collect();
    assert!(!accepted.is_empty());
    let (code, stderr, dir) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let stored = inbox_ids(&dir.path().join(".flowgate/state.db"));
    let lost: Vec<_> = accepted.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "answered 2xx but not in the inbox: {lost:?}");
}

#[test]
fn only_harmless_headers_are_stored() {
    let server = Server::start("tests/fixtures/http/webhook.flow", &[], None);
    let extra = "Proxy-Authorization: Basic cHJveHk6c2VjcmV0\r\nX-Api-Key: key-123\r\nX-Shopify-Access-Token: shpat_abc\r\n\
                 X-Auth-Token: tok-456\r\nApi-Key: key-789\r\nCookie: session=s3cr3t\r\nAuthorization: Bearer b-1\r\n\
                 X-Shopify-Topic: orders/create\r\nX-Shopify-Shop-Domain: shop.example\r\nUser-Agent: Shopify-Captain-Hook\r\n";
    let body = order(1);
    let (status, text) = exchange(server.addr, &request(&body, "h-1", extra)).unwrap();
    assert_eq!(status, 202, "{text}");
    let conn = rusqlite::Connection::open(server.state()).unwrap();
    let headers: String = conn.query_row("SELECT headers FROM inbox", [], |r| r.get(0)).unwrap();
    let headers: serde_json::Value = serde_json::from_str(&headers).unwrap();
    let names: Vec<&str> = headers.as_object().unwrap().keys().map(String::as_str).collect();
    for kept in ["content-type", "user-agent", "x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id"] {
        assert!(names.contains(&kept), "{kept} missing from {names:?}");
    }
    for secret in ["cHJveHk6c2VjcmV0", "key-123", "shpat_abc", "tok-456", "key-789", "s3cr3t", "b-1"] {
        assert!(!headers.to_string().contains(secret), "{secret} stored: {headers}");
    }
    assert!(!names.iter().any(|n| n.contains("hmac")), "the signature was stored: {names:?}");
}

#[test]
fn a_state_file_removed_while_serving_is_answered_503_reported_and_fails_the_run() {
    let server = Server::start("tests/fixtures/http/webhook.flow", &[], None);
    let (status, _) = exchange(server.addr, &request(&order(1), "gone-1", "")).unwrap();
    assert_eq!(status, 202);
    let state = server.state();
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", state.display()));
    }
    let (status, text) = exchange(server.addr, &request(&order(2), "gone-2", "")).unwrap();
    assert_eq!(status, 503, "a request was acknowledged into a deleted file: {text}");
    let (status, text) = get(server.addr, "/healthz", None).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("gone"), "{text}");
    let (_, metrics) = get(server.addr, "/metrics", None).unwrap();
    assert!(metrics.contains("flowgate_webhook_store_errors_total{flow=\"order_webhooks\"} 1"), "{metrics}");
    let (code, stderr, _dir) = server.stop();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be stored") && stderr.contains("gone"), "{stderr}");
}

#[test]
fn the_state_files_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();
    let _lease = store.lease(&LeaseHolder::this_process("test")).unwrap();
    store.inbox_add("f", Some("k"), &serde_json::json!({}), b"{}", Utc::now()).unwrap();
    for name in ["state.db", "state.db-wal", "state.db-shm", "state.db.lock"] {
        let mode = fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}

/// A store whose inbox writes fail while `broken` is set, as on a full disk.
struct FailingDisk {
    inner: MemoryStore,
    broken: AtomicBool,
}

impl StateStore for FailingDisk {
    fn lease(&self, holder: &LeaseHolder) -> Result<Lease, StateError> {
        self.inner.lease(holder)
    }
    fn add_holds(&self, holds: Vec<NewHold>) -> Result<Vec<HoldId>, StateError> {
        self.inner.add_holds(holds)
    }
    fn has_open_holds(&self, flow: &str) -> Result<bool, StateError> {
        self.inner.has_open_holds(flow)
    }
    fn end_holds(&self, flow: &str, ended: &[(String, String)], now: DateTime<Utc>) -> Result<u64, StateError> {
        self.inner.end_holds(flow, ended, now)
    }
    fn purge(&self, before: DateTime<Utc>) -> Result<flowgate::state::Purged, StateError> {
        self.inner.purge(before)
    }
    fn erase(&self, key: &str, now: DateTime<Utc>) -> Result<flowgate::state::Erased, StateError> {
        self.inner.erase(key, now)
    }
    fn hold(&self, id: HoldId) -> Result<Option<Hold>, StateError> {
        self.inner.hold(id)
    }
    fn holds(&self, filter: &HoldFilter) -> Result<Vec<Hold>, StateError> {
        self.inner.holds(filter)
    }
    fn hold_summary(&self, filter: &HoldFilter) -> Result<Vec<HoldCount>, StateError> {
        self.inner.hold_summary(filter)
    }
    fn mark_replayed(&self, id: HoldId, outcome: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.mark_replayed(id, outcome, now)
    }
    fn mark_discarded(&self, id: HoldId, why: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.mark_discarded(id, why, now)
    }
    fn record_attempt(&self, id: HoldId, message: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.record_attempt(id, message, now)
    }
    fn dedupe_seen(&self, flow: &str, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        self.inner.dedupe_seen(flow, key, now)
    }
    fn commit_ends(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[flowgate::state::StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.inner.commit_ends(flow, keys, states, now)
    }
    fn state_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError> {
        self.inner.state_get(flow, name, key)
    }
    fn inbox_add(
        &self,
        flow: &str,
        key: Option<&str>,
        headers: &serde_json::Value,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        if self.broken.load(Ordering::SeqCst) {
            let full = std::io::Error::other("database or disk is full");
            return Err(StateError::Db { path: "state.db".into(), source: Box::new(full) });
        }
        self.inner.inbox_add(flow, key, headers, body, now)
    }
    fn inbox_pending(&self, flow: &str, after_id: i64, limit: usize) -> Result<Vec<InboxItem>, StateError> {
        self.inner.inbox_pending(flow, after_id, limit)
    }
    fn inbox_done(&self, flow: &str, ids: &[i64]) -> Result<(), StateError> {
        self.inner.inbox_done(flow, ids)
    }
    fn cursor(&self, flow: &str, source: &str) -> Result<Option<String>, StateError> {
        self.inner.cursor(flow, source)
    }
    fn set_cursor(&self, flow: &str, source: &str, value: &str) -> Result<(), StateError> {
        self.inner.set_cursor(flow, source, value)
    }
    fn delivered(&self, flow: &str, sink: &str, key: &str) -> Result<bool, StateError> {
        self.inner.delivered(flow, sink, key)
    }
    fn record_deliveries(
        &self,
        flow: &str,
        sink: &str,
        deliveries: &[(String, u16, DateTime<Utc>)],
    ) -> Result<(), StateError> {
        self.inner.record_deliveries(flow, sink, deliveries)
    }
}

/// Serves `app` on a loopback port with `limits`, on its own thread and runtime.
fn serve_in_process(app: axum::Router, limits: Limits) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            webhook::serve_with(listener, app, limits).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn endpoint(store: Arc<dyn StateStore>, flow: &str) -> Endpoint {
    Endpoint {
        flow: flow.into(),
        path: PATH.into(),
        signature: Signature::Shopify,
        secret: Some(SECRET.into()),
        id_header: None,
        max_body: 1 << 20,
        store,
    }
}

#[test]
fn a_failing_disk_is_answered_503_reported_and_recovered_from() {
    let store = Arc::new(FailingDisk { inner: MemoryStore::new(), broken: AtomicBool::new(false) });
    let limits = Limits::default();
    let intake = webhook::Intake::start(vec![endpoint(store.clone(), "disk_full")], &limits, None).unwrap();
    let app = intake.routes().merge(webhook::admin_routes(intake.health(), None));
    let addr = serve_in_process(app, limits);
    assert_eq!(exchange(addr, &request(&order(1), "d-1", "")).unwrap().0, 202);
    store.broken.store(true, Ordering::SeqCst);
    assert_eq!(exchange(addr, &request(&order(2), "d-2", "")).unwrap().0, 503);
    let (status, text) = get(addr, "/healthz", None).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("disk is full"), "{text}");
    let (_, metrics) = get(addr, "/metrics", None).unwrap();
    assert!(metrics.contains("flowgate_webhook_store_errors_total{flow=\"disk_full\"} 1"), "{metrics}");
    // Space is freed: the sender's retry is stored and the server is healthy again.
    store.broken.store(false, Ordering::SeqCst);
    assert_eq!(exchange(addr, &request(&order(2), "d-2", "")).unwrap().0, 202);
    assert_eq!(get(addr, "/healthz", None).unwrap().0, 200);
    assert_eq!(store.inbox_pending("disk_full", 0, 10).unwrap().len(), 2);
}

#[test]
fn admin_endpoints_off_loopback_need_the_token() {
    let intake = webhook::Intake::start(Vec::new(), &Limits::default(), None).unwrap();
    let addr = serve_in_process(webhook::admin_routes(intake.health(), Some("adm-tok".into())), Limits::default());
    assert_eq!(get(addr, "/healthz", None).unwrap().0, 401);
    assert_eq!(get(addr, "/metrics", Some("wrong")).unwrap().0, 401);
    assert_eq!(get(addr, "/healthz", Some("adm-tok")).unwrap().0, 200);
    assert_eq!(get(addr, "/metrics", Some("adm-tok")).unwrap().0, 200);
}

#[test]
fn a_non_loopback_admin_address_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("webhook.flow");
    fs::copy("tests/fixtures/http/webhook.flow", &flow).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .arg("run")
        .arg(&flow)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0"])
        .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
        .env_remove("FLOWGATE_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FLOWGATE_ADMIN_TOKEN"));
}

#[test]
fn admin_endpoints_move_to_their_own_address() {
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start("tests/fixtures/http/webhook.flow", &["--admin-listen", &admin.to_string()], None);
    assert_eq!(get(admin, "/metrics", None).unwrap().0, 200);
    assert_eq!(get(server.addr, "/metrics", None).unwrap().0, 404);
}

#[test]
fn listen_without_an_address_is_loopback_port_8080() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("webhook.flow");
    fs::copy("tests/fixtures/http/webhook.flow", &flow).unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .arg("run")
        .arg(&flow)
        .arg("--listen")
        .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Port 8080 may be taken on this machine: either way the message names the address.
    let mut stderr = child.stderr.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stderr.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = String::from_utf8_lossy(&line);
    assert!(line.contains("127.0.0.1:8080"), "{line}");
}
