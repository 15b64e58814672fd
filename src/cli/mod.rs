//! The command line: clap arguments and one module per subcommand.

mod check;
mod explain;
mod fmt;
mod graph;
mod holds;
mod init;
mod load;
mod lsp;
mod replay;
mod run;
mod state;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "flowgate", version, about = "Check, test and run .flow integration pipelines")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check .flow files for errors before deploy (files or directories, recursively).
    Check(check::CheckArgs),
    /// Print the long explanation of a diagnostic code, e.g. `flowgate explain E0107`.
    Explain(explain::ExplainArgs),
    /// Rewrite .flow files in the canonical layout; with --check, show what would change.
    Fmt(fmt::FmtArgs),
    /// Draw a flow: its parts, lookups, sinks and every hold reason (Mermaid or dot).
    Graph(graph::GraphArgs),
    /// Write a first flow from a storefront to a back office, with a recorded test case.
    Init(init::InitArgs),
    /// Serve editors over stdio: diagnostics, formatting, hover, definitions, completion.
    Lsp(lsp::LspArgs),
    /// Run a flow; with --dry-run, show what each sink would send.
    Run(run::RunArgs),
    /// Run each flow's recorded cases (NAME.tests/CASE/) and compare with the expectations.
    Test(test::TestArgs),
    /// List, count, show, discard and export held records.
    Holds(holds::HoldsArgs),
    /// Check the state database, or back it up while flows run.
    State(state::StateArgs),
}

/// Exit codes shared by every subcommand.
pub mod exit {
    /// Nothing wrong.
    pub const OK: u8 = 0;
    /// The input has errors (diagnostics, failed tests, held records where that fails).
    pub const FOUND: u8 = 1;
    /// The command could not run (a missing path, an unreadable file, bad flags).
    pub const CANNOT_RUN: u8 = 2;
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::CANNOT_RUN } else { exit::OK });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Lsp(args) => lsp::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Holds(args) => holds::run(&args),
        Command::State(args) => state::run(&args),
    };
    ExitCode::from(code)
}
