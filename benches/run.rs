//! `cargo bench --bench run`: throughput of a real flowgate run (not a dry run) of the
//! Shopify order -> ERP sales order mapping, against two yardsticks doing the same work on
//! the same input, file to file, on one core:
//!
//! - `flow`: benches/orders/bench.flow (the mapping of flows/shopify_orders_to_erp.flow with
//!   a file source and a file sink) through the library: `check_files` -> `ir()` ->
//!   `runtime::run` with a `MemoryStore`, on a tokio current-thread runtime;
//! - `hand-written`: the mapping in plain Rust with typed serde structs (benches/orders/handwritten.rs);
//! - `Value round trip`: each order parsed into a `serde_json::Value` and the output built as
//!   one (benches/orders/value_roundtrip.rs).
//!
//! The input is generated (benches/orders/gen.rs): realistic Shopify orders of about 12 KB,
//! NDJSON. The process is pinned to one CPU (the flow's source thread and its runtime thread
//! share it), so the figures compare work, not parallelism.
//!
//! Options (after `--`):
//!
//! - `--orders N` (default 10000): input size for the throughput run;
//! - `--runs R` (default 3): timed runs of each, after one warm-up run; medians are reported;
//! - `--seed S` (default 42): generator seed;
//! - `--cpu C`: the CPU to pin to (default: the one the bench starts on); `--no-pin` to not pin;
//! - `--pruned`: also time benches/orders/bench_pruned.flow, the same flow with a source type
//!   that declares only the fields the mapping reads (what decoding unread fields costs);
//! - `--rss`: peak memory instead: the flow alone in a child process on 10,000 and on
//!   100,000 orders (`--rss-sizes 10000,100000` to change), each reporting its VmHWM;
//! - `--flow-only FILE`: what the `--rss` children run (one flow run over FILE, then the
//!   peak RSS); `--store sqlite` makes the child use a SqliteStore in a temporary file;
//! - `--handwritten-only FILE`: one run of the hand-written mapping over FILE, to profile
//!   the yardstick beside the flow;
//! - `--dump FILE`: only write the generated input (`--orders` of them) to FILE.
//!
//! See docs/benchmarks.md for what the figures mean and the latest results.

#![recursion_limit = "256"]

mod machine;
mod orders {
    pub mod common;
    pub mod gen;
    pub mod handwritten;
    pub mod value_roundtrip;
}

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowgate::runtime::{RunOptions, RunReport};
use flowgate::state::{MemoryStore, SqliteStore, StateStore};
use machine::{cpu_model, loadavg, status_kb, sys};
use orders::common::Outcome;

const FLOW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/orders/bench.flow");
const PRUNED_FLOW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/orders/bench_pruned.flow");
const CARRIERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/orders/carriers.csv");

struct Args {
    orders: u64,
    runs: usize,
    seed: u64,
    cpu: Option<usize>,
    pin: bool,
    rss: bool,
    rss_sizes: Vec<u64>,
    flow_only: Option<PathBuf>,
    handwritten_only: Option<PathBuf>,
    store: String,
    dump: Option<PathBuf>,
    pruned: bool,
}

