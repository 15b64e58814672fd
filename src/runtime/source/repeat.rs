//! A webhook source's `dedupe_key`: a sender that sends the same content again, under a
//! new delivery id, is still sending a duplicate. Applied alike to the inbox and to
//! recorded payloads, so a dry run filters what a real run would.

use super::super::eval::{Compiled, Frame};
use super::super::options::Options;
use super::super::outcome::Msg;
use super::super::unit::Unit;
use super::super::RuntimeError;
use super::Intake;

/// How long a webhook's dedupe key is remembered: longer than any platform retries.
const REMEMBERED_DAYS: i64 = 30;

pub(crate) struct Repeats {
    key: Option<Compiled>,
}

impl Repeats {
    pub fn from_options(o: &Options<'_>) -> Result<Repeats, RuntimeError> {
        Ok(Repeats { key: o.per_record("dedupe_key")? })
    }

    /// The record goes on with its key to commit, or comes back as the message that
    /// ends it, filtered as a repeat.
    pub fn admit(&self, mut unit: Unit, intake: &Intake) -> Result<Unit, Box<Msg>> {
        let Some(k) = &self.key else { return Ok(unit) };
        let Ok(v) = k(&Frame::new(unit.record.clone(), Vec::new(), &intake.shared)) else { return Ok(unit) };
        let key = format!("webhook:{}", v.key());
        let info = &intake.info;
        let seen =
            info.in_flight().contains(&key) || intake.store.dedupe_seen(&info.name, &key, info.now).unwrap_or(false);
        if seen {
            // Counted under the source, not under the sinks: it never reached them.
            let why = format!("duplicate of an earlier request ({key})");
            return Err(Box::new(Msg::repeat(unit, Some((0, intake.stage.clone())), why)));
        }
        info.in_flight().insert(key.clone());
        unit.dedupe.push((key, Some(info.now + chrono::Duration::days(REMEMBERED_DAYS))));
        Ok(unit)
    }

    pub fn none() -> Repeats {
        Repeats { key: None }
    }
}
