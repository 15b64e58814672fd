//! One owner at a time: the lease a run, a replay or a webhook server takes on its state
//! before it reads or sends anything. Two processes sending from one state would each
//! believe the other's records unsent, and an ERP that ignores idempotency keys would
//! book them twice.
//!
//! The SQLite store's lease is an operating-system lock on a file beside the database
//! (`state.db.lock`). The kernel releases it when its process ends in any way, a
//! `kill -9` included, so a lease is never left behind by a crash and the next start
//! takes it over at once; the file's text says who holds it, for the message a second
//! process shows. A store shared by several workers can grant leases per flow or per key
//! range behind the same method; this one leases the whole file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::StateError;

/// Who holds a lease, as a process that wants it is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    pub pid: u32,
    pub host: String,
    pub started_at: DateTime<Utc>,
    /// What holds it: `flowgate run orders.flow`.
    pub command: String,
}

impl LeaseHolder {
    /// This process, doing `command`.
    pub fn this_process(command: &str) -> LeaseHolder {
        LeaseHolder { pid: std::process::id(), host: host_name(), started_at: Utc::now(), command: command.to_string() }
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` (pid {} on {}, since {})",
            self.command,
            self.pid,
            self.host,
            self.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

/// The machine's name, for telling an operator where the other process runs.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".to_string())
}

/// A lease held: exclusive while it lives, released when dropped.
pub struct Lease {
    _held: Held,
}

enum Held {
    /// The locked file; closing it releases the lock.
    File(#[allow(dead_code)] File),
    /// An in-process flag, for stores that live in one process.
    Flag(Arc<AtomicBool>),
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Flag(taken) = self {
            taken.store(false, Ordering::Release);
        }
    }
}

impl Lease {
    /// Takes the lease of an in-process store, or says it is taken.
    pub(crate) fn of_flag(taken: &Arc<AtomicBool>, path: &Path) -> Result<Lease, StateError> {
        if taken.swap(true, Ordering::AcqRel) {
            let holder = LeaseHolder::this_process("another user of this in-memory state");
            return Err(StateError::Leased { path: path.to_path_buf(), holder: Box::new(holder) });
        }
        Ok(Lease { _held: Held::Flag(taken.clone()) })
    }

    /// Takes the lock on `db`'s lock file, writes who holds it, or says who does.
    pub(crate) fn of_file(db: &Path, holder: &LeaseHolder) -> Result<Lease, StateError> {
        let path = lock_path(db);
        let io = |e: std::io::Error| StateError::Db { path: path.clone(), source: Box::new(e) };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str(&text).unwrap_or_else(|_| LeaseHolder {
                    pid: 0,
                    host: "an unknown host".into(),
                    started_at: Utc::now(),
                    command: "another flowgate process".into(),
                });
                return Err(StateError::Leased { path: db.to_path_buf(), holder: Box::new(holder) });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let text = serde_json::to_string(holder).unwrap_or_default();
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Lease { _held: Held::File(file) })
    }
}

/// `state.db.lock` beside `state.db`.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lease_names_the_first_holder_until_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let first = Lease::of_file(&db, &LeaseHolder::this_process("flowgate run a.flow")).unwrap();
        let Err(StateError::Leased { holder, .. }) = Lease::of_file(&db, &LeaseHolder::this_process("flowgate run b"))
        else {
            panic!("a second lease was granted")
        };
        assert_eq!((holder.pid, holder.command.as_str()), (std::process::id(), "flowgate run a.flow"));
        drop(first);
        Lease::of_file(&db, &LeaseHolder::this_process("flowgate run b")).expect("released with its holder");
    }

    #[test]
    fn an_in_process_lease_is_exclusive_too() {
        let taken = Arc::new(AtomicBool::new(false));
        let first = Lease::of_flag(&taken, Path::new("memory")).unwrap();
        assert!(Lease::of_flag(&taken, Path::new("memory")).is_err());
        drop(first);
        assert!(Lease::of_flag(&taken, Path::new("memory")).is_ok());
    }
}
