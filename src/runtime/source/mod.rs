//! Sources: where records come from. Each kind is a file of its own behind the `Source`
//! trait, with a typed configuration read once from its options. A source decodes what
//! it reads against the flow's record type and hands on records in chunks; input that
//! cannot become a record goes straight to the collector as a hold.

mod endpoint;
mod file;
mod inbox;
mod pages;
mod poll;
mod repeat;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use endpoint::webhook_endpoint;

use super::eval::Shared;
use super::flow_info::FlowInfo;
use super::options::Options;
use super::outcome::Msg;
use super::unit::Chunk;
use super::{RunOptions, RuntimeError};
use crate::ir;
use crate::state::StateStore;

/// What a source hands its records to.
pub(crate) struct Intake {
    pub tx: mpsc::Sender<Chunk>,
    /// For input held before it became a record, and records a source filters.
    pub ev: mpsc::Sender<Msg>,
    pub info: Arc<FlowInfo>,
    pub store: Arc<dyn StateStore>,
    pub shared: Arc<Shared>,
    pub stop: Arc<AtomicBool>,
    /// The flow's record type, which input is decoded against.
    pub ty: crate::types::Type,
    /// Local slots each record carries.
    pub slots: usize,
    /// `source orders`: where a hold of unreadable input says it stopped.
    pub stage: String,
    /// The source's line in the flow file.
    pub line: usize,
}

impl Intake {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// One kind of source.
pub(crate) trait Source: Send {
    /// Starts reading. The task ends when the input does, when the run is stopped, or
    /// when the flow takes no more; it answers how many inputs it read.
    fn start(self: Box<Self>, intake: Intake) -> JoinHandle<Result<u64, RuntimeError>>;
}

/// The flow's source. Recorded payloads (`--input`) stand in for any kind, read as that
/// kind would read them; a dry run reads nothing from the network.
pub(crate) fn build(flow: &ir::Flow, opts: &RunOptions, shared: &Shared) -> Result<Box<dyn Source>, RuntimeError> {
    let src = &flow.source;
    let o = Options::source(src, shared)?;
    let recorded = opts.inputs.is_some() || opts.dry_run;
    Ok(match src.kind.as_str() {
        "file" | "stdin" => Box::new(file::FileSource::new(file::FileConfig::from_options(&o, opts)?)),
        "webhook" if recorded => {
            let inputs = file::FileConfig::recorded(&o, opts)?;
            Box::new(file::FileSource::new(inputs).with_repeats(repeat::Repeats::from_options(&o)?))
        }
        "webhook" => Box::new(inbox::InboxSource::new(repeat::Repeats::from_options(&o)?)),
        "http.poll" if recorded => {
            let inputs = file::FileConfig::recorded(&o, opts)?;
            match o.literal("records")? {
                Some(records) => Box::new(pages::PageFiles::new(inputs, records)),
                None => Box::new(file::FileSource::new(inputs)),
            }
        }
        "http.poll" => Box::new(poll::PollSource::new(poll::PollConfig::from_options(&o)?)),
        kind => return Err(RuntimeError::Setup(format!("source `{}`: unknown kind `{kind}`", src.name))),
    })
}
