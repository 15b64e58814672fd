//! The webhook source's receiving side: an HTTP endpoint that verifies the sender's
//! signature, stores the request durably in the inbox and only then answers 2xx.
//!
//! A bad or missing signature gets 401 and nothing is stored; an oversize body 413; a
//! request whose delivery id is already stored gets 200 (the sender retried) and is not
//! stored twice. The flow reads its records from the inbox, so a crash after answering
//! loses nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::StateStore;

/// How a sender signs its requests.
#[derive(Clone, Debug, PartialEq)]
pub enum Signature {
    /// Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the raw body.
    Shopify,
    /// WooCommerce: `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the raw body.
    WooCommerce,
    /// Any sender: base64 HMAC-SHA256 of the raw body in the named header.
    Hmac { header: String },
    /// No signature (for senders on a private network only).
    None,
}

impl Signature {
    pub fn from_option(kind: Option<&str>, header: Option<&str>) -> Signature {
        match kind {
            Some("shopify") => Signature::Shopify,
            Some("woocommerce") => Signature::WooCommerce,
            Some("hmac_sha256") => Signature::Hmac { header: header.unwrap_or("X-Signature").to_string() },
            _ => Signature::None,
        }
    }

    fn header(&self) -> Option<&str> {
        match self {
            Signature::Shopify => Some("x-shopify-hmac-sha256"),
            Signature::WooCommerce => Some("x-wc-webhook-signature"),
            Signature::Hmac { header } => Some(header),
            Signature::None => None,
        }
    }

    /// The header carrying the sender's delivery id, if the sender has one.
    pub fn default_id_header(&self) -> Option<&'static str> {
        match self {
            Signature::Shopify => Some("x-shopify-webhook-id"),
            Signature::WooCommerce => Some("x-wc-webhook-delivery-id"),
            _ => None,
        }
    }
}

/// Whether `signature` (base64) is the HMAC-SHA256 of `body` under `secret`, compared in
/// constant time.
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The base64 HMAC-SHA256 a sender would put in its header (for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// One flow's webhook endpoint.
#[derive(Clone)]
pub struct Endpoint {
    pub flow: String,
    pub path: String,
    pub signature: Signature,
    pub secret: Option<String>,
    pub id_header: Option<String>,
    pub max_body: usize,
    pub store: Arc<dyn StateStore>,
}

async fn receive(State(ep): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    if let Some(name) = ep.signature.header() {
        let given = headers.get(name).and_then(|v| v.to_str().ok());
        let ok = match (&ep.secret, given) {
            (Some(secret), Some(sig)) => verify(secret.as_bytes(), &body, sig),
            _ => false,
        };
        if !ok {
            crate::metrics::add("webhooks_rejected", &ep.flow, "", 1);
            return (StatusCode::UNAUTHORIZED, "bad or missing signature\n");
        }
    }
    let id_header = ep.id_header.clone().or_else(|| ep.signature.default_id_header().map(str::to_string));
    let key = id_header.and_then(|h| headers.get(h.as_str()).and_then(|v| v.to_str().ok()).map(str::to_string));
    let kept: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "authorization" | "cookie"))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), serde_json::Value::String(v.to_str().ok()?.to_string()))))
        .collect();
    match ep.store.inbox_add(&ep.flow, key.as_deref(), &serde_json::Value::Object(kept), &body, chrono::Utc::now()) {
        Ok(true) => {
            crate::metrics::add("webhooks_received", &ep.flow, "", 1);
            (StatusCode::ACCEPTED, "stored\n")
        }
        Ok(false) => (StatusCode::OK, "already received\n"),
        // Not stored, so not acknowledged: the sender will try again.
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "could not store the request\n"),
    }
}

/// Serves `endpoints`, `/healthz` and `/metrics` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, endpoints: Vec<Endpoint>) -> std::io::Result<()> {
    axum::serve(listener, router(endpoints)).await
}

/// The server's routes: each endpoint, `/healthz` and `/metrics`.
pub fn router(endpoints: Vec<Endpoint>) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(|| async { crate::metrics::render() }));
    for ep in endpoints {
        let limit = ep.max_body;
        let path = ep.path.clone();
        let ep = Arc::new(ep);
        app = app.route(&path, post(receive).with_state(ep).layer(DefaultBodyLimit::max(limit)));
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_does_not() {
        let sig = sign(b"hush", b"{\"id\":1}");
        assert!(verify(b"hush", b"{\"id\":1}", &sig));
        assert!(!verify(b"hush", b"{\"id\":2}", &sig));
        assert!(!verify(b"other", b"{\"id\":1}", &sig));
        assert!(!verify(b"hush", b"{\"id\":1}", "not base64!"));
    }
}
