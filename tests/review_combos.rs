//! Stages combined as integrators combine them: a group enriched per key, with a state
//! after it, against an in-process fake WMS that fails on purpose. Every record ends once
//! per run, a held group is replayed whole, and its state is committed once.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flowgate::runtime::{Event, RunOptions, RunReport};
use flowgate::state::{HoldFilter, HoldStatus, MemoryStore, StateStore};

#[derive(Default)]
struct Wms {
    south_down: AtomicBool,
    calls: AtomicU32,
}

async fn bin(State(wms): State<Arc<Wms>>, UrlPath(location): UrlPath<String>) -> Response {
    wms.calls.fetch_add(1, Ordering::Relaxed);
    if location == "south" && wms.south_down.load(Ordering::Relaxed) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
    }
    serde_json::json!({ "bin": format!("{location}-1") }).to_string().into_response()
}

const FLOW: &str = r#"
type Level = { sku: String, location: String, qty: Int }
type Bin = { bin: String }

flow stock {
  source levels: file { path: "in.ndjson" } : Level
  group by record.location {
    location: key
    qty: sum(record.qty)
  }
  enrich b: http.get {
    url: env("WMS_URL") + "/bins/${record.location}"
    retry: { attempts: 1, backoff: exponential(10ms, max: 10ms), on: [5xx] }
    rate: 1000/s
  } : Bin
  state last_qty: Int by record.location = record.qty
  map { location: record.location, qty: record.qty, bin: b.bin, was: last_qty }
  sink out: stdout {}
}
"#;

const LEVELS: &str = r#"{"sku": "A", "location": "north", "qty": 1}
{"sku": "B", "location": "south", "qty": 2}
{"sku": "C", "location": "north", "qty": 3}
{"sku": "D", "location": "south", "qty": 4}
{"sku": "E", "location": "east", "qty": 5}
"#;

fn options(dir: &std::path::Path, addr: std::net::SocketAddr) -> RunOptions {
    let input = dir.join("in.ndjson");
    std::fs::write(&input, LEVELS).unwrap();
    RunOptions {
        dry_run: false,
        inputs: Some(vec![input.to_string_lossy().to_string()]),
        input_format: None,
        now: chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap(),
        env: HashMap::from([("WMS_URL".to_string(), format!("http://{addr}"))]),
        base_dir: dir.to_path_buf(),
        progress: false,
        keep_events: true,
        display_root: Some(dir.to_path_buf()),
        retention: None,
        regroup: None,
        responses: None,
    }
}

fn delivered(report: &RunReport) -> Vec<serde_json::Value> {
    report
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Delivered { delivery, .. } => Some(delivery.body.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_group_held_by_its_enrichment_ends_each_record_once_and_is_replayed_whole_committing_its_state_once() {
    let wms = Arc::new(Wms::default());
    wms.south_down.store(true, Ordering::Relaxed);
    let addr = common::serve(Router::new().route("/bins/{location}", get(bin)).with_state(wms.clone()));
    let program = flowgate::check_text("stock.flow", FLOW).ir().expect("the flow checks");
    let flow = &program.flows[0];
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    let report = rt.block_on(flowgate::runtime::run(&program, flow, store.clone(), options(dir.path(), addr))).unwrap();
    let s = &report.summary;
    assert_eq!((s.delivered, s.held, s.filtered), (3, 2, 0), "north (2) and east (1) delivered, south's 2 held");
    let sent = delivered(&report);
    assert_eq!(sent[0], serde_json::json!({ "location": "north", "qty": 4, "bin": "north-1", "was": null }));
    assert_eq!(store.state_get("stock", "last_qty", "north").unwrap().as_deref(), Some("4"));
    assert_eq!(store.state_get("stock", "last_qty", "south").unwrap(), None, "a held group commits nothing");

    let held = store.holds(&HoldFilter { status: Some(HoldStatus::Held), ..HoldFilter::default() }).unwrap();
    let skus: Vec<String> =
        held.iter().map(|h| h.record.value().unwrap()["sku"].as_str().unwrap().to_string()).collect();
    assert_eq!(skus, ["B", "D"]);
    assert!(held.iter().all(|h| h.reason == "enrichment_failed" && h.batch.is_some() && h.batch == held[0].batch));

    // The WMS is back: replaying one of the two sends the group whole, once.
    wms.south_down.store(false, Ordering::Relaxed);
    let one = held[..1].to_vec();
    let (replayed, summary) = rt
        .block_on(flowgate::runtime::replay::replay(&program, flow, store.clone(), &one, options(dir.path(), addr)))
        .unwrap();
    assert_eq!(replayed.len(), 2, "{replayed:?}");
    assert!(replayed.iter().all(|r| !r.held_again && r.outcome == "delivered to out"), "{replayed:?}");
    assert_eq!((summary.delivered, summary.held), (2, 0));
    assert_eq!(store.state_get("stock", "last_qty", "south").unwrap().as_deref(), Some("6"));
    let open = store.holds(&HoldFilter { status: Some(HoldStatus::Held), ..HoldFilter::default() }).unwrap();
    assert!(open.is_empty(), "{open:?}");
}
