//! `flowgate state`: check a state database, or take a consistent backup of it.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exit;
use crate::state::{SqliteStore, StateError};

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
    /// The state database [default: .flowgate/state.db in the current directory].
    #[arg(long, global = true, value_name = "PATH")]
    state: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// SQLite's integrity check, then flowgate's own: every hold, dedupe key, cursor,
    /// delivery and inbox request as flowgate writes it. Exits 1 when anything is wrong.
    Check,
    /// A consistent copy of the state, taken while flows may go on running (SQLite's
    /// online backup). Never overwrites a file.
    Backup {
        /// Where the copy goes.
        to: PathBuf,
    },
}

pub fn run(args: &StateArgs) -> u8 {
    let path = match super::holds::state_path(args.state.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let store = match SqliteStore::open_existing(&path) {
        Ok(s) => s,
        Err(StateError::Missing { .. }) => {
            eprintln!("error: no state database at {} (pass --state PATH to name another)", path.display());
            return exit::CANNOT_RUN;
        }
        // A file that cannot even be opened as state fails the check.
        Err(e @ (StateError::Damaged { .. } | StateError::Foreign { .. })) => {
            eprintln!("error: {e}");
            return if matches!(args.command, StateCommand::Check) { exit::FOUND } else { exit::CANNOT_RUN };
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    match &args.command {
        StateCommand::Check => match store.check() {
            Ok(problems) if problems.is_empty() => {
                println!("{}: ok", path.display());
                exit::OK
            }
            Ok(problems) => {
                println!("{}: {} problem{} found", path.display(), problems.len(), plural(problems.len()));
                for p in &problems {
                    println!("  {p}");
                }
                println!("restore the state from a backup (`flowgate state backup`) taken before the damage");
                exit::FOUND
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::FOUND
            }
        },
        StateCommand::Backup { to } => match store.backup(to) {
            Ok(()) => {
                println!("{} backed up to {}", path.display(), to.display());
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::CANNOT_RUN
            }
        },
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
