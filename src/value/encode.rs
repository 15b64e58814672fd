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
            let mut m = Map::with_capacity(r.values().len());
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

/// Writes `v` as compact JSON, the same text `to_json(v, redaction).to_string()` gives,
/// without building the tree first (the file sinks' hot path).
pub fn write_json<W: std::io::Write + ?Sized>(w: &mut W, v: &Value, redaction: Redaction) -> std::io::Result<()> {
    match v {
        Value::Null => w.write_all(b"null"),
        Value::Bool(b) => w.write_all(if *b { b"true" } else { b"false" }),
        Value::Int(n) => write!(w, "{n}"),
        Value::Decimal(d) => write!(w, "{d}"),
        Value::Float(f) if f.is_finite() => serde_json::to_writer(w, f).map_err(std::io::Error::other),
        Value::Float(_) => w.write_all(b"null"),
        Value::Str(s) => serde_json::to_writer(w, &**s).map_err(std::io::Error::other),
        Value::Date(_) | Value::DateTime(_) => serde_json::to_writer(w, &v.to_string()).map_err(std::io::Error::other),
        Value::Duration(ms) => write!(w, "{ms}"),
        Value::List(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_json(w, item, redaction)?;
            }
            w.write_all(b"]")
        }
        Value::Record(r) => {
            w.write_all(b"{")?;
            for (i, (k, v)) in r.fields().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut *w, k).map_err(std::io::Error::other)?;
                w.write_all(b":")?;
                write_json(w, v, redaction)?;
            }
            w.write_all(b"}")
        }
        Value::Secret(s) => {
            let text = if redaction == Redaction::Reveal { &**s } else { REDACTED };
            serde_json::to_writer(w, text).map_err(std::io::Error::other)
        }
    }
}

pub fn to_json_string(v: &Value, redaction: Redaction) -> String {
    to_json(v, redaction).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn written_json_is_the_trees_text() {
        let v = Value::from_str(
            r#"{"a": 1, "b": [19.90, -0.5, "x\"y\n", null, true], "c": {"d": 12345678901234567.89, "é": "ü"}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_json(&mut out, &v, Redaction::Redact).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), to_json_string(&v, Redaction::Redact));
        for v in [Value::Float(0.1), Value::Float(f64::NAN), Value::Secret("s".into()), Value::Duration(5)] {
            let mut out = Vec::new();
            write_json(&mut out, &v, Redaction::Redact).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), to_json_string(&v, Redaction::Redact));
        }
    }
}
