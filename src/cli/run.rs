//! `flowgate run`: run a flow over its input, or dry-run it over recorded payloads.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::exit;
use super::load::{default_state, load, parse_now};
use crate::connectors::webhook::{self, Limits, StateFile};
use crate::runtime::{self, RunOptions};
use crate::state::{LeaseHolder, SqliteStore, StateStore};

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
    /// With --dry-run: a folder of recorded answers (`*.json`) to `enrich` calls, which a
    /// dry run never sends.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    responses: Option<PathBuf>,
    /// Pin the clock (RFC 3339), for repeatable runs.
    #[arg(long)]
    now: Option<String>,
    /// The state database (default: .flowgate/state.db beside the flow).
    #[arg(long)]
    state: Option<PathBuf>,
    /// With --dry-run: start from these state values (`{ "NAME": { "KEY": value } }`)
    /// instead of the state database's.
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    state_seed: Option<PathBuf>,
    /// Exit 1 when any record was held (for CI dry runs).
    #[arg(long)]
    fail_on_hold: bool,
    /// Serve HTTP on this address (without one, 127.0.0.1:8080): the webhook source's
    /// endpoint, and `/healthz` and `/metrics` (Prometheus) unless --admin-listen moves
    /// them. A flow with a webhook source runs until stopped.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    listen: Option<SocketAddr>,
    /// Serve `/healthz` and `/metrics` on this address instead of --listen's. Anywhere
    /// but loopback they need `Authorization: Bearer $FLOWGATE_ADMIN_TOKEN`.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// How long a client may take to send a request's headers.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// How long a client may take to send a request's body.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    body_timeout: u64,
    /// How long a kept-alive connection may wait for its next request.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    idle_timeout: u64,
    /// Open connections at most; at the limit the longest idle one makes room, and when
    /// none is idle a new one is answered 503.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// Request bodies held in memory at once, in MiB (at least one `max_body`); a
    /// request that would go over is answered 503.
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    max_body_memory: usize,
    /// How log lines look on stderr: text for people, json for log shippers. The level
    /// comes from RUST_LOG (default: info; `debug` adds a line per record and stage).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Keep the payloads of ended holds, done webhook requests and the delivery log this
    /// long (`30d`, `1w`): older ones are purged when the run starts and every hour while
    /// it runs. Held records are never purged.
    #[arg(long, value_name = "AGE", value_parser = super::holds::parse_age)]
    retention: Option<chrono::Duration>,
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
        // A seeded dry run starts from the seed alone, never from the database's values.
        (true, _) if args.state_seed.is_some() => SqliteStore::in_memory().map(|s| Arc::new(s) as Arc<dyn StateStore>),
        (true, false) => SqliteStore::in_memory().map(|s| Arc::new(s) as Arc<dyn StateStore>),
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
    if let Some(seed) = &args.state_seed {
        let seeded = std::fs::read_to_string(seed)
            .map_err(|e| e.to_string())
            .and_then(|text| runtime::state_seed(loaded.flow(), &text))
            .and_then(|writes| {
                store.commit_ends(&loaded.flow().name, &[], &writes, now.to_utc()).map_err(|e| e.to_string())
            });
        if let Err(e) = seeded {
            eprintln!("error: {}: {e}", seed.display());
            return exit::CANNOT_RUN;
        }
    }
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
        retention: args.retention,
        regroup: None,
        responses: args.responses.clone(),
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
            "error: flow `{}` receives webhooks: give the address to listen on with --listen (127.0.0.1:8080 \
             without one) or --listen 0.0.0.0:8080",
            loaded.flow().name
        );
        return exit::CANNOT_RUN;
    }
    // The file the store opened, to notice it being removed or replaced while serving.
    let state_file = (!args.dry_run).then(|| StateFile::of(&path).ok()).flatten();
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
        if let Err(e) = start_server(&rt, args, addr, endpoints, state_file.clone()) {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
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
    // What was stored after the file went is gone with it: not a clean end.
    if let Some(Err(why)) = state_file.as_ref().map(StateFile::check) {
        eprint!("{}", report.summary);
        eprintln!("error: {why}");
        return exit::CANNOT_RUN;
    }
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

/// Starts the HTTP server(s) on `rt`: the webhook endpoints on `addr`, and `/healthz`
/// and `/metrics` there or on `--admin-listen`, behind the admin token off loopback.
fn start_server(
    rt: &tokio::runtime::Runtime,
    args: &RunArgs,
    addr: SocketAddr,
    endpoints: Vec<webhook::Endpoint>,
    state_file: Option<StateFile>,
) -> Result<(), String> {
    let admin_addr = args.admin_listen.unwrap_or(addr);
    let token = std::env::var("FLOWGATE_ADMIN_TOKEN").ok().filter(|t| !t.trim().is_empty());
    if !admin_addr.ip().is_loopback() && token.is_none() {
        return Err(format!(
            "/healthz and /metrics would be served on {admin_addr}, beyond this machine, to anybody: set \
             FLOWGATE_ADMIN_TOKEN (they then need `Authorization: Bearer <token>`), or serve them on loopback \
             with --admin-listen 127.0.0.1:9090"
        ));
    }
    let token = token.filter(|_| !admin_addr.ip().is_loopback());
    let mut limits = Limits {
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        body_timeout: Duration::from_secs(args.body_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        max_connections: args.max_connections.max(1),
        max_body_memory: args.max_body_memory.saturating_mul(1 << 20),
        ..Limits::default()
    };
    // Each connection is a file descriptor: the limit must leave room for the state,
    // the sinks and the admin listener, or accepting fails before the limit is reached.
    let files = raise_open_files();
    if let Some(room) = files.map(|n| n.saturating_sub(64) as usize / 2) {
        if room < limits.max_connections {
            tracing::warn!(max_connections = room, "fewer open files allowed than --max-connections needs");
            limits.max_connections = room.max(1);
        }
    }
    let paths: String = endpoints.iter().map(|e| format!(", {}", e.path)).collect();
    let intake = webhook::Intake::start(endpoints, &limits, state_file).map_err(|e| format!("cannot start: {e}"))?;
    let admin = webhook::admin_routes(intake.health(), token);
    let listener = listen(rt, addr)?;
    let bound = listener.local_addr().map_or_else(|_| addr.to_string(), |a| a.to_string());
    let app = if args.admin_listen.is_some() {
        let admin_listener = listen(rt, admin_addr)?;
        let admin_bound = admin_listener.local_addr().map_or_else(|_| admin_addr.to_string(), |a| a.to_string());
        eprintln!(
            "flowgate: listening on http://{bound} ({}); admin on http://{admin_bound} (/healthz, /metrics)",
            paths.trim_start_matches(", ")
        );
        // The admin listener has its own connections: a flood of webhook connections
        // does not keep health checks out.
        let admin_limits = Limits { max_connections: 64, ..limits.clone() };
        rt.spawn(async move {
            if let Err(e) = webhook::serve_with(admin_listener, admin, admin_limits).await {
                tracing::error!(error = %e, "the admin server stopped");
            }
        });
        intake.routes()
    } else {
        eprintln!("flowgate: listening on http://{bound} (/healthz, /metrics{paths})");
        intake.routes().merge(admin)
    };
    rt.spawn(async move {
        if let Err(e) = webhook::serve_with(listener, app, limits).await {
            tracing::error!(error = %e, "the webhook server stopped");
        }
    });
    Ok(())
}

/// A listener on `addr` with a backlog that holds a burst of senders while the
/// accept loop catches up (the kernel may cap it lower: net.core.somaxconn).
fn listen(rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    let _guard = rt.enter();
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
    socket
        .and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            s.listen(4096)
        })
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// Raises this process's soft limit of open files to its hard limit (service managers
/// often start processes at 1024) and returns the limit in force.
fn raise_open_files() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    Some(lim.rlim_cur)
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
