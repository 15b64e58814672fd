//! Whether the intake can store what it acknowledges. A request is answered 2xx only
//! once it is on disk; when the state database refuses writes (disk full, a file
//! gone) or its file was removed or replaced while the server runs (writes would go
//! to an unlinked file and vanish when the process ends), requests are answered 503 so
//! their senders retry, `/healthz` says why, and the first failure is logged and every
//! one counted. The intake recovers by itself: the next write that succeeds with the
//! file in place makes it healthy again.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The state file as it was opened: its path and the file (device and inode) it named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl StateFile {
    /// The file `path` names now; call it right after opening the store.
    pub fn of(path: &Path) -> std::io::Result<StateFile> {
        let m = std::fs::metadata(path)?;
        Ok(StateFile { path: path.to_path_buf(), dev: m.dev(), ino: m.ino() })
    }

    /// Whether the path still names the file the store has open.
    pub fn check(&self) -> Result<(), String> {
        match std::fs::metadata(&self.path) {
            Ok(m) if m.dev() == self.dev && m.ino() == self.ino => Ok(()),
            Ok(_) => Err(format!(
                "the state database {} was replaced while the server runs; restart flowgate on the right file",
                self.path.display()
            )),
            Err(e) => Err(format!(
                "the state database {} is gone while the server runs ({e}); nothing can be stored in it",
                self.path.display()
            )),
        }
    }
}

/// The intake's health, shared by the writer, the handlers and `/healthz`.
#[derive(Clone, Debug, Default)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    file: Option<StateFile>,
    /// Why the last write failed, until one succeeds.
    failure: Mutex<Option<String>>,
}

impl Health {
    /// The health of an intake writing to `file` (`None` for a store with no file).
    pub fn new(file: Option<StateFile>) -> Health {
        Health { inner: Arc::new(Inner { file, failure: Mutex::new(None) }) }
    }

    /// `Err` with the reason while requests cannot be stored.
    pub fn check(&self) -> Result<(), String> {
        if let Some(file) = &self.inner.file {
            if let Err(why) = file.check() {
                self.failed_quietly(&why);
                return Err(why);
            }
        }
        match &*self.lock() {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// Whether the state file is still the one opened (writes may go ahead).
    pub(super) fn file_in_place(&self) -> Result<(), String> {
        self.inner.file.as_ref().map_or(Ok(()), StateFile::check)
    }

    /// A write for `flow` failed: counted, and logged when it starts a failure.
    pub(super) fn failed(&self, flow: &str, why: &str) {
        crate::metrics::add("webhook_store_errors", flow, "", 1);
        self.failed_quietly(why);
    }

    fn failed_quietly(&self, why: &str) {
        let mut failure = self.lock();
        if failure.as_deref() != Some(why) {
            tracing::error!(error = %why, "webhook requests cannot be stored; they are answered 503 until they can");
            *failure = Some(why.to_string());
        }
    }

    /// A write succeeded: the intake is healthy again.
    pub(super) fn stored(&self) {
        let mut failure = self.lock();
        if failure.take().is_some() {
            tracing::info!("webhook requests are stored again");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.inner.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
