//! A hold's record kept as JSON text rather than as a tree.
//!
//! A held order is read rarely (by an operator, or when it is replayed) but written on
//! every hold. Keeping the text as it arrived costs one copy; building a tree cost a full
//! parse and about twenty times the text's size in memory. The text is also the more
//! faithful record: every field in the sender's order, numbers as written.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Valid JSON on one line (line breaks between tokens become spaces, so an NDJSON export
/// stays one hold to a line).
#[derive(Clone)]
pub struct JsonText(Box<str>);

impl JsonText {
    /// `null`: what a hold keeps of a payload removed by retention or erasure.
    pub fn null() -> JsonText {
        JsonText("null".into())
    }

    /// The text of a JSON document, or why it is not one. Its nesting is not limited:
    /// the text is only scanned, never built.
    pub fn parse(text: impl Into<String>) -> Result<JsonText, serde_json::Error> {
        RawValue::from_string(one_line(text.into())).map(|raw| JsonText(raw.into()))
    }

    /// The text of a document a decoder has just read whole as JSON: not scanned again
    /// (a held order's text had been scanned twice, once for its values and once here).
    pub fn read_as_json(bytes: &[u8]) -> JsonText {
        match std::str::from_utf8(bytes) {
            Ok(text) => JsonText(one_line(text.to_string()).into_boxed_str()),
            Err(_) => JsonText::from_bytes(bytes),
        }
    }

    /// The text of JSON bytes as they arrived; bytes that are not JSON are kept as a JSON
    /// string of their text.
    pub fn from_bytes(bytes: &[u8]) -> JsonText {
        match std::str::from_utf8(bytes).map(JsonText::parse) {
            Ok(Ok(t)) => t,
            _ => JsonText::from(&serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The document as a tree; `None` when it nests deeper than a tree is built for.
    pub fn value(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.as_str()).ok()
    }

    /// The document as a tree, or (nested too deep to build) its text as a JSON string.
    pub fn value_or_text(&self) -> serde_json::Value {
        self.value().unwrap_or_else(|| serde_json::Value::String(self.as_str().to_string()))
    }
}

impl From<&serde_json::Value> for JsonText {
    fn from(v: &serde_json::Value) -> JsonText {
        // Serialising a tree gives one line of valid JSON.
        JsonText(v.to_string().into_boxed_str())
    }
}

/// The text with line breaks between tokens made spaces (inside a JSON string a line
/// break is always escaped, so every one is whitespace) and no whitespace around it.
fn one_line(mut text: String) -> String {
    // Searched for as bytes (`memchr`): a held order is kilobytes of text.
    if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some() {
        text = text.replace(['\n', '\r'], " ");
    }
    let trimmed = text.trim();
    if trimmed.len() != text.len() {
        text = trimmed.to_string();
    }
    text
}

impl From<serde_json::Value> for JsonText {
    fn from(v: serde_json::Value) -> JsonText {
        JsonText::from(&v)
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the JSON it holds, through any serializer (not only serde_json's).
impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value_or_text().serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonText, D::Error> {
        serde_json::Value::deserialize(d).map(JsonText::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_as_it_arrived_on_one_line() {
        let t = JsonText::from_bytes(b" {\"z\": 1,\r\n \"total\": 12.3400, \"a\": \"x\\ny\"}\n");
        assert_eq!(t.as_str(), r#"{"z": 1,   "total": 12.3400, "a": "x\ny"}"#);
        assert_eq!(t.value().unwrap()["total"].to_string(), "12.3400");
    }

    #[test]
    fn text_already_read_as_json_is_kept_as_it_arrived_on_one_line() {
        let text = b" {\"z\": 1,\r\n \"total\": 12.3400}\n";
        assert_eq!(JsonText::read_as_json(text), JsonText::from_bytes(text));
        assert_eq!(JsonText::read_as_json(text).as_str(), r#"{"z": 1,   "total": 12.3400}"#);
    }

    #[test]
    fn text_that_is_not_json_becomes_a_string() {
        let t = JsonText::from_bytes(b"{\"id\": 1,");
        assert_eq!(t.value(), Some(serde_json::Value::String("{\"id\": 1,".into())));
    }

    #[test]
    fn nesting_too_deep_for_a_tree_is_kept_and_shown_as_text() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let t = JsonText::from_bytes(deep.as_bytes());
        assert_eq!(t.as_str(), deep);
        assert_eq!(t.value(), None);
        assert_eq!(t.value_or_text(), serde_json::Value::String(deep));
    }
}
