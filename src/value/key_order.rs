//! The order in which senders list each record type's keys, learned while decoding.
//!
//! A platform lists an object's keys the same way every time (Shopify alphabetically,
//! after `id`), which is rarely the order a schema declares them in. Remembering, for each
//! declared field, which field came next last time lets the decoder find nearly every key
//! at its first guess, with one comparison instead of a hash and a probe. A guess is only
//! ever a guess: it is taken when the key's name matches, so a wrong or stale one costs a
//! lookup, never a wrong slot.

use std::cell::Cell;
use std::sync::{Arc, Weak};

use rustc_hash::FxHashMap;

use crate::types::RecordType;

/// Learned orders of more record types than this are forgotten all at once: a process
/// decodes the types of a few programs, not thousands.
const MAX_TYPES: usize = 4096;

/// What follows each field, per record type. Kept per thread between documents.
#[derive(Default)]
pub(super) struct KeyOrder {
    /// The table of a record type, by the address of its layout.
    index: FxHashMap<usize, usize>,
    tables: Vec<Learned>,
}

struct Learned {
    /// Whose table this is: an address is only trusted while its layout is alive.
    layout: Weak<RecordType>,
    /// `next[0]`: the field a record starts with; `next[i + 1]`: the field after field
    /// `i`. `u32::MAX` until seen.
    next: Vec<u32>,
    /// Per field: whether its name is written in JSON exactly as its bytes are (nothing
    /// to escape), so that a key can be matched against it in place.
    plain: Vec<bool>,
}

thread_local! {
    static LEARNED: Cell<KeyOrder> = Cell::new(KeyOrder::default());
}

impl KeyOrder {
    /// This thread's learned orders, to decode with and then `keep`.
    pub(super) fn take() -> KeyOrder {
        LEARNED.take()
    }

    /// Keeps what was learned for the next document decoded on this thread.
    pub(super) fn keep(self) {
        LEARNED.set(self);
    }

    /// The table of `layout`, made (or remade, if its address now belongs to another
    /// layout) when needed.
    pub(super) fn table(&mut self, layout: &Arc<RecordType>) -> usize {
        let addr = Arc::as_ptr(layout) as usize;
        let fresh = || Learned {
            layout: Arc::downgrade(layout),
            next: vec![u32::MAX; layout.fields.len() + 1],
            plain: layout.fields.keys().map(|k| written_as_is(k)).collect(),
        };
        if let Some(&t) = self.index.get(&addr) {
            let learned = &mut self.tables[t];
            // A live weak reference at the same address is the same layout.
            if learned.layout.strong_count() == 0 || learned.layout.as_ptr() != Arc::as_ptr(layout) {
                *learned = fresh();
            }
            return t;
        }
        if self.tables.len() >= MAX_TYPES {
            *self = KeyOrder::default();
        }
        self.index.insert(addr, self.tables.len());
        self.tables.push(fresh());
        self.tables.len() - 1
    }

    /// The field expected after field `after` (`None`: at the record's start), if any
    /// was seen there.
    pub(super) fn guess(&self, table: usize, after: Option<usize>) -> Option<usize> {
        let at = after.map_or(0, |i| i + 1);
        let next = *self.tables.get(table)?.next.get(at)?;
        (next != u32::MAX).then_some(next as usize)
    }

    /// The guess for the key after field `after`, when its name can be matched in place.
    pub(super) fn plain_guess(&self, table: usize, after: Option<usize>) -> Option<usize> {
        let g = self.guess(table, after)?;
        self.tables.get(table)?.plain.get(g).copied().unwrap_or(false).then_some(g)
    }

    /// Field `field` came after field `after`.
    pub(super) fn learn(&mut self, table: usize, after: Option<usize>, field: usize) {
        let at = after.map_or(0, |i| i + 1);
        // After the tables were forgotten (`MAX_TYPES`), an index held by an enclosing
        // record may name another type's table: harmless, a guess is always checked.
        if let Some(slot) = self.tables.get_mut(table).and_then(|t| t.next.get_mut(at)) {
            *slot = u32::try_from(field).unwrap_or(u32::MAX);
        }
    }
}

/// Whether `name` is written in a JSON string byte for byte: no quote, backslash or
/// control character to escape, and not the key the decoders refuse.
fn written_as_is(name: &str) -> bool {
    name != super::decode::NUMBER_TOKEN && !name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Fields, Type};

    fn layout(names: &[&str]) -> Arc<RecordType> {
        let fields: Fields = names.iter().map(|n| (n.to_string(), Type::String)).collect();
        Arc::new(RecordType { name: None, fields })
    }

    #[test]
    fn learns_what_follows_each_field() {
        let mut order = KeyOrder::default();
        let l = layout(&["a", "b", "c"]);
        let t = order.table(&l);
        assert_eq!(order.guess(t, None), None);
        order.learn(t, None, 2);
        order.learn(t, Some(2), 0);
        assert_eq!((order.guess(t, None), order.guess(t, Some(2))), (Some(2), Some(0)));
        assert_eq!(order.table(&l), t, "the same layout keeps its table");
    }

    #[test]
    fn decoding_teaches_the_order_keys_arrive_in() {
        let l = layout(&["a", "b", "c"]);
        let ty = Type::Record(l.clone());
        let doc = br#"{"c": "3", "a": "1", "b": "2"}"#;
        let v = super::super::scan::decode(doc, &ty, &super::super::Plan::Build).expect("the fast path");
        assert_eq!(v.field("a").map(|a| a.to_string()), Some("1".into()));
        let mut order = KeyOrder::take();
        let t = order.table(&l);
        // Starts with `c` (2), then `a` (0), then `b` (1).
        assert_eq!(
            (order.guess(t, None), order.guess(t, Some(2)), order.guess(t, Some(0))),
            (Some(2), Some(0), Some(1))
        );
        order.keep();
    }

    #[test]
    fn a_layout_at_a_dead_layouts_address_starts_afresh() {
        let mut order = KeyOrder::default();
        let old = layout(&["a", "b"]);
        let t = order.table(&old);
        order.learn(t, None, 1);
        let addr = Arc::as_ptr(&old) as usize;
        drop(old);
        // Whatever now lives at that address, the old table is not trusted for it.
        let new = layout(&["x"]);
        order.index.insert(Arc::as_ptr(&new) as usize, order.index[&addr]);
        let t2 = order.table(&new);
        assert_eq!(order.guess(t2, None), None);
        assert_eq!(order.tables[t2].next.len(), 2);
    }
}
