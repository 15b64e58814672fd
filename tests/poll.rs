//! The http.poll source against a fake shop: pages by Link header, cursor committed.

use std::collections::HashMap;
use std::fs;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[derive(Default)]
struct Shop {
    /// (id, updated_at), oldest first.
    orders: Vec<(i64, String)>,
    seen_min: Vec<String>,
    tokens: Vec<String>,
}

type Shared = Arc<Mutex<Shop>>;

/// `updated_at_min` filters; `limit` pages; `page_info=N` is the offset of the next page.
async fn orders(
    State((shop, addr)): State<(Shared, SocketAddr)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = shop.lock().unwrap();
    s.tokens.extend(headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).map(str::to_string));
    let offset: usize = q.get("page_info").and_then(|p| p.parse().ok()).unwrap_or(0);
    let min = q.get("updated_at_min").cloned().unwrap_or_default();
    if offset == 0 {
        s.seen_min.push(min.clone());
    }
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
    let matching: Vec<&(i64, String)> = s.orders.iter().filter(|(_, u)| *u > min).collect();
    let page: Vec<serde_json::Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, u)| serde_json::json!({"id": id, "name": format!("#{id}"), "updated_at": u, "extra": {"ignored": true}}))
        .collect();
    let body = serde_json::json!({ "orders": page }).to_string();
    if offset + limit < matching.len() {
        let next = format!(
            "<http://{addr}/orders.json?page_info={}&limit={limit}&updated_at_min={min}>; rel=\"next\"",
            offset + limit
        );
        (StatusCode::OK, [("link", next)], body).into_response()
    } else {
        (StatusCode::OK, body).into_response()
    }
}

fn start_shop() -> (SocketAddr, Shared) {
    let shop: Shared = Arc::default();
    {
        let mut s = shop.lock().unwrap();
        for i in 1..=5 {
            s.orders.push((i, format!("2026-11-0{i}T10:00:00Z")));
        }
    }
    let state = shop.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tx.send(addr).unwrap();
            axum::serve(listener, Router::new().route("/orders.json", get(orders)).with_state((state, addr)))
                .await
                .unwrap();
        });
    });
    (rx.recv().unwrap(), shop)
}

#[test]
fn polls_every_page_and_starts_the_next_run_at_the_committed_cursor() {
    let (addr, shop) = start_shop();
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("poll.flow");
    fs::copy("tests/fixtures/http/poll.flow", &flow).unwrap();
    let run = || {
        let out = Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
            .arg("run")
            .arg(&flow)
            .env("SHOP_URL", format!("http://{addr}"))
            .env("SHOP_TOKEN", "shpat-secret")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run();
    let ids = |path: &std::path::Path| -> Vec<i64> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_i64().unwrap())
            .collect()
    };
    let out = dir.path().join("out/orders.ndjson");
    assert_eq!(ids(&out), vec![1, 2, 3, 4, 5], "all three pages were read");
    shop.lock().unwrap().orders.push((6, "2026-11-06T10:00:00Z".into()));
    run();
    assert_eq!(ids(&out), vec![1, 2, 3, 4, 5, 6], "the second run reads only what is new");
    let s = shop.lock().unwrap();
    assert_eq!(s.seen_min, vec!["2000-01-01T00:00:00Z".to_string(), "2026-11-05T10:00:00Z".to_string()]);
    assert!(s.tokens.iter().all(|t| t == "shpat-secret"));
}
