//! Values to JSON: Decimals keep their exact digits and scale (19.90 stays 19.90).

use std::str::FromStr;

use serde_json::{Map, Number, Value as Json};

use super::Value;

/// Whether secrets are written out (request headers only) or replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redaction {
    Redact,
    Reveal,
}

pub const REDACTED: &str = "<redacted>";

pub fn to_json(v: &Value, redaction: Redaction) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(n) => Json::Number((*n).into()),
        Value::Decimal(d) => {
            Number::from_str(&d.to_string()).map(Json::Number).unwrap_or_else(|_| Json::String(d.to_string()))
        }
        Value::Float(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Date(_) | Value::DateTime(_) => Json::String(v.to_string()),
        Value::Duration(ms) => Json::Number((*ms).into()),
        Value::List(items) => Json::Array(items.iter().map(|i| to_json(i, redaction)).collect()),
        Value::Record(r) => {
            let mut m = Map::with_capacity(r.values.len());
            for (k, v) in r.fields() {
                m.insert(k.to_string(), to_json(v, redaction));
            }
            Json::Object(m)
        }
        Value::Secret(s) => match redaction {
            Redaction::Reveal => Json::String(s.to_string()),
            Redaction::Redact => Json::String(REDACTED.into()),
        },
    }
}

pub fn to_json_string(v: &Value, redaction: Redaction) -> String {
    to_json(v, redaction).to_string()
}
