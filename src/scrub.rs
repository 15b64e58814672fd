//! Scrubbing secrets out of text: the one mechanism every text that leaves the process
//! or reaches the state database goes through.
//!
//! The type system keeps a `secret()` out of bodies, maps and hold messages, but not out
//! of what other systems send back: an ERP that echoes the request's headers in its error
//! body hands the token to the hold message, the retry log and the state database. And a
//! password written into an `env()` URL (`https://user:pass@host`) is an ordinary string
//! to the checker. So a run registers every secret value it reads when it starts (with
//! the forms it travels in: base64, URL-encoded, JSON-escaped) and the passwords of URLs
//! in its environment, and the places that produce outgoing text (log lines, holds,
//! response excerpts, the dry-run report, `holds` output) pass it through [`scrub`].
//! Credentials in a URL's userinfo are replaced wherever they appear, registered or not.
//!
//! The registry is process-wide because what it guards is: log lines are written by one
//! global subscriber, whichever run or task produced them.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::RwLock;

use base64::Engine as _;
use memchr::memmem;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// The texts to replace, longest first, so a secret that contains another is replaced
/// whole rather than leaving its remainder.
static NEEDLES: RwLock<Vec<Box<str>>> = RwLock::new(Vec::new());

/// The shortest secret scrubbed. Replacing every occurrence of a shorter text would
/// make every log line unreadable and, worse, show the secret by where the replacements
/// fall: `sin<redacted> out` says the secret is `k`. A secret that short protects
/// nothing anyway.
pub const MIN_SECRET_LEN: usize = 6;

/// Registers a secret's value, and the forms it takes on its way out: base64 (a Basic
/// header echoed back), URL-encoded (a query string) and JSON-escaped (a JSON log line).
/// A value shorter than `MIN_SECRET_LEN` is left alone.
pub fn register_secret(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut forms = vec![value.to_string()];
    forms.push(base64::engine::general_purpose::STANDARD.encode(value));
    forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value));
    forms.push(percent_encode(value));
    let json = serde_json::to_string(value).unwrap_or_default();
    forms.push(json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_string());
    add(forms);
}

/// Registers the password of every URL in `value` (an environment value the flow reads),
/// as written and decoded, and the Basic credentials an HTTP client makes of it.
pub fn register_url_credentials(value: &str) {
    for (user, password) in userinfo_passwords(value) {
        let decoded = percent_decode(password);
        register_secret(&decoded);
        register_secret(password);
        let basic = format!("{}:{decoded}", percent_decode(user));
        add(vec![base64::engine::general_purpose::STANDARD.encode(basic)]);
    }
}

fn add(forms: Vec<String>) {
    let mut needles = NEEDLES.write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !f.is_empty() && !needles.iter().any(|n| **n == *f) {
            needles.push(f.into_boxed_str());
        }
    }
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// `text` with URL passwords and every registered secret replaced by `<redacted>`;
/// borrowed when there was nothing to replace.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = scrub_userinfo(text);
    let needles = NEEDLES.read().unwrap_or_else(|e| e.into_inner());
    for needle in needles.iter() {
        if memmem::find(out.as_bytes(), needle.as_bytes()).is_some() {
            out = Cow::Owned(out.replace(&**needle, REDACTED));
        }
    }
    out
}

/// Scrubs a string in place.
pub fn scrub_string(s: &mut String) {
    if let Cow::Owned(clean) = scrub(s) {
        *s = clean;
    }
}

/// Scrubs every string and key of a JSON value, so the result is still the same JSON
/// with the secrets replaced (scrubbing its text could cut through an escape).
pub fn scrub_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => scrub_string(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_json),
        serde_json::Value::Object(map) => {
            let dirty = map.keys().any(|k| matches!(scrub(k), Cow::Owned(_)));
            if dirty {
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    scrub_json(&mut item);
                    map.insert(scrub(&k).into_owned(), item);
                }
            } else {
                map.values_mut().for_each(scrub_json);
            }
        }
        _ => {}
    }
}

/// The `(user, password)` of each `scheme://user:password@host` in `text`.
fn userinfo_passwords(text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    for at in memmem::find_iter(text.as_bytes(), b"://") {
        let rest = &text[at + 3..];
        let end = rest.find(|c: char| AUTHORITY_END.contains(&c) || c.is_whitespace()).unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some(userinfo) = authority.rfind('@').map(|i| &authority[..i]) else { continue };
        if let Some((user, password)) = userinfo.split_once(':') {
            if !password.is_empty() {
                found.push((user, password));
            }
        }
    }
    found
}

/// Characters that end a URL's authority, or the URL itself where it is quoted in text.
const AUTHORITY_END: &[char] = &['/', '?', '#', '"', '\'', '<', '>', '\\', '`', ')', ']', '}', ','];

/// `text` with the password of every URL's userinfo replaced: `http://user:<redacted>@host`.
fn scrub_userinfo(text: &str) -> Cow<'_, str> {
    let passwords: Vec<(usize, usize)> = userinfo_passwords(text)
        .into_iter()
        .filter(|(_, p)| *p != REDACTED)
        .map(|(_, p)| {
            let start = p.as_ptr() as usize - text.as_ptr() as usize;
            (start, start + p.len())
        })
        .collect();
    if passwords.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in passwords {
        out.push_str(&text[from..start]);
        out.push_str(REDACTED);
        from = end;
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard error through the scrubber, for the log subscriber: each log line is
/// formatted whole and then written once, so a secret is never split between writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().lock().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbedStderr {
    type Writer = ScrubbedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_replaced_whether_registered_or_not() {
        assert_eq!(
            scrub("GET https://erp:pa55@erp.example/api failed"),
            "GET https://erp:<redacted>@erp.example/api failed"
        );
        assert_eq!(scrub("{\"url\":\"http://u:p@h\"}"), "{\"url\":\"http://u:<redacted>@h\"}");
        // A user without a password, and an address in a path, are left alone.
        assert_eq!(scrub("http://user@host/a@b"), "http://user@host/a@b");
    }

    #[test]
    fn registered_secrets_are_replaced_in_every_form() {
        register_secret("tok\"en-9Q7x/ZZ");
        let b64 = base64::engine::general_purpose::STANDARD.encode("tok\"en-9Q7x/ZZ");
        let text = format!("echo tok\"en-9Q7x/ZZ {b64} tok%22en-9Q7x%2FZZ tok\\\"en-9Q7x/ZZ");
        assert_eq!(scrub(&text), "echo <redacted> <redacted> <redacted> <redacted>");
    }

    #[test]
    fn credentials_of_an_environment_url_are_registered() {
        register_url_credentials("https://svc:s%40fe-Pw-81@erp.example");
        let basic = base64::engine::general_purpose::STANDARD.encode("svc:s@fe-Pw-81");
        assert_eq!(scrub(&format!("Basic {basic}; pw s@fe-Pw-81")), "Basic <redacted>; pw <redacted>");
    }

    #[test]
    fn a_secret_too_short_to_protect_anything_is_not_scrubbed() {
        register_secret("k");
        assert_eq!(scrub("sink out"), "sink out");
    }

    #[test]
    fn json_stays_json() {
        register_secret("json-secret-77");
        let mut v = serde_json::json!({"a": ["x json-secret-77 y"], "json-secret-77": 1});
        scrub_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["x <redacted> y"], "<redacted>": 1}));
    }
}
