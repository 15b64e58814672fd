//! The collector: hears of every record's end, counts it, writes holds (in transactions
//! of up to 64), commits dedupe keys and state values, marks inbox requests done and
//! moves the cursor.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::accounting::Ends;
use super::flow_info::{blocking_key, entered_json, FlowInfo};
use super::outcome::{Event, Msg};
use super::summary::Summary;
use super::unit::Unit;
use super::{RunOptions, RuntimeError};
use crate::metrics;
use crate::state::{NewHold, StateStore, StateWrite};

/// Counts every end, writes holds (in transactions of up to 64) and commits dedupe keys
/// and state values. Also gives the state values a dry run would have committed.
pub(crate) async fn collect(
    mut rx: mpsc::Receiver<Msg>,
    store: Arc<dyn StateStore>,
    opts: &RunOptions,
    info: &FlowInfo,
) -> Result<(Summary, Vec<Event>, Vec<StateWrite>), RuntimeError> {
    let mut summary = Summary::default();
    let mut events = Vec::new();
    let mut holds: Vec<NewHold> = Vec::new();
    let mut keys: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
    let mut states = States { dry_run: opts.dry_run, ..States::default() };
    // Identities of records a rule took to their end, with how: their holds end.
    let mut closing: Vec<(String, String)> = Vec::new();
    // Identities of records held in this run: another part of one of them going through
    // (a split) does not end its hold.
    let mut held_now: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut ends = Ends::default();
    let progress = opts.progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} records {per_sec} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::SplitExtra { seq, n } => {
                summary.split_extra += n;
                ends.split(seq, n);
                continue;
            }
            Msg::Delivered { unit, deliveries } => {
                let members = records_in(&unit);
                summary.delivered += members;
                ends.ended(&unit);
                if info.identify {
                    let sinks: Vec<&str> = deliveries.iter().map(|(s, _)| s.as_str()).collect();
                    let how = format!("delivered to {} by a later run ({})", sinks.join(", "), unit.source_ref);
                    closing.extend(identities(&unit).map(|id| (id, how.clone())));
                }
                for (sink, d) in deliveries {
                    metrics::add("records_delivered", &info.name, &sink, members);
                    *summary.per_sink.entry(sink.clone()).or_default() += members;
                    if opts.keep_events {
                        events.push(Event::Delivered {
                            seq: unit.seq,
                            source_ref: unit.source_ref.clone(),
                            sink,
                            delivery: d,
                        });
                    }
                }
                keys.extend(unit.dedupe);
                states.ended(unit.state);
            }
            Msg::Filtered { unit, stage, why, repeat } => {
                // A filtered batch ends each of its records.
                let members = records_in(&unit);
                summary.filtered += members;
                metrics::add("records_filtered", &info.name, "", members);
                ends.ended(&unit);
                let label = stage.clone().unwrap_or((usize::MAX, "sinks".into()));
                if info.identify && !repeat {
                    let how = format!("filtered at {}: {why}, by a later run ({})", label.1, unit.source_ref);
                    closing.extend(identities(&unit).map(|id| (id, how.clone())));
                }
                summary.per_stage.entry(label.clone()).or_default().0 += members;
                if opts.keep_events {
                    events.push(Event::Filtered {
                        seq: unit.seq,
                        source_ref: unit.source_ref.clone(),
                        stage: label.1,
                        why,
                    });
                }
                keys.extend(unit.dedupe);
                if unit.remember {
                    states.ended(unit.state);
                }
            }
            Msg::Held { unit, stage, hold } => {
                let unit_is_member = !unit.members.is_empty();
                let members: Vec<Unit> = records_of(unit);
                tracing::warn!(
                    flow = %hold.flow,
                    stage = %hold.stage,
                    reason = %hold.reason,
                    key = hold.blocking_key.as_deref().unwrap_or("-"),
                    source = hold.source_ref.as_deref().unwrap_or("-"),
                    detail = %hold.message,
                    "record held"
                );
                let count = members.len();
                // A held batch's hold is keyed by its first record; each of its records
                // is listed under its own key instead, unless a sink named the batch.
                let head_key = members.first().and_then(|m| blocking_key(&m.entered));
                let keyed_by_head = unit_is_member && hold.blocking_key == head_key;
                let mut spare = Some(*hold);
                // The records of a held batch are held together: a replay sends them as
                // that batch again, never a part of it.
                let batch = unit_is_member.then(|| format!("{:016x}", fastrand::u64(..)));
                for (i, m) in members.into_iter().enumerate() {
                    summary.held += 1;
                    metrics::add("records_held", &info.name, "", 1);
                    ends.ended(&m);
                    // Each member of a held batch is its own hold; the last takes the original.
                    let mut h = match spare.take() {
                        Some(h) if i + 1 < count => {
                            let copy = h.clone();
                            spare = Some(h);
                            copy
                        }
                        Some(h) => h,
                        None => break,
                    };
                    *summary.held_by_reason.entry(h.reason.clone()).or_default() += 1;
                    let label = stage.clone().unwrap_or((usize::MAX - 1, h.stage.clone()));
                    summary.per_stage.entry(label).or_default().1 += 1;
                    if unit_is_member || !m.members.is_empty() {
                        h.record = entered_json(&m);
                    }
                    if keyed_by_head {
                        h.blocking_key = blocking_key(&m.entered);
                    }
                    h.source_ref = Some(m.source_ref.to_string());
                    h.batch.clone_from(&batch);
                    if opts.keep_events {
                        events.push(Event::Held { seq: m.seq, hold: Box::new(h.clone()) });
                    }
                    keys.extend(m.dedupe);
                    if info.identify {
                        held_now.insert(crate::state::record_identity(h.record.as_str()));
                    }
                    if !opts.dry_run {
                        holds.push(h);
                    }
                }
            }
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        if holds.len() >= 64 {
            store.add_holds(std::mem::take(&mut holds))?;
            holds.clear();
        }
        if (keys.len() >= 256 || states.pending.len() >= 256) && !opts.dry_run {
            info.commit_keys(store.as_ref(), &mut keys, &mut states.pending)?;
        }
        if closing.len() >= 64 {
            close_holds(store.as_ref(), info, &mut closing, &held_now)?;
        }
        if let (Some(cursor), false) = (ends.commit.take(), opts.dry_run) {
            // Holds first: the cursor moves past a record only once its hold is on disk.
            store.add_holds(std::mem::take(&mut holds))?;
            holds.clear();
            // State values too: a record the cursor has moved past is never read again.
            if !states.pending.is_empty() {
                info.commit_keys(store.as_ref(), &mut keys, &mut states.pending)?;
            }
            store.set_cursor(&info.name, &info.source, &cursor)?;
        }
        if !ends.inbox_done.is_empty() && !opts.dry_run {
            // Holds first: a request is done only once its holds are on disk.
            store.add_holds(std::mem::take(&mut holds))?;
            holds.clear();
            info.commit_keys(store.as_ref(), &mut keys, &mut states.pending)?;
            store.inbox_done(&info.name, &ends.inbox_done)?;
            ends.inbox_done.clear();
        }
    }
    if !opts.dry_run {
        if !holds.is_empty() {
            store.add_holds(std::mem::take(&mut holds))?;
        }
        info.commit_keys(store.as_ref(), &mut keys, &mut states.pending)?;
        close_holds(store.as_ref(), info, &mut closing, &held_now)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok((summary, events, states.would_commit.into_values().collect()))
}

