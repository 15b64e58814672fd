//! `flowgate holds` against a real state database: the database is filled through the
//! library, then the binary reads and changes it as an operator would.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Duration, Utc};
use flowgate::state::{Hold, HoldCount, HoldFilter, HoldStatus, NewHold, SqliteStore, StateStore};
use predicates::prelude::*;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").expect("test time").to_utc()
}

fn hold(flow: &str, reason: &str, key: &str, stage: &str, line: u32, mins: i64, message: &str) -> NewHold {
    NewHold {
        flow: flow.into(),
        flow_version: "3f2a9c".into(),
        stage: stage.into(),
        stage_line: line,
        reason: reason.into(),
        message: message.into(),
        blocking_key: Some(key.into()),
        attempts: 1,
        source_ref: Some(format!("payloads/{flow}.json#{mins}")),
        created_at: t0() + Duration::minutes(mins),
        record: serde_json::from_str(&format!(r#"{{"name": "{key}", "total_price": 12.3400}}"#)).expect("record"),
        stage_input: serde_json::from_str(&format!(r#"{{"order": "{key}"}}"#)).expect("input"),
        batch: None,
    }
}

/// A database with four holds: 1, 2 and 4 held, 3 discarded.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap();
    let long = "the ERP answered 503 Service Unavailable five times in a row; giving up until someone replays it";
    store
        .add_holds(vec![
            hold("orders", "invalid", "#1001", "validate", 12, 0, "total_price must be positive"),
            hold("orders", "retries_exhausted", "#1002", "sink erp", 0, 5, long),
            hold("orders", "invalid", "#1003", "validate", 12, 10, "no line items"),
            hold("stock", "invalid", "SKU-9", "validate", 4, 20, "quantity is negative"),
        ])
        .unwrap();
    store.mark_discarded(3, "duplicate of #1001", t0() + Duration::hours(1)).unwrap();
    (dir, path)
}

fn holds(state: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("flowgate").unwrap().arg("holds").args(args).arg("--state").arg(state).assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn store(path: &Path) -> SqliteStore {
    SqliteStore::open_existing(path).unwrap()
}

#[test]
fn list_shows_held_records_oldest_first() {
    let (_dir, db) = fixture();
    let a = holds(&db, &["list"]).success();
    let out = stdout(&a);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("ID  FLOW    REASON             KEY    STAGE        ATTEMPTS  AGE  MESSAGE"), "{out}");
    assert!(lines[1].starts_with("1   orders  invalid            #1001  validate:12  1 "), "{out}");
    assert!(lines[1].ends_with("total_price must be positive"), "{out}");
    assert!(lines[2].starts_with("2   orders  retries_exhausted  #1002  sink erp     1 "), "{out}");
    assert!(lines[2].ends_with("the ERP answered 503 Service Unavailable five times in a ro…"), "{out}");
    assert!(lines[3].starts_with("4   stock   invalid            SKU-9  validate:4   1 "), "{out}");
    assert_eq!(lines[4], "3 holds (flowgate holds show ID for the record)");
    assert!(!out.contains("#1003"), "discarded holds are not listed by default");
}

#[test]
fn list_filters_by_flow_reason_and_status() {
    let (_dir, db) = fixture();
    let out = stdout(&holds(&db, &["list", "--flow", "stock"]).success());
    assert!(out.contains("SKU-9") && !out.contains("#1001"), "{out}");
    let out = stdout(&holds(&db, &["list", "--reason", "invalid", "--flow", "orders"]).success());
    assert!(out.contains("#1001") && !out.contains("#1002") && !out.contains("SKU-9"), "{out}");
    let out = stdout(&holds(&db, &["list", "--status", "discarded"]).success());
    assert!(out.starts_with("ID  STATUS     FLOW"), "{out}");
    assert!(out.contains("3   discarded  orders  invalid  #1003"), "{out}");
    assert!(out.ends_with("1 hold (flowgate holds show ID for the record)\n"), "{out}");
    let out = stdout(&holds(&db, &["list", "--status", "all"]).success());
    assert_eq!(out.lines().count(), 6, "{out}");
    let out = stdout(&holds(&db, &["list", "--flow", "nope", "--reason", "invalid"]).success());
    assert_eq!(out, "no records held for flow nope with reason invalid\n");
}

#[test]
fn list_as_json_is_one_object_per_line_without_payloads() {
    let (_dir, db) = fixture();
    let lines = json_lines(&stdout(&holds(&db, &["list", "--format", "json"]).success()));
    let ids: Vec<i64> = lines.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 4]);
    let first = lines[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "status",
            "flow",
            "flow_version",
            "stage",
            "stage_line",
            "reason",
            "message",
            "blocking_key",
            "attempts",
            "source_ref",
            "created_at",
            "updated_at",
            "outcome"
        ]
    );
    assert_eq!(first["status"], "held");
    assert_eq!(first["blocking_key"], "#1001");
    assert_eq!(first["created_at"], "2026-11-24T10:00:00Z");
    // The message is whole in JSON.
    assert!(lines[1]["message"].as_str().unwrap().ends_with("until someone replays it"));
    let none = stdout(&holds(&db, &["list", "--format", "json", "--flow", "nope"]).success());
    assert_eq!(none, "");
}

