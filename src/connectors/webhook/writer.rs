//! The one thread that stores webhook requests. A durable write waits for an fsync;
//! on the async workers it would stall every connection behind it, so handlers hand
//! their signed requests to this thread through a bounded queue and wait for its
//! answer. A full queue is answered 503 at once: the sender retries later.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::{oneshot, OwnedSemaphorePermit};

use super::health::Health;
use crate::state::StateStore;

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

fn write_all(rx: &Receiver<Job>, health: &Health) {
    for job in rx {
        // Checked before each write: a write into a removed or replaced file would be
        // acknowledged and then lost.
        let outcome = match health.file_in_place() {
            Err(why) => {
                health.failed(&job.flow, &why);
                Stored::Failed
            }
            Ok(()) => {
                match job.store.inbox_add(&job.flow, job.key.as_deref(), &job.headers, &job.body, chrono::Utc::now()) {
                    Ok(new) => {
                        health.stored();
                        if new {
                            Stored::New
                        } else {
                            Stored::Repeat
                        }
                    }
                    Err(e) => {
                        health.failed(&job.flow, &e.to_string());
                        Stored::Failed
                    }
                }
            }
        };
        drop(job.permit);
        let _ = job.reply.send(outcome);
    }
}
