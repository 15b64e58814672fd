//! `flowgate run`: run a flow over its input, or dry-run it over recorded payloads.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::exit;
use super::load::{default_state, load, parse_now};
use crate::runtime::{self, RunOptions};
use crate::state::{SqliteStore, StateStore};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The .flow file.
    flow_file: PathBuf,
    /// Which flow, when the file declares several.
    #[arg(long)]
    flow: Option<String>,
    /// Files that replace the source's input (globs allowed; `-` is stdin).
    #[arg(long, num_args = 1..)]
    input: Option<Vec<String>>,
    /// Record what each sink would send instead of sending; report holds, store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Pin the clock (RFC 3339), for repeatable runs.
    #[arg(long)]
    now: Option<String>,
    /// The state database (default: .flowgate/state.db beside the flow).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Exit 1 when any record was held (for CI dry runs).
    #[arg(long)]
    fail_on_hold: bool,
}

pub fn run(args: &RunArgs) -> u8 {
    let loaded = match load(&args.flow_file, args.flow.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let now = match parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    // A dry run reads the state (so it shows what a real run would do now) but never
    // writes it: holds are reported, dedupe keys are not committed.
    let path = args.state.clone().unwrap_or_else(|| default_state(&loaded.base_dir));
    let store: Arc<dyn StateStore> = match SqliteStore::open(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let opts = RunOptions {
        dry_run: args.dry_run,
        inputs: args.input.clone(),
        now,
        env: std::env::vars().collect(),
        base_dir: loaded.base_dir.clone(),
        progress: !args.dry_run && std::io::stderr().is_terminal(),
        keep_events: args.dry_run,
        display_root: None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let result = rt.block_on(runtime::run(&loaded.program, loaded.flow(), store, opts));
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    if args.dry_run {
        let _ = write!(std::io::stdout(), "{}", runtime::report::render(&report));
    } else {
        eprint!("{}", report.summary);
    }
    if args.fail_on_hold && report.summary.held > 0 {
        exit::FOUND
    } else {
        exit::OK
    }
}
