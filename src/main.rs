//! The `flowgate` command: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    flowgate::cli::main()
}
