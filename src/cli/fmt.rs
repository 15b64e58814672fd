//! `flowgate fmt`: rewrite `.flow` files in the canonical layout, or with `--check` say
//! which are not (with a diff) for CI.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::exit;
use crate::diagnostic::render_human;
use crate::source::{Origin, SourceFile};

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Files or directories (searched recursively for .flow files); `-` formats standard
    /// input to standard output.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing: print a diff for each file not formatted and exit 1 if there is one.
    #[arg(long)]
    check: bool,
}

/// What became of one file.
enum Outcome {
    Unchanged,
    Changed,
    /// Not formatted: it does not parse, or cannot be read or written.
    Failed,
}

pub fn run(args: &FmtArgs) -> u8 {
    let mut outcomes = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            outcomes.push(stdin(args.check));
            continue;
        }
        let files = match crate::project::collect_flow_files(std::slice::from_ref(path)) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("error: {e}");
                outcomes.push(Outcome::Failed);
                continue;
            }
        };
        if files.is_empty() && path.is_dir() {
            eprintln!("error: no .flow files in {}", path.display());
            outcomes.push(Outcome::Failed);
        }
        outcomes.extend(files.iter().map(|f| file(f, args.check)));
    }
    if outcomes.iter().any(|o| matches!(o, Outcome::Failed)) {
        exit::CANNOT_RUN
    } else if args.check && outcomes.iter().any(|o| matches!(o, Outcome::Changed)) {
        exit::FOUND
    } else {
        exit::OK
    }
}

fn file(path: &Path, check: bool) -> Outcome {
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => return failed(&format!("{}: not valid UTF-8", path.display())),
        Err(e) => return failed(&format!("{}: {e}", path.display())),
    };
    let name = crate::modules::display_path(path);
    let source = SourceFile::new(name.clone(), Origin::File(path.to_path_buf()), text);
    let formatted = match crate::fmt::format_file(&source) {
        Ok(f) => f,
        Err(diags) => {
            eprint!("{}", render_human(&diags, std::io::stderr().is_terminal()));
            return failed(&format!("{name} does not parse; it was left as it is"));
        }
    };
    if formatted == *source.text {
        return Outcome::Unchanged;
    }
    if check {
        print!("{}", diff(&name, &source.text, &formatted));
        return Outcome::Changed;
    }
    match write(path, &formatted) {
        Ok(()) => {
            println!("formatted {name}");
            Outcome::Changed
        }
        Err(e) => failed(&format!("{}: {e}", path.display())),
    }
}

fn stdin(check: bool) -> Outcome {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        return failed(&format!("standard input: {e}"));
    }
    let formatted = match crate::fmt::format_text("<stdin>", &text) {
        Ok(f) => f,
        Err(diags) => {
            eprint!("{}", render_human(&diags, std::io::stderr().is_terminal()));
            return failed("standard input does not parse");
        }
    };
    let changed = formatted != text;
    let out = if check {
        if changed {
            diff("<stdin>", &text, &formatted)
        } else {
            String::new()
        }
    } else {
        formatted
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    if changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    }
}

fn failed(message: &str) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Failed
}

/// The change as a unified diff, `a/NAME` before and `b/NAME` after.
fn diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Replaces the file in one step (a temporary file renamed over it), so an interrupted
/// run leaves the old text or the new, never half of one.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
