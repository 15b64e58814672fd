//! The typed program: what the checker proves, ready for lowering to IR.
//!
//! Names are resolved here (locals by id, functions and lookups by index, builtins by
//! overload), and every expression carries its type and span.

use std::path::PathBuf;
use std::sync::Arc;

use crate::builtins::Builtin;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{BinOp, Literal, UnOp};

use crate::types::Type;

/// A local variable: a `let`, a parameter, a lambda parameter or a match binding.
pub type LocalId = u32;

#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TStrPart {
    Text(String),
    Interp(TExpr),
}

#[derive(Clone, Debug)]
pub enum Callee {
    Builtin(&'static Builtin),
    /// A user function by its index in `Program::fns`.
    Fn(usize),
}

#[derive(Clone, Debug)]
pub enum TPattern {
    Wildcard,
    Null,
    Bool(bool),
    Str(String),
    Int(i64),
    Decimal(rust_decimal::Decimal),
    Bind(LocalId),
}

#[derive(Clone, Debug)]
pub struct TArm {
    pub patterns: Vec<TPattern>,
    pub body: TExpr,
}

#[derive(Clone, Debug)]
pub enum TExprKind {
    Lit(Literal),
    Str(Vec<TStrPart>),
    /// The record flowing through the current stage.
    CurrentRecord,
    Local(LocalId, String),
    /// A named constant (`half_even`, `timeout`) or `cursor`.
    Constant(String),
    /// `base.name`; with `optional`, an absent base gives an absent result.
    Field {
        base: Box<TExpr>,
        name: String,
        optional: bool,
    },
    /// `list[i]`
    Index {
        base: Box<TExpr>,
        index: Box<TExpr>,
        optional: bool,
    },
    /// `table[key]`: the lookup by its index in `Program::lookups`.
    LookupGet {
        lookup: usize,
        key: Box<TExpr>,
    },
    /// A call; `optional` short-circuits on an absent first argument (`x?.f()`).
    Call {
        callee: Callee,
        args: Vec<TExpr>,
        optional: bool,
    },
    Unary(UnOp, Box<TExpr>),
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    Lambda {
        params: Vec<LocalId>,
        body: Box<TExpr>,
    },
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        otherwise: Box<TExpr>,
    },
    Match {
        scrutinee: Box<TExpr>,
        arms: Vec<TArm>,
    },
    List(Vec<TExpr>),
    /// Fields in order; a spread copies the fields of a record value first.
    Record(Vec<TRecordEntry>),
    Hold(THold),
    /// An expression already reported as an error.
    Error,
}

#[derive(Clone, Debug)]
pub enum TRecordEntry {
    Field(String, TExpr),
    Spread(TExpr),
}

#[derive(Clone, Debug)]
pub struct THold {
    pub code: String,
    pub message: Option<Box<TExpr>>,
}

