//! The `enrich` stage against an in-process fake shop that fails on purpose.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flowgate::runtime::{Event, RunOptions, RunReport};

mod common;

/// Requests seen per order id, and the access tokens sent.
#[derive(Default)]
struct Shop {
    requests: HashMap<i64, u32>,
    tokens: Vec<String>,
    statuses: Vec<String>,
}

type Shared = Arc<Mutex<Shop>>;

/// Scripted by order id: 1 and 5 have an open fulfillment order, 2 is rate limited once,
/// 3 always fails with 500, 4 has no fulfillment order, 6 answers a shape that does not fit.
async fn fulfillment_orders(
    State(shop): State<Shared>,
    UrlPath(id): UrlPath<i64>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let n = {
        let mut s = shop.lock().unwrap();
        s.tokens.extend(headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).map(str::to_string));
        s.statuses.extend(q.get("status").cloned());
        let n = s.requests.entry(id).or_default();
        *n += 1;
        *n
    };
    let one = |fo: i64| serde_json::json!({ "fulfillment_orders": [{ "id": fo, "status": "open" }] }).to_string();
    match (id, n) {
        (2, 1) => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        (3, _) => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"errors":"upstream boom"}"#).into_response(),
        (4, _) => (StatusCode::OK, r#"{"fulfillment_orders":[]}"#).into_response(),
        (6, _) => (StatusCode::OK, r#"{"fulfillment_orders":[{"id":"not a number","status":"open"}]}"#).into_response(),
        _ => (StatusCode::OK, one(id * 10 + 1)).into_response(),
    }
}

fn start_shop() -> (SocketAddr, Shared) {
    let shop: Shared = Arc::default();
    let app =
        Router::new().route("/orders/{id}/fulfillment_orders.json", get(fulfillment_orders)).with_state(shop.clone());
    (common::serve(app), shop)
}

fn flow(ty: &str) -> String {
    format!(
        r#"
type In = {{ id: Int }}
type Fo = {{ id: Int, status: String }}

flow dispatch {{
  source in: file {{ path: "in.ndjson" }} : In
  enrich fo: http.get {{
    url: env("SHOP_URL") + "/orders/${{record.id}}/fulfillment_orders.json"
    query: {{ status: "open" }}
    headers: {{ "X-Shopify-Access-Token": secret("SHOPIFY_TOKEN") }}
    select: "$.fulfillment_orders[0]"
    cache: 10m
    retry: {{ attempts: 3, backoff: exponential(10ms, max: 50ms), on: [429, 5xx] }}
    rate: 100/s
    concurrency: 4
    timeout: 5s
  }} : {ty}
  map {{ id: record.id, fulfillment_order: {value} }}
  sink out: stdout {{}}
}}
"#,
        value = if ty.ends_with('?') { "fo?.id" } else { "fo.id" },
    )
}

