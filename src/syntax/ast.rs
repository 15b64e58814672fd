//! The untyped syntax tree. Every node carries the span it was written at.
//!
//! Variants are documented with the surface syntax that produces them.

use rust_decimal::Decimal;

use crate::source::{Span, Spanned};

pub type Ident = Spanned<String>;

/// One `.flow` file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Type(TypeDecl),
    Lookup(LookupDecl),
    Fn(FnDecl),
    Flow(FlowDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Type(t) => t.span,
            Item::Lookup(l) => l.span,
            Item::Fn(f) => f.span,
            Item::Flow(f) => f.span,
        }
    }
}

/// `import shopify`, `import "../lib/util.flow" as util`
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub target: ImportTarget,
    pub alias: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportTarget {
    /// `import shopify`: a file `shopify.flow` beside the importer, else the stdlib module.
    Name(Ident),
    /// `import "path/to/x.flow"`: a file relative to the importer.
    Path(Spanned<String>),
}

/// `type Order = { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `String`, `shopify.Order`
    Named { module: Option<Ident>, name: Ident },
    /// `Decimal(2)`
    ScaledDecimal(u32),
    /// `[T]`
    List(Box<TypeExpr>),
    /// `{ a: T, "b-c": U? }`
    Record(Vec<FieldDecl>),
    /// `{ ..shop.Level, bin: String }`: a record type with the fields of others spread
    /// in, in the order written (a record type without a spread is `Record`).
    RecordSpread(Vec<RecordTypeEntry>),
    /// `"paid"` (a one-member union, or one arm of `"a" | "b"`)
    Literal(String),
    /// `"a" | "b"`
    Union(Vec<TypeExpr>),
    /// `T?`
    Optional(Box<TypeExpr>),
}

pub type TypeExpr = Spanned<TypeExprKind>;

