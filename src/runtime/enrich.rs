//! `enrich`: a call out for each record, its answer decoded into the declared type and
//! bound for the stages after it. A task of its own between runs of stages, as `batch`
//! is: up to `concurrency` calls are in flight, and records leave in the order they came,
//! each once: going on with its answer, or held through the same path as a stage's holds.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::eval::{Compiled, Frame, Shared};
use super::flow_info::{internal_error, panic_text};
use super::options::Options;
use super::outcome::Msg;
use super::stage::Stop;
use super::stages::StagesCtx;
use super::unit::{Chunk, Unit, Units, CHUNK};
use super::{RunOptions, RuntimeError};
use crate::connectors::call::{excerpt, CallError, Caller, Recordings, Request, Via};
use crate::connectors::http::HttpTarget;
use crate::connectors::poll::select;
use crate::connectors::retry::{RateLimiter, RetryPolicy};
use crate::connectors::sink::body_json;
use crate::ir;
use crate::types::Type;
use crate::value::{decode_json_value, Value};

/// Calls in flight when the flow does not say.
const DEFAULT_CONCURRENCY: usize = 4;

/// One `enrich` stage, compiled once before the first record.
pub(crate) struct EnrichStage {
    index: usize,
    /// `stage 3 enrich (line 12)`
    label: String,
    /// `stage 3 enrich`: what a hold names.
    name: String,
    line: usize,
    slot: usize,
    method: String,
    url: Compiled,
    query: Option<Compiled>,
    headers: Option<Compiled>,
    body: Option<Compiled>,
    answer: Arc<Decode>,
    caller: Arc<Caller>,
    concurrency: usize,
}

/// How an answer becomes the bound value.
struct Decode {
    select: Option<String>,
    ty: Type,
}

impl EnrichStage {
    pub fn new(
        index: usize,
        st: &ir::Stage,
        e: &ir::Enrich,
        shared: &Shared,
        opts: &RunOptions,
        recordings: &Arc<Recordings>,
    ) -> Result<EnrichStage, RuntimeError> {
        let o = Options::enrich(&e.call, shared)?;
        let name = format!("stage {} enrich", index + 1);
        let via = if opts.dry_run {
            Via::Recorded(recordings.clone())
        } else {
            let client = HttpTarget::client(o.duration("timeout")?, None).map_err(RuntimeError::Setup)?;
            Via::Network {
                client,
                policy: RetryPolicy::from_value(o.value("retry")?.as_ref()),
                limiter: o.value("rate")?.as_ref().and_then(RateLimiter::from_value),
            }
        };
        let url = o.per_record("url")?.ok_or_else(|| RuntimeError::Setup(format!("{name}: `url` is required")))?;
        Ok(EnrichStage {
            index,
            label: format!("{name} (line {})", st.line),
            name,
            line: st.line,
            slot: e.slot as usize,
            method: e.call.kind.strip_prefix("http.").unwrap_or("get").to_uppercase(),
            url,
            query: o.per_record("query")?,
            headers: o.per_record("headers")?,
            body: if e.call.kind == "http.post" { o.per_record("body")? } else { None },
            answer: Arc::new(Decode { select: e.select.clone(), ty: e.call.ty.clone() }),
            caller: Arc::new(Caller::new(via, o.duration("cache")?)),
            concurrency: o.count("concurrency")?.map_or(DEFAULT_CONCURRENCY, |n| usize::try_from(n).unwrap_or(1)),
        })
    }

    /// The request for one record.
    fn request(&self, unit: &Unit, shared: &Shared) -> Result<Request, Stop> {
        let frame = Frame::new(unit.record.clone(), unit.slots.clone(), shared);
        let eval = |c: &Compiled| c(&frame).map_err(Stop::from_eval);
        let mut url = eval(&self.url)?.to_string();
        if let Some(q) = &self.query {
            url = with_query(&url, &eval(q)?.text_pairs(false));
        }
        let headers = match &self.headers {
            Some(h) => eval(h)?.text_pairs(true),
            None => Vec::new(),
        };
        let body = match &self.body {
            Some(b) => Some(body_json(&eval(b)?)),
            None => None,
        };
        Ok(Request { method: self.method.clone(), url, headers, body })
    }

    /// Starts the call for `unit`; what comes back is the value to bind, or why not.
    fn start(&self, unit: &Unit, shared: &Shared) -> JoinHandle<Result<Value, Stop>> {
        let req = self.request(unit, shared);
        let (caller, answer) = (self.caller.clone(), self.answer.clone());
        tokio::spawn(async move {
            let req = req?;
            let text = caller.call(&req).await.map_err(|e| match e {
                CallError::Failed(m) => stop("enrichment_failed", m),
                CallError::Unrecorded(m) => stop("enrichment_unrecorded", m),
            })?;
            answer.value(&req, &text)
        })
    }
}

