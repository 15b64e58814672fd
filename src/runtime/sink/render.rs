//! Rendering one record into what a sink delivers: the body, and for HTTP sinks the
//! request line, headers and keys. The same for every kind, so a dry run shows exactly
//! what a real run would send.

use super::super::eval::{truthy, Compiled, Frame};
use super::super::options::Options;
use super::super::RuntimeError;
use crate::builtins::EvalError;
use crate::connectors::sink::body_json;
use crate::connectors::Delivery;
use crate::value::Value;

pub(crate) struct Render {
    when: Option<Compiled>,
    body: Option<Compiled>,
    /// The record itself goes out as it is, written straight from the value: the
    /// delivery carries no body.
    direct: bool,
    http: Option<HttpParts>,
}

struct HttpParts {
    method: String,
    url: Option<Compiled>,
    headers: Option<Compiled>,
    idempotency_key: Option<Compiled>,
    ordered_by: Option<Compiled>,
}

impl Render {
    /// A file or stdout sink's rendering: the record, or its `body`.
    pub fn plain(o: &Options<'_>, direct: bool) -> Result<Render, RuntimeError> {
        Ok(Render { when: o.per_record("when")?, body: None, direct, http: None })
    }

    pub fn http(o: &Options<'_>, method: String) -> Result<Render, RuntimeError> {
        Ok(Render {
            when: o.per_record("when")?,
            body: o.per_record("body")?,
            direct: false,
            http: Some(HttpParts {
                method,
                url: o.per_record("url")?,
                headers: o.per_record("headers")?,
                idempotency_key: o.per_record("idempotency_key")?,
                ordered_by: o.per_record("ordered_by")?,
            }),
        })
    }

    /// The delivery for one record, or `None` when the sink's `when` says no.
    pub fn render(&self, frame: &Frame<'_>) -> Result<Option<Delivery>, EvalError> {
        if let Some(when) = &self.when {
            if !truthy(&when(frame)?) {
                return Ok(None);
            }
        }
        let body = match &self.body {
            Some(b) => body_json(&b(frame)?),
            None if self.direct => serde_json::Value::Null,
            None => body_json(&frame.record),
        };
        let Some(http) = &self.http else {
            return Ok(Some(Delivery {
                method: None,
                url: None,
                headers: Vec::new(),
                body,
                idempotency_key: None,
                order_key: None,
            }));
        };
        let url = match &http.url {
            Some(u) => u(frame)?.to_string(),
            None => String::new(),
        };
        let mut headers: Vec<(String, Value)> = vec![("Content-Type".into(), Value::str("application/json"))];
        if let Some(h) = &http.headers {
            if let Value::Record(r) = h(frame)? {
                headers.extend(r.fields().map(|(k, v)| (k.to_string(), v.clone())));
            }
        }
        let idempotency_key = match &http.idempotency_key {
            Some(k) => Some(k(frame)?.to_string()),
            None => None,
        };
        if let Some(k) = &idempotency_key {
            headers.push(("Idempotency-Key".into(), Value::str(k)));
        }
        let order_key = match &http.ordered_by {
            Some(k) => Some(k(frame)?.key().into_owned()),
            None => None,
        };
        Ok(Some(Delivery {
            method: Some(http.method.clone()),
            url: Some(url),
            headers,
            body,
            idempotency_key,
            order_key,
        }))
    }
}
