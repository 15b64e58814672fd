//! The fast path of JSON decoding: one pass over the bytes, directed by the declared type.
//!
//! Going through serde, every value pays for the generic `deserialize_any` protocol:
//! each string is validated as UTF-8 on its own, each number is copied into a `String`
//! (`arbitrary_precision`), and each key is hashed to find its slot. Here the input is
//! validated as UTF-8 once, strings without escapes are sliced in place, numbers are
//! classified where they lie, and keys are matched against the declared fields by their
//! bytes. Scalars become values through the very functions the serde path uses
//! (`decode::scalar`, `decode::json_number`), so both paths build the same values.
//!
//! This path never explains a failure: whatever it is not sure of, it leaves to the serde
//! path, which is the authority and words every error.

use std::borrow::Cow;
use std::sync::Arc;

use ecow::EcoVec;

use super::decode::{may_be_absent, slot, Plan, NUMBER_TOKEN};
use super::key_order::KeyOrder;
use super::scalars::{json_number, scalar, Scalar};
use super::{Record, Value};
use crate::types::{RecordType, Type};

/// Nesting deeper than this is left to the serde path (whose own limit is 128), so that
/// input it refuses for depth is never accepted here.
const MAX_DEPTH: usize = 100;

/// Records of more declared fields than this are left to the serde path (their
/// presence bits would not fit on the stack).
const MAX_FIELDS: usize = 256;

/// One JSON document as a value of type `ty`, building what `plan` says.
///
/// Returns `Some(v)` only when `decode::decode_json_planned`'s serde path would return
/// `Ok(v)` with an identical value: the same variants, the same record layouts and field
/// values, `Value::Null` in checked-only slots exactly where that path leaves them.
/// Returns `None` for anything it is not sure about: a syntax error, a value that does
/// not fit its type, a missing field, nesting deeper than `MAX_DEPTH`, a lone surrogate
/// escape, the key `"$serde_json::private::Number"`, a record type of more than
/// `MAX_FIELDS` fields, trailing text after the document. `None` is always safe: the
/// caller then decodes through serde, which decides and words the error.
pub(super) fn decode(bytes: &[u8], ty: &Type, plan: &Plan) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut scanner = Scanner { text, bytes, pos: 0, depth: 0, order: KeyOrder::take() };
    let v = scanner.value(ty, plan);
    scanner.skip_whitespace();
    let end = scanner.pos == bytes.len();
    scanner.order.keep();
    v.filter(|_| end)
}

/// A cursor over input already known to be UTF-8: positions only ever stop at ASCII
/// bytes, so every slice taken between them is a whole string.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Which key each record type's keys are followed by, learned from earlier documents.
    order: KeyOrder,
}

impl<'a> Scanner<'a> {
    /// A value of type `ty`, dispatched on its first byte as serde_json's
    /// `deserialize_any` does.
    fn value(&mut self, ty: &Type, plan: &Plan) -> Option<Value> {
        if !plan.builds() && matches!(ty, Type::Json) {
            // Anything fits untyped JSON: only its syntax is checked.
            self.skip_value()?;
            return Some(Value::Null);
        }
        let builds = plan.builds();
        match self.peek_value()? {
            b'n' => self.literal(b"null", ty, builds, Scalar::Null),
            b't' => self.literal(b"true", ty, builds, Scalar::Bool(true)),
            b'f' => self.literal(b"false", ty, builds, Scalar::Bool(false)),
            b'-' | b'0'..=b'9' => self.number(ty, builds),
            b'"' => {
                let s = self.string()?;
                // The commonest value, made (or, only checked, passed) here so that it
                // goes straight to the caller: through `scalar`'s result it was copied
                // right after being written, and the processor stalled on the copy.
                if matches!(ty.strip_optional(), Type::String | Type::Json) {
                    return Some(if builds { Value::str(&s) } else { Value::Null });
                }
                scalar(ty, builds, Scalar::Str(&s)).ok()
            }
            b'[' => self.nested(|s| s.list(ty, plan)),
            b'{' => self.nested(|s| s.object(ty, plan)),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], ty: &Type, builds: bool, token: Scalar<'_>) -> Option<Value> {
        self.eat_literal(word)?;
        scalar(ty, builds, token).ok()
    }

