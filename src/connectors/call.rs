//! Calls out for data mid-flow (`enrich`): one request per record, answered from a TTL
//! cache, the network (with the retry policy, rate limit and `Retry-After` every HTTP
//! caller shares), or, in dry runs and tests, from recorded responses.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::retry::{retry_after_of, with_retries, Failure, RateLimiter, RetryPolicy};

/// One request, with its query already in the URL and secrets in headers written out.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Json>,
}

impl Request {
    /// What identifies a request for the cache and the recordings: method, full URL and
    /// body. Headers are left out: they carry credentials, not the question.
    fn key(&self) -> String {
        match &self.body {
            Some(b) => format!("{} {} {b}", self.method, self.url),
            None => format!("{} {}", self.method, self.url),
        }
    }

    /// What identifies a request for the cache: its `key` and its headers too, since two
    /// shops or tenants may share a URL and differ only in a header. Kept in memory only,
    /// never shown.
    fn cache_key(&self) -> String {
        let mut key = self.key();
        for (k, v) in &self.headers {
            key.push('\n');
            key.push_str(&k.to_ascii_lowercase());
            key.push_str(": ");
            key.push_str(v);
        }
        key
    }

    /// `GET https://shop.example/...`, scrubbed for messages.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, crate::scrub::scrub(&self.url))
    }
}

/// A successful (2xx) answer's body.
pub type Answer = Arc<str>;

/// Why a call gave no answer.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    /// Failed after the retries the policy allows: the message says how, with an
    /// excerpt of the last answer.
    Failed(String),
    /// A dry run or test with no recorded response for the request.
    Unrecorded(String),
}

impl CallError {
    pub fn message(self) -> String {
        match self {
            CallError::Failed(m) | CallError::Unrecorded(m) => m,
        }
    }
}

/// Answers from recorded files: each `{ "request": { "method", "url", "body"? },
/// "status", "body" }`, or a list of them.
#[derive(Debug, Default)]
pub struct Recordings {
    by_request: HashMap<String, (u16, String)>,
    /// Where to add a recording, for the message of a request without one.
    dir: Option<String>,
}

impl Recordings {
    /// The `*.json` files of `dir`, in name order; a later file's answer to the same
    /// request replaces an earlier one.
    pub fn load(dir: &Path) -> Result<Recordings, String> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut out = Recordings { by_request: HashMap::new(), dir: Some(dir.display().to_string()) };
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let json: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let items = match json {
                Json::Array(items) => items,
                one => vec![one],
            };
            for item in items {
                let (key, answer) = recording(&item).map_err(|e| format!("{}: {e}", path.display()))?;
                out.by_request.insert(key, answer);
            }
        }
        Ok(out)
    }

    /// No recordings yet, to be added to `dir`.
    pub fn expecting(dir: &Path) -> Recordings {
        Recordings { by_request: HashMap::new(), dir: Some(dir.display().to_string()) }
    }

    /// The recording of `req`: the one for its body, else one that gives no body (which
    /// answers the method and URL whatever the body).
    fn answer(&self, req: &Request) -> Result<Answer, CallError> {
        let found = self
            .by_request
            .get(&req.key())
            .or_else(|| req.body.as_ref().and_then(|_| self.by_request.get(&format!("{} {}", req.method, req.url))));
        let Some((status, body)) = found else {
            let file = match &self.dir {
                Some(d) => format!("add a file to {d}"),
                None => "pass recorded responses with `--responses DIR`".to_string(),
            };
            let body = req.body.as_ref().map_or(String::new(), |b| format!(", \"body\": {b}"));
            return Err(CallError::Unrecorded(format!(
                "no recorded response for {}; {file} with {{ \"request\": {{ \"method\": \"{}\", \"url\": \"{}\"{body} }}, \
                 \"status\": 200, \"body\": ... }}",
                req.line(),
                req.method,
                crate::scrub::scrub(&req.url),
            )));
        };
        if (200..300).contains(status) {
            return Ok(Arc::from(body.as_str()));
        }
        let failure = Failure::Status { status: *status, excerpt: excerpt(body), retry_after: None };
        Err(CallError::Failed(format!("{} {}", req.line(), failure.describe("1 attempt (recorded)"))))
    }
}

