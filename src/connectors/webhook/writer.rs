//! The one thread that stores webhook requests. A durable write waits for an fsync;
//! on the async workers it would stall every connection behind it, so handlers hand
//! their signed requests to this thread through a bounded queue and wait for its
//! answer. A full queue is answered 503 at once: the sender retries later.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::{oneshot, OwnedSemaphorePermit};

use super::health::Health;
use crate::state::{NewRequest, StateStore};

/// A signed request to store.
pub(super) struct Job {
    pub store: Arc<dyn StateStore>,
    pub flow: String,
    pub key: Option<String>,
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
    /// The body's share of the memory budget, given back once it is stored.
    pub permit: OwnedSemaphorePermit,
    pub reply: oneshot::Sender<Stored>,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    New,
    /// Its delivery id is already in the inbox.
    Repeat,
    /// Not stored: the state cannot be written (the reason is in the health).
    Failed,
}

/// Why a request was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Busy {
    QueueFull,
    WriterGone,
}

#[derive(Clone)]
pub(super) struct Writer {
    tx: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread; it ends when every `Writer` is dropped.
    pub(super) fn start(queue: usize, health: Health) -> std::io::Result<Writer> {
        let (tx, rx) = sync_channel(queue.max(1));
        std::thread::Builder::new().name("flowgate-inbox".into()).spawn(move || write_all(&rx, &health))?;
        Ok(Writer { tx })
    }

    pub(super) fn submit(&self, job: Job) -> Result<(), Busy> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Busy::QueueFull,
            TrySendError::Disconnected(_) => Busy::WriterGone,
        })
    }
}

/// Most requests stored in one transaction.
const GROUP: usize = 64;

/// Stores requests as they come, in groups: whatever waits when the writer is free is
/// committed together, so a burst pays one fsync per group rather than one a request,
/// while a lone request is stored at once.
fn write_all(rx: &Receiver<Job>, health: &Health) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Requests for different stores (one server, several flows) are committed apart.
        while !group.is_empty() {
            let store = group[0].store.clone();
            let (same, rest): (Vec<Job>, Vec<Job>) = group.into_iter().partition(|j| Arc::ptr_eq(&j.store, &store));
            write_group(store.as_ref(), same, health);
            group = rest;
        }
    }
}

fn write_group(store: &dyn StateStore, jobs: Vec<Job>, health: &Health) {
    // Checked before each write: a write into a removed or replaced file would be
    // acknowledged and then lost.
    let outcomes: Vec<Stored> = match health.file_in_place() {
        Err(why) => {
            for job in &jobs {
                health.failed(&job.flow, &why);
            }
            vec![Stored::Failed; jobs.len()]
        }
        Ok(()) => {
            let requests: Vec<NewRequest<'_>> = jobs
                .iter()
                .map(|j| NewRequest { flow: &j.flow, dedupe_key: j.key.as_deref(), headers: &j.headers, body: &j.body })
                .collect();
            match store.inbox_add_many(&requests, chrono::Utc::now()) {
                Ok(new) => {
                    health.stored();
                    new.into_iter().map(|n| if n { Stored::New } else { Stored::Repeat }).collect()
                }
                Err(e) => {
                    for job in &jobs {
                        health.failed(&job.flow, &e.to_string());
                    }
                    vec![Stored::Failed; jobs.len()]
                }
            }
        }
    };
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        drop(job.permit);
        let _ = job.reply.send(outcome);
    }
}
