//! Running a flow: a source, a task for each run of stages between batches, a task for
//! each batch, a sinks task and a collector, joined by bounded channels. This file only
//! wires them; each has a module of its own.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::batch::{batch_task, sink_batch};
use super::collect::collect;
use super::deliver::sinks_task;
use super::enrich::{enrich_task, EnrichStage};
use super::env::prepare_env;
use super::eval::{compile_fn, Shared};
use super::flow_info::{panic_text, FlowInfo};
use super::group::{group_task, GroupCtx, GroupPlan};
use super::outcome::{Event, Msg, RunReport};
use super::sink::build_sinks;
use super::source::{self, Intake};
use super::stages::{stages_task, StageRt, StagesCtx};
use super::unit::{Chunk, CHANNEL};
use super::{lookups, RunContext, RunOptions, RuntimeError};
use crate::connectors::call::Recordings;
use crate::ir::{self, StageKind};
use crate::state::StateStore;
use crate::value::Plan;

/// Runs `flow` to the end of its input.
pub async fn run(
    program: &ir::Program,
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    opts: RunOptions,
) -> Result<RunReport, RuntimeError> {
    run_until(program, flow, store, opts, Arc::default()).await
}

/// Runs `flow` until its input ends or `stop` is set. Stopping ends intake: records
/// already read go on to their end (delivered, filtered or held), the rest stay unread
/// for the next run. A run whose records do not all add up to an end fails, whatever
/// else it did: that is a record lost, and it must not look like success.
pub async fn run_until(
    program: &ir::Program,
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    opts: RunOptions,
    stop: Arc<AtomicBool>,
) -> Result<RunReport, RuntimeError> {
    let env = prepare_env(program, flow, &opts)?;
    let mut shared = Shared {
        functions: program.functions.iter().map(compile_fn).collect(),
        lookups: Vec::new(),
        ctx: Box::new(RunContext { now: opts.now, env }),
    };
    let recordings = Arc::new(recordings(program, flow, &opts)?);
    let fetched =
        lookups::fetch_http(&program.lookups, &shared, opts.dry_run, &recordings).await.map_err(RuntimeError::Setup)?;
    let (tables, refreshes) =
        lookups::load_all(&program.lookups, &shared, fetched, opts.dry_run).map_err(RuntimeError::Setup)?;
    shared.lookups = tables;
    let shared = Arc::new(shared);
    let source = source::build(flow, &opts, &shared)?;
    let sinks = build_sinks(flow, &opts, &shared, &store)?;
    let sink_batch = sink_batch(flow, &shared)?;
    let info = Arc::new(FlowInfo {
        name: flow.name.clone(),
        source: flow.source.name.clone(),
        version: flow.version.clone(),
        now: opts.now.to_utc(),
        decode: Plan::for_type(&flow.source.ty, &ir::Demand::of_flow(program, flow)),
        in_flight: std::sync::Mutex::default(),
        assigned: std::sync::Mutex::default(),
        // A dry run ends no holds; a real one ends those of records it takes to their end.
        identify: !opts.dry_run && store.has_open_holds(&flow.name)?,
    });

    tracing::info!(flow = %flow.name, version = %flow.version, dry_run = opts.dry_run, "run starts");
    let retention = match (opts.retention, opts.dry_run) {
        (Some(keep), false) => Some(tokio::spawn(retain(store.clone(), keep))),
        _ => None,
    };
    let (ev_tx, ev_rx) = mpsc::channel::<Msg>(1024);
    let (src_tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL);
    let source = source.start(Intake {
        tx: src_tx,
        ev: ev_tx.clone(),
        info: info.clone(),
        store: store.clone(),
        shared: shared.clone(),
        stop,
        ty: flow.source.ty.clone(),
        slots: flow.slots as usize,
        stage: format!("source {}", flow.source.name),
        line: flow.file.line_col(flow.source.span.start).0,
    });

    let refreshing: Vec<JoinHandle<()>> = refreshes.into_iter().map(|r| tokio::spawn(lookups::refresh(r))).collect();
    // One task for each run of stages between batches and enrichments, one for each of those.
    let mut tasks: Vec<(String, JoinHandle<()>)> = Vec::new();
    let mut group: Vec<StageRt> = Vec::new();
    let groups_out = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ctx = || StagesCtx { shared: shared.clone(), info: info.clone(), ev: ev_tx.clone(), store: store.clone() };
    for (i, st) in flow.stages.iter().enumerate() {
        if let StageKind::Enrich(e) = &st.kind {
            if !group.is_empty() {
                let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
                tasks.push(("the stages".into(), tokio::spawn(stages_task(std::mem::take(&mut group), ctx(), rx, tx))));
                rx = next;
            }
            let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
            let stage = EnrichStage::new(i, st, e, &shared, &opts, &recordings)?;
            tasks.push((format!("stage {} enrich", i + 1), tokio::spawn(enrich_task(stage, ctx(), rx, tx))));
            rx = next;
        } else if let StageKind::Batch { size, max_wait_ms } = &st.kind {
            if !group.is_empty() {
                let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
                tasks.push(("the stages".into(), tokio::spawn(stages_task(std::mem::take(&mut group), ctx(), rx, tx))));
                rx = next;
            }
            let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
            let plan = (*size, *max_wait_ms, None);
            let task = tokio::spawn(batch_task(rx, tx, plan, opts.regroup.clone()));
            tasks.push((format!("stage {} batch", i + 1), task));
            rx = next;
        } else if let StageKind::Group(g) = &st.kind {
            if !group.is_empty() {
                let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
                tasks.push(("the stages".into(), tokio::spawn(stages_task(std::mem::take(&mut group), ctx(), rx, tx))));
                rx = next;
            }
            let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
            let gctx = GroupCtx {
                shared: shared.clone(),
                info: info.clone(),
                ev: ev_tx.clone(),
                regroup: opts.regroup.clone(),
                groups: groups_out.clone(),
            };
            let task = tokio::spawn(group_task(rx, tx, GroupPlan::new(i, st, g), gctx));
            tasks.push((format!("stage {} group", i + 1), task));
            rx = next;
        } else {
            group.push(StageRt::new(i, st));
        }
    }
    if !group.is_empty() {
        let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
        tasks.push(("the stages".into(), tokio::spawn(stages_task(group, ctx(), rx, tx))));
        rx = next;
    }
    if let Some(plan) = sink_batch {
        let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
        tasks.push(("the sinks' batch".into(), tokio::spawn(batch_task(rx, tx, plan, opts.regroup.clone()))));
        rx = next;
    }
    let sink_task = tokio::spawn(sinks_task(rx, sinks, shared.clone(), info.clone(), ev_tx.clone()));
    drop(ev_tx);
    let collected = collect(ev_rx, store, &opts, &info).await;
    let records_in = joined("the source", source.await)??;
    for (what, t) in tasks {
        joined(&what, t.await)?;
    }
    joined("the sinks", sink_task.await)??;
    let (mut summary, mut events, state) = collected?;
    summary.records_in = records_in;
    summary.groups = groups_out.load(std::sync::atomic::Ordering::Relaxed);
    summary.flow = flow.name.clone();
    summary.version = flow.version.clone();
    summary.dry_run = opts.dry_run;
    events.sort_by_key(Event::seq);
    tracing::info!(
        flow = %summary.flow,
        records_in = summary.records_in,
        delivered = summary.delivered,
        filtered = summary.filtered,
        held = summary.held,
        "run ends"
    );
    if let Some(task) = retention {
        task.abort();
    }
    for task in refreshing {
        task.abort();
    }
    if !summary.balanced() {
        return Err(RuntimeError::Unbalanced(Box::new(summary)));
    }
    Ok(RunReport { summary, events, state })
}

