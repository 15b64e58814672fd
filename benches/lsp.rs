//! `cargo bench --bench lsp`: `flowgate lsp` as an editor uses it, over stdio.
//!
//! A generated flow of about 1,000 lines is opened, then edited: each edit changes one
//! number (every tenth introduces an unknown field, so the diagnostics change too), and
//! the time from writing the `didChange` notification to reading the
//! `publishDiagnostics` for that version is measured. The server runs with
//! `--debounce-ms 0`, so the figure excludes the debounce an editor would add, and it is
//! pinned to the one CPU the benchmark starts on (with the benchmark). After every edit
//! the server's resident memory (VmRSS in /proc) is sampled: it should stay flat, since a
//! document keeps one analysis of its latest text.
//!
//! Environment: `FLOWGATE_BENCH_EDITS` (default 10000) edits in all, of which the first
//! `FLOWGATE_BENCH_TIMED` (default 500) after a warm-up are reported as latencies;
//! `FLOWGATE_BENCH_LINES` (default 1000) sets the size of the flow.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A valid flow file of about `lines` lines; `edit` sets the number in its first filter,
/// and `broken` misspells a field there.
fn generate(lines: usize, edit: usize, broken: bool) -> String {
    let mut t = String::from("type Item = {\n  sku: String\n  qty: Int\n  price: Decimal(2)?\n  note: String?\n}\n\n");
    t.push_str("type Line = {\n  sku: String\n  qty: Int\n  total: Decimal(2)\n  note: String\n}\n\n");
    t.push_str("lookup codes: String -> String = {\n");
    for k in 0..40 {
        t.push_str(&format!("  \"SKU-{k}\" => \"C{k}\",\n"));
    }
    t.push_str("}\n\n");
    let mut f = 0;
    while t.lines().count() < lines {
        let qty = if f == 0 {
            if broken {
                "record.qtty".to_string()
            } else {
                "record.qty".to_string()
            }
        } else {
            "record.qty".to_string()
        };
        let min = if f == 0 { edit } else { f };
        t.push_str(&format!(
            "flow items_{f} {{\n  source items: stdin {{}} : Item\n  filter {qty} > {min}\n  \
             let price = record.price ?? 0.00\n  validate {{\n    record.sku != \"\" else hold \"no_sku\" \"no sku\"\n    \
             record.qty < 10000 else hold \"too_many\" \"${{record.qty}} is too many\"\n  }}\n  \
             hold when price > 1000.00 \"review\" \"price ${{price}} needs a review\"\n  map : Line {{\n    \
             sku: codes[record.sku] ?? hold \"unknown_sku\" \"no code for ${{record.sku}}\"\n    qty: record.qty * 2\n    \
             total: (price * 1.20).round(2, half_even)\n    note: record.note?.upper() ?? \"\"\n  }}\n  \
             sink out: stdout {{}}\n}}\n\n"
        ));
        f += 1;
    }
    t
}

struct Lsp {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Lsp {
    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The diagnostics published for `version`.
    fn diagnostics(&mut self, version: usize) -> Value {
        loop {
            let m = self.read();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version {
                return m["params"]["diagnostics"].clone();
            }
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Pins this process, and so the server it starts, to the CPU it is running on.
fn pin_to_one_cpu() -> i32 {
    // SAFETY: plain libc calls on a zeroed cpu_set_t owned by this frame.
    unsafe {
        let cpu = libc::sched_getcpu().max(0);
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        cpu
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let edits = env_usize("FLOWGATE_BENCH_EDITS", 10_000);
    let timed = env_usize("FLOWGATE_BENCH_TIMED", 500).min(edits);
    let lines = env_usize("FLOWGATE_BENCH_LINES", 1000);
    let cpu = pin_to_one_cpu();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap().join("bench.flow");
    let text = generate(lines, 0, false);
    std::fs::write(&path, &text).unwrap();
    let uri = flowgate::lsp::path_to_uri(&path).unwrap().as_str().to_string();

    let mut child = Command::new(env!("CARGO_BIN_EXE_flowgate"))
        .args(["lsp", "--debounce-ms", "0"])
        .env("FLOWGATE_CACHE_DIR", dir.path().join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start flowgate lsp");
    let pid = child.id();
    let mut lsp = Lsp { stdin: child.stdin.take().unwrap(), stdout: BufReader::new(child.stdout.take().unwrap()) };
    lsp.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    let _ = lsp.read();
    lsp.send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    let open = json!({ "textDocument": { "uri": uri, "languageId": "flowgate", "version": 0, "text": text } });
    lsp.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": open }));
    let first = lsp.diagnostics(0);
    let errors = first.as_array().unwrap().iter().filter(|d| d["severity"] == 1).count();
    assert_eq!(errors, 0, "the generated flow has errors: {first}");
    println!("lsp: {} lines, {} bytes, {} edits, pinned to CPU {cpu}", text.lines().count(), text.len(), edits);

    let warmup = 50.min(edits);
    let mut latencies = Vec::with_capacity(timed);
    let mut rss_after_warmup = 0;
    let mut rss_max = 0;
    let mut samples = Vec::new();
    for v in 1..=edits {
        let broken = v % 10 == 0;
        let text = generate(lines, v % 97, broken);
        let change = json!({
            "textDocument": { "uri": uri, "version": v },
            "contentChanges": [{ "text": text }],
        });
        let start = Instant::now();
        lsp.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": change }));
        let diags = lsp.diagnostics(v);
        let elapsed = start.elapsed();
        assert_eq!(diags.as_array().unwrap().iter().any(|d| d["severity"] == 1), broken, "edit {v}: {diags}");
        if v > warmup && latencies.len() < timed {
            latencies.push(elapsed);
        }
        let rss = rss_kib(pid);
        if v == warmup {
            rss_after_warmup = rss;
        }
        if v > warmup {
            rss_max = rss_max.max(rss);
        }
        if v % (edits / 10).max(1) == 0 {
            samples.push((v, rss));
        }
    }
    latencies.sort();
    if !latencies.is_empty() {
        println!(
            "change -> diagnostics: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} edits timed)",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.9),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
            latencies.len()
        );
    }
    let shown: Vec<String> = samples.iter().map(|(v, r)| format!("{v}: {} MiB", r / 1024)).collect();
    println!("VmRSS after edits: {}", shown.join(", "));
    println!(
        "VmRSS after {warmup} edits {} KiB, highest after that {} KiB (+{} KiB over {} edits)",
        rss_after_warmup,
        rss_max,
        rss_max.saturating_sub(rss_after_warmup),
        edits.saturating_sub(warmup)
    );
    lsp.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null }));
    let _ = lsp.read();
    lsp.send(json!({ "jsonrpc": "2.0", "method": "exit", "params": null }));
    let _ = child.wait();
}
