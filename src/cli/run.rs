//! `flowgate run`: run a flow over its input, or dry-run it over recorded payloads.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::exit;
use super::load::{default_state, load, parse_now};
use crate::runtime::{self, RunOptions};
use crate::state::{LeaseHolder, MemoryStore, SqliteStore, StateStore};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The .flow file.
    flow_file: PathBuf,
    /// Which flow, when the file declares several.
    #[arg(long)]
    flow: Option<String>,
    /// Files that replace the source's input (globs allowed; `-` is stdin).
    #[arg(long, num_args = 1..)]
    input: Option<Vec<String>>,
    /// Record what each sink would send instead of sending; report holds, store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Pin the clock (RFC 3339), for repeatable runs.
    #[arg(long)]
    now: Option<String>,
    /// The state database (default: .flowgate/state.db beside the flow).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Exit 1 when any record was held (for CI dry runs).
    #[arg(long)]
    fail_on_hold: bool,
    /// Serve HTTP on this address: the webhook source's endpoint, `/healthz` and
    /// `/metrics` (Prometheus). A flow with a webhook source runs until stopped.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// How log lines look on stderr: text for people, json for log shippers. The level
    /// comes from RUST_LOG (default: info; `debug` adds a line per record and stage).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// After SIGINT or SIGTERM, how long records in flight may take to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    grace: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::scrub::ScrubbedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn run(args: &RunArgs) -> u8 {
    if !args.dry_run {
        init_logging(args.log_format);
    }
    let loaded = match load(&args.flow_file, args.flow.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let now = match parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    // A dry run reads the state (so it shows what a real run would do now) but never
    // writes it: holds are reported, dedupe keys are not committed, and where there is
    // no state yet none is created; it runs as a first real run would, on empty state.
    let path = args.state.clone().unwrap_or_else(|| default_state(&loaded.base_dir));
    let opened = match (args.dry_run, path.exists()) {
        (true, false) => Ok(Arc::new(MemoryStore::new()) as Arc<dyn StateStore>),
        (true, true) => SqliteStore::open_existing(&path).map(|s| Arc::new(s) as Arc<dyn StateStore>),
        // A real run refuses a state whose file fails SQLite's quick check.
        (false, _) => SqliteStore::open(&path)
            .and_then(|s| s.quick_check().map(|()| s))
            .map(|s| Arc::new(s) as Arc<dyn StateStore>),
    };
    let store = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    // A real run (with its webhook server) owns its state until it ends, before it reads
    // or sends anything; a dry run only reads.
    let command = format!("flowgate run {}", args.flow_file.display());
    let _lease = match args.dry_run {
        true => None,
        false => match store.lease(&LeaseHolder::this_process(&command)) {
            Ok(lease) => Some(lease),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::CANNOT_RUN;
            }
        },
    };
    let opts = RunOptions {
        dry_run: args.dry_run,
        inputs: args.input.clone(),
        input_format: None,
        now,
        env: std::env::vars().collect(),
        base_dir: loaded.base_dir.clone(),
        progress: !args.dry_run && std::io::stderr().is_terminal(),
        keep_events: args.dry_run,
        display_root: None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let webhook = loaded.flow().source.kind == "webhook" && args.input.is_none() && !args.dry_run;
    if webhook && args.listen.is_none() {
        eprintln!(
            "error: flow `{}` receives webhooks: give the address to listen on with --listen 0.0.0.0:8080",
            loaded.flow().name
        );
        return exit::CANNOT_RUN;
    }
    if let Some(addr) = args.listen {
        let endpoints = if webhook {
            match runtime::webhook_endpoint(&loaded.program, loaded.flow(), &opts, store.clone()) {
                Ok(e) => vec![e],
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::CANNOT_RUN;
                }
            }
        } else {
            Vec::new()
        };
        let listener = match rt.block_on(tokio::net::TcpListener::bind(addr)) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return exit::CANNOT_RUN;
            }
        };
        let bound = listener.local_addr().map_or_else(|_| addr.to_string(), |a| a.to_string());
        eprintln!(
            "flowgate: listening on http://{bound} (/healthz, /metrics{})",
            endpoints.iter().map(|e| format!(", {}", e.path)).collect::<String>()
        );
        rt.spawn(async move {
            if let Err(e) = crate::connectors::webhook::serve(listener, endpoints).await {
                tracing::error!(error = %e, "the webhook server stopped");
            }
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    rt.spawn(watch_signals(stop.clone(), Duration::from_secs(args.grace)));
    let result = rt.block_on(runtime::run_until(&loaded.program, loaded.flow(), store, opts, stop));
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    if args.dry_run {
        let _ = write!(std::io::stdout(), "{}", runtime::report::render(&report));
    } else {
        eprint!("{}", report.summary);
    }
    if args.fail_on_hold && report.summary.held > 0 {
        exit::FOUND
    } else {
        exit::OK
    }
}

/// The first SIGINT or SIGTERM stops intake and lets records in flight finish; a second
/// signal, or the end of the grace period, exits at once. Every commit is a transaction,
/// so stopping at once corrupts nothing: records not yet ended are read again next run.
async fn watch_signals(stop: Arc<AtomicBool>, grace: Duration) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    stop.store(true, Ordering::Relaxed);
    eprintln!("flowgate: stopping: no new records are read; records in flight finish (signal again to stop at once)");
    tokio::select! {
        _ = term.recv() => eprintln!("flowgate: stopping at once"),
        _ = int.recv() => eprintln!("flowgate: stopping at once"),
        _ = tokio::time::sleep(grace) => eprintln!("flowgate: the grace period is over; stopping at once"),
    }
    eprintln!("flowgate: records not yet delivered, filtered or held are read again on the next run");
    std::process::exit(130);
}
