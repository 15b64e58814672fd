//! `group by key within d { ... }`: records with one key become one record, folded by
//! the stage's body. Like a batch, the group carries its records as members, so each of
//! them ends once, with the group's outcome: delivered with it, or held with its reason
//! and replayed with the whole group, never a part of it.
//!
//! Groups close when the run's input ends, or, with `within`, when the window opened by
//! the first record after the last close has lasted that long. They go on in the order
//! their keys first appeared.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use indexmap::IndexMap;
use tokio::sync::mpsc;

use super::batch::Regroup;
use super::eval::{arith, compile, Compiled, Frame, Shared};
use super::flow_info::{internal_error, FlowInfo};
use super::outcome::Msg;
use super::stage::Stop;
use super::unit::{Chunk, Unit, Units};
use crate::connectors::sink::body_json;
use crate::ir::{self, Aggregate, Slot};
use crate::syntax::ast::BinOp;
use crate::value::Value;

/// A `group` stage, compiled once before the first record.
pub(crate) struct GroupPlan {
    key: Compiled,
    within_ms: Option<u64>,
    key_slot: Slot,
    aggregates: Vec<(Aggregate, Option<Compiled>, Slot)>,
    body: Compiled,
    index: usize,
    /// `stage 3 group (line 12)`
    label: String,
    /// `stage 3 group`: what a hold names.
    name: String,
    line: usize,
}

impl GroupPlan {
    pub(crate) fn new(index: usize, st: &ir::Stage, g: &ir::Group) -> GroupPlan {
        let name = format!("stage {} {}", index + 1, st.kind.name());
        GroupPlan {
            key: compile(&g.key),
            within_ms: g.within_ms,
            key_slot: g.key_slot,
            aggregates: g.aggregates.iter().map(|(k, a, s)| (*k, a.as_ref().map(compile), *s)).collect(),
            body: compile(&g.body),
            index,
            label: format!("{name} (line {})", st.line),
            name,
            line: st.line,
        }
    }
}

/// What the group task shares with the rest of the run.
pub(crate) struct GroupCtx {
    pub shared: Arc<Shared>,
    pub info: Arc<FlowInfo>,
    pub ev: mpsc::Sender<Msg>,
    pub regroup: Regroup,
    /// Groups sent on, for the run's summary.
    pub groups: Arc<AtomicU64>,
}