fn recording(item: &Json) -> Result<(String, (u16, String)), String> {
    let req = item.get("request").ok_or("a recording needs `request`")?;
    let text = |k: &str| req.get(k).and_then(Json::as_str).map(str::to_string);
    let request = Request {
        method: text("method").unwrap_or_else(|| "GET".into()).to_uppercase(),
        url: text("url").ok_or("a recording's request needs `url`")?,
        headers: Vec::new(),
        body: req.get("body").cloned(),
    };
    let status = item.get("status").and_then(Json::as_u64).map_or(200, |s| u16::try_from(s).unwrap_or(599));
    let body = match item.get("body") {
        Some(Json::String(s)) => s.clone(),
        Some(b) => b.to_string(),
        None => String::new(),
    };
    Ok((request.key(), (status, body)))
}

/// The first 500 characters of an answer on one line, scrubbed: servers echo requests
/// back, and an HTML error page would otherwise fill a hold's message with its layout.
pub fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(500).collect();
    if cut.len() < one_line.len() {
        cut.push_str("...");
    }
    crate::scrub::scrub(&cut).into_owned()
}

/// Where a stage's calls go.
pub enum Via {
    Network { client: reqwest::Client, policy: RetryPolicy, limiter: Option<RateLimiter> },
    Recorded(Arc<Recordings>),
}

type Cached = Arc<OnceCell<Answer>>;

/// Most answers a stage's cache keeps; past it the oldest go first. A run of a million
/// orders, each with its own URL, must neither keep a million answers nor look through
/// them all for each call.
const CACHE_ENTRIES: usize = 10_000;

/// Answers by request, and the requests in the order they were first asked: with one
/// TTL for all, the oldest (the first to expire) are always at the front.
#[derive(Default)]
struct Cache {
    by_key: HashMap<String, (Instant, Cached)>,
    order: VecDeque<(Instant, String)>,
}

impl Cache {
    /// The cell for `key`, a new one when there is none or it expired.
    fn cell(&mut self, key: String, now: Instant, ttl: Duration) -> Cached {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < ttl && self.order.len() < CACHE_ENTRIES {
                break;
            }
            if let Some((at, old)) = self.order.pop_front() {
                // Only the entry this place was made for: a key asked again since has a later one.
                if self.by_key.get(&old).is_some_and(|(t, _)| *t == at) {
                    self.by_key.remove(&old);
                }
            }
        }
        if let Some((_, cell)) = self.by_key.get(&key) {
            return cell.clone();
        }
        let cell = Arc::new(OnceCell::new());
        self.order.push_back((now, key.clone()));
        self.by_key.insert(key, (now, cell.clone()));
        cell
    }
}

/// One `enrich` stage's caller: its way out and its cache.
pub struct Caller {
    via: Via,
    ttl: Option<Duration>,
    cache: Mutex<Cache>,
}

impl Caller {
    pub fn new(via: Via, ttl: Option<Duration>) -> Caller {
        Caller { via, ttl, cache: Mutex::default() }
    }

    /// The answer to `req`: from the cache while it is fresh (a request already on its
    /// way is waited for, not sent again), else asked for.
    pub async fn call(&self, req: &Request) -> Result<Answer, CallError> {
        let Some(ttl) = self.ttl else { return self.ask(req).await };
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.cell(req.cache_key(), Instant::now(), ttl)
        };
        // A failed call leaves the cell empty: the next identical request tries again.
        cell.get_or_try_init(|| self.ask(req)).await.cloned()
    }

    async fn ask(&self, req: &Request) -> Result<Answer, CallError> {
        // A header built from the data (a line break in it, say) fails the same way at
        // every try: it is named at once rather than retried as a connection error.
        if let Some((name, why)) = req.headers.iter().find_map(|(k, v)| {
            let bad = reqwest::header::HeaderName::from_bytes(k.as_bytes()).err().map(|e| e.to_string());
            bad.or_else(|| reqwest::header::HeaderValue::from_str(v).err().map(|e| e.to_string())).map(|e| (k, e))
        }) {
            return Err(CallError::Failed(format!("{}: header `{name}` cannot be sent ({why})", req.line())));
        }
        match &self.via {
            Via::Recorded(r) => r.answer(req),
            Via::Network { client, policy, limiter } => {
                match with_retries(policy, limiter.as_ref(), || send(client, req)).await {
                    Ok((answer, _)) => Ok(answer),
                    Err((failure, tries)) => {
                        let tries = if tries == 1 { "1 attempt".to_string() } else { format!("{tries} attempts") };
                        Err(CallError::Failed(format!("{} {}", req.line(), failure.describe(&tries))))
                    }
                }
            }
        }
    }
}

