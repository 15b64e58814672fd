//! Scalars: a JSON token or a text cell as a value of its declared type. Both decoders
//! (the fast scan and the serde path) and the CSV reader go through here, so they agree
//! on every value and every quirk, and on how a misfit is worded.

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use super::Value;
use crate::types::Type;

pub(super) fn quote(s: &str) -> String {
    let short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        format!("the text {short:?}…")
    } else {
        format!("the text {short:?}")
    }
}

/// A scalar from text, by its declared type.
pub(super) fn text_scalar(text: &str, ty: &Type) -> Option<Value> {
    Some(match ty {
        Type::String | Type::Json => Value::str(text),
        Type::Int => Value::Int(text.trim().parse().ok()?),
        Type::Decimal(scale) => Value::Decimal(parse_decimal(text.trim(), *scale).ok()?),
        Type::Float => Value::Float(text.trim().parse().ok().filter(|f: &f64| f.is_finite())?),
        Type::Bool => match text.trim() {
            "true" | "TRUE" | "True" | "1" => Value::Bool(true),
            "false" | "FALSE" | "False" | "0" => Value::Bool(false),
            _ => return None,
        },
        Type::Date => Value::Date(NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?),
        Type::DateTime => Value::DateTime(DateTime::parse_from_rfc3339(text.trim()).ok()?),
        Type::Union(members) => members.iter().any(|m| m == text).then(|| Value::str(text))?,
        _ => return None,
    })
}

/// An exact Decimal from its text; `Err` names why not.
pub(crate) fn parse_decimal(text: &str, scale: Option<u32>) -> Result<Decimal, String> {
    let d = Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| "not a number that fits a Decimal (at most 28 significant digits)".to_string())?;
    match scale {
        Some(s) if d.scale() > s && d.normalize().scale() > s => Err(format!("more than {s} fractional digits")),
        // A `Decimal(s)` value has exactly `s` places from the moment it is read.
        Some(s) => Ok(super::at_scale(d, s)),
        None => Ok(d),
    }
}

/// Why a scalar does not fit its type: what was found, and what was expected when that
/// is not simply the declared type.
pub(super) struct Misfit {
    pub(super) expected: Option<String>,
    pub(super) found: String,
}

impl Misfit {
    fn found(found: String) -> Misfit {
        Misfit { expected: None, found }
    }

    fn expecting(expected: String, found: String) -> Misfit {
        Misfit { expected: Some(expected), found }
    }
}

/// One JSON scalar as the parser hands it over. A number is `U64` (`I64` when negative)
/// when it is an integer that fits, as serde_json's `arbitrary_precision` parser does it
/// (`-0` is not one), else its text, with the exponent written `e` and always signed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Scalar<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    Number(&'a str),
    Str(&'a str),
}

/// A JSON scalar as a value of type `ty`, built or (when `builds` is false) only checked.
/// Both decoders go through here, so they agree on every value and every quirk: a
/// checked boolean, out-of-range integer, or date or timestamp not in its plain form
/// (see `fits`) is still produced, other checked scalars become null (their slots are
/// never read).
pub(super) fn scalar(ty: &Type, builds: bool, token: Scalar<'_>) -> Result<Value, Misfit> {
    let built = |v: Value| if builds { v } else { Value::Null };
    match token {
        Scalar::Null => match ty {
            Type::Optional(_) | Type::Null | Type::Json => Ok(Value::Null),
            _ => Err(Misfit::found("null".into())),
        },
        Scalar::Bool(b) => match ty.strip_optional() {
            Type::Bool | Type::Json => Ok(Value::Bool(b)),
            _ => Err(Misfit::found(format!("the boolean {b}"))),
        },
        // Whole numbers arrive parsed (only fractions come as text): no text round trip.
        Scalar::I64(n) => match *ty.strip_optional() {
            Type::Int | Type::Json => Ok(built(Value::Int(n))),
            Type::Decimal(None) => Ok(built(Value::Decimal(Decimal::from(n)))),
            Type::Decimal(Some(s)) => Ok(built(Value::Decimal(super::at_scale(Decimal::from(n), s)))),
            _ => number(ty, &n.to_string()),
        },
        Scalar::U64(n) => match i64::try_from(n) {
            Ok(n) => scalar(ty, builds, Scalar::I64(n)),
            Err(_) => number(ty, &n.to_string()),
        },
        Scalar::Number(text) if !builds && super::fits::plain(ty, text) => Ok(Value::Null),
        Scalar::Number(text) => number(ty, text).map(built),
        Scalar::Str(s) => string(ty, builds, s),
    }
}

/// A JSON string as a value of type `ty`.
fn string(ty: &Type, builds: bool, s: &str) -> Result<Value, Misfit> {
    let text = |s: &str| if builds { Value::str(s) } else { Value::Null };
    if !builds && super::fits::plain(ty, s.trim()) {
        return Ok(Value::Null);
    }
    match ty.strip_optional() {
        Type::String | Type::Json => Ok(text(s)),
        Type::Decimal(_) | Type::Int | Type::Float => {
            // Numeric strings ("19.99") are how several platforms send money.
            let t = s.trim();
            if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') {
                return Err(Misfit::found(quote(s)));
            }
            let v = number(ty, t)?;
            Ok(if builds { v } else { Value::Null })
        }
        Type::Union(members) if members.iter().any(|m| m == s) => Ok(text(s)),
        Type::Union(members) => Err(Misfit::expecting(
            format!("one of {}", members.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ")),
            quote(s),
        )),
        stripped => text_scalar(s, stripped).ok_or_else(|| Misfit::found(quote(s))),
    }
}

/// A number's text as a value of type `ty`.
pub(super) fn number(ty: &Type, text: &str) -> Result<Value, Misfit> {
    let found = || Misfit::found(format!("the number {text}"));
    match *ty.strip_optional() {
        Type::Int => match text.parse::<i64>() {
            Ok(n) => Ok(Value::Int(n)),
            Err(_) if text.contains(['.', 'e', 'E']) => Err(found()),
            Err(_) => Err(Misfit::expecting("Int".into(), format!("{text}, which does not fit in 64 bits"))),
        },
        Type::Decimal(scale) => {
            parse_decimal(text, scale).map(Value::Decimal).map_err(|why| Misfit::found(format!("{text}: {why}")))
        }
        Type::Float => text.parse::<f64>().map(Value::Float).map_err(|_| found()),
        Type::Json => Ok(json_number(text)),
        Type::Duration => text.parse::<u64>().map(Value::Duration).map_err(|_| found()),
        _ => Err(found()),
    }
}

/// An untyped JSON number, keeping its digits as written: an Int if whole and small
/// enough, else a Decimal if it has no exponent and fits one exactly (a Decimal shows
/// every digit of its scale, so `1.50` stays `1.50`), else its text. A binary float
/// would turn `123456789012345678901234567890` into `1.2345678901234568e29`, and `1e400`
/// into nothing.
pub(super) fn json_number(text: &str) -> Value {
    // Neither an Int nor a Decimal keeps the sign of a negative zero.
    let negative_zero = || text.starts_with('-') && text.bytes().all(|b| matches!(b, b'-' | b'0' | b'.'));
    if let Ok(n) = text.parse::<i64>() {
        if n != 0 || !negative_zero() {
            return Value::Int(n);
        }
    }
    if !text.contains(['e', 'E']) && !negative_zero() {
        if let Ok(d) = Decimal::from_str_exact(text) {
            return Value::Decimal(d);
        }
    }
    Value::JsonNumber(text.into())
}
