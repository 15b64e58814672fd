//! The state store's contract, checked against both stores: every spec below runs on a
//! `SqliteStore` in a fresh temporary directory and on a `MemoryStore`. Then what only
//! a file can show: reopening, several connections, a crash, the schema.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use flowgate::state::{
    Hold, HoldCount, HoldFilter, HoldId, HoldStatus, JsonText, MemoryStore, NewHold, SqliteStore, StateError,
    StateStore, StateWrite,
};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").to_utc()
}

fn t0() -> DateTime<Utc> {
    at("2026-11-24T12:00:00Z")
}

static NEXT_REF: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A hold of `flow` for `reason`, about `key`, created `mins` minutes after t0.
fn hold(flow: &str, reason: &str, key: &str, mins: i64) -> NewHold {
    NewHold {
        flow: flow.into(),
        flow_version: "v1-3f2a".into(),
        stage: "validate".into(),
        stage_line: 12,
        reason: reason.into(),
        message: format!("{key}: {reason}"),
        blocking_key: Some(key.into()),
        attempts: 1,
        // Each hold its own place in the input: holds are idempotent per place.
        source_ref: Some(format!(
            "payloads/{flow}.json#{}",
            NEXT_REF.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )),
        created_at: t0() + Duration::minutes(mins),
        record: serde_json::json!({ "name": key, "line_items": [] }).into(),
        stage_input: serde_json::json!({ "name": key }).into(),
        batch: None,
    }
}

fn ids(holds: &[Hold]) -> Vec<HoldId> {
    holds.iter().map(|h| h.id).collect()
}

fn filter(flow: Option<&str>, reason: Option<&str>, status: Option<HoldStatus>) -> HoldFilter {
    HoldFilter { flow: flow.map(Into::into), reason: reason.map(Into::into), status, ids: None, mentions: None }
}

// ---- the contract, for every store ----

fn a_record_already_held_is_not_held_twice(store: &dyn StateStore) {
    let mut first = hold("orders", "invalid", "#2001", 0);
    first.source_ref = Some("in.ndjson:7".into());
    let mut again = first.clone();
    again.message = "held again after a restart".into();
    let a = store.add_holds(vec![first.clone()]).unwrap();
    let b = store.add_holds(vec![again]).unwrap();
    assert_eq!(a, b, "the same record from the same place keeps its one hold");
    assert_eq!(
        store
            .holds(&filter(Some("orders"), None, None))
            .unwrap()
            .iter()
            .filter(|h| h.blocking_key.as_deref() == Some("#2001"))
            .count(),
        1
    );
    // Once that hold is replayed, the record may be held anew.
    store.mark_replayed(a[0], "delivered to erp", t0()).unwrap();
    let c = store.add_holds(vec![first]).unwrap();
    assert_ne!(a, c);
}

fn a_stored_hold_reads_back_exactly(store: &dyn StateStore) {
    let mut h = hold("orders", "invalid", "#1001", 0);
    // The text as it arrived (exact numbers, key order, spacing) survives; times keep
    // their nanoseconds.
    let text = r#"{"z": 1, "total": 12.3400, "big": 123456789012345678901234567890.5}"#;
    h.record = JsonText::parse(text).unwrap();
    h.created_at = at("2026-11-24T12:00:00.123456789Z");
    h.blocking_key = None;
    h.source_ref = None;
    let ids = store.add_holds(vec![h.clone()]).unwrap();
    assert_eq!(ids.len(), 1);
    let got = store.hold(ids[0]).unwrap().expect("the hold just added");
    assert_eq!(got, Hold::stored(ids[0], h));
    assert_eq!(got.status, HoldStatus::Held);
    assert_eq!(got.updated_at, got.created_at);
    assert_eq!(got.outcome, None);
    assert_eq!(got.record.as_str(), text);
    assert_eq!(
        serde_json::to_string(&got.record).unwrap(),
        r#"{"z":1,"total":12.3400,"big":123456789012345678901234567890.5}"#
    );
    assert_eq!(store.hold(ids[0] + 100).unwrap(), None);
}

fn ids_come_back_in_order_and_are_never_reused(store: &dyn StateStore) {
    assert_eq!(store.add_holds(vec![]).unwrap(), Vec::<HoldId>::new());
    let first = store.add_holds(vec![hold("a", "r", "1", 0), hold("a", "r", "2", 1), hold("a", "r", "3", 2)]).unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    let keys: Vec<_> = first.iter().map(|&id| store.hold(id).unwrap().unwrap().blocking_key.unwrap()).collect();
    assert_eq!(keys, ["1", "2", "3"]);
    store.mark_discarded(first[2], "test", t0()).unwrap();
    let next = store.add_holds(vec![hold("a", "r", "4", 3)]).unwrap();
    assert!(next[0] > first[2]);
}

fn holds_are_listed_oldest_first_and_filtered(store: &dyn StateStore) {
    let ids = store
        .add_holds(vec![
            hold("orders", "invalid", "#1", 0),
            hold("stock", "invalid", "SKU-1", 1),
            hold("orders", "retries_exhausted", "#2", 2),
            hold("orders", "invalid", "#3", 3),
        ])
        .unwrap();
    store.mark_discarded(ids[3], "duplicate", t0()).unwrap();

    assert_eq!(super_ids(store, HoldFilter::default()), ids);
    assert_eq!(super_ids(store, HoldFilter::held()), [ids[0], ids[1], ids[2]]);
    assert_eq!(super_ids(store, filter(Some("orders"), None, None)), [ids[0], ids[2], ids[3]]);
    assert_eq!(super_ids(store, filter(Some("orders"), Some("invalid"), None)), [ids[0], ids[3]]);
    assert_eq!(super_ids(store, filter(Some("orders"), Some("invalid"), Some(HoldStatus::Held))), [ids[0]]);
    assert_eq!(super_ids(store, filter(None, None, Some(HoldStatus::Discarded))), [ids[3]]);
    assert_eq!(super_ids(store, filter(Some("nope"), None, None)), Vec::<HoldId>::new());
    assert_eq!(super_ids(store, filter(None, None, Some(HoldStatus::Replayed))), Vec::<HoldId>::new());
    let some = HoldFilter { ids: Some(vec![ids[3], ids[1], 9999]), ..HoldFilter::default() };
    assert_eq!(super_ids(store, some), [ids[1], ids[3]], "by id, in id order");
    let none = HoldFilter { ids: Some(vec![]), ..HoldFilter::default() };
    assert_eq!(super_ids(store, none), Vec::<HoldId>::new());
    let held_of = HoldFilter { ids: Some(ids.clone()), status: Some(HoldStatus::Held), ..HoldFilter::default() };
    assert_eq!(super_ids(store, held_of), [ids[0], ids[1], ids[2]]);
}

