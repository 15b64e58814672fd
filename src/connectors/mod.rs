//! Connectors: where records come from and where they go.
//!
//! Sources turn bytes into decoded records (or bad-input items that become holds);
//! sinks turn a record into what would be sent. The runtime owns everything else
//! (holding, counting, batching), so a connector stays small.

pub mod call;
pub mod http;
pub mod poll;
pub mod retry;
pub mod sink;
pub mod source;
pub mod webhook;

pub use sink::{Delivery, SinkPlan};
pub use source::{read_inputs, Format, Incoming, RawText};
