//! Run-time values: exact Decimals, records with their field order, cheap to clone.
//!
//! A record value carries its layout (the declared record type), so a field the IR
//! resolved to a slot is read by index, and output keeps the declared field order.

mod agree;
mod decode;
mod encode;
mod fits;
mod key_order;
mod scalars;
mod scan;
mod wrapper;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use ecow::{EcoString, EcoVec};
use rust_decimal::Decimal;
use triomphe::HeaderSlice;

use crate::types::{RecordType, Type};

pub use agree::decoders_agree;
pub use decode::{
    decode_json, decode_json_planned, decode_json_value, decode_json_value_planned, decode_text_row, DecodeError, Plan,
};
pub use encode::{to_json, to_json_string, write_json, Redaction};

/// A whole-word tag (`repr(u64)`) puts every payload at offset 8, so that a value moves
/// as three words. With a one-byte tag, booleans and Decimals began inside the first
/// word, and every move of a value (each result of each expression) was made of odd-sized
/// pieces that a following whole-word read had to wait for.
#[derive(Clone, Debug)]
#[repr(u64)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Float(f64),
    /// A number in untyped `Json` that neither an `Int` nor a `Decimal` holds as written
    /// (more than 28 digits, an exponent, `-0`): kept as its JSON text, so that it leaves
    /// exactly as it came. Typed fields never hold one.
    JsonNumber(EcoString),
    /// Text of up to 15 bytes (codes, SKUs, postcodes, most of a payload's strings) is
    /// kept inside the value; longer text is shared, so a clone never copies it.
    Str(EcoString),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    /// Milliseconds.
    Duration(u64),
    /// Items and reference count in one allocation.
    List(EcoVec<Value>),
    Record(Record),
    /// A value from `secret()`: shown as `<redacted>` everywhere but a request header.
    Secret(EcoString),
}

/// A record: its layout (names and declared types) and one value per field, shared.
/// The reference count, the layout and the values are one allocation: a decoded order
/// is made of dozens of records, and each had cost two.
#[derive(Clone)]
pub struct Record(triomphe::Arc<HeaderSlice<Arc<RecordType>, [Value]>>);

impl Record {
    /// A record of `layout` holding `values`, one per field in the layout's order.
    pub fn new<I>(layout: Arc<RecordType>, values: I) -> Record
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: ExactSizeIterator,
    {
        Record(triomphe::Arc::from_header_and_iter(layout, values.into_iter()))
    }

    /// A record of `layout` with every field null, to be filled in place by its maker
    /// (see `values_mut`) rather than gathered elsewhere and copied in.
    pub fn nulls(layout: Arc<RecordType>) -> Record {
        let n = layout.fields.len();
        Record::new(layout, (0..n).map(|_| Value::Null))
    }

    /// The values, to change, while no one else holds this record.
    pub fn values_mut(&mut self) -> Option<&mut [Value]> {
        triomphe::Arc::get_mut(&mut self.0).map(|r| &mut r.slice)
    }

    pub fn layout(&self) -> &Arc<RecordType> {
        &self.0.header
    }

    pub fn values(&self) -> &[Value] {
        &self.0.slice
    }

    /// Whether both are the very same record (not merely equal ones).
    pub fn same(a: &Record, b: &Record) -> bool {
        triomphe::Arc::ptr_eq(&a.0, &b.0)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.layout().fields.get_index_of(name).and_then(|i| self.values().get(i))
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.layout().fields.keys().map(String::as_str).zip(self.values().iter())
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record").field("layout", self.layout()).field("values", &self.values()).finish()
    }
}

impl Value {
    /// A record's fields as text pairs (query parameters, headers), absent values left
    /// out; `reveal` writes secrets out, for headers, which are sent and never shown.
    pub fn text_pairs(&self, reveal: bool) -> Vec<(String, String)> {
        let Value::Record(r) = self else { return Vec::new() };
        r.fields()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let text = match v {
                    Value::Secret(s) if reveal => s.to_string(),
                    other => other.to_string(),
                };
                (k.to_string(), text)
            })
            .collect()
    }

    pub fn str(s: &str) -> Value {
        Value::Str(EcoString::from(s))
    }

    pub fn list(items: EcoVec<Value>) -> Value {
        Value::List(items)
    }

    /// A record from names and values, in order (untyped fields are `Json`).
    pub fn record(fields: Vec<(String, Value)>) -> Value {
        let layout = RecordType { name: None, fields: fields.iter().map(|(k, _)| (k.clone(), Type::Json)).collect() };
        Value::Record(Record::new(Arc::new(layout), fields.into_iter().map(|(_, v)| v)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Decimal(_) => "a decimal",
            Value::Float(_) => "a float",
            Value::JsonNumber(_) => "a number",
            Value::Str(_) => "a string",
            Value::Date(_) => "a date",
            Value::DateTime(_) => "a date and time",
            Value::Duration(_) => "a duration",
            Value::List(_) => "a list",
            Value::Record(_) => "an object",
            Value::Secret(_) => "a secret",
        }
    }

    /// Field by name (for untyped values) or `None`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(r) => r.get(name),
            _ => None,
        }
    }

    /// A canonical text for dedupe keys, lookups, `unique` and grouping: equal values,
    /// equal keys. A string is its own key, borrowed: a lookup by one copies nothing.
    pub fn key(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Decimal(d) => Cow::Owned(d.normalize().to_string()),
            Value::Int(n) => Cow::Owned(n.to_string()),
            other => Cow::Owned(to_json_string(other, Redaction::Redact)),
        }
    }

    /// Equality as the language defines it: numbers compare by value (2 == 2.00).
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::JsonNumber(a), Value::JsonNumber(b)) => a == b,
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y)),
            (Value::Record(a), Value::Record(b)) => {
                a.values().len() == b.values().len()
                    && a.fields().zip(b.fields()).all(|((ka, va), (kb, vb))| ka == kb && va.equals(vb))
            }
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }

    /// Ordering for `<`, `sort_by`, `min`, `max`; `None` for values that do not order.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Decimal(a), Value::Decimal(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Decimal(b)) => Some(Decimal::from(*a).cmp(b)),
            (Value::Decimal(a), Value::Int(b)) => Some(a.cmp(&Decimal::from(*b))),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// The text a value interpolates as: strings bare, Decimals with their scale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str(""),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::JsonNumber(text) => f.write_str(text),
            Value::Str(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(d) => f.write_str(&d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            Value::Duration(ms) => f.write_str(&iso_duration(*ms)),
            Value::Secret(_) => f.write_str("<redacted>"),
            other => f.write_str(&to_json_string(other, Redaction::Redact)),
        }
    }
}