fn super_ids(store: &dyn StateStore, f: HoldFilter) -> Vec<HoldId> {
    ids(&store.holds(&f).unwrap())
}

fn summary_counts_by_flow_reason_and_status(store: &dyn StateStore) {
    let ids = store
        .add_holds(vec![
            hold("stock", "invalid", "SKU-1", 30),
            hold("orders", "invalid", "#1", 10),
            hold("orders", "invalid", "#2", 0),
            hold("orders", "retries_exhausted", "#3", 5),
            hold("orders", "invalid", "#4", 20),
        ])
        .unwrap();
    store.mark_replayed(ids[4], "delivered to erp", t0()).unwrap();
    let count = |flow: &str, reason: &str, status, count, oldest: i64, newest: i64| HoldCount {
        flow: flow.into(),
        reason: reason.into(),
        status,
        count,
        oldest: t0() + Duration::minutes(oldest),
        newest: t0() + Duration::minutes(newest),
    };
    assert_eq!(
        store.hold_summary(&HoldFilter::default()).unwrap(),
        [
            count("orders", "invalid", HoldStatus::Held, 2, 0, 10),
            count("orders", "invalid", HoldStatus::Replayed, 1, 20, 20),
            count("orders", "retries_exhausted", HoldStatus::Held, 1, 5, 5),
            count("stock", "invalid", HoldStatus::Held, 1, 30, 30),
        ]
    );
    assert_eq!(
        store.hold_summary(&filter(Some("orders"), None, Some(HoldStatus::Held))).unwrap(),
        [
            count("orders", "invalid", HoldStatus::Held, 2, 0, 10),
            count("orders", "retries_exhausted", HoldStatus::Held, 1, 5, 5)
        ]
    );
    assert_eq!(store.hold_summary(&filter(Some("nope"), None, None)).unwrap(), []);
}

fn only_a_held_hold_is_replayed_discarded_or_attempted(store: &dyn StateStore) {
    let ids = store.add_holds(vec![hold("orders", "erp_down", "#1", 0), hold("orders", "invalid", "#2", 0)]).unwrap();
    let later = t0() + Duration::hours(2);

    store.record_attempt(ids[0], "erp answered 503 again", later).unwrap();
    let h = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!(
        (h.status, h.attempts, h.message.as_str(), h.updated_at),
        (HoldStatus::Held, 2, "erp answered 503 again", later)
    );
    assert_eq!(h.created_at, t0(), "created_at never moves");

    store.mark_replayed(ids[0], "delivered: erp 201", later).unwrap();
    let h = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!((h.status, h.outcome.as_deref()), (HoldStatus::Replayed, Some("delivered: erp 201")));

    store.mark_discarded(ids[1], "customer cancelled", later).unwrap();
    let h = store.hold(ids[1]).unwrap().unwrap();
    assert_eq!(
        (h.status, h.outcome.as_deref(), h.updated_at),
        (HoldStatus::Discarded, Some("customer cancelled"), later)
    );

    for result in [
        store.mark_discarded(ids[0], "again", later),
        store.mark_replayed(ids[1], "again", later),
        store.record_attempt(ids[1], "again", later),
    ] {
        let e = result.unwrap_err();
        assert!(matches!(e, StateError::NotHeld { .. }), "{e:?}");
        assert!(e.is_about_a_hold());
        assert!(e.to_string().contains("not held"), "{e}");
    }
    let e = store.mark_discarded(4242, "x", later).unwrap_err();
    assert!(matches!(e, StateError::NoSuchHold { id: 4242, .. }), "{e:?}");
    assert!(e.to_string().starts_with("no hold 4242 in "), "{e}");
    // Failed changes change nothing.
    assert_eq!(store.hold(ids[1]).unwrap().unwrap().outcome.as_deref(), Some("customer cancelled"));
}

fn dedupe_keys_expire(store: &dyn StateStore) {
    let hour = Duration::hours(1);
    assert!(!store.dedupe_seen("orders", "k1", t0()).unwrap());
    store.dedupe_commit("orders", &[("k1".into(), Some(t0() + hour)), ("k2".into(), None)], t0()).unwrap();
    assert!(store.dedupe_seen("orders", "k1", t0()).unwrap());
    assert!(store.dedupe_seen("orders", "k2", t0()).unwrap());
    assert!(!store.dedupe_seen("stock", "k1", t0()).unwrap(), "keys belong to one flow");
    assert!(!store.dedupe_seen("orders", "k3", t0()).unwrap());
    // Expired at the instant of expiry and after; forever is forever.
    assert!(!store.dedupe_seen("orders", "k1", t0() + hour).unwrap());
    assert!(store.dedupe_seen("orders", "k2", t0() + Duration::days(3650)).unwrap());

    // Committing again keeps the later expiry.
    store.dedupe_commit("orders", &[("k1".into(), Some(t0() + hour * 3))], t0()).unwrap();
    store.dedupe_commit("orders", &[("k1".into(), Some(t0() + hour * 2))], t0()).unwrap();
    assert!(store.dedupe_seen("orders", "k1", t0() + hour * 2 + Duration::minutes(30)).unwrap());
    store.dedupe_commit("orders", &[("k2".into(), Some(t0() + hour))], t0()).unwrap();
    assert!(store.dedupe_seen("orders", "k2", t0() + hour * 2).unwrap(), "forever stays forever");
    store.dedupe_commit("orders", &[("k1".into(), None)], t0()).unwrap();
    assert!(store.dedupe_seen("orders", "k1", t0() + Duration::days(365)).unwrap());

    // A key committed after it expired counts again from the new commit.
    store.dedupe_commit("stock", &[("s".into(), Some(t0() + hour))], t0()).unwrap();
    let later = t0() + hour * 5;
    assert!(!store.dedupe_seen("stock", "s", later).unwrap());
    store.dedupe_commit("stock", &[("s".into(), Some(later + hour))], later).unwrap();
    assert!(store.dedupe_seen("stock", "s", later).unwrap());
    store.dedupe_commit("stock", &[], later).unwrap();
}

fn cursors_are_per_flow_and_source(store: &dyn StateStore) {
    assert_eq!(store.cursor("orders", "shop").unwrap(), None);
    store.set_cursor("orders", "shop", "2026-11-24T12:00:00Z").unwrap();
    store.set_cursor("orders", "shop", "2026-11-24T13:00:00Z").unwrap();
    store.set_cursor("orders", "other", "page=7").unwrap();
    assert_eq!(store.cursor("orders", "shop").unwrap().as_deref(), Some("2026-11-24T13:00:00Z"));
    assert_eq!(store.cursor("orders", "other").unwrap().as_deref(), Some("page=7"));
    assert_eq!(store.cursor("stock", "shop").unwrap(), None);
}

