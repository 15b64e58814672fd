//! How senders sign their requests, and the check of a signature as the body streams
//! in: the claim is read from the headers before a byte of the body is, so a request
//! without one is refused without reading its body, and the body is hashed chunk by
//! chunk while it is read, never parsed before it is proved.

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

    /// The header that carries the signature, if requests are signed.
    pub fn header(&self) -> Option<&str> {
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

    /// What the request claims, read from its headers before its body: `Ok(None)` when
    /// requests are not signed, `Err` when a signed request has no usable signature (it
    /// is refused without reading the body).
    pub(super) fn claim(&self, secret: Option<&str>, headers: &HeaderMap) -> Result<Option<BodyCheck>, Unsigned> {
        let Some(name) = self.header() else { return Ok(None) };
        let given = headers.get(name).and_then(|v| v.to_str().ok()).ok_or(Unsigned)?;
        let expected = base64::engine::general_purpose::STANDARD.decode(given.trim()).map_err(|_| Unsigned)?;
        // An HMAC-SHA256 is 32 bytes: anything else can never match.
        if expected.len() != 32 {
            return Err(Unsigned);
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret.ok_or(Unsigned)?.as_bytes()).map_err(|_| Unsigned)?;
        Ok(Some(BodyCheck { mac, expected }))
    }
}

/// A signed request without a signature that could match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unsigned;

/// The signature a request claims, checked against its body as the body is read.
pub(super) struct BodyCheck {
    mac: Hmac<Sha256>,
    expected: Vec<u8>,
}

impl BodyCheck {
    pub(super) fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    /// Whether the whole body matched the claim, compared in constant time.
    pub(super) fn matches(self) -> bool {
        self.mac.verify_slice(&self.expected).is_ok()
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

    #[test]
    fn a_streamed_check_agrees_with_the_whole_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-shopify-hmac-sha256", sign(b"hush", b"{\"id\":1}").parse().unwrap());
        let mut check = Signature::Shopify.claim(Some("hush"), &headers).unwrap().unwrap();
        check.update(b"{\"id\"");
        check.update(b":1}");
        assert!(check.matches());
        assert_eq!(Signature::Shopify.claim(Some("hush"), &HeaderMap::new()).err(), Some(Unsigned));
    }
}
