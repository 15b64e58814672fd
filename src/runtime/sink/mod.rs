//! Sinks: where a record goes when it leaves the flow. Rendering a record into a
//! `Delivery` is the same for every kind (`Render`); each kind is a file of its own
//! behind the `Sink` trait, with a typed configuration read once from its options.

mod file;
mod http;
mod recorded;
mod render;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::oneshot;

pub(crate) use render::Render;

use super::eval::Shared;
use super::options::Options;
use super::{RunOptions, RuntimeError};
use crate::connectors::http::Outcome;
use crate::connectors::Delivery;
use crate::ir;
use crate::state::StateStore;
use crate::value::Value;

/// How a sink took a delivery.
pub(crate) enum Handed {
    /// Written (a line to a file): delivered.
    Written,
    /// Under way (a request): the outcome comes on the receiver.
    Sending(oneshot::Receiver<Outcome>),
}

pub(crate) type Handing<'a> = Pin<Box<dyn Future<Output = Result<Handed, RuntimeError>> + Send + 'a>>;

/// One kind of sink: where rendered deliveries go.
pub(crate) trait Sink: Send {
    /// Takes one delivery of `record`, in the order records arrive. A sink that sends
    /// may wait here for room in its queue, which slows the flow rather than grow memory.
    fn deliver<'a>(&'a mut self, delivery: &'a Delivery, record: &'a Value) -> Handing<'a>;

    /// Writes out what is buffered, so a long-running flow's files are current.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    /// Ends the output after the last record (a JSON array's closing bracket).
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink of the flow, ready for records.
pub(crate) struct SinkRt {
    pub name: String,
    pub render: Render,
    pub out: Box<dyn Sink>,
}

/// Every sink of the flow. A dry run renders each record as a real run would and
/// delivers nothing.
pub(crate) fn build_sinks(
    flow: &ir::Flow,
    opts: &RunOptions,
    shared: &Shared,
    store: &Arc<dyn StateStore>,
) -> Result<Vec<SinkRt>, RuntimeError> {
    flow.sinks.iter().map(|s| build(flow, s, opts, shared, store)).collect()
}

fn build(
    flow: &ir::Flow,
    s: &ir::Connector,
    opts: &RunOptions,
    shared: &Shared,
    store: &Arc<dyn StateStore>,
) -> Result<SinkRt, RuntimeError> {
    let o = Options::sink(s, shared)?;
    let (render, out): (Render, Box<dyn Sink>) = match s.kind.as_str() {
        "file" | "stdout" => {
            let config = file::FileConfig::from_options(&o)?;
            if opts.dry_run {
                (Render::plain(&o, false)?, Box::new(recorded::Recorded))
            } else {
                let sink = file::FileSink::open(config, opts)?;
                (Render::plain(&o, sink.direct())?, Box::new(sink))
            }
        }
        kind if crate::options::SINK_KINDS.contains(&kind) && kind.starts_with("http") => {
            let config = http::HttpConfig::from_options(&o)?;
            let render = Render::http(&o, config.method.clone())?;
            if opts.dry_run {
                (render, Box::new(recorded::Recorded))
            } else {
                (render, Box::new(http::HttpSink::start(config, flow, s, store)?))
            }
        }
        kind => return Err(RuntimeError::Setup(format!("sink `{}`: unknown kind `{kind}`", s.name))),
    };
    Ok(SinkRt { name: s.name.clone(), render, out })
}