fn deliveries_are_per_flow_sink_and_key(store: &dyn StateStore) {
    assert!(!store.delivered("orders", "erp", "order-1").unwrap());
    store.record_delivery("orders", "erp", "order-1", 201, t0()).unwrap();
    store.record_delivery("orders", "erp", "order-1", 200, t0() + Duration::minutes(1)).unwrap();
    assert!(store.delivered("orders", "erp", "order-1").unwrap());
    assert!(!store.delivered("orders", "crm", "order-1").unwrap());
    assert!(!store.delivered("stock", "erp", "order-1").unwrap());
    assert!(!store.delivered("orders", "erp", "order-2").unwrap());
}

fn deliveries_are_recorded_in_groups(store: &dyn StateStore) {
    store.record_deliveries("orders", "erp", &[]).unwrap();
    store.record_delivery("orders", "erp", "order-1", 500, t0()).unwrap();
    let group: Vec<(String, u16, DateTime<Utc>)> =
        (1..=3).map(|i| (format!("order-{i}"), 201, t0() + Duration::seconds(i))).collect();
    store.record_deliveries("orders", "erp", &group).unwrap();
    for i in 1..=3 {
        assert!(store.delivered("orders", "erp", &format!("order-{i}")).unwrap());
    }
    assert!(!store.delivered("orders", "erp", "order-4").unwrap());
    assert!(!store.delivered("orders", "crm", "order-2").unwrap());
}

