//! What the two Rust yardsticks share: exact Decimals from Shopify's strings and numbers,
//! the mapping's small helpers (`clean`, rounding, timestamps), the carrier table, the
//! outcome counts and the holds file. The mapping itself is written out in each yardstick.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};

/// How every input record ended, to compare the three implementations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub records_in: u64,
    pub delivered: u64,
    pub filtered: u64,
    pub held: BTreeMap<String, u64>,
}

impl Outcome {
    pub fn held_total(&self) -> u64 {
        self.held.values().sum()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in: {} delivered, {} filtered, {} held",
            self.records_in,
            self.delivered,
            self.filtered,
            self.held_total()
        )?;
        if !self.held.is_empty() {
            let by: Vec<String> = self.held.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            write!(f, " ({})", by.join(", "))?;
        }
        Ok(())
    }
}

/// Why a record stopped: a hold code and its message.
pub struct Hold {
    pub code: &'static str,
    pub message: String,
}

pub fn hold(code: &'static str, message: &str) -> Hold {
    Hold { code, message: message.to_string() }
}

/// Where held records go: one JSON line each, with the record as it came in.
pub struct Holds<W: Write> {
    out: W,
}

impl<W: Write> Holds<W> {
    pub fn new(out: W) -> Self {
        Holds { out }
    }

    /// `raw` is the input line; `is_json` says whether it parsed (else it is kept as text).
    pub fn write(&mut self, h: &Hold, source_ref: &str, raw: &[u8], is_json: bool) -> io::Result<()> {
        let raw = String::from_utf8_lossy(raw);
        let raw = raw.trim_end();
        let record = if is_json { raw.to_string() } else { serde_json::to_string(raw)? };
        writeln!(
            self.out,
            "{{\"reason\":{},\"message\":{},\"source_ref\":{},\"record\":{record}}}",
            serde_json::to_string(h.code)?,
            serde_json::to_string(&h.message)?,
            serde_json::to_string(source_ref)?,
        )
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// An exact Decimal from its text, as flowgate reads one: plain or scientific notation.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    Decimal::from_str_exact(t).or_else(|_| Decimal::from_scientific(t)).ok()
}

/// `#[serde(deserialize_with = "decimal")]`: a Decimal from a JSON string ("199.00") or a
/// JSON number, exactly (serde_json's `arbitrary_precision` hands numbers over as text).
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// `#[serde(default, deserialize_with = "opt_decimal")]`: the same, or null.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number, as a number or a string, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            decimal(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

struct DecimalVisitor;

/// The key serde_json's `arbitrary_precision` wraps a number's text in.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, as a number or a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Decimal, E> {
        parse_decimal(s).ok_or_else(|| E::custom(format!("not a decimal: {s:?}")))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(n))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key_seed(IsNumberToken)? {
            Some(true) => map.next_value_seed(DecimalText),
            _ => Err(de::Error::custom("expected a decimal number, found an object")),
        }
    }
}

/// Whether a map key is serde_json's number token (read without allocating).
struct IsNumberToken;

impl<'de> DeserializeSeed<'de> for IsNumberToken {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsNumberToken {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
        Ok(s == NUMBER_TOKEN)
    }
}

/// The text of a number, parsed where it lies.
struct DecimalText;

impl<'de> DeserializeSeed<'de> for DecimalText {
    type Value = Decimal;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Decimal, D::Error> {
        d.deserialize_str(DecimalVisitor)
    }
}

/// A Decimal written as a JSON number with exactly its digits (199.00 stays 199.00).
#[derive(Clone, Copy, Debug)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json_number(self.0).serialize(s)
    }
}

/// A Decimal as an exact serde_json number.
pub fn json_number(d: Decimal) -> serde_json::Number {
    serde_json::Number::from_str(&d.to_string()).expect("a Decimal is a JSON number")
}

/// `round(x, 2, half_even)`: exactly two fractional digits.
pub fn round2(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    r.rescale(2);
    r
}

/// The flow's `clean`: surrounding blanks removed, or nothing when nothing is left.
pub fn clean(s: Option<&str>) -> Option<&str> {
    let t = s.unwrap_or("").trim();
    (!t.is_empty()).then_some(t)
}

/// The flow's `street`: address lines, blank ones dropped, joined with ", ".
pub fn street(address1: Option<&str>, address2: Option<&str>) -> String {
    match (clean(address1), clean(address2)) {
        (Some(a), Some(b)) => format!("{a}, {b}"),
        (Some(a), None) | (None, Some(a)) => a.to_string(),
        (None, None) => String::new(),
    }
}

/// A timestamp as flowgate writes one (RFC 3339, `Z` for UTC, fractions only when there are any).
pub fn timestamp(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// carriers.csv beside bench.flow: shipping-method title to carrier code.
pub fn load_carriers(path: &Path) -> HashMap<String, String> {
    let mut reader = csv::Reader::from_path(path).expect("carriers.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a carriers.csv row");
            (r[0].to_string(), r[1].to_string())
        })
        .collect()
}
