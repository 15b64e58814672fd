//! The fake ERP of the delivery benchmark: an axum server on a loopback port, on its own
//! thread and current-thread tokio runtime, that answers every `POST /orders` with 201
//! after a fixed delay (a tokio sleep). It books each order ref it receives (a JSON object,
//! or a JSON array of them for batched deliveries) and keeps what the analysis needs:
//! requests, bookings per ref, how many requests were in flight over time, how long each
//! one took on the server side, and the CPU time of its own thread.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;

/// What the ERP saw since the last `take`.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: u64,
    /// Bookings per order ref: 1 each when nothing was sent twice.
    pub booked: HashMap<String, u32>,
    /// Array bodies (batched deliveries) and the records they carried.
    pub arrays: u64,
    pub array_records: u64,
    /// Bodies that were neither an order nor a list of orders.
    pub malformed: u64,
    /// Server-side time of every request, from the handler's start to its answer.
    pub service: Vec<Duration>,
    pub max_in_flight: usize,
    /// The integral of requests in flight over time, and the time spent with at least
    /// `full` in flight, from the first request's arrival to the last answer.
    pub in_flight_secs: f64,
    pub full_secs: f64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

impl Seen {
    /// From the first request's arrival to the last answer.
    pub fn window(&self) -> Duration {
        match (self.first, self.last) {
            (Some(a), Some(b)) => b.saturating_duration_since(a),
            _ => Duration::ZERO,
        }
    }

    pub fn mean_service(&self) -> Duration {
        if self.service.is_empty() {
            return Duration::ZERO;
        }
        self.service.iter().sum::<Duration>() / self.service.len() as u32
    }

    /// A percentile (0..=100) of the server-side times.
    pub fn service_pct(&self, p: f64) -> Duration {
        if self.service.is_empty() {
            return Duration::ZERO;
        }
        let mut s = self.service.clone();
        s.sort();
        let i = ((s.len() - 1) as f64 * p / 100.0).round() as usize;
        s[i.min(s.len() - 1)]
    }

    pub fn mean_in_flight(&self) -> f64 {
        let w = self.window().as_secs_f64();
        if w > 0.0 {
            self.in_flight_secs / w
        } else {
            0.0
        }
    }
}

struct Inner {
    seen: Seen,
    in_flight: usize,
    changed: Option<Instant>,
}

impl Inner {
    /// Accounts for the time since the last change at the current level, then moves it.
    fn step(&mut self, now: Instant, delta: isize, full: usize) {
        if let Some(t) = self.changed {
            let dt = now.saturating_duration_since(t).as_secs_f64();
            self.seen.in_flight_secs += dt * self.in_flight as f64;
            if self.in_flight >= full {
                self.seen.full_secs += dt;
            }
        }
        self.changed = Some(now);
        self.in_flight = self.in_flight.saturating_add_signed(delta);
        self.seen.max_in_flight = self.seen.max_in_flight.max(self.in_flight);
    }
}

#[derive(Clone)]
struct App {
    inner: Arc<Mutex<Inner>>,
    delay: Duration,
    full: usize,
}

/// A running fake ERP.
pub struct Erp {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    /// The server thread's id, for its CPU time in /proc.
    tid: Option<String>,
}

impl Erp {
    /// Starts the server: every request is answered with 201 after `delay`; `full` is the
    /// number of requests in flight that counts as the sink's full concurrency.
    pub fn start(delay: Duration, full: usize) -> Erp {
        let inner = Arc::new(Mutex::new(Inner { seen: Seen::default(), in_flight: 0, changed: None }));
        let app = App { inner: inner.clone(), delay, full };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fake-erp".into())
            .spawn(move || {
                // "/proc/thread-self" links to "PID/task/TID".
                let tid = std::fs::read_link("/proc/thread-self")
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("the ERP's runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
                    tx.send((listener.local_addr().expect("the ERP's address"), tid)).expect("the bench waits");
                    let router = Router::new().route("/orders", post(orders)).with_state(app);
                    axum::serve(listener, router).await.expect("the ERP stopped");
                });
            })
            .expect("cannot start the ERP's thread");
        let (addr, tid) = rx.recv().expect("the ERP did not start");
        Erp { addr, inner, tid }
    }

    /// What was seen since the last call, and a clean slate for the next run.
    pub fn take(&self) -> Seen {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.changed = None;
        i.in_flight = 0;
        std::mem::take(&mut i.seen)
    }

    /// CPU time the server's thread has used so far (the first field of its schedstat).
    pub fn cpu(&self) -> Option<Duration> {
        let tid = self.tid.as_ref()?;
        let path = PathBuf::from(format!("/proc/self/task/{tid}/schedstat"));
        let text = std::fs::read_to_string(path).ok()?;
        text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
    }
}

fn refs(body: &str) -> Option<(Vec<String>, bool)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let one = |o: &serde_json::Value| o.get("ref").and_then(|r| r.as_str()).map(str::to_string);
    match &v {
        serde_json::Value::Array(items) => items.iter().map(one).collect::<Option<Vec<_>>>().map(|r| (r, true)),
        _ => one(&v).map(|r| (vec![r], false)),
    }
}

async fn orders(State(app): State<App>, body: String) -> StatusCode {
    let start = Instant::now();
    {
        let mut i = app.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.step(start, 1, app.full);
        i.seen.requests += 1;
        i.seen.first.get_or_insert(start);
    }
    let parsed = refs(&body);
    tokio::time::sleep(app.delay).await;
    let done = Instant::now();
    let mut i = app.inner.lock().unwrap_or_else(|e| e.into_inner());
    match parsed {
        Some((refs, array)) => {
            if array {
                i.seen.arrays += 1;
                i.seen.array_records += refs.len() as u64;
            }
            for r in refs {
                *i.seen.booked.entry(r).or_default() += 1;
            }
        }
        None => i.seen.malformed += 1,
    }
    i.seen.service.push(done - start);
    i.step(done, -1, app.full);
    i.seen.last = Some(done);
    StatusCode::CREATED
}
