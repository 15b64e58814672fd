//! The pipeline: a source thread, a task per stage, a sinks task and a collector,
//! joined by bounded channels.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::eval::{compile, compile_fn, truthy, Compiled, Frame, Shared};
use super::metrics;
use super::stage::{compile_stage, run_stage, CompiledStage, DedupeView, StageResult, Stop, Unit};
use super::summary::Summary;
use super::{lookups, RunContext, RunOptions, RuntimeError};
use crate::connectors::http::{Dispatcher, HttpTarget, Outcome, RateLimiter, RetryPolicy};
use crate::connectors::sink::{body_json, csv_line};
use crate::connectors::source::expand;
use crate::connectors::{read_inputs, Delivery, Format, Incoming, RawText, SinkPlan};
use crate::ir::{self, ExprKind, StageKind};
use crate::state::{JsonText, NewHold, StateStore};
use crate::value::{DecodeError, Plan, Value};

/// Chunks of records waiting between two tasks. Small: memory stays flat, and a stop
/// drains fast.
const CHANNEL: usize = 4;

/// Most records a file source sends on at once. Records travel between tasks in chunks,
/// so a task wakes once for many records rather than once for each: on a busy core the
/// wake-ups otherwise cost more than the work. Small, because a record is worked on
/// fastest while its decoded form is still in the cache: chunks of 32 ran the order
/// benchmark 20% slower than chunks of 8 (4 was no faster).
const CHUNK: usize = 8;

/// Records travelling together from one task to the next, in input order.
type Chunk = Vec<Unit>;

/// One record's end, as the collector hears of it.
#[derive(Clone, Debug)]
pub enum Event {
    Delivered { seq: (u64, u32), source_ref: Arc<str>, sink: String, delivery: Delivery },
    Filtered { seq: (u64, u32), source_ref: Arc<str>, stage: String, why: String },
    Held { seq: (u64, u32), hold: Box<NewHold> },
}

impl Event {
    pub fn seq(&self) -> (u64, u32) {
        match self {
            Event::Delivered { seq, .. } | Event::Filtered { seq, .. } | Event::Held { seq, .. } => *seq,
        }
    }
}

/// What a run did: the summary, and (when kept) every event in input order.
#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    pub events: Vec<Event>,
}

enum Msg {
    Delivered {
        unit: Unit,
        deliveries: Vec<(String, Delivery)>,
    },
    Filtered {
        unit: Unit,
        stage: Option<(usize, String)>,
        why: String,
    },
    Held {
        unit: Unit,
        stage: Option<(usize, String)>,
        hold: Box<NewHold>,
    },
    /// A record of input `seq` became `n` more records (split).
    SplitExtra {
        seq: u64,
        n: u64,
    },
}

/// Facts about the flow every task needs to make a hold.
struct FlowInfo {
    name: String,
    /// The source's name, for its cursor.
    source: String,
    version: String,
    now: DateTime<Utc>,
    /// What of each input record to build: the fields the flow may read.
    decode: Plan,
    /// Dedupe keys taken by records not yet at their end: a duplicate arriving while the
    /// first is on its way is caught here, since the store learns a key only once its
    /// record ended. The collector removes keys as it commits them, so this stays as
    /// small as the records in flight however long the run (a dry run commits nothing).
    in_flight: std::sync::Mutex<HashSet<String>>,
}

impl Unit {
    /// A record as it enters the flow: input number `n`, nothing carried yet.
    fn entering(
        n: u64,
        source_ref: Arc<str>,
        value: Value,
        raw: Option<RawText>,
        slots: usize,
        cursor: Option<Arc<str>>,
    ) -> Unit {
        Unit {
            seq: (n, 0),
            source_ref,
            entered: Arc::new(value.clone()),
            raw,
            record: value,
            slots: vec![Value::Null; slots],
            dedupe: Vec::new(),
            members: Vec::new(),
            cursor,
        }
    }
}

impl Unit {
    /// What the collector needs of a record delivered or filtered: its place in the
    /// input and what it leaves behind (dedupe keys, cursor), not its data. Messages to the
    /// collector then stay small however far it falls behind.
    fn at_end(self) -> Unit {
        static NOTHING: std::sync::LazyLock<Arc<Value>> = std::sync::LazyLock::new(|| Arc::new(Value::Null));
        Unit {
            seq: self.seq,
            source_ref: self.source_ref,
            entered: NOTHING.clone(),
            raw: None,
            record: Value::Null,
            slots: Vec::new(),
            dedupe: self.dedupe,
            members: self.members.into_iter().map(Unit::at_end).collect(),
            cursor: self.cursor,
        }
    }
}

impl Msg {
    fn delivered(unit: Unit, deliveries: Vec<(String, Delivery)>) -> Msg {
        Msg::Delivered { unit: unit.at_end(), deliveries }
    }

    fn filtered(unit: Unit, stage: Option<(usize, String)>, why: String) -> Msg {
        Msg::Filtered { unit: unit.at_end(), stage, why }
    }
}

impl FlowInfo {
    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set stays whole if a holder panicked: it is only ever added to or removed from.
        self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits the dedupe keys of records that ended; they are then the store's to know.
    fn commit_keys(
        &self,
        store: &dyn StateStore,
        keys: &mut Vec<(String, Option<DateTime<Utc>>)>,
    ) -> Result<(), RuntimeError> {
        if keys.is_empty() {
            return Ok(());
        }
        store.dedupe_commit(&self.name, keys, self.now)?;
        let mut in_flight = self.in_flight();
        for (k, _) in keys.drain(..) {
            in_flight.remove(&k);
        }
        Ok(())
    }

    /// Input that could not become a record, held with its raw form kept exactly.
    fn bad_input(
        &self,
        n: u64,
        source_ref: Arc<str>,
        raw: serde_json::Value,
        error: &DecodeError,
        stage: &str,
        line: usize,
    ) -> Msg {
        let entered = crate::value::decode_json_value(&raw, &crate::types::Type::Json).unwrap_or(Value::Null);
        let unit = Unit::entering(n, source_ref, entered.clone(), None, 0, None);
        let stop = Stop { code: error.reason().to_string(), message: error.to_string() };
        let mut hold = self.hold(&unit, stage, line, stop, &entered);
        hold.record = JsonText::from(&raw);
        hold.stage_input = hold.record.clone();
        Msg::Held { unit, stage: None, hold }
    }

    fn hold(&self, unit: &Unit, stage: &str, line: usize, stop: Stop, input: &Value) -> Box<NewHold> {
        let record = entered_json(unit);
        // Before any map or split the stage's input is the record as it entered.
        let stage_input = if is_entered(unit, input) { record.clone() } else { JsonText::from(body_json(input)) };
        Box::new(NewHold {
            flow: self.name.clone(),
            flow_version: self.version.clone(),
            stage: stage.to_string(),
            stage_line: u32::try_from(line).unwrap_or(0),
            reason: stop.code,
            message: stop.message,
            blocking_key: blocking_key(&unit.entered),
            record,
            stage_input,
            attempts: 1,
            source_ref: Some(unit.source_ref.to_string()),
            created_at: self.now,
        })
    }
}

