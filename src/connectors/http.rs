//! The HTTP sink: sends each rendered delivery, with retries, a rate limit, a number of
//! requests in flight, per-key ordering and idempotency keys checked against the
//! delivery log. What cannot be delivered comes back as a failure to hold, never lost.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::retry::{Failure, RateLimiter, RetryPolicy};
use super::Delivery;
use crate::state::StateStore;
use crate::value::{to_json, Redaction, Value};

/// How one delivery ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Delivered {
        status: u16,
        attempts: u32,
    },
    /// The delivery log already has this idempotency key: not sent again.
    AlreadyDelivered,
    Failed {
        reason: String,
        message: String,
        attempts: u32,
        request: serde_json::Value,
    },
}

/// One HTTP sink's sending side.
pub struct HttpTarget {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    pub limiter: Option<RateLimiter>,
    pub store: Arc<dyn StateStore>,
    pub flow: String,
    pub sink: String,
}

impl HttpTarget {
    pub fn client(timeout: Option<Duration>, connect_timeout: Option<Duration>) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .timeout(timeout.unwrap_or(Duration::from_secs(30)))
            .connect_timeout(connect_timeout.unwrap_or(Duration::from_secs(10)))
            .build()
            .map_err(|e| e.to_string())
    }

    /// Sends `d` until it is accepted, refused for good, or out of tries. An accepted
    /// delivery with an idempotency key is not delivered yet: it is once the delivery
    /// log has it.
    async fn deliver(&self, d: &Delivery, log: &DeliveryLog) -> Sent {
        if let Some(key) = &d.idempotency_key {
            if log.delivered(key) {
                return Sent::Done(Outcome::AlreadyDelivered);
            }
        }
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                crate::metrics::add("deliveries_retried", &self.flow, &self.sink, 1);
            }
            if let Some(l) = &self.limiter {
                l.wait().await;
            }
            let failure = match self.send(d).await {
                Ok(status) => {
                    if let Some(key) = &d.idempotency_key {
                        return Sent::Accepted(Accepted {
                            key: key.clone(),
                            status,
                            attempts: attempt,
                            at: Utc::now(),
                            started,
                        });
                    }
                    crate::metrics::observe_latency(&self.flow, &self.sink, started.elapsed().as_secs_f64());
                    return Sent::Done(Outcome::Delivered { status, attempts: attempt });
                }
                Err(f) => f,
            };
            let retryable = self.policy.retries(&failure);
            if !retryable || attempt >= self.policy.attempts {
                let reason = match (&failure, retryable) {
                    (Failure::Status { status, .. }, false) => format!("http_{status}"),
                    (_, true) => "retries_exhausted".to_string(),
                    (Failure::Timeout, false) => "timeout".to_string(),
                    (Failure::Connection(_), false) => "connection_failed".to_string(),
                };
                let tries = if attempt == 1 { "1 attempt".to_string() } else { format!("{attempt} attempts") };
                let message = format!(
                    "{} {} {}",
                    d.method.as_deref().unwrap_or("POST"),
                    crate::scrub::scrub(d.url.as_deref().unwrap_or("")),
                    failure.describe(&tries)
                );
                crate::metrics::observe_latency(&self.flow, &self.sink, started.elapsed().as_secs_f64());
                return Sent::Done(Outcome::Failed { reason, message, attempts: attempt, request: d.request_json() });
            }
            tracing::info!(
                flow = %self.flow,
                sink = %self.sink,
                attempt,
                key = d.idempotency_key.as_deref().unwrap_or("-"),
                failure = %failure.describe(&format!("{attempt}")),
                "retrying"
            );
            let retry_after = match &failure {
                Failure::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            tokio::time::sleep(self.policy.delay(attempt - 1, retry_after)).await;
        }
    }

    async fn send(&self, d: &Delivery) -> Result<u16, Failure> {
        let method = reqwest::Method::from_bytes(d.method.as_deref().unwrap_or("POST").as_bytes())
            .unwrap_or(reqwest::Method::POST);
        let mut req = self.client.request(method, d.url.as_deref().unwrap_or(""));
        for (k, v) in &d.headers {
            let text = match v {
                Value::Secret(s) => s.to_string(),
                other => other.to_string(),
            };
            req = req.header(k.as_str(), text);
        }
        let body = serde_json::to_vec(&d.body).unwrap_or_default();
        let resp = req.body(body).send().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Connection(short_error(&e))
            }
        })?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(status);
        }
        let retry_after = super::retry::retry_after_of(resp.headers());
        let excerpt = match tokio::time::timeout(Duration::from_secs(5), resp.text()).await {
            Ok(Ok(t)) => t.chars().take(500).collect(),
            _ => String::new(),
        };
        // Receivers echo requests back in their errors, headers and all.
        let excerpt = crate::scrub::scrub(&excerpt).into_owned();
        Err(Failure::Status { status, excerpt, retry_after })
    }
}

