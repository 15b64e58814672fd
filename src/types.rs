//! Types: what the checker knows of values, and what the decoders, the IR and the
//! runtime are driven by; their printing, joining and assignability. A module of its own
//! so that nothing past the front end needs to import the checker.
//!
//! Assignability is where the money and absence rules live: Decimal never meets Float
//! implicitly, a scaled Decimal target refuses an unrounded value, an optional value
//! never reaches a required slot, and a Secret never becomes a plain String.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

/// A record shape. Named records print by name; fields keep their declared order,
/// which is also their slot order in the IR.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordType {
    pub name: Option<String>,
    pub fields: Fields,
}

/// A record type's fields in declaration order. Looked up by name for every key of every
/// decoded object, so hashed with a fast (not DoS-resistant) hasher: the names are the
/// flow author's, not the sender's.
pub type Fields = IndexMap<String, Type, rustc_hash::FxBuildHasher>;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Int,
    /// `Decimal` (scale unknown) or `Decimal(n)` (at most n fractional digits).
    Decimal(Option<u32>),
    Float,
    Bool,
    Date,
    DateTime,
    Duration,
    /// Deliberately untyped JSON.
    Json,
    /// The type of the `null` literal.
    Null,
    /// The type of `hold`: fits anywhere, never produces a value.
    Never,
    /// A value from `secret()`: allowed in headers only.
    Secret,
    /// `10/s`
    Rate,
    /// `5xx`
    StatusClass,
    /// `timeout`, `connection_error`: failures a retry policy may name.
    FailureClass,
    /// `half_even`, `half_up`, ...
    RoundingMode,
    /// `exponential(1s, max: 2m)`
    Backoff,
    List(Box<Type>),
    Record(Arc<RecordType>),
    Optional(Box<Type>),
    /// `"paid" | "pending"`
    Union(Arc<[String]>),
    /// A lookup table: key and value types.
    Lookup(Box<Type>, Box<Type>),
    /// A function value (lambdas passed to builtins).
    Fn(Vec<Type>, Box<Type>),
    /// A type variable in a builtin signature, by its letter (`b'T'`).
    Var(u8),
    /// Anything that can go into a retry policy's `on` list.
    RetryOn,
    /// The type of something already reported as an error: unifies with everything.
    Error,
}

impl Type {
    pub fn optional(self) -> Type {
        match self {
            Type::Optional(_) | Type::Null | Type::Error | Type::Never => self,
            t => Type::Optional(Box::new(t)),
        }
    }

