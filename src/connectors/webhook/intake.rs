//! One webhook request, from its headers to its answer. The order is what keeps a
//! server on the internet standing: the signature header and the declared length are
//! judged before any of the body is read; the body is read within its time limit and
//! the memory budget, at most `max_body` of it, and hashed as it comes; only a proved
//! body is handed to the writer, and the answer waits for it to be on disk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::health::Health;
use super::limits::Limits;
use super::signature::BodyCheck;
use super::writer::{Job, Stored, Writer};
use super::{headers, Endpoint};
use crate::metrics;

/// The budget counts bodies in units of this many bytes (a semaphore has `u32` permits).
const UNIT: usize = 1024;

/// An endpoint as served: its options and what it shares with the server.
pub(super) struct Live {
    pub endpoint: Endpoint,
    pub limits: Limits,
    /// Body memory, in `UNIT`s, shared by every endpoint of the server.
    pub budget: Arc<Semaphore>,
    pub writer: Writer,
    pub health: Health,
}

/// How reading a body can fail, each with its answer.
enum BodyError {
    TooLarge,
    OverBudget,
    Broken,
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE {
        // The body may be left unread: the connection ends, and the sender is told so.
        r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    r
}

pub(super) async fn receive(State(live): State<Arc<Live>>, req: Request) -> Response {
    let ep = &live.endpoint;
    let (parts, body) = req.into_parts();
    let Ok(check) = ep.signature.claim(ep.secret.as_deref(), &parts.headers) else {
        metrics::add("webhooks_rejected", &ep.flow, "", 1);
        return answer(StatusCode::UNAUTHORIZED, "bad or missing signature\n");
    };
    let declared = content_length(&parts.headers);
    if declared.is_some_and(|n| n > ep.max_body) {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than max_body\n");
    }
    // The state file gone or replaced: refused before the body is read, and counted.
    if let Err(why) = live.health.file_in_place() {
        live.health.failed(&ep.flow, &why);
        return answer(StatusCode::SERVICE_UNAVAILABLE, "could not store the request\n");
    }
    let mut check = check;
    let read = read_body(body, declared, ep.max_body, &live.budget, check.as_mut());
    let (body, permit) = match tokio::time::timeout(live.limits.body_timeout, read).await {
        Err(_) => return answer(StatusCode::REQUEST_TIMEOUT, "the body took too long\n"),
        Ok(Err(BodyError::TooLarge)) => {
            return answer(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than max_body\n");
        }
        Ok(Err(BodyError::OverBudget)) => {
            metrics::add("webhooks_busy", &ep.flow, "", 1);
            return answer(StatusCode::SERVICE_UNAVAILABLE, "busy: try again later\n");
        }
        Ok(Err(BodyError::Broken)) => return answer(StatusCode::BAD_REQUEST, "the body could not be read\n"),
        Ok(Ok(read)) => read,
    };
    if check.is_some_and(|c| !c.matches()) {
        metrics::add("webhooks_rejected", &ep.flow, "", 1);
        return answer(StatusCode::UNAUTHORIZED, "bad or missing signature\n");
    }
    let id_header = ep.id_header.as_deref().or(ep.signature.default_id_header());
    let key = id_header.and_then(|h| parts.headers.get(h)?.to_str().ok()).map(str::to_string);
    let (reply, stored) = oneshot::channel();
    let job = Job {
        store: ep.store.clone(),
        flow: ep.flow.clone(),
        key,
        headers: headers::kept(&parts.headers, ep.id_header.as_deref()),
        body,
        permit,
        reply,
    };
    if live.writer.submit(job).is_err() {
        metrics::add("webhooks_busy", &ep.flow, "", 1);
        return answer(StatusCode::SERVICE_UNAVAILABLE, "busy: try again later\n");
    }
    match stored.await {
        Ok(Stored::New) => {
            metrics::add("webhooks_received", &ep.flow, "", 1);
            answer(StatusCode::ACCEPTED, "stored\n")
        }
        Ok(Stored::Repeat) => answer(StatusCode::OK, "already received\n"),
        // Not stored, so not acknowledged: the sender will try again.
        Ok(Stored::Failed) | Err(_) => answer(StatusCode::SERVICE_UNAVAILABLE, "could not store the request\n"),
    }
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

/// Reads at most `max` bytes of `body`, taking its room from `budget` before it is
/// used, and feeds each chunk to the signature check. Returns the body and its share
/// of the budget.
async fn read_body(
    mut body: Body,
    declared: Option<usize>,
    max: usize,
    budget: &Arc<Semaphore>,
    mut check: Option<&mut BodyCheck>,
) -> Result<(Vec<u8>, OwnedSemaphorePermit), BodyError> {
    let first = declared.unwrap_or(0).min(max);
    let mut permit = budget.clone().try_acquire_many_owned(units(first)).map_err(|_| BodyError::OverBudget)?;
    let mut out: Vec<u8> = Vec::with_capacity(first);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Ok(chunk) = frame.into_data() else { continue };
        let len = out.len() + chunk.len();
        if len > max {
            return Err(BodyError::TooLarge);
        }
        if len > out.capacity() {
            // Grow by doubling, within max_body, and pay for the room before taking it.
            let cap = len.max(out.capacity() * 2).min(max);
            let more = units(cap).saturating_sub(permit.num_permits() as u32);
            if more > 0 {
                permit.merge(budget.clone().try_acquire_many_owned(more).map_err(|_| BodyError::OverBudget)?);
            }
            out.reserve_exact(cap - out.len());
        }
        if let Some(c) = check.as_deref_mut() {
            c.update(&chunk);
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, permit))
}