/// The record as it entered the flow, as a hold keeps it: its JSON text as it arrived
/// (every field, in the sender's order, at any depth) when the source kept it. A source
/// keeps the text only of a record it decoded, so the text is known to be JSON.
fn entered_json(unit: &Unit) -> JsonText {
    match &unit.raw {
        Some(raw) => JsonText::read_as_json(raw.bytes()),
        None => JsonText::from(body_json(&unit.entered)),
    }
}

/// Whether `v` is the record the unit entered the flow as (not yet mapped or split).
fn is_entered(unit: &Unit, v: &Value) -> bool {
    match (v, &*unit.entered) {
        (Value::Record(a), Value::Record(b)) => crate::value::Record::same(a, b),
        _ => false,
    }
}

/// The key an operator searches by: the order name or number, else an id or SKU.
fn blocking_key(v: &Value) -> Option<String> {
    ir::KEY_FIELDS.iter().find_map(|k| {
        v.field(k).filter(|x| !x.is_null() && !matches!(x, Value::Record(_) | Value::List(_))).map(|x| x.to_string())
    })
}

/// A record's blocking key in a log line, worked out only when a line shows it. With no
/// tracing subscriber set, `tracing` hands every span's fields to the `log` crate, which
/// drops them unless a logger wants them: a key computed up front was computed for every
/// record at every stage, for nothing.
struct KeyOf<'a>(&'a Value);

impl std::fmt::Display for KeyOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(blocking_key(self.0).as_deref().unwrap_or("-"))
    }
}

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
/// for the next run.
pub async fn run_until(
    program: &ir::Program,
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    opts: RunOptions,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<RunReport, RuntimeError> {
    let env = prepare_env(program, flow, &opts)?;
    let mut shared = Shared {
        functions: program.functions.iter().map(compile_fn).collect(),
        lookups: Vec::new(),
        ctx: Box::new(RunContext { now: opts.now, env }),
    };
    shared.lookups = lookups::load(&program.lookups, &shared).map_err(RuntimeError::Setup)?;
    let shared = Arc::new(shared);
    let sinks = build_sinks(flow, &opts, &shared, &store)?;
    let info = Arc::new(FlowInfo {
        name: flow.name.clone(),
        source: flow.source.name.clone(),
        version: flow.version.clone(),
        now: opts.now.to_utc(),
        decode: Plan::for_type(&flow.source.ty, &ir::Demand::of_flow(program, flow)),
        in_flight: std::sync::Mutex::default(),
    });

    tracing::info!(flow = %flow.name, version = %flow.version, dry_run = opts.dry_run, "run starts");
    let (ev_tx, ev_rx) = mpsc::channel::<Msg>(1024);
    let (src_tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL);
    let source = if flow.source.kind == "webhook" && opts.inputs.is_none() && !opts.dry_run {
        spawn_inbox_source(flow, store.clone(), src_tx, ev_tx.clone(), info.clone(), stop, shared.clone())
    } else if flow.source.kind == "http.poll" && opts.inputs.is_none() && !opts.dry_run {
        spawn_poll_source(flow, store.clone(), src_tx, ev_tx.clone(), info.clone(), stop, shared.clone())?
    } else {
        let (paths, format) = inputs(flow, &opts)?;
        let input = Inputs { paths, format, display_root: opts.display_root.clone() };
        spawn_source(flow, input, src_tx, ev_tx.clone(), info.clone(), stop)
    };

    // One task for each run of stages between batches, one for each batch.
    let mut tasks = Vec::new();
    let mut group: Vec<StageRt> = Vec::new();
    for (i, st) in flow.stages.iter().enumerate() {
        if let StageKind::Batch { size, max_wait_ms } = &st.kind {
            if !group.is_empty() {
                let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
                let ctx =
                    StagesCtx { shared: shared.clone(), info: info.clone(), ev: ev_tx.clone(), store: store.clone() };
                tasks.push(tokio::spawn(stages_task(std::mem::take(&mut group), ctx, rx, tx)));
                rx = next;
            }
            let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
            tasks.push(tokio::spawn(batch_task(rx, tx, *size, *max_wait_ms, None)));
            rx = next;
        } else {
            group.push(StageRt::new(i, st));
        }
    }
    if !group.is_empty() {
        let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
        let ctx = StagesCtx { shared: shared.clone(), info: info.clone(), ev: ev_tx.clone(), store: store.clone() };
        tasks.push(tokio::spawn(stages_task(group, ctx, rx, tx)));
        rx = next;
    }
    if let Some((size, max_wait_ms, max_bytes)) = sink_batch(flow, &shared)? {
        let (tx, next) = mpsc::channel::<Chunk>(CHANNEL);
        tasks.push(tokio::spawn(batch_task(rx, tx, size, max_wait_ms, max_bytes)));
        rx = next;
    }
    let sink_task = tokio::spawn(sinks_task(rx, sinks, shared.clone(), info.clone(), ev_tx.clone()));
    drop(ev_tx);
    let collected = collect(ev_rx, store, &opts, &info).await;
    let records_in = source.await.map_err(|e| RuntimeError::Input(e.to_string()))??;
    for t in tasks {
        let _ = t.await;
    }
    sink_task.await.map_err(|e| RuntimeError::Output(e.to_string()))??;
    let (mut summary, mut events) = collected?;
    summary.records_in = records_in;
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
    Ok(RunReport { summary, events })
}

/// The environment the run reads. A real run refuses to start when a variable the flow
/// names is missing; a dry run fills it with a visible placeholder.
fn prepare_env(
    program: &ir::Program,
    flow: &ir::Flow,
    opts: &RunOptions,
) -> Result<std::collections::HashMap<String, String>, RuntimeError> {
    let mut names = Vec::new();
    let mut visit = |e: &ir::Expr| collect_env_names(e, &mut names);
    for f in &program.functions {
        visit(&f.body);
    }
    for (_, e) in flow.source.options.iter().chain(flow.sinks.iter().flat_map(|s| s.options.iter())) {
        visit(e);
    }
    for s in &flow.stages {
        each_stage_expr(&s.kind, &mut visit);
    }
    let mut env = opts.env.clone();
    let mut missing: Vec<String> = names.into_iter().filter(|n| !env.contains_key(n)).collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(env);
    }
    if !opts.dry_run {
        return Err(RuntimeError::MissingEnv(missing));
    }
    for m in missing {
        let placeholder = format!("<{m}>");
        env.insert(m, placeholder);
    }
    Ok(env)
}