    fn eat_literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// Runs `inner` one nesting level down, refusing input nested too deeply.
    fn nested<T>(&mut self, inner: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = inner(self);
        self.depth -= 1;
        v
    }

    /// A number as serde_json hands it over: a fitting integer parsed, anything else as
    /// its text, which serde_json presents as a one-entry object.
    fn number(&mut self, ty: &Type, builds: bool) -> Option<Value> {
        let text = self.number_text()?;
        let whole = !text.contains(['.', 'e']);
        let token = match text.strip_prefix('-') {
            None if whole => text.parse().ok().map(Scalar::U64),
            Some(digits) if whole && digits != "0" => text.parse().ok().map(Scalar::I64),
            _ => None,
        };
        if let Some(token) = token {
            return scalar(ty, builds, token).ok();
        }
        match ty.strip_optional() {
            // Untyped JSON reads that object as its number, built even when only checked.
            Type::Json => Some(json_number(&text)),
            // A record would read it as an object with the wrong key.
            Type::Record(_) => None,
            _ => scalar(ty, builds, Scalar::Number(&text)).ok(),
        }
    }

    /// The text of a number, by JSON's grammar, with the exponent written as serde_json
    /// writes it (`1E5` is `1e+5`).
    fn number_text(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        self.eat(b'-');
        match self.next_byte()? {
            b'0' if self.peek().is_some_and(|b| b.is_ascii_digit()) => return None,
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.') {
            self.some_digits()?;
        }
        let mantissa_end = self.pos;
        if !matches!(self.peek(), Some(b'e' | b'E')) {
            return Some(Cow::Borrowed(&self.text[start..mantissa_end]));
        }
        self.pos += 1;
        let sign = match self.peek() {
            Some(b @ (b'+' | b'-')) => {
                self.pos += 1;
                b as char
            }
            _ => '+',
        };
        let exponent_start = self.pos;
        self.some_digits()?;
        let exponent = &self.text[exponent_start..self.pos];
        Some(Cow::Owned(format!("{}e{sign}{exponent}", &self.text[start..mantissa_end])))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// A list (or, for untyped JSON, any array); the cursor is on `[`.
    fn list(&mut self, ty: &Type, plan: &Plan) -> Option<Value> {
        let elem = match ty.strip_optional() {
            Type::List(t) => &**t,
            Type::Json => &Type::Json,
            _ => return None,
        };
        let (elem_plan, builds) = (plan.element(), plan.builds());
        let mut items = EcoVec::new();
        self.pos += 1;
        if self.eat_after_whitespace(b']') {
            return Some(if builds { Value::list(items) } else { Value::Null });
        }
        loop {
            let v = self.value(elem, elem_plan)?;
            if builds {
                items.push(v);
            }
            if !self.separator(b']')? {
                return Some(if builds { Value::list(items) } else { Value::Null });
            }
        }
    }

    /// An object as a record or as untyped JSON; the cursor is on `{`.
    fn object(&mut self, ty: &Type, plan: &Plan) -> Option<Value> {
        match ty.strip_optional() {
            Type::Record(layout) => self.record(layout, plan),
            Type::Json => self.json_object(),
            _ => None,
        }
    }

    /// A record: each key to its declared slot, undeclared ones skipped (but checked as
    /// JSON), a repeated key's later value kept, as the serde path does.
    fn record(&mut self, layout: &Arc<RecordType>, plan: &Plan) -> Option<Value> {
        let n = layout.fields.len();
        if n > MAX_FIELDS {
            return None;
        }
        let builds = plan.builds();
        // Made whole (all null) up front and filled in place: values are not gathered
        // elsewhere and then copied.
        let mut record = builds.then(|| Record::nulls(layout.clone()));
        let mut seen = [0u64; MAX_FIELDS / 64];
        let table = self.order.table(layout);
        // The last declared field read: the key after it is most likely the one that
        // followed it last time.
        let mut last = None;
        self.pos += 1;
        let mut more = !self.eat_after_whitespace(b'}');
        while more {
            let found = match self.order.plain_guess(table, last).filter(|&g| self.named_key(layout, g)) {
                Some(g) => Some(g),
                None => {
                    let key = self.key()?;
                    slot(layout, &key, self.order.guess(table, last), last.map_or(0, |i| i + 1))
                }
            };
            match found {
                Some(i) => {
                    self.order.learn(table, last, i);
                    let (_, fty) = layout.fields.get_index(i)?;
                    // The slot is found first, so that the value moves once, from the call
                    // straight into it.
                    match record.as_mut().and_then(Record::values_mut).and_then(|vs| vs.get_mut(i)) {
                        Some(slot) => *slot = self.value(fty, plan.field(i))?,
                        None => drop(self.value(fty, plan.field(i))?),
                    }
                    seen[i / 64] |= 1 << (i % 64);
                    last = Some(i);
                }
                None => self.skip_value()?,
            }
            more = self.separator(b'}')?;
        }
        if !complete(layout, &seen) {
            return None;
        }
        Some(record.map_or(Value::Null, Value::Record))
    }

    /// An untyped object: every field kept, in document order, built whole.
    fn json_object(&mut self) -> Option<Value> {
        let mut fields = Vec::new();
        self.pos += 1;
        let mut more = !self.eat_after_whitespace(b'}');
        while more {
            let key = self.key()?.into_owned();
            let v = self.value(&Type::Json, &Plan::Build)?;
            fields.push((key, v));
            more = self.separator(b'}')?;
        }
        Some(Value::record(fields))
    }

    /// A key and its colon. The key serde_json uses to smuggle exact numbers through
    /// objects is refused, so that no object is ever read as a number here.
    fn key(&mut self) -> Option<Cow<'a, str>> {
        if self.peek_value()? != b'"' {
            return None;
        }
        let key = self.string()?;
        if key == NUMBER_TOKEN || !self.eat_after_whitespace(b':') {
            return None;
        }
        Some(key)
    }

