//! The sink of a dry run: each delivery is rendered and reported, never sent or written.

use super::{Handed, Handing, Sink};
use crate::connectors::Delivery;
use crate::value::Value;

pub(crate) struct Recorded;

impl Sink for Recorded {
    fn deliver<'a>(&'a mut self, _: &'a Delivery, _: &'a Value) -> Handing<'a> {
        Box::pin(async { Ok(Handed::Written) })
    }
}
