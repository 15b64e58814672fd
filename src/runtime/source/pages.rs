//! Recorded pages standing in for an `http.poll` source: each file is one answer of the
//! API, and its records are picked out by the source's own `records` path, as a real
//! poll picks them, so a recorded `{"orders": [...]}` page is read as its orders.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::super::flow_info::internal_error;
use super::super::stage::Stop;
use super::super::unit::Unit;
use super::super::RuntimeError;
use super::file::FileConfig;
use super::{Intake, Source};
use crate::connectors::poll::select;
use crate::connectors::RawText;
use crate::metrics;

pub(crate) struct PageFiles {
    config: FileConfig,
    /// The JSONPath of the records in a page.
    records: String,
}

impl PageFiles {
    pub fn new(config: FileConfig, records: String) -> PageFiles {
        PageFiles { config, records }
    }
}

impl Source for PageFiles {
    fn start(self: Box<Self>, intake: Intake) -> JoinHandle<Result<u64, RuntimeError>> {
        tokio::task::spawn_blocking(move || {
            let info = intake.info.clone();
            let mut n: u64 = 0;
            for path in &self.config.paths {
                let name = crate::modules::display_path(path);
                let bytes = std::fs::read(path).map_err(|e| RuntimeError::Input(format!("cannot read {name}: {e}")))?;
                let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                let page = serde_json::from_slice::<serde_json::Value>(text)
                    .map_err(|e| format!("{name} is not a JSON page: {e}"))
                    .and_then(|body| select(&body, Some(&self.records)));
                let items = match page {
                    Ok(items) => items,
                    Err(message) => {
                        // The page as a whole is held: nothing in it could be read.
                        n += 1;
                        metrics::add("records_in", &info.name, "", 1);
                        let raw = serde_json::Value::String(String::from_utf8_lossy(text).into_owned());
                        let stop = Stop { code: "malformed_input".into(), message };
                        let msg = info.unreadable(n, Arc::from(name.as_str()), raw, stop, &intake.stage, intake.line);
                        if intake.ev.blocking_send(msg).is_err() {
                            return Ok(n);
                        }
                        continue;
                    }
                };
                for (i, raw) in items.into_iter().enumerate() {
                    if intake.stopped() {
                        return Ok(n);
                    }
                    n += 1;
                    metrics::add("records_in", &info.name, "", 1);
                    let at: Arc<str> = Arc::from(format!("{name}#{}", i + 1));
                    let decoded = catch_unwind(AssertUnwindSafe(|| {
                        crate::value::decode_json_value_planned(&raw, &intake.ty, &info.decode)
                    }));
                    let msg = match decoded {
                        Ok(Ok(value)) => {
                            let text = Some(RawText::from(raw.to_string().as_bytes()));
                            let unit = Unit::entering(n, at, value, text, intake.slots, None);
                            if intake.tx.blocking_send(vec![unit]).is_err() {
                                return Ok(n);
                            }
                            continue;
                        }
                        Ok(Err(error)) => info.bad_input(n, at, raw, &error, &intake.stage, intake.line),
                        Err(panic) => {
                            let stop = internal_error(&intake.stage, panic.as_ref());
                            info.unreadable(n, at, raw, stop, &intake.stage, intake.line)
                        }
                    };
                    if intake.ev.blocking_send(msg).is_err() {
                        return Ok(n);
                    }
                }
            }
            Ok(n)
        })
    }
}
