//! The IR: what the interpreter runs.
//!
//! Lowered from the typed program. Names are gone: a local is a slot, a field of a
//! declared record is its slot in that record's layout (declaration order), a call
//! names its builtin overload or function index. Each stage keeps its input and output
//! type and its span, so a hold can say which line of the flow held a record.

mod demand;
mod display;
mod lower;
mod version;

use std::sync::Arc;

pub use demand::{Demand, KEY_FIELDS};
pub use display::display;
pub use lower::lower;

use crate::builtins::Builtin;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{BinOp, Literal, UnOp};
use crate::types::Type;

/// A local variable slot within one flow or function.
pub type Slot = u32;

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StrPart {
    Text(String),
    Value(Expr),
}

#[derive(Clone, Debug)]
pub enum Pattern {
    Any,
    Null,
    Bool(bool),
    Str(String),
    Int(i64),
    Decimal(rust_decimal::Decimal),
    /// Matches anything and stores it in the slot.
    Bind(Slot),
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Literal(Literal),
    Concat(Vec<StrPart>),
    /// The record entering the stage.
    Record,
    Local(Slot),
    /// `half_even`, `timeout`, ...
    Constant(String),
    /// A field of a declared record by slot (its position in the layout) and name;
    /// `slot` is `None` when the base is untyped Json.
    Field {
        base: Box<Expr>,
        slot: Option<u32>,
        name: String,
        optional: bool,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        optional: bool,
    },
    Lookup {
        table: usize,
        key: Box<Expr>,
    },
    Builtin {
        builtin: &'static Builtin,
        args: Vec<Expr>,
        optional: bool,
    },
    CallFn {
        function: usize,
        args: Vec<Expr>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Lambda {
        params: Vec<Slot>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<(Vec<Pattern>, Expr)>,
    },
    List(Vec<Expr>),
    /// Builds a record: spreads first copy fields, then named fields in order.
    MakeRecord {
        spreads: Vec<Expr>,
        fields: Vec<(String, Expr)>,
    },
    Hold(Hold),
}

#[derive(Clone, Debug)]
pub struct Hold {
    pub code: String,
    pub message: Option<Box<Expr>>,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub cond: Expr,
    pub hold: Hold,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StageKind {
    Filter(Expr),
    Dedupe { key: Expr, within_ms: Option<u64> },
    Validate(Vec<Rule>),
    Let { slot: Slot, name: String, value: Expr },
    Split(Expr),
    Map(Expr),
    HoldWhen { cond: Expr, hold: Hold },
    Batch { size: u64, max_wait_ms: Option<u64> },
    Group(Box<Group>),
    Enrich(Box<Enrich>),
    State(Box<StateStage>),
    FilterRemember(Expr),
}

pub use crate::check::typed::Aggregate;

/// `group by key within d { ... }`: records with one key become one record, built by
/// `body` from the key (in `key_slot`) and each aggregate folded over the group's records
/// (into its slot).
#[derive(Clone, Debug)]
pub struct Group {
    pub key: Expr,
    pub within_ms: Option<u64>,
    pub key_slot: Slot,
    /// What each aggregate folds, evaluated on each record (none for `count()`).
    pub aggregates: Vec<(Aggregate, Option<Expr>, Slot)>,
    pub body: Expr,
}

/// `enrich name: http.get { ... } : T`: the call (its kind, its options, and in `ty` the
/// declared response type) and the slot its answer fills.
#[derive(Clone, Debug)]
pub struct Enrich {
    pub slot: Slot,
    pub name: String,
    pub call: Connector,
    pub select: Option<String>,
}

/// `state NAME: T by KEY = VALUE`: binds `slot` to the value last committed for `name`
/// under `key` (null when none) and carries `value` (a `ty`) to be committed with the
/// record's end (`StageKind::FilterRemember`, a `filter ... else remember`, commits it
/// for the records it drops too).
#[derive(Clone, Debug)]
pub struct StateStage {
    pub slot: Slot,
    pub name: String,
    pub ty: Type,
    pub key: Expr,
    pub value: Expr,
}

impl StageKind {
    pub fn name(&self) -> &'static str {
        match self {
            StageKind::Filter(_) => "filter",
            StageKind::Dedupe { .. } => "dedupe",
            StageKind::Validate(_) => "validate",
            StageKind::Let { .. } => "let",
            StageKind::Split(_) => "split",
            StageKind::Map(_) => "map",
            StageKind::HoldWhen { .. } => "hold when",
            StageKind::Batch { .. } => "batch",
            StageKind::Group(_) => "group",
            StageKind::Enrich(_) => "enrich",
            StageKind::State(_) => "state",
            StageKind::FilterRemember(_) => "filter",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub kind: StageKind,
    pub input: Type,
    pub output: Type,
    pub span: Span,
    /// 1-based line of the stage in its file.
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct Connector {
    pub name: String,
    pub kind: String,
    pub options: Vec<(String, Expr)>,
    /// Source: the declared record type. Sink: the type it receives.
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub file: Arc<SourceFile>,
    /// Short hash of the flow file, the modules it imports and the lookup files it
    /// reads: holds name the version that held them (see `version`).
    pub version: String,
    pub source: Connector,
    pub stages: Vec<Stage>,
    pub sinks: Vec<Connector>,
    pub slots: u32,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub module: String,
    pub params: Vec<Slot>,
    /// The declared type of each parameter.
    pub param_types: Vec<Type>,
    pub slots: u32,
    pub ret: Type,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub enum LookupData {
    Table(Vec<(Expr, Expr)>),
    File {
        format: String,
        path: std::path::PathBuf,
        key: String,
        value: Option<String>,
    },
    /// Fetched when a run starts, and again every `refresh_ms` while it runs.
    Http(Box<HttpLookup>),
}

#[derive(Clone, Debug)]
pub struct HttpLookup {
    pub url: Expr,
    pub headers: Option<Expr>,
    /// JSONPath to the rows in the answer; without it the answer is the rows.
    pub select: Option<String>,
    pub key: String,
    pub value: Option<String>,
    pub refresh_ms: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Lookup {
    pub name: String,
    pub module: String,
    pub key: Type,
    pub value: Type,
    pub data: LookupData,
}

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub flows: Vec<Flow>,
    pub functions: Vec<Function>,
    pub lookups: Vec<Lookup>,
    /// Types of values used as another type somewhere (`typed::Program::widened`).
    pub widened: Vec<Type>,
}