/// A dry run's recorded answers to `enrich` calls and HTTP lookups: none without
/// `responses`, so that each call says what to record.
fn recordings(program: &ir::Program, flow: &ir::Flow, opts: &RunOptions) -> Result<Recordings, RuntimeError> {
    let enriches = flow.stages.iter().any(|s| matches!(s.kind, StageKind::Enrich(_)))
        || program.lookups.iter().any(|l| matches!(l.data, ir::LookupData::Http(_)));
    match &opts.responses {
        Some(dir) if opts.dry_run && enriches && dir.is_dir() => Recordings::load(dir).map_err(RuntimeError::Setup),
        Some(dir) => Ok(Recordings::expecting(dir)),
        None => Ok(Recordings::default()),
    }
}

/// A task's result, or the error its panic (or cancelling) is.
fn joined<T>(what: &str, result: Result<T, tokio::task::JoinError>) -> Result<T, RuntimeError> {
    result.map_err(|e| {
        let why = if e.is_panic() { panic_text(e.into_panic().as_ref()) } else { e.to_string() };
        RuntimeError::Internal(format!("{what} failed inside flowgate: {why} (please report this)"))
    })
}

/// How often a long run applies its retention again.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Applies the retention period now and every hour while the run lasts: a webhook flow
/// runs for weeks, and what it keeps must not outlive the period.
async fn retain(store: Arc<dyn StateStore>, keep: chrono::Duration) {
    loop {
        let purge = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.purge(chrono::Utc::now() - keep)).await
        };
        match purge {
            Ok(Ok(p)) if p != crate::state::Purged::default() => tracing::info!(
                holds = p.holds,
                webhook_requests = p.inbox,
                deliveries = p.deliveries,
                "retention: payloads past the retention period removed"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "retention: could not purge"),
            _ => {}
        }
        tokio::time::sleep(RETENTION_EVERY).await;
    }
}
