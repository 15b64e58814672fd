//! `flowgate init`: write a first flow, its lookup, sample orders, a recorded case and a README.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use crate::scaffold::{Scaffold, Source, Target};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The directory to write into (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The storefront the orders come from.
    #[arg(long, value_enum, default_value = "shopify")]
    from: Source,
    /// Where the orders go: the ERP's API (erp.SalesOrder) or a CSV file.
    #[arg(long, value_enum, default_value = "erp")]
    to: Target,
}

pub fn run(args: &InitArgs) -> u8 {
    let scaffold = Scaffold { source: args.from, target: args.to };
    match scaffold.write(&args.dir) {
        Ok(files) => {
            println!("wrote {} files in {}:", files.len(), args.dir.display());
            for f in &files {
                println!("  {}", f.strip_prefix(&args.dir).unwrap_or(f).display());
            }
            let cd = if args.dir == std::path::Path::new(".") {
                String::new()
            } else {
                format!("cd {} && ", args.dir.display())
            };
            println!(
                "next: {cd}flowgate check . && flowgate test . && flowgate run {}.flow --dry-run",
                scaffold.flow_name()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::CANNOT_RUN
        }
    }
}
