//! `cargo bench --bench check`: the front end (`flowgate::check_text`) over a generated
//! project of about 10,000 lines.
//!
//! The input is type-correct, so the time is that of a clean run through every stage
//! the front end has. Environment: `FLOWGATE_BENCH_LINES` (default 10000) sets the size,
//! `FLOWGATE_BENCH_ITERS` (default 20) the number of timed runs, and
//! `FLOWGATE_BENCH_DUMP=path` writes the generated file there.
//!
//! A second part checks one very large file (`FLOWGATE_BENCH_LARGE_MB`, default 50; 0
//! skips it) of type declarations and an inline lookup table, and an eighth of it, and
//! prints the ratio of the two times: about 8 when checking is linear in the size of the
//! file. A file that checks in quadratic time shows a ratio near 64.

mod gen;

use std::time::{Duration, Instant};

use flowgate::diagnostic::render_plain;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A valid flow of about `bytes` bytes: half record type declarations, half the rows
/// of one inline lookup table, and a flow that uses both.
fn large_flow(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 1024);
    let mut i = 0;
    while text.len() < bytes / 2 {
        text.push_str(&format!("type T{i} = {{ sku: String, qty: Int, price: Decimal?, note: String? }}\n"));
        i += 1;
    }
    text.push_str("lookup codes: String -> String = {\n");
    let mut k = 0;
    while text.len() < bytes {
        text.push_str(&format!("  \"SKU-{k:08}\" => \"CODE-{k:08}\"\n"));
        k += 1;
    }
    text.push_str("}\n");
    text.push_str(
        "flow large {\n  source in: stdin : T0\n  map : T1 { sku: codes[record.sku] ?? \"none\", qty: record.qty, \
         price: record.price, note: record.note }\n  sink out: stdout\n}\n",
    );
    text
}

/// Checks one file once and returns the time, refusing a file with errors.
fn check_once(text: &str) -> Duration {
    let start = Instant::now();
    let outcome = flowgate::check_text("large.flow", std::hint::black_box(text));
    let elapsed = start.elapsed();
    if outcome.diagnostics.has_errors() {
        let report = render_plain(&outcome.diagnostics);
        let head: String = report.lines().take(30).collect::<Vec<_>>().join("\n");
        panic!("the large generated file has errors:\n{head}");
    }
    elapsed
}

fn large(mb: usize) {
    let full = large_flow(mb << 20);
    let eighth = large_flow((mb << 20) / 8);
    let small = check_once(&eighth);
    let big = check_once(&full);
    let mib = |t: &str| t.len() as f64 / f64::from(1 << 20);
    println!(
        "check_text, large file: {:.1} MiB in {:.2} s ({:.1} MiB/s); {:.1} MiB in {:.2} s; ratio {:.1} for 8x the size",
        mib(&full),
        big.as_secs_f64(),
        mib(&full) / big.as_secs_f64(),
        mib(&eighth),
        small.as_secs_f64(),
        big.as_secs_f64() / small.as_secs_f64()
    );
}

fn main() {
    let target = env_usize("FLOWGATE_BENCH_LINES", 10_000);
    let iters = env_usize("FLOWGATE_BENCH_ITERS", 20).max(1);
    let text = gen::generate(gen::Size::for_lines(target));
    let lines = text.lines().count();
    if let Ok(path) = std::env::var("FLOWGATE_BENCH_DUMP") {
        std::fs::write(&path, &text).expect("cannot write the generated file");
        println!("wrote the generated file to {path}");
    }
    println!("check: generated {lines} lines ({} KiB)", text.len() / 1024);

    // The input must stay valid, or the benchmark would time error paths.
    let outcome = flowgate::check_text("bench.flow", &text);
    if outcome.diagnostics.has_errors() {
        let report = render_plain(&outcome.diagnostics);
        let head: String = report.lines().take(60).collect::<Vec<_>>().join("\n");
        panic!(
            "the generated file has {} errors; fix the generator (benches/gen):\n{head}",
            outcome.diagnostics.error_count()
        );
    }
    let warnings = outcome.diagnostics.warning_count();
    if warnings > 0 {
        println!("note: {warnings} warnings on the generated file");
    }

    for _ in 0..3 {
        std::hint::black_box(flowgate::check_text("bench.flow", std::hint::black_box(&text)));
    }
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            let outcome = flowgate::check_text("bench.flow", std::hint::black_box(&text));
            let elapsed = start.elapsed();
            drop(std::hint::black_box(outcome));
            elapsed
        })
        .collect();
    times.sort();
    let min = times[0];
    let median = times[times.len() / 2];
    let per_sec = lines as f64 / median.as_secs_f64();
    println!(
        "check_text: {iters} runs, min {:.2} ms, median {:.2} ms, {:.0} lines/s (median)",
        ms(min),
        ms(median),
        per_sec
    );
    let large_mb = env_usize("FLOWGATE_BENCH_LARGE_MB", 50);
    if large_mb > 0 {
        large(large_mb);
    }
}