/// Runs the flow over records with these ids against the shop at `addr`.
fn run(text: &str, ids: &[i64], addr: Option<SocketAddr>, dry: Option<&Path>) -> RunReport {
    let outcome = flowgate::check_text("enrich.flow", text);
    let program = outcome.ir().unwrap_or_else(|| panic!("{:?}", outcome.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let lines: Vec<String> = ids.iter().map(|id| format!("{{\"id\":{id}}}")).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let mut env = HashMap::new();
    env.insert("SHOP_URL".to_string(), addr.map_or("https://shop.example".to_string(), |a| format!("http://{a}")));
    env.insert("SHOPIFY_TOKEN".to_string(), "shpat_supersecret".to_string());
    let opts = RunOptions {
        dry_run: dry.is_some(),
        inputs: Some(vec![input.to_string_lossy().to_string()]),
        input_format: None,
        now: chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap(),
        env,
        base_dir: dir.path().to_path_buf(),
        progress: false,
        keep_events: true,
        display_root: Some(dir.path().to_path_buf()),
        retention: None,
        regroup: None,
        responses: dry.map(Path::to_path_buf),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = Arc::new(flowgate::state::MemoryStore::new());
    rt.block_on(flowgate::runtime::run(&program, &program.flows[0], store, opts)).expect("the run balances")
}

/// Per input record (by id order): the delivered body, or the hold's reason and message.
fn ends(report: &RunReport) -> Vec<Result<serde_json::Value, (String, String)>> {
    report
        .events
        .iter()
        .map(|e| match e {
            Event::Delivered { delivery, .. } => Ok(delivery.body.clone()),
            Event::Held { hold, .. } => Err((hold.reason.clone(), hold.message.clone())),
            Event::Filtered { why, .. } => Err(("filtered".into(), why.clone())),
        })
        .collect()
}

#[test]
fn answers_are_bound_in_order_and_an_identical_request_is_answered_from_the_cache() {
    let (addr, shop) = start_shop();
    let report = run(&flow("Fo"), &[1, 5, 1, 5, 1], Some(addr), None);
    let got = ends(&report);
    let want = [11, 51, 11, 51, 11];
    for (end, fo) in got.iter().zip(want) {
        let body = end.as_ref().expect("delivered");
        assert_eq!(body["fulfillment_order"], serde_json::json!(fo), "{body}");
    }
    let s = shop.lock().unwrap();
    assert_eq!((s.requests[&1], s.requests[&5]), (1, 1), "the cache answers the repeats");
    assert!(s.tokens.iter().all(|t| t == "shpat_supersecret") && s.statuses.iter().all(|q| q == "open"));
    assert_eq!(report.summary.delivered, 5);
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_retried() {
    let (addr, shop) = start_shop();
    let started = std::time::Instant::now();
    let report = run(&flow("Fo"), &[2], Some(addr), None);
    let got = ends(&report);
    assert_eq!(got[0].as_ref().expect("delivered")["fulfillment_order"], serde_json::json!(21));
    assert_eq!(shop.lock().unwrap().requests[&2], 2);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "Retry-After: 1 is honoured");
}

#[test]
fn a_call_failing_past_its_retries_holds_the_record_with_the_request_and_an_excerpt() {
    let (addr, shop) = start_shop();
    let report = run(&flow("Fo"), &[1, 3, 1], Some(addr), None);
    let got = ends(&report);
    assert!(got[0].is_ok() && got[2].is_ok(), "{got:?}");
    let (reason, message) = got[1].clone().unwrap_err();
    assert_eq!(reason, "enrichment_failed");
    let url = format!("GET http://{addr}/orders/3/fulfillment_orders.json?status=open");
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("answered 500 after 3 attempts") && message.contains("upstream boom"), "{message}");
    assert!(!message.contains("shpat_supersecret"), "{message}");
    assert_eq!(shop.lock().unwrap().requests[&3], 3);
    assert_eq!((report.summary.delivered, report.summary.held), (2, 1));
}

#[test]
fn nothing_selected_holds_the_record_unless_the_type_is_optional() {
    let (addr, _) = start_shop();
    let report = run(&flow("Fo"), &[4], Some(addr), None);
    let (reason, message) = ends(&report)[0].clone().unwrap_err();
    assert_eq!(reason, "enrichment_empty");
    assert!(
        message.contains("`$.fulfillment_orders[0]` selected nothing") && message.contains("/orders/4/"),
        "{message}"
    );

    let report = run(&flow("Fo?"), &[4, 1], Some(addr), None);
    let got = ends(&report);
    assert_eq!(got[0].as_ref().expect("delivered")["fulfillment_order"], serde_json::Value::Null);
    assert_eq!(got[1].as_ref().expect("delivered")["fulfillment_order"], serde_json::json!(11));
}

#[test]
fn an_answer_that_does_not_fit_the_type_holds_the_record() {
    let (addr, _) = start_shop();
    let report = run(&flow("Fo"), &[6], Some(addr), None);
    let (reason, message) = ends(&report)[0].clone().unwrap_err();
    assert_eq!(reason, "enrichment_mismatch");
    assert!(message.contains("does not fit") && message.contains("not a number"), "{message}");
}

#[test]
fn a_dry_run_answers_from_recordings_and_names_the_recording_a_request_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let rec = serde_json::json!({
        "request": { "method": "GET", "url": "https://shop.example/orders/1/fulfillment_orders.json?status=open" },
        "status": 200,
        "body": { "fulfillment_orders": [{ "id": 99, "status": "open" }] }
    });
    std::fs::write(dir.path().join("order_1.json"), rec.to_string()).unwrap();
    let report = run(&flow("Fo"), &[1, 2], None, Some(dir.path()));
    let got = ends(&report);
    assert_eq!(got[0].as_ref().expect("delivered")["fulfillment_order"], serde_json::json!(99));
    let (reason, message) = got[1].clone().unwrap_err();
    assert_eq!(reason, "enrichment_unrecorded");
    assert!(
        message.contains("GET https://shop.example/orders/2/fulfillment_orders.json?status=open")
            && message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

/// Calls in flight now and at most, for the slow endpoint.
#[derive(Default)]
struct Gauge {
    now: u32,
    max: u32,
}

#[test]
fn up_to_concurrency_calls_are_in_flight_and_records_keep_their_order() {
    let gauge: Arc<Mutex<Gauge>> = Arc::default();
    let g = gauge.clone();
    let app = Router::new().route(
        "/slow/{id}",
        get(move |UrlPath(id): UrlPath<i64>| {
            let g = g.clone();
            async move {
                {
                    let mut g = g.lock().unwrap();
                    g.now += 1;
                    g.max = g.max.max(g.now);
                }
                // Later ids answer sooner, so answers arrive out of order.
                tokio::time::sleep(std::time::Duration::from_millis(200 - 20 * id as u64)).await;
                g.lock().unwrap().now -= 1;
                serde_json::json!({ "id": id * 100, "status": "open" }).to_string()
            }
        }),
    );
    let addr = common::serve(app);
    let text = r#"
type In = { id: Int }
type Fo = { id: Int, status: String }

flow slow {
  source in: file { path: "in.ndjson" } : In
  enrich fo: http.get { url: env("SHOP_URL") + "/slow/${record.id}", rate: 1000/s, concurrency: 3 } : Fo
  map { id: record.id, fo: fo.id }
  sink out: stdout {}
}
"#;
    let report = run(text, &[1, 2, 3, 4, 5, 6, 7, 8], Some(addr), None);
    let got: Vec<i64> = ends(&report).iter().map(|e| e.as_ref().expect("delivered")["fo"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![100, 200, 300, 400, 500, 600, 700, 800]);
    assert_eq!(gauge.lock().unwrap().max, 3, "three calls at once, never more");
}

#[test]
fn a_retry_after_far_in_the_future_holds_the_record_instead_of_stalling_the_run() {
    let calls: Arc<Mutex<u32>> = Arc::default();
    let c = calls.clone();
    let app = Router::new().route(
        "/orders/{id}/fulfillment_orders.json",
        get(move || {
            let c = c.clone();
            async move {
                *c.lock().unwrap() += 1;
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "999999")], "come back in eleven days")
            }
        }),
    );
    let addr = common::serve(app);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(&flow("Fo"), &[1, 2], Some(addr), None));
    });
    let report = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("the run ends instead of waiting 11 days");
    for end in ends(&report) {
        let (reason, message) = end.unwrap_err();
        assert_eq!(reason, "enrichment_failed");
        assert!(message.contains("answered 429 after 1 attempt") && message.contains("999999"), "{message}");
    }
    assert_eq!(report.summary.held, 2);
    assert_eq!(*calls.lock().unwrap(), 2, "a server that asks for days is not asked again within the run");
}