fn holds_added_from_many_threads_all_arrive(store: &dyn StateStore) {
    const THREADS: usize = 8;
    const BATCHES: usize = 10;
    const PER_BATCH: usize = 5;
    let all: Vec<Vec<HoldId>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for b in 0..BATCHES {
                        let batch: Vec<NewHold> = (0..PER_BATCH)
                            .map(|i| hold(&format!("flow{t}"), "invalid", &format!("{t}-{b}-{i}"), 0))
                            .collect();
                        mine.extend(store.add_holds(batch.clone()).unwrap());
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut every: Vec<HoldId> = all.iter().flatten().copied().collect();
    assert!(all.iter().all(|mine| mine.windows(2).all(|w| w[0] < w[1])));
    every.sort_unstable();
    every.dedup();
    assert_eq!(every.len(), THREADS * BATCHES * PER_BATCH);
    assert_eq!(store.holds(&HoldFilter::held()).unwrap().len(), every.len());
    for (t, mine) in all.iter().enumerate() {
        let theirs = store.holds(&filter(Some(&format!("flow{t}")), None, None)).unwrap();
        assert_eq!(&ids(&theirs), mine, "a thread's holds, in the order it added them");
        let keys: Vec<String> = theirs.into_iter().filter_map(|h| h.blocking_key).collect();
        let want: Vec<String> =
            (0..BATCHES).flat_map(|b| (0..PER_BATCH).map(move |i| format!("{t}-{b}-{i}"))).collect();
        assert_eq!(keys, want);
    }
}

fn a_hold_ends_when_its_record_is_taken_to_its_end(store: &dyn StateStore) {
    let first = hold("orders", "invalid", "#1", 0);
    let record = first.record.clone();
    let other = hold("orders", "invalid", "#2", 1);
    let ids = store.add_holds(vec![first.clone(), other]).unwrap();
    assert!(store.has_open_holds("orders").unwrap() && !store.has_open_holds("refunds").unwrap());
    // The same record from another place in the input is the same record: held once.
    let mut again = first;
    again.source_ref = Some("payloads/orders.json#elsewhere".into());
    assert_eq!(store.add_holds(vec![again]).unwrap(), vec![ids[0]]);
    let ended = vec![(flowgate::state::record_identity(record.as_str()), "delivered to erp by a later run".into())];
    assert_eq!(store.end_holds("refunds", &ended, t0()).unwrap(), 0, "another flow's record");
    assert_eq!(store.end_holds("orders", &ended, t0()).unwrap(), 1);
    let h = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!((h.status, h.outcome.as_deref()), (HoldStatus::Replayed, Some("delivered to erp by a later run")));
    assert_eq!(store.hold(ids[1]).unwrap().unwrap().status, HoldStatus::Held);
    assert_eq!(store.end_holds("orders", &ended, t0()).unwrap(), 0, "ended once");
}

fn retention_purges_what_ended_long_ago_and_never_what_is_held(store: &dyn StateStore) {
    let old_done = hold("orders", "invalid", "#1", 0);
    let old_held = hold("orders", "invalid", "#2", 0);
    let new_done = hold("orders", "invalid", "#3", 0);
    let ids = store.add_holds(vec![old_done, old_held, new_done]).unwrap();
    store.mark_discarded(ids[0], "test order", t0()).unwrap();
    store.mark_replayed(ids[2], "delivered to erp", t0() + Duration::days(40)).unwrap();
    store.inbox_add("hooks", Some("a"), &serde_json::json!({}), b"{\"id\":1}", t0()).unwrap();
    store.inbox_add("hooks", Some("b"), &serde_json::json!({}), b"{\"id\":2}", t0()).unwrap();
    let first = store.inbox_pending("hooks", 0, 10).unwrap()[0].id;
    store.inbox_done("hooks", &[first]).unwrap();
    store.record_delivery("orders", "erp", "#1", 201, t0()).unwrap();
    store.record_delivery("orders", "erp", "#9", 201, t0() + Duration::days(40)).unwrap();
    let purged = store.purge(t0() + Duration::days(30)).unwrap();
    assert_eq!(purged, flowgate::state::Purged { holds: 1, inbox: 1, deliveries: 1 });
    let h = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!(
        (h.record.as_str(), h.stage_input.as_str(), h.message.as_str()),
        ("null", "null", flowgate::state::PURGED)
    );
    assert_eq!(
        (h.reason.as_str(), h.blocking_key.as_deref(), h.status),
        ("invalid", Some("#1"), HoldStatus::Discarded)
    );
    assert_ne!(store.hold(ids[1]).unwrap().unwrap().record.as_str(), "null", "a held record lost its payload");
    assert_ne!(store.hold(ids[2]).unwrap().unwrap().record.as_str(), "null", "a recent hold lost its payload");
    assert_eq!(store.inbox_pending("hooks", 0, 10).unwrap().len(), 1, "a pending request was purged");
    assert!(!store.delivered("orders", "erp", "#1").unwrap() && store.delivered("orders", "erp", "#9").unwrap());
    assert_eq!(store.purge(t0() + Duration::days(30)).unwrap(), flowgate::state::Purged::default(), "twice");
    // A new request after a purge never takes an id that was used.
    store.inbox_add("hooks", Some("c"), &serde_json::json!({}), b"{}", t0()).unwrap();
    let ids_now: Vec<i64> = store.inbox_pending("hooks", 0, 10).unwrap().iter().map(|i| i.id).collect();
    assert!(ids_now.iter().all(|id| *id != first), "{ids_now:?}");
}

fn erasure_removes_everything_about_a_person_and_nothing_else(store: &dyn StateStore) {
    let mut about = hold("orders", "no_address", "#1001", 0);
    about.record = JsonText::from(serde_json::json!({"name": "#1001", "email": "Jane.Doe@example.com"}));
    let other = hold("orders", "no_address", "#1002", 1);
    let ids = store.add_holds(vec![about, other]).unwrap();
    store
        .inbox_add("hooks", None, &serde_json::json!({"x": "y"}), b"{\"email\":\"jane.doe@example.com\"}", t0())
        .unwrap();
    store.dedupe_commit("orders", &[("jane.doe@example.com".into(), None), ("#1002".into(), None)], t0()).unwrap();
    let found =
        store.holds(&HoldFilter { mentions: Some("JANE.DOE@example.com".into()), ..HoldFilter::default() }).unwrap();
    assert_eq!(found.iter().map(|h| h.id).collect::<Vec<_>>(), vec![ids[0]]);
    let erased = store.erase("jane.doe@example.com", t0()).unwrap();
    assert_eq!(erased, flowgate::state::Erased { holds: 1, inbox: 1, keys: 1 });
    let h = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!((h.status, h.record.as_str(), h.blocking_key.as_deref()), (HoldStatus::Discarded, "null", None));
    assert_eq!(h.outcome.as_deref(), Some(flowgate::state::ERASED));
    assert_ne!(store.hold(ids[1]).unwrap().unwrap().record.as_str(), "null");
    assert!(store.inbox_pending("hooks", 0, 10).unwrap().is_empty(), "the erased request is still to be read");
    assert!(!store.dedupe_seen("orders", "jane.doe@example.com", t0()).unwrap());
    assert!(store.dedupe_seen("orders", "#1002", t0()).unwrap());
}

fn erasure_keeps_the_held_record_of_another_person_held_with_them(store: &dyn StateStore) {
    // Two customers' records held together (a group or batch): each hold keeps the
    // group's input, and the sink's message quotes both.
    let mut jane = hold("orders", "http_500", "#1001", 0);
    jane.record = JsonText::from(serde_json::json!({"name": "#1001", "email": "jane@example.com"}));
    let mut john = hold("orders", "http_500", "#1002", 0);
    john.record = JsonText::from(serde_json::json!({"name": "#1002", "email": "john@example.com"}));
    let group = JsonText::from(serde_json::json!([{"email": "jane@example.com"}, {"email": "john@example.com"}]));
    for h in [&mut jane, &mut john] {
        h.stage_input = group.clone();
        h.message = "answered 500: rejected jane@example.com".into();
    }
    let ids = store.add_holds(vec![jane, john]).unwrap();
    store.erase("jane@example.com", t0()).unwrap();
    let jane = store.hold(ids[0]).unwrap().unwrap();
    assert_eq!((jane.status, jane.record.as_str()), (HoldStatus::Discarded, "null"));
    let john = store.hold(ids[1]).unwrap().unwrap();
    assert_eq!(john.status, HoldStatus::Held, "john's record is still to be delivered");
    assert!(john.record.as_str().contains("john@example.com"));
    for text in [john.record.as_str(), john.stage_input.as_str(), john.message.as_str()] {
        assert!(!text.contains("jane"), "{text}");
    }
}

fn erasure_removes_remembered_values_whose_key_or_value_mentions_the_person(store: &dyn StateStore) {
    let writes = [
        write("last_order", "Jane.Doe@example.com", "\"2026-11-01T00:00:00Z\""),
        write("contact", "C-1", "{\"email\":\"jane.doe@example.com\"}"),
        write("last_order", "john@example.com", "\"2026-11-02T00:00:00Z\""),
    ];
    store.commit_ends("customers", &[], &writes, t0()).unwrap();
    let erased = store.erase("jane.doe@example.com", t0()).unwrap();
    assert_eq!(erased, flowgate::state::Erased { holds: 0, inbox: 0, keys: 2 });
    assert_eq!(store.state_get("customers", "last_order", "Jane.Doe@example.com").unwrap(), None);
    assert_eq!(store.state_get("customers", "contact", "C-1").unwrap(), None);
    assert!(store.state_get("customers", "last_order", "john@example.com").unwrap().is_some());
}

fn requests_stored_together_are_each_stored_once(store: &dyn StateStore) {
    use flowgate::state::NewRequest;
    let h = serde_json::json!({});
    let req = |key, body| NewRequest { flow: "hooks", dedupe_key: Some(key), headers: &h, body };
    store.inbox_add("hooks", Some("a"), &h, b"{\"id\":0}", t0()).unwrap();
    let stored = store
        .inbox_add_many(
            &[req("a", b"{\"id\":1}"), req("b", b"{\"id\":2}"), req("b", b"{\"id\":3}"), req("c", b"{}")],
            t0(),
        )
        .unwrap();
    assert_eq!(stored, vec![false, true, false, true]);
    let bodies: Vec<Vec<u8>> = store.inbox_pending("hooks", 0, 10).unwrap().into_iter().map(|i| i.body).collect();
    assert_eq!(bodies, vec![b"{\"id\":0}".to_vec(), b"{\"id\":2}".to_vec(), b"{}".to_vec()]);
}

fn write(name: &str, key: &str, value: &str) -> StateWrite {
    StateWrite { name: name.into(), key: key.into(), value: value.into() }
}

fn state_values_are_per_flow_name_and_key_and_the_later_write_wins(store: &dyn StateStore) {
    assert_eq!(store.state_get("stock", "last", "LOC1:SKU-1").unwrap(), None);
    let writes =
        [write("last", "LOC1:SKU-1", "10"), write("last", "LOC1:SKU-1", "8"), write("seen", "LOC1:SKU-1", "3")];
    store.commit_ends("stock", &[], &writes, t0()).unwrap();
    assert_eq!(store.state_get("stock", "last", "LOC1:SKU-1").unwrap().as_deref(), Some("8"));
    assert_eq!(store.state_get("stock", "seen", "LOC1:SKU-1").unwrap().as_deref(), Some("3"));
    assert_eq!(store.state_get("other", "last", "LOC1:SKU-1").unwrap(), None);
    assert_eq!(store.state_get("stock", "last", "LOC2:SKU-1").unwrap(), None);
    store.commit_ends("stock", &[], &[write("last", "LOC1:SKU-1", "{\"n\":10}")], t0()).unwrap();
    assert_eq!(store.state_get("stock", "last", "LOC1:SKU-1").unwrap().as_deref(), Some("{\"n\":10}"));
}

fn dedupe_keys_and_state_values_commit_together(store: &dyn StateStore) {
    let keys = [("order-1".to_string(), None)];
    store.commit_ends("orders", &keys, &[write("last_total", "order-1", "\"19.90\"")], t0()).unwrap();
    assert!(store.dedupe_seen("orders", "order-1", t0()).unwrap());
    assert_eq!(store.state_get("orders", "last_total", "order-1").unwrap().as_deref(), Some("\"19.90\""));
}

macro_rules! for_each_store {
    ($($spec:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $spec() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = flowgate::state::SqliteStore::open(dir.path().join("state.db")).unwrap();
                    super::$spec(&store);
                }
            )*
        }
        mod memory {
            $(
                #[test]
                fn $spec() {
                    super::$spec(&flowgate::state::MemoryStore::new());
                }
            )*
        }
    };
}