fn each_stage_expr(k: &StageKind, f: &mut dyn FnMut(&ir::Expr)) {
    match k {
        StageKind::Filter(e) | StageKind::Split(e) | StageKind::Map(e) => f(e),
        StageKind::Dedupe { key, .. } => f(key),
        StageKind::Validate(rules) => rules.iter().for_each(|r| f(&r.cond)),
        StageKind::Let { value, .. } => f(value),
        StageKind::HoldWhen { cond, .. } => f(cond),
        StageKind::Batch { .. } => {}
    }
}

/// Names passed as literals to `env()` and `secret()` anywhere in an expression.
fn collect_env_names(e: &ir::Expr, out: &mut Vec<String>) {
    if let ExprKind::Builtin { builtin, args, .. } = &e.kind {
        if matches!(builtin.name, "env" | "secret") {
            if let Some(ExprKind::Concat(parts)) = args.first().map(|a| &a.kind) {
                if let [ir::StrPart::Text(t)] = parts.as_slice() {
                    out.push(t.clone());
                }
            }
        }
    }
    match &e.kind {
        ExprKind::Concat(parts) => parts.iter().for_each(|p| {
            if let ir::StrPart::Value(v) = p {
                collect_env_names(v, out)
            }
        }),
        ExprKind::Field { base, .. } => collect_env_names(base, out),
        ExprKind::Index { base, index, .. } => {
            collect_env_names(base, out);
            collect_env_names(index, out)
        }
        ExprKind::Lookup { key, .. } => collect_env_names(key, out),
        ExprKind::Builtin { args, .. } | ExprKind::CallFn { args, .. } | ExprKind::List(args) => {
            args.iter().for_each(|a| collect_env_names(a, out))
        }
        ExprKind::Unary(_, x) => collect_env_names(x, out),
        ExprKind::Binary(_, a, b) => {
            collect_env_names(a, out);
            collect_env_names(b, out)
        }
        ExprKind::Lambda { body, .. } => collect_env_names(body, out),
        ExprKind::If { cond, then, otherwise } => {
            collect_env_names(cond, out);
            collect_env_names(then, out);
            collect_env_names(otherwise, out)
        }
        ExprKind::Match { scrutinee, arms } => {
            collect_env_names(scrutinee, out);
            arms.iter().for_each(|(_, b)| collect_env_names(b, out))
        }
        ExprKind::MakeRecord { spreads, fields } => {
            spreads.iter().for_each(|s| collect_env_names(s, out));
            fields.iter().for_each(|(_, v)| collect_env_names(v, out))
        }
        ExprKind::Hold(h) => {
            if let Some(m) = &h.message {
                collect_env_names(m, out)
            }
        }
        _ => {}
    }
}

/// A source's options that do not depend on a record (`path`, `secret`, ...), evaluated
/// with the run's environment: what a connector outside the pipeline needs to start.
pub fn source_options(
    program: &ir::Program,
    flow: &ir::Flow,
    opts: &RunOptions,
) -> Result<Vec<(String, Value)>, RuntimeError> {
    let env = prepare_env(program, flow, opts)?;
    let shared = Shared {
        functions: program.functions.iter().map(compile_fn).collect(),
        lookups: Vec::new(),
        ctx: Box::new(RunContext { now: opts.now, env }),
    };
    let frame = Frame::new(Value::Null, Vec::new(), &shared);
    let mut out = Vec::new();
    for (name, e) in &flow.source.options {
        // Per-record options (a cursor, a dedupe key) have no value before a record.
        if let Ok(v) = compile(e)(&frame) {
            out.push((name.clone(), v));
        }
    }
    Ok(out)
}

/// A constant option (`path: "orders/*.json"`), if it is one.
fn const_str(e: &ir::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Concat(parts) => match parts.as_slice() {
            [ir::StrPart::Text(t)] => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn option<'a>(c: &'a ir::Connector, name: &str) -> Option<&'a ir::Expr> {
    c.options.iter().find(|(n, _)| n == name).map(|(_, e)| e)
}

/// The files to read: `--input`, else the file source's own path, else stdin.
fn inputs(flow: &ir::Flow, opts: &RunOptions) -> Result<(Vec<PathBuf>, Option<Format>), RuntimeError> {
    let src = &flow.source;
    let format = option(src, "format").and_then(const_str).and_then(|f| Format::parse(&f));
    let patterns: Vec<String> = match (&opts.inputs, src.kind.as_str()) {
        (Some(inputs), _) => inputs.clone(),
        (None, "file") => vec![option(src, "path")
            .and_then(const_str)
            .ok_or_else(|| RuntimeError::Setup("the file source's `path` must be a plain string".into()))?],
        (None, "stdin") => vec!["-".into()],
        (None, kind) => {
            return Err(RuntimeError::Setup(format!(
                "the `{kind}` source `{}` reads from the network; give recorded payloads with --input FILE...",
                src.name
            )))
        }
    };
    let base = if opts.inputs.is_some() { PathBuf::from(".") } else { opts.base_dir.clone() };
    let paths = expand(&patterns, &base).map_err(RuntimeError::Input)?;
    Ok((paths, format))
}

/// The files a file or stdin source reads, and how their names are shown.
struct Inputs {
    paths: Vec<PathBuf>,
    format: Option<Format>,
    display_root: Option<PathBuf>,
}

fn spawn_source(
    flow: &ir::Flow,
    input: Inputs,
    tx: mpsc::Sender<Chunk>,
    ev: mpsc::Sender<Msg>,
    info: Arc<FlowInfo>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Result<u64, RuntimeError>> {
    let Inputs { paths, format, display_root } = input;
    let ty = flow.source.ty.clone();
    let slots = flow.slots as usize;
    let line = flow.file.line_col(flow.source.span.start).0;
    let stage_name = format!("source {}", flow.source.name);
    let root = display_root;
    tokio::task::spawn_blocking(move || {
        let mut n: u64 = 0;
        let display = |p: &Path| match root.as_ref().and_then(|r| p.strip_prefix(r).ok()) {
            Some(rel) => rel.display().to_string(),
            None => crate::modules::display_path(p),
        };
        // Stdin may be a live stream: each record goes on as soon as it is read.
        let chunk_len = if paths.iter().any(|p| p.as_os_str() == "-") { 1 } else { CHUNK };
        let mut chunk: Chunk = Vec::with_capacity(chunk_len);
        let mut open = true;
        read_inputs(&paths, format, &ty, &info.decode, &display, &mut |item| {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return false;
            }
            n += 1;
            metrics::add("records_in", &info.name, "", 1);
            match item {
                Incoming::Record { source_ref, value, raw } => {
                    chunk.push(Unit::entering(n, Arc::from(source_ref.as_str()), value, raw, slots, None));
                    if chunk.len() >= chunk_len {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_len));
                        open = tx.blocking_send(full).is_ok();
                    }
                    open
                }
                Incoming::Bad { source_ref, raw, error } => {
                    let msg = info.bad_input(n, Arc::from(source_ref.as_str()), raw, &error, &stage_name, line);
                    ev.blocking_send(msg).is_ok()
                }
            }
        })
        .map_err(RuntimeError::Input)?;
        if open && !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
        Ok(n)
    })
}