#[derive(Clone, Debug, PartialEq)]
pub enum RecordTypeEntry {
    /// `..Name`: the fields of a record type; `span` covers the `..`.
    Spread {
        ty: TypeExpr,
        span: Span,
    },
    Field(FieldDecl),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

/// `lookup name: K -> V = ...`
#[derive(Clone, Debug, PartialEq)]
pub struct LookupDecl {
    pub name: Ident,
    pub key: TypeExpr,
    pub value: TypeExpr,
    pub body: LookupBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LookupBody {
    /// `{ "a" => "b", ... }`
    Table(Vec<(Expr, Expr)>),
    /// `csv("file.csv", key: "sku", value: "code")`
    File { loader: Ident, args: Vec<Arg> },
}

/// `fn name(a: T) -> R = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

/// `flow name { source ... stages ... sinks ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct FlowDecl {
    pub name: Ident,
    pub sources: Vec<SourceDecl>,
    pub stages: Vec<Stage>,
    pub sinks: Vec<SinkDecl>,
    /// Sources, stages and sinks in the order written, for ordering checks.
    pub order: Vec<(FlowPart, Span)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowPart {
    Source,
    Stage,
    Sink,
}

/// `source orders: http.poll { ... } : shopify.Order`
#[derive(Clone, Debug, PartialEq)]
pub struct SourceDecl {
    pub name: Ident,
    pub kind: Spanned<String>,
    pub options: Vec<OptionEntry>,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `sink erp: http.post { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct SinkDecl {
    pub name: Ident,
    pub kind: Spanned<String>,
    pub options: Vec<OptionEntry>,
    pub span: Span,
}

/// `url: expr` inside a source, sink or batch block.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionEntry {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StageKind {
    /// `filter expr`: records for which it is false leave the flow, counted as filtered.
    Filter(Expr),
    /// `dedupe by key within 7d`
    Dedupe { key: Expr, within: Option<Expr> },
    /// `validate { rule else hold "code" "message" ... }`
    Validate(Vec<Rule>),
    /// `let name = expr`, `let name: T = expr`
    Let { name: Ident, ty: Option<TypeExpr>, value: Expr },
    /// `split expr`: one record in, one per element out.
    Split(Expr),
    /// `map : T { field: expr ... }`
    Map { target: Option<TypeExpr>, body: Expr },
    /// `hold when expr "code" "message"`
    HoldWhen { cond: Expr, hold: HoldReason },
    /// `batch { size: 100, max_wait: 5s }`
    Batch(Vec<OptionEntry>),
    /// `group by key within 30s : T { field: sum(record.qty) ... }`: the records of a run
    /// (or of a time window) with one key become one record, folded by the body.
    Group(Box<GroupStage>),
    /// `enrich name: http.get { url: ... } : T`: a call out whose answer is bound to `name`.
    Enrich(Box<Enrich>),
    /// `state NAME: T by KEY = VALUE`: binds the value last committed under the key (`T?`)
    /// and commits VALUE under it when the record is delivered.
    State { name: Ident, ty: TypeExpr, key: Expr, value: Expr },
    /// `filter expr else remember`: a filter whose dropped records still commit their
    /// state values.
    FilterRemember(Expr),
}

/// `group by key within 30s : T { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct GroupStage {
    pub key: Expr,
    pub within: Option<Expr>,
    pub target: Option<TypeExpr>,
    /// A record literal whose fields use `key` and aggregates over `record`.
    pub body: Expr,
}

/// `enrich fo: http.get { url: ..., select: "$.x" } : shopify.FulfillmentOrder`
#[derive(Clone, Debug, PartialEq)]
pub struct Enrich {
    pub name: Ident,
    pub kind: Spanned<String>,
    pub options: Vec<OptionEntry>,
    /// Required; absent only so the checker can say so.
    pub ty: Option<TypeExpr>,
}

pub type Stage = Spanned<StageKind>;

/// `cond else hold "code" "message"`
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub cond: Expr,
    pub hold: HoldReason,
    pub span: Span,
}

/// `"code" "message"`: the reason code and an optional, possibly interpolated message.
#[derive(Clone, Debug, PartialEq)]
pub struct HoldReason {
    pub code: Spanned<String>,
    pub message: Option<Box<Expr>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Coalesce,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Coalesce => "??",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// Time units a duration literal may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateUnit {
    Second,
    Minute,
    Hour,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true`
    Bool(bool),
    /// `42`
    Int(i64),
    /// `19.99`: exact, never a float.
    Decimal(Decimal),
    /// `1.5e3`
    Float(f64),
    /// `7d`, `1h30m`, `500ms` (milliseconds)
    Duration(u64),
    /// `10/s`
    Rate(u64, RateUnit),
    /// `5xx`: every HTTP status from 500 to 599.
    StatusClass(u8),
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Text(String),
    Interp(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Positional(Expr),
    /// `key: "sku"`
    Named(Ident, Expr),
}

impl Arg {
    pub fn expr(&self) -> &Expr {
        match self {
            Arg::Positional(e) | Arg::Named(_, e) => e,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RecordEntry {
    Field(Ident, Expr),
    /// `..expr`
    Spread(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// `null`
    Null,
    Bool(bool),
    Str(String),
    Int(i64),
    Decimal(Decimal),
    /// `name`: matches anything not matched above and binds it.
    Bind(String),
}

pub type Pattern = Spanned<PatternKind>;

#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    pub patterns: Vec<Pattern>,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// `"text ${expr}"`
    Str(Vec<StrPart>),
    /// `record`, `addr`, `half_even`
    Name(String),
    /// `a.b`, `a?.b`
    Field {
        base: Box<Expr>,
        name: Ident,
        optional: bool,
    },
    /// `a[i]`, `a?[i]`, `table[key]`
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        optional: bool,
    },
    /// `f(x)`, `m.f(x)` (a function of module `m`)
    Call {
        func: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `x.f(y)`: sugar for `f(x, y)` when `f` is a function.
    Method {
        receiver: Box<Expr>,
        name: Ident,
        args: Vec<Arg>,
        optional: bool,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x => body`, `(a, b) => body`
    Lambda {
        params: Vec<Ident>,
        body: Box<Expr>,
    },
    /// `if c then a else b`
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `match x { p => e, ... }`
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ a: 1, ..other }`
    Record(Vec<RecordEntry>),
    /// `hold "code" "message"`
    Hold(HoldReason),
}

pub type Expr = Spanned<ExprKind>;
