//! The `webhook` source in a real run: reads the inbox the receiving endpoint fills,
//! oldest request first, until the run is stopped. A request is marked done by the
//! collector once its records ended, so after a crash the ones not done are read again;
//! a request whose decoding fails inside flowgate is held, so it cannot crash every run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::super::flow_info::internal_error;
use super::super::unit::Unit;
use super::super::RuntimeError;
use super::repeat::Repeats;
use super::{Intake, Source};
use crate::connectors::RawText;
use crate::metrics;

/// Requests read from the inbox at once.
const PAGE: usize = 64;
/// How often an empty inbox is looked at again.
const IDLE: Duration = Duration::from_millis(100);
/// The longest wait between tries to read an inbox that cannot be read.
const MAX_RETRY: Duration = Duration::from_secs(5);

pub(crate) struct InboxSource {
    repeats: Repeats,
}

impl InboxSource {
    pub fn new(repeats: Repeats) -> InboxSource {
        InboxSource { repeats }
    }
}

impl Source for InboxSource {
    fn start(self: Box<Self>, intake: Intake) -> JoinHandle<Result<u64, RuntimeError>> {
        tokio::spawn(async move {
            let info = intake.info.clone();
            let (mut last, mut n) = (0i64, 0u64);
            let mut retry = IDLE;
            while !intake.stopped() {
                // A state that cannot be read now (a disk full, a file locked too long)
                // may be readable later: the source waits and tries again rather than
                // end the run while the server goes on storing requests for it.
                let items = match intake.store.inbox_pending(&info.name, last, PAGE) {
                    Ok(items) => {
                        if retry > IDLE {
                            tracing::info!(flow = %info.name, "the webhook inbox can be read again");
                        }
                        retry = IDLE;
                        items
                    }
                    Err(e) => {
                        metrics::add("inbox_read_errors", &info.name, "", 1);
                        if retry == IDLE {
                            tracing::error!(flow = %info.name, error = %e, "cannot read the webhook inbox; trying again");
                        }
                        retry = (retry * 2).min(MAX_RETRY);
                        tokio::time::sleep(retry).await;
                        continue;
                    }
                };
                if items.is_empty() {
                    tokio::time::sleep(IDLE).await;
                    continue;
                }
                for item in items {
                    last = item.id;
                    n += 1;
                    metrics::add("records_in", &info.name, "", 1);
                    let at: Arc<str> = Arc::from(format!("inbox#{}", item.id));
                    let decoded = catch_unwind(AssertUnwindSafe(|| {
                        crate::value::decode_json_planned(&item.body, &intake.ty, &info.decode)
                    }));
                    let raw_json = || {
                        serde_json::from_slice(&item.body).unwrap_or_else(|_| {
                            serde_json::Value::String(String::from_utf8_lossy(&item.body).into_owned())
                        })
                    };
                    let msg = match decoded {
                        Ok(Ok(value)) => {
                            let raw = Some(RawText::from(item.body.as_slice()));
                            let unit = Unit::entering(n, at, value, raw, intake.slots, None);
                            match self.repeats.admit(unit, &intake) {
                                Ok(unit) => {
                                    if intake.tx.send(vec![unit]).await.is_err() {
                                        return Ok(n);
                                    }
                                    continue;
                                }
                                Err(msg) => *msg,
                            }
                        }
                        Ok(Err(error)) => info.bad_input(n, at, raw_json(), &error, &intake.stage, intake.line),
                        Err(panic) => {
                            let stop = internal_error(&intake.stage, panic.as_ref());
                            info.unreadable(n, at, raw_json(), stop, &intake.stage, intake.line)
                        }
                    };
                    if intake.ev.send(msg).await.is_err() {
                        return Ok(n);
                    }
                }
            }
            Ok(n)
        })
    }
}