#[test]
fn summary_counts_what_is_stuck_and_since_when() {
    let (_dir, db) = fixture();
    let out = stdout(&holds(&db, &["summary"]).success());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("FLOW    REASON             COUNT  OLDEST"), "{out}");
    assert!(lines[1].starts_with("orders  invalid            1      2026-11-24 10:00:00Z ("), "{out}");
    assert!(lines[2].starts_with("orders  retries_exhausted  1      2026-11-24 10:05:00Z ("), "{out}");
    assert!(lines[3].starts_with("stock   invalid            1      2026-11-24 10:20:00Z ("), "{out}");
    assert_eq!(lines[4], "total: 3 holds in 2 flows (flowgate holds list --reason REASON for the records)");

    let out = stdout(&holds(&db, &["summary", "--status", "all", "--flow", "orders"]).success());
    assert!(out.contains("orders  invalid            discarded  1"), "{out}");
    assert!(out.contains("total: 3 holds in 1 flow "), "{out}");

    let lines = json_lines(&stdout(&holds(&db, &["summary", "--format", "json"]).success()));
    let counts: Vec<HoldCount> = lines.into_iter().map(|l| serde_json::from_value(l).unwrap()).collect();
    assert_eq!(counts, store(&db).hold_summary(&HoldFilter::held()).unwrap());

    let out = stdout(&holds(&db, &["summary", "--flow", "nope"]).success());
    assert_eq!(out, "no records held for flow nope\n");
}