    /// Whether the next key is field `i`'s name, written without escapes: then the
    /// cursor moves past it and its colon. Most keys are found here, compared where they
    /// lie rather than scanned as a string first.
    fn named_key(&mut self, layout: &RecordType, i: usize) -> bool {
        let Some((name, _)) = layout.fields.get_index(i) else { return false };
        let name = name.as_bytes();
        if self.peek_value() != Some(b'"') {
            return false;
        }
        let start = self.pos + 1;
        let end = start + name.len();
        let matched =
            self.bytes.get(end) == Some(&b'"') && self.bytes.get(start..end).is_some_and(|k| same_bytes(k, name));
        if !matched {
            return false;
        }
        let at = self.pos;
        self.pos = end + 1;
        if self.eat_after_whitespace(b':') {
            return true;
        }
        self.pos = at;
        false
    }

    /// After a member: `true` past a comma, `false` past `close`.
    fn separator(&mut self, close: u8) -> Option<bool> {
        match self.peek_value()? {
            b',' => {
                self.pos += 1;
                Some(true)
            }
            b if b == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Any JSON value, checked for syntax and depth and dropped.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek_value()? {
            b'n' => self.eat_literal(b"null"),
            b't' => self.eat_literal(b"true"),
            b'f' => self.eat_literal(b"false"),
            b'-' | b'0'..=b'9' => self.number_text().map(drop),
            b'"' => self.skip_string(),
            b'[' => self.nested(|s| s.skip_members(b']', false)),
            b'{' => self.nested(|s| s.skip_members(b'}', true)),
            _ => None,
        }
    }

    /// The members of an array or object being skipped; the cursor is on its opener.
    fn skip_members(&mut self, close: u8, keyed: bool) -> Option<()> {
        self.pos += 1;
        let mut more = !self.eat_after_whitespace(close);
        while more {
            if keyed {
                self.key()?;
            }
            self.skip_value()?;
            more = self.separator(close)?;
        }
        Some(())
    }

    /// A string, the cursor on its opening quote: borrowed from the input when it has no
    /// escapes, else unescaped into a new one.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        let end = self.plain_run();
        match self.bytes.get(end)? {
            b'"' => {
                self.pos = end + 1;
                Some(Cow::Borrowed(&self.text[start..end]))
            }
            b'\\' => {
                let mut out = String::from(&self.text[start..end]);
                self.pos = end;
                self.unescape_rest(&mut out)?;
                Some(Cow::Owned(out))
            }
            _ => None,
        }
    }

