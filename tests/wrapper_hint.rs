//! Input that wraps records of the declared type (`{"order": ...}`, `{"orders": [...]}`) is
//! held with a message that says so and names the fix, and the fix it names works.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

/// A recorded Shopify order, as the body of a webhook (the order itself).
fn order() -> serde_json::Value {
    let text = fs::read_to_string("flows/payloads/shopify/orders/order-create-with-discount-addresses.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A flow reading Shopify orders from `in/` in `dir`, written to `out.ndjson`, after `stages`.
fn flow(dir: &Path, ty: &str, stages: &str) -> std::path::PathBuf {
    let path = dir.join("orders.flow");
    let text = format!(
        "import shopify\n\nflow orders {{\n  source orders: file {{ path: \"in/*.json\", format: \"json\" }} : {ty}\n\
         {stages}  map {{ id: record.id, name: record.name }}\n  sink out: file {{ path: \"out.ndjson\", format: \"ndjson\" }}\n}}\n"
    );
    fs::write(&path, text).unwrap();
    path
}

fn write_input(dir: &Path, name: &str, body: &serde_json::Value) {
    fs::create_dir_all(dir.join("in")).unwrap();
    fs::write(dir.join("in").join(name), serde_json::to_string_pretty(body).unwrap()).unwrap();
}

fn stdout(args: &[&str], state: &Path) -> String {
    let out = flowgate().args(args).arg("--state").arg(state).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn wrapped_orders_are_held_with_the_wrapper_named() {
    let dir = tempfile::tempdir().unwrap();
    let flow = flow(dir.path(), "shopify.Order", "");
    write_input(dir.path(), "a-one.json", &serde_json::json!({ "order": order() }));
    write_input(dir.path(), "b-page.json", &serde_json::json!({ "orders": [order(), order()] }));
    let state = dir.path().join("state.db");
    let run = flowgate().arg("run").arg(&flow).arg("--state").arg(&state).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));

    let holds: Vec<serde_json::Value> = stdout(&["holds", "list", "--format", "json"], &state)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(holds.len(), 2, "{holds:#?}");
    assert!(holds.iter().all(|h| h["reason"] == "schema_mismatch"), "{holds:#?}");
    let mut messages: Vec<String> = holds.iter().map(|h| h["message"].as_str().unwrap().to_string()).collect();
    messages.sort();
    let message = |i: usize| messages[i].clone();
    assert_eq!(
        message(0),
        "`id`: expected Int, found nothing (the field is missing); this looks like a wrapper: the record has only \
         \"order\", a shopify.Order; declare the source as shopify.OrderWrapper and add the stage \
         `split [record.order]`, or, on an http.poll source, set records: \"$.order\""
    );
    assert_eq!(
        message(1),
        "`id`: expected Int, found nothing (the field is missing); this looks like a wrapper: the record has only \
         \"orders\", a list of shopify.Order; declare the source as shopify.OrderList and add the stage \
         `split record.orders`, or, on an http.poll source, set records: \"$.orders[*]\""
    );
    let show = stdout(&["holds", "show", "1"], &state);
    assert!(show.contains("this looks like a wrapper: the record has only"), "{show}");
}

#[test]
fn the_fixes_the_hint_names_deliver_the_orders() {
    let id = order()["id"].clone();
    for (ty, split, body) in [
        ("shopify.OrderWrapper", "  split [record.order]\n", serde_json::json!({ "order": order() })),
        ("shopify.OrderList", "  split record.orders\n", serde_json::json!({ "orders": [order(), order()] })),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let flow = flow(dir.path(), ty, split);
        write_input(dir.path(), "in.json", &body);
        let state = dir.path().join("state.db");
        let run = flowgate().arg("run").arg(&flow).arg("--state").arg(&state).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{ty}: {}", String::from_utf8_lossy(&run.stderr));
        let out = fs::read_to_string(dir.path().join("out.ndjson")).unwrap();
        let records: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(!records.is_empty() && records.iter().all(|r| r["id"] == id), "{ty}: {out}");
        assert_eq!(stdout(&["holds", "list", "--format", "json"], &state), "", "{ty}");
    }
}

#[test]
fn a_record_with_a_field_missing_gets_no_wrapper_hint() {
    let dir = tempfile::tempdir().unwrap();
    let flow = flow(dir.path(), "shopify.Order", "");
    let mut bare = order();
    bare.as_object_mut().unwrap().remove("id");
    write_input(dir.path(), "bare.json", &bare);
    let state = dir.path().join("state.db");
    let run = flowgate().arg("run").arg(&flow).arg("--state").arg(&state).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let list = stdout(&["holds", "list", "--format", "json"], &state);
    let hold: serde_json::Value = serde_json::from_str(list.lines().next().expect("one hold")).unwrap();
    assert_eq!(hold["message"], "`id`: expected Int, found nothing (the field is missing)");
}
