//! `MemoryStore`: the state store kept in memory, for dry runs and tests. It behaves as
//! the SQLite store does (ids, ordering, errors) and forgets everything when dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{Hold, HoldCount, HoldFilter, HoldId, HoldStatus, InboxItem, NewHold, StateError, StateStore, StateWrite};

/// The name a `MemoryStore` gives itself in error messages.
const NAME: &str = ":memory:";

/// A state store that lives as long as the value does.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    leased: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// A stored webhook request: flow, dedupe key, done, the request, when it was received.
type Request = (String, Option<String>, bool, InboxItem, DateTime<Utc>);

#[derive(Debug, Default)]
struct Inner {
    /// In id order; ids start at 1 and are never reused.
    holds: Vec<Hold>,
    dedupe: HashMap<(String, String), Option<DateTime<Utc>>>,
    /// Remembered values: flow, state name and key to JSON text.
    states: HashMap<(String, String, String), String>,
    cursors: HashMap<(String, String), String>,
    deliveries: HashMap<(String, String, String), (u16, DateTime<Utc>)>,
    /// Flow, dedupe key, done, and the request.
    /// (Ids are never reused, even after a purge deleted the newest.)
    inbox: Vec<Request>,
    /// The id of the newest inbox request ever stored.
    inbox_last: i64,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A poisoned lock means a panic elsewhere mid-call; every call below changes the
    /// data in one step after its checks, so what is there is still whole.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn path() -> PathBuf {
    PathBuf::from(NAME)
}

impl Inner {
    /// The held hold `id`, or why it cannot change.
    fn held_mut(&mut self, id: HoldId) -> Result<&mut Hold, StateError> {
        let hold = self.holds.iter_mut().find(|h| h.id == id).ok_or(StateError::NoSuchHold { path: path(), id })?;
        if hold.status != HoldStatus::Held {
            return Err(StateError::NotHeld { path: path(), id, status: hold.status });
        }
        Ok(hold)
    }
}

impl StateStore for MemoryStore {
    fn lease(&self, _: &super::LeaseHolder) -> Result<super::Lease, StateError> {
        super::Lease::of_flag(&self.leased, &path())
    }

    fn purge(&self, before: DateTime<Utc>) -> Result<super::Purged, StateError> {
        let mut inner = self.lock();
        let mut purged = super::Purged::default();
        let ended = |h: &Hold| h.status != HoldStatus::Held && h.updated_at < before && h.record.as_str() != "null";
        for h in inner.holds.iter_mut().filter(|h| ended(h)) {
            h.record = super::JsonText::null();
            h.stage_input = super::JsonText::null();
            h.message = super::PURGED.to_string();
            purged.holds += 1;
        }
        let before_inbox = inner.inbox.len();
        inner.inbox.retain(|(_, _, done, _, received)| !(*done && *received < before));
        purged.inbox = (before_inbox - inner.inbox.len()) as u64;
        let before_log = inner.deliveries.len();
        inner.deliveries.retain(|_, (_, at)| *at >= before);
        purged.deliveries = (before_log - inner.deliveries.len()) as u64;
        Ok(purged)
    }

    fn erase(&self, key: &str, now: DateTime<Utc>) -> Result<super::Erased, StateError> {
        let mut inner = self.lock();
        let mut erased = super::Erased::default();
        let lower = key.to_lowercase();
        for h in inner.holds.iter_mut().filter(|h| super::retention::mentions(h, key)) {
            if !super::retention::about(h, key) {
                // Another person's record held with theirs: it stays held, to be delivered.
                if h.stage_input.as_str().to_lowercase().contains(&lower) {
                    h.stage_input = super::JsonText::null();
                }
                if h.message.to_lowercase().contains(&lower) {
                    h.message = super::ERASED.to_string();
                }
                h.updated_at = now;
                erased.holds += 1;
                continue;
            }
            h.record = super::JsonText::null();
            h.stage_input = super::JsonText::null();
            h.message = super::ERASED.to_string();
            h.blocking_key = None;
            h.updated_at = now;
            if h.status == HoldStatus::Held {
                h.status = HoldStatus::Discarded;
                h.outcome = Some(super::ERASED.to_string());
            }
            erased.holds += 1;
        }
        for (_, _, done, item, _) in inner.inbox.iter_mut() {
            if String::from_utf8_lossy(&item.body).to_lowercase().contains(&lower) {
                item.body.clear();
                item.headers = serde_json::json!({});
                *done = true;
                erased.inbox += 1;
            }
        }
        let keys = inner.dedupe.len() + inner.deliveries.len() + inner.states.len();
        inner.dedupe.retain(|(_, k), _| !k.to_lowercase().contains(&lower));
        inner.deliveries.retain(|(_, _, k), _| !k.to_lowercase().contains(&lower));
        inner.states.retain(|(_, _, k), v| !k.to_lowercase().contains(&lower) && !v.to_lowercase().contains(&lower));
        erased.keys = (keys - inner.dedupe.len() - inner.deliveries.len() - inner.states.len()) as u64;
        Ok(erased)
    }

