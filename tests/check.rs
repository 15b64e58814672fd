//! Checker tests.
//!
//! - `fixtures/check/ok/*.flow` must check with no diagnostic at all, not even a warning.
//! - `fixtures/check/err/*.flow` must report at least one diagnostic; each snapshot is the
//!   source followed by the rendered diagnostics. A fixture whose name starts with
//!   `cascade_` must report exactly one: one mistake, one diagnostic.
//! - Every code of `Code::ALL` (except the syntax codes, covered by `tests/syntax.rs`) must
//!   be produced by at least one err fixture, and documented in `docs/diagnostics.md`,
//!   whose first example in each section reports the code and whose last (the fix)
//!   checks clean.
//! - `fixtures/check/known_issues/*.flow` are flows the checker gets wrong today. Each
//!   has an `// expect:` line (`nothing`, or the codes it should report); the ignored
//!   test `known_issues_are_fixed` checks them, so a fix shows up there.
//!
//! Fixtures are checked from disk with paths relative to the crate root, so lookup files
//! and imports beside them resolve, and file names in the snapshots are stable.
//! `fixtures/check/modules/` and `fixtures/check/lookups/` hold the files they import
//! and read; they are not fixtures themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flowgate::diagnostic::{render_plain, Code};
use flowgate::CheckOutcome;

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The fixture path relative to the crate root (the working directory of `cargo test`).
fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

fn check(path: &Path) -> CheckOutcome {
    flowgate::check_files(&[relative(path)]).unwrap_or_else(|e| panic!("cannot check {}: {e}", path.display()))
}

/// Rendered diagnostics with the crate's absolute directory removed from every message,
/// label and help (before rendering, so line wrapping does not depend on where the
/// repository is checked out).
fn render(outcome: &CheckOutcome) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut prefixes = vec![format!("{}/", root.display())];
    if let Ok(canonical) = root.canonicalize() {
        prefixes.push(format!("{}/", canonical.display()));
    }
    let strip = |s: &mut String| {
        for p in &prefixes {
            *s = s.replace(p.as_str(), "");
        }
    };
    let mut diags = outcome.diagnostics.clone();
    for d in &mut diags.0 {
        strip(&mut d.message);
        strip(&mut d.primary.message);
        for label in &mut d.secondary {
            strip(&mut label.message);
        }
        if let Some(help) = &mut d.help {
            strip(help);
        }
    }
    render_plain(&diags)
}

fn read_fixture(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("//"), "{} should start with a comment saying what it shows", file_name(path));
    text
}

fn err_fixture_paths() -> Vec<PathBuf> {
    fixture_paths("err")
}

fn fixture_paths(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check").join(dir);
    // `known_issues/` exists only while there are known issues.
    if dir.ends_with("known_issues") && !dir.exists() {
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn ok_fixtures() {
    insta::glob!("fixtures/check/ok/*.flow", |path| {
        read_fixture(path);
        let outcome = check(path);
        assert!(
            outcome.diagnostics.is_empty(),
            "{} should check without any diagnostic, but:\n{}",
            file_name(path),
            render(&outcome)
        );
    });
}

#[test]
fn err_fixtures() {
    insta::glob!("fixtures/check/err/*.flow", |path| {
        let text = read_fixture(path);
        let name = file_name(path);
        let outcome = check(path);
        let count = outcome.diagnostics.iter().count();
        assert!(count > 0, "{name} should report at least one diagnostic");
        if name.starts_with("cascade_") {
            assert_eq!(count, 1, "{name}: one mistake should give one diagnostic, but:\n{}", render(&outcome));
        }
        insta::assert_snapshot!(format!("----- SOURCE\n{text}\n----- DIAGNOSTICS\n{}", render(&outcome)));
    });
}

#[test]
fn snapshots_name_files_relative_to_the_crate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/err/import_cycle.flow");
    let text = render_plain(&check(&path).diagnostics);
    assert!(text.contains("tests/fixtures/check/modules/cycle_b.flow"), "{text}");
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");
}

#[test]
fn every_code_is_produced_by_an_err_fixture() {
    let mut produced: BTreeSet<&'static str> = BTreeSet::new();
    // Syntax codes come from the parser's own error fixtures.
    let syntax_err = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax/err");
    let mut syntax_paths: Vec<PathBuf> = std::fs::read_dir(&syntax_err)
        .map(|rd| {
            rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "flow")).collect()
        })
        .unwrap_or_default();
    syntax_paths.sort();
    for path in err_fixture_paths().into_iter().chain(syntax_paths) {
        for d in check(&path).diagnostics.iter() {
            produced.insert(d.code.as_str());
        }
    }
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !produced.contains(c.as_str()))
        .map(|c| format!("{} ({})", c.as_str(), c.title()))
        .collect();
    assert!(missing.is_empty(), "no err fixture produces: {}", missing.join(", "));
}