    pub fn list(self) -> Type {
        Type::List(Box::new(self))
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_) | Type::Null)
    }

    /// The type without its optionality.
    pub fn unwrap_optional(&self) -> Type {
        match self {
            Type::Optional(t) => (**t).clone(),
            Type::Null => Type::Never,
            t => t.clone(),
        }
    }

    /// The type without its optionality, borrowed (for hot paths that only look).
    pub fn strip_optional(&self) -> &Type {
        static NEVER: Type = Type::Never;
        match self {
            Type::Optional(t) => t,
            Type::Null => &NEVER,
            t => t,
        }
    }

    /// The record types a value of this type is, or holds in its lists and optionals
    /// (not those nested in the records' fields: they come with the record types).
    pub fn records_in(&self) -> Vec<&Arc<RecordType>> {
        match self {
            Type::Record(r) => vec![r],
            Type::List(t) | Type::Optional(t) => t.records_in(),
            _ => Vec::new(),
        }
    }

    /// Whether every record type a value of `self` carries is also one of `other`'s:
    /// a value of `self` used as an `other` keeps layouts `other` knows.
    pub fn same_records_as(&self, other: &Type) -> bool {
        let theirs = other.records_in();
        self.records_in().iter().all(|r| theirs.iter().any(|o| Arc::ptr_eq(o, r) || o == r))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal(_) | Type::Float)
    }

    /// Scalars can be interpolated into strings, compared and used as keys.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::String
                | Type::Int
                | Type::Decimal(_)
                | Type::Float
                | Type::Bool
                | Type::Date
                | Type::DateTime
                | Type::Duration
                | Type::Union(_)
        )
    }

    pub fn record_fields(&self) -> Option<&Fields> {
        match self {
            Type::Record(r) => Some(&r.fields),
            _ => None,
        }
    }

    /// Whether a Secret hides inside (a record or list holding one).
    pub fn contains_secret(&self) -> bool {
        match self {
            Type::Secret => true,
            Type::List(t) | Type::Optional(t) => t.contains_secret(),
            Type::Record(r) => r.fields.values().any(Type::contains_secret),
            _ => false,
        }
    }

    pub fn contains_var(&self) -> bool {
        match self {
            Type::Var(_) => true,
            Type::List(t) | Type::Optional(t) => t.contains_var(),
            Type::Lookup(k, v) => k.contains_var() || v.contains_var(),
            Type::Fn(ps, r) => ps.iter().any(Type::contains_var) || r.contains_var(),
            Type::Record(r) => r.fields.values().any(Type::contains_var),
            _ => false,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("String"),
            Type::Int => f.write_str("Int"),
            Type::Decimal(None) => f.write_str("Decimal"),
            Type::Decimal(Some(s)) => write!(f, "Decimal({s})"),
            Type::Float => f.write_str("Float"),
            Type::Bool => f.write_str("Bool"),
            Type::Date => f.write_str("Date"),
            Type::DateTime => f.write_str("DateTime"),
            Type::Duration => f.write_str("Duration"),
            Type::Json => f.write_str("Json"),
            Type::Null => f.write_str("null"),
            Type::Never => f.write_str("Never"),
            Type::Secret => f.write_str("Secret"),
            Type::Rate => f.write_str("Rate"),
            Type::StatusClass => f.write_str("StatusClass"),
            Type::FailureClass => f.write_str("FailureClass"),
            Type::RoundingMode => f.write_str("RoundingMode"),
            Type::Backoff => f.write_str("Backoff"),
            Type::RetryOn => f.write_str("Int | StatusClass | FailureClass"),
            Type::List(t) => write!(f, "[{t}]"),
            Type::Optional(t) => match **t {
                Type::Union(_) | Type::Fn(..) => write!(f, "({t})?"),
                _ => write!(f, "{t}?"),
            },
            Type::Record(r) => match &r.name {
                Some(n) => f.write_str(n),
                None => {
                    f.write_str("{ ")?;
                    for (i, (k, v)) in r.fields.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{k}: {v}")?;
                    }
                    f.write_str(" }")
                }
            },
            Type::Union(members) => {
                let parts: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
                f.write_str(&parts.join(" | "))
            }
            Type::Lookup(k, v) => write!(f, "lookup {k} -> {v}"),
            Type::Fn(ps, r) => {
                let parts: Vec<String> = ps.iter().map(ToString::to_string).collect();
                write!(f, "({}) -> {r}", parts.join(", "))
            }
            Type::Var(letter) => write!(f, "{}", *letter as char),
            Type::Error => f.write_str("?"),
        }
    }
}

/// Why a value of one type may not go where another is expected.
#[derive(Clone, Debug, PartialEq)]
pub enum Mismatch {
    /// Plain incompatibility.
    Types,
    /// `Decimal` and `Float` met.
    DecimalFloat,
    /// An unrounded or too finely scaled Decimal into `Decimal(n)`.
    Unrounded { found: Option<u32>, target: u32 },
    /// An optional value into a required slot.
    Optional,
    /// A Secret into something that is not a header.
    Secret,
    /// A record missing fields the target requires (names listed).
    MissingFields(Vec<String>),
}

/// Can a value of type `found` be used where `expected` is required?
pub fn assignable(found: &Type, expected: &Type) -> Result<(), Mismatch> {
    use Type::*;
    match (found, expected) {
        (Error, _) | (_, Error) | (Never, _) => Ok(()),
        (Secret, Secret) => Ok(()),
        (Secret, _) => Err(Mismatch::Secret),
        (Null, Optional(_)) | (Null, Json) => Ok(()),
        (Optional(f), Optional(e)) => assignable(f, e),
        (Optional(f), Json) => assignable(f, &Json),
        (f, Optional(e)) => assignable(f, e),
        (Optional(_) | Null, _) => Err(Mismatch::Optional),
        (f, Json) if f.contains_secret() => Err(Mismatch::Secret),
        (_, Json) => Ok(()),
        (Int, Decimal(_) | Float) => Ok(()),
        (Decimal(_), Decimal(None)) => Ok(()),
        (Decimal(None), Decimal(Some(t))) => Err(Mismatch::Unrounded { found: None, target: *t }),
        (Decimal(Some(s)), Decimal(Some(t))) if s > t => Err(Mismatch::Unrounded { found: Some(*s), target: *t }),
        (Decimal(_), Decimal(_)) => Ok(()),
        (Decimal(_), Float) | (Float, Decimal(_)) => Err(Mismatch::DecimalFloat),
        (Union(_), String) => Ok(()),
        (Union(a), Union(b)) if a.iter().all(|m| b.contains(m)) => Ok(()),
        (Int | StatusClass | FailureClass, RetryOn) => Ok(()),
        (List(f), List(e)) => assignable(f, e),
        (Record(f), Record(e)) => record_assignable(f, e),
        (Lookup(fk, fv), Lookup(ek, ev)) if fk == ek && fv == ev => Ok(()),
        (f, e) if f == e => Ok(()),
        _ => Err(Mismatch::Types),
    }
}

