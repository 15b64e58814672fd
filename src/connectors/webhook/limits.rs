//! The bounds a server on the internet needs: how long a client may take, how many
//! connections it may hold and how much of its bodies may sit in memory. Every one is
//! a flag of `flowgate run`; the defaults suit a storefront's webhooks (a few KB each,
//! sent at once by a well-connected sender).

use std::time::Duration;

/// Timeouts and limits of the webhook server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a request's headers may take, from the connection's first byte (or its
    /// opening): a client trickling headers (slowloris) is cut off after this.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive in full; after it, 408.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may wait between requests.
    pub idle_timeout: Duration,
    /// Open connections at most. At the limit a new connection takes the place of the
    /// one idle the longest; when none is idle it is answered 503 and closed.
    pub max_connections: usize,
    /// Bytes of request bodies held in memory at once, being read, checked or waiting
    /// to be stored; a request that would go over is answered 503 (the sender retries).
    pub max_body_memory: usize,
    /// Signed requests waiting for the state database; over it, 503.
    pub write_queue: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_body_memory: 32 << 20,
            write_queue: 1024,
        }
    }
}
