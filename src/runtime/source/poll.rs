//! The `http.poll` source in a real run: each poll starts from the newest cursor seen
//! (at start, the one committed), follows the pages, and sends each record on with its
//! cursor value. The collector commits a cursor only once every record up to it ended.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::super::eval::{Compiled, Frame};
use super::super::flow_info::internal_error;
use super::super::options::Options;
use super::super::stage::Stop;
use super::super::unit::Unit;
use super::super::RuntimeError;
use super::{Intake, Source};
use crate::connectors::poll::{fetch, with_query, Caller, NextPage};
use crate::connectors::retry::{RateLimiter, RetryPolicy};
use crate::connectors::RawText;
use crate::metrics;
use crate::value::Value;

/// How long one page may take without a `timeout` option.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An `http.poll` source's configuration, read once from its options.
pub(crate) struct PollConfig {
    url: Compiled,
    headers: Option<Compiled>,
    query: Option<Compiled>,
    cursor: Option<Compiled>,
    records: Option<String>,
    next: NextPage,
    every: Option<Duration>,
    timeout: Duration,
    policy: RetryPolicy,
    limiter: Option<RateLimiter>,
}

impl PollConfig {
    pub fn from_options(o: &Options<'_>) -> Result<PollConfig, RuntimeError> {
        let url = o
            .per_record("url")?
            .ok_or_else(|| RuntimeError::Setup(format!("the http.poll source `{}` needs `url`", o.name())))?;
        Ok(PollConfig {
            url,
            headers: o.per_record("headers")?,
            query: o.per_record("query")?,
            cursor: o.per_record("cursor")?,
            records: o.literal("records")?,
            next: NextPage::from_option(o.literal("next_page")?.as_deref(), o.literal("page_param")?.as_deref()),
            every: o.duration("every")?,
            timeout: o.duration("timeout")?.unwrap_or(DEFAULT_TIMEOUT),
            policy: RetryPolicy::from_value(o.value("retry")?.as_ref()),
            limiter: o.value("rate")?.as_ref().and_then(RateLimiter::from_value),
        })
    }
}

pub(crate) struct PollSource {
    config: PollConfig,
}

impl PollSource {
    pub fn new(config: PollConfig) -> PollSource {
        PollSource { config }
    }
}

impl Source for PollSource {
    fn start(self: Box<Self>, intake: Intake) -> JoinHandle<Result<u64, RuntimeError>> {
        tokio::spawn(async move {
            let PollConfig { url, headers, query, cursor: cursor_of, records, next, every, timeout, policy, limiter } =
                self.config;
            let client =
                reqwest::Client::builder().timeout(timeout).build().map_err(|e| RuntimeError::Setup(e.to_string()))?;
            let caller = Caller { client, policy, limiter };
            let info = intake.info.clone();
            let shared = intake.shared.clone();
            let setup = |e| RuntimeError::Setup(Stop::from_eval(e).message);
            // The cursor the checker binds for the source's options is the flow's first slot.
            let mut cursor: Option<String> = intake.store.cursor(&info.name, &info.source)?;
            let mut n: u64 = 0;
            while !intake.stopped() {
                let (first_url, header_pairs) = {
                    let cur = cursor.as_deref().map_or(Value::Null, Value::str);
                    let frame = Frame::new(Value::Null, vec![cur], &shared);
                    let base = url(&frame).map_err(setup)?.to_string();
                    let params = match &query {
                        Some(q) => q(&frame).map_err(setup)?.text_pairs(false),
                        None => Vec::new(),
                    };
                    let hs = match &headers {
                        Some(h) => h(&frame).map_err(setup)?.text_pairs(true),
                        None => Vec::new(),
                    };
                    (with_query(&base, &params).map_err(RuntimeError::Setup)?, hs)
                };
                let (mut page_url, mut page) = (Some(first_url), 1u32);
                while let Some(u) = page_url.take() {
                    let fetched = match fetch(&caller, &u, &header_pairs, records.as_deref(), &next, page).await {
                        Ok(p) => p,
                        Err(e) => {
                            // Nothing was read past the committed cursor: the next poll tries again.
                            tracing::warn!(flow = %info.name, error = %crate::scrub::scrub(&e), "poll failed");
                            break;
                        }
                    };
                    for raw in fetched.records {
                        n += 1;
                        metrics::add("records_in", &info.name, "", 1);
                        let at: Arc<str> = Arc::from(format!("{}#{n}", info.source));
                        let decoded = catch_unwind(AssertUnwindSafe(|| {
                            crate::value::decode_json_value_planned(&raw, &intake.ty, &info.decode)
                        }));
                        let msg = match decoded {
                            Ok(Ok(value)) => {
                                let cursor_value = match &cursor_of {
                                    Some(c) => {
                                        c(&Frame::new(value.clone(), Vec::new(), &shared)).ok().filter(|v| !v.is_null())
                                    }
                                    None => None,
                                };
                                if let Some(cv) = &cursor_value {
                                    let text = cv.to_string();
                                    if cursor.as_deref().is_none_or(|c| c < text.as_str()) {
                                        cursor = Some(text);
                                    }
                                }
                                let cursor = cursor_value.map(|v| Arc::from(v.to_string()));
                                let text = Some(RawText::from(raw.to_string().as_bytes()));
                                let unit = Unit::entering(n, at, value, text, intake.slots, cursor);
                                if intake.tx.send(vec![unit]).await.is_err() {
                                    return Ok(n);
                                }
                                continue;
                            }
                            Ok(Err(error)) => info.bad_input(n, at, raw, &error, &intake.stage, 0),
                            Err(panic) => {
                                let stop = internal_error(&intake.stage, panic.as_ref());
                                info.unreadable(n, at, raw, stop, &intake.stage, 0)
                            }
                        };
                        if intake.ev.send(msg).await.is_err() {
                            return Ok(n);
                        }
                    }
                    page += 1;
                    page_url = fetched.next;
                }
                match every {
                    Some(d) => {
                        let until = tokio::time::Instant::now() + d;
                        while tokio::time::Instant::now() < until && !intake.stopped() {
                            tokio::time::sleep(Duration::from_millis(100).min(d)).await;
                        }
                    }
                    None => break,
                }
            }
            Ok(n)
        })
    }
}