#[test]
fn every_code_is_documented() {
    let docs_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    let docs =
        std::fs::read_to_string(&docs_path).unwrap_or_else(|e| panic!("cannot read {}: {e}", docs_path.display()));
    let headings: Vec<&str> = docs.lines().filter(|l| l.starts_with("## ")).collect();
    let missing: Vec<String> = Code::ALL
        .iter()
        .map(|c| format!("## {}: {}", c.as_str(), c.title()))
        .filter(|h| !headings.contains(&h.as_str()))
        .collect();
    assert!(missing.is_empty(), "docs/diagnostics.md lacks these headings:\n{}", missing.join("\n"));
}

/// The codes after `// expect:` in a known issue, or an empty list for `nothing`.
fn expected_codes(text: &str) -> Option<Vec<String>> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("// expect:"))
        .map(|rest| rest.split_whitespace().filter(|w| *w != "nothing").map(str::to_string).collect())
}

#[test]
fn known_issues_say_what_they_expect() {
    for path in fixture_paths("known_issues") {
        let text = read_fixture(&path);
        assert!(expected_codes(&text).is_some(), "{} needs an `// expect:` line", file_name(&path));
    }
}

/// Run with `cargo test --test check -- --ignored` to see which known issues are fixed;
/// move a fixed one into `ok/` or `err/`.
#[test]
#[ignore = "known checker issues; passes once they are all fixed"]
fn known_issues_are_fixed() {
    let mut still_wrong = Vec::new();
    for path in fixture_paths("known_issues") {
        let text = read_fixture(&path);
        let expected = expected_codes(&text).unwrap_or_default();
        let outcome = check(&path);
        let found: BTreeSet<&str> = outcome.diagnostics.iter().map(|d| d.code.as_str()).collect();
        let fixed =
            if expected.is_empty() { found.is_empty() } else { expected.iter().all(|c| found.contains(c.as_str())) };
        if !fixed {
            still_wrong.push(format!(
                "{} (expected {}):\n{}",
                file_name(&path),
                if expected.is_empty() { "nothing".to_string() } else { expected.join(" ") },
                render(&outcome)
            ));
        }
    }
    assert!(still_wrong.is_empty(), "{}", still_wrong.join("\n"));
}

/// The ```flow blocks of each `## CODE: title` section of docs/diagnostics.md.
fn doc_sections(docs: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let mut block: Option<String> = None;
    for line in docs.lines() {
        if let Some(b) = &mut block {
            if line.trim_start().starts_with("```") {
                if let Some((_, blocks)) = sections.last_mut() {
                    blocks.push(std::mem::take(b));
                }
                block = None;
            } else {
                b.push_str(line);
                b.push('\n');
            }
        } else if let Some(heading) = line.strip_prefix("## ") {
            let code = heading.split(':').next().unwrap_or_default().to_string();
            sections.push((code, Vec::new()));
        } else if line.trim_start() == "```flow" {
            block = Some(String::new());
        }
    }
    sections
}

/// In each section of docs/diagnostics.md, the first example reports the section's code
/// and the last one (the fix) checks clean. Examples are checked as files of a directory
/// that has `lookups/carriers.csv`; multi-file examples (first line `// name.flow`) are
/// only shown, not checked.
#[test]
fn docs_examples_fail_and_pass() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lookups")).unwrap();
    std::fs::write(dir.path().join("lookups/carriers.csv"), "carrier,code\nDHL Express,DHL01\n").unwrap();
    let mut problems = Vec::new();
    for (code, blocks) in doc_sections(&docs) {
        if !code.starts_with('E') && !code.starts_with('W') {
            continue;
        }
        if blocks.len() < 2 {
            problems.push(format!("{code}: needs a failing and a fixed example"));
            continue;
        }
        if blocks.iter().any(|b| b.starts_with("// ") && b.lines().next().is_some_and(|l| l.ends_with(".flow"))) {
            continue;
        }
        let path = dir.path().join("example.flow");
        std::fs::write(&path, &blocks[0]).unwrap();
        let failing = flowgate::check_files(std::slice::from_ref(&path)).unwrap();
        if !failing.diagnostics.iter().any(|d| d.code.as_str() == code) {
            problems
                .push(format!("{code}: the first example does not report it:\n{}", render_plain(&failing.diagnostics)));
        }
        std::fs::write(&path, blocks.last().unwrap()).unwrap();
        let fixed = flowgate::check_files(std::slice::from_ref(&path)).unwrap();
        if !fixed.diagnostics.is_empty() {
            problems.push(format!("{code}: the fixed example is not clean:\n{}", render_plain(&fixed.diagnostics)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
