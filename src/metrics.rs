//! Counters for `/metrics` (Prometheus text format): records in, delivered, filtered,
//! held and retried, per flow and sink, and a histogram of delivery latency. Process
//! wide, like any metrics registry; labels are flow and sink names, never record data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default)]
struct Registry {
    /// (name, flow, sink) and count. A list, searched in place: there are a few dozen at
    /// most, and a count goes up for every record, which must not cost an allocation.
    counters: Vec<(&'static str, String, String, u64)>,
    latency: BTreeMap<(String, String), (Vec<u64>, u64, f64)>,
    /// Counters of the process as a whole (the webhook server's connections), no labels.
    global: BTreeMap<&'static str, u64>,
    /// Gauges of the process as a whole: values that go down as well as up.
    gauges: BTreeMap<&'static str, u64>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut r = REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut r)
}

/// Adds `n` to a counter: `records_in`, `records_filtered`, `records_held`,
/// `webhooks_received`, `webhooks_rejected`, `webhooks_busy`, `webhook_store_errors`,
/// `inbox_read_errors` (sink "") or `records_delivered`, `deliveries_retried` (per
/// sink).
pub fn add(name: &'static str, flow: &str, sink: &str, n: u64) {
    with(|r| match r.counters.iter_mut().find(|(k, f, s, _)| *k == name && f == flow && s == sink) {
        Some((.., count)) => *count += n,
        None => r.counters.push((name, flow.to_string(), sink.to_string(), n)),
    });
}

/// Adds `n` to a counter of the whole process: `webhook_connections_refused`,
/// `webhook_connections_evicted`, `webhook_connections_timed_out`,
/// `webhook_accept_errors`.
pub fn add_global(name: &'static str, n: u64) {
    with(|r| *r.global.entry(name).or_default() += n);
}

/// Sets a gauge of the whole process: `webhook_connections`.
pub fn set_global(name: &'static str, value: u64) {
    with(|r| {
        r.gauges.insert(name, value);
    });
}

/// Records how long one delivery took, retries included.
pub fn observe_latency(flow: &str, sink: &str, seconds: f64) {
    with(|r| {
        let e =
            r.latency.entry((flow.to_string(), sink.to_string())).or_insert_with(|| (vec![0; BUCKETS.len()], 0, 0.0));
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                e.0[i] += 1;
            }
        }
        e.1 += 1;
        e.2 += seconds;
    });
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Everything, in the Prometheus text exposition format.
pub fn render() -> String {
    with(|r| {
        let mut out = String::new();
        let mut last = "";
        let mut counters: Vec<_> = r.counters.iter().collect();
        counters.sort();
        for (name, flow, sink, v) in counters {
            if *name != last {
                let _ = writeln!(out, "# TYPE flowgate_{name}_total counter");
                last = name;
            }
            let sink_label = if sink.is_empty() { String::new() } else { format!(",sink=\"{}\"", escape(sink)) };
            let _ = writeln!(out, "flowgate_{name}_total{{flow=\"{}\"{sink_label}}} {v}", escape(flow));
        }
        for (name, v) in &r.global {
            let _ = writeln!(out, "# TYPE flowgate_{name}_total counter\nflowgate_{name}_total {v}");
        }
        for (name, v) in &r.gauges {
            let _ = writeln!(out, "# TYPE flowgate_{name} gauge\nflowgate_{name} {v}");
        }
        if !r.latency.is_empty() {
            let _ = writeln!(out, "# TYPE flowgate_delivery_seconds histogram");
        }
        for ((flow, sink), (buckets, count, sum)) in &r.latency {
            let labels = format!("flow=\"{}\",sink=\"{}\"", escape(flow), escape(sink));
            for (b, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(out, "flowgate_delivery_seconds_bucket{{{labels},le=\"{b}\"}} {n}");
            }
            let _ = writeln!(out, "flowgate_delivery_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "flowgate_delivery_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "flowgate_delivery_seconds_count{{{labels}}} {count}");
        }
        out
    })
}
