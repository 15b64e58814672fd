//! `flowgate explain CODE`: the long explanation of a diagnostic, as docs/diagnostics.md
//! gives it, so it can be read where the error was seen, offline and for this version.

use clap::Args;

use super::exit;
use crate::diagnostic::Code;

/// The page, compiled in: the binary explains the codes it emits.
const PAGE: &str = include_str!("../../docs/diagnostics.md");

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code, e.g. E0107 (any case).
    code: String,
}

pub fn run(args: &ExplainArgs) -> u8 {
    let wanted = args.code.trim().to_ascii_uppercase();
    match Code::ALL.iter().find(|c| c.as_str() == wanted).and_then(|c| section(c.as_str())) {
        Some(text) => {
            println!("{}", text.trim_end());
            exit::OK
        }
        None => {
            let near = nearest(&wanted);
            eprintln!("error: `{}` is not a flowgate diagnostic code", args.code.trim());
            if !near.is_empty() {
                let list: Vec<String> = near.iter().map(|c| format!("{} ({})", c.as_str(), c.title())).collect();
                eprintln!("help: the nearest codes are {}", list.join(", "));
            }
            exit::CANNOT_RUN
        }
    }
}

/// The section of the page headed `## CODE: title`, heading included, up to the next
/// heading of the same or a higher level.
pub fn section(code: &str) -> Option<&'static str> {
    let heading = format!("## {code}:");
    let start = PAGE.match_indices(&heading).map(|(i, _)| i).find(|&i| i == 0 || PAGE[..i].ends_with('\n'))?;
    let body = &PAGE[start + heading.len()..];
    let end = body
        .match_indices("\n#")
        .map(|(i, _)| i)
        .find(|&i| body[i + 1..].starts_with("# ") || body[i + 1..].starts_with("## "))
        .map_or(body.len(), |i| i + 1);
    Some(&PAGE[start..start + heading.len() + end])
}

/// Up to three codes closest to `wanted`: fewest character edits, then nearest number
/// (so `E107` finds E0107, and a code one past the last finds its neighbours).
fn nearest(wanted: &str) -> Vec<Code> {
    let number = |s: &str| s.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse::<i64>().ok();
    let mut ranked: Vec<(usize, i64, Code)> = Code::ALL
        .iter()
        .map(|&c| {
            let edits = strsim::levenshtein(wanted, c.as_str());
            let distance = match (number(wanted), number(c.as_str())) {
                (Some(a), Some(b)) => (a - b).abs(),
                _ => i64::MAX,
            };
            (edits, distance, c)
        })
        .collect();
    ranked.sort_by_key(|&(edits, distance, c)| (edits, distance, c));
    ranked.into_iter().take(3).map(|(_, _, c)| c).collect()
}