fn short_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    crate::scrub::scrub(&text).into_owned()
}

/// A delivery waiting for a worker, with where to send its outcome.
pub struct Job {
    pub delivery: Delivery,
    pub reply: oneshot::Sender<Outcome>,
}

/// How a worker's sending ended.
enum Sent {
    Done(Outcome),
    /// Accepted under an idempotency key: to the delivery log first.
    Accepted(Accepted),
}

/// An accepted delivery on its way into the delivery log.
struct Accepted {
    key: String,
    status: u16,
    attempts: u32,
    at: DateTime<Utc>,
    /// When the delivery began, for its latency, which includes the log write.
    started: std::time::Instant,
}

/// The most accepted deliveries one delivery log transaction takes.
const LOG_GROUP: usize = 256;

/// The delivery log of one sink, written in groups: a worker hands over what the
/// receiver accepted and takes its next request at once, while the record's outcome
/// waits for the commit. The record counts as delivered only once the commit is
/// durable, so a replay never sends it twice; but no worker waits for a commit before its
/// next request, and one fsync covers every delivery accepted while the last one ran.
#[derive(Clone)]
struct DeliveryLog {
    target: Arc<HttpTarget>,
    /// Keys accepted and not yet committed: the next check must see them as delivered
    /// already. A key whose commit failed stays, so this run does not send it again.
    pending: Arc<std::sync::Mutex<HashSet<String>>>,
    tx: mpsc::UnboundedSender<(Accepted, oneshot::Sender<Outcome>)>,
}

