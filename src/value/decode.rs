//! Decoding input against its declared type, without ever going through `f64`.
//!
//! JSON is read once, straight into values shaped by the declared type: a record's
//! keys go to their slots, undeclared fields are skipped unread, and a number is kept
//! as its text (serde_json's `arbitrary_precision`) until it becomes an exact Decimal
//! or Int. A value that does not fit names the field path, what was expected and what
//! was found, for a `schema_mismatch` hold.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ecow::EcoVec;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::scalars::{json_number, number, quote, scalar, text_scalar, Misfit, Scalar};
use super::{Record, Value};
use crate::types::{RecordType, Type};

/// Why input did not become a value.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeError {
    /// Not valid JSON (or CSV): the parser's message, with line and column.
    Malformed(String),
    /// Valid syntax, wrong shape: `path` is like `line_items[2].price`. `hint` says what the
    /// input looks like instead, when that is clear (a wrapper of the declared type).
    Mismatch { path: String, expected: String, found: String, hint: Option<String> },
}

impl DecodeError {
    /// The hold reason code for this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Malformed(_) => "malformed_input",
            DecodeError::Mismatch { .. } => "schema_mismatch",
        }
    }
}

impl DecodeError {
    /// The mismatch with a hint when `bytes` look like a wrapper of `ty` (see `wrapper`).
    fn with_wrapper_hint(self, bytes: &[u8], ty: &Type) -> DecodeError {
        match self {
            DecodeError::Mismatch { path, expected, found, hint: None } => {
                let hint = super::wrapper::hint(bytes, ty);
                DecodeError::Mismatch { path, expected, found, hint }
            }
            other => other,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed(m) => write!(f, "{m}"),
            DecodeError::Mismatch { path, expected, found, hint } => {
                if !path.is_empty() {
                    write!(f, "`{path}`: ")?;
                }
                write!(f, "expected {expected}, found {found}")?;
                match hint {
                    Some(hint) => write!(f, "; {hint}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// One JSON document as a value of type `ty`.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_json_planned(bytes, ty, &Plan::Build)
}

/// One JSON document as a value of type `ty`, building only what `plan` says (every
/// declared field is still checked).
pub fn decode_json_planned(bytes: &[u8], ty: &Type, plan: &Plan) -> Result<Value, DecodeError> {
    // The fast path answers only when it is sure of the value; serde is the authority, and
    // words every error.
    match super::scan::decode(bytes, ty, plan) {
        Some(v) => Ok(v),
        None => decode_json_serde(bytes, ty, plan).map_err(|e| e.with_wrapper_hint(bytes, ty)),
    }
}

/// `decode_json_planned` through serde alone: the path that decides every document the
/// fast path is not sure of.
pub(super) fn decode_json_serde(bytes: &[u8], ty: &Type, plan: &Plan) -> Result<Value, DecodeError> {
    let ctx = Ctx::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Seed { ty, plan, path: &Path::Root, ctx: &ctx }.deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    result.map_err(|e| ctx.error.borrow_mut().take().unwrap_or_else(|| DecodeError::Malformed(e.to_string())))
}

/// A parsed JSON value as a value of type `ty` (for lookup files, polled records and
/// JSONPath results).
pub fn decode_json_value(v: &serde_json::Value, ty: &Type) -> Result<Value, DecodeError> {
    decode_json_value_planned(v, ty, &Plan::Build)
}

/// A parsed JSON value as a value of type `ty`, building only what `plan` says.
///
/// Decoded from its text, which keeps every number as it was written
/// (`arbitrary_precision`): handed over by the tree, a number that an `f64` happens to
/// round-trip arrives as that `f64`, and `1.5e-7` can no longer be told from
/// `0.00000015`, nor can a whole number beyond 64 bits be read at all.
pub fn decode_json_value_planned(v: &serde_json::Value, ty: &Type, plan: &Plan) -> Result<Value, DecodeError> {
    let text = serde_json::to_vec(v).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    decode_json_planned(&text, ty, plan)
}

/// How much of a decoded value to build. Fields nobody reads are checked against their
/// type but not built: no string copied, no record allocated (see `ir::Demand`).
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Build the whole value.
    Build,
    /// Check that the value fits its type; build nothing (the slot stays null).
    Check,
    /// A record (or an absent one): one plan per declared field.
    Record(Vec<Plan>),
    /// A list (or an absent one): the plan of its elements.
    List(Box<Plan>),
}

impl Plan {
    /// The plan for values of `ty` when the program reads only what `demand` says.
    pub fn for_type(ty: &Type, demand: &crate::ir::Demand) -> Plan {
        Plan::of(ty, demand, 0)
    }

    fn of(ty: &Type, demand: &crate::ir::Demand, depth: usize) -> Plan {
        match ty.strip_optional() {
            // Deeply nested declarations are rare; building them whole is always right.
            _ if depth > 32 => Plan::Build,
            Type::Record(r) if demand.whole_record(r) => Plan::Build,
            Type::Record(r) => {
                let fields: Vec<Plan> = (0..r.fields.len())
                    .map(|i| match demand.reads(r, i) {
                        true => Plan::of(&r.fields[i], demand, depth + 1),
                        false => Plan::Check,
                    })
                    .collect();
                if fields.iter().all(|p| *p == Plan::Build) {
                    Plan::Build
                } else {
                    Plan::Record(fields)
                }
            }
            Type::List(t) => match Plan::of(t, demand, depth + 1) {
                Plan::Build => Plan::Build,
                p => Plan::List(Box::new(p)),
            },
            _ => Plan::Build,
        }
    }

    /// Whether a value planned as `self` is built (else only checked).
    pub(super) fn builds(&self) -> bool {
        !matches!(self, Plan::Check)
    }

    /// The plan for field `i` of a record planned as `self`.
    pub(super) fn field(&self, i: usize) -> &Plan {
        match self {
            Plan::Record(fields) => fields.get(i).unwrap_or(&Plan::Build),
            Plan::Check => &Plan::Check,
            _ => &Plan::Build,
        }
    }

    /// The plan for the elements of a list planned as `self`.
    pub(super) fn element(&self) -> &Plan {
        match self {
            Plan::List(p) => p,
            Plan::Check => &Plan::Check,
            _ => &Plan::Build,
        }
    }
}

/// A row of text cells (CSV) as a record of type `ty`: cells are converted by the
/// declared field type, an empty cell is absent.
pub fn decode_text_row(headers: &[String], cells: &[String], ty: &Type) -> Result<Value, DecodeError> {
    let Type::Record(layout) = ty.unwrap_optional() else {
        return Err(DecodeError::Mismatch {
            path: String::new(),
            expected: ty.to_string(),
            found: "a CSV row".into(),
            hint: None,
        });
    };
    let mut values = Vec::with_capacity(layout.fields.len());
    for (name, fty) in &layout.fields {
        let cell = headers.iter().position(|h| h == name).and_then(|i| cells.get(i)).filter(|c| !c.is_empty());
        let v = match cell {
            None if may_be_absent(fty) => Value::Null,
            None => return Err(mismatch(name, fty, "an empty or missing column".into())),
            Some(text) => text_scalar(text, &fty.unwrap_optional()).ok_or_else(|| mismatch(name, fty, quote(text)))?,
        };
        values.push(v);
    }
    Ok(Value::Record(Record::new(layout.clone(), values)))
}

/// Whether a field of type `ty` may be missing from the input (it is then null).
pub(super) fn may_be_absent(ty: &Type) -> bool {
    ty.is_optional() || *ty == Type::Json
}

fn mismatch(path: &str, expected: &Type, found: String) -> DecodeError {
    DecodeError::Mismatch { path: path.to_string(), expected: expected.to_string(), found, hint: None }
}

#[derive(Default)]
struct Ctx {
    error: RefCell<Option<DecodeError>>,
}

/// Where in the document the decoder is, built on the stack as it descends.
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => write!(f, "{name}"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    ty: &'a Type,
    plan: &'a Plan,
    path: &'a Path<'a>,
    ctx: &'a Ctx,
}

impl Seed<'_> {
    /// Whether this value is built (else only checked).
    fn builds(&self) -> bool {
        self.plan.builds()
    }

    fn fail<E: de::Error>(&self, found: String) -> E {
        self.fail_expecting(self.ty.to_string(), found)
    }

    fn fail_expecting<E: de::Error>(&self, expected: String, found: String) -> E {
        let mut slot = self.ctx.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(DecodeError::Mismatch { path: self.path.to_string(), expected, found, hint: None });
        }
        E::custom("schema mismatch")
    }

    /// A scalar as the value of this seed, or the mismatch recorded.
    fn scalar<E: de::Error>(&self, token: Scalar<'_>) -> Result<Value, E> {
        scalar(self.ty, self.builds(), token).map_err(|m| self.misfit(m))
    }

    fn misfit<E: de::Error>(&self, m: Misfit) -> E {
        match m.expected {
            Some(expected) => self.fail_expecting(expected, m.found),
            None => self.fail(m.found),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if !self.builds() && *self.ty == Type::Json {
            // Anything fits untyped JSON: only its syntax (and depth) is checked.
            return d.deserialize_any(Skip).map(|_| Value::Null);
        }
        d.deserialize_any(self)
    }
}

/// Reads a value and keeps nothing. Unlike `IgnoredAny` it goes through the parser's
/// nesting limit, so input too deeply nested is refused whether or not a flow reads it.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// The text of an exact number (serde_json's `arbitrary_precision` form), handed to the
/// seed without copying it.
struct NumberText<'a>(Seed<'a>);

impl<'de> DeserializeSeed<'de> for NumberText<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberText<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        self.0.scalar(Scalar::Number(text))
    }
}

