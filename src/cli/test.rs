//! `flowgate test`: run every flow's recorded cases and compare with their expectations.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use super::load::load;
use crate::testing::{cases, run_case, CaseResult};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Flow files or directories (searched recursively for .flow files with cases).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Accept the current output as the new expectation.
    #[arg(long)]
    update: bool,
}

pub fn run(args: &TestArgs) -> u8 {
    let files = match crate::project::collect_flow_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let (mut passed, mut failed, mut updated) = (0, 0, 0);
    for file in files {
        let file_cases = cases(&file);
        if file_cases.is_empty() {
            continue;
        }
        let loaded = match load(&file, None) {
            Ok(l) => l,
            Err(e) => {
                println!("FAILED {}: {e}", file.display());
                failed += file_cases.len();
                continue;
            }
        };
        for case in file_cases {
            let label = format!("{} :: {}", crate::modules::display_path(&file), case.name);
            match run_case(&case, &loaded.program, loaded.flow, &loaded.base_dir, args.update) {
                CaseResult::Passed => {
                    passed += 1;
                    println!("ok      {label}");
                }
                CaseResult::Updated => {
                    updated += 1;
                    println!("updated {label}");
                }
                CaseResult::Failed(diff) => {
                    failed += 1;
                    println!("FAILED  {label}\n{diff}");
                }
                CaseResult::Error(e) => {
                    failed += 1;
                    println!("FAILED  {label}: {e}");
                }
            }
        }
    }
    if updated > 0 {
        println!("{updated} updated");
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        exit::FOUND
    } else {
        exit::OK
    }
}