/// One stage as a stages task runs it, with what its messages name.
struct StageRt {
    stage: CompiledStage,
    index: usize,
    /// `stage 3 filter (line 12)`
    label: String,
    line: usize,
}

impl StageRt {
    fn new(index: usize, st: &ir::Stage) -> StageRt {
        StageRt {
            stage: compile_stage(st),
            index,
            label: format!("stage {} {} (line {})", index + 1, st.kind.name(), st.line),
            line: st.line,
        }
    }
}

/// What every stages task shares.
struct StagesCtx {
    shared: Arc<Shared>,
    info: Arc<FlowInfo>,
    ev: mpsc::Sender<Msg>,
    store: Arc<dyn StateStore>,
}

/// Runs consecutive stages in one task: a record goes through all of them in turn, with
/// no channel or task switch between two stages.
async fn stages_task(mut stages: Vec<StageRt>, ctx: StagesCtx, mut rx: mpsc::Receiver<Chunk>, tx: mpsc::Sender<Chunk>) {
    let StagesCtx { shared, info, ev, store } = ctx;
    let mut work = Vec::new();
    while let Some(chunk) = rx.recv().await {
        let mut out: Chunk = Vec::with_capacity(chunk.len());
        // Records still on their way through, with the stage each is at (a split adds
        // some); last in, first out, so pushed in reverse they go on in their order.
        work.extend(chunk.into_iter().rev().map(|u| (u, 0usize)));
        while let Some((unit, at)) = work.pop() {
            let Some(st) = stages.get_mut(at) else {
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
                let result = if matches!(st.stage, CompiledStage::Dedupe { .. }) {
                    let seen_before = |key: &str| store.dedupe_seen(&info.name, key, info.now).unwrap_or(false);
                    let mut in_flight = info.in_flight();
                    let view = DedupeView { in_flight: &mut in_flight, seen_before: &seen_before, now: info.now };
                    run_stage(&st.stage, unit, &shared, Some(view))
                } else {
                    run_stage(&st.stage, unit, &shared, None)
                };
                tracing::debug!(
                    outcome = match &result {
                        StageResult::Continue(_) | StageResult::Split(_) => "continue",
                        StageResult::Filtered(..) => "filtered",
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
                StageResult::Filtered(why, unit) => Msg::filtered(*unit, Some((st.index, st.label.clone())), why),
                StageResult::Held { stop, input, unit } => {
                    let name = st.label.split(" (").next().unwrap_or("");
                    let hold = info.hold(&unit, name, st.line, stop, &input);
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

/// The receiving end of a chunk channel, one record at a time.
struct Units {
    rx: mpsc::Receiver<Chunk>,
    pending: std::vec::IntoIter<Unit>,
}

impl Units {
    fn new(rx: mpsc::Receiver<Chunk>) -> Units {
        Units { rx, pending: Vec::new().into_iter() }
    }

    /// The next record; `None` once the channel is closed and drained. Cancel-safe: a
    /// chunk is taken whole or not at all.
    async fn recv(&mut self) -> Option<Unit> {
        loop {
            if let Some(u) = self.pending.next() {
                return Some(u);
            }
            self.pending = self.rx.recv().await?.into_iter();
        }
    }
}

async fn batch_task(
    rx: mpsc::Receiver<Chunk>,
    tx: mpsc::Sender<Chunk>,
    size: u64,
    max_wait_ms: Option<u64>,
    max_bytes: Option<usize>,
) {
    let mut rx = Units::new(rx);
    let size = usize::try_from(size.max(1)).unwrap_or(usize::MAX);
    let mut open = true;
    let mut pending_first: Option<Unit> = None;
    while open || pending_first.is_some() {
        let first = match pending_first.take() {
            Some(u) => u,
            None => match rx.recv().await {
                Some(u) => u,
                None => break,
            },
        };
        let body_len = |u: &Unit| body_json(&u.record).to_string().len() + 1;
        let mut bytes = max_bytes.map_or(0, |_| body_len(&first));
        let mut batch = vec![first];
        let deadline = max_wait_ms.map(|ms| tokio::time::Instant::now() + std::time::Duration::from_millis(ms));
        let mut carry: Option<Unit> = None;
        while batch.len() < size {
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d, rx.recv()).await {
                    Ok(n) => n,
                    Err(_) => break,
                },
                None => rx.recv().await,
            };
            match next {
                Some(u) => {
                    if let Some(limit) = max_bytes {
                        let len = body_len(&u);
                        if bytes + len > limit {
                            // Too big to join this batch: it opens the next one.
                            carry = Some(u);
                            break;
                        }
                        bytes += len;
                    }
                    batch.push(u)
                }
                None => {
                    open = false;
                    break;
                }
            }
        }
        let records: Vec<Value> = batch.iter().map(|u| u.record.clone()).collect();
        let head = &batch[0];
        let last = batch.last().map_or("", |u| &u.source_ref);
        let source_ref: Arc<str> = match batch.len() {
            1 => head.source_ref.clone(),
            n if *head.source_ref == *last => Arc::from(format!("{} ({n} records)", head.source_ref)),
            n => Arc::from(format!("{} .. {last} ({n} records)", head.source_ref)),
        };
        let unit = Unit {
            seq: head.seq,
            source_ref,
            entered: head.entered.clone(),
            raw: head.raw.clone(),
            record: Value::list(records.into()),
            slots: head.slots.clone(),
            dedupe: batch.iter().flat_map(|u| u.dedupe.clone()).collect(),
            cursor: None,
            members: batch,
        };
        if tx.send(vec![unit]).await.is_err() {
            return;
        }
        if let Some(u) = carry {
            pending_first = Some(u);
        }
    }
}

/// A sink ready to render and write records.
struct SinkRt {
    name: String,
    plan: SinkPlan,
    url: Option<Compiled>,
    headers: Option<Compiled>,
    idempotency_key: Option<Compiled>,
    ordered_by: Option<Compiled>,
    body: Option<Compiled>,
    when: Option<Compiled>,
    /// For an HTTP sink in a real run: the workers that send.
    dispatcher: Option<Dispatcher>,
    writer: Option<Box<dyn Write + Send>>,
    /// NDJSON straight from the record to the file: nothing needs the delivery's body.
    direct: bool,
    /// The line being written, reused from record to record.
    line: Vec<u8>,
    written: u64,
    /// A CSV file that already has its header line.
    header_written: bool,
}

fn build_sinks(
    flow: &ir::Flow,
    opts: &RunOptions,
    shared: &Shared,
    store: &Arc<dyn StateStore>,
) -> Result<Vec<SinkRt>, RuntimeError> {
    flow.sinks.iter().map(|s| build_sink(flow, s, opts, shared, store)).collect()
}

/// Size, longest wait (ms) and most bytes of a batch.
type BatchPlan = (u64, Option<u64>, Option<usize>);

/// A sink's own `batch: { size, max_wait, max_bytes }`: a batch step just before the
/// sinks. Batching changes the record the sinks receive, so it is for a flow's only sink.
fn sink_batch(flow: &ir::Flow, shared: &Shared) -> Result<Option<BatchPlan>, RuntimeError> {
    let batching: Vec<&ir::Connector> = flow.sinks.iter().filter(|s| option(s, "batch").is_some()).collect();
    let Some(s) = batching.first() else { return Ok(None) };
    if flow.sinks.len() > 1 {
        return Err(RuntimeError::Setup(format!(
            "sink `{}` batches, but the flow has other sinks; put a `batch {{ ... }}` stage before the sinks instead",
            s.name
        )));
    }
    let v = static_option(s, "batch", shared)?.unwrap_or(Value::Null);
    let int = |n: &str| match v.field(n) {
        Some(Value::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    };
    let wait = match v.field("max_wait") {
        Some(Value::Duration(ms)) => Some(*ms),
        _ => None,
    };
    Ok(Some((int("size").unwrap_or(1), wait, int("max_bytes").and_then(|b| usize::try_from(b).ok()))))
}

/// A sink option that does not depend on the record, evaluated once.
fn static_option(s: &ir::Connector, name: &str, shared: &Shared) -> Result<Option<Value>, RuntimeError> {
    let Some(e) = option(s, name) else { return Ok(None) };
    let frame = Frame::new(Value::Null, Vec::new(), shared);
    compile(e)(&frame)
        .map(Some)
        .map_err(|e| RuntimeError::Setup(format!("sink `{}` option `{name}`: {}", s.name, Stop::from_eval(e).message)))
}

fn millis(v: Option<Value>) -> Option<std::time::Duration> {
    match v {
        Some(Value::Duration(ms)) => Some(std::time::Duration::from_millis(ms)),
        _ => None,
    }
}

fn build_dispatcher(
    flow: &ir::Flow,
    s: &ir::Connector,
    shared: &Shared,
    store: &Arc<dyn StateStore>,
) -> Result<Dispatcher, RuntimeError> {
    let client = HttpTarget::client(
        millis(static_option(s, "timeout", shared)?),
        millis(static_option(s, "connect_timeout", shared)?),
    )
    .map_err(RuntimeError::Setup)?;
    let target = HttpTarget {
        client,
        policy: RetryPolicy::from_value(static_option(s, "retry", shared)?.as_ref())
            .with_no_retry(static_option(s, "no_retry", shared)?.as_ref()),
        limiter: static_option(s, "rate", shared)?.as_ref().and_then(RateLimiter::from_value),
        store: store.clone(),
        flow: flow.name.clone(),
        sink: s.name.clone(),
    };
    let concurrency = match static_option(s, "concurrency", shared)? {
        Some(Value::Int(n)) => usize::try_from(n).unwrap_or(1),
        _ => 1,
    };
    Ok(Dispatcher::spawn(Arc::new(target), concurrency, option(s, "ordered_by").is_some()))
}

fn build_sink(
    flow: &ir::Flow,
    s: &ir::Connector,
    opts: &RunOptions,
    shared: &Shared,
    store: &Arc<dyn StateStore>,
) -> Result<SinkRt, RuntimeError> {
    let fmt = |default| option(s, "format").and_then(const_str).and_then(|f| Format::parse(&f)).unwrap_or(default);
    let plan = match s.kind.as_str() {
        "file" => {
            let path = option(s, "path")
                .and_then(const_str)
                .ok_or_else(|| RuntimeError::Setup(format!("sink `{}`: `path` must be a plain string", s.name)))?;
            let format = option(s, "format")
                .and_then(const_str)
                .and_then(|f| Format::parse(&f))
                .unwrap_or_else(|| Format::of_path(Path::new(&path)));
            SinkPlan::File { path, format }
        }
        "stdout" => SinkPlan::Stdout { format: fmt(Format::Ndjson) },
        "http" => SinkPlan::Http { method: option(s, "method").and_then(const_str).unwrap_or_else(|| "POST".into()) },
        k => SinkPlan::Http { method: k.trim_start_matches("http.").to_uppercase() },
    };
    let dispatcher =
        if plan.is_http() && !opts.dry_run { Some(build_dispatcher(flow, s, shared, store)?) } else { None };
    let mut header_written = false;
    let writer: Option<Box<dyn Write + Send>> = match (&plan, opts.dry_run) {
        (SinkPlan::File { path, .. }, false) => {
            let full = opts.base_dir.join(path);
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).map_err(|e| RuntimeError::Output(format!("{}: {e}", dir.display())))?;
            }
            // NDJSON and CSV outputs accumulate across runs (a replay adds to them); a JSON
            // array cannot be appended to, so it is written anew.
            let append = !matches!(plan, SinkPlan::File { format: Format::Json, .. });
            let existing = append && std::fs::metadata(&full).is_ok_and(|m| m.len() > 0);
            let f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&full)
                .map_err(|e| RuntimeError::Output(format!("{}: {e}", full.display())))?;
            header_written = existing;
            Some(Box::new(std::io::BufWriter::new(f)))
        }
        (SinkPlan::Stdout { .. }, false) => Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
        _ => None,
    };
    let opt = |n: &str| option(s, n).map(compile);
    let direct = writer.is_some()
        && !opts.keep_events
        && option(s, "body").is_none()
        && matches!(plan, SinkPlan::File { format: Format::Ndjson, .. } | SinkPlan::Stdout { format: Format::Ndjson });
    Ok(SinkRt {
        name: s.name.clone(),
        plan,
        url: opt("url"),
        headers: opt("headers"),
        idempotency_key: opt("idempotency_key"),
        ordered_by: opt("ordered_by"),
        body: opt("body"),
        when: opt("when"),
        dispatcher,
        writer,
        direct,
        line: Vec::new(),
        written: 0,
        header_written,
    })
}

impl SinkRt {
    /// The delivery for one record, or `None` when the sink's `when` says no.
    fn render(&self, frame: &Frame<'_>) -> Result<Option<Delivery>, crate::builtins::EvalError> {
        if let Some(when) = &self.when {
            if !truthy(&when(frame)?) {
                return Ok(None);
            }
        }
        let body = match &self.body {
            Some(b) => body_json(&b(frame)?),
            None if self.direct => serde_json::Value::Null,
            None => body_json(&frame.record),
        };
        let SinkPlan::Http { method } = &self.plan else {
            return Ok(Some(Delivery {
                method: None,
                url: None,
                headers: Vec::new(),
                body,
                idempotency_key: None,
                order_key: None,
            }));
        };
        let url = match &self.url {
            Some(u) => u(frame)?.to_string(),
            None => String::new(),
        };
        let mut headers: Vec<(String, Value)> = vec![("Content-Type".into(), Value::str("application/json"))];
        if let Some(h) = &self.headers {
            if let Value::Record(r) = h(frame)? {
                headers.extend(r.fields().map(|(k, v)| (k.to_string(), v.clone())));
            }
        }
        let idempotency_key = match &self.idempotency_key {
            Some(k) => Some(k(frame)?.to_string()),
            None => None,
        };
        if let Some(k) = &idempotency_key {
            headers.push(("Idempotency-Key".into(), Value::str(k)));
        }
        let order_key = match &self.ordered_by {
            Some(k) => Some(k(frame)?.key().into_owned()),
            None => None,
        };
        Ok(Some(Delivery { method: Some(method.clone()), url: Some(url), headers, body, idempotency_key, order_key }))
    }

    fn write(&mut self, d: &Delivery, record: &Value) -> std::io::Result<()> {
        let Some(w) = self.writer.as_mut() else { return Ok(()) };
        let format = match &self.plan {
            SinkPlan::File { format, .. } | SinkPlan::Stdout { format } => *format,
            SinkPlan::Http { .. } => return Ok(()),
        };
        match format {
            Format::Ndjson if self.direct => {
                // Into a buffer of its own first: small writes to a buffer are inlined,
                // where each would be a dynamic call into the sink's writer.
                self.line.clear();
                crate::value::write_json(&mut self.line, record, crate::value::Redaction::Redact)?;
                self.line.push(b'\n');
                w.write_all(&self.line)?;
            }
            Format::Ndjson => writeln!(w, "{}", d.body)?,
            Format::Json => {
                let sep = if self.written == 0 { "[\n" } else { ",\n" };
                write!(w, "{sep}{}", serde_json::to_string_pretty(&d.body).unwrap_or_default())?;
            }
            Format::Csv => {
                if !self.header_written {
                    w.write_all(csv_line(record, true).as_bytes())?;
                    self.header_written = true;
                }
                w.write_all(csv_line(record, false).as_bytes())?;
            }
        }
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let json = matches!(
            &self.plan,
            SinkPlan::File { format: Format::Json, .. } | SinkPlan::Stdout { format: Format::Json }
        );
        if let Some(w) = self.writer.as_mut() {
            if json {
                w.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            w.flush()?;
        }
        Ok(())
    }
}

async fn sinks_task(
    mut rx: mpsc::Receiver<Chunk>,
    mut sinks: Vec<SinkRt>,
    shared: Arc<Shared>,
    info: Arc<FlowInfo>,
    ev: mpsc::Sender<Msg>,
) -> Result<(), RuntimeError> {
    let inflight = Arc::new(tokio::sync::Semaphore::new(256));
    'chunks: while let Some(chunk) = rx.recv().await {
        for mut unit in chunk {
            let rendered: Result<Vec<(usize, Delivery)>, (String, Stop)> = {
                let frame = Frame::new(unit.record.clone(), std::mem::take(&mut unit.slots), &shared);
                let mut out = Vec::new();
                let mut failed = None;
                for (i, s) in sinks.iter().enumerate() {
                    match s.render(&frame) {
                        Ok(Some(d)) => out.push((i, d)),
                        Ok(None) => {}
                        Err(e) => {
                            failed = Some((s.name.clone(), Stop::from_eval(e)));
                            break;
                        }
                    }
                }
                match failed {
                    Some(f) => Err(f),
                    None => Ok(out),
                }
            };
            let msg = match rendered {
                Err((name, stop)) => {
                    let hold = info.hold(&unit, &format!("sink {name}"), 0, stop, &unit.record);
                    Msg::Held { unit, stage: None, hold }
                }
                Ok(d) if d.is_empty() => Msg::filtered(unit, None, "no sink's `when` matched".into()),
                Ok(d) => {
                    let mut deliveries = Vec::with_capacity(d.len());
                    let mut pending = Vec::new();
                    for (i, delivery) in d {
                        let sink = &mut sinks[i];
                        if let Some(dispatcher) = &sink.dispatcher {
                            pending.push((sink.name.clone(), delivery.clone(), dispatcher.submit(delivery).await));
                            continue;
                        }
                        sink.write(&delivery, &unit.record)
                            .map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", sink.name)))?;
                        deliveries.push((sink.name.clone(), delivery));
                    }
                    if !pending.is_empty() {
                        // Sending takes time: a finisher waits for the outcomes while the next
                        // records are rendered; the permit bounds how many wait at once.
                        let permit =
                            inflight.clone().acquire_owned().await.map_err(|e| RuntimeError::Output(e.to_string()))?;
                        let (ev, info) = (ev.clone(), info.clone());
                        tokio::spawn(async move {
                            let msg = finish(unit, deliveries, pending, &info).await;
                            let _ = ev.send(msg).await;
                            drop(permit);
                        });
                        continue;
                    }
                    Msg::delivered(unit, deliveries)
                }
            };
            if ev.send(msg).await.is_err() {
                break 'chunks;
            }
        }
        // Nothing waiting: write out what is buffered, so a long-running flow's files
        // are current (under load the buffer fills and flushes by itself).
        if rx.is_empty() {
            for s in &mut sinks {
                if let Some(w) = s.writer.as_mut() {
                    w.flush().map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", s.name)))?;
                }
            }
        }
    }
    for s in &mut sinks {
        s.finish().map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", s.name)))?;
    }
    Ok(())
}

/// A record whose HTTP deliveries are under way: delivered when every sink took it,
/// held (with the request and the answer) when one could not.
async fn finish(
    unit: Unit,
    mut deliveries: Vec<(String, Delivery)>,
    pending: Vec<(String, Delivery, tokio::sync::oneshot::Receiver<Outcome>)>,
    info: &FlowInfo,
) -> Msg {
    let mut failed: Option<(String, String, String, u32, serde_json::Value, Option<String>)> = None;
    for (sink, delivery, rx) in pending {
        let outcome = rx.await.unwrap_or_else(|_| Outcome::Failed {
            reason: "sink_stopped".into(),
            message: "the sink stopped before answering".into(),
            attempts: 0,
            request: delivery.request_json(),
        });
        match outcome {
            Outcome::Delivered { .. } | Outcome::AlreadyDelivered => deliveries.push((sink, delivery)),
            Outcome::Failed { reason, message, attempts, request } => {
                if failed.is_none() {
                    failed = Some((sink, reason, message, attempts, request, delivery.idempotency_key.clone()));
                }
            }
        }
    }
    match failed {
        None => Msg::delivered(unit, deliveries),
        Some((sink, reason, message, attempts, request, key)) => {
            let mut hold = info.hold(&unit, &format!("sink {sink}"), 0, Stop { code: reason, message }, &unit.record);
            hold.attempts = attempts;
            hold.stage_input = JsonText::from(request);
            // The idempotency key names the record as the receiving system knows it.
            hold.blocking_key = key.or(hold.blocking_key);
            Msg::Held { unit, stage: None, hold }
        }
    }
}

/// Which inputs have reached their end: a record split in parts ends with its last part.
#[derive(Default)]
struct Ends {
    remaining: std::collections::HashMap<u64, u64>,
    /// Inbox requests whose records all ended, to mark done.
    inbox_done: Vec<i64>,
    /// Inputs that ended, beyond the contiguous prefix.
    ended_seqs: std::collections::BTreeSet<u64>,
    /// The first input not yet known to have ended.
    next_seq: u64,
    /// Cursor values of inputs not yet in the ended prefix.
    cursors: std::collections::HashMap<u64, Arc<str>>,
    /// The newest cursor whose input, and every input before it, ended: to commit.
    commit: Option<Arc<str>>,
}

impl Ends {
    fn split(&mut self, seq: u64, n: u64) {
        *self.remaining.entry(seq).or_insert(1) += n;
    }

    fn ended(&mut self, unit: &Unit) {
        if !unit.members.is_empty() {
            for m in &unit.members {
                self.ended(m);
            }
            return;
        }
        if let Some(c) = &unit.cursor {
            self.cursors.entry(unit.seq.0).or_insert_with(|| c.clone());
        }
        let left = self.remaining.entry(unit.seq.0).or_insert(1);
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.remaining.remove(&unit.seq.0);
            if let Some(id) = unit.source_ref.strip_prefix("inbox#").and_then(|n| n.parse().ok()) {
                self.inbox_done.push(id);
            }
            self.advance(unit.seq.0);
        }
    }

    /// Moves the ended prefix on; the last cursor in it becomes the one to commit.
    fn advance(&mut self, seq: u64) {
        if self.next_seq == 0 {
            self.next_seq = 1;
        }
        self.ended_seqs.insert(seq);
        while self.ended_seqs.remove(&self.next_seq) {
            if let Some(c) = self.cursors.remove(&self.next_seq) {
                self.commit = Some(c);
            }
            self.next_seq += 1;
        }
    }
}

/// Polls an HTTP API: each poll starts from the newest cursor seen (at start, the one
/// committed), follows the pages, and sends each record on with its cursor value.
fn spawn_poll_source(
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    tx: mpsc::Sender<Chunk>,
    ev: mpsc::Sender<Msg>,
    info: Arc<FlowInfo>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    shared: Arc<Shared>,
) -> Result<tokio::task::JoinHandle<Result<u64, RuntimeError>>, RuntimeError> {
    use crate::connectors::poll::{fetch, with_query, NextPage};
    let src = &flow.source;
    let text = |n: &str| option(src, n).and_then(const_str);
    let compiled = |n: &str| option(src, n).map(compile);
    let url = compiled("url").ok_or_else(|| RuntimeError::Setup("the http.poll source needs `url`".into()))?;
    let (headers, query, cursor_of) = (compiled("headers"), compiled("query"), compiled("cursor"));
    let records = text("records");
    let next = NextPage::from_option(text("next_page").as_deref(), text("page_param").as_deref());
    let every = match option(src, "every").map(|e| compile(e)(&Frame::new(Value::Null, Vec::new(), &shared))) {
        Some(Ok(Value::Duration(ms))) => Some(std::time::Duration::from_millis(ms)),
        _ => None,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| RuntimeError::Setup(e.to_string()))?;
    let ty = src.ty.clone();
    let slots = flow.slots as usize;
    Ok(tokio::spawn(async move {
        // The cursor the checker binds for the source's options is the flow's first slot.
        let mut cursor: Option<String> = store.cursor(&info.name, &info.source)?;
        let mut n: u64 = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let (first_url, header_pairs) = {
                let cur = cursor.as_deref().map_or(Value::Null, Value::str);
                let frame = Frame::new(Value::Null, vec![cur], &shared);
                let base = url(&frame).map_err(|e| RuntimeError::Setup(Stop::from_eval(e).message))?.to_string();
                let params = match &query {
                    Some(q) => pairs(&q(&frame).map_err(|e| RuntimeError::Setup(Stop::from_eval(e).message))?),
                    None => Vec::new(),
                };
                let hs = match &headers {
                    Some(h) => pairs_revealed(&h(&frame).map_err(|e| RuntimeError::Setup(Stop::from_eval(e).message))?),
                    None => Vec::new(),
                };
                (with_query(&base, &params).map_err(RuntimeError::Setup)?, hs)
            };
            let (mut page_url, mut page) = (Some(first_url), 1u32);
            while let Some(u) = page_url.take() {
                let fetched = match fetch(&client, &u, &header_pairs, records.as_deref(), &next, page).await {
                    Ok(p) => p,
                    Err(e) => {
                        // Nothing was read past the committed cursor: the next poll tries again.
                        tracing::warn!(flow = %info.name, error = %e, "poll failed");
                        break;
                    }
                };
                for raw in fetched.records {
                    n += 1;
                    metrics::add("records_in", &info.name, "", 1);
                    let source_ref: Arc<str> = Arc::from(format!("{}#{n}", info.source));
                    match crate::value::decode_json_value_planned(&raw, &ty, &info.decode) {
                        Ok(value) => {
                            let cursor_value = match &cursor_of {
                                Some(c) => {
                                    c(&Frame::new(value.clone(), Vec::new(), &shared)).ok().filter(|v| !v.is_null())
                                }
                                None => None,
                            };
                            if let Some(cv) = &cursor_value {
                                let text = cv.to_string();
                                if cursor.as_deref().is_none_or(|c| c < text.as_str()) {
                                    cursor = Some(text);
                                }
                            }
                            let cursor = cursor_value.map(|v| Arc::from(v.to_string()));
                            let text = Some(RawText::from(raw.to_string().as_bytes()));
                            let unit = Unit::entering(n, source_ref, value, text, slots, cursor);
                            if tx.send(vec![unit]).await.is_err() {
                                return Ok(n);
                            }
                        }
                        Err(error) => {
                            let msg = info.bad_input(n, source_ref, raw, &error, &format!("source {}", info.source), 0);
                            if ev.send(msg).await.is_err() {
                                return Ok(n);
                            }
                        }
                    }
                }
                page += 1;
                page_url = fetched.next;
            }
            match every {
                Some(d) => {
                    let until = tokio::time::Instant::now() + d;
                    while tokio::time::Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        tokio::time::sleep(std::time::Duration::from_millis(100).min(d)).await;
                    }
                }
                None => break,
            }
        }
        Ok(n)
    }))
}

