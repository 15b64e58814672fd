//! `cargo bench --bench deliver`: how close the HTTP sink comes to the bound its concurrency
//! sets. 10,000 orders (NDJSON) go from a file source to an `http.post` sink with
//! `concurrency: 16`, to a fake ERP on loopback (benches/deliver/erp.rs, in this process
//! on its own thread and tokio runtime) that answers 201 10 ms after a request arrives
//! (kept by a timer thread, not tokio's millisecond timer). Before the runs, a probe
//! sends it requests one at a time and prints what one really takes, server side and
//! round trip: the floor no sink can beat.
//!
//! Two flows (benches/deliver/deliver.flow):
//!
//! - `each`: one request per record; the ideal is 10,000 x 10 ms / 16 = 6.25 s, the target
//!   is within 1.1x of it;
//! - `batched`: a `batch { size: 100, max_wait: 50ms }` stage before the sink, so the ERP
//!   receives JSON arrays of 100 orders; the ideal is 100 x 10 ms / 16 = 0.0625 s, before
//!   the fixed costs of a run (reading the input, starting the client).
//!
//! Each run goes through the library as `flowgate run` does (`check_files` -> `ir()` ->
//! `runtime::run` on a multi-threaded tokio runtime), with a fresh state store: a
//! SqliteStore in a temporary file (what `flowgate run` uses: the sink writes accepted
//! deliveries to the delivery log in group commits, one fsync for all that are waiting) and
//! a MemoryStore (the same run without disk).
//! The ERP checks that every order was booked exactly once.
//!
//! Besides wall time and records/s, a run reports what the ERP saw (requests, its own
//! service time, requests in flight over time), the sink's delivery latency from the
//! runtime's metrics, and CPU time (the ERP's threads apart), to tell where time goes.
//!
//! Options (after `--`):
//!
//! - `--records N` (default 10000); `--delay-ms D` (default 10): the ERP's answer time;
//! - `--mode each|batched|both` (default both); `--store sqlite|memory|both` (default both);
//! - `--runs R` (default 3): runs of each, the median (by wall time) reported;
//! - `--cli`: also run the release binary (`cargo build --release --bin flowgate` first),
//!   `flowgate run --state <temporary file>`, process start and check included.

mod deliver {
    pub mod erp;
}
mod machine;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deliver::erp::{Erp, Seen};
use flowgate::runtime::RunOptions;
use flowgate::state::{MemoryStore, SqliteStore, StateStore};
use machine::{cpu_model, loadavg, sys};

const FLOW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/deliver/deliver.flow");
const CONCURRENCY: usize = 16;
const BATCH: u64 = 100;
const TARGET_RATIO: f64 = 1.1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Each,
    Batched,
}

