//! `flowgate check`: diagnostics for people (miette) or CI (JSON, GitHub annotations).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use crate::confine::Confinement;
use crate::diagnostic::{render_github, render_human, render_json};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check; directories are searched for .flow files.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Print an intermediate form of one file instead of diagnostics.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// Also read imports and lookup files from this directory's tree (repeatable). By
    /// default they are read only from the trees of the paths being checked.
    #[arg(long, value_name = "DIR")]
    allow_path: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Emit {
    /// The syntax tree.
    Ast,
    /// The typed, resolved program the interpreter runs.
    Ir,
}

pub fn run(args: &CheckArgs) -> u8 {
    let files = match flow_files(&args.paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    // Imports and lookup files are read only from the trees being checked: a pull
    // request must not make the check read (and quote) a file of the machine it runs on.
    let mut confinement = Confinement::around(&args.paths);
    for dir in &args.allow_path {
        if !dir.is_dir() {
            eprintln!("error: --allow-path {}: not a directory", dir.display());
            return exit::CANNOT_RUN;
        }
        confinement.allow(dir);
    }
    let outcome = match crate::check_files_in(&files, confinement) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let diags = &outcome.diagnostics;
    let mut out = std::io::stdout().lock();
    if let Some(emit) = args.emit {
        if diags.has_errors() {
            let _ = write!(std::io::stderr(), "{}", render_human(diags, std::io::stderr().is_terminal()));
            return exit::FOUND;
        }
        let text = match emit {
            Emit::Ast => outcome.dump_ast(),
            Emit::Ir => outcome.dump_ir(),
        };
        let _ = write!(out, "{text}");
        return exit::OK;
    }
    let text = match args.format {
        Format::Human => {
            let mut t = render_human(diags, std::io::stdout().is_terminal());
            t.push_str(&summary(files.len(), diags.error_count(), diags.warning_count()));
            t
        }
        Format::Json => render_json(diags),
        Format::Github => render_github(diags),
    };
    let _ = write!(out, "{text}");
    if diags.has_errors() || (args.deny_warnings && diags.warning_count() > 0) {
        exit::FOUND
    } else {
        exit::OK
    }
}

/// The `.flow` files under `paths`. A path that does not exist, or a directory without a
/// single flow, is refused: in CI it is a mistyped path, and "checked 0 files" with exit
/// 0 would let every later broken flow through unnoticed.
fn flow_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(format!("{} does not exist", path.display()));
        }
        let found = crate::project::collect_flow_files(std::slice::from_ref(path)).map_err(|e| e.to_string())?;
        if found.is_empty() && path.is_dir() {
            return Err(format!("no .flow files in {}", path.display()));
        }
        for f in found {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    Ok(files)
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("checked {}: {}, {}\n", plural(files, "file"), plural(errors, "error"), plural(warnings, "warning"))
}