/// A record value as query or header pairs (absent values left out).
fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Record(r) => {
            r.fields().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        }
        _ => Vec::new(),
    }
}

/// Header pairs with secrets written out: they are sent, never shown.
fn pairs_revealed(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Record(r) => r
            .fields()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let text = match v {
                    Value::Secret(s) => s.to_string(),
                    other => other.to_string(),
                };
                (k.to_string(), text)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads the webhook inbox: requests stored by the receiving endpoint, oldest first,
/// until the run is stopped. A request is marked done by the collector once its records
/// ended, so after a crash the ones not done are read again.
fn spawn_inbox_source(
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    tx: mpsc::Sender<Chunk>,
    ev: mpsc::Sender<Msg>,
    info: Arc<FlowInfo>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    shared: Arc<Shared>,
) -> tokio::task::JoinHandle<Result<u64, RuntimeError>> {
    let ty = flow.source.ty.clone();
    let slots = flow.slots as usize;
    let line = flow.file.line_col(flow.source.span.start).0;
    let stage_name = format!("source {}", flow.source.name);
    let dedupe_key = option(&flow.source, "dedupe_key").map(compile);
    tokio::spawn(async move {
        let (mut last, mut n) = (0i64, 0u64);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let items = store.inbox_pending(&info.name, last, 64)?;
            if items.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
            for item in items {
                last = item.id;
                n += 1;
                metrics::add("records_in", &info.name, "", 1);
                let source_ref: Arc<str> = Arc::from(format!("inbox#{}", item.id));
                match crate::value::decode_json_planned(&item.body, &ty, &info.decode) {
                    Ok(value) => {
                        // The flow's own `dedupe_key` on the payload: a sender that sends
                        // the same content under a new delivery id is still a duplicate.
                        let key = match &dedupe_key {
                            Some(k) => k(&Frame::new(value.clone(), Vec::new(), &shared))
                                .ok()
                                .map(|v| format!("webhook:{}", v.key())),
                            None => None,
                        };
                        let seen = key.as_ref().is_some_and(|k| {
                            !info.in_flight().insert(k.clone())
                                || store.dedupe_seen(&info.name, k, info.now).unwrap_or(false)
                        });
                        let raw = Some(RawText::from(item.body.as_slice()));
                        let mut unit = Unit::entering(n, source_ref, value, raw, slots, None);
                        if seen {
                            let why = format!("duplicate of an earlier request ({})", key.unwrap_or_default());
                            if ev.send(Msg::filtered(unit, None, why)).await.is_err() {
                                return Ok(n);
                            }
                            continue;
                        }
                        if let Some(k) = key {
                            unit.dedupe.push((k, Some(info.now + chrono::Duration::days(30))));
                        }
                        if tx.send(vec![unit]).await.is_err() {
                            return Ok(n);
                        }
                    }
                    Err(error) => {
                        let raw = serde_json::from_slice(&item.body).unwrap_or_else(|_| {
                            serde_json::Value::String(String::from_utf8_lossy(&item.body).into_owned())
                        });
                        if ev.send(info.bad_input(n, source_ref, raw, &error, &stage_name, line)).await.is_err() {
                            return Ok(n);
                        }
                    }
                }
            }
        }
        Ok(n)
    })
}

