//! The fake ERP of the delivery benchmark: an axum server on a loopback port, on its own
//! thread and current-thread tokio runtime, that answers every `POST /orders` with 201
//! after a fixed delay from the request's arrival. It books each order ref it receives (a
//! JSON object, or a JSON array of them for batched deliveries) and keeps what the
//! analysis needs: requests, bookings per ref, how many requests were in flight over
//! time, how long each one took on the server side, and the CPU time of its threads.
//!
//! The delay is kept by a timer thread of its own, not a tokio sleep: tokio's timer
//! works in whole milliseconds and rounds up, so a 10 ms sleep took 10.9 ms on average
//! and the bound the benchmark measures against moved with it. The thread sleeps on a
//! condition variable until the earliest deadline, on the kernel's high-resolution
//! timers; what is left over the delay (waking the thread, then the server's runtime)
//! shows in the service times the benchmark prints.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
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

/// A deadline and the handler waiting for it; ordered by deadline, then arrival.
struct Wake {
    at: Instant,
    seq: u64,
    done: tokio::sync::oneshot::Sender<()>,
}

impl PartialEq for Wake {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Wake {}

impl PartialOrd for Wake {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Wake {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Wakes each waiting handler at its deadline, from a thread of its own.
#[derive(Default)]
struct Timer {
    queue: Mutex<(BinaryHeap<Reverse<Wake>>, u64)>,
    changed: Condvar,
}

impl Timer {
    /// Resolves at `at` (a little after: the thread's wake-up and the runtime's).
    async fn until(&self, at: Instant) {
        let (done, rx) = tokio::sync::oneshot::channel();
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let seq = q.1;
            q.1 += 1;
            q.0.push(Reverse(Wake { at, seq, done }));
        }
        self.changed.notify_one();
        let _ = rx.await;
    }

    fn run(&self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            while q.0.peek().is_some_and(|w| w.0.at <= now) {
                if let Some(Reverse(w)) = q.0.pop() {
                    let _ = w.done.send(());
                }
            }
            q = match q.0.peek().map(|w| w.0.at - now) {
                Some(wait) => self.changed.wait_timeout(q, wait).unwrap_or_else(|e| e.into_inner()).0,
                None => self.changed.wait(q).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

#[derive(Clone)]
struct App {
    inner: Arc<Mutex<Inner>>,
    timer: Arc<Timer>,
    delay: Duration,
    full: usize,
}

/// A running fake ERP.
pub struct Erp {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    /// The server's and the timer's thread ids, for their CPU time in /proc.
    tids: Vec<String>,
}

/// This thread's id: "/proc/thread-self" links to "PID/task/TID".
fn thread_id() -> Option<String> {
    std::fs::read_link("/proc/thread-self").ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
}

impl Erp {
    /// Starts the server: every request is answered with 201 after `delay`; `full` is the
    /// number of requests in flight that counts as the sink's full concurrency.
    pub fn start(delay: Duration, full: usize) -> Erp {
        let inner = Arc::new(Mutex::new(Inner { seen: Seen::default(), in_flight: 0, changed: None }));
        let timer = Arc::new(Timer::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let (timer_tx, timer_rx) = std::sync::mpsc::channel();
        let t = timer.clone();
        std::thread::Builder::new()
            .name("fake-erp-timer".into())
            .spawn(move || {
                timer_tx.send(thread_id()).expect("the bench waits");
                t.run();
            })
            .expect("cannot start the ERP's timer thread");
        let app = App { inner: inner.clone(), timer, delay, full };
        std::thread::Builder::new()
            .name("fake-erp".into())
            .spawn(move || {
                let tid = thread_id();
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
        let timer_tid = timer_rx.recv().expect("the ERP's timer did not start");
        Erp { addr, inner, tids: tid.into_iter().chain(timer_tid).collect() }
    }

    /// What was seen since the last call, and a clean slate for the next run.
    pub fn take(&self) -> Seen {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.changed = None;
        i.in_flight = 0;
        std::mem::take(&mut i.seen)
    }

    /// CPU time the server's and the timer's threads have used so far (the first field
    /// of each one's schedstat).
    pub fn cpu(&self) -> Option<Duration> {
        if self.tids.is_empty() {
            return None;
        }
        self.tids
            .iter()
            .map(|tid| {
                let path = PathBuf::from(format!("/proc/self/task/{tid}/schedstat"));
                let text = std::fs::read_to_string(path).ok()?;
                text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
            })
            .sum()
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
    app.timer.until(start + app.delay).await;
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