#[test]
fn show_prints_everything_about_one_hold() {
    let (_dir, db) = fixture();
    let out = stdout(&holds(&db, &["show", "1"]).success());
    for want in [
        "hold 1 (held)\n",
        "  flow       orders (version 3f2a9c)\n",
        "  stage      validate, line 12\n",
        "  reason     invalid\n",
        "  message    total_price must be positive\n",
        "  key        #1001\n",
        "  source     payloads/orders.json#0\n",
        "  attempts   1\n",
        "  created    2026-11-24 10:00:00Z (",
        "record, as it entered the flow:\n{\n  \"name\": \"#1001\",\n  \"total_price\": 12.3400\n}\n",
        "input of stage validate:\n{\n  \"order\": \"#1001\"\n}\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let out = stdout(&holds(&db, &["show", "3"]).success());
    assert!(out.starts_with("hold 3 (discarded)\n"), "{out}");
    assert!(out.contains("  why        duplicate of #1001\n"), "{out}");

    let out = stdout(&holds(&db, &["show", "2", "--format", "json"]).success());
    let shown: Hold = serde_json::from_str(&out).unwrap();
    assert_eq!(Some(shown), store(&db).hold(2).unwrap());
}

#[test]
fn show_of_an_unknown_hold_exits_1() {
    let (_dir, db) = fixture();
    holds(&db, &["show", "99"]).code(1).stdout("").stderr(format!("error: no hold 99 in {}\n", db.display()));
}

#[test]
fn discard_marks_the_hold_and_keeps_it() {
    let (_dir, db) = fixture();
    holds(&db, &["discard", "2", "--why", "  order cancelled by the customer "])
        .success()
        .stdout("discarded hold 2: order cancelled by the customer\n");
    let h = store(&db).hold(2).unwrap().unwrap();
    assert_eq!(h.status, HoldStatus::Discarded);
    assert_eq!(h.outcome.as_deref(), Some("order cancelled by the customer"));
    assert!(h.updated_at > h.created_at);
    let out = stdout(&holds(&db, &["list"]).success());
    assert!(!out.contains("#1002"), "{out}");
}

#[test]
fn discard_refuses_what_it_cannot_do() {
    let (_dir, db) = fixture();
    holds(&db, &["discard", "3", "--why", "again"])
        .code(1)
        .stderr(format!("error: hold 3 in {} is discarded, not held\n", db.display()));
    holds(&db, &["discard", "99", "--why", "gone"]).code(1).stderr(predicate::str::contains("no hold 99 in"));
    holds(&db, &["discard", "1"]).code(2).stderr(predicate::str::contains("--why"));
    holds(&db, &["discard", "1", "--why", "   "]).code(2).stderr("error: --why must say why the record is given up\n");
    holds(&db, &["discard", "one", "--why", "x"]).code(2);
    assert_eq!(store(&db).hold(1).unwrap().unwrap().status, HoldStatus::Held, "nothing changed");
}

#[test]
fn export_writes_full_holds_as_ndjson() {
    let (_dir, db) = fixture();
    let out = stdout(&holds(&db, &["export"]).success());
    let exported: Vec<Hold> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported, store(&db).holds(&HoldFilter::held()).unwrap());
    assert!(out.lines().next().unwrap().contains(r##""record":{"name":"#1001","total_price":12.3400}"##), "{out}");

    let out = stdout(&holds(&db, &["export", "--status", "all", "--flow", "orders"]).success());
    let ids: Vec<i64> = json_lines(&out).iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    holds(&db, &["export", "--flow", "nope"]).success().stdout("");
}

#[test]
fn a_missing_database_is_reported_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nowhere").join("state.db");
    for args in [&["list"][..], &["summary"], &["show", "1"], &["discard", "1", "--why", "x"], &["export"]] {
        holds(&db, args).code(2).stdout("").stderr(predicate::str::starts_with(format!(
            "error: no state database at {} (nothing has been held there; pass --state PATH to read another)",
            db.display()
        )));
    }
    assert!(!db.parent().unwrap().exists());
}

#[test]
fn the_default_database_is_in_the_current_directory() {
    let (dir, db) = fixture();
    let empty = tempfile::tempdir().unwrap();
    Command::cargo_bin("flowgate")
        .unwrap()
        .current_dir(empty.path())
        .args(["holds", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no state database at .flowgate/state.db"));
    assert!(!empty.path().join(".flowgate").exists());

    std::fs::create_dir(dir.path().join(".flowgate")).unwrap();
    std::fs::rename(&db, dir.path().join(".flowgate").join("state.db")).unwrap();
    let a = Command::cargo_bin("flowgate").unwrap().current_dir(dir.path()).args(["holds", "list"]).assert().success();
    assert!(stdout(&a).contains("#1001"));
}

#[test]
fn state_may_come_before_the_subcommand() {
    let (_dir, db) = fixture();
    let a =
        Command::cargo_bin("flowgate").unwrap().args(["holds", "--state"]).arg(&db).arg("summary").assert().success();
    assert!(stdout(&a).contains("total: 3 holds in 2 flows"));
}

#[test]
fn a_file_that_is_not_a_database_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    std::fs::write(&db, "not a database, only some text that is long enough for a header").unwrap();
    holds(&db, &["list"])
        .code(2)
        .stderr(predicate::str::starts_with(format!("error: state database {}: ", db.display())));
}

#[test]
fn bad_arguments_exit_2() {
    let (_dir, db) = fixture();
    holds(&db, &["list", "--status", "stuck"]).code(2);
    holds(&db, &["list", "--format", "yaml"]).code(2);
    holds(&db, &["show"]).code(2);
    holds(&db, &["replay-everything"]).code(2);
}

#[test]
fn replay_help_names_the_state_it_reads_by_default() {
    let out = Command::cargo_bin("flowgate").unwrap().args(["holds", "replay", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("for `replay`, .flowgate/state.db beside the flow"), "{help}");
}

#[test]
fn purge_erase_and_export_by_key_for_data_protection() {
    let (_dir, db) = fixture();
    // Hold 3 was discarded at t0 + 1h: long ago by now; the held ones keep their payload.
    let a = holds(&db, &["purge", "--older-than", "7d"]).success();
    assert!(stdout(&a).contains("1 hold payloads"), "{}", stdout(&a));
    let s = store(&db);
    assert_eq!(s.hold(3).unwrap().unwrap().record.as_str(), "null");
    assert_ne!(s.hold(1).unwrap().unwrap().record.as_str(), "null");
    holds(&db, &["purge", "--older-than", "30 days"]).code(2).stderr(predicate::str::contains("is not an age"));
    // Everything about one order, then its erasure.
    let a = holds(&db, &["export", "--status", "all", "--key", "#1002"]).success();
    let found = json_lines(&stdout(&a));
    assert_eq!(found.iter().map(|h| h["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![2]);
    let a = holds(&db, &["erase", "--key", "#1002"]).success();
    assert!(stdout(&a).contains("erased #1002: 1 holds"), "{}", stdout(&a));
    let erased = store(&db).hold(2).unwrap().unwrap();
    assert_eq!((erased.status, erased.record.as_str(), erased.blocking_key), (HoldStatus::Discarded, "null", None));
    let a = holds(&db, &["export", "--status", "all", "--key", "#1002"]).success();
    assert_eq!(stdout(&a), "", "something about the erased order is left");
}

#[test]
fn a_run_with_retention_purges_what_is_past_it() {
    let (dir, db) = fixture();
    std::fs::copy("tests/fixtures/run/money.flow", dir.path().join("money.flow")).unwrap();
    std::fs::copy("tests/fixtures/run/money.ndjson", dir.path().join("money.ndjson")).unwrap();
    Command::cargo_bin("flowgate")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "money.flow", "--retention", "7d", "--state"])
        .arg(&db)
        .assert()
        .success();
    assert_eq!(store(&db).hold(3).unwrap().unwrap().record.as_str(), "null");
    assert_ne!(store(&db).hold(1).unwrap().unwrap().record.as_str(), "null");
}