#[derive(Clone, Debug)]
pub struct TFn {
    pub name: String,
    pub module: String,
    pub params: Vec<(LocalId, String, Type)>,
    pub ret: Type,
    pub body: TExpr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TLookupData {
    Table(Vec<(TExpr, TExpr)>),
    File {
        format: String,
        path: PathBuf,
        key: String,
        value: Option<String>,
    },
    /// `http(url, select: ..., key: ..., value: ..., refresh: 1h)`: fetched when a run
    /// starts, and again every `refresh_ms` while it runs.
    Http(Box<THttpLookup>),
}

#[derive(Clone, Debug)]
pub struct THttpLookup {
    pub url: TExpr,
    pub headers: Option<TExpr>,
    pub select: Option<String>,
    pub key: String,
    pub value: Option<String>,
    pub refresh_ms: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct TLookup {
    pub name: String,
    pub module: String,
    pub key: Type,
    pub value: Type,
    pub data: TLookupData,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TOption {
    pub name: String,
    pub value: TExpr,
}

#[derive(Clone, Debug)]
pub struct TSource {
    pub name: String,
    pub kind: String,
    pub options: Vec<TOption>,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TSink {
    pub name: String,
    pub kind: String,
    pub options: Vec<TOption>,
    /// The record type the sink receives.
    pub input: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TRule {
    pub cond: TExpr,
    pub hold: THold,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TStageKind {
    Filter(TExpr),
    Dedupe { key: TExpr, within_ms: Option<u64> },
    Validate(Vec<TRule>),
    Let { local: LocalId, name: String, value: TExpr },
    Split(TExpr),
    Map(TExpr),
    HoldWhen { cond: TExpr, hold: THold },
    Batch { size: u64, max_wait_ms: Option<u64> },
    Group(Box<TGroup>),
    Enrich(Box<TEnrich>),
    State(Box<TState>),
    FilterRemember(TExpr),
}

/// `group by key within d { ... }`: the key each record is grouped by, the aggregates the
/// body reads (each folded over a group's records into its local) and the body, which
/// reads `key` and those locals only.
#[derive(Clone, Debug)]
pub struct TGroup {
    pub key: TExpr,
    pub within_ms: Option<u64>,
    pub key_local: LocalId,
    pub aggregates: Vec<TAggregate>,
    pub body: TExpr,
}

/// One aggregate of a group's body: `sum(record.qty)` folded into `local`.
#[derive(Clone, Debug)]
pub struct TAggregate {
    pub kind: Aggregate,
    /// Evaluated for each record of the group (none for `count()`).
    pub arg: Option<TExpr>,
    pub local: LocalId,
}

/// How an aggregate folds the values of a group's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Count,
    First,
    Last,
    List,
    Min,
    Max,
}

impl Aggregate {
    pub const NAMES: &'static [&'static str] = &["sum", "count", "first", "last", "list", "min", "max"];

    pub fn from_name(name: &str) -> Option<Aggregate> {
        Some(match name {
            "sum" => Aggregate::Sum,
            "count" => Aggregate::Count,
            "first" => Aggregate::First,
            "last" => Aggregate::Last,
            "list" => Aggregate::List,
            "min" => Aggregate::Min,
            "max" => Aggregate::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Aggregate::Sum => "sum",
            Aggregate::Count => "count",
            Aggregate::First => "first",
            Aggregate::Last => "last",
            Aggregate::List => "list",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
        }
    }
}

/// `enrich name: http.get { ... } : T`: the call's options and the slot its answer fills.
#[derive(Clone, Debug)]
pub struct TEnrich {
    pub local: LocalId,
    pub name: String,
    pub kind: String,
    pub options: Vec<TOption>,
    /// The declared response type; `T?` binds null when `select` finds nothing.
    pub ty: Type,
    pub select: Option<String>,
}

/// `state NAME: T by KEY = VALUE`: binds `local` (`ty?`) to the value last committed
/// under `key`, and commits `value`.
#[derive(Clone, Debug)]
pub struct TState {
    pub local: LocalId,
    pub name: String,
    pub ty: Type,
    pub key: TExpr,
    pub value: TExpr,
}

#[derive(Clone, Debug)]
pub struct TStage {
    pub kind: TStageKind,
    pub input: Type,
    pub output: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TFlow {
    pub name: String,
    pub file: Arc<SourceFile>,
    pub source: Option<TSource>,
    pub stages: Vec<TStage>,
    pub sinks: Vec<TSink>,
    /// How many local slots the flow's records need.
    pub locals: u32,
    pub span: Span,
}

/// Everything the checker accepted, across all modules.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub flows: Vec<TFlow>,
    pub fns: Vec<TFn>,
    pub lookups: Vec<TLookup>,
    /// Record-carrying types of values that were given another (wider) type where they
    /// were used: a value of type A passed where B is expected keeps A's layout at run
    /// time although the tree now says B.
    pub widened: Vec<Type>,
}
