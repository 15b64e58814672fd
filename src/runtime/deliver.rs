//! The sinks task: renders each record for every sink that wants it and hands the
//! deliveries over. A record is delivered once every sink took it, held (with the
//! request and the answer) when one could not.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::eval::{Frame, Shared};
use super::flow_info::{internal_error, FlowInfo};
use super::outcome::Msg;
use super::sink::{Handed, SinkRt};
use super::stage::Stop;
use super::unit::{Chunk, Unit};
use super::RuntimeError;
use crate::connectors::http::Outcome;
use crate::connectors::Delivery;
use crate::state::JsonText;

/// Most records whose requests are under way at once.
const IN_FLIGHT: usize = 256;

/// The label of a record no sink wanted.
pub(crate) const NO_SINK_WANTED: &str = "no sink's `when` matched";

pub(crate) async fn sinks_task(
    mut rx: mpsc::Receiver<Chunk>,
    mut sinks: Vec<SinkRt>,
    shared: Arc<Shared>,
    info: Arc<FlowInfo>,
    ev: mpsc::Sender<Msg>,
) -> Result<(), RuntimeError> {
    let inflight = Arc::new(Semaphore::new(IN_FLIGHT));
    'chunks: while let Some(chunk) = rx.recv().await {
        for mut unit in chunk {
            let msg = match render_all(&sinks, &mut unit, &shared) {
                Err((name, stop)) => {
                    let hold = info.hold(&unit, &format!("sink {name}"), 0, stop, &unit.record);
                    Msg::Held { unit, stage: None, hold }
                }
                Ok(d) if d.is_empty() => Msg::filtered(unit, None, NO_SINK_WANTED.into(), info.identify),
                Ok(d) => {
                    let mut deliveries = Vec::with_capacity(d.len());
                    let mut pending = Vec::new();
                    for (i, delivery) in d {
                        let sink = &mut sinks[i];
                        let handed = sink
                            .out
                            .deliver(&delivery, &unit.record)
                            .await
                            .map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", sink.name)))?;
                        match handed {
                            Handed::Written => deliveries.push((sink.name.clone(), delivery)),
                            Handed::Sending(rx) => pending.push((sink.name.clone(), delivery, rx)),
                        }
                    }
                    if !pending.is_empty() {
                        // Sending takes time: a finisher waits for the outcomes while the next
                        // records are rendered; the permit bounds how many wait at once.
                        let permit =
                            inflight.clone().acquire_owned().await.map_err(|e| RuntimeError::Output(e.to_string()))?;
                        let (ev, info) = (ev.clone(), info.clone());
                        tokio::spawn(async move {
                            let msg = finish(unit, deliveries, pending, &info).await;
                            let _ = ev.send(msg).await;
                            drop(permit);
                        });
                        continue;
                    }
                    Msg::delivered(unit, deliveries, info.identify)
                }
            };
            if ev.send(msg).await.is_err() {
                break 'chunks;
            }
        }
        // Nothing waiting: write out what is buffered, so a long-running flow's files
        // are current (under load the buffer fills and flushes by itself).
        if rx.is_empty() {
            for s in &mut sinks {
                s.out.flush().map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", s.name)))?;
            }
        }
    }
    for s in &mut sinks {
        s.out.finish().map_err(|e| RuntimeError::Output(format!("sink `{}`: {e}", s.name)))?;
    }
    Ok(())
}

/// Each sink's delivery of the record, by sink index; or the sink whose rendering failed
/// and why. A panic while rendering holds the record like any other failure.
fn render_all(sinks: &[SinkRt], unit: &mut Unit, shared: &Shared) -> Result<Vec<(usize, Delivery)>, (String, Stop)> {
    let frame = Frame::new(unit.record.clone(), std::mem::take(&mut unit.slots), shared);
    let mut out = Vec::new();
    for (i, s) in sinks.iter().enumerate() {
        match catch_unwind(AssertUnwindSafe(|| s.render.render(&frame))) {
            Ok(Ok(Some(d))) => out.push((i, d)),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err((s.name.clone(), Stop::from_eval(e))),
            Err(panic) => return Err((s.name.clone(), internal_error(&format!("sink {}", s.name), panic.as_ref()))),
        }
    }
    Ok(out)
}

/// A record whose deliveries are under way: delivered when every sink took it, held
/// (with the request and the answer) when one could not.
async fn finish(
    unit: Unit,
    mut deliveries: Vec<(String, Delivery)>,
    pending: Vec<(String, Delivery, oneshot::Receiver<Outcome>)>,
    info: &FlowInfo,
) -> Msg {
    let mut failed: Option<(String, String, String, u32, serde_json::Value, Option<String>)> = None;
    for (sink, delivery, rx) in pending {
        let outcome = rx.await.unwrap_or_else(|_| Outcome::Failed {
            reason: "sink_stopped".into(),
            message: "the sink stopped before answering".into(),
            attempts: 0,
            request: delivery.request_json(),
        });
        match outcome {
            Outcome::Delivered { .. } | Outcome::AlreadyDelivered => deliveries.push((sink, delivery)),
            Outcome::Failed { reason, message, attempts, request } => {
                if failed.is_none() {
                    failed = Some((sink, reason, message, attempts, request, delivery.idempotency_key.clone()));
                }
            }
        }
    }
    match failed {
        None => Msg::delivered(unit, deliveries, info.identify),
        Some((sink, reason, message, attempts, request, key)) => {
            let mut hold = info.hold(&unit, &format!("sink {sink}"), 0, Stop { code: reason, message }, &unit.record);
            hold.attempts = attempts;
            hold.stage_input = JsonText::from(request);
            // The idempotency key names the record as the receiving system knows it.
            hold.blocking_key = key.or(hold.blocking_key);
            Msg::Held { unit, stage: None, hold }
        }
    }
}
