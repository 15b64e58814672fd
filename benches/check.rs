//! `cargo bench --bench check`: the front end (`flowgate::check_text`) over a generated
//! project of about 10,000 lines.
//!
//! The input is type-correct, so the time is that of a clean run through every stage
//! the front end has. Environment: `FLOWGATE_BENCH_LINES` (default 10000) sets the size,
//! `FLOWGATE_BENCH_ITERS` (default 20) the number of timed runs, and
//! `FLOWGATE_BENCH_DUMP=path` writes the generated file there.

mod gen;

use std::time::{Duration, Instant};

use flowgate::diagnostic::render_plain;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
}