for_each_store!(
    a_stored_hold_reads_back_exactly,
    a_record_already_held_is_not_held_twice,
    ids_come_back_in_order_and_are_never_reused,
    holds_are_listed_oldest_first_and_filtered,
    summary_counts_by_flow_reason_and_status,
    only_a_held_hold_is_replayed_discarded_or_attempted,
    dedupe_keys_expire,
    cursors_are_per_flow_and_source,
    deliveries_are_per_flow_sink_and_key,
    deliveries_are_recorded_in_groups,
    holds_added_from_many_threads_all_arrive,
    a_hold_ends_when_its_record_is_taken_to_its_end,
    retention_purges_what_ended_long_ago_and_never_what_is_held,
    erasure_removes_everything_about_a_person_and_nothing_else,
    erasure_removes_remembered_values_whose_key_or_value_mentions_the_person,
    erasure_keeps_the_held_record_of_another_person_held_with_them,
    requests_stored_together_are_each_stored_once,
    state_values_are_per_flow_name_and_key_and_the_later_write_wins,
    dedupe_keys_and_state_values_commit_together,
);

// ---- what only the SQLite file shows ----

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn everything_is_still_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let (ids, before) = {
        let store = SqliteStore::open(&path).unwrap();
        let ids =
            store.add_holds(vec![hold("orders", "invalid", "#1", 0), hold("orders", "invalid", "#2", 1)]).unwrap();
        store.mark_discarded(ids[1], "duplicate", t0()).unwrap();
        store.dedupe_commit("orders", &[("k".into(), Some(t0() + Duration::days(1)))], t0()).unwrap();
        store.set_cursor("orders", "shop", "c-42").unwrap();
        store.record_delivery("orders", "erp", "order-1", 201, t0()).unwrap();
        (ids, store.holds(&HoldFilter::default()).unwrap())
    };
    let store = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(store.holds(&HoldFilter::default()).unwrap(), before);
    assert_eq!(store.hold(ids[1]).unwrap().unwrap().status, HoldStatus::Discarded);
    assert!(store.dedupe_seen("orders", "k", t0()).unwrap());
    assert_eq!(store.cursor("orders", "shop").unwrap().as_deref(), Some("c-42"));
    assert!(store.delivered("orders", "erp", "order-1").unwrap());
    let more = store.add_holds(vec![hold("orders", "invalid", "#3", 2)]).unwrap();
    assert!(more[0] > ids[1]);
}

#[test]
fn open_creates_the_directory_and_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("project").join(".flowgate").join("state.db");
    SqliteStore::open(&path).unwrap();
    let conn = raw(&path);
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 5);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    assert_eq!(tables, ["cursors", "dedupe_keys", "deliveries", "holds", "inbox", "state_values"]);
    let inbox: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('inbox')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(inbox, ["id", "flow", "received_at", "headers", "body", "dedupe_key", "status"]);
    let index: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_index_list('holds') WHERE name = 'holds_by_status'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(index, 1);
    // Opening again leaves a current schema alone.
    SqliteStore::open(&path).unwrap();
}

#[test]
fn holds_stored_before_record_identities_get_theirs_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();
    let ids = store.add_holds(vec![hold("orders", "invalid", "#1", 0)]).unwrap();
    drop(store);
    raw(&path).execute("UPDATE holds SET record_id = NULL", []).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let record = store.hold(ids[0]).unwrap().unwrap().record;
    let ended = vec![(flowgate::state::record_identity(record.as_str()), "delivered by a later run".to_string())];
    assert_eq!(store.end_holds("orders", &ended, t0()).unwrap(), 1);
    assert_eq!(store.hold(ids[0]).unwrap().unwrap().status, HoldStatus::Replayed);
}

#[test]
fn open_existing_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".flowgate").join("state.db");
    let e = SqliteStore::open_existing(&path).unwrap_err();
    assert!(matches!(e, StateError::Missing { .. }), "{e:?}");
    assert_eq!(e.to_string(), format!("no state database at {}", path.display()));
    assert!(!path.exists() && !path.parent().unwrap().exists());
}

#[test]
fn a_database_from_a_newer_flowgate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    SqliteStore::open(&path).unwrap();
    raw(&path).pragma_update(None, "user_version", 99).unwrap();
    let e = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(e, StateError::TooNew { found: 99, known: 5, .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, "this is a text file, not SQLite, and it is long enough to have a header").unwrap();
    let e = SqliteStore::open_existing(&path).unwrap_err();
    assert!(matches!(e, StateError::Db { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&format!("state database {}: ", path.display())), "{e}");
}

#[test]
fn bad_data_in_the_database_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();
    let ids = store.add_holds(vec![hold("orders", "invalid", "#1", 0)]).unwrap();
    raw(&path).execute("UPDATE holds SET record = '{not json' WHERE id = ?1", [ids[0]]).unwrap();
    let e = store.hold(ids[0]).unwrap_err();
    assert!(matches!(e, StateError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("hold {}: record is not JSON", ids[0])), "{e}");
}

#[test]
fn two_stores_on_one_file_take_turns() {
    // As a running flow and `flowgate holds discard` would, from two processes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let b = Arc::new(SqliteStore::open(&path).unwrap());
    std::thread::scope(|s| {
        for (n, store) in [a.clone(), b.clone()].into_iter().enumerate() {
            s.spawn(move || {
                for i in 0..50 {
                    store.add_holds(vec![hold(&format!("flow{n}"), "invalid", &i.to_string(), 0)]).unwrap();
                    store.dedupe_commit("orders", &[(format!("{n}-{i}"), None)], t0()).unwrap();
                }
            });
        }
    });
    assert_eq!(a.holds(&HoldFilter::default()).unwrap().len(), 100);
    assert_eq!(b.hold_summary(&HoldFilter::default()).unwrap().iter().map(|c| c.count).sum::<u64>(), 100);
    assert!(a.dedupe_seen("orders", "1-49", t0()).unwrap());
}