pub(super) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ty)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.scalar(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.scalar(Scalar::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.scalar(Scalar::I64(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.scalar(Scalar::U64(n))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        // Only sources other than JSON text get here; JSON numbers arrive as text.
        number(self.ty, &n.to_string()).map_err(|m| self.misfit(m))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.scalar(Scalar::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let elem = match self.ty.strip_optional() {
            Type::List(t) => &**t,
            Type::Json => &Type::Json,
            _ => return Err(self.fail("a list".into())),
        };
        let plan = self.plan.element();
        if !self.builds() {
            let mut n = 0;
            while {
                let path = Path::Index(self.path, n);
                seq.next_element_seed(Seed { ty: elem, plan, path: &path, ctx: self.ctx })?.is_some()
            } {
                n += 1;
            }
            return Ok(Value::Null);
        }
        let mut items = EcoVec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = {
            let path = Path::Index(self.path, items.len());
            seq.next_element_seed(Seed { ty: elem, plan, path: &path, ctx: self.ctx })?
        } {
            items.push(v);
        }
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match self.ty.strip_optional() {
            Type::Record(layout) => decode_record(self, layout, map),
            Type::Json => decode_json_object(self, map),
            _ => {
                // serde_json hands an exact number over as a one-entry map.
                match map.next_key_seed(SlotSeed { layout: None, hint: 0 })? {
                    Some(Slot::Number) => map.next_value_seed(NumberText(self)),
                    _ => Err(self.fail("an object".into())),
                }
            }
        }
    }
}

fn decode_record<'de, A: MapAccess<'de>>(
    seed: Seed<'_>,
    layout: &Arc<RecordType>,
    mut map: A,
) -> Result<Value, A::Error> {
    let n = layout.fields.len();
    let builds = seed.builds();
    let mut values: Vec<Value> = if builds { vec![Value::Null; n] } else { Vec::new() };
    // Which fields were present, without allocating for records of up to 256 fields.
    let mut small = [0u64; 4];
    let mut big = Vec::new();
    let seen: &mut [u64] = if n <= 256 {
        &mut small
    } else {
        big.resize(n.div_ceil(64), 0);
        &mut big
    };
    let mut first = true;
    // Payloads mostly list their keys in the declared order: try the next field first.
    let mut hint = 0;
    while let Some(slot) = map.next_key_seed(SlotSeed { layout: Some(layout), hint })? {
        match slot {
            Slot::Field(i) => {
                let (name, fty) = layout.fields.get_index(i).unwrap_or_else(|| unreachable!("slot from the layout"));
                let path = Path::Field(seed.path, name);
                let v = map.next_value_seed(Seed { ty: fty, plan: seed.plan.field(i), path: &path, ctx: seed.ctx })?;
                if builds {
                    values[i] = v;
                }
                seen[i / 64] |= 1 << (i % 64);
                hint = i + 1;
            }
            Slot::Number if first => {
                let text: NumberString = map.next_value()?;
                return Err(seed.fail(format!("the number {}", text.0)));
            }
            Slot::Number | Slot::Skip => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        first = false;
    }
    for (i, (name, fty)) in layout.fields.iter().enumerate() {
        if seen[i / 64] & (1 << (i % 64)) == 0 && !may_be_absent(fty) {
            let path = Path::Field(seed.path, name);
            return Err(Seed { ty: fty, plan: seed.plan, path: &path, ctx: seed.ctx }
                .fail("nothing (the field is missing)".into()));
        }
    }
    if !builds {
        return Ok(Value::Null);
    }
    Ok(Value::Record(Record::new(layout.clone(), values)))
}

/// A number's text, for a message.
struct NumberString(String);

impl<'de> de::Deserialize<'de> for NumberString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(NumberString)
    }
}

/// An untyped object: fields in document order, all `Json`.
fn decode_json_object<'de, A: MapAccess<'de>>(seed: Seed<'_>, mut map: A) -> Result<Value, A::Error> {
    let mut fields: Vec<(String, Value)> = Vec::new();
    while let Some(KeyText(key)) = map.next_key()? {
        if fields.is_empty() && key == NUMBER_TOKEN {
            let text: NumberString = map.next_value()?;
            return Ok(json_number(&text.0));
        }
        let path = Path::Field(seed.path, &key);
        let v = map.next_value_seed(Seed { ty: &Type::Json, plan: &Plan::Build, path: &path, ctx: seed.ctx })?;
        fields.push((key, v));
    }
    Ok(Value::record(fields))
}

struct KeyText(String);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(KeyText)
    }
}