pub(crate) async fn group_task(rx: mpsc::Receiver<Chunk>, tx: mpsc::Sender<Chunk>, plan: GroupPlan, ctx: GroupCtx) {
    let mut rx = Units::new(rx);
    // Groups by key, in the order their keys first appeared.
    let mut open: IndexMap<String, Vec<Unit>> = IndexMap::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, rx.recv()).await {
                Ok(n) => n,
                Err(_) => {
                    // The window is over: its groups close.
                    deadline = None;
                    if close(&mut open, &plan, &ctx, &tx).await.is_err() {
                        return;
                    }
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(unit) = next else { break };
        match key_of(&plan, &ctx, &unit) {
            Ok(key) => {
                if open.is_empty() {
                    deadline =
                        plan.within_ms.map(|ms| tokio::time::Instant::now() + std::time::Duration::from_millis(ms));
                }
                open.entry(key).or_default().push(unit);
            }
            Err(stop) => {
                let input = unit.record.clone();
                let hold = ctx.info.hold(&unit, &plan.name, plan.line, stop, &input);
                let msg = Msg::Held { unit, stage: Some((plan.index, plan.label.clone())), hold };
                if ctx.ev.send(msg).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = close(&mut open, &plan, &ctx, &tx).await;
}

/// The key a record is grouped by. In a replay, a record held with others (a group, or a
/// batch of groups) is grouped with those others only, by its key, so the groups are
/// formed again exactly as they were held. A replayed record held alone, before the
/// group, is held again: the records it would have been grouped with ended without it,
/// and a group of it alone would send a total of part of them as if it were the whole
/// (one bin's level as a location's stock).
fn key_of(plan: &GroupPlan, ctx: &GroupCtx, unit: &Unit) -> Result<String, Stop> {
    let replayed = match &ctx.regroup {
        Some(g) => match usize::try_from(unit.seq.0).ok().and_then(|n| g.get(n.checked_sub(1)?)) {
            Some(Some(n)) => Some(*n),
            _ => return Err(incomplete(plan)),
        },
        None => None,
    };
    let frame = Frame::new(unit.record.clone(), unit.slots.clone(), &ctx.shared);
    let step = catch_unwind(AssertUnwindSafe(|| (plan.key)(&frame)));
    let key = match step {
        Ok(Ok(v)) => body_json(&v).to_string(),
        Ok(Err(e)) => return Err(Stop::from_eval(e)),
        Err(panic) => return Err(internal_error(&plan.name, panic.as_ref())),
    };
    Ok(match replayed {
        Some(n) => format!("\u{0}replayed {n}\u{0}{key}"),
        None => key,
    })
}

/// Why a replayed record held before the group is held again.
fn incomplete(plan: &GroupPlan) -> Stop {
    Stop {
        code: "group_incomplete".into(),
        message: format!(
            "held before {}, the record is not replayed into a group of its own: its group went on without it; \
             discard the hold, and the record counts when the input brings it again with the others",
            plan.label
        ),
    }
}

/// Folds every open group and sends it on (or holds it), in the order of its key's first
/// appearance.
async fn close(
    open: &mut IndexMap<String, Vec<Unit>>,
    plan: &GroupPlan,
    ctx: &GroupCtx,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), ()> {
    for (_, members) in open.drain(..) {
        let key = match members.first() {
            Some(head) => {
                let frame = Frame::new(head.record.clone(), head.slots.clone(), &ctx.shared);
                (plan.key)(&frame).unwrap_or(Value::Null)
            }
            None => continue,
        };
        let folded = catch_unwind(AssertUnwindSafe(|| fold(plan, &ctx.shared, key, &members)));
        let mut unit = Unit::carrying(members);
        ctx.groups.fetch_add(1, Ordering::Relaxed);
        let result = match folded {
            Ok(r) => r,
            Err(panic) => Err(internal_error(&plan.name, panic.as_ref())),
        };
        match result {
            Ok((record, slots)) => {
                unit.record = record;
                unit.slots = slots;
                tx.send(vec![unit]).await.map_err(|_| ())?;
            }
            Err(stop) => {
                let input = unit.record.clone();
                let hold = ctx.info.hold(&unit, &plan.name, plan.line, stop, &input);
                let msg = Msg::Held { unit, stage: Some((plan.index, plan.label.clone())), hold };
                ctx.ev.send(msg).await.map_err(|_| ())?;
            }
        }
    }
    Ok(())
}

/// The group's record: the body built from the key and each aggregate folded over the
/// members, with the slots it was built in.
fn fold(plan: &GroupPlan, shared: &Shared, key: Value, members: &[Unit]) -> Result<(Value, Vec<Value>), Stop> {
    let head = &members[0];
    let out = Frame::new(Value::Null, head.slots.clone(), shared);
    out.set(plan.key_slot, key);
    for (kind, arg, slot) in &plan.aggregates {
        let mut values = Vec::with_capacity(members.len());
        if let Some(arg) = arg {
            for m in members {
                let frame = Frame::new(m.record.clone(), m.slots.clone(), shared);
                values.push(arg(&frame).map_err(Stop::from_eval)?);
            }
        }
        out.set(*slot, aggregate(*kind, values, members.len())?);
    }
    let record = (plan.body)(&out).map_err(Stop::from_eval)?;
    Ok((record, out.slots.into_inner()))
}

/// Folds the values of a group's records (`n` of them) as `kind` says.
fn aggregate(kind: Aggregate, values: Vec<Value>, n: usize) -> Result<Value, Stop> {
    let failed = |m: String| Stop { code: "expression_failed".into(), message: m };
    Ok(match kind {
        Aggregate::Count => Value::Int(i64::try_from(n).unwrap_or(i64::MAX)),
        Aggregate::Sum => {
            let mut it = values.into_iter();
            let first = it.next().unwrap_or(Value::Int(0));
            it.try_fold(first, |acc, v| arith(BinOp::Add, acc, v)).map_err(Stop::from_eval)?
        }
        Aggregate::First => values.into_iter().next().unwrap_or(Value::Null),
        Aggregate::Last => values.into_iter().next_back().unwrap_or(Value::Null),
        Aggregate::List => Value::list(values.into()),
        Aggregate::Min | Aggregate::Max => {
            let want = if kind == Aggregate::Min { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
            let mut it = values.into_iter();
            let mut best = it.next().unwrap_or(Value::Null);
            for v in it {
                match v.compare(&best) {
                    Some(o) if o == want => best = v,
                    Some(_) => {}
                    None => return Err(failed(format!("`{}` cannot compare {v:?} with {best:?}", kind.name()))),
                }
            }
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Plan;

    const FLOW: &str = r#"
type Level = { sku: String, location: String, qty: Int }
flow stock {
  source levels: stdin {} : Level
  group by record.location within 300ms {
    location: key
    qty: sum(record.qty)
  }
  sink out: stdout {}
}
"#;

    fn level(n: u64, location: &str, qty: i64) -> Unit {
        let v = Value::record(vec![
            ("sku".to_string(), Value::Str(format!("S{n}").into())),
            ("location".to_string(), Value::Str(location.into())),
            ("qty".to_string(), Value::Int(qty)),
        ]);
        Unit::entering(n, Arc::from(format!("in.ndjson:{n}")), v, None, 4, None)
    }

    #[tokio::test]
    async fn a_window_closes_its_groups_on_time_and_the_next_record_opens_another() {
        let program = crate::check_text("stock.flow", FLOW).ir().expect("the flow checks");
        let flow = &program.flows[0];
        let st = &flow.stages[0];
        let ir::StageKind::Group(g) = &st.kind else { panic!("a group stage") };
        let info = Arc::new(FlowInfo {
            name: "stock".into(),
            source: "levels".into(),
            version: "v1".into(),
            now: chrono::Utc::now(),
            decode: Plan::Build,
            in_flight: std::sync::Mutex::default(),
            assigned: std::sync::Mutex::default(),
            identify: false,
        });
        let shared = Arc::new(Shared {
            functions: Vec::new(),
            lookups: Vec::new(),
            ctx: Box::new(crate::builtins::testing::ctx()),
        });
        let (ev, _events) = mpsc::channel(16);
        let groups = Arc::new(AtomicU64::new(0));
        let ctx = GroupCtx { shared, info, ev, regroup: None, groups: groups.clone() };
        let (in_tx, in_rx) = mpsc::channel(4);
        let (out_tx, mut out_rx) = mpsc::channel(4);
        let task = tokio::spawn(group_task(in_rx, out_tx, GroupPlan::new(0, st, g), ctx));

        let start = tokio::time::Instant::now();
        in_tx.send(vec![level(1, "north", 1), level(2, "south", 2), level(3, "north", 3)]).await.unwrap();
        // Still open well inside the window.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(out_rx.try_recv().is_err(), "no group closes before its window ends");
        let mut closed = Vec::new();
        while closed.len() < 2 {
            closed.extend(out_rx.recv().await.expect("the window's groups"));
        }
        assert!(start.elapsed() >= std::time::Duration::from_millis(300), "{:?}", start.elapsed());
        let bodies: Vec<String> = closed.iter().map(|u| body_json(&u.record).to_string()).collect();
        assert_eq!(bodies, [r#"{"location":"north","qty":4}"#, r#"{"location":"south","qty":2}"#]);
        let members: Vec<usize> = closed.iter().map(|u| u.members.len()).collect();
        assert_eq!(members, [2, 1]);
        // A record after the close opens a new window; the end of input closes it at once.
        in_tx.send(vec![level(4, "north", 7)]).await.unwrap();
        drop(in_tx);
        let last = out_rx.recv().await.expect("the last group")[0].clone();
        assert_eq!(
            (body_json(&last.record).to_string(), last.members.len()),
            (r#"{"location":"north","qty":7}"#.into(), 1)
        );
        task.await.unwrap();
        assert_eq!(groups.load(Ordering::Relaxed), 3);
    }
}
