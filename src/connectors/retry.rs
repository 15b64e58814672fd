//! One retry policy and one rate limiter for everything that calls out over HTTP: the
//! HTTP sink and the `http.poll` source read the same `retry` and `rate` options the
//! same way, back off the same way, and honour `Retry-After` alike.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::value::Value;

/// The longest `Retry-After` waited out. A server asking for longer (a misconfigured or
/// hostile one can ask for days) fails the try at once: the record is held, to be
/// replayed, rather than stalling the run or its other records behind it.
pub const RETRY_AFTER_LIMIT: Duration = Duration::from_secs(120);

/// When to try again, and how long to wait.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub base_ms: u64,
    pub max_ms: u64,
    pub statuses: Vec<u16>,
    /// Status classes by their first digit (5 for `5xx`).
    pub classes: Vec<u16>,
    pub timeout: bool,
    pub connection: bool,
    /// From `no_retry`: statuses and classes held at once, whatever `on` says.
    pub never: Vec<u16>,
    pub never_classes: Vec<u16>,
}

impl Default for RetryPolicy {
    /// Without a `retry` option: 5 tries, exponential from 1s up to 1m, on 429, 5xx,
    /// timeouts and connection errors. A 4xx other than 429 is never retried.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_ms: 1_000,
            max_ms: 60_000,
            statuses: vec![429],
            classes: vec![5],
            timeout: true,
            connection: true,
            never: Vec::new(),
            never_classes: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// The policy a `retry: { attempts, backoff, on }` value describes.
    pub fn from_value(v: Option<&Value>) -> RetryPolicy {
        let mut p = RetryPolicy::default();
        let Some(v) = v else { return p };
        if let Some(Value::Int(n)) = v.field("attempts") {
            p.attempts = u32::try_from(*n).unwrap_or(1).max(1);
        }
        if let Some(b) = v.field("backoff") {
            if let (Some(Value::Int(base)), Some(Value::Int(max))) = (b.field("base_ms"), b.field("max_ms")) {
                p.base_ms = u64::try_from(*base).unwrap_or(0);
                p.max_ms = u64::try_from(*max).unwrap_or(p.base_ms);
            }
        }
        if let Some(Value::List(on)) = v.field("on") {
            (p.statuses, p.classes, p.timeout, p.connection) = (Vec::new(), Vec::new(), false, false);
            for item in on.iter() {
                match item {
                    Value::Int(s) => p.statuses.extend(u16::try_from(*s).ok()),
                    Value::Str(s) if s == "timeout" => p.timeout = true,
                    Value::Str(s) if s == "connection_error" => p.connection = true,
                    Value::Str(s) => p.classes.extend(s.chars().next().and_then(|c| c.to_digit(10)).map(|d| d as u16)),
                    _ => {}
                }
            }
        }
        p
    }

    /// Adds a `no_retry: [422, 4xx]` list.
    pub fn with_no_retry(mut self, v: Option<&Value>) -> RetryPolicy {
        if let Some(Value::List(items)) = v {
            for item in items.iter() {
                match item {
                    Value::Int(s) => self.never.extend(u16::try_from(*s).ok()),
                    Value::Str(s) => {
                        self.never_classes.extend(s.chars().next().and_then(|c| c.to_digit(10)).map(|d| d as u16))
                    }
                    _ => {}
                }
            }
        }
        self
    }

    pub(crate) fn retries(&self, f: &Failure) -> bool {
        if let Failure::Status { status, retry_after, .. } = f {
            if self.never.contains(status) || self.never_classes.contains(&(status / 100)) {
                return false;
            }
            if retry_after.is_some_and(|ra| ra > RETRY_AFTER_LIMIT) {
                return false;
            }
        }
        match f {
            Failure::Status { status, .. } => self.statuses.contains(status) || self.classes.contains(&(status / 100)),
            Failure::Timeout => self.timeout,
            Failure::Connection(_) => self.connection,
        }
    }

