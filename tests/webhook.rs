//! The webhook source: signatures, durable storage before the answer, duplicates,
//! oversize bodies, `/healthz` and `/metrics`, and a clean stop.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flowgate::connectors::webhook::sign;

const SECRET: &str = "whsec-test-123";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn order(name: &str) -> String {
    let text = fs::read_to_string("flows/payloads/shopify/orders/order-create-with-discount-addresses.json").unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["name"] = serde_json::Value::String(name.into());
    v.to_string()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_verified_stored_and_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("webhook.flow");
    fs::copy("tests/fixtures/http/webhook.flow", &flow).unwrap();
    let port = free_port();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .arg("run")
        .arg(&flow)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SHOPIFY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = |body: String, sig: Option<String>, id: &str| {
        let mut req = client
            .post(format!("{base}/webhooks/orders"))
            .header("X-Shopify-Webhook-Id", id)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(s) = sig {
            req = req.header("X-Shopify-Hmac-Sha256", s);
        }
        req.send()
    };
    let good = order("#W1");
    assert_eq!(post(good.clone(), Some(sign(SECRET.as_bytes(), good.as_bytes())), "w1").await.unwrap().status(), 202);
    // Shopify retries: the same delivery id is acknowledged, not stored twice.
    assert_eq!(post(good.clone(), Some(sign(SECRET.as_bytes(), good.as_bytes())), "w1").await.unwrap().status(), 200);
    // A wrong secret, a tampered body, no signature: 401, nothing stored.
    assert_eq!(post(good.clone(), Some(sign(b"wrong", good.as_bytes())), "w2").await.unwrap().status(), 401);
    let tampered = good.replace("#W1", "#W9");
    assert_eq!(post(tampered, Some(sign(SECRET.as_bytes(), good.as_bytes())), "w3").await.unwrap().status(), 401);
    assert_eq!(post(good.clone(), None, "w4").await.unwrap().status(), 401);
    // Over max_body: 413.
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(30000));
    assert_eq!(post(big.clone(), Some(sign(SECRET.as_bytes(), big.as_bytes())), "w5").await.unwrap().status(), 413);
    // Signed but not an order: stored, then held for the schema.
    let odd = r#"{"id": "not a number"}"#.to_string();
    assert_eq!(post(odd.clone(), Some(sign(SECRET.as_bytes(), odd.as_bytes())), "w6").await.unwrap().status(), 202);

    let out = dir.path().join("out/orders.ndjson");
    wait_for("the delivered order", || fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 1));
    // The same order again under a new delivery id: stored, then filtered by `dedupe_key`.
    assert_eq!(post(good.clone(), Some(sign(SECRET.as_bytes(), good.as_bytes())), "w7").await.unwrap().status(), 202);
    wait_for("the duplicate to be filtered", || {
        futures_lite_metrics(port).contains("flowgate_records_filtered_total{flow=\"order_webhooks\"} 1")
    });
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 1, "not delivered twice");
    assert!(fs::read_to_string(&out).unwrap().contains("\"#W1\""));
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("flowgate_webhooks_received_total{flow=\"order_webhooks\"} 3"), "{metrics}");
    assert!(metrics.contains("flowgate_webhooks_rejected_total{flow=\"order_webhooks\"} 3"), "{metrics}");
    wait_for("the held request", || {
        let m = futures_lite_metrics(port);
        m.contains("flowgate_records_held_total{flow=\"order_webhooks\"} 1")
    });

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let holds = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .args(["holds", "export", "--state"])
        .arg(dir.path().join(".flowgate/state.db"))
        .output()
        .unwrap();
    let holds = String::from_utf8(holds.stdout).unwrap();
    assert!(holds.contains("schema_mismatch") && holds.contains("inbox#"), "{holds}");
    assert!(!holds.contains(SECRET));
}

/// `/metrics` fetched with a plain blocking request (outside the async client).
fn futures_lite_metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = write!(s, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}
