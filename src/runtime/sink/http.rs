//! HTTP sinks (`http` with a `method`, or `http.post`, `http.put`, ...): each delivery is
//! a request sent by the sink's workers, with retries, a rate limit and idempotency keys
//! checked against the delivery log.

use std::sync::Arc;
use std::time::Duration;

use super::super::options::Options;
use super::super::RuntimeError;
use super::{Handed, Handing, Sink};
use crate::connectors::http::{Dispatcher, HttpTarget};
use crate::connectors::retry::{RateLimiter, RetryPolicy};
use crate::connectors::Delivery;
use crate::ir;
use crate::state::StateStore;
use crate::value::Value;

/// An HTTP sink's configuration, read once from its options.
pub(crate) struct HttpConfig {
    pub method: String,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    policy: RetryPolicy,
    limiter: Option<RateLimiter>,
    concurrency: usize,
    ordered: bool,
}

impl HttpConfig {
    pub fn from_options(o: &Options<'_>) -> Result<HttpConfig, RuntimeError> {
        // `http.post` and its kin name the method in the kind; `http` takes a `method`.
        let method = match o.kind() {
            "http" => o.required_literal("method")?,
            kind => kind.trim_start_matches("http.").to_uppercase(),
        };
        Ok(HttpConfig {
            method,
            timeout: o.duration("timeout")?,
            connect_timeout: o.duration("connect_timeout")?,
            policy: RetryPolicy::from_value(o.value("retry")?.as_ref()).with_no_retry(o.value("no_retry")?.as_ref()),
            limiter: o.value("rate")?.as_ref().and_then(RateLimiter::from_value),
            concurrency: o.count("concurrency")?.map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            ordered: o.given("ordered_by")?,
        })
    }
}

pub(crate) struct HttpSink {
    dispatcher: Dispatcher,
}

impl HttpSink {
    /// Starts the sink's workers.
    pub fn start(
        config: HttpConfig,
        flow: &ir::Flow,
        s: &ir::Connector,
        store: &Arc<dyn StateStore>,
    ) -> Result<HttpSink, RuntimeError> {
        let client = HttpTarget::client(config.timeout, config.connect_timeout).map_err(RuntimeError::Setup)?;
        let target = HttpTarget {
            client,
            policy: config.policy,
            limiter: config.limiter,
            store: store.clone(),
            flow: flow.name.clone(),
            sink: s.name.clone(),
        };
        Ok(HttpSink { dispatcher: Dispatcher::spawn(Arc::new(target), config.concurrency, config.ordered) })
    }
}

impl Sink for HttpSink {
    fn deliver<'a>(&'a mut self, delivery: &'a Delivery, _: &'a Value) -> Handing<'a> {
        Box::pin(async move { Ok(Handed::Sending(self.dispatcher.submit(delivery.clone()).await)) })
    }
}