impl Decode {
    /// The answer's selected part in the declared type. Finding nothing is `null` for an
    /// optional type and a hold otherwise; a part that does not fit is a hold.
    fn value(&self, req: &Request, text: &str) -> Result<Value, Stop> {
        let json: Json = serde_json::from_str(text).map_err(|e| {
            stop(
                "enrichment_mismatch",
                format!("{} answered with text that is not JSON ({e}): {}", req.line(), excerpt(text)),
            )
        })?;
        let picked = match &self.select {
            Some(path) => select(&json, Some(path))
                .map_err(|m| stop("enrichment_mismatch", format!("{}: {m}", req.line())))?
                .into_iter()
                .find(|v| !v.is_null()),
            None => Some(json).filter(|v| !v.is_null()),
        };
        let Some(picked) = picked else {
            if self.ty.is_optional() {
                return Ok(Value::Null);
            }
            let what =
                self.select.as_deref().map_or("the answer is null".to_string(), |p| format!("`{p}` selected nothing"));
            return Err(stop("enrichment_empty", format!("{}: {what} in the answer: {}", req.line(), excerpt(text))));
        };
        decode_json_value(&picked, &self.ty).map_err(|e| {
            stop(
                "enrichment_mismatch",
                format!("{}: the answer does not fit {} ({e}): {}", req.line(), self.ty, excerpt(&picked.to_string())),
            )
        })
    }
}

fn stop(code: &str, message: String) -> Stop {
    Stop { code: code.to_string(), message }
}

/// `url` with `params` added to its query string, percent-encoded. Written out rather than
/// parsed, so a dry run's placeholder for an unset base URL (`<SHOP_URL>/orders`) still
/// names the request it would make.
fn with_query(url: &str, params: &[(String, String)]) -> String {
    let mut out = url.to_string();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') { '?' } else { '&' };
        out.push(sep);
        out.push_str(&encode(k));
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

type Pending = (Unit, JoinHandle<Result<Value, Stop>>);

/// The answer of the oldest call in flight.
async fn oldest(queue: &mut VecDeque<Pending>) -> Result<Result<Value, Stop>, String> {
    match queue.front_mut() {
        Some((_, handle)) => {
            handle.await.map_err(|e| if e.is_panic() { panic_text(e.into_panic().as_ref()) } else { e.to_string() })
        }
        None => std::future::pending().await,
    }
}

pub(crate) async fn enrich_task(
    stage: EnrichStage,
    ctx: StagesCtx,
    rx: mpsc::Receiver<Chunk>,
    tx: mpsc::Sender<Chunk>,
) {
    let StagesCtx { shared, info, ev, .. } = ctx;
    let mut units = Units::new(rx);
    let mut queue: VecDeque<Pending> = VecDeque::new();
    let mut out: Chunk = Vec::new();
    let mut open = true;
    let window = stage.concurrency.max(1);
    loop {
        // Records that are ready go on together; none waits behind a call still in flight.
        let front_ready = queue.front().is_some_and(|(_, h)| h.is_finished());
        let flush = !out.is_empty() && (out.len() >= CHUNK || !front_ready);
        if flush && tx.send(std::mem::take(&mut out)).await.is_err() {
            return;
        }
        if !open && queue.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            answer = oldest(&mut queue), if !queue.is_empty() => {
                let Some((mut unit, _)) = queue.pop_front() else { continue };
                let result = match answer {
                    Ok(r) => r,
                    Err(panic) => Err(internal_error(&stage.name, &panic)),
                };
                match result {
                    Ok(value) => {
                        if let Some(slot) = unit.slots.get_mut(stage.slot) {
                            *slot = value;
                        }
                        out.push(unit);
                    }
                    Err(why) => {
                        let input = unit.record.clone();
                        let hold = info.hold(&unit, &stage.name, stage.line, why, &input);
                        let msg = Msg::Held { unit, stage: Some((stage.index, stage.label.clone())), hold };
                        if ev.send(msg).await.is_err() {
                            return;
                        }
                    }
                }
            }
            next = units.recv(), if open && queue.len() < window => match next {
                Some(unit) => {
                    let handle = stage.start(&unit, &shared);
                    queue.push_back((unit, handle));
                }
                None => open = false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_encoded_onto_the_url() {
        let params = vec![("status".to_string(), "open".to_string()), ("q".to_string(), "a b&c".to_string())];
        assert_eq!(with_query("https://x/o.json", &params), "https://x/o.json?status=open&q=a+b%26c");
        assert_eq!(with_query("https://x/o.json?a=1", &params[..1]), "https://x/o.json?a=1&status=open");
    }
}
