//! The `http.poll` source: GETs pages of records on a schedule.
//!
//! Records are picked out of each response by JSONPath; pages are followed by the Link
//! header (`rel="next"`, as Shopify and WooCommerce send it), by page number, or by a
//! cursor token in the body. The flow's `cursor` expression names where the next poll
//! starts; the runtime commits it only once every record up to it has ended, so a crash
//! polls those records again instead of losing them.

use serde_json::Value as Json;

use super::retry::{retry_after_of, Failure, RateLimiter, RetryPolicy};

/// How to find the next page.
#[derive(Clone, Debug, PartialEq)]
pub enum NextPage {
    /// One page per poll.
    None,
    /// The `Link` header's `rel="next"` URL.
    Link,
    /// `page=1, 2, ...` until a page has no records.
    Page { param: String },
    /// A token in the body at this JSONPath, sent back as the query parameter `param`.
    Token { path: String, param: String },
}

impl NextPage {
    pub fn from_option(next: Option<&str>, page_param: Option<&str>) -> NextPage {
        match next {
            None | Some("") | Some("none") => NextPage::None,
            Some("link") => NextPage::Link,
            Some("page") => NextPage::Page { param: page_param.unwrap_or("page").to_string() },
            Some(path) => NextPage::Token { path: path.to_string(), param: page_param.unwrap_or("cursor").to_string() },
        }
    }
}

/// One fetched page: its records and where the next one is.
#[derive(Debug)]
pub struct Page {
    pub records: Vec<Json>,
    pub next: Option<String>,
}

/// The URL `rel="next"` points to in a `Link` header, if any.
pub fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// `url` with `params` added to its query string.
pub fn with_query(url: &str, params: &[(String, String)]) -> Result<String, String> {
    let mut u = reqwest::Url::parse(url).map_err(|e| format!("`{}` is not a URL: {e}", crate::scrub::scrub(url)))?;
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Ok(u.to_string())
}

/// The records of a response body: what the JSONPath selects, or the body's elements
/// when it is an array, or the body itself.
pub fn select(body: &Json, records: Option<&str>) -> Result<Vec<Json>, String> {
    match records {
        Some(path) => {
            let query = jsonpath_rust::parser::parse_json_path(path).map_err(|e| format!("JSONPath `{path}`: {e}"))?;
            let found =
                jsonpath_rust::query::js_path_process(&query, body).map_err(|e| format!("JSONPath `{path}`: {e}"))?;
            Ok(found.into_iter().map(|r| r.val().clone()).collect())
        }
        None => Ok(match body {
            Json::Array(items) => items.clone(),
            other => vec![other.clone()],
        }),
    }
}

/// How one poll asks: its client, and the retry policy and rate limit it shares with
/// the HTTP sink's way of calling out.
pub struct Caller {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    pub limiter: Option<RateLimiter>,
}

/// GETs one page, trying again as the retry policy says (statuses, timeouts, connection
/// errors, `Retry-After`).
pub async fn fetch(
    caller: &Caller,
    url: &str,
    headers: &[(String, String)],
    records: Option<&str>,
    next: &NextPage,
    page: u32,
) -> Result<Page, String> {
    let mut attempt: u32 = 0;
    let (link, text) = loop {
        attempt += 1;
        if let Some(l) = &caller.limiter {
            l.wait().await;
        }
        let mut req = caller.client.get(url);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let failure = match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                let link = resp.headers().get(reqwest::header::LINK).and_then(|v| v.to_str().ok()).map(str::to_string);
                let text = resp.text().await.map_err(|e| format!("GET {url}: {e}"))?;
                break (link, text);
            }
            Ok(resp) => Failure::Status {
                status: resp.status().as_u16(),
                retry_after: retry_after_of(resp.headers()),
                excerpt: String::new(),
            },
            Err(e) if e.is_timeout() => Failure::Timeout,
            Err(e) => Failure::Connection(e.to_string()),
        };
        let tries = if attempt == 1 { "1 attempt".to_string() } else { format!("{attempt} attempts") };
        if !caller.policy.retries(&failure) || attempt >= caller.policy.attempts {
            return Err(format!("GET {url} {}", failure.describe(&tries)));
        }
        let wait = match &failure {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        };
        tokio::time::sleep(caller.policy.delay(attempt - 1, wait)).await;
    };
    let body: Json = serde_json::from_str(&text).map_err(|e| format!("GET {url}: the answer is not JSON: {e}"))?;
    let records = select(&body, records)?;
    let next = match next {
        NextPage::None => None,
        NextPage::Link => link.as_deref().and_then(link_next),
        NextPage::Page { param } if !records.is_empty() => {
            Some(with_query(url, &[(param.clone(), (page + 1).to_string())])?)
        }
        NextPage::Page { .. } => None,
        NextPage::Token { path, param } => match select(&body, Some(path))?.first() {
            Some(Json::String(t)) if !t.is_empty() => Some(with_query(url, &[(param.clone(), t.clone())])?),
            Some(Json::Number(n)) => Some(with_query(url, &[(param.clone(), n.to_string())])?),
            _ => None,
        },
    };
    Ok(Page { records, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_as_shopify_sends_them() {
        let h = r#"<https://shop.example/admin/api/2024-07/orders.json?page_info=abc&limit=50>; rel="previous", <https://shop.example/admin/api/2024-07/orders.json?page_info=def&limit=50>; rel="next""#;
        assert_eq!(
            link_next(h).as_deref(),
            Some("https://shop.example/admin/api/2024-07/orders.json?page_info=def&limit=50")
        );
        assert_eq!(link_next(r#"<https://x/a>; rel="previous""#), None);
    }

    #[test]
    fn records_by_jsonpath_or_array() {
        let body: Json = serde_json::json!({"orders": [{"id": 1}, {"id": 2}]});
        assert_eq!(select(&body, Some("$.orders[*]")).unwrap().len(), 2);
        assert_eq!(select(&serde_json::json!([1, 2, 3]), None).unwrap().len(), 3);
    }
}
