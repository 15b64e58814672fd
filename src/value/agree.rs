//! The contract between the two JSON decoders, checked: for the tests and the fuzzer.
//!
//! The fast path (`scan`) may decline any document, but when it answers, its value must
//! be the very one the serde path (the authority) gives. Neither may panic on any input.

use super::decode::{decode_json_serde, Plan};
use super::scan;
use super::Value;
use crate::types::Type;

/// Decodes `bytes` as `ty` under `plan` through both decoders. `Ok(true)` when the fast
/// path answered and agreed, `Ok(false)` when it left the document to the serde path,
/// `Err` naming the disagreement.
#[doc(hidden)]
pub fn decoders_agree(bytes: &[u8], ty: &Type, plan: &Plan) -> Result<bool, String> {
    let fast = scan::decode(bytes, ty, plan);
    let slow = decode_json_serde(bytes, ty, plan);
    let shown = || String::from_utf8_lossy(bytes).chars().take(300).collect::<String>();
    match (&fast, &slow) {
        (None, _) => Ok(false),
        (Some(f), Ok(s)) if same(f, s) => Ok(true),
        (Some(f), Ok(s)) => Err(format!("{ty} {plan:?} {}\nfast: {f:?}\nserde: {s:?}", shown())),
        (Some(f), Err(e)) => Err(format!("{ty} {plan:?} {}\nfast: {f:?}\nserde failed: {e}", shown())),
    }
}

/// Whether two values are the same in every detail the decoders could differ in:
/// variants, scalars as printed (a Decimal's scale, a float's sign, a date's offset),
/// record layouts field by field in order, list lengths.
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| same(x, y)),
        (Value::Record(x), Value::Record(y)) => {
            x.layout().name == y.layout().name
                && x.layout().fields.iter().eq(y.layout().fields.iter())
                && x.values().len() == y.values().len()
                && x.values().iter().zip(y.values()).all(|(x, y)| same(x, y))
        }
        (Value::List(_) | Value::Record(_), _) | (_, Value::List(_) | Value::Record(_)) => false,
        _ => format!("{a:?}") == format!("{b:?}"),
    }
}
