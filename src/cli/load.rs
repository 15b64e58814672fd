//! Loading one flow for the commands that run it: check, lower, pick the flow.

use std::path::{Path, PathBuf};

use crate::diagnostic::render_human;
use crate::ir;

/// A checked, lowered program and the index of the flow to run.
pub struct Loaded {
    pub program: ir::Program,
    pub flow: usize,
    pub base_dir: PathBuf,
}

impl Loaded {
    pub fn flow(&self) -> &ir::Flow {
        &self.program.flows[self.flow]
    }
}

/// Checks `path`; on errors prints them and returns `Err` with the message to show.
pub fn load(path: &Path, name: Option<&str>) -> Result<Loaded, String> {
    let outcome = crate::check_files(&[path.to_path_buf()]).map_err(|e| e.to_string())?;
    if outcome.diagnostics.has_errors() {
        eprint!("{}", render_human(&outcome.diagnostics, std::io::IsTerminal::is_terminal(&std::io::stderr())));
        return Err(format!("{} has errors; fix them first (`flowgate check {}`)", path.display(), path.display()));
    }
    let program = outcome.ir().ok_or("the flow has errors")?;
    let root = crate::modules::display_path(path);
    let candidates: Vec<usize> =
        program.flows.iter().enumerate().filter(|(_, f)| f.file.name == root).map(|(i, _)| i).collect();
    let flow = match (name, candidates.as_slice()) {
        (Some(n), _) => program
            .flows
            .iter()
            .position(|f| f.name == n)
            .ok_or_else(|| format!("{} has no flow `{n}`", path.display()))?,
        (None, [one]) => *one,
        (None, []) => return Err(format!("{} declares no flow", path.display())),
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|&i| program.flows[i].name.as_str()).collect();
            return Err(format!(
                "{} declares several flows ({}); pick one with --flow",
                path.display(),
                names.join(", ")
            ));
        }
    };
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Loaded { program, flow, base_dir })
}

/// `--now` as given, or the current time.
pub fn parse_now(now: Option<&str>) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    match now {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("--now {s}: {e} (write e.g. 2026-11-24T12:00:00Z)")),
        None => Ok(chrono::Utc::now().fixed_offset()),
    }
}

/// Where a flow keeps its state unless told: `.flowgate/state.db` beside it.
pub fn default_state(base_dir: &Path) -> PathBuf {
    base_dir.join(".flowgate").join("state.db")
}