/// Counts every end, writes holds (in transactions of up to 64) and commits dedupe keys.
async fn collect(
    mut rx: mpsc::Receiver<Msg>,
    store: Arc<dyn StateStore>,
    opts: &RunOptions,
    info: &FlowInfo,
) -> Result<(Summary, Vec<Event>), RuntimeError> {
    let mut summary = Summary::default();
    let mut events = Vec::new();
    let mut holds: Vec<NewHold> = Vec::new();
    let mut keys: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
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
                let members = unit.members.len().max(1) as u64;
                summary.delivered += members;
                ends.ended(&unit);
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
            }
            Msg::Filtered { unit, stage, why } => {
                summary.filtered += 1;
                metrics::add("records_filtered", &info.name, "", 1);
                ends.ended(&unit);
                let label = stage.clone().unwrap_or((usize::MAX, "sinks".into()));
                summary.per_stage.entry(label.clone()).or_default().0 += 1;
                if opts.keep_events {
                    events.push(Event::Filtered {
                        seq: unit.seq,
                        source_ref: unit.source_ref.clone(),
                        stage: label.1,
                        why,
                    });
                }
                keys.extend(unit.dedupe);
            }
            Msg::Held { unit, stage, hold } => {
                let unit_is_member = !unit.members.is_empty();
                let members: Vec<Unit> = if unit.members.is_empty() { vec![unit] } else { unit.members };
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
                let mut spare = Some(*hold);
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
                    h.source_ref = Some(m.source_ref.to_string());
                    if opts.keep_events {
                        events.push(Event::Held { seq: m.seq, hold: Box::new(h.clone()) });
                    }
                    keys.extend(m.dedupe);
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
        if keys.len() >= 256 && !opts.dry_run {
            info.commit_keys(store.as_ref(), &mut keys)?;
        }
        if let (Some(cursor), false) = (ends.commit.take(), opts.dry_run) {
            // Holds first: the cursor moves past a record only once its hold is on disk.
            store.add_holds(std::mem::take(&mut holds))?;
            holds.clear();
            store.set_cursor(&info.name, &info.source, &cursor)?;
        }
        if !ends.inbox_done.is_empty() && !opts.dry_run {
            // Holds first: a request is done only once its holds are on disk.
            store.add_holds(std::mem::take(&mut holds))?;
            holds.clear();
            info.commit_keys(store.as_ref(), &mut keys)?;
            store.inbox_done(&info.name, &ends.inbox_done)?;
            ends.inbox_done.clear();
        }
    }
    if !opts.dry_run {
        if !holds.is_empty() {
            store.add_holds(std::mem::take(&mut holds))?;
        }
        info.commit_keys(store.as_ref(), &mut keys)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok((summary, events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    fn info() -> FlowInfo {
        FlowInfo {
            name: "orders".into(),
            source: "in".into(),
            version: "v1".into(),
            now: chrono::Utc::now(),
            decode: Plan::Build,
            in_flight: std::sync::Mutex::default(),
        }
    }

    #[test]
    fn committed_dedupe_keys_leave_the_in_flight_set_for_the_store() {
        let (info, store) = (info(), MemoryStore::new());
        info.in_flight().extend(["a".to_string(), "b".to_string(), "c".to_string()]);
        let mut keys = vec![("a".to_string(), None), ("b".to_string(), None)];
        info.commit_keys(&store, &mut keys).unwrap();
        assert!(keys.is_empty());
        // A long run's set holds only the keys of records still on their way ...
        assert_eq!(info.in_flight().iter().collect::<Vec<_>>(), vec!["c"]);
        // ... and the store knows the others, so a later duplicate is still caught.
        assert!(store.dedupe_seen("orders", "a", info.now).unwrap());
        assert!(!store.dedupe_seen("orders", "c", info.now).unwrap());
    }

    #[test]
    fn a_record_at_its_end_keeps_its_place_and_keys_not_its_data() {
        let value = Value::record(vec![("id".to_string(), Value::Int(1))]);
        let mut unit =
            Unit::entering(7, Arc::from("in.ndjson:7"), value, Some(RawText::from(&b"{\"id\":1}"[..])), 2, None);
        unit.dedupe.push(("k".into(), None));
        let end = unit.at_end();
        assert_eq!((end.seq, &*end.source_ref, end.dedupe.len()), ((7, 0), "in.ndjson:7", 1));
        assert!(end.record.is_null() && end.entered.is_null() && end.raw.is_none() && end.slots.is_empty());
    }
}