impl Mode {
    fn flow(self) -> &'static str {
        match self {
            Mode::Each => "deliver_each",
            Mode::Batched => "deliver_batched",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Mode::Each => "each",
            Mode::Batched => "batched",
        }
    }

    /// Requests a perfect run sends.
    fn requests(self, records: u64) -> u64 {
        match self {
            Mode::Each => records,
            Mode::Batched => records.div_ceil(BATCH),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Store {
    Sqlite,
    Memory,
    /// The release binary, with its SqliteStore.
    Cli,
}

impl Store {
    fn label(self) -> &'static str {
        match self {
            Store::Sqlite => "sqlite",
            Store::Memory => "memory",
            Store::Cli => "cli+sqlite",
        }
    }
}

struct Args {
    records: u64,
    delay: Duration,
    modes: Vec<Mode>,
    stores: Vec<Store>,
    runs: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("error: {msg}");
    eprintln!(
        "usage: cargo bench --bench deliver -- [--records N] [--delay-ms D] [--mode each|batched|both] \
         [--store sqlite|memory|both] [--runs R] [--cli]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        records: 10_000,
        delay: Duration::from_millis(10),
        modes: vec![Mode::Each, Mode::Batched],
        stores: vec![Store::Sqlite, Store::Memory],
        runs: 3,
    };
    let mut cli = false;
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|v| v.replace('_', "").parse().ok()).unwrap_or_else(|| usage(&format!("{what} needs a number")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--records" => a.records = num(it.next(), "--records").max(1),
            "--delay-ms" => a.delay = Duration::from_millis(num(it.next(), "--delay-ms")),
            "--runs" => a.runs = num(it.next(), "--runs").max(1) as usize,
            "--cli" => cli = true,
            "--mode" => {
                a.modes = match it.next().as_deref() {
                    Some("each") => vec![Mode::Each],
                    Some("batched") => vec![Mode::Batched],
                    Some("both") => vec![Mode::Each, Mode::Batched],
                    _ => usage("--mode each|batched|both"),
                }
            }
            "--store" => {
                a.stores = match it.next().as_deref() {
                    Some("sqlite") => vec![Store::Sqlite],
                    Some("memory") => vec![Store::Memory],
                    Some("both") => vec![Store::Sqlite, Store::Memory],
                    _ => usage("--store sqlite|memory|both"),
                }
            }
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    if cli {
        a.stores.push(Store::Cli);
    }
    a
}

/// One run's figures.
struct Run {
    wall: Duration,
    /// Process CPU time, and the ERP threads' share of it (library runs only).
    cpu: Option<Duration>,
    erp_cpu: Option<Duration>,
    records_in: u64,
    delivered: u64,
    held: u64,
    seen: Seen,
    /// From the run's start to the ERP's first request, and from its last answer to the
    /// run's end.
    lead: Duration,
    tail: Duration,
    /// The sink's delivery latency as the runtime measures it (request, answer and the
    /// delivery log write): count and sum in seconds.
    latency: Option<(u64, f64)>,
}

impl Run {
    /// Every record booked exactly once, none held, nothing malformed.
    fn problems(&self, records: u64) -> Vec<String> {
        let mut p = Vec::new();
        if self.records_in != records {
            p.push(format!("{} records in, not {records}", self.records_in));
        }
        if self.delivered != records || self.held != 0 {
            p.push(format!("{} delivered and {} held, not {records} delivered", self.delivered, self.held));
        }
        let booked = self.seen.booked.len() as u64;
        if booked != records {
            p.push(format!("the ERP booked {booked} distinct orders, not {records}"));
        }
        let twice = self.seen.booked.values().filter(|n| **n > 1).count();
        if twice > 0 {
            p.push(format!("{twice} orders were booked more than once"));
        }
        if self.seen.malformed > 0 {
            p.push(format!("{} request bodies were not orders", self.seen.malformed));
        }
        p
    }
}

/// The benchmark flows, checked and lowered once.
struct Flows {
    program: flowgate::ir::Program,
}

impl Flows {
    fn load() -> Flows {
        let outcome = flowgate::check_files(&[PathBuf::from(FLOW)]).expect("cannot read deliver.flow");
        let Some(program) = outcome.ir() else {
            panic!("deliver.flow has errors:\n{}", flowgate::diagnostic::render_plain(&outcome.diagnostics));
        };
        Flows { program }
    }

    fn flow(&self, mode: Mode) -> &flowgate::ir::Flow {
        self.program.flows.iter().find(|f| f.name == mode.flow()).expect("the flow is in deliver.flow")
    }
}

/// `flowgate_delivery_seconds` count and sum for a flow's `erp` sink, from the metrics.
fn latency_totals(flow: &str) -> (u64, f64) {
    let text = flowgate::metrics::render();
    let labels = format!("{{flow=\"{flow}\",sink=\"erp\"}}");
    let value = |name: &str| -> Option<f64> {
        let prefix = format!("flowgate_delivery_seconds_{name}{labels} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
    };
    (value("count").unwrap_or(0.0) as u64, value("sum").unwrap_or(0.0))
}

fn run_library(flows: &Flows, rt: &tokio::runtime::Runtime, erp: &Erp, mode: Mode, store: Store, input: &Path) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let state: Arc<dyn StateStore> = match store {
        Store::Sqlite => Arc::new(SqliteStore::open(dir.path().join("state.db")).expect("a SqliteStore")),
        _ => Arc::new(MemoryStore::new()),
    };
    let opts = RunOptions {
        dry_run: false,
        inputs: Some(vec![input.to_string_lossy().into_owned()]),
        input_format: None,
        now: chrono::Utc::now().fixed_offset(),
        env: HashMap::from([("ERP_URL".to_string(), format!("http://{}", erp.addr))]),
        base_dir: dir.path().to_path_buf(),
        progress: false,
        keep_events: false,
        display_root: None,
        retention: None,
        regroup: None,
        responses: None,
    };
    let flow = flows.flow(mode);
    let _ = erp.take();
    let lat0 = latency_totals(flow.name.as_str());
    let (cpu0, erp_cpu0) = (sys::cpu_time(), erp.cpu());
    let start = Instant::now();
    let report = rt.block_on(flowgate::runtime::run(&flows.program, flow, state, opts)).expect("the flow run failed");
    let end = Instant::now();
    let (cpu1, erp_cpu1) = (sys::cpu_time(), erp.cpu());
    let lat1 = latency_totals(flow.name.as_str());
    let seen = erp.take();
    let delta = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
    Run {
        wall: end - start,
        cpu: delta(cpu0, cpu1),
        erp_cpu: delta(erp_cpu0, erp_cpu1),
        records_in: report.summary.records_in,
        delivered: report.summary.delivered,
        held: report.summary.held,
        lead: seen.first.map_or(Duration::ZERO, |f| f.saturating_duration_since(start)),
        tail: seen.last.map_or(Duration::ZERO, |l| end.saturating_duration_since(l)),
        latency: Some((lat1.0 - lat0.0, lat1.1 - lat0.1)),
        seen,
    }
}

/// The release binary, built first (a no-op when it is current).
fn release_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--bin", "flowgate"])
        .current_dir(root)
        .status()
        .expect("cannot run cargo build --release");
    assert!(status.success(), "cargo build --release failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("release/flowgate")
}

fn run_cli(exe: &Path, erp: &Erp, mode: Mode, input: &Path) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _ = erp.take();
    let start = Instant::now();
    let out = Command::new(exe)
        .arg("run")
        .arg(FLOW)
        .args(["--flow", mode.flow(), "--input"])
        .arg(input)
        .arg("--state")
        .arg(dir.path().join("state.db"))
        .env("ERP_URL", format!("http://{}", erp.addr))
        .env("RUST_LOG", "warn")
        .output()
        .expect("cannot run flowgate");
    let end = Instant::now();
    let seen = erp.take();
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "flowgate run failed:\n{summary}");
    let count = |label: &str| -> u64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).and_then(|rest| rest.split_whitespace().next()?.parse().ok()))
            .unwrap_or_else(|| panic!("no `{label}` in {summary}"))
    };
    Run {
        wall: end - start,
        cpu: None,
        erp_cpu: None,
        records_in: count("records in"),
        delivered: count("delivered"),
        held: count("held"),
        lead: seen.first.map_or(Duration::ZERO, |f| f.saturating_duration_since(start)),
        tail: seen.last.map_or(Duration::ZERO, |l| end.saturating_duration_since(l)),
        latency: None,
        seen,
    }
}

