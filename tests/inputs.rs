//! Input as it arrives, end to end: odd characters, byte order marks, empty files, exact
//! numbers in untyped fields, amounts written to their declared scale, flow versions.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn flowgate() -> Command {
    Command::cargo_bin("flowgate").expect("the flowgate binary is built")
}

/// A fixture directory under tests/fixtures/run, copied into a fresh temp dir.
fn sandbox(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(&Path::new("tests/fixtures/run").join(fixture), dir.path());
    dir
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn lines(path: PathBuf) -> Vec<String> {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).lines().map(String::from).collect()
}

/// Runs `flow` in `dir` with its own state; returns the exit code and the run summary.
fn run(dir: &Path, flow: &str) -> (Option<i32>, String) {
    let out = flowgate().arg("run").arg(dir.join(flow)).arg("--state").arg(dir.join("state.db")).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The holds in `dir`'s state, as exported.
fn holds(dir: &Path) -> Vec<serde_json::Value> {
    let out = flowgate().args(["holds", "export", "--state"]).arg(dir.join("state.db")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn multi_byte_characters_in_checked_fields_hold_only_their_record() {
    let dir = sandbox("multibyte");
    let (code, summary) = run(dir.path(), "multibyte.flow");
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(
        lines(dir.path().join("out/orders.ndjson")),
        [r#"{"id":1,"name":"Zoë"}"#, r#"{"id":7,"name":"日本"}"#],
        "{summary}"
    );
    let holds = holds(dir.path());
    let held: Vec<(&str, &str)> =
        holds.iter().map(|h| (h["reason"].as_str().unwrap(), h["message"].as_str().unwrap())).collect();
    assert_eq!(held.len(), 5, "{held:#?}");
    assert!(held.iter().all(|(reason, _)| *reason == "schema_mismatch"), "{held:#?}");
    assert!(held[0].1.starts_with("`placed_at`: expected DateTime"), "{held:#?}");
    assert!(held[2].1.starts_with("`ship_by`: expected Date?"), "{held:#?}");
    assert!(held[4].1.starts_with("`total`: expected Decimal(2)"), "{held:#?}");
}

#[test]
fn untyped_numbers_leave_with_the_digits_they_came_with() {
    let dir = sandbox("json_numbers");
    let (code, summary) = run(dir.path(), "json_numbers.flow");
    assert_eq!(code, Some(0), "{summary}");
    let one = r#"{"big":123456789012345678901234567890,"huge":1e+400,"tiny":-1e-400,"price":19.90,"neg0":-0,"list":[1.0,2.50e+3,18446744073709551616]}"#;
    let two = "0.1000000000000000000000000000001";
    let three = "[-123456789012345678901234567890.125]";
    assert_eq!(
        lines(dir.path().join("out/events.ndjson")),
        [
            format!(r#"{{"id":1,"payload":{one}}}"#),
            format!(r#"{{"id":2,"payload":{two}}}"#),
            format!(r#"{{"id":3,"payload":{three}}}"#)
        ]
    );
    let array = fs::read_to_string(dir.path().join("out/events.json")).unwrap();
    let compact: String = array.split_whitespace().collect::<Vec<_>>().join("");
    assert!(compact.contains(&one.replace(' ', "")), "{array}");
    assert!(compact.contains(&format!(r#""payload":{two}"#)) && compact.contains(three), "{array}");
    let csv = fs::read_to_string(dir.path().join("out/events.csv")).unwrap();
    assert!(csv.contains(&format!("2,{two}\n")) && csv.contains(&format!("3,{three}\n")), "{csv}");
    assert!(csv.contains("123456789012345678901234567890,") && csv.contains("1e+400"), "{csv}");
    // The dry run shows what the sinks would get, digits and all.
    let out = flowgate().arg("run").arg(dir.path().join("json_numbers.flow")).arg("--dry-run").output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("123456789012345678901234567890") && report.contains("1e+400"), "{report}");
    assert!(report.contains(two) && report.contains("-123456789012345678901234567890.125"), "{report}");
}

#[test]
fn scaled_decimals_are_written_with_exactly_their_places() {
    let dir = sandbox("scaled");
    let (code, summary) = run(dir.path(), "scaled.flow");
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(
        lines(dir.path().join("out/scaled.ndjson")),
        [
            r#"{"id":1,"price":19.99,"rate":19.990,"total":39.98,"each":[19.99,2.00,0.00],"line":{"price":19.99},"cost":1.5000}"#,
            r#"{"id":2,"price":19.90,"rate":19.900,"total":19.90,"each":[19.90,1.00,0.00],"line":{"price":19.90},"cost":0.1234}"#,
            r#"{"id":3,"price":5.00,"rate":5.000,"total":15.00,"each":[5.00,3.00,0.00],"line":{"price":5.00},"cost":null}"#,
            r#"{"id":4,"price":-0.50,"rate":-0.500,"total":-0.50,"each":[-0.50,1.00,0.00],"line":{"price":-0.50},"cost":7.0000}"#,
            r#"{"id":5,"price":12345678901234567.89,"rate":12345678901234567.890,"total":12345678901234567.89,"each":[12345678901234567.89,1.00,0.00],"line":{"price":12345678901234567.89},"cost":null}"#,
        ],
        "{summary}"
    );
    let csv = fs::read_to_string(dir.path().join("out/scaled.csv")).unwrap();
    assert!(csv.contains("\n1,19.99,19.990,39.98,"), "{csv}");
    assert!(csv.contains("\n3,5.00,5.000,15.00,"), "{csv}");

    let (code, summary) = run(dir.path(), "through.flow");
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(
        lines(dir.path().join("out/through.ndjson")),
        [
            r#"{"id":1,"price":19.99,"qty":2,"cost":1.5000}"#,
            r#"{"id":2,"price":19.90,"qty":1,"cost":0.1234}"#,
            r#"{"id":3,"price":5.00,"qty":3,"cost":null}"#,
            r#"{"id":4,"price":-0.50,"qty":1,"cost":7.0000}"#,
            r#"{"id":5,"price":12345678901234567.89,"qty":1,"cost":null}"#,
        ]
    );
}

#[test]
fn every_format_reads_past_a_byte_order_mark_and_holds_an_empty_file() {
    let dir = sandbox("openings");
    let (code, summary) = run(dir.path(), "openings.flow");
    assert_eq!(code, Some(0), "{summary}");
    let delivered: Vec<i64> = lines(dir.path().join("out/rows.ndjson"))
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(delivered, [1, 2, 3, 4, 5, 6], "{summary}");
    let holds = holds(dir.path());
    let held: Vec<(&str, &str, &str)> = holds
        .iter()
        .map(|h| {
            let file = h["source_ref"].as_str().unwrap().rsplit('/').next().unwrap();
            (file, h["reason"].as_str().unwrap(), h["message"].as_str().unwrap())
        })
        .collect();
    let empty = |file| (file, "malformed_input", "the file is empty");
    assert_eq!(
        held,
        [
            empty("e_empty.ndjson"),
            empty("f_empty.json"),
            empty("g_empty.csv"),
            empty("h_blank.ndjson"),
            empty("i_bom_only.json"),
            empty("j_bom_only.csv"),
        ],
        "{summary}"
    );
}

#[test]
fn stdin_that_ends_before_sending_anything_is_no_record() {
    let dir = sandbox("openings");
    let out = flowgate()
        .arg("run")
        .arg(dir.path().join("openings.flow"))
        .args(["--input", "-", "--state"])
        .arg(dir.path().join("state.db"))
        .write_stdin("")
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert!(holds(dir.path()).is_empty(), "{summary}");
    let out = flowgate()
        .arg("run")
        .arg(dir.path().join("openings.flow"))
        .args(["--input", "-", "--state"])
        .arg(dir.path().join("state.db"))
        .write_stdin("\u{feff}{\"id\": 7, \"name\": \"g\"}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines(dir.path().join("out/rows.ndjson")), [r#"{"id":7,"name":"g"}"#]);
}

/// The version of the one flow in `flow`, as its holds and reports name it.
fn version(flow: &Path) -> String {
    let outcome = flowgate::check_files(&[flow.to_path_buf()]).unwrap();
    let program = outcome.ir().unwrap_or_else(|| panic!("{:#?}", outcome.diagnostics));
    program.flows[0].version.clone()
}

#[test]
fn a_flow_version_is_its_file_its_imports_and_its_lookup_files() {
    let dir = sandbox("versions");
    let flow = dir.path().join("orders.flow");
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}");
        fs::write(&path, text.replace(from, to)).unwrap();
    };
    let mut seen = vec![version(&flow)];
    let mut changed = |what: &str| {
        let v = version(&flow);
        assert!(!seen.contains(&v), "{what} did not change the version {v}");
        seen.push(v);
    };
    edit("orders.flow", "\"STD\"", "\"STANDARD\"");
    changed("the flow file");
    edit("helpers.flow", "upper()", "lower()");
    changed("an imported module");
    edit("common/types.flow", "country: String }", "country: String, note: String? }");
    changed("a module imported by an imported module");
    edit("lookups/carriers.csv", "Express,EXP", "Express,EXPRESS");
    changed("a lookup file the flow reads through a function");
    edit("lookups/vat.csv", "GB,0.20", "GB,0.21");
    changed("a lookup file a stage reads");

    // Files the flow does not use leave it as it is.
    let now = version(&flow);
    edit("unused.flow", "\"A\"", "\"B\"");
    edit("lookups/unused.csv", "x,1", "x,2");
    fs::write(dir.path().join("lookups/new.csv"), "a,b\n").unwrap();
    fs::write(dir.path().join("other.flow"), "// another flow\n").unwrap();
    assert_eq!(version(&flow), now);
    // And the version does not depend on the directory a command runs from.
    let moved = tempfile::tempdir().unwrap();
    copy(dir.path(), moved.path());
    assert_eq!(version(&moved.path().join("orders.flow")), now);
}