/// State values of ended records waiting for their commit. Records may end out of
/// input order (a delivery retried while a later one went through), so each key keeps
/// the value of the latest record in input order that ended with a commit, never an
/// earlier record's that ended after it.
#[derive(Default)]
struct States {
    pending: Vec<((u64, u32), StateWrite)>,
    /// Per state name and key, the place of the record whose value was last taken.
    latest: std::collections::HashMap<(String, String), (u64, u32)>,
    /// A dry run commits nothing and shows instead what it would leave, per name and key.
    dry_run: bool,
    would_commit: std::collections::BTreeMap<(String, String), StateWrite>,
}

impl States {
    fn ended(&mut self, writes: Vec<((u64, u32), StateWrite)>) {
        for (seq, w) in writes {
            let at = self.latest.entry((w.name.clone(), w.key.clone())).or_insert(seq);
            if *at > seq {
                continue;
            }
            *at = seq;
            if self.dry_run {
                self.would_commit.insert((w.name.clone(), w.key.clone()), w);
            } else {
                self.pending.push((seq, w));
            }
        }
    }
}

/// The identities of the records that ended with `unit`: its own, or its batch's.
fn identities(unit: &Unit) -> impl Iterator<Item = String> + '_ {
    let mut leaves = Vec::new();
    leaves_of(unit, &mut leaves);
    leaves.into_iter().filter_map(|u| u.identity.as_deref().map(str::to_string))
}