/// What the delivery log costs on its own, on a fresh SqliteStore in a temporary file,
/// one call after another: a `delivered` check, a `record_delivery` (a transaction and an
/// fsync each), and a `record_deliveries` of `CONCURRENCY` keys (one commit for a group
/// of the size the sink's workers can hand over at once).
fn probe_delivery_log(n: u32) -> (Duration, Duration, Duration) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path().join("state.db")).expect("a SqliteStore");
    let now = chrono::Utc::now();
    let start = Instant::now();
    for i in 0..n {
        let _ = store.delivered("probe", "erp", &format!("k{i}"));
    }
    let check = start.elapsed() / n;
    let start = Instant::now();
    for i in 0..n {
        store.record_delivery("probe", "erp", &format!("k{i}"), 201, now).expect("a delivery log write");
    }
    let one = start.elapsed() / n;
    let start = Instant::now();
    for i in 0..n {
        let group: Vec<(String, u16, chrono::DateTime<chrono::Utc>)> =
            (0..CONCURRENCY).map(|j| (format!("g{i}-{j}"), 201, now)).collect();
        store.record_deliveries("probe", "erp", &group).expect("a delivery log write");
    }
    (check, one, start.elapsed() / n)
}

/// What one request to the ERP takes when nothing else is in flight: `n` requests one
/// after another from a client like the sink's, the server's own time and the round trip.
fn probe_erp(rt: &tokio::runtime::Runtime, erp: &Erp, n: usize) -> (Duration, Duration, Duration) {
    let url = format!("http://{}/orders", erp.addr);
    let _ = erp.take();
    let rtts = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut rtts = Vec::with_capacity(n);
        for i in 0..n {
            let start = Instant::now();
            let resp = client
                .post(&url)
                .header("Content-Type", "application/json")
                .body(format!("{{\"ref\": \"probe-{i}\", \"amount\": \"1.00\"}}"))
                .send()
                .await
                .expect("the ERP answers");
            assert_eq!(resp.status().as_u16(), 201, "the ERP books the probe");
            // The first request opens the connection; the sink's stay open.
            if i > 0 {
                rtts.push(start.elapsed());
            }
        }
        rtts
    });
    let seen = erp.take();
    let rtt = rtts.iter().sum::<Duration>() / rtts.len().max(1) as u32;
    (seen.mean_service(), seen.service_pct(99.0), rtt)
}

