//! `flowgate test`: recorded cases beside each flow, compared with what the flow does now.
//!
//! A flow `orders.flow` has its cases in `orders.tests/<case>/`: the recorded payloads in
//! `input/` (read in name order, the format by extension), the expected dry-run report in
//! `expected.txt`, and optionally the clock in `now` (RFC 3339; default
//! 2026-01-01T00:00:00Z). A case passes when the report matches exactly. `env` gives
//! the case's environment (`NAME=value` lines; what it leaves out reads as `<NAME>`), and
//! `responses/` the recorded answers to the flow's `enrich` calls.
//!
//! A flow with `state` stages may start from the values in `state.json`
//! (`{ "NAME": { "KEY": value } }`); when the case has `expected_state.json`, the state the
//! run would leave (the seed, then what it would commit) must match it as JSON too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use similar::TextDiff;

use crate::runtime::{self, RunOptions};
use crate::state::{MemoryStore, StateStore, StateWrite};

pub const DEFAULT_NOW: &str = "2026-01-01T00:00:00Z";

/// One case of one flow.
#[derive(Clone, Debug)]
pub struct Case {
    pub flow_file: PathBuf,
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Debug)]
pub enum CaseResult {
    Passed,
    /// The report differs; the unified diff, expected to actual.
    Failed(String),
    /// Written with `--update`.
    Updated,
    /// Could not run (the flow has errors, the input is missing ...).
    Error(String),
}

/// The cases of a flow file, sorted by name.
pub fn cases(flow_file: &Path) -> Vec<Case> {
    let dir = flow_file.with_extension("tests");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<Case> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| Case {
            flow_file: flow_file.to_path_buf(),
            name: p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            dir: p,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Runs one case as a dry run and compares (or, with `update`, rewrites) its report.
pub fn run_case(case: &Case, program: &crate::ir::Program, flow: usize, base_dir: &Path, update: bool) -> CaseResult {
    let (actual, state) = match run(case, program, flow, base_dir) {
        Ok(r) => r,
        Err(e) => return CaseResult::Error(e),
    };
    let expected_path = case.dir.join("expected.txt");
    let state_path = case.dir.join("expected_state.json");
    if update {
        let wrote = std::fs::write(&expected_path, &actual).map_err(|e| format!("{}: {e}", expected_path.display()));
        let wrote = wrote.and_then(|()| match state_path.exists() {
            true => std::fs::write(&state_path, pretty(&state)).map_err(|e| format!("{}: {e}", state_path.display())),
            false => Ok(()),
        });
        return match wrote {
            Ok(()) => CaseResult::Updated,
            Err(e) => CaseResult::Error(e),
        };
    }
    if let Ok(text) = std::fs::read_to_string(&state_path) {
        let expected: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return CaseResult::Error(format!("{}: {e}", state_path.display())),
        };
        if expected != state {
            let diff = TextDiff::from_lines(&pretty(&expected), &pretty(&state))
                .unified_diff()
                .context_radius(3)
                .header("expected_state.json", "actual state")
                .to_string();
            return CaseResult::Failed(diff);
        }
    }
    let expected = match std::fs::read_to_string(&expected_path) {
        Ok(t) => t,
        Err(_) => return CaseResult::Error(format!("no {} (run with --update to record it)", expected_path.display())),
    };
    if expected == actual {
        CaseResult::Passed
    } else {
        let diff = TextDiff::from_lines(&expected, &actual)
            .unified_diff()
            .context_radius(3)
            .header("expected", "actual")
            .to_string();
        CaseResult::Failed(diff)
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// The dry-run report of a case.
pub fn report(case: &Case, program: &crate::ir::Program, flow: usize, base_dir: &Path) -> Result<String, String> {
    run(case, program, flow, base_dir).map(|(report, _)| report)
}

/// The dry-run report of a case, and the state it would leave: `{ "NAME": { "KEY": value } }`.
fn run(
    case: &Case,
    program: &crate::ir::Program,
    flow: usize,
    base_dir: &Path,
) -> Result<(String, serde_json::Value), String> {
    let input_dir = case.dir.join("input");
    let input_dir = input_dir.canonicalize().unwrap_or(input_dir);
    let mut inputs: Vec<String> = std::fs::read_dir(&input_dir)
        .map_err(|e| format!("{}: {e}", input_dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        return Err(format!("{} has no input files", input_dir.display()));
    }
    let env = match std::fs::read_to_string(case.dir.join("env")) {
        Ok(text) => env_lines(&text),
        Err(_) => std::collections::HashMap::new(),
    };
    let now_text = std::fs::read_to_string(case.dir.join("now")).unwrap_or_else(|_| DEFAULT_NOW.to_string());
    let now = chrono::DateTime::parse_from_rfc3339(now_text.trim()).map_err(|e| format!("now: {e}"))?;
    let opts = RunOptions {
        dry_run: true,
        inputs: Some(inputs),
        input_format: None,
        now,
        env,
        base_dir: base_dir.to_path_buf(),
        progress: false,
        keep_events: true,
        display_root: Some(input_dir.clone()),
        retention: None,
        regroup: None,
        responses: Some(case.dir.join("responses")),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let flow_ir = program.flows.get(flow).ok_or("no such flow")?;
    let seed = match std::fs::read_to_string(case.dir.join("state.json")) {
        Ok(text) => runtime::state_seed(flow_ir, &text).map_err(|e| format!("state.json: {e}"))?,
        Err(_) => Vec::new(),
    };
    let store = Arc::new(MemoryStore::new());
    store.commit_ends(&flow_ir.name, &[], &seed, now.to_utc()).map_err(|e| e.to_string())?;
    let report = rt.block_on(runtime::run(program, flow_ir, store, opts)).map_err(|e| e.to_string())?;
    let state = left_state(seed.iter().chain(&report.state));
    Ok((runtime::report::render(&report), state))
}

/// State values as a seed file writes them; a later write to a name and key wins.
fn left_state<'a>(writes: impl Iterator<Item = &'a StateWrite>) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for w in writes {
        let value = serde_json::from_str(&w.value).unwrap_or(serde_json::Value::Null);
        let keys = out.entry(w.name.clone()).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let serde_json::Value::Object(keys) = keys {
            keys.insert(w.key.clone(), value);
        }
    }
    serde_json::Value::Object(out)
}

/// `NAME=value` lines; blank lines and `#` comments skipped.
fn env_lines(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}
