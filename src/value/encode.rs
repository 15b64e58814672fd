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
        // serde_json's `arbitrary_precision` keeps a number's text as it is.
        Value::JsonNumber(text) => Number::from_str(text).map(Json::Number).unwrap_or(Json::Null),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Date(_) | Value::DateTime(_) => Json::String(v.to_string()),
        Value::Duration(ms) => Json::String(super::iso_duration(*ms)),
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
        Value::Int(n) => {
            if *n < 0 {
                w.write_all(b"-")?;
            }
            w.write_all(Digits::of(n.unsigned_abs()).as_bytes())
        }
        Value::Decimal(d) => write_decimal(w, d),
        Value::Float(f) if f.is_finite() => serde_json::to_writer(w, f).map_err(std::io::Error::other),
        Value::Float(_) => w.write_all(b"null"),
        // Valid JSON number text, as the decoder read it.
        Value::JsonNumber(text) => w.write_all(text.as_bytes()),
        Value::Str(s) => serde_json::to_writer(w, &**s).map_err(std::io::Error::other),
        // ISO 8601 text has nothing to escape.
        Value::Date(_) | Value::DateTime(_) => write!(w, "\"{v}\""),
        // ISO 8601 text has nothing to escape.
        Value::Duration(ms) => write!(w, "\"{}\"", super::iso_duration(*ms)),
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

/// A Decimal as its `Display` writes it (every digit of its scale, `-` for any negative
/// one), without going through the formatter: a sink writes a few dozen for each order.
fn write_decimal<W: std::io::Write + ?Sized>(w: &mut W, d: &rust_decimal::Decimal) -> std::io::Result<()> {
    let Ok(mantissa) = u64::try_from(d.mantissa().unsigned_abs()) else {
        return write!(w, "{d}");
    };
    if d.is_sign_negative() {
        w.write_all(b"-")?;
    }
    let digits = Digits::of(mantissa);
    let digits = digits.as_bytes();
    let scale = d.scale() as usize;
    if scale == 0 {
        return w.write_all(digits);
    }
    match digits.len().checked_sub(scale) {
        Some(whole) if whole > 0 => {
            w.write_all(&digits[..whole])?;
            w.write_all(b".")?;
            w.write_all(&digits[whole..])
        }
        _ => {
            w.write_all(b"0.")?;
            for _ in digits.len()..scale {
                w.write_all(b"0")?;
            }
            w.write_all(digits)
        }
    }
}

/// The decimal digits of a number, most significant first.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn of(mut n: u64) -> Digits {
        let mut d = Digits { buf: [0; 20], start: 20 };
        loop {
            d.start -= 1;
            d.buf[d.start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return d;
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
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
    fn numbers_are_written_as_displayed() {
        let mut decimals: Vec<rust_decimal::Decimal> = [
            "0",
            "-0",
            "0.00",
            "-0.00",
            "1",
            "-1",
            "19.90",
            "-19.90",
            "0.005",
            "-0.005",
            "100",
            "1.000",
            "12345678901234567.89",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551616.5",
            "0.0000000000000000000000000001",
            "79228162514264337593543950335",
        ]
        .iter()
        .map(|t| rust_decimal::Decimal::from_str(t).unwrap())
        .collect();
        decimals.push(rust_decimal::Decimal::new(-0, 3));
        decimals.push(-rust_decimal::Decimal::new(0, 2));
        for d in decimals {
            let mut out = Vec::new();
            write_decimal(&mut out, &d).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), d.to_string(), "{d:?}");
        }
        for n in [0, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_json(&mut out, &Value::Int(n), Redaction::Redact).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn written_json_is_the_trees_text() {
        let v = Value::from_str(
            r#"{"a": 1, "b": [19.90, -0.5, "x\"y\n", null, true], "c": {"d": 12345678901234567.89, "é": "ü"}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_json(&mut out, &v, Redaction::Redact).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), to_json_string(&v, Redaction::Redact));
        let date = Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap());
        let time = Value::DateTime(chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05.120+01:00").unwrap());
        for v in [Value::Float(0.1), Value::Float(f64::NAN), Value::Secret("s".into()), Value::Duration(5), date, time]
        {
            let mut out = Vec::new();
            write_json(&mut out, &v, Redaction::Redact).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), to_json_string(&v, Redaction::Redact));
        }
    }
}
