//! The dry-run report: what every sink would have sent, what was filtered and held,
//! in input order, the state values it would commit, then the summary. Deterministic, so it can be diffed and kept as a
//! test expectation.

use std::fmt::Write;

use super::outcome::{Event, RunReport};

/// The report, scrubbed: what it quotes of answers and URLs passes the scrubber
/// (`crate::scrub`) like every other text that leaves the process.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for e in &report.events {
        match e {
            Event::Delivered { source_ref, sink, delivery, .. } => {
                let _ = writeln!(out, "── {source_ref} → sink {sink}");
                out.push_str(&delivery.render());
            }
            Event::Filtered { source_ref, stage, why, .. } => {
                let _ = writeln!(out, "── {source_ref} → filtered at {stage}: {why}");
            }
            Event::Held { hold, .. } => {
                let line = if hold.stage_line > 0 { format!(" (line {})", hold.stage_line) } else { String::new() };
                let src = hold.source_ref.as_deref().unwrap_or("?");
                let _ = writeln!(out, "── {src} → held `{}` at {}{line}: {}", hold.reason, hold.stage, hold.message);
            }
        }
        out.push('\n');
    }
    if !report.state.is_empty() {
        out.push_str("── state a real run would commit\n");
        for w in &report.state {
            let _ = writeln!(out, "   {} {:?} = {}", w.name, w.key, w.value);
        }
        out.push('\n');
    }
    let _ = write!(out, "{}", report.summary);
    crate::scrub::scrub(&out).into_owned()
}
