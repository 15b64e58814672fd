//! `/healthz` and `/metrics`: on the webhook listener, or on an address of their own
//! (`--admin-listen`). Anywhere but loopback they answer only with the admin token
//! (`Authorization: Bearer $FLOWGATE_ADMIN_TOKEN`): metrics and health reasons name
//! flows, paths and volumes an outsider has no business reading.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use super::health::Health;

/// The admin routes, behind `token` when one is given.
pub fn routes(health: Health, token: Option<String>) -> Router {
    let app = Router::new()
        .route("/healthz", get(healthz).with_state(health))
        .route("/metrics", get(|| async { crate::metrics::render() }));
    match token {
        Some(token) => app.layer(middleware::from_fn_with_state(Token(Sha256::digest(token).into()), require_token)),
        None => app,
    }
}

/// `ok` while requests can be stored; 503 and the reason when they cannot.
async fn healthz(State(health): State<Health>) -> Response {
    match health.check() {
        Ok(()) => "ok\n".into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {why}\n")).into_response(),
    }
}

/// The token's digest: comparing digests takes the same time whatever the guess.
#[derive(Clone)]
struct Token([u8; 32]);

async fn require_token(State(token): State<Token>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| <[u8; 32]>::from(Sha256::digest(t.trim())));
    let same = given.is_some_and(|g| g.iter().zip(token.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0);
    if same {
        next.run(req).await
    } else {
        let mut r = (StatusCode::UNAUTHORIZED, "the admin token is required\n").into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        r
    }
}