    /// The wait before try `attempt + 1`: full jitter over the exponential step, or what
    /// the server asked for with `Retry-After` when that is longer (never more than
    /// `RETRY_AFTER_LIMIT`).
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self.base_ms.saturating_mul(1u64 << attempt.min(30)).min(self.max_ms.max(self.base_ms));
        let jittered = Duration::from_millis(fastrand::u64(0..=step));
        match retry_after {
            Some(ra) => ra.min(RETRY_AFTER_LIMIT).max(jittered),
            None => jittered,
        }
    }
}

/// Spaces requests evenly so a sink never sends faster than its `rate`.
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// From a rate value `{ count, per_ms }` (`10/s` is 10 per 1000 ms).
    pub fn from_value(v: &Value) -> Option<RateLimiter> {
        let (Some(Value::Int(count)), Some(Value::Int(per))) = (v.field("count"), v.field("per_ms")) else {
            return None;
        };
        let per_request =
            u64::try_from(*per).ok()?.checked_mul(1_000)? / u64::try_from(*count).ok().filter(|c| *c > 0)?;
        Some(RateLimiter { interval: Duration::from_micros(per_request), next: Mutex::new(Instant::now()) })
    }

    pub async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Tries `once` as the policy says: waiting for the rate limit before each try, again
/// after a failure the policy retries (honouring `Retry-After`), until it succeeds, fails
/// for good or is out of tries. Gives the result or the last failure, with the tries made.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    limiter: Option<&RateLimiter>,
    mut once: F,
) -> Result<(T, u32), (Failure, u32)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        if let Some(l) = limiter {
            l.wait().await;
        }
        let failure = match once().await {
            Ok(t) => return Ok((t, attempt)),
            Err(f) => f,
        };
        if !policy.retries(&failure) || attempt >= policy.attempts {
            return Err((failure, attempt));
        }
        let wait = match &failure {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        };
        tokio::time::sleep(policy.delay(attempt - 1, wait)).await;
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Failure {
    Status { status: u16, excerpt: String, retry_after: Option<Duration> },
    Timeout,
    Connection(String),
}

impl Failure {
    /// `answered 422 after 1 attempt: {"error": ...}`
    pub(crate) fn describe(&self, tries: &str) -> String {
        let tries = match self {
            Failure::Status { retry_after: Some(ra), .. } if *ra > RETRY_AFTER_LIMIT => format!(
                "{tries}, asking to wait {}s (more than the {}s a retry waits at most)",
                ra.as_secs(),
                RETRY_AFTER_LIMIT.as_secs()
            ),
            _ => tries.to_string(),
        };
        match self {
            Failure::Status { status, excerpt, .. } if excerpt.is_empty() => format!("answered {status} after {tries}"),
            Failure::Status { status, excerpt, .. } => format!("answered {status} after {tries}: {excerpt}"),
            Failure::Timeout => format!("timed out after {tries}"),
            Failure::Connection(e) => format!("could not connect after {tries}: {e}"),
        }
    }
}

/// A `Retry-After` header's wait: seconds, or an HTTP date (`Wed, 21 Oct 2026 07:28:00
/// GMT`) from now. A date in the past asks for no wait.
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of a response, if it has one.
pub(crate) fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let wait = retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(80) && wait <= Duration::from_secs(90), "{wait:?}");
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn the_policy_retries_what_it_names_and_never_what_no_retry_names() {
        let p = RetryPolicy::default();
        let status = |s| Failure::Status { status: s, excerpt: String::new(), retry_after: None };
        assert!(p.retries(&status(503)) && p.retries(&status(429)) && p.retries(&Failure::Timeout));
        assert!(!p.retries(&status(422)));
        let never = Value::list(vec![Value::Int(503)].into());
        assert!(!p.with_no_retry(Some(&never)).retries(&status(503)));
    }

    #[test]
    fn a_retry_after_past_the_limit_is_not_waited_for() {
        let p = RetryPolicy::default();
        let asking = |secs| Failure::Status {
            status: 429,
            excerpt: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert!(p.retries(&asking(30)));
        assert!(!p.retries(&asking(999_999)));
        assert_eq!(p.delay(0, Some(Duration::from_secs(999_999))), RETRY_AFTER_LIMIT);
        let m = asking(999_999).describe("1 attempt");
        assert_eq!(
            m,
            "answered 429 after 1 attempt, asking to wait 999999s (more than the 120s a retry waits at most)"
        );
    }
}