async fn send(client: &reqwest::Client, req: &Request) -> Result<Answer, Failure> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut builder = client.request(method, &req.url).header(reqwest::header::ACCEPT, "application/json");
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(body) = &req.body {
        builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
    }
    let resp = builder.send().await.map_err(|e| {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Connection(crate::scrub::scrub(&e.to_string()).into_owned())
        }
    })?;
    let status = resp.status().as_u16();
    let retry_after = retry_after_of(resp.headers());
    let text = match tokio::time::timeout(Duration::from_secs(30), read_limited(resp, MAX_ANSWER_BYTES)).await {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => {
            let excerpt = format!("the answer is larger than {} MiB", MAX_ANSWER_BYTES >> 20);
            return Err(Failure::Status { status, excerpt, retry_after: None });
        }
        Ok(Err(e)) if e.is_timeout() => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(Failure::Connection(crate::scrub::scrub(&e.to_string()).into_owned())),
        Err(_) => return Err(Failure::Timeout),
    };
    if (200..300).contains(&status) {
        return Ok(Arc::from(text));
    }
    Err(Failure::Status { status, excerpt: excerpt(&text), retry_after })
}

/// The largest answer read: as large as a lookup file may be. A server that answers
/// without end (or with a whole export) must not take the process's memory with it.
const MAX_ANSWER_BYTES: u64 = crate::confine::MAX_LOOKUP_BYTES;

/// The body as text, or `None` once it is longer than `limit` bytes (read no further).
async fn read_limited(mut resp: reqwest::Response, limit: u64) -> Result<Option<String>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_answers_its_request_and_names_the_file_to_add_for_another() {
        let dir = tempfile::tempdir().unwrap();
        let rec = r#"{ "request": { "method": "GET", "url": "https://shop.example/a.json?x=1" }, "status": 200, "body": { "a": 1 } }"#;
        std::fs::write(dir.path().join("a.json"), rec).unwrap();
        let r = Recordings::load(dir.path()).unwrap();
        let req = |url: &str| Request { method: "GET".into(), url: url.into(), headers: Vec::new(), body: None };
        assert_eq!(&*r.answer(&req("https://shop.example/a.json?x=1")).unwrap(), r#"{"a":1}"#);
        let Err(CallError::Unrecorded(m)) = r.answer(&req("https://shop.example/b.json")) else { panic!() };
        assert!(m.contains("GET https://shop.example/b.json") && m.contains("add a file to"), "{m}");
    }

    #[test]
    fn a_recording_without_a_body_answers_a_post_whatever_its_body() {
        let dir = tempfile::tempdir().unwrap();
        let recs = r#"[
            { "request": { "method": "POST", "url": "https://erp.example/price" }, "body": { "any": true } },
            { "request": { "method": "POST", "url": "https://erp.example/price", "body": { "sku": "A" } }, "body": { "a": 1 } }
        ]"#;
        std::fs::write(dir.path().join("a.json"), recs).unwrap();
        let r = Recordings::load(dir.path()).unwrap();
        let post = |body: Json| Request {
            method: "POST".into(),
            url: "https://erp.example/price".into(),
            headers: Vec::new(),
            body: Some(body),
        };
        assert_eq!(&*r.answer(&post(serde_json::json!({ "sku": "A" }))).unwrap(), r#"{"a":1}"#);
        assert_eq!(&*r.answer(&post(serde_json::json!({ "sku": "B" }))).unwrap(), r#"{"any":true}"#);
    }

    #[test]
    fn the_cache_keeps_fresh_answers_and_never_more_than_its_limit() {
        let mut cache = Cache::default();
        let (t0, ttl) = (Instant::now(), Duration::from_secs(600));
        let first = cache.cell("a".into(), t0, ttl);
        assert!(Arc::ptr_eq(&first, &cache.cell("a".into(), t0 + Duration::from_secs(599), ttl)));
        assert!(!Arc::ptr_eq(&first, &cache.cell("a".into(), t0 + Duration::from_secs(601), ttl)), "expired");
        let later = t0 + Duration::from_secs(700);
        for i in 0..CACHE_ENTRIES * 3 {
            cache.cell(format!("k{i}"), later, ttl);
        }
        assert!(cache.by_key.len() <= CACHE_ENTRIES && cache.order.len() <= CACHE_ENTRIES);
        assert!(cache.by_key.contains_key(&format!("k{}", CACHE_ENTRIES * 3 - 1)), "the newest stays");
    }
}
