//! `flowgate holds replay`: send held records through the current version of their flow.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::exit;
use super::load::{default_state, load, parse_now};
use crate::runtime::{replay::replay, RunOptions};
use crate::state::{HoldFilter, HoldId, HoldStatus, SqliteStore, StateStore};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The flow file, in its current (fixed) version. Its state is the one beside it
    /// (`.flowgate/state.db`) unless `--state` says otherwise.
    flow_file: PathBuf,
    /// Which flow, when the file declares several.
    #[arg(long)]
    flow: Option<String>,
    /// Replay these holds.
    #[arg(long = "id", num_args = 1.., conflicts_with_all = ["reason", "all"])]
    ids: Vec<HoldId>,
    /// Replay every hold of the flow with this reason code.
    #[arg(long, conflicts_with = "all")]
    reason: Option<String>,
    /// Replay every hold of the flow.
    #[arg(long)]
    all: bool,
    /// Show what would happen without sending or marking anything.
    #[arg(long)]
    dry_run: bool,
    /// Pin the clock (RFC 3339).
    #[arg(long)]
    now: Option<String>,
}

pub fn run(args: &ReplayArgs, state: Option<PathBuf>) -> u8 {
    if args.ids.is_empty() && args.reason.is_none() && !args.all {
        eprintln!("error: say which holds to replay: --id N, --reason CODE or --all");
        return exit::CANNOT_RUN;
    }
    let loaded = match load(&args.flow_file, args.flow.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let path = state.unwrap_or_else(|| default_state(&loaded.base_dir));
    if !path.exists() {
        eprintln!("error: no state database at {} (nothing has been held there)", path.display());
        return exit::CANNOT_RUN;
    }
    let store: Arc<dyn StateStore> = match SqliteStore::open_existing(&path).and_then(|s| s.quick_check().map(|()| s)) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    // A replay sends: it owns the state while it runs, as a run does. A dry replay
    // only reads.
    let command = format!("flowgate holds replay {}", args.flow_file.display());
    let _lease = match args.dry_run {
        true => None,
        false => match store.lease(&crate::state::LeaseHolder::this_process(&command)) {
            Ok(lease) => Some(lease),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::CANNOT_RUN;
            }
        },
    };
    let flow = loaded.flow();
    let filter = HoldFilter {
        flow: Some(flow.name.clone()),
        reason: args.reason.clone(),
        status: Some(HoldStatus::Held),
        ids: (!args.ids.is_empty()).then(|| args.ids.clone()),
        mentions: None,
    };
    let holds = match store.holds(&filter) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    if holds.is_empty() {
        println!("nothing to replay: no held records of flow `{}` match", flow.name);
        return if args.ids.is_empty() { exit::OK } else { exit::FOUND };
    }
    let now = match parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let opts = RunOptions {
        dry_run: args.dry_run,
        inputs: None,
        input_format: None,
        now,
        env: std::env::vars().collect(),
        base_dir: loaded.base_dir.clone(),
        progress: false,
        keep_events: true,
        display_root: None,
        retention: None,
        regroup: None,
        responses: None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    match rt.block_on(replay(&loaded.program, flow, store, &holds, opts)) {
        Ok((results, _)) => {
            let again = results.iter().filter(|r| r.held_again).count();
            for r in &results {
                println!("hold {}: {}", r.id, r.outcome);
            }
            let verb = if args.dry_run { "would be" } else { "were" };
            println!(
                "{} replayed: {} {verb} delivered or filtered, {again} held again",
                results.len(),
                results.len() - again
            );
            if again > 0 {
                exit::FOUND
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::CANNOT_RUN
        }
    }
}