#[test]
fn requests_that_differ_only_in_their_headers_are_cached_apart() {
    let app = Router::new().route(
        "/shop.json",
        get(|headers: HeaderMap| async move {
            let shop = headers.get("x-shop").and_then(|v| v.to_str().ok()).unwrap_or("none").to_string();
            serde_json::json!({ "id": shop.len(), "status": shop }).to_string()
        }),
    );
    let addr = common::serve(app);
    let text = r#"
type In = { id: Int }
type Fo = { id: Int, status: String }

flow shops {
  source in: file { path: "in.ndjson" } : In
  enrich fo: http.get {
    url: env("SHOP_URL") + "/shop.json"
    headers: { "X-Shop": if record.id == 1 then "north" else "southwest" }
    cache: 10m
    rate: 1000/s
  } : Fo
  map { id: record.id, shop: fo.status }
  sink out: stdout {}
}
"#;
    let report = run(text, &[1, 2, 1, 2], Some(addr), None);
    let got: Vec<String> =
        ends(&report).iter().map(|e| e.as_ref().expect("delivered")["shop"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["north", "southwest", "north", "southwest"]);
}

#[test]
fn an_answer_larger_than_the_limit_holds_the_record_rather_than_filling_memory() {
    let app = Router::new().route(
        "/orders/{id}/fulfillment_orders.json",
        get(|| async {
            let pad = "x".repeat((flowgate::confine::MAX_LOOKUP_BYTES + 1024) as usize);
            format!(r#"{{"fulfillment_orders":[{{"id":1,"status":"open","pad":"{pad}"}}]}}"#)
        }),
    );
    let addr = common::serve(app);
    let report = run(&flow("Fo"), &[1], Some(addr), None);
    let (reason, message) = ends(&report)[0].clone().unwrap_err();
    assert_eq!(reason, "enrichment_failed");
    assert!(message.contains("larger than"), "{message}");
    assert!(message.len() < 2_000, "the message stays short: {} bytes", message.len());
}

#[test]
fn a_server_slower_than_the_timeout_holds_the_record_once_the_timeout_passes() {
    let app = Router::new().route(
        "/orders/{id}/fulfillment_orders.json",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            r#"{"fulfillment_orders":[{"id":1,"status":"open"}]}"#
        }),
    );
    let addr = common::serve(app);
    let started = std::time::Instant::now();
    let report = run(&flow("Fo").replace("timeout: 5s", "timeout: 1s"), &[1, 2], Some(addr), None);
    for end in ends(&report) {
        let (reason, message) = end.unwrap_err();
        assert_eq!(reason, "enrichment_failed");
        assert!(message.contains("timed out after 1 attempt"), "{message}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "{:?}", started.elapsed());
}

#[test]
fn a_header_value_that_cannot_be_sent_holds_the_record_at_once_without_retries() {
    let calls: Arc<Mutex<u32>> = Arc::default();
    let c = calls.clone();
    let app = Router::new().route(
        "/shop.json",
        get(move || {
            let c = c.clone();
            async move {
                *c.lock().unwrap() += 1;
                r#"{"id":1,"status":"open"}"#
            }
        }),
    );
    let addr = common::serve(app);
    let text = r#"
type In = { id: Int }
type Fo = { id: Int, status: String }

flow shops {
  source in: file { path: "in.ndjson" } : In
  enrich fo: http.get {
    url: env("SHOP_URL") + "/shop.json"
    headers: { "X-Note": if record.id == 1 then "line one\nline two" else "fine" }
    rate: 1000/s
  } : Fo
  map { id: record.id, shop: fo.status }
  sink out: stdout {}
}
"#;
    let started = std::time::Instant::now();
    let report = run(text, &[1, 2], Some(addr), None);
    let got = ends(&report);
    let (reason, message) = got[0].clone().unwrap_err();
    assert_eq!(reason, "enrichment_failed");
    assert!(message.contains("`X-Note`") && message.contains("cannot be sent"), "{message}");
    assert!(got[1].is_ok(), "{got:?}");
    assert_eq!(*calls.lock().unwrap(), 1, "only the request that can be sent is");
    assert!(started.elapsed() < std::time::Duration::from_millis(900), "no retries: {:?}", started.elapsed());
}
