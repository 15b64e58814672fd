//! Local names and narrowing: which bindings are visible and which paths are known present.
//!
//! Narrowing is by path (`record.shipping_address`, `l.sku`): a test such as
//! `x != null` makes `x` non-optional where the test is known true, i.e. in the
//! `then` branch, on the right of `and`, and in every stage after a `validate` rule,
//! `filter` or `hold when` that established it.

use crate::source::Span;

use super::typed::LocalId;
use crate::types::Type;

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub id: LocalId,
    pub ty: Type,
    pub span: Span,
    pub used: bool,
    /// `let` bindings are reported when unused; parameters of lambdas are not.
    pub warn_unused: bool,
}

#[derive(Debug, Default)]
struct Frame {
    locals: Vec<Local>,
    present: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Scope {
    frames: Vec<Frame>,
    next_id: LocalId,
}

impl Scope {
    pub fn push(&mut self) {
        self.frames.push(Frame::default());
    }

    /// Pops a frame and returns its locals (for unused-binding warnings).
    pub fn pop(&mut self) -> Vec<Local> {
        self.frames.pop().map(|f| f.locals).unwrap_or_default()
    }

    pub fn reset_ids(&mut self) {
        self.next_id = 0;
    }

    pub fn local_count(&self) -> LocalId {
        self.next_id
    }

    pub fn bind(&mut self, name: &str, ty: Type, span: Span, warn_unused: bool) -> LocalId {
        let id = self.next_id;
        self.next_id += 1;
        self.forget(name);
        if let Some(frame) = self.frames.last_mut() {
            frame.locals.push(Local { name: name.to_string(), id, ty, span, used: false, warn_unused });
        }
        id
    }

    /// The innermost binding of `name`, marked used.
    pub fn use_local(&mut self, name: &str) -> Option<&Local> {
        let local = self.frames.iter_mut().rev().flat_map(|f| f.locals.iter_mut().rev()).find(|l| l.name == name)?;
        local.used = true;
        Some(local)
    }

    pub fn names(&self) -> Vec<String> {
        self.frames.iter().flat_map(|f| f.locals.iter().map(|l| l.name.clone())).collect()
    }

    /// Records that `path` is known present in the innermost frame.
    pub fn assume_present(&mut self, path: String) {
        if let Some(frame) = self.frames.last_mut() {
            frame.present.push(path);
        }
    }

    pub fn is_present(&self, path: &str) -> bool {
        self.frames.iter().any(|f| f.present.iter().any(|p| p == path))
    }

    /// Drops what was known about `root` and paths below it (it was rebound).
    pub fn forget(&mut self, root: &str) {
        let dotted = format!("{root}.");
        for f in &mut self.frames {
            f.present.retain(|p| p != root && !p.starts_with(&dotted));
        }
    }
}
