//! Builtin functions: one registry, one file per family.
//!
//! Each builtin is declared once with its checker signature, written as text
//! (`"sum(xs: [T], f: (T) -> N) -> N"`) so the registry reads like the docs. Type
//! variables: `T`, `U` any type; `N` a number (Int, Decimal, Float); `C` comparable;
//! `K` a key (a scalar). Several entries with one name are overloads, tried in order.

mod collections;
mod dates;
mod misc;
mod numbers;
mod signature;
mod strings;

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::check::types::Type;

pub use signature::parse_signature;

/// What a type variable may stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    Any,
    Numeric,
    Comparable,
    Key,
}

impl Constraint {
    pub fn of_var(letter: u8) -> Constraint {
        match letter as char {
            'N' => Constraint::Numeric,
            'C' => Constraint::Comparable,
            'K' => Constraint::Key,
            _ => Constraint::Any,
        }
    }

    pub fn admits(self, t: &Type) -> bool {
        match self {
            Constraint::Any => true,
            Constraint::Numeric => t.is_numeric() || t.is_error() || *t == Type::Never,
            Constraint::Comparable => {
                t.is_numeric()
                    || matches!(
                        t,
                        Type::String
                            | Type::Date
                            | Type::DateTime
                            | Type::Duration
                            | Type::Union(_)
                            | Type::Error
                            | Type::Never
                    )
            }
            Constraint::Key => t.is_scalar() || t.is_error() || *t == Type::Never,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Constraint::Any => "any value",
            Constraint::Numeric => "a number (Int, Decimal or Float)",
            Constraint::Comparable => "a number, string, date, time or duration",
            Constraint::Key => "a string, number, boolean, date or time",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ParamSig {
    pub name: String,
    pub ty: Type,
    /// May be left out (trailing parameters only).
    pub optional: bool,
}

/// How the result type depends on literal arguments, beyond the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refine {
    None,
    /// The result is `Decimal(n)` where `n` is the literal Int argument at this index.
    ScaleFromArg(usize),
}

/// One builtin overload: its checker signature and its documentation.
#[derive(Clone, Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub signature: &'static str,
    pub params: Vec<ParamSig>,
    pub ret: Type,
    pub refine: Refine,
    pub doc: &'static str,
    /// `(call, result)` pairs shown in docs/builtins.md.
    pub examples: &'static [(&'static str, &'static str)],
}

/// The declaration form the family files use.
pub(crate) struct Decl {
    pub signature: &'static str,
    pub refine: Refine,
    pub doc: &'static str,
    pub examples: &'static [(&'static str, &'static str)],
}

pub(crate) const fn decl(
    signature: &'static str,
    doc: &'static str,
    examples: &'static [(&'static str, &'static str)],
) -> Decl {
    Decl { signature, refine: Refine::None, doc, examples }
}

/// A family's declarations.
type Family = fn() -> Vec<Decl>;

/// The family a builtin belongs to, for grouping in docs.
pub(crate) const FAMILIES: &[(&str, Family)] = &[
    ("strings", strings::decls),
    ("numbers", numbers::decls),
    ("collections", collections::decls),
    ("dates", dates::decls),
    ("data, hashing and environment", misc::decls),
];

static REGISTRY: LazyLock<HashMap<&'static str, Vec<Builtin>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<Builtin>> = HashMap::new();
    for (_, decls) in FAMILIES {
        for d in decls() {
            let b = build(d);
            map.entry(b.name).or_default().push(b);
        }
    }
    map
});

fn build(d: Decl) -> Builtin {
    let (name, params, ret) =
        parse_signature(d.signature).unwrap_or_else(|e| panic!("builtin signature `{}`: {e}", d.signature));
    Builtin { name, signature: d.signature, params, ret, refine: d.refine, doc: d.doc, examples: d.examples }
}

/// The overloads of a builtin, if it exists.
pub fn lookup(name: &str) -> Option<&'static [Builtin]> {
    REGISTRY.get(name).map(Vec::as_slice)
}

/// Every builtin name, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.keys().copied()
}

/// Every builtin in family order, for docs.
pub fn all() -> Vec<(&'static str, Vec<Builtin>)> {
    FAMILIES.iter().map(|(fam, decls)| (*fam, decls().into_iter().map(build).collect())).collect()
}

/// Named constants every expression can use.
pub fn constant(name: &str) -> Option<Type> {
    match name {
        "half_even" | "half_up" | "half_down" | "down" | "up" | "floor" | "ceiling" => Some(Type::RoundingMode),
        "timeout" | "connection_error" => Some(Type::FailureClass),
        _ => None,
    }
}

pub const CONSTANT_NAMES: &[&str] =
    &["half_even", "half_up", "half_down", "down", "up", "floor", "ceiling", "timeout", "connection_error"];

#[cfg(test)]
mod tests {
    #[test]
    fn every_signature_parses() {
        for (_, list) in super::all() {
            assert!(!list.is_empty());
        }
        assert!(super::lookup("round").is_some());
    }
}