impl DeliveryLog {
    /// Starts the writer; it ends once every clone is dropped and what they handed over
    /// is committed. Its queue is bounded by the records the sinks task lets wait for an
    /// outcome.
    fn start(target: Arc<HttpTarget>) -> DeliveryLog {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(std::sync::Mutex::new(HashSet::new()));
        tokio::spawn(write_log(target.clone(), pending.clone(), rx));
        DeliveryLog { target, pending, tx }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `key` was delivered, by this run or an earlier one. Asked in place, as the
    /// stages ask `dedupe_seen`: a one-row read that never waits for a commit (the
    /// SQLite store reads on a connection of its own), cheaper than the two thread
    /// switches of the blocking pool, which measurably slowed every request.
    fn delivered(&self, key: &str) -> bool {
        if self.pending().contains(key) {
            return true;
        }
        let t = &self.target;
        t.store.delivered(&t.flow, &t.sink, key).unwrap_or(false)
    }

    /// Queues `a` for the log; `reply` hears `Delivered` once it is committed.
    fn commit(&self, a: Accepted, reply: oneshot::Sender<Outcome>) {
        self.pending().insert(a.key.clone());
        if let Err(e) = self.tx.send((a, reply)) {
            // The writer lives as long as any clone: this is unreachable, but an
            // outcome is owed all the same.
            let (a, reply) = e.0;
            let _ = reply.send(Outcome::Delivered { status: a.status, attempts: a.attempts });
        }
    }
}

/// Commits what the workers hand over, each time all that is waiting, in one
/// transaction on the blocking pool, then answers each record.
async fn write_log(
    target: Arc<HttpTarget>,
    pending: Arc<std::sync::Mutex<HashSet<String>>>,
    mut rx: mpsc::UnboundedReceiver<(Accepted, oneshot::Sender<Outcome>)>,
) {
    let mut group = Vec::with_capacity(LOG_GROUP);
    while rx.recv_many(&mut group, LOG_GROUP).await > 0 {
        let rows: Vec<(String, u16, DateTime<Utc>)> =
            group.iter().map(|(a, _)| (a.key.clone(), a.status, a.at)).collect();
        let t = target.clone();
        let stored = tokio::task::spawn_blocking(move || t.store.record_deliveries(&t.flow, &t.sink, &rows)).await;
        let failed = match stored {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        match failed {
            None => {
                let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
                for (a, _) in &group {
                    p.remove(&a.key);
                }
            }
            // The bookings happened; failing to log them must not hold the records.
            Some(e) => tracing::warn!(
                flow = %target.flow,
                sink = %target.sink,
                deliveries = group.len(),
                error = %e,
                "could not record deliveries in the delivery log"
            ),
        }
        for (a, reply) in group.drain(..) {
            crate::metrics::observe_latency(&target.flow, &target.sink, a.started.elapsed().as_secs_f64());
            let _ = reply.send(Outcome::Delivered { status: a.status, attempts: a.attempts });
        }
    }
}

/// One job through a worker: its outcome now, or once the delivery log has it.
async fn work(t: &HttpTarget, log: &DeliveryLog, job: Job) {
    match t.deliver(&job.delivery, log).await {
        Sent::Done(out) => {
            let _ = job.reply.send(out);
        }
        Sent::Accepted(a) => log.commit(a, job.reply),
    }
}

/// The workers of one HTTP sink: `concurrency` requests in flight; with `ordered_by`,
/// records with the same key always go through the same worker, so they stay in order.
pub struct Dispatcher {
    lanes: Vec<mpsc::Sender<Job>>,
    ordered: bool,
}

impl Dispatcher {
    pub fn spawn(target: Arc<HttpTarget>, concurrency: usize, ordered: bool) -> Dispatcher {
        let n = concurrency.max(1);
        let log = DeliveryLog::start(target.clone());
        if ordered {
            let lanes = (0..n)
                .map(|_| {
                    let (tx, mut rx) = mpsc::channel::<Job>(64);
                    let (t, log) = (target.clone(), log.clone());
                    tokio::spawn(async move {
                        while let Some(job) = rx.recv().await {
                            work(&t, &log, job).await;
                        }
                    });
                    tx
                })
                .collect();
            return Dispatcher { lanes, ordered };
        }
        let (tx, rx) = mpsc::channel::<Job>(64);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..n {
            let (t, rx, log) = (target.clone(), rx.clone(), log.clone());
            tokio::spawn(async move {
                loop {
                    let Some(job) = rx.lock().await.recv().await else { break };
                    work(&t, &log, job).await;
                }
            });
        }
        Dispatcher { lanes: vec![tx], ordered }
    }

    /// Queues a delivery; the receiver gets its outcome.
    pub async fn submit(&self, delivery: Delivery) -> oneshot::Receiver<Outcome> {
        let (reply, rx) = oneshot::channel();
        let lane = match (&delivery.order_key, self.ordered) {
            (Some(k), true) => {
                let mut h = DefaultHasher::new();
                k.hash(&mut h);
                (h.finish() % self.lanes.len() as u64) as usize
            }
            _ => 0,
        };
        if let Err(e) = self.lanes[lane].send(Job { delivery, reply }).await {
            let job = e.0;
            let request = job.delivery.request_json();
            let _ = job.reply.send(Outcome::Failed {
                reason: "sink_stopped".into(),
                message: "the sink stopped before the record was sent".into(),
                attempts: 0,
                request,
            });
        }
        rx
    }
}

impl Delivery {
    /// The request as a hold keeps it: method, URL, headers with secrets redacted, body,
    /// scrubbed (a password in the URL's userinfo, a secret an environment value holds).
    pub fn request_json(&self) -> serde_json::Value {
        let headers: serde_json::Map<String, serde_json::Value> =
            self.headers.iter().map(|(k, v)| (k.clone(), to_json(v, Redaction::Redact))).collect();
        let mut request = serde_json::json!({
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "body": self.body,
        });
        crate::scrub::scrub_json(&mut request);
        request
    }
}
