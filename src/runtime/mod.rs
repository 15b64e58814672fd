//! The interpreter: runs a flow's IR over its input on tokio.
//!
//! A source (`source/`) reads and decodes; runs of stages (`stage/`, `stages.rs`),
//! batches (`batch.rs`) and groups (`group.rs`) are tasks; the sinks task (`deliver.rs`, `sink/`) renders and
//! hands over deliveries. They are joined by bounded channels, so memory stays flat
//! however large the input. Every record ends in exactly one message (delivered,
//! filtered or held) to the collector (`collect.rs`), which counts them, writes holds to
//! the state store and commits dedupe keys; `run.rs` wires it all and refuses to call a
//! run whose records do not add up a success.

mod accounting;
mod batch;
mod collect;
mod deliver;
mod enrich;
mod env;
mod eval;
mod flow_info;
mod group;
mod lookups;
mod options;
mod outcome;
pub mod replay;
pub mod report;
mod run;
mod sink;
mod source;
mod stage;
mod stages;
mod summary;
mod unit;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

pub use eval::{compile, Compiled, Frame, Shared};
pub use lookups::Table;
pub use outcome::{Event, RunReport};
pub use run::{run, run_until};
pub use source::webhook_endpoint;
pub use stage::{state_seed, Stop};
pub use summary::Summary;
pub use unit::Unit;

use crate::builtins::EvalContext;
use crate::state::StateError;

/// How to run a flow.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Record what sinks would send instead of sending; report holds instead of storing.
    pub dry_run: bool,
    /// Files (globs allowed, `-` for stdin) that replace the source's own input.
    pub inputs: Option<Vec<String>>,
    /// How `inputs` are written, whatever the source's `format` says (a replay writes
    /// its records as NDJSON); `None` keeps the source's own.
    pub input_format: Option<crate::connectors::Format>,
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
    /// How long ended holds, done webhook requests and the delivery log keep their
    /// payloads: purged when a real run starts and every hour while it runs.
    pub retention: Option<chrono::Duration>,
    /// A replay's batches: for each input record (by its number, from 1), the batch it
    /// was held with, if any. Batch stages then form exactly those batches again, and put
    /// no other record with them.
    pub regroup: Option<Arc<Vec<Option<u32>>>>,
    /// Recorded answers to `enrich` calls (`*.json` files): a dry run answers every call
    /// from them and never calls out.
    pub responses: Option<PathBuf>,
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
    #[error("{0}")]
    Internal(String),
    /// Records went in that did not come out delivered, filtered or held.
    #[error(
        "the run's records do not add up: {} in (+{} from split), {} delivered, {} filtered, {} held; \
         records may have been lost (please report this)",
        .0.records_in, .0.split_extra, .0.delivered, .0.filtered, .0.held
    )]
    Unbalanced(Box<Summary>),
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