fn usage(msg: &str) -> ! {
    eprintln!("error: {msg}");
    eprintln!(
        "usage: cargo bench --bench run -- [--orders N] [--runs R] [--seed S] [--cpu C | --no-pin] \
         [--pruned] [--rss [--rss-sizes N,M]] [--flow-only FILE [--store memory|sqlite]] [--handwritten-only FILE] [--dump FILE]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        orders: 10_000,
        runs: 3,
        seed: 42,
        cpu: None,
        pin: true,
        rss: false,
        rss_sizes: vec![10_000, 100_000],
        flow_only: None,
        handwritten_only: None,
        store: "memory".into(),
        dump: None,
        pruned: false,
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|v| v.replace('_', "").parse().ok()).unwrap_or_else(|| usage(&format!("{what} needs a number")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--orders" => a.orders = num(it.next(), "--orders").max(1),
            "--runs" => a.runs = num(it.next(), "--runs").max(1) as usize,
            "--seed" => a.seed = num(it.next(), "--seed"),
            "--cpu" => a.cpu = Some(num(it.next(), "--cpu") as usize),
            "--no-pin" => a.pin = false,
            "--rss" => a.rss = true,
            "--pruned" => a.pruned = true,
            "--rss-sizes" => {
                let v = it.next().unwrap_or_else(|| usage("--rss-sizes needs a list"));
                a.rss_sizes = v.split(',').map(|n| num(Some(n.to_string()), "--rss-sizes")).collect();
            }
            "--flow-only" => a.flow_only = Some(PathBuf::from(it.next().unwrap_or_else(|| usage("--flow-only FILE")))),
            "--handwritten-only" => {
                a.handwritten_only = Some(PathBuf::from(it.next().unwrap_or_else(|| usage("--handwritten-only FILE"))))
            }
            "--dump" => a.dump = Some(PathBuf::from(it.next().unwrap_or_else(|| usage("--dump FILE")))),
            "--store" => a.store = it.next().unwrap_or_else(|| usage("--store memory|sqlite")),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    a
}

/// A benchmark flow, checked and lowered once.
struct Flow {
    program: flowgate::ir::Program,
    index: usize,
    /// Where its file sink writes, relative to the run's base directory (see the .flow file).
    output: &'static str,
    rt: tokio::runtime::Runtime,
}

impl Flow {
    fn load(path: &str, name: &str, output: &'static str) -> (Flow, Duration) {
        let start = Instant::now();
        let outcome = flowgate::check_files(&[PathBuf::from(path)]).expect("cannot read the bench flow");
        let Some(program) = outcome.ir() else {
            panic!("{path} has errors:\n{}", flowgate::diagnostic::render_plain(&outcome.diagnostics));
        };
        let took = start.elapsed();
        let index = program.flows.iter().position(|f| f.name == name).expect("the bench flow");
        // One core: everything the runtime does runs on this thread (the source reads on
        // tokio's blocking pool, which the pinning keeps on the same CPU).
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        (Flow { program, index, output, rt }, took)
    }

    fn bench() -> (Flow, Duration) {
        Flow::load(FLOW, "bench_orders_to_erp", "out/flow.ndjson")
    }

    fn pruned() -> Flow {
        Flow::load(PRUNED_FLOW, "bench_orders_to_erp_pruned", "out/flow_pruned.ndjson").0
    }

    /// One real run over `input`; the sink writes under `base` (its file is removed first,
    /// since an NDJSON file sink appends).
    fn run(&self, input: &Path, base: &Path, store: Arc<dyn StateStore>) -> RunReport {
        let _ = std::fs::remove_file(base.join(self.output));
        let opts = RunOptions {
            dry_run: false,
            inputs: Some(vec![input.to_string_lossy().into_owned()]),
            input_format: None,
            now: chrono::Utc::now().fixed_offset(),
            env: HashMap::new(),
            base_dir: base.to_path_buf(),
            progress: false,
            keep_events: false,
            display_root: None,
            retention: None,
            regroup: None,
            responses: None,
        };
        let flow = &self.program.flows[self.index];
        self.rt.block_on(flowgate::runtime::run(&self.program, flow, store, opts)).expect("the flow run failed")
    }
}

fn flow_outcome(r: &RunReport) -> Outcome {
    Outcome {
        records_in: r.summary.records_in,
        delivered: r.summary.delivered,
        filtered: r.summary.filtered,
        held: r.summary.held_by_reason.clone(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Which {
    Flow,
    Handwritten,
    Value,
    /// `--pruned`: bench_pruned.flow, whose source type declares only the fields read.
    FlowPruned,
}

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::Flow => "flowgate run (bench.flow)",
            Which::Handwritten => "hand-written serde structs",
            Which::Value => "serde_json::Value round trip",
            Which::FlowPruned => "flow, pruned source type",
        }
    }

    fn output(self, base: &Path) -> PathBuf {
        match self {
            Which::Flow => base.join("out/flow.ndjson"),
            Which::Handwritten => base.join("out/handwritten.ndjson"),
            Which::Value => base.join("out/value.ndjson"),
            Which::FlowPruned => base.join("out/flow_pruned.ndjson"),
        }
    }
}

/// The flows under test: the benchmark flow and, with `--pruned`, its pruned variant.
struct Flows {
    full: Flow,
    pruned: Option<Flow>,
}

struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let cpu0 = sys::cpu_time();
    let start = Instant::now();
    let v = f();
    let wall = start.elapsed();
    let cpu = match (cpu0, sys::cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    (v, Timing { wall, cpu })
}

fn run_one(
    which: Which,
    flows: &Flows,
    input: &Path,
    base: &Path,
    carriers: &HashMap<String, String>,
) -> (Outcome, Timing) {
    match which {
        Which::Flow | Which::FlowPruned => {
            let flow = match which {
                Which::FlowPruned => flows.pruned.as_ref().expect("the pruned flow"),
                _ => &flows.full,
            };
            let (report, t) = measure(|| flow.run(input, base, Arc::new(MemoryStore::new())));
            (flow_outcome(&report), t)
        }
        Which::Handwritten => {
            let (o, t) = measure(|| {
                orders::handwritten::run(
                    input,
                    &which.output(base),
                    &base.join("out/handwritten.holds.ndjson"),
                    carriers,
                )
            });
            (o.expect("the hand-written mapping failed"), t)
        }
        Which::Value => {
            let (o, t) = measure(|| {
                orders::value_roundtrip::run(input, &which.output(base), &base.join("out/value.holds.ndjson"), carriers)
            });
            (o.expect("the Value round trip failed"), t)
        }
    }
}

/// The first line where two files differ: (line number, column, text around it in each).
fn first_difference(a: &Path, b: &Path) -> Option<(u64, usize, String, String)> {
    let mut ra = BufReader::new(File::open(a).ok()?);
    let mut rb = BufReader::new(File::open(b).ok()?);
    let (mut la, mut lb) = (String::new(), String::new());
    let mut n = 0;
    loop {
        la.clear();
        lb.clear();
        let (ea, eb) = (ra.read_line(&mut la).ok()?, rb.read_line(&mut lb).ok()?);
        n += 1;
        if ea == 0 && eb == 0 {
            return None;
        }
        if la != lb {
            let col = la.bytes().zip(lb.bytes()).take_while(|(x, y)| x == y).count();
            let around = |s: &str| {
                let mut from = col.saturating_sub(60);
                while !s.is_char_boundary(from.min(s.len())) {
                    from -= 1;
                }
                let mut to = (col + 80).min(s.len());
                while !s.is_char_boundary(to) {
                    to += 1;
                }
                if from >= s.len() {
                    "<end of file>".to_string()
                } else {
                    s[from..to].trim_end().to_string()
                }
            };
            return Some((n, col, around(&la), around(&lb)));
        }
    }
}

fn median(xs: &mut [Duration]) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn generate(path: &Path, n: u64, seed: u64) -> orders::gen::GenStats {
    let start = Instant::now();
    let stats = orders::gen::write_orders(path, n, seed).expect("cannot write the generated orders");
    println!(
        "generated {} orders ({:.1} MB, {:.1} KB an order; {} without shipping address, {} cancelled, {} delivered twice) in {:.1} s",
        stats.lines,
        stats.bytes as f64 / 1e6,
        stats.bytes as f64 / stats.lines as f64 / 1e3,
        stats.no_shipping_address,
        stats.cancelled,
        stats.redelivered,
        start.elapsed().as_secs_f64()
    );
    stats
}

fn pin(args: &Args) -> Option<usize> {
    if !args.pin {
        return None;
    }
    let cpu = args.cpu.or_else(sys::current_cpu).unwrap_or(0);
    sys::pin(cpu).then_some(cpu)
}

fn main() {
    let args = parse_args();
    if let Some(file) = &args.flow_only {
        flow_only(file, &args.store, args.pruned);
        return;
    }
    if let Some(file) = &args.handwritten_only {
        handwritten_only(file);
        return;
    }
    if let Some(file) = &args.dump {
        generate(file, args.orders, args.seed);
        return;
    }
    let pinned = pin(&args);
    println!("machine: {}, {} CPUs online", cpu_model(), nproc_online());
    println!(
        "pinned to: {}; load average at start: {}",
        pinned.map_or_else(|| "not pinned".to_string(), |c| format!("CPU {c}")),
        loadavg()
    );
    if args.rss {
        rss(&args);
    } else {
        throughput(&args);
    }
}

fn nproc_online() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .map(|s| {
            s.trim()
                .split(',')
                .map(|r| match r.split_once('-') {
                    Some((a, b)) => b.parse::<usize>().unwrap_or(0) + 1 - a.parse::<usize>().unwrap_or(0),
                    None => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn throughput(args: &Args) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let base = dir.path();
    std::fs::create_dir_all(base.join("out")).expect("out/");
    let input = base.join("orders.ndjson");
    let stats = generate(&input, args.orders, args.seed);
    let (full, compile) = Flow::bench();
    println!("bench.flow checked and lowered in {:.1} ms", compile.as_secs_f64() * 1e3);
    let flows = Flows { full, pruned: args.pruned.then(Flow::pruned) };
    let carriers = orders::common::load_carriers(Path::new(CARRIERS));
    let mut all = vec![Which::Flow, Which::Handwritten, Which::Value];
    if args.pruned {
        all.push(Which::FlowPruned);
    }

    // Warm-up: page cache, allocator, lazy statics; and the outcome each one reaches.
    let mut outcomes = Vec::new();
    for &w in &all {
        let (o, t) = run_one(w, &flows, &input, base, &carriers);
        println!("warm-up  {:<30} {}  ({})", w.label(), secs(t.wall), o);
        outcomes.push(o);
    }
    let reference = &outcomes[0];
    for (w, o) in all.iter().zip(&outcomes).skip(1) {
        assert_eq!(
            o.delivered,
            reference.delivered,
            "{} delivered {} records, the flow {}",
            w.label(),
            o.delivered,
            reference.delivered
        );
        if o != reference {
            println!("WARNING: {} ended differently from the flow: {o} vs {reference}", w.label());
        }
    }
    for &w in &all[1..] {
        match first_difference(&Which::Flow.output(base), &w.output(base)) {
            None => println!("output of {:<30} = the flow's, byte for byte", w.label()),
            Some((line, col, a, b)) => {
                println!("WARNING: output of {} differs from the flow's at line {line}, byte {col}:", w.label());
                println!("  flow: …{a}");
                println!("  this: …{b}");
            }
        }
    }

    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); all.len()];
    let mut cpus: Vec<Vec<Duration>> = vec![Vec::new(); all.len()];
    for round in 0..args.runs {
        for (i, w) in all.iter().enumerate() {
            let (o, t) = run_one(*w, &flows, &input, base, &carriers);
            assert_eq!(o.delivered, reference.delivered, "{}: a different number of records in run {round}", w.label());
            walls[i].push(t.wall);
            if let Some(c) = t.cpu {
                cpus[i].push(c);
            }
        }
    }

    let n = stats.lines as f64;
    let mb = stats.bytes as f64 / 1e6;
    println!();
    println!(
        "{} orders, {:.1} MB; {} timed runs each after a warm-up, interleaved; load average now: {}",
        stats.lines,
        mb,
        args.runs,
        loadavg()
    );
    println!("outcome (all agree): {reference}");
    println!();
    println!("{:<30} {:>10} {:>10} {:>11} {:>10} {:>8}", "", "median", "min", "CPU median", "orders/s", "MB/s");
    let mut med = Vec::new();
    let mut med_cpu = Vec::new();
    for (i, w) in all.iter().enumerate() {
        let m = median(&mut walls[i]);
        let min = walls[i][0];
        let c = (!cpus[i].is_empty()).then(|| median(&mut cpus[i]));
        println!(
            "{:<30} {:>10} {:>10} {:>11} {:>10.0} {:>8.1}",
            w.label(),
            secs(m),
            secs(min),
            c.map_or("n/a".into(), secs),
            n / m.as_secs_f64(),
            mb / m.as_secs_f64()
        );
        med.push(m);
        med_cpu.push(c);
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    println!(
        "flow time / hand-written time:     {:.2}x  (target: at most 1.5x)  {}",
        ratio(med[0], med[1]),
        if ratio(med[0], med[1]) <= 1.5 { "met" } else { "NOT met" }
    );
    println!(
        "flow time / Value round trip time: {:.2}x  (target: below 1x)       {}",
        ratio(med[0], med[2]),
        if ratio(med[0], med[2]) < 1.0 { "met" } else { "NOT met" }
    );
    if let (Some(f), Some(h), Some(v)) = (med_cpu[0], med_cpu[1], med_cpu[2]) {
        println!("by CPU time: flow / hand-written {:.2}x, flow / Value round trip {:.2}x", ratio(f, h), ratio(f, v));
    }
    if args.pruned {
        println!(
            "pruned flow / hand-written: {:.2}x; full flow / pruned flow: {:.2}x",
            ratio(med[3], med[1]),
            ratio(med[0], med[3])
        );
    }
}

/// `--rss`: the flow alone, in a child process per input size, each reporting its peak RSS.
fn rss(args: &Args) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = std::env::current_exe().expect("the bench binary");
    let mut rows = Vec::new();
    for &n in &args.rss_sizes {
        let input = dir.path().join(format!("orders-{n}.ndjson"));
        let stats = generate(&input, n, args.seed);
        for store in ["memory", "sqlite"] {
            let out = Command::new(&exe)
                .arg("--flow-only")
                .arg(&input)
                .args(["--store", store])
                .output()
                .expect("cannot start the child process");
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                panic!("the child failed: {}\n{text}{}", out.status, String::from_utf8_lossy(&out.stderr));
            }
            let line = text.lines().find(|l| l.starts_with("flow-only")).expect("the child's result line").to_string();
            println!("{line}");
            let field = |k: &str| -> u64 {
                line.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            rows.push((n, stats.bytes, store, field("setup_hwm_kb"), field("hwm_kb"), field("ms")));
        }
        let _ = std::fs::remove_file(&input);
    }
    println!();
    println!(
        "{:>8} {:>9} {:>7} {:>14} {:>12} {:>10} {:>10}",
        "orders", "input MB", "store", "VmHWM setup", "VmHWM end", "run", "orders/s"
    );
    for (n, bytes, store, setup, hwm, ms) in &rows {
        println!(
            "{:>8} {:>9.1} {:>7} {:>11.1} MB {:>9.1} MB {:>8.2} s {:>10.0}",
            n,
            *bytes as f64 / 1e6,
            store,
            *setup as f64 / 1024.0,
            *hwm as f64 / 1024.0,
            *ms as f64 / 1e3,
            *n as f64 / (*ms as f64 / 1e3)
        );
    }
    for store in ["memory", "sqlite"] {
        let r: Vec<_> = rows.iter().filter(|r| r.2 == store).collect();
        if let [first, .., last] = r.as_slice() {
            let grow = last.4 as f64 - first.4 as f64;
            println!(
                "{store}: peak RSS {:.1} MB at {} orders, {:.1} MB at {} orders: {:+.1} MB ({:+.0} bytes an extra order; an order is {:.0} bytes of input)",
                first.4 as f64 / 1024.0,
                first.0,
                last.4 as f64 / 1024.0,
                last.0,
                grow / 1024.0,
                grow * 1024.0 / (last.0 - first.0) as f64,
                last.1 as f64 / last.0 as f64
            );
        }
    }
}

/// `--flow-only FILE`: one run of the flow over FILE, then the peak RSS, on one line.
fn flow_only(file: &Path, store_kind: &str, pruned: bool) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let flow = if pruned { Flow::pruned() } else { Flow::bench().0 };
    let store: Arc<dyn StateStore> = match store_kind {
        "memory" => Arc::new(MemoryStore::new()),
        "sqlite" => Arc::new(SqliteStore::open(dir.path().join("state.db")).expect("a SQLite state store")),
        other => usage(&format!("unknown store `{other}`")),
    };
    let setup_hwm = status_kb("VmHWM").unwrap_or(0);
    let start = Instant::now();
    let report = flow.run(file, dir.path(), store.clone());
    let ms = start.elapsed().as_millis();
    let hwm = status_kb("VmHWM").unwrap_or(0);
    let rss_now = status_kb("VmRSS").unwrap_or(0);
    println!(
        "flow-only store={store_kind} records={} delivered={} held={} ms={ms} setup_hwm_kb={setup_hwm} hwm_kb={hwm} rss_end_kb={rss_now}",
        report.summary.records_in,
        report.summary.delivered,
        report.summary.held,
    );
}

/// `--handwritten-only FILE`: one run of the hand-written mapping over FILE, timed.
fn handwritten_only(file: &Path) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir_all(dir.path().join("out")).expect("the output directory");
    let carriers = orders::common::load_carriers(Path::new(CARRIERS));
    let start = Instant::now();
    let outcome = orders::handwritten::run(
        file,
        &Which::Handwritten.output(dir.path()),
        &dir.path().join("out/handwritten.holds.ndjson"),
        &carriers,
    )
    .expect("the hand-written mapping failed");
    let ms = start.elapsed().as_millis();
    println!("handwritten-only delivered={} held={} ms={ms}", outcome.delivered, outcome.held_total());
}