fn write_input(path: &Path, n: u64) {
    let text: String = (0..n)
        .map(|i| format!("{{\"ref\": \"o{i:06}\", \"amount\": \"{}.{:02}\"}}\n", 10 + i % 490, i % 100))
        .collect();
    std::fs::write(path, text).expect("cannot write the input");
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// `a` as a multiple of `b` ("1.18x"), or "-" when `b` is nothing.
fn times(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "-".into();
    }
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

/// The ideal wall time: the requests, `concurrency` at a time, each taking `delay`.
fn ideal(requests: u64, delay: Duration) -> Duration {
    delay * requests as u32 / CONCURRENCY as u32
}

fn detail(r: &Run, records: u64, delay: Duration) {
    let s = &r.seen;
    let window = s.window();
    println!(
        "    ERP: {} requests ({} JSON arrays of {:.1} orders on average), {} orders booked; service time mean {} \
         (p50 {}, p99 {}, max {}) for a {} delay",
        s.requests,
        s.arrays,
        if s.arrays > 0 { s.array_records as f64 / s.arrays as f64 } else { 0.0 },
        s.booked.values().map(|n| u64::from(*n)).sum::<u64>(),
        ms(s.mean_service()),
        ms(s.service_pct(50.0)),
        ms(s.service_pct(99.0)),
        ms(s.service_pct(100.0)),
        ms(delay),
    );
    println!(
        "    in flight at the ERP: mean {:.2}, max {}; {} or more for {:.1}% of the {} between the first request \
         and the last answer",
        s.mean_in_flight(),
        s.max_in_flight,
        CONCURRENCY,
        if window.is_zero() { 0.0 } else { 100.0 * s.full_secs / window.as_secs_f64() },
        secs(window),
    );
    let floor = s.mean_service() * s.requests as u32 / CONCURRENCY as u32;
    // Requests go out in waves of 16 at best: 100 requests take 7 waves, not 6.25.
    let waves = s.mean_service() * s.requests.div_ceil(CONCURRENCY as u64) as u32;
    println!(
        "    run start to first request {}, last answer to run end {}; bound at the measured service time \
         ({} requests x {} / {CONCURRENCY}) {}, in whole waves of {CONCURRENCY} {}",
        ms(r.lead),
        ms(r.tail),
        s.requests,
        ms(s.mean_service()),
        secs(floor),
        secs(waves),
    );
    if let Some((n, sum)) = r.latency.filter(|(n, _)| *n > 0) {
        let mean = Duration::from_secs_f64(sum / n as f64);
        print!(
            "    sink: delivery latency mean {} ({} over the ERP's service time: the idempotency check, loopback \
             HTTP and the delivery log's commit)",
            ms(mean),
            ms(mean.saturating_sub(s.mean_service())),
        );
        if s.requests >= 4 * CONCURRENCY as u64 {
            // Each of the 16 workers spent wall x 16 / requests per request it sent. A worker
            // hands an accepted delivery to the log and goes on, so the commit is not in it:
            // over the ERP's time, it is the check, loopback HTTP and waiting for work.
            let slot = r.wall * CONCURRENCY as u32 / s.requests as u32;
            print!(
                "; a worker's time per request {} ({} over the ERP's service time)",
                ms(slot),
                ms(slot.saturating_sub(s.mean_service()))
            );
        }
        println!();
    }
    if let Some(cpu) = r.cpu {
        let erp = r.erp_cpu.unwrap_or_default();
        let rest = cpu.saturating_sub(erp);
        println!(
            "    CPU: {} in all = {:.2} of {} cores over the run (fake ERP threads {}, flowgate {}: {:.1} us a record)",
            secs(cpu),
            cpu.as_secs_f64() / r.wall.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            secs(erp),
            secs(rest),
            rest.as_secs_f64() * 1e6 / records as f64,
        );
    }
}

fn median_by_wall(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.wall);
    let i = runs.len() / 2;
    runs.swap_remove(i)
}

