//! The webhook source's receiving side: an HTTP server that verifies the sender's
//! signature, stores the request durably in the inbox and only then answers 2xx.
//!
//! A bad or missing signature gets 401 and nothing is stored; an oversize body 413; a
//! request whose delivery id is already stored gets 200 (the sender retried) and is not
//! stored twice; a request that cannot be stored 503, so the sender retries. The flow
//! reads its records from the inbox, so a crash after answering loses nothing.
//!
//! One job a module: `signature` (claims and checks), `headers` (what the inbox keeps),
//! `intake` (one request), `writer` (the thread that stores), `health` (whether storing
//! works), `admin` (`/healthz`, `/metrics`), `server` (connections, deadlines, limits)
//! and `limits` (their values).

mod admin;
mod headers;
mod health;
mod intake;
mod limits;
mod server;
mod signature;
mod writer;

use std::sync::Arc;

use axum::routing::post;
use axum::Router;
use tokio::sync::Semaphore;

pub use headers::KEPT as KEPT_HEADERS;
pub use health::{Health, StateFile};
pub use limits::Limits;
pub use signature::{sign, verify, Signature};

use crate::state::StateStore;

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

/// The webhook endpoints of a server, with the writer that stores their requests and
/// the health `/healthz` reports.
pub struct Intake {
    routes: Router,
    health: Health,
}

impl Intake {
    /// Starts the writer for `endpoints`. `state_file` is the state database as it was
    /// opened, checked before every write (`None` for a store without a file).
    pub fn start(endpoints: Vec<Endpoint>, limits: &Limits, state_file: Option<StateFile>) -> std::io::Result<Intake> {
        let health = Health::new(state_file);
        let writer = writer::Writer::start(limits.write_queue, health.clone())?;
        // The budget holds at least one body of the largest size an endpoint takes.
        let largest = endpoints.iter().map(|e| e.max_body).max().unwrap_or(0);
        let budget = limits.max_body_memory.max(largest).div_ceil(1024);
        let budget = Arc::new(Semaphore::new(budget.min(Semaphore::MAX_PERMITS)));
        let mut routes = Router::new();
        for endpoint in endpoints {
            let path = endpoint.path.clone();
            let live = intake::Live {
                endpoint,
                limits: limits.clone(),
                budget: budget.clone(),
                writer: writer.clone(),
                health: health.clone(),
            };
            routes = routes.route(&path, post(intake::receive).with_state(Arc::new(live)));
        }
        Ok(Intake { routes, health })
    }

    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// The endpoints' routes.
    pub fn routes(&self) -> Router {
        self.routes.clone()
    }
}

/// The admin routes, `/healthz` and `/metrics`, behind `token` when one is given.
pub fn admin_routes(health: Health, token: Option<String>) -> Router {
    admin::routes(health, token)
}

/// Serves `app` on `listener` within `limits` until the process ends.
pub async fn serve_with(listener: tokio::net::TcpListener, app: Router, limits: Limits) -> std::io::Result<()> {
    server::serve(listener, app, limits).await
}

/// Serves `endpoints`, `/healthz` and `/metrics` on `listener` with the default limits
/// until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, endpoints: Vec<Endpoint>) -> std::io::Result<()> {
    let limits = Limits::default();
    let intake = Intake::start(endpoints, &limits, None)?;
    let app = intake.routes().merge(admin_routes(intake.health(), None));
    serve_with(listener, app, limits).await
}