#[test]
fn checks_see_every_commit_and_nothing_uncommitted() {
    // The per-record checks read on a connection of their own.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    a.record_delivery("orders", "erp", "order-1", 201, t0()).unwrap();
    assert!(a.delivered("orders", "erp", "order-1").unwrap(), "its own commit");
    assert!(b.delivered("orders", "erp", "order-1").unwrap(), "another store's commit");
    a.dedupe_commit("orders", &[("k".into(), None)], t0()).unwrap();
    assert!(b.dedupe_seen("orders", "k", t0()).unwrap());
    let mut conn = raw(&path);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    tx.execute(
        "INSERT INTO deliveries (flow, sink, key, status, delivered_at) VALUES ('orders', 'erp', 'order-2', 201, ?1)",
        [t0().to_rfc3339()],
    )
    .unwrap();
    assert!(!a.delivered("orders", "erp", "order-2").unwrap(), "a writer's open transaction");
    assert!(a.delivered("orders", "erp", "order-1").unwrap());
    tx.commit().unwrap();
    assert!(a.delivered("orders", "erp", "order-2").unwrap());
}

#[test]
fn expired_dedupe_keys_are_purged_on_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();
    let hour = Duration::hours(1);
    store.dedupe_commit("orders", &[("old".into(), Some(t0() + hour)), ("keep".into(), None)], t0()).unwrap();
    store.dedupe_commit("stock", &[("old".into(), Some(t0() + hour))], t0()).unwrap();
    store.dedupe_commit("orders", &[("new".into(), Some(t0() + hour * 10))], t0() + hour * 2).unwrap();
    let keys: Vec<(String, String)> = raw(&path)
        .prepare("SELECT flow, key FROM dedupe_keys ORDER BY flow, key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want = [("orders", "keep"), ("orders", "new"), ("stock", "old")].map(|(f, k)| (f.to_string(), k.to_string()));
    assert_eq!(keys, want, "only the committing flow's expired keys go");
}

/// The environment variable that turns `child_adds_a_hold_then_aborts` into the child.
const CHILD: &str = "FLOWGATE_STATE_TEST_CHILD_DB";

#[test]
fn a_hold_survives_the_process_dying_right_after_add_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_adds_a_hold_then_aborts", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child aborts");
    let store = SqliteStore::open_existing(&path).unwrap();
    let holds = store.holds(&HoldFilter::held()).unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].blocking_key.as_deref(), Some("#crash"));
}

/// Does nothing unless started by the test above: then it stores a hold and dies
/// without unwinding, closing or checkpointing anything.
#[test]
fn child_adds_a_hold_then_aborts() {
    let Some(path) = std::env::var_os(CHILD) else { return };
    let store = SqliteStore::open(&path).unwrap();
    store.add_holds(vec![hold("orders", "invalid", "#crash", 0)]).unwrap();
    std::process::abort();
}

#[test]
fn the_status_names_round_trip() {
    for s in HoldStatus::ALL {
        assert_eq!(s.as_str().parse::<HoldStatus>().unwrap(), s);
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }
    let e = "stuck".parse::<HoldStatus>().unwrap_err();
    assert_eq!(e.to_string(), "unknown hold status `stuck` (expected held, replayed or discarded)");
}

#[test]
fn the_memory_store_names_itself_in_errors() {
    let e = MemoryStore::new().mark_replayed(1, "x", t0()).unwrap_err();
    assert_eq!(e.to_string(), "no hold 1 in :memory:");
}

/// Two processes on one state: the second is refused, named the first, and once the first
/// is killed (no chance to clean up) the next one starts.
#[test]
fn one_state_has_one_owner_and_a_killed_owner_lets_go() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("tests/fixtures/http/webhook.flow", dir.path().join("webhook.flow")).unwrap();
    for f in ["money.flow", "money.ndjson"] {
        std::fs::copy(Path::new("tests/fixtures/run").join(f), dir.path().join(f)).unwrap();
    }
    let exe = assert_cmd::cargo::cargo_bin("flowgate");
    let mut server = Command::new(&exe)
        .current_dir(dir.path())
        .args(["run", "webhook.flow", "--listen", "127.0.0.1:0", "--state", "s.db"])
        .env("SHOPIFY_WEBHOOK_SECRET", "hush")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let listening = lines.by_ref().map_while(Result::ok).any(|l| l.contains("listening on"));
    assert!(listening, "the webhook run did not start");
    let second = Command::new(&exe).current_dir(dir.path()).args(["run", "money.flow", "--state", "s.db"]).output();
    let second = second.unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains("is in use by `flowgate run webhook.flow`"), "{err}");
    assert!(err.contains(&format!("pid {}", server.id())), "{err}");
    // Killed without a chance to clean up: its lease went with it.
    let third = Command::new(&exe).current_dir(dir.path()).args(["run", "money.flow", "--state", "s.db"]).output();
    let third = third.unwrap();
    assert_eq!(third.status.code(), Some(0), "{}", String::from_utf8_lossy(&third.stderr));
}