fn main() {
    let args = parse_args();
    let records = args.records;
    println!(
        "flowgate delivery benchmark: {records} orders -> http.post, concurrency {CONCURRENCY}, fake ERP on loopback \
         answering 201 after {}",
        ms(args.delay)
    );
    println!(
        "machine: {} x {}, load average {} (uptime)",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        loadavg()
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("in.ndjson");
    write_input(&input, records);
    let flows = Flows::load();
    let erp = Erp::start(args.delay, CONCURRENCY);
    // As `flowgate run` does: a multi-threaded runtime with a worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let exe = args.stores.contains(&Store::Cli).then(release_binary);
    let (service, service_p99, rtt) = probe_erp(&rt, &erp, 101);
    println!(
        "fake ERP, 100 requests one at a time: service time mean {} (p99 {}) for a {} delay, round trip from a \
         client {}; floor at {CONCURRENCY} in flight: {records} x {} / {CONCURRENCY} = {} one request per record",
        ms(service),
        ms(service_p99),
        ms(args.delay),
        ms(rtt),
        ms(rtt),
        secs(rtt * records as u32 / CONCURRENCY as u32),
    );
    if args.stores.contains(&Store::Sqlite) {
        let (check, one, group) = probe_delivery_log(200);
        println!(
            "delivery log (SqliteStore, WAL, synchronous = FULL), one call at a time: `delivered` {}, \
             `record_delivery` {} (at most {:.0} deliveries/s one commit each), `record_deliveries` of \
             {CONCURRENCY} {} (at most {:.0} deliveries/s in groups of {CONCURRENCY})",
            ms(check),
            ms(one),
            1.0 / one.as_secs_f64().max(1e-9),
            ms(group),
            CONCURRENCY as f64 / group.as_secs_f64().max(1e-9),
        );
    }

    let mut table: Vec<(Mode, Store, Run)> = Vec::new();
    let mut failed = false;
    for &mode in &args.modes {
        for &store in &args.stores {
            let mut runs = Vec::new();
            for i in 0..args.runs {
                let load = loadavg();
                let r = match (store, &exe) {
                    (Store::Cli, Some(exe)) => run_cli(exe, &erp, mode, &input),
                    _ => run_library(&flows, &rt, &erp, mode, store, &input),
                };
                let id = ideal(mode.requests(records), args.delay);
                println!();
                println!(
                    "{} / {} run {}/{}: {} wall, {:.0} records/s, {} requests, {} the ideal {} \
                     (load average before {load})",
                    mode.label(),
                    store.label(),
                    i + 1,
                    args.runs,
                    secs(r.wall),
                    records as f64 / r.wall.as_secs_f64(),
                    r.seen.requests,
                    times(r.wall, id),
                    secs(id),
                );
                detail(&r, records, args.delay);
                let problems = r.problems(records);
                if problems.is_empty() {
                    println!("    verified: {records} orders booked exactly once, none held");
                } else {
                    failed = true;
                    for p in problems {
                        println!("    WRONG: {p}");
                    }
                }
                runs.push(r);
            }
            table.push((mode, store, median_by_wall(runs)));
        }
    }

    println!();
    println!("summary ({} run(s) each, the median by wall time):", args.runs);
    println!(
        "  {:<8} {:<11} {:>9} {:>11} {:>9} {:>10} {:>7} {:>9}  {:<9} target",
        "mode", "store", "wall", "records/s", "requests", "ideal", "ratio", "vs floor", "booked"
    );
    for (mode, store, r) in &table {
        let expected = mode.requests(records);
        let id = ideal(expected, args.delay);
        let ratio = r.wall.as_secs_f64() / id.as_secs_f64();
        let ok = r.problems(records).is_empty();
        let target = match mode {
            _ if id.is_zero() => "no ideal without a delay".to_string(),
            Mode::Each if ratio <= TARGET_RATIO => format!("met (<= {TARGET_RATIO}x)"),
            Mode::Each => format!("MISSED (> {TARGET_RATIO}x)"),
            Mode::Batched => format!("{} over the ideal", ms(r.wall.saturating_sub(id))),
        };
        let floor = r.seen.mean_service() * r.seen.requests as u32 / CONCURRENCY as u32;
        println!(
            "  {:<8} {:<11} {:>9} {:>11.0} {:>9} {:>10} {:>7} {:>9}  {:<9} {}",
            mode.label(),
            store.label(),
            secs(r.wall),
            records as f64 / r.wall.as_secs_f64(),
            r.seen.requests,
            secs(id),
            times(r.wall, id),
            times(r.wall, floor),
            if ok { format!("{} ok", r.seen.booked.len()) } else { "WRONG".into() },
            target,
        );
    }
    println!(
        "  ideal: requests x {} / {CONCURRENCY} ({records} requests one by one, {} in batches of {BATCH}); \
         floor: the same at the ERP's measured mean service time (its {} delay plus its timer's wake-up)",
        ms(args.delay),
        Mode::Batched.requests(records),
        ms(args.delay),
    );
    if failed {
        eprintln!("error: some orders were not booked exactly once (see WRONG above)");
        std::process::exit(1);
    }
}
