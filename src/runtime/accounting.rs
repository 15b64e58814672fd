//! Which inputs have reached their end. An input ends when every record made of it did
//! (a split's parts, a batch's members); only then may its inbox request be marked done
//! or the cursor move past it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::unit::Unit;

/// Which inputs have reached their end: a record split in parts ends with its last part.
#[derive(Default)]
pub(crate) struct Ends {
    remaining: HashMap<u64, u64>,
    /// Inbox requests whose records all ended, to mark done.
    pub inbox_done: Vec<i64>,
    /// Inputs that ended, beyond the contiguous prefix.
    ended_seqs: BTreeSet<u64>,
    /// The first input not yet known to have ended.
    next_seq: u64,
    /// Cursor values of inputs not yet in the ended prefix.
    cursors: HashMap<u64, Arc<str>>,
    /// The newest cursor whose input, and every input before it, ended: to commit.
    pub commit: Option<Arc<str>>,
}

impl Ends {
    pub fn split(&mut self, seq: u64, n: u64) {
        *self.remaining.entry(seq).or_insert(1) += n;
    }

    pub fn ended(&mut self, unit: &Unit) {
        if !unit.members.is_empty() {
            for m in &unit.members {
                self.ended(m);
            }
            return;
        }
        if let Some(c) = &unit.cursor {
            self.cursors.entry(unit.seq.0).or_insert_with(|| c.clone());
        }
        let left = self.remaining.entry(unit.seq.0).or_insert(1);
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.remaining.remove(&unit.seq.0);
            if let Some(id) = unit.source_ref.strip_prefix("inbox#").and_then(|n| n.parse().ok()) {
                self.inbox_done.push(id);
            }
            self.advance(unit.seq.0);
        }
    }

    /// Moves the ended prefix on; the last cursor in it becomes the one to commit.
    fn advance(&mut self, seq: u64) {
        if self.next_seq == 0 {
            self.next_seq = 1;
        }
        self.ended_seqs.insert(seq);
        while self.ended_seqs.remove(&self.next_seq) {
            if let Some(c) = self.cursors.remove(&self.next_seq) {
                self.commit = Some(c);
            }
            self.next_seq += 1;
        }
    }
}
