//! Sinks: what a record becomes when it leaves the flow.
//!
//! A `SinkPlan` is built once per sink from its options; for each record it renders a
//! `Delivery` (the request an HTTP sink would send, or the line a file sink writes).
//! Dry runs record deliveries; real runs hand them to the writer for the sink's kind.

use crate::value::{to_json, Redaction, Value};

/// What one record looks like on its way out.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `POST`, `PUT`, ...; `None` for file and stdout sinks.
    pub method: Option<String>,
    pub url: Option<String>,
    /// Header names and values; secret values are redacted unless the request is real.
    pub headers: Vec<(String, Value)>,
    pub body: serde_json::Value,
    /// The `idempotency_key`: checked against the delivery log, sent as a header.
    pub idempotency_key: Option<String>,
    /// The `ordered_by` key: deliveries with the same key go out in order.
    pub order_key: Option<String>,
}

impl Delivery {
    /// The text a dry run prints: request line, headers (secrets redacted), body.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let (Some(m), Some(u)) = (&self.method, &self.url) {
            out.push_str(&format!("{m} {u}\n"));
            for (k, v) in &self.headers {
                let shown = match v {
                    Value::Secret(_) => {
                        crate::value::to_json_string(v, Redaction::Redact).trim_matches('"').to_string()
                    }
                    other => other.to_string(),
                };
                out.push_str(&format!("{k}: {shown}\n"));
            }
            out.push('\n');
        }
        out.push_str(&serde_json::to_string_pretty(&self.body).unwrap_or_default());
        out.push('\n');
        out
    }
}

/// How a sink kind sends: HTTP requests or lines to a file or stdout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkPlan {
    Http { method: String },
    File { path: String, format: crate::connectors::Format },
    Stdout { format: crate::connectors::Format },
}

impl SinkPlan {
    pub fn is_http(&self) -> bool {
        matches!(self, SinkPlan::Http { .. })
    }
}

/// The body JSON of a record (secrets never reach a body: the checker refuses them,
/// and this redacts as a second line of defence).
pub fn body_json(v: &Value) -> serde_json::Value {
    to_json(v, Redaction::Redact)
}

/// One CSV line for a flat record; nested values are written as JSON text.
pub fn csv_line(v: &Value, header: bool) -> String {
    let Value::Record(r) = v else { return format!("{v}\n") };
    let cells: Vec<String> = if header {
        r.fields().map(|(k, _)| k.to_string()).collect()
    } else {
        r.fields()
            .map(|(_, v)| match v {
                Value::Record(_) | Value::List(_) => crate::value::to_json_string(v, Redaction::Redact),
                other => other.to_string(),
            })
            .collect()
    };
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(&cells);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