#[test]
fn an_empty_file_is_refused_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, b"").unwrap();
    for e in [SqliteStore::open(&path).unwrap_err(), SqliteStore::open_existing(&path).unwrap_err()] {
        assert!(matches!(e, StateError::Foreign { .. }), "{e:?}");
        assert!(e.to_string().contains("the file is empty"), "{e}");
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the empty file was written to");
    // Nor does a run treat it as new state and send every order again.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("flowgate"))
        .args(["run", "tests/fixtures/run/money.flow", "--state"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn another_programs_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE customers (id INTEGER);").unwrap();
    let e = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(e, StateError::Foreign { .. }), "{e:?}");
    let tables: i64 =
        raw(&path).query_row("SELECT count(*) FROM sqlite_master WHERE name = 'holds'", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 0, "flowgate's schema was written into another program's database");
}

/// A state with enough holds to span many pages, and the file's size.
fn a_state_with_holds(path: &Path) -> u64 {
    let store = SqliteStore::open(path).unwrap();
    let many: Vec<NewHold> = (0..1000)
        .map(|i| {
            let mut h = hold("orders", "invalid", &format!("#{i}"), i);
            h.record = JsonText::from(serde_json::json!({"id": i, "note": "x".repeat(400)}));
            h
        })
        .collect();
    store.add_holds(many).unwrap();
    drop(store);
    // Fold the write-ahead log into the file, as a clean shutdown leaves it.
    raw(path).execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn garbage_inside_the_file_is_found_by_the_check_and_refused_by_a_run() {
    use std::io::{Seek, SeekFrom, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let len = a_state_with_holds(&path);
    assert!(len > 64 * 1024, "{len}");
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(len / 2 / 4096 * 4096)).unwrap();
    f.write_all(&[0xA5; 4096]).unwrap();
    drop(f);
    let exe = assert_cmd::cargo::cargo_bin("flowgate");
    let check = std::process::Command::new(&exe).args(["state", "check", "--state"]).arg(&path).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert_eq!(check.status.code(), Some(1), "{report}");
    assert!(report.contains("is damaged"), "{report}");
    let run = std::process::Command::new(&exe)
        .args(["run", "tests/fixtures/run/money.flow", "--state"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("is damaged"), "{err}");
}

#[test]
fn a_sound_state_checks_ok_and_a_backup_is_a_whole_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    a_state_with_holds(&path);
    let store = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    store.quick_check().unwrap();
    let copy = dir.path().join("backup.db");
    store.backup(&copy).unwrap();
    let restored = SqliteStore::open_existing(&copy).unwrap();
    assert_eq!(
        ids(&restored.holds(&HoldFilter::default()).unwrap()),
        ids(&store.holds(&HoldFilter::default()).unwrap())
    );
    assert!(store.backup(&copy).is_err(), "a backup overwrote a file");
    // A hold whose data was edited by hand is named by the check.
    raw(&path).execute("UPDATE holds SET created_at = 'yesterday' WHERE id = 3", []).unwrap();
    let problems = store.check().unwrap();
    assert!(problems.iter().any(|p| p.contains("hold 3: created_at")), "{problems:?}");
    // So is a remembered value that is not JSON.
    let writes = [StateWrite { name: "last".into(), key: "A".into(), value: "10".into() }];
    store.commit_ends("stock", &[], &writes, t0()).unwrap();
    assert!(!store.check().unwrap().iter().any(|p| p.contains("state value")));
    raw(&path).execute("UPDATE state_values SET value = '{oops' WHERE key = 'A'", []).unwrap();
    let problems = store.check().unwrap();
    assert!(problems.iter().any(|p| p == "a state value: stock/last 'A': '{oops'"), "{problems:?}");
}

// ---- remembered values through runs of a flow ----

mod common;

/// A fake shop that takes stock levels, refusing (500) those of the SKUs in `failing`.
#[derive(Default)]
struct Shop {
    failing: std::collections::HashSet<String>,
    received: Vec<(String, i64)>,
}

async fn levels(
    axum::extract::State(shop): axum::extract::State<Arc<std::sync::Mutex<Shop>>>,
    body: String,
) -> axum::http::StatusCode {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let sku = v["sku"].as_str().unwrap_or("?").to_string();
    let mut shop = shop.lock().unwrap();
    if shop.failing.contains(&sku) {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    }
    shop.received.push((sku, v["available"].as_i64().unwrap_or(-1)));
    axum::http::StatusCode::OK
}

const LEVELS_FLOW: &str = r#"
type Level = { sku: String, available: Int }

flow levels {
  source rows: file { path: "in.ndjson" } : Level
  state last_sent: Int by record.sku = record.available
  filter last_sent != record.available
  sink shop: http.post {
    url: env("SHOP_URL") + "/levels"
    retry: { attempts: 2, backoff: fixed(5ms), on: [5xx] }
  }
}
"#;

fn run_levels(dir: &Path, addr: std::net::SocketAddr, input: &str) -> String {
    std::fs::write(dir.join("in.ndjson"), input).unwrap();
    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("run")
        .arg(dir.join("levels.flow"))
        .env("SHOP_URL", format!("http://{addr}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_failed_delivery_does_not_advance_the_state_and_the_next_run_sends_the_level_again() {
    let shop: Arc<std::sync::Mutex<Shop>> = Arc::default();
    let app = axum::Router::new().route("/levels", axum::routing::post(levels)).with_state(shop.clone());
    let addr = common::serve(app);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("levels.flow"), LEVELS_FLOW).unwrap();
    let received = |shop: &Arc<std::sync::Mutex<Shop>>| std::mem::take(&mut shop.lock().unwrap().received);

    // 10 → 8 → 10 within one input: all three are changes and all three are sent.
    let log = run_levels(dir.path(), addr, "{\"sku\":\"A\",\"available\":10}\n{\"sku\":\"A\",\"available\":8}\n{\"sku\":\"A\",\"available\":10}\n{\"sku\":\"B\",\"available\":5}\n");
    assert_eq!(
        received(&shop),
        [("A".to_string(), 10), ("A".to_string(), 8), ("A".to_string(), 10), ("B".to_string(), 5)],
        "{log}"
    );

    // Unchanged levels are filtered; B's new level is refused, so it is held and B stays at 5.
    shop.lock().unwrap().failing.insert("B".into());
    let log = run_levels(dir.path(), addr, "{\"sku\":\"A\",\"available\":10}\n{\"sku\":\"B\",\"available\":7}\n");
    assert_eq!(received(&shop), [], "{log}");
    let store = SqliteStore::open_existing(dir.path().join(".flowgate/state.db")).unwrap();
    assert_eq!(store.state_get("levels", "last_sent", "A").unwrap().as_deref(), Some("10"));
    assert_eq!(store.state_get("levels", "last_sent", "B").unwrap().as_deref(), Some("5"), "a hold commits nothing");
    drop(store);

    // Once the shop takes B again, the same level is sent: the failed run did not advance it.
    shop.lock().unwrap().failing.clear();
    let log = run_levels(dir.path(), addr, "{\"sku\":\"A\",\"available\":10}\n{\"sku\":\"B\",\"available\":7}\n");
    assert_eq!(received(&shop), [("B".to_string(), 7)], "{log}");
    let store = SqliteStore::open_existing(dir.path().join(".flowgate/state.db")).unwrap();
    assert_eq!(store.state_get("levels", "last_sent", "B").unwrap().as_deref(), Some("7"));
}

#[test]
fn a_replayed_hold_compares_with_the_state_as_it_is_then_and_commits_when_delivered() {
    let shop: Arc<std::sync::Mutex<Shop>> = Arc::default();
    let app = axum::Router::new().route("/levels", axum::routing::post(levels)).with_state(shop.clone());
    let addr = common::serve(app);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("levels.flow"), LEVELS_FLOW).unwrap();
    run_levels(dir.path(), addr, "{\"sku\":\"B\",\"available\":5}\n");
    shop.lock().unwrap().failing.insert("B".into());
    run_levels(dir.path(), addr, "{\"sku\":\"B\",\"available\":7}\n");
    shop.lock().unwrap().failing.clear();
    assert_eq!(std::mem::take(&mut shop.lock().unwrap().received), [("B".to_string(), 5)]);

    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .args(["holds", "replay"])
        .arg(dir.path().join("levels.flow"))
        .arg("--all")
        .env("SHOP_URL", format!("http://{addr}"))
        .output()
        .unwrap();
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(std::mem::take(&mut shop.lock().unwrap().received), [("B".to_string(), 7)], "{shown}");
    let store = SqliteStore::open_existing(dir.path().join(".flowgate/state.db")).unwrap();
    assert_eq!(store.state_get("levels", "last_sent", "B").unwrap().as_deref(), Some("7"));
    drop(store);
    // The replay committed 7, so the same level in the next export is not sent again.
    run_levels(dir.path(), addr, "{\"sku\":\"B\",\"available\":7}\n");
    assert_eq!(std::mem::take(&mut shop.lock().unwrap().received), []);
}

#[test]
fn a_seeded_dry_run_compares_with_the_seed_and_lists_what_it_would_commit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("levels.flow"), LEVELS_FLOW).unwrap();
    std::fs::write(dir.path().join("in.ndjson"), "{\"sku\":\"A\",\"available\":10}\n{\"sku\":\"B\",\"available\":5}\n")
        .unwrap();
    std::fs::write(dir.path().join("seed.json"), "{\"last_sent\": {\"A\": 10, \"B\": 4}}").unwrap();
    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("run")
        .arg(dir.path().join("levels.flow"))
        .args(["--dry-run", "--state-seed"])
        .arg(dir.path().join("seed.json"))
        .env("SHOP_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("in.ndjson:1 → filtered at stage 2 filter"), "A is unchanged: {report}");
    assert!(report.contains("── state a real run would commit\n   last_sent \"B\" = 5\n"), "{report}");
    assert!(!dir.path().join(".flowgate").exists(), "a dry run creates no state");

    // A seed naming a state the flow does not have is refused.
    std::fs::write(dir.path().join("seed.json"), "{\"last_level\": {\"A\": 10}}").unwrap();
    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("run")
        .arg(dir.path().join("levels.flow"))
        .args(["--dry-run", "--state-seed"])
        .arg(dir.path().join("seed.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("flow `levels` has no state `last_level`"));
}

#[test]
fn a_test_case_fails_when_the_state_it_would_leave_is_not_the_expected_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("levels.flow"), LEVELS_FLOW).unwrap();
    let case = dir.path().join("levels.tests/changed");
    std::fs::create_dir_all(case.join("input")).unwrap();
    std::fs::write(case.join("input/in.ndjson"), "{\"sku\":\"A\",\"available\":8}\n{\"sku\":\"A\",\"available\":10}\n")
        .unwrap();
    std::fs::write(case.join("state.json"), "{\"last_sent\": {\"A\": 10, \"B\": 4}}").unwrap();
    std::fs::write(case.join("expected_state.json"), "{}").unwrap();
    let test = || {
        assert_cmd::Command::cargo_bin("flowgate")
            .unwrap()
            .arg("test")
            .arg(dir.path().join("levels.flow"))
            .output()
            .unwrap()
    };
    let update = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("test")
        .arg(dir.path().join("levels.flow"))
        .arg("--update")
        .output();
    assert_eq!(update.unwrap().status.code(), Some(0));
    // 8 then 10 again: both sent, and the state ends where it started for A.
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected_state.json")).unwrap()).unwrap();
    assert_eq!(recorded, serde_json::json!({ "last_sent": { "A": 10, "B": 4 } }));
    let report = std::fs::read_to_string(case.join("expected.txt")).unwrap();
    assert!(report.contains("delivered         2"), "{report}");
    assert_eq!(test().status.code(), Some(0));

    std::fs::write(case.join("expected_state.json"), "{\"last_sent\": {\"A\": 8, \"B\": 4}}").unwrap();
    let out = test();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("-    \"A\": 8,") && shown.contains("+    \"A\": 10,"), "{shown}");
}