/// How many records end with `unit`: itself, or every record of its batch or group, down
/// to the records of the groups a batch is made of.
fn records_in(unit: &Unit) -> u64 {
    if unit.members.is_empty() {
        1
    } else {
        unit.members.iter().map(records_in).sum()
    }
}

/// The records that end with `unit`, in order (see `records_in`).
fn records_of(unit: Unit) -> Vec<Unit> {
    if unit.members.is_empty() {
        return vec![unit];
    }
    unit.members.into_iter().flat_map(records_of).collect()
}

fn leaves_of<'a>(unit: &'a Unit, out: &mut Vec<&'a Unit>) {
    if unit.members.is_empty() {
        out.push(unit);
    } else {
        unit.members.iter().for_each(|m| leaves_of(m, out));
    }
}

/// Ends the holds of records that a later run took to their end.
fn close_holds(
    store: &dyn StateStore,
    info: &FlowInfo,
    closing: &mut Vec<(String, String)>,
    held_now: &std::collections::HashSet<String>,
) -> Result<(), RuntimeError> {
    closing.retain(|(id, _)| !held_now.contains(id));
    if closing.is_empty() {
        return Ok(());
    }
    let n = store.end_holds(&info.name, closing, info.now)?;
    if n > 0 {
        tracing::info!(flow = %info.name, holds = n, "holds ended: their records went through in this run");
    }
    closing.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(key: &str, value: &str) -> StateWrite {
        StateWrite { name: "last".into(), key: key.into(), value: value.into() }
    }

    #[test]
    fn a_record_that_ends_late_never_overwrites_the_value_of_a_later_one() {
        let mut states = States::default();
        states.ended(vec![((3, 0), w("A", "10"))]);
        // Record 1 was retried and ends after record 3: its 8 is older than the 10.
        states.ended(vec![((1, 0), w("A", "8")), ((2, 0), w("B", "5"))]);
        states.ended(vec![((4, 0), w("A", "12"))]);
        let kept: Vec<(&str, &str)> = states.pending.iter().map(|(_, w)| (w.key.as_str(), w.value.as_str())).collect();
        assert_eq!(kept, [("A", "10"), ("B", "5"), ("A", "12")]);
    }

    #[test]
    fn a_dry_run_keeps_one_value_per_key_to_show() {
        let mut states = States { dry_run: true, ..States::default() };
        states.ended(vec![((1, 0), w("B", "5")), ((2, 0), w("A", "8")), ((3, 0), w("A", "10"))]);
        assert!(states.pending.is_empty(), "a dry run commits nothing");
        let shown: Vec<&str> = states.would_commit.values().map(|w| w.value.as_str()).collect();
        assert_eq!(shown, ["10", "5"]);
    }
}