enum Slot {
    Field(usize),
    Number,
    Skip,
}

/// Reads a key and finds its slot without allocating; `hint` is the slot to try first.
struct SlotSeed<'a> {
    layout: Option<&'a RecordType>,
    hint: usize,
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_> {
    type Value = Slot;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Slot, E> {
        let Some(layout) = self.layout else {
            return Ok(if key == NUMBER_TOKEN { Slot::Number } else { Slot::Skip });
        };
        Ok(match slot(layout, key, None, self.hint) {
            Some(i) => Slot::Field(i),
            None if key == NUMBER_TOKEN => Slot::Number,
            None => Slot::Skip,
        })
    }
}

/// The declared field a key names: the learned `guess` first, then the `next` declared
/// field, then by name. Both decoders find fields through here.
pub(super) fn slot(layout: &RecordType, key: &str, guess: Option<usize>, next: usize) -> Option<usize> {
    let named = |i: usize| layout.fields.get_index(i).is_some_and(|(name, _)| name == key);
    if let Some(g) = guess.filter(|&g| named(g)) {
        return Some(g);
    }
    if named(next) {
        return Some(next);
    }
    layout.fields.get_index_of(key)
}

impl FromStr for Value {
    type Err = DecodeError;

    /// Untyped JSON text as a value (numbers exact).
    fn from_str(s: &str) -> Result<Value, DecodeError> {
        decode_json(s.as_bytes(), &Type::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_type() -> Type {
        let line: crate::types::Fields =
            [("sku".to_string(), Type::String.optional()), ("price".to_string(), Type::Decimal(None))]
                .into_iter()
                .collect();
        let line = Type::Record(Arc::new(RecordType { name: Some("Line".into()), fields: line }));
        let fields: crate::types::Fields = [
            ("id".to_string(), Type::Int),
            ("total".to_string(), Type::Decimal(Some(2))),
            ("lines".to_string(), line.list()),
        ]
        .into_iter()
        .collect();
        Type::Record(Arc::new(RecordType { name: Some("Order".into()), fields }))
    }

    #[test]
    fn decimals_are_exact_from_numbers_and_strings() {
        let v = decode_json(br#"{"id": 1, "total": "12345678901234567.89", "extra": [1,2], "lines": [{"price": 0.1}, {"price": "0.2", "sku": "A"}]}"#, &order_type())
            .unwrap();
        let Value::Record(r) = &v else { panic!() };
        assert_eq!(r.get("total").unwrap().to_string(), "12345678901234567.89");
        let Value::List(lines) = r.get("lines").unwrap() else { panic!() };
        let sum = match (lines[0].field("price").unwrap(), lines[1].field("price").unwrap()) {
            (Value::Decimal(a), Value::Decimal(b)) => a + b,
            _ => panic!(),
        };
        assert_eq!(sum.to_string(), "0.3");
    }

    #[test]
    fn fields_only_checked_are_not_built_but_still_checked() {
        // Build `id` and the lines' `sku`; only check `total` and the lines' `price`.
        let plan = Plan::Record(vec![
            Plan::Build,
            Plan::Check,
            Plan::List(Box::new(Plan::Record(vec![Plan::Build, Plan::Check]))),
        ]);
        let ty = order_type();
        let v =
            decode_json_planned(br#"{"id": 7, "total": "1.50", "lines": [{"sku": "A", "price": "2"}]}"#, &ty, &plan)
                .unwrap();
        let Value::Record(r) = &v else { panic!() };
        assert_eq!(r.get("id").unwrap().to_string(), "7");
        assert!(r.get("total").unwrap().is_null());
        let line = match r.get("lines").unwrap() {
            Value::List(l) => l[0].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(line.field("sku").unwrap().to_string(), "A");
        assert!(line.field("price").unwrap().is_null());
        // A checked field that does not fit still fails, naming its path.
        let bad = br#"{"id": 7, "total": "1.50", "lines": [{"sku": "A", "price": "two"}]}"#;
        let e = decode_json_planned(bad, &ty, &plan).unwrap_err();
        assert_eq!(e.to_string(), r#"`lines[0].price`: expected Decimal, found the text "two""#);
        let e = decode_json_planned(br#"{"id": 7, "total": 1.555, "lines": []}"#, &ty, &plan).unwrap_err();
        assert_eq!(e.reason(), "schema_mismatch");
        let e = decode_json_planned(br#"{"id": 7, "lines": []}"#, &ty, &plan).unwrap_err();
        assert_eq!(e.to_string(), "`total`: expected Decimal(2), found nothing (the field is missing)");
    }

    #[test]
    fn untyped_numbers_keep_their_digits_through_both_decoders_and_out() {
        // (as read, as written back): serde_json writes an exponent's sign.
        let cases = [
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("-123456789012345678901234567890.50", "-123456789012345678901234567890.50"),
            ("1e400", "1e+400"),
            ("-1E400", "-1e+400"),
            ("1e-400", "1e-400"),
            ("2.50e+3", "2.50e+3"),
            ("0.00000000000000000000000000001", "0.00000000000000000000000000001"),
            ("18446744073709551616", "18446744073709551616"),
            ("-9223372036854775809", "-9223372036854775809"),
            ("1.50", "1.50"),
            ("-0.50", "-0.50"),
            ("0.000", "0.000"),
            ("-0", "-0"),
            ("-0.0", "-0.0"),
            ("7", "7"),
            ("-7", "-7"),
        ];
        for (text, written) in cases {
            let doc = format!(r#"{{"n": {text}, "in": [{text}]}}"#);
            let want = format!(r#"{{"n":{written},"in":[{written}]}}"#);
            let fast = decode_json(doc.as_bytes(), &Type::Json).unwrap();
            let serde = decode_json_serde(doc.as_bytes(), &Type::Json, &Plan::Build).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let from_tree = decode_json_value(&parsed, &Type::Json).unwrap();
            for v in [&fast, &serde, &from_tree] {
                let mut out = Vec::new();
                super::super::write_json(&mut out, v, super::super::Redaction::Redact).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), want, "{text}: {v:?}");
                assert_eq!(super::super::to_json_string(v, super::super::Redaction::Redact), want, "{text}");
                assert_eq!(v.field("n").unwrap().to_string(), written, "{text}");
            }
        }
    }

    #[test]
    fn mismatches_name_the_path() {
        let e = decode_json(br#"{"id": 1, "total": 1.5, "lines": [{"price": 1}, {"price": "abc"}]}"#, &order_type())
            .unwrap_err();
        assert_eq!(e.to_string(), r#"`lines[1].price`: expected Decimal, found the text "abc""#);
        let e = decode_json(br#"{"id": 1, "total": 1.555, "lines": []}"#, &order_type()).unwrap_err();
        assert_eq!(e.to_string(), "`total`: expected Decimal(2), found 1.555: more than 2 fractional digits");
        let e = decode_json(br#"{"id": 1, "lines": []}"#, &order_type()).unwrap_err();
        assert_eq!(e.to_string(), "`total`: expected Decimal(2), found nothing (the field is missing)");
        let e = decode_json(br#"{"id": 1.5, "total": 1, "lines": []}"#, &order_type()).unwrap_err();
        assert_eq!(e.to_string(), "`id`: expected Int, found the number 1.5");
        assert_eq!(decode_json(b"{\"id\": ", &order_type()).unwrap_err().reason(), "malformed_input");
    }
}
