//! Which request headers the inbox keeps. Only an allowlist: a sender, or a proxy in
//! front of flowgate, may add credentials under any name (`Proxy-Authorization`,
//! `X-Api-Key`, `X-Shopify-Access-Token`, cookies, the signature itself), and the inbox
//! is read by operators and copied into holds. What is kept is what helps an operator
//! tell requests apart: their type, their sender and the platform's own ids.

use axum::http::HeaderMap;

/// Headers kept with a stored request, lower case.
pub const KEPT: &[&str] = &[
    "content-type",
    "user-agent",
    "x-request-id",
    // Shopify
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-api-version",
    "x-shopify-triggered-at",
    // WooCommerce
    "x-wc-webhook-source",
    "x-wc-webhook-topic",
    "x-wc-webhook-resource",
    "x-wc-webhook-event",
    "x-wc-webhook-id",
    "x-wc-webhook-delivery-id",
];

/// The headers of a request as the inbox stores them: the allowlist, and the flow's own
/// delivery-id header (`id_header`), whose value is the request's dedupe key anyway.
pub fn kept(headers: &HeaderMap, id_header: Option<&str>) -> serde_json::Value {
    let kept = headers
        .iter()
        .filter(|(k, _)| KEPT.contains(&k.as_str()) || id_header.is_some_and(|h| h.eq_ignore_ascii_case(k.as_str())))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), serde_json::Value::String(v.to_str().ok()?.to_string()))))
        .collect();
    serde_json::Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_kept() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("content-type", "application/json"),
            ("x-shopify-topic", "orders/create"),
            ("proxy-authorization", "Basic c2VjcmV0"),
            ("x-api-key", "k"),
            ("x-shopify-access-token", "shpat_x"),
            ("x-shopify-hmac-sha256", "sig"),
            ("cookie", "a=b"),
            ("x-my-id", "7"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        let kept = kept(&h, Some("X-My-Id"));
        let names: Vec<&String> = kept.as_object().unwrap().keys().collect();
        assert_eq!(names, ["content-type", "x-shopify-topic", "x-my-id"]);
    }
}
