//! The stages task: consecutive stages run in one task, a record going through all of
//! them in turn with no channel or task switch between two stages.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::eval::Shared;
use super::flow_info::{internal_error, FlowInfo, KeyOf};
use super::outcome::Msg;
use super::stage::{self, Stage, StageCx, StageResult};
use super::unit::Chunk;
use crate::ir;
use crate::state::StateStore;

/// One stage as the task runs it, with what its messages name.
pub(crate) struct StageRt {
    stage: Box<dyn Stage>,
    index: usize,
    /// `stage 3 filter (line 12)`
    label: String,
    /// `stage 3 filter`: what a hold names.
    name: String,
    line: usize,
}

impl StageRt {
    pub fn new(index: usize, st: &ir::Stage) -> StageRt {
        let name = format!("stage {} {}", index + 1, st.kind.name());
        StageRt { stage: stage::build(st), index, label: format!("{name} (line {})", st.line), name, line: st.line }
    }
}

/// What every stages task shares.
pub(crate) struct StagesCtx {
    pub shared: Arc<Shared>,
    pub info: Arc<FlowInfo>,
    pub ev: mpsc::Sender<Msg>,
    pub store: Arc<dyn StateStore>,
}

pub(crate) async fn stages_task(
    stages: Vec<StageRt>,
    ctx: StagesCtx,
    mut rx: mpsc::Receiver<Chunk>,
    tx: mpsc::Sender<Chunk>,
) {
    let StagesCtx { shared, info, ev, store } = ctx;
    let cx = StageCx { shared: &shared, info: &info, store: store.as_ref() };
    let mut work = Vec::new();
    while let Some(chunk) = rx.recv().await {
        let mut out: Chunk = Vec::with_capacity(chunk.len());
        // Records still on their way through, with the stage each is at (a split adds
        // some); last in, first out, so pushed in reverse they go on in their order.
        work.extend(chunk.into_iter().rev().map(|u| (u, 0usize)));
        while let Some((mut unit, at)) = work.pop() {
            let Some(st) = stages.get(at) else {
                out.push(unit);
                continue;
            };
            let span = tracing::debug_span!(
                "record",
                flow = %info.name,
                stage = %st.label,
                key = %KeyOf(&unit.entered),
                source = %unit.source_ref
            );
            let result = {
                // Entered only around the stage's own (synchronous) work, never across an await.
                let _enter = span.enter();
                // A panic in a stage or a builtin holds the record it was working on, and
                // the run goes on: the record stays in `unit` whatever the stage did.
                let step = catch_unwind(AssertUnwindSafe(|| stage::apply(st.stage.as_ref(), &mut unit, &cx)));
                let result = match step {
                    Ok(step) => stage::conclude(step, unit),
                    Err(panic) => {
                        let stop = internal_error(&st.name, panic.as_ref());
                        let input = unit.record.clone();
                        StageResult::Held { stop, input, unit: Box::new(unit) }
                    }
                };
                tracing::debug!(
                    outcome = match &result {
                        StageResult::Continue(_) | StageResult::Split(_) => "continue",
                        StageResult::Filtered { .. } => "filtered",
                        StageResult::Held { .. } => "held",
                    },
                    "stage"
                );
                result
            };
            let msg = match result {
                StageResult::Continue(unit) => {
                    work.push((unit, at + 1));
                    continue;
                }
                StageResult::Split(units) => {
                    if units.len() > 1 {
                        let seq = units[0].seq.0;
                        let _ = ev.send(Msg::SplitExtra { seq, n: units.len() as u64 - 1 }).await;
                    }
                    // Last in, first out: pushed in reverse, they go on in their order.
                    work.extend(units.into_iter().rev().map(|u| (u, at + 1)));
                    continue;
                }
                StageResult::Filtered { why, unit, repeat: false } => {
                    Msg::filtered(*unit, Some((st.index, st.label.clone())), why, info.identify)
                }
                StageResult::Filtered { why, unit, repeat: true } => {
                    Msg::repeat(*unit, Some((st.index, st.label.clone())), why)
                }
                StageResult::Held { stop, input, unit } => {
                    let hold = info.hold(&unit, &st.name, st.line, stop, &input);
                    Msg::Held { unit: *unit, stage: Some((st.index, st.label.clone())), hold }
                }
            };
            if ev.send(msg).await.is_err() {
                return;
            }
        }
        if !out.is_empty() && tx.send(out).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::eval::Frame;
    use crate::runtime::stage::{Next, Outcome};
    use crate::runtime::unit::Unit;
    use crate::state::MemoryStore;
    use crate::value::{Plan, Value};

    /// A stage with a bug: it panics on the record with id 2.
    struct Buggy;

    impl Stage for Buggy {
        fn apply(&self, unit: &mut Unit, _: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
            if matches!(unit.record.field("id"), Some(Value::Int(2))) {
                panic!("index out of bounds: the len is 0 but the index is 3");
            }
            Ok(Next::Same)
        }
    }

    #[tokio::test]
    async fn a_panic_in_a_stage_holds_that_record_and_the_others_go_on() {
        let info = Arc::new(FlowInfo {
            name: "orders".into(),
            source: "in".into(),
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
        let (ev, mut events) = mpsc::channel(16);
        let (in_tx, in_rx) = mpsc::channel(4);
        let (out_tx, mut out_rx) = mpsc::channel(4);
        let stage = StageRt {
            stage: Box::new(Buggy),
            index: 0,
            label: "stage 1 map (line 3)".into(),
            name: "stage 1 map".into(),
            line: 3,
        };
        let ctx = StagesCtx { shared, info, ev, store: Arc::new(MemoryStore::new()) };
        let task = tokio::spawn(stages_task(vec![stage], ctx, in_rx, out_tx));
        let units = (1..=3)
            .map(|id| {
                let v = Value::record(vec![("id".to_string(), Value::Int(id))]);
                Unit::entering(id as u64, Arc::from(format!("in.ndjson:{id}")), v, None, 0, None)
            })
            .collect();
        in_tx.send(units).await.unwrap();
        drop(in_tx);
        task.await.expect("the stages task goes on after a panic");
        let went_on: Vec<u64> = out_rx.recv().await.unwrap().iter().map(|u| u.seq.0).collect();
        assert_eq!(went_on, vec![1, 3]);
        let Some(Msg::Held { unit, hold, .. }) = events.recv().await else { panic!("the record is held") };
        assert_eq!((unit.seq.0, hold.reason.as_str(), hold.stage.as_str()), (2, "internal_error", "stage 1 map"));
        assert!(hold.message.contains("index out of bounds"), "{}", hold.message);
        assert!(hold.record.as_str().contains("\"id\":2"), "{}", hold.record.as_str());
    }
}