#[test]
fn a_filter_that_remembers_commits_the_values_of_what_it_drops_and_a_plain_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"
type Level = { sku: String, available: Int, at: Int }

flow levels {
  source rows: file { path: "in.ndjson" } : Level
  state last_at: Int by record.sku = record.at
  filter last_at == null or record.at > last_at
  state last_sent: Int by record.sku = record.available
  filter last_sent != record.available else remember
  sink out: stdout {}
}
"#;
    std::fs::write(dir.path().join("levels.flow"), flow).unwrap();
    // A: newer but unchanged, dropped by the remembering filter: its time is committed.
    // B: older than the last seen, dropped by the plain filter: nothing is committed.
    std::fs::write(
        dir.path().join("in.ndjson"),
        "{\"sku\":\"A\",\"available\":5,\"at\":2}\n{\"sku\":\"B\",\"available\":9,\"at\":0}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("seed.json"),
        "{\"last_at\": {\"A\": 1, \"B\": 1}, \"last_sent\": {\"A\": 5, \"B\": 7}}",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("run")
        .arg(dir.path().join("levels.flow"))
        .args(["--dry-run", "--state-seed"])
        .arg(dir.path().join("seed.json"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("filtered          2"), "{report}");
    assert!(
        report.contains("── state a real run would commit\n   last_at \"A\" = 2\n   last_sent \"A\" = 5\n\n"),
        "only A's values, both of them: {report}"
    );
}

#[test]
fn a_remembered_value_of_another_type_holds_the_record_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"
type Level = { sku: String, available: Int }

flow levels {
  source rows: file { path: "in.ndjson" } : Level
  state last_sent: Int by record.sku = record.available
  filter last_sent != record.available
  sink out: file { path: "out.ndjson" }
}
"#;
    std::fs::write(dir.path().join("levels.flow"), flow).unwrap();
    std::fs::write(dir.path().join("in.ndjson"), "{\"sku\":\"A\",\"available\":5}\n{\"sku\":\"B\",\"available\":6}\n")
        .unwrap();
    let db = dir.path().join(".flowgate/state.db");
    {
        // Written when the flow still remembered text.
        let store = SqliteStore::open(&db).unwrap();
        let old = [StateWrite { name: "last_sent".into(), key: "A".into(), value: "\"five\"".into() }];
        store.commit_ends("levels", &[], &old, t0()).unwrap();
    }
    let out = assert_cmd::Command::cargo_bin("flowgate")
        .unwrap()
        .arg("run")
        .arg(dir.path().join("levels.flow"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(log.contains("held              1   state_unreadable: 1"), "{log}");
    let store = SqliteStore::open_existing(&db).unwrap();
    let held = store.holds(&HoldFilter::held()).unwrap();
    assert!(held[0].message.contains("state `last_sent` under key A does not read as Int"), "{}", held[0].message);
    assert_eq!(store.state_get("levels", "last_sent", "A").unwrap().as_deref(), Some("\"five\""));
    assert_eq!(store.state_get("levels", "last_sent", "B").unwrap().as_deref(), Some("6"));
}