/// A duration as ISO 8601 text: `PT45S`, `PT1H30M`, `P1D`, `P1DT2H`, `PT0.5S`, `PT0S`.
/// A day is 24 hours (a duration has no calendar), so there are no months or years;
/// a week is written as 7 days.
pub fn iso_duration(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, hours, minutes, seconds) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours + minutes + seconds + millis > 0 || days == 0 {
        out.push('T');
    }
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    if millis > 0 {
        let fraction = format!("{millis:03}");
        out.push_str(&format!("{seconds}.{}S", fraction.trim_end_matches('0')));
    } else if seconds > 0 || ms == 0 {
        out.push_str(&format!("{seconds}S"));
    }
    out
}

/// `d` written with exactly `places` digits after the point, as a `Decimal(places)`
/// field promises: `19.9` becomes `19.90`, and `19.990` becomes `19.99`. Only trailing
/// zeros are ever dropped: a value that would need rounding (which the checker and the
/// decoder refuse before it gets here) is returned as it is, never rounded.
pub fn at_scale(d: Decimal, places: u32) -> Decimal {
    if d.scale() == places {
        return d;
    }
    let mut r = d;
    r.rescale(places);
    if r == d {
        r
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn durations_are_written_in_iso_8601() {
        let cases = [
            (0, "PT0S"),
            (1, "PT0.001S"),
            (500, "PT0.5S"),
            (1_000, "PT1S"),
            (45_000, "PT45S"),
            (90_000, "PT1M30S"),
            (5_400_000, "PT1H30M"),
            (3_600_000, "PT1H"),
            (86_400_000, "P1D"),
            (604_800_000, "P7D"),
            (93_784_005, "P1DT2H3M4.005S"),
            (86_400_120, "P1DT0.12S"),
        ];
        for (ms, text) in cases {
            assert_eq!(Value::Duration(ms).to_string(), text, "{ms}ms");
            assert_eq!(to_json_string(&Value::Duration(ms), Redaction::Redact), format!("\"{text}\""));
        }
        assert_eq!(iso_duration(u64::MAX), "P213503982334DT14H25M51.615S");
    }

    #[test]
    fn a_value_is_three_words() {
        // Every expression returns one: see the comment on `Value`.
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 24);
        assert_eq!(std::mem::size_of::<Result<Value, crate::builtins::EvalError>>(), 24);
    }

    #[test]
    fn a_record_changes_in_place_only_while_unshared() {
        let fields = [("a".to_string(), Type::Int), ("b".to_string(), Type::String)].into_iter().collect();
        let mut r = Record::nulls(Arc::new(RecordType { name: None, fields }));
        assert!(matches!(r.values(), [Value::Null, Value::Null]));
        r.values_mut().unwrap()[0] = Value::Int(1);
        let shared = r.clone();
        assert!(r.values_mut().is_none(), "a shared record must not change under its other holder");
        assert!(Record::same(&r, &shared));
        assert!(matches!(shared.values(), [Value::Int(1), Value::Null]));
        assert!(matches!(shared.get("a"), Some(Value::Int(1))));
    }

    #[test]
    fn a_scaled_decimal_has_exactly_its_places() {
        let at = |text: &str, places| at_scale(Decimal::from_str(text).unwrap(), places).to_string();
        assert_eq!(at("19.9", 2), "19.90");
        assert_eq!(at("19.990", 2), "19.99");
        assert_eq!(at("19.99000000", 2), "19.99");
        assert_eq!(at("0", 2), "0.00");
        assert_eq!(at("-0.5", 2), "-0.50");
        assert_eq!(at("5", 0), "5");
        assert_eq!(at("5.000", 0), "5");
        assert_eq!(at("1.25", 3), "1.250");
        // Never rounded: such a value is refused before it gets here.
        assert_eq!(at("19.999", 2), "19.999");
        assert_eq!(at("1.5", 0), "1.5");
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(Value::Int(2).equals(&Value::Decimal(Decimal::from_str("2.00").unwrap())));
        assert_eq!(Value::Decimal(Decimal::from_str("2.00").unwrap()).key(), "2");
    }
}
