//! The interpreter: runs a flow's IR over its input on tokio.
//!
//! The source reads on a blocking thread; each stage is a task; stages are joined by
//! bounded channels, so memory stays flat however large the input. Every record ends in
//! exactly one event (delivered, filtered or held) at the collector, which counts them,
//! writes holds to the state store and commits dedupe keys.

mod eval;
pub(crate) mod lookups;
pub mod metrics;
mod pipeline;
pub mod replay;
pub mod report;
mod stage;
mod summary;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

pub use eval::{compile, Compiled, Frame, Shared};
pub use pipeline::{run, run_until, source_options, Event, RunReport};
pub use stage::Stop;
pub use summary::Summary;

use crate::builtins::EvalContext;
use crate::state::StateError;

/// How to run a flow.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Record what sinks would send instead of sending; report holds instead of storing.
    pub dry_run: bool,
    /// Files (globs allowed, `-` for stdin) that replace the source's own input.
    pub inputs: Option<Vec<String>>,
    /// The clock every `now()` reads, fixed for the run.
    pub now: DateTime<FixedOffset>,
    /// The environment `env()` and `secret()` read, captured when the run starts.
    pub env: HashMap<String, String>,
    /// The flow file's directory: relative paths in the flow start here.
    pub base_dir: PathBuf,
    /// Show a progress bar (only on a terminal).
    pub progress: bool,
    /// Keep every event for a report (dry runs and tests); real runs keep none.
    pub keep_events: bool,
    /// Input paths are shown relative to this directory (test cases), else to the
    /// working directory.
    pub display_root: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Setup(String),
    #[error("missing environment variable{}: {}", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    MissingEnv(Vec<String>),
    #[error("reading input: {0}")]
    Input(String),
    #[error("writing output: {0}")]
    Output(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The clock and environment of one run.
pub(crate) struct RunContext {
    now: DateTime<FixedOffset>,
    env: HashMap<String, String>,
}

impl EvalContext for RunContext {
    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }

    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
}