    fn has_open_holds(&self, flow: &str) -> Result<bool, StateError> {
        Ok(self.lock().holds.iter().any(|h| h.flow == flow && h.status == HoldStatus::Held))
    }

    fn end_holds(&self, flow: &str, ended: &[(String, String)], now: DateTime<Utc>) -> Result<u64, StateError> {
        let mut inner = self.lock();
        let mut n = 0;
        for h in inner.holds.iter_mut().filter(|h| h.flow == flow && h.status == HoldStatus::Held) {
            let id = super::record_identity(h.record.as_str());
            if let Some((_, outcome)) = ended.iter().find(|(e, _)| *e == id) {
                h.status = HoldStatus::Replayed;
                h.outcome = Some(outcome.clone());
                h.updated_at = now;
                n += 1;
            }
        }
        Ok(n)
    }

    fn add_holds(&self, holds: Vec<NewHold>) -> Result<Vec<HoldId>, StateError> {
        let mut inner = self.lock();
        let mut ids = Vec::with_capacity(holds.len());
        for h in holds {
            // A record already held (same flow, same place) is not held twice.
            let same_place = |o: &Hold| h.source_ref.is_some() && o.source_ref == h.source_ref;
            let same_record =
                |o: &Hold| super::identity::names_a_record(h.record.as_str()) && o.record.as_str() == h.record.as_str();
            let open = inner
                .holds
                .iter()
                .find(|o| o.flow == h.flow && o.status == HoldStatus::Held && (same_place(o) || same_record(o)))
                .map(|o| o.id);
            let id = match open {
                Some(id) => id,
                None => {
                    let id = inner.holds.last().map_or(1, |h| h.id + 1);
                    inner.holds.push(Hold::stored(id, h));
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    fn inbox_add(
        &self,
        flow: &str,
        dedupe_key: Option<&str>,
        headers: &serde_json::Value,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        let mut inner = self.lock();
        if let Some(k) = dedupe_key {
            if inner.inbox.iter().any(|(f, key, ..)| f == flow && key.as_deref() == Some(k)) {
                return Ok(false);
            }
        }
        inner.inbox_last += 1;
        let id = inner.inbox_last;
        inner.inbox.push((
            flow.to_string(),
            dedupe_key.map(str::to_string),
            false,
            InboxItem { id, headers: headers.clone(), body: body.to_vec() },
            now,
        ));
        Ok(true)
    }

    fn inbox_pending(&self, flow: &str, after_id: i64, limit: usize) -> Result<Vec<InboxItem>, StateError> {
        Ok(self
            .lock()
            .inbox
            .iter()
            .filter(|(f, _, done, item, _)| f == flow && !done && item.id > after_id)
            .take(limit)
            .map(|(_, _, _, item, _)| item.clone())
            .collect())
    }

    fn inbox_done(&self, flow: &str, ids: &[i64]) -> Result<(), StateError> {
        for entry in self.lock().inbox.iter_mut().filter(|(f, _, _, item, _)| f == flow && ids.contains(&item.id)) {
            entry.2 = true;
        }
        Ok(())
    }

    fn hold(&self, id: HoldId) -> Result<Option<Hold>, StateError> {
        Ok(self.lock().holds.iter().find(|h| h.id == id).cloned())
    }

    fn holds(&self, filter: &HoldFilter) -> Result<Vec<Hold>, StateError> {
        Ok(self.lock().holds.iter().filter(|h| filter.matches(h)).cloned().collect())
    }

    fn hold_summary(&self, filter: &HoldFilter) -> Result<Vec<HoldCount>, StateError> {
        let inner = self.lock();
        let mut groups: BTreeMap<(&str, &str, HoldStatus), HoldCount> = BTreeMap::new();
        for h in inner.holds.iter().filter(|h| filter.matches(h)) {
            groups
                .entry((&h.flow, &h.reason, h.status))
                .and_modify(|c| {
                    c.count += 1;
                    c.oldest = c.oldest.min(h.created_at);
                    c.newest = c.newest.max(h.created_at);
                })
                .or_insert_with(|| HoldCount {
                    flow: h.flow.clone(),
                    reason: h.reason.clone(),
                    status: h.status,
                    count: 1,
                    oldest: h.created_at,
                    newest: h.created_at,
                });
        }
        Ok(groups.into_values().collect())
    }

    fn mark_replayed(&self, id: HoldId, outcome: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let mut inner = self.lock();
        let hold = inner.held_mut(id)?;
        hold.status = HoldStatus::Replayed;
        hold.outcome = Some(outcome.to_string());
        hold.updated_at = now;
        Ok(())
    }

    fn mark_discarded(&self, id: HoldId, why: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let mut inner = self.lock();
        let hold = inner.held_mut(id)?;
        hold.status = HoldStatus::Discarded;
        hold.outcome = Some(why.to_string());
        hold.updated_at = now;
        Ok(())
    }

    fn record_attempt(&self, id: HoldId, message: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let mut inner = self.lock();
        let hold = inner.held_mut(id)?;
        hold.attempts = hold.attempts.saturating_add(1);
        hold.message = message.to_string();
        hold.updated_at = now;
        Ok(())
    }

    fn dedupe_seen(&self, flow: &str, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let inner = self.lock();
        Ok(match inner.dedupe.get(&(flow.to_string(), key.to_string())) {
            Some(None) => true,
            Some(Some(expires)) => *expires > now,
            None => false,
        })
    }

    fn commit_ends(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let mut inner = self.lock();
        if !keys.is_empty() {
            inner.dedupe.retain(|(f, _), expires| f != flow || expires.is_none_or(|e| e > now));
        }
        for (key, expires) in keys {
            inner
                .dedupe
                .entry((flow.to_string(), key.clone()))
                .and_modify(|old| *old = later(*old, *expires))
                .or_insert(*expires);
        }
        for w in states {
            inner.states.insert((flow.to_string(), w.name.clone(), w.key.clone()), w.value.clone());
        }
        Ok(())
    }

    fn state_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError> {
        Ok(self.lock().states.get(&(flow.to_string(), name.to_string(), key.to_string())).cloned())
    }

    fn cursor(&self, flow: &str, source: &str) -> Result<Option<String>, StateError> {
        Ok(self.lock().cursors.get(&(flow.to_string(), source.to_string())).cloned())
    }

    fn set_cursor(&self, flow: &str, source: &str, value: &str) -> Result<(), StateError> {
        self.lock().cursors.insert((flow.to_string(), source.to_string()), value.to_string());
        Ok(())
    }

    fn delivered(&self, flow: &str, sink: &str, key: &str) -> Result<bool, StateError> {
        Ok(self.lock().deliveries.contains_key(&(flow.to_string(), sink.to_string(), key.to_string())))
    }

    fn record_deliveries(
        &self,
        flow: &str,
        sink: &str,
        deliveries: &[(String, u16, DateTime<Utc>)],
    ) -> Result<(), StateError> {
        let mut inner = self.lock();
        for (key, status, now) in deliveries {
            inner.deliveries.insert((flow.to_string(), sink.to_string(), key.clone()), (*status, *now));
        }
        Ok(())
    }
}

/// The later of two expiries, where `None` (never) is the latest.
fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}
