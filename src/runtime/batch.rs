//! `batch`: records grouped into one record, their list, until the batch is full, has
//! waited long enough, or would grow too large. The batch's members travel with it, so
//! each ends once, with the batch's outcome.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::eval::Shared;
use super::options::Options;
use super::unit::{Chunk, Unit, Units};
use super::RuntimeError;
use crate::connectors::sink::body_json;
use crate::ir;
use crate::value::Value;

/// A replay's batches by input record (see `RunOptions::regroup`).
pub(crate) type Regroup = Option<Arc<Vec<Option<u32>>>>;

pub(crate) async fn batch_task(rx: mpsc::Receiver<Chunk>, tx: mpsc::Sender<Chunk>, plan: BatchPlan, regroup: Regroup) {
    let (size, max_wait_ms, max_bytes) = plan;
    let mut rx = Units::new(rx);
    let size = usize::try_from(size.max(1)).unwrap_or(usize::MAX);
    // In a replay, the batch a record was held with; records held alone have none.
    let group = |u: &Unit| {
        let g = regroup.as_ref()?;
        g.get(usize::try_from(u.seq.0).ok()?.checked_sub(1)?).copied().flatten()
    };
    let mut open = true;
    let mut pending_first: Option<Unit> = None;
    while open || pending_first.is_some() {
        let first = match pending_first.take() {
            Some(u) => u,
            None => match rx.recv().await {
                Some(u) => u,
                None => break,
            },
        };
        let body_len = |u: &Unit| body_json(&u.record).to_string().len() + 1;
        let mut bytes = max_bytes.map_or(0, |_| body_len(&first));
        // A replayed batch is formed again whole, as it was: neither the size, the wait
        // nor the byte limit (which it met once) cuts it, and nothing else joins it.
        let replayed = group(&first);
        let mut batch = vec![first];
        let deadline = match replayed {
            Some(_) => None,
            None => max_wait_ms.map(|ms| tokio::time::Instant::now() + std::time::Duration::from_millis(ms)),
        };
        let mut carry: Option<Unit> = None;
        while batch.len() < size || replayed.is_some() {
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d, rx.recv()).await {
                    Ok(n) => n,
                    Err(_) => break,
                },
                None => rx.recv().await,
            };
            match next {
                Some(u) if group(&u) != replayed => {
                    carry = Some(u);
                    break;
                }
                Some(u) if replayed.is_some() => batch.push(u),
                Some(u) => {
                    if let Some(limit) = max_bytes {
                        let len = body_len(&u);
                        if bytes + len > limit {
                            // Too big to join this batch: it opens the next one.
                            carry = Some(u);
                            break;
                        }
                        bytes += len;
                    }
                    batch.push(u)
                }
                None => {
                    open = false;
                    break;
                }
            }
        }
        let unit = Unit::carrying(batch);
        if tx.send(vec![unit]).await.is_err() {
            return;
        }
        if let Some(u) = carry {
            pending_first = Some(u);
        }
    }
}

/// Size, longest wait (ms) and most bytes of a batch.
pub(crate) type BatchPlan = (u64, Option<u64>, Option<usize>);

/// A sink's own `batch: { size, max_wait, max_bytes }`: a batch step just before the
/// sinks. Batching changes the record the sinks receive, so it is for a flow's only sink.
pub(crate) fn sink_batch(flow: &ir::Flow, shared: &Shared) -> Result<Option<BatchPlan>, RuntimeError> {
    let batching: Vec<&ir::Connector> =
        flow.sinks.iter().filter(|s| s.options.iter().any(|(n, _)| n == "batch")).collect();
    let Some(s) = batching.first() else { return Ok(None) };
    if flow.sinks.len() > 1 {
        return Err(RuntimeError::Setup(format!(
            "sink `{}` batches, but the flow has other sinks; put a `batch {{ ... }}` stage before the sinks instead",
            s.name
        )));
    }
    let v = Options::sink(s, shared)?.value("batch")?.unwrap_or(Value::Null);
    let int = |n: &str| match v.field(n) {
        Some(Value::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    };
    let wait = match v.field("max_wait") {
        Some(Value::Duration(ms)) => Some(*ms),
        _ => None,
    };
    Ok(Some((int("size").unwrap_or(1), wait, int("max_bytes").and_then(|b| usize::try_from(b).ok()))))
}