fn record_assignable(found: &RecordType, expected: &RecordType) -> Result<(), Mismatch> {
    if found == expected {
        return Ok(());
    }
    let mut missing = Vec::new();
    for (name, ety) in &expected.fields {
        match found.fields.get(name) {
            Some(fty) => assignable(fty, ety)?,
            None if ety.is_optional() => {}
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::MissingFields(missing))
    }
}

/// The smallest type both values fit in (branches of `if`, `match`, list elements).
pub fn join(a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    Some(match (a, b) {
        (Error, _) | (_, Error) => Error,
        (Never, t) | (t, Never) => t.clone(),
        (Null, Null) => Null,
        (Null, t) | (t, Null) => t.clone().optional(),
        (Optional(x), y) | (y, Optional(x)) => join(x, &y.unwrap_optional())?.optional(),
        (Int, Int) => Int,
        (Int, Decimal(s)) | (Decimal(s), Int) => Decimal(*s),
        (Decimal(x), Decimal(y)) => Decimal(match (x, y) {
            (Some(x), Some(y)) => Some(*x.max(y)),
            _ => None,
        }),
        (Int, Float) | (Float, Int) => Float,
        (Union(x), Union(y)) => {
            let mut m: Vec<std::string::String> = x.to_vec();
            for s in y.iter() {
                if !m.contains(s) {
                    m.push(s.clone());
                }
            }
            Union(m.into())
        }
        (Union(_), String) | (String, Union(_)) => String,
        (Secret, String) | (String, Secret) => Secret,
        (List(x), List(y)) => join(x, y)?.list(),
        (Record(x), Record(y)) if x == y => Record(x.clone()),
        (Record(x), Record(y)) if x.fields.keys().eq(y.fields.keys()) => {
            let mut fields = Fields::default();
            for ((k, xt), yt) in x.fields.iter().zip(y.fields.values()) {
                fields.insert(k.clone(), join(xt, yt)?);
            }
            Record(Arc::new(RecordType { name: None, fields }))
        }
        (x, y) if x == y => x.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rules() {
        assert_eq!(assignable(&Type::Decimal(None), &Type::Float), Err(Mismatch::DecimalFloat));
        assert_eq!(
            assignable(&Type::Decimal(None), &Type::Decimal(Some(2))),
            Err(Mismatch::Unrounded { found: None, target: 2 })
        );
        assert!(assignable(&Type::Decimal(Some(2)), &Type::Decimal(Some(2))).is_ok());
        assert!(assignable(&Type::Int, &Type::Decimal(Some(2))).is_ok());
    }

    #[test]
    fn absence_and_secrets() {
        assert_eq!(assignable(&Type::String.optional(), &Type::String), Err(Mismatch::Optional));
        assert!(assignable(&Type::String, &Type::String.optional()).is_ok());
        assert_eq!(assignable(&Type::Secret, &Type::String), Err(Mismatch::Secret));
        assert!(assignable(&Type::Never, &Type::Int).is_ok());
        let with_secret = Type::Record(Arc::new(RecordType {
            name: None,
            fields: [("t".to_string(), Type::Secret)].into_iter().collect(),
        }));
        assert_eq!(assignable(&with_secret, &Type::Json), Err(Mismatch::Secret));
    }

    #[test]
    fn joins() {
        assert_eq!(join(&Type::Null, &Type::Int), Some(Type::Int.optional()));
        assert_eq!(join(&Type::Decimal(Some(2)), &Type::Int), Some(Type::Decimal(Some(2))));
        assert_eq!(join(&Type::Decimal(None), &Type::Float), None);
    }
}
