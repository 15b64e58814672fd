//! `flowgate holds`: what an operator needs about held records: which are stuck and
//! why (`summary`, `list`), everything about one (`show`), giving up on one (`discard`)
//! and taking them elsewhere (`export`). Running held records again (`replay`) belongs
//! with the interpreter and joins these subcommands there.
//!
//! Every command reads an existing state database and never creates one. JSON output
//! is NDJSON throughout: one object per line, in the order of the table, so it streams
//! into `jq` or a file. `list` leaves out the two JSON payloads (`record` and
//! `stage_input`); `show --format json` and `export` include them.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::exit;
use crate::state::{Hold, HoldCount, HoldFilter, HoldId, HoldStatus, SqliteStore, StateError, StateStore};

#[derive(Args, Debug)]
pub struct HoldsArgs {
    #[command(subcommand)]
    command: HoldsCommand,
    /// The state database [default: for `replay`, .flowgate/state.db beside the flow
    /// file; for the others, .flowgate/state.db in the current directory, or the only
    /// one below it].
    #[arg(long, global = true, value_name = "PATH")]
    state: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum HoldsCommand {
    /// Held records, oldest first: id, flow, reason, key, stage, attempts, age, message.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format; json is one object per line, without the record payloads.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// How many records are held, by flow and reason, with the oldest and newest.
    Summary {
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format; json is one object per line.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Everything about one hold, with the record as it entered and the stage's input.
    Show {
        /// The hold's id (from `list`).
        id: HoldId,
        /// Output format; json is the whole hold as one object.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Give up on a held record: it stays in the store, marked discarded, with the reason.
    Discard {
        /// The hold's id (from `list`).
        id: HoldId,
        /// Why, for whoever reads it later (required).
        #[arg(long)]
        why: String,
    },
    /// Every matching hold in full, one JSON object per line (NDJSON), oldest first.
    Export {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Retention: holds that ended (replayed or discarded) longer ago than this lose their
    /// payload (reason, key, status, outcome and times stay); done webhook requests and
    /// delivery-log entries this old are deleted. Held records are never touched.
    Purge {
        /// How old: `30d`, `12h`, `1w`.
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: chrono::Duration,
    },
    /// A data subject's erasure: every hold, webhook request, dedupe key and delivery-log
    /// key about this order or person loses its payload; a held record is discarded.
    Erase {
        /// The order number, email or other key to erase (matched ignoring case).
        #[arg(long)]
        key: String,
    },
    /// Run held records through the current version of their flow: `--id N`, `--reason R`
    /// or `--all`. Delivered ones are marked replayed; held again, their attempts go up.
    Replay(super::replay::ReplayArgs),
}

#[derive(Args, Debug)]
struct FilterArgs {
    /// Only holds of this flow.
    #[arg(long)]
    flow: Option<String>,
    /// Only holds with this reason code.
    #[arg(long)]
    reason: Option<String>,
    /// Which holds by status.
    #[arg(long, value_enum, default_value_t = StatusArg::Held)]
    status: StatusArg,
    /// Only holds about this order, SKU or person: the blocking key, or mentioned in the
    /// record or message (ignoring case). For a data subject's request.
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum StatusArg {
    Held,
    Replayed,
    Discarded,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ShowFormat {
    Text,
    Json,
}

impl FilterArgs {
    fn to_filter(&self) -> HoldFilter {
        HoldFilter {
            flow: self.flow.clone(),
            reason: self.reason.clone(),
            status: match self.status {
                StatusArg::Held => Some(HoldStatus::Held),
                StatusArg::Replayed => Some(HoldStatus::Replayed),
                StatusArg::Discarded => Some(HoldStatus::Discarded),
                StatusArg::All => None,
            },
            ids: None,
            mentions: self.key.clone(),
        }
    }

    /// "records held for flow orders with reason invalid", for "nothing matched".
    fn describe(&self) -> String {
        let mut s = match self.status {
            StatusArg::Held => "records held".to_string(),
            StatusArg::Replayed => "replayed holds".to_string(),
            StatusArg::Discarded => "discarded holds".to_string(),
            StatusArg::All => "holds".to_string(),
        };
        if let Some(f) = &self.flow {
            let _ = write!(s, " for flow {f}");
        }
        if let Some(r) = &self.reason {
            let _ = write!(s, " with reason {r}");
        }
        if let Some(k) = &self.key {
            let _ = write!(s, " about {k}");
        }
        s
    }
}

/// The state a command reads: `--state`, else the default; or, said on stderr, why
/// there is no telling, as the exit code.
pub(super) fn state_path(given: Option<&std::path::Path>) -> Result<PathBuf, u8> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => default_state().map_err(|e| {
            eprintln!("error: {e}");
            exit::CANNOT_RUN
        }),
    }
}

/// Where the state lives unless `--state` says: `.flowgate/state.db` here, else the one
/// `.flowgate/state.db` below here (`flowgate run` keeps state beside each flow file), so
/// an operator in the project directory need not know which folder the flow is in.
pub(super) fn default_state() -> Result<PathBuf, String> {
    let here = PathBuf::from(".flowgate").join("state.db");
    if here.exists() {
        return Ok(here);
    }
    let mut found = Vec::new();
    find_states(std::path::Path::new("."), 3, &mut found);
    found.sort();
    match found.len() {
        0 | 1 => Ok(found.pop().unwrap_or(here)),
        _ => Err(format!(
            "several state databases here: {}; pick one with --state PATH",
            found.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn find_states(dir: &std::path::Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name();
        if name == ".flowgate" && p.join("state.db").exists() {
            out.push(p.join("state.db").strip_prefix("./").map(PathBuf::from).unwrap_or_else(|_| p.join("state.db")));
        } else if depth > 0 && p.is_dir() && !name.to_string_lossy().starts_with('.') && name != "target" {
            find_states(&p, depth - 1, out);
        }
    }
}

pub fn run(args: &HoldsArgs) -> u8 {
    if let HoldsCommand::Replay(replay) = &args.command {
        return super::replay::run(replay, args.state.clone());
    }
    if let HoldsCommand::Discard { why, .. } = &args.command {
        if why.trim().is_empty() {
            eprintln!("error: --why must say why the record is given up");
            return exit::CANNOT_RUN;
        }
    }
    let path = match state_path(args.state.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let store = match SqliteStore::open_existing(&path) {
        Ok(s) => s,
        Err(StateError::Missing { .. }) => {
            eprintln!(
                "error: no state database at {} (nothing has been held there; pass --state PATH to read another)",
                path.display()
            );
            return exit::CANNOT_RUN;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    match execute(&args.command, &store, &path, Utc::now()) {
        Ok(text) => {
            // Holds are scrubbed when they are made; this catches a URL's credentials in
            // a state written before that, or in a record as it arrived.
            let _ = std::io::stdout().lock().write_all(crate::scrub::scrub(&text).as_bytes());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_about_a_hold() {
                exit::FOUND
            } else {
                exit::CANNOT_RUN
            }
        }
    }
}

/// Runs one subcommand against `store` (at `path`, for messages); returns what to print.
fn execute(
    command: &HoldsCommand,
    store: &dyn StateStore,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<String, StateError> {
    match command {
        HoldsCommand::List { filter, format } => {
            let holds = store.holds(&filter.to_filter())?;
            Ok(match format {
                Format::Table if holds.is_empty() => format!("no {}\n", filter.describe()),
                Format::Table => list_table(&holds, filter.status != StatusArg::Held, now),
                Format::Json => ndjson(holds.iter().map(Brief::of)),
            })
        }
        HoldsCommand::Summary { filter, format } => {
            let counts = store.hold_summary(&filter.to_filter())?;
            Ok(match format {
                Format::Table if counts.is_empty() => format!("no {}\n", filter.describe()),
                Format::Table => summary_table(counts, filter.status != StatusArg::Held, now),
                Format::Json => ndjson(counts.iter()),
            })
        }
        HoldsCommand::Show { id, format } => {
            let hold = store.hold(*id)?.ok_or_else(|| StateError::NoSuchHold { path: path.to_path_buf(), id: *id })?;
            Ok(match format {
                ShowFormat::Text => show_text(&hold, now),
                ShowFormat::Json => pretty(&hold) + "\n",
            })
        }
        HoldsCommand::Discard { id, why } => {
            let why = why.trim();
            store.mark_discarded(*id, why, now)?;
            Ok(format!("discarded hold {id}: {why}\n"))
        }
        HoldsCommand::Export { filter } => Ok(ndjson(store.holds(&filter.to_filter())?.iter())),
        HoldsCommand::Purge { older_than: age } => {
            let age = *age;
            let p = store.purge(now - age)?;
            Ok(format!(
                "purged what ended before {}: {} hold payloads, {} webhook requests, {} delivery-log entries\n",
                (now - age).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                p.holds,
                p.inbox,
                p.deliveries
            ))
        }
        HoldsCommand::Erase { key } => {
            let e = store.erase(key, now)?;
            Ok(format!("erased {key}: {} holds, {} webhook requests, {} keys\n", e.holds, e.inbox, e.keys))
        }
        HoldsCommand::Replay(_) => unreachable!("replay is dispatched before the store is opened"),
    }
}

/// A hold without its two JSON payloads, for `list --format json`.
#[derive(Serialize)]
struct Brief<'a> {
    id: HoldId,
    status: HoldStatus,
    flow: &'a str,
    flow_version: &'a str,
    stage: &'a str,
    stage_line: u32,
    reason: &'a str,
    message: &'a str,
    blocking_key: Option<&'a str>,
    attempts: u32,
    source_ref: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    outcome: Option<&'a str>,
}

impl<'a> Brief<'a> {
    fn of(h: &'a Hold) -> Brief<'a> {
        Brief {
            id: h.id,
            status: h.status,
            flow: &h.flow,
            flow_version: &h.flow_version,
            stage: &h.stage,
            stage_line: h.stage_line,
            reason: &h.reason,
            message: &h.message,
            blocking_key: h.blocking_key.as_deref(),
            attempts: h.attempts,
            source_ref: h.source_ref.as_deref(),
            created_at: h.created_at,
            updated_at: h.updated_at,
            outcome: h.outcome.as_deref(),
        }
    }
}

fn ndjson<T: Serialize>(items: impl Iterator<Item = T>) -> String {
    let mut out = String::new();
    for item in items {
        // Serializing plain data with string keys cannot fail; skip rather than panic.
        if let Ok(line) = serde_json::to_string(&item) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

const MESSAGE_WIDTH: usize = 60;

fn list_table(holds: &[Hold], with_status: bool, now: DateTime<Utc>) -> String {
    let mut header = vec!["ID"];
    if with_status {
        header.push("STATUS");
    }
    header.extend(["FLOW", "REASON", "KEY", "STAGE", "ATTEMPTS", "AGE", "MESSAGE"]);
    let rows = holds.iter().map(|h| {
        let mut row = vec![h.id.to_string()];
        if with_status {
            row.push(h.status.to_string());
        }
        row.extend([
            h.flow.clone(),
            h.reason.clone(),
            h.blocking_key.clone().unwrap_or_else(|| "-".into()),
            stage_at(h),
            h.attempts.to_string(),
            age(now, h.created_at),
            truncate(&h.message, MESSAGE_WIDTH),
        ]);
        row
    });
    let mut out = table(&header, rows.collect());
    let n = holds.len();
    let _ = writeln!(out, "{n} hold{} (flowgate holds show ID for the record)", if n == 1 { "" } else { "s" });
    out
}

fn summary_table(mut counts: Vec<HoldCount>, with_status: bool, now: DateTime<Utc>) -> String {
    // Within a flow, the biggest pile first.
    counts.sort_by(|a, b| {
        (&a.flow, a.status).cmp(&(&b.flow, b.status)).then(b.count.cmp(&a.count)).then(a.reason.cmp(&b.reason))
    });
    let mut header = vec!["FLOW", "REASON"];
    if with_status {
        header.push("STATUS");
    }
    header.extend(["COUNT", "OLDEST", "NEWEST"]);
    let rows = counts.iter().map(|c| {
        let mut row = vec![c.flow.clone(), c.reason.clone()];
        if with_status {
            row.push(c.status.to_string());
        }
        row.extend([c.count.to_string(), when(now, c.oldest), when(now, c.newest)]);
        row
    });
    let mut out = table(&header, rows.collect());
    let total: u64 = counts.iter().map(|c| c.count).sum();
    let mut flows: Vec<&str> = counts.iter().map(|c| c.flow.as_str()).collect();
    flows.dedup();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "total: {} in {} (flowgate holds list --reason REASON for the records)",
        plural(usize::try_from(total).unwrap_or(usize::MAX), "hold"),
        plural(flows.len(), "flow")
    );
    out
}

fn show_text(h: &Hold, now: DateTime<Utc>) -> String {
    let mut out = format!("hold {} ({})\n", h.id, h.status);
    let mut field = |name: &str, value: &str| {
        // A value of several lines keeps its column.
        let value = value.replace('\n', &format!("\n{:13}", ""));
        let _ = writeln!(out, "  {name:<10} {value}");
    };
    field("flow", &format!("{} (version {})", h.flow, h.flow_version));
    let line = if h.stage_line > 0 { format!(", line {}", h.stage_line) } else { String::new() };
    field("stage", &format!("{}{line}", h.stage));
    field("reason", &h.reason);
    field("message", &h.message);
    field("key", h.blocking_key.as_deref().unwrap_or("-"));
    field("source", h.source_ref.as_deref().unwrap_or("-"));
    field("attempts", &h.attempts.to_string());
    field("created", &when(now, h.created_at));
    field("updated", &when(now, h.updated_at));
    if let Some(outcome) = &h.outcome {
        field(if h.status == HoldStatus::Discarded { "why" } else { "outcome" }, outcome);
    }
    let _ = write!(out, "\nrecord, as it entered the flow:\n{}\n", pretty(&h.record));
    let _ = write!(out, "\ninput of stage {}:\n{}\n", h.stage, pretty(&h.stage_input));
    out
}

/// "validate:12", or just the stage when it has no line.
fn stage_at(h: &Hold) -> String {
    if h.stage_line > 0 {
        format!("{}:{}", h.stage, h.stage_line)
    } else {
        h.stage.clone()
    }
}

/// "2026-11-24 12:00:00Z (3h ago)".
fn when(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    format!("{} ({} ago)", t.format("%Y-%m-%d %H:%M:%SZ"), age(now, t))
}

/// How long ago, in the largest unit that keeps it short: 42s, 17m, 5h, 3d.
fn age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// One line of at most `max` characters: control characters become spaces, a cut
/// ends in "…".
fn truncate(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max.saturating_sub(1)).chain(['…']).collect()
    }
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 < widths.len() {
                let _ = write!(text, "{cell:<0$}  ", widths[i]);
            } else {
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// An age for `purge`: `30d`, `12h`, `1w`, `1d12h`.
pub(super) fn parse_age(text: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("`{text}` is not an age: write a number with a unit, as `30d`, `12h` or `1w`");
    if !text.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let ms = crate::syntax::parse_duration(text).filter(|ms| *ms > 0).ok_or_else(bad)?;
    chrono::Duration::try_milliseconds(i64::try_from(ms).map_err(|_| bad())?).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_short() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").map(|t| t.to_utc()).unwrap();
        let ago = |s: i64| age(now, now - chrono::Duration::seconds(s));
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(120), "2m");
        assert_eq!(ago(3 * 3600), "3h");
        assert_eq!(ago(47 * 3600), "47h");
        assert_eq!(ago(3 * 86_400), "3d");
        assert_eq!(ago(-10), "0s");
    }

    #[test]
    fn messages_are_cut_to_one_line() {
        assert_eq!(truncate("a\nb", 10), "a b");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("äöüß", 4), "äöüß");
    }

    #[test]
    fn tables_align_and_do_not_pad_the_last_column() {
        let t = table(&["ID", "NAME"], vec![vec!["10".into(), "x".into()], vec!["7".into(), "long name".into()]]);
        assert_eq!(t, "ID  NAME\n10  x\n7   long name\n");
    }
}