    /// A string being skipped, the cursor on its opening quote.
    fn skip_string(&mut self) -> Option<()> {
        self.string().map(drop)
    }

    /// Where the run of ordinary string bytes from the cursor ends: at a quote, a
    /// backslash, a control character (invalid in a string) or the end. Strings are most
    /// of a payload's bytes, so they are searched eight bytes at a time.
    fn plain_run(&self) -> usize {
        let mut at = self.pos;
        while let Some(chunk) = self.bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let stops = special_bytes(word);
            if stops != 0 {
                return at + (stops.trailing_zeros() / 8) as usize;
            }
            at += 8;
        }
        let rest = &self.bytes[at..];
        at + rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len())
    }

    /// The rest of a string with escapes, from the cursor (on a backslash or plain text)
    /// to past the closing quote, appended to `out`.
    fn unescape_rest(&mut self, out: &mut String) -> Option<()> {
        loop {
            let end = self.plain_run();
            out.push_str(&self.text[self.pos..end]);
            self.pos = end + 1;
            match self.bytes.get(end)? {
                b'"' => return Some(()),
                b'\\' => out.push(self.escape()?),
                _ => return None,
            }
        }
    }

    /// The character of an escape, the cursor past its backslash.
    fn escape(&mut self) -> Option<char> {
        let c = match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return None,
        };
        Some(c)
    }

    /// A `\u` escape (the cursor past the `u`), joining a surrogate pair; a lone
    /// surrogate is refused.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high);
        }
        if !(self.eat(b'\\') && self.eat(b'u')) {
            return None;
        }
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.pos += usize::from(found);
        found
    }

    /// The next byte that is not whitespace, without consuming it.
    fn peek_value(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.peek()
    }

    fn eat_after_whitespace(&mut self, b: u8) -> bool {
        self.skip_whitespace();
        self.eat(b)
    }

    /// JSON's whitespace: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
}

/// A word whose lowest set bit is in the first byte of `word` (little-endian) that is a
/// quote, a backslash or below 0x20; zero when there is none. Each test flags its first
/// match exactly (a borrow can only flag bytes after a true match), so the lowest flag
/// of the three is the first special byte.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    zero_byte(word ^ (ONES * u64::from(b'"'))) | zero_byte(word ^ (ONES * u64::from(b'\\'))) | below_space
}

/// Two slices of the same length compared eight bytes at a time: key names are short,
/// and a call into `memcmp` for each cost more than the comparison.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
    a8.by_ref().zip(b8.by_ref()).all(|(x, y)| word(x) == word(y))
        && a8.remainder().iter().zip(b8.remainder()).all(|(x, y)| x == y)
}

/// Whether every field of `layout` not `seen` may be absent. Most are seen: only the
/// others' types are looked at.
fn complete(layout: &RecordType, seen: &[u64]) -> bool {
    let n = layout.fields.len();
    seen.iter().enumerate().take(n.div_ceil(64)).all(|(w, &bits)| {
        let mut unseen = !bits;
        while unseen != 0 {
            let i = w * 64 + unseen.trailing_zeros() as usize;
            if i >= n {
                break;
            }
            if !layout.fields.get_index(i).is_some_and(|(_, fty)| may_be_absent(fty)) {
                return false;
            }
            unseen &= unseen - 1;
        }
        true
    })
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
