//! Parsing: pest pairs to the AST.
//!
//! Conventions: one function per grammar rule, named after it, taking the rule's pair
//! and returning its AST node. Literal conversion errors (an integer too large, a bad
//! escape) are collected in `Builder::errors` rather than aborting the parse.

use std::str::FromStr;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use pest_derive::Parser;
use rust_decimal::Decimal;

use super::ast::*;
use super::error::{LiteralError, SyntaxError};
use crate::source::{Span, Spanned};

#[derive(Parser)]
#[grammar = "../grammar/flow.pest"]
pub(crate) struct FlowParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Runs one grammar rule over `text` (which starts at `offset` in the file).
pub(crate) fn parse_rule(rule: Rule, text: &str) -> Result<Pairs<'_, Rule>, Box<pest::error::Error<Rule>>> {
    FlowParser::parse(rule, text).map_err(Box::new)
}

/// Turns pairs into AST nodes; spans are shifted by `offset` when a fragment is parsed.
pub(crate) struct Builder {
    pub offset: usize,
    pub errors: Vec<SyntaxError>,
}

impl Builder {
    pub fn new(offset: usize) -> Self {
        Builder { offset, errors: Vec::new() }
    }

    /// The pair's span without the white space a trailing optional part may have eaten.
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let len = without_trailing_trivia(pair.as_str()).len();
        Span::new(s.start() + self.offset, s.start() + len + self.offset)
    }

    pub(super) fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn literal_error(&mut self, span: Span, kind: LiteralError) {
        self.errors.push(SyntaxError::Literal { span, kind });
    }

    pub fn file(&mut self, pair: Pair<'_, Rule>) -> Module {
        let items = pair.into_inner().filter(|p| p.as_rule() != Rule::EOI).map(|p| self.item(p)).collect();
        Module { items }
    }

    pub fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        match pair.as_rule() {
            Rule::import_decl => Item::Import(self.import_decl(pair)),
            Rule::type_decl => Item::Type(self.type_decl(pair)),
            Rule::lookup_decl => Item::Lookup(self.lookup_decl(pair)),
            Rule::fn_decl => Item::Fn(self.fn_decl(pair)),
            Rule::flow_decl => Item::Flow(self.flow_decl(pair)),
            r => unreachable!("grammar: {r:?} is not an item"),
        }
    }

    fn import_decl(&mut self, pair: Pair<'_, Rule>) -> Import {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let target = match inner.next() {
            Some(p) if p.as_rule() == Rule::ident => ImportTarget::Name(self.ident(p)),
            Some(p) => {
                let s = self.span(&p);
                ImportTarget::Path(Spanned::new(self.plain_string(p), s))
            }
            None => unreachable!("grammar: import without target"),
        };
        let alias = inner.find(|p| p.as_rule() == Rule::ident).map(|p| self.ident(p));
        Import { target, alias, span }
    }

    fn type_decl(&mut self, pair: Pair<'_, Rule>) -> TypeDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let ty = self.type_expr(next(&mut inner));
        TypeDecl { name, ty, span }
    }

    fn lookup_decl(&mut self, pair: Pair<'_, Rule>) -> LookupDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let key = self.type_expr(next(&mut inner));
        let value = self.type_expr(next(&mut inner));
        let body_pair = next(&mut inner);
        let body = match body_pair.as_rule() {
            Rule::lookup_table => LookupBody::Table(body_pair.into_inner().map(|e| self.lookup_entry(e)).collect()),
            _ => {
                let mut parts = body_pair.into_inner();
                let loader = self.ident(next(&mut parts));
                let args = self.call_args(next(&mut parts));
                LookupBody::File { loader, args }
            }
        };
        LookupDecl { name, key, value, body, span }
    }

    pub(super) fn lookup_entry(&mut self, entry: Pair<'_, Rule>) -> (Expr, Expr) {
        let mut kv = entry.into_inner();
        let k = self.expr(next(&mut kv));
        let v = self.expr(next(&mut kv));
        (k, v)
    }

    fn fn_decl(&mut self, pair: Pair<'_, Rule>) -> FnDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let mut params = Vec::new();
        let mut rest = Vec::new();
        for p in inner {
            if p.as_rule() == Rule::param {
                let mut pi = p.into_inner();
                let name = self.ident(next(&mut pi));
                let ty = self.type_expr(next(&mut pi));
                params.push(Param { name, ty });
            } else {
                rest.push(p);
            }
        }
        let mut rest = rest.into_iter();
        let ret = self.type_expr(next(&mut rest));
        let body = self.expr(next(&mut rest));
        FnDecl { name, params, ret, body, span }
    }

    fn flow_decl(&mut self, pair: Pair<'_, Rule>) -> FlowDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let mut flow =
            FlowDecl { name, sources: Vec::new(), stages: Vec::new(), sinks: Vec::new(), order: Vec::new(), span };
        for p in inner {
            self.flow_item(p, &mut flow);
        }
        flow
    }

    pub fn flow_item(&mut self, pair: Pair<'_, Rule>, flow: &mut FlowDecl) {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::source_decl => {
                flow.order.push((FlowPart::Source, span));
                let s = self.source_decl(pair);
                flow.sources.push(s);
            }
            Rule::sink_decl => {
                flow.order.push((FlowPart::Sink, span));
                let s = self.sink_decl(pair);
                flow.sinks.push(s);
            }
            _ => {
                flow.order.push((FlowPart::Stage, span));
                let s = self.stage(pair);
                flow.stages.push(s);
            }
        }
    }

    fn connector_kind(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let text: Vec<&str> = pair.into_inner().map(|p| p.as_str()).collect();
        Spanned::new(text.join("."), span)
    }

    fn source_decl(&mut self, pair: Pair<'_, Rule>) -> SourceDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let kind = self.connector_kind(next(&mut inner));
        let mut options = Vec::new();
        let mut ty = None;
        for p in inner {
            match p.as_rule() {
                Rule::options => options = self.options(p),
                _ => ty = Some(self.type_expr(p)),
            }
        }
        let ty = ty.unwrap_or_else(|| unreachable!("grammar: source without a type"));
        SourceDecl { name, kind, options, ty, span }
    }

    fn sink_decl(&mut self, pair: Pair<'_, Rule>) -> SinkDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let kind = self.connector_kind(next(&mut inner));
        let options = inner.next().map(|p| self.options(p)).unwrap_or_default();
        SinkDecl { name, kind, options, span }
    }

    fn options(&mut self, pair: Pair<'_, Rule>) -> Vec<OptionEntry> {
        pair.into_inner()
            .map(|opt| {
                let mut inner = opt.into_inner();
                let name = self.field_name(next(&mut inner));
                let value = self.expr(next(&mut inner));
                OptionEntry { name, value }
            })
            .collect()
    }

    fn stage(&mut self, pair: Pair<'_, Rule>) -> Stage {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        inner.next(); // the stage keyword
        let kind = match rule {
            Rule::filter_stage => {
                let cond = self.expr(next(&mut inner));
                match inner.next() {
                    Some(_) => StageKind::FilterRemember(cond),
                    None => StageKind::Filter(cond),
                }
            }
            Rule::state_stage => {
                let name = self.ident(next(&mut inner));
                let ty = self.type_expr(next(&mut inner));
                inner.next(); // `by`
                let key = self.expr(next(&mut inner));
                let value = self.expr(next(&mut inner));
                StageKind::State { name, ty, key, value }
            }
            Rule::dedupe_stage => {
                inner.next(); // `by`
                let key = self.expr(next(&mut inner));
                let within = inner.nth(1).map(|p| self.expr(p));
                StageKind::Dedupe { key, within }
            }
            Rule::validate_stage => StageKind::Validate(inner.map(|p| self.validate_rule(p)).collect()),
            Rule::let_stage => {
                let name = self.ident(next(&mut inner));
                let mut rest: Vec<_> = inner.collect();
                let value = self.expr(rest.pop().unwrap_or_else(|| unreachable!("grammar: let without value")));
                let ty = rest.pop().map(|p| self.type_expr(p));
                StageKind::Let { name, ty, value }
            }
            Rule::split_stage => StageKind::Split(self.expr(next(&mut inner))),
            Rule::map_stage => {
                let mut rest: Vec<_> = inner.collect();
                let body =
                    self.expr_from_primary(rest.pop().unwrap_or_else(|| unreachable!("grammar: map without body")));
                let target = rest.pop().map(|p| self.type_expr(p));
                StageKind::Map { target, body }
            }
            Rule::hold_stage => {
                inner.next(); // `when`
                let cond = self.expr(next(&mut inner));
                let hold = self.hold_reason(next(&mut inner));
                StageKind::HoldWhen { cond, hold }
            }
            Rule::batch_stage => StageKind::Batch(self.options(next(&mut inner))),
            Rule::group_stage => {
                inner.next(); // `by`
                let key = self.expr(next(&mut inner));
                let (mut within, mut target, mut body) = (None, None, None);
                for p in inner {
                    match p.as_rule() {
                        Rule::group_within => within = p.into_inner().nth(1).map(|w| self.expr(w)),
                        Rule::type_expr => target = Some(self.type_expr(p)),
                        _ => body = Some(self.expr_from_primary(p)),
                    }
                }
                let body = body.unwrap_or_else(|| unreachable!("grammar: group without body"));
                StageKind::Group(Box::new(super::ast::GroupStage { key, within, target, body }))
            }
            Rule::enrich_stage => {
                let name = self.ident(next(&mut inner));
                let kind = self.connector_kind(next(&mut inner));
                let options = self.options(next(&mut inner));
                let ty = inner.next().map(|p| self.type_expr(p));
                StageKind::Enrich(Box::new(super::ast::Enrich { name, kind, options, ty }))
            }
            r => unreachable!("grammar: {r:?} is not a stage"),
        };
        Spanned::new(kind, span)
    }

    fn validate_rule(&mut self, pair: Pair<'_, Rule>) -> super::ast::Rule {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let cond = self.expr(next(&mut inner));
        inner.next(); // `else`
        let hold_pair = next(&mut inner);
        let mut hold_inner = hold_pair.into_inner();
        hold_inner.next(); // `hold`
        let hold = self.hold_reason(next(&mut hold_inner));
        super::ast::Rule { cond, hold, span }
    }

    fn hold_reason(&mut self, pair: Pair<'_, Rule>) -> HoldReason {
        let mut inner = pair.into_inner();
        let code_pair = next(&mut inner);
        let code_span = self.span(&code_pair);
        let code = Spanned::new(self.plain_string(code_pair), code_span);
        let message = inner.next().map(|p| Box::new(self.string_lit(p)));
        HoldReason { code, message }
    }

    // ------------------------------------------------------------ types

    pub(super) fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut terms: Vec<TypeExpr> = pair.into_inner().map(|t| self.type_term(t)).collect();
        if terms.len() == 1 {
            terms.pop().unwrap_or_else(|| unreachable!())
        } else {
            Spanned::new(TypeExprKind::Union(terms), span)
        }
    }

    fn type_term(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let atom = self.type_atom(next(&mut inner));
        if inner.next().is_some() {
            Spanned::new(TypeExprKind::Optional(Box::new(atom)), span)
        } else {
            atom
        }
    }

    fn type_atom(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::list_type => TypeExprKind::List(Box::new(self.type_expr(first(pair)))),
            Rule::record_type => {
                let entries: Vec<RecordTypeEntry> = pair
                    .into_inner()
                    .map(|f| {
                        let entry_span = self.span(&f);
                        let spread = f.as_rule() == Rule::type_spread;
                        let mut fi = f.into_inner();
                        if spread {
                            return RecordTypeEntry::Spread { ty: self.type_term(next(&mut fi)), span: entry_span };
                        }
                        let name = self.field_name(next(&mut fi));
                        let ty = self.type_expr(next(&mut fi));
                        RecordTypeEntry::Field(FieldDecl { name, ty })
                    })
                    .collect();
                if entries.iter().any(|e| matches!(e, RecordTypeEntry::Spread { .. })) {
                    TypeExprKind::RecordSpread(entries)
                } else {
                    TypeExprKind::Record(
                        entries
                            .into_iter()
                            .filter_map(|e| match e {
                                RecordTypeEntry::Field(f) => Some(f),
                                RecordTypeEntry::Spread { .. } => None,
                            })
                            .collect(),
                    )
                }
            }
            Rule::literal_type => TypeExprKind::Literal(self.plain_string(first(pair))),
            Rule::decimal_type => {
                let digits = first(pair);
                match digits.as_str().parse::<u32>() {
                    Ok(n) if n <= 28 => TypeExprKind::ScaledDecimal(n),
                    _ => {
                        self.literal_error(span, LiteralError::Scale);
                        TypeExprKind::ScaledDecimal(28)
                    }
                }
            }
            Rule::paren_type => return self.type_expr(first(pair)),
            Rule::type_name => {
                let mut parts: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).collect();
                let name = parts.pop().unwrap_or_else(|| unreachable!("grammar: empty type name"));
                TypeExprKind::Named { module: parts.pop(), name }
            }
            r => unreachable!("grammar: {r:?} is not a type"),
        };
        Spanned::new(kind, span)
    }

    fn field_name(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let span = self.span(&pair);
        let inner = first(pair);
        let name = match inner.as_rule() {
            Rule::raw_ident => inner.as_str().to_string(),
            _ => self.plain_string(inner),
        };
        Spanned::new(name, span)
    }

    // ------------------------------------------------------------ expressions

    pub fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        match pair.as_rule() {
            Rule::expr => self.expr(first(pair)),
            Rule::lambda => self.lambda(pair),
            Rule::binary => self.binary(pair.into_inner()),
            _ => self.expr_from_primary(pair),
        }
    }

    fn lambda(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let params = next(&mut inner).into_inner().map(|p| self.ident(p)).collect();
        let body = Box::new(self.expr(next(&mut inner)));
        Spanned::new(ExprKind::Lambda { params, body }, span)
    }

    fn binary(&mut self, pairs: Pairs<'_, Rule>) -> Expr {
        // The Pratt closures cannot all borrow `self` mutably, so errors go through a cell.
        let this = std::cell::RefCell::new(self);
        let expr = PRATT
            .map_primary(|p| this.borrow_mut().postfix_expr(p))
            .map_prefix(|op, rhs| {
                let b = this.borrow();
                let span = b.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not { UnOp::Not } else { UnOp::Neg };
                Spanned::new(ExprKind::Unary(op, Box::new(rhs)), span)
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                Spanned::new(ExprKind::Binary(bin_op(op.as_rule()), Box::new(lhs), Box::new(rhs)), span)
            })
            .parse(pairs);
        expr
    }

    fn postfix_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let mut inner = pair.into_inner().peekable();
        let mut expr = self.expr_from_primary(next(&mut inner));
        while let Some(p) = inner.next() {
            let span = expr.span.to(self.span(&p));
            let rule = p.as_rule();
            expr = match rule {
                Rule::field_access | Rule::opt_field_access => {
                    let optional = rule == Rule::opt_field_access;
                    let name = self.field_name(first(p));
                    if inner.peek().is_some_and(|n| n.as_rule() == Rule::call_args) {
                        let args_pair = next(&mut inner);
                        let span = span.to(self.span(&args_pair));
                        let args = self.call_args(args_pair);
                        Spanned::new(ExprKind::Method { receiver: Box::new(expr), name, args, optional }, span)
                    } else {
                        Spanned::new(ExprKind::Field { base: Box::new(expr), name, optional }, span)
                    }
                }
                Rule::index | Rule::opt_index => {
                    let index = Box::new(self.expr(first(p)));
                    Spanned::new(
                        ExprKind::Index { base: Box::new(expr), index, optional: rule == Rule::opt_index },
                        span,
                    )
                }
                Rule::call_args => {
                    let args = self.call_args(p);
                    Spanned::new(ExprKind::Call { func: Box::new(expr), args }, span)
                }
                r => unreachable!("grammar: {r:?} is not a postfix"),
            };
        }
        expr
    }

    fn call_args(&mut self, pair: Pair<'_, Rule>) -> Vec<Arg> {
        pair.into_inner()
            .map(|a| match a.as_rule() {
                Rule::named_arg => {
                    let mut inner = a.into_inner();
                    let name = self.ident(next(&mut inner));
                    Arg::Named(name, self.expr(next(&mut inner)))
                }
                _ => Arg::Positional(self.expr(a)),
            })
            .collect()
    }

    fn expr_from_primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::expr | Rule::lambda | Rule::binary => return self.expr(pair),
            Rule::postfix_expr => return self.postfix_expr(pair),
            Rule::paren => return self.expr(first(pair)),
            Rule::ident => ExprKind::Name(pair.as_str().to_string()),
            Rule::list_lit => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::record_lit => ExprKind::Record(pair.into_inner().map(|p| self.record_entry(p)).collect()),
            Rule::if_expr => {
                let mut e: Vec<Expr> =
                    pair.into_inner().filter(|p| p.as_rule() == Rule::expr).map(|p| self.expr(p)).collect();
                let otherwise = Box::new(pop(&mut e));
                let then = Box::new(pop(&mut e));
                let cond = Box::new(pop(&mut e));
                ExprKind::If { cond, then, otherwise }
            }
            Rule::match_expr => {
                let mut inner = pair.into_inner().skip(1);
                let scrutinee = Box::new(self.expr(next(&mut inner)));
                let arms = inner.map(|a| self.match_arm(a)).collect();
                ExprKind::Match { scrutinee, arms }
            }
            Rule::hold_expr => {
                let mut inner = pair.into_inner().skip(1);
                ExprKind::Hold(self.hold_reason(next(&mut inner)))
            }
            Rule::string_lit => return self.string_lit(pair),
            _ => ExprKind::Lit(self.literal(pair)),
        };
        Spanned::new(kind, span)
    }

    fn record_entry(&mut self, pair: Pair<'_, Rule>) -> RecordEntry {
        match pair.as_rule() {
            Rule::spread => RecordEntry::Spread(self.expr(first(pair))),
            _ => {
                let mut inner = pair.into_inner();
                let name = self.field_name(next(&mut inner));
                RecordEntry::Field(name, self.expr(next(&mut inner)))
            }
        }
    }

    fn match_arm(&mut self, pair: Pair<'_, Rule>) -> MatchArm {
        let mut patterns = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::pattern {
                patterns.push(self.pattern(p));
            } else {
                body = Some(self.expr(p));
            }
        }
        let body = body.unwrap_or_else(|| unreachable!("grammar: match arm without body"));
        MatchArm { patterns, body }
    }

    fn pattern(&mut self, pair: Pair<'_, Rule>) -> Pattern {
        let span = self.span(&pair);
        let inner = first(pair);
        let kind = match inner.as_rule() {
            Rule::wildcard => PatternKind::Wildcard,
            Rule::null_lit => PatternKind::Null,
            Rule::bool_lit => PatternKind::Bool(inner.as_str() == "true"),
            Rule::plain_string => PatternKind::Str(self.plain_string(inner)),
            Rule::ident => PatternKind::Bind(inner.as_str().to_string()),
            _ => {
                let negative = inner.as_str().starts_with('-');
                let lit_pair = inner
                    .into_inner()
                    .find(|p| p.as_rule() != Rule::op_neg)
                    .unwrap_or_else(|| unreachable!("grammar: number pattern"));
                match self.literal(lit_pair) {
                    Literal::Int(n) => PatternKind::Int(if negative { -n } else { n }),
                    Literal::Decimal(d) => PatternKind::Decimal(if negative { -d } else { d }),
                    _ => PatternKind::Wildcard,
                }
            }
        };
        Spanned::new(kind, span)
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Literal {
        let span = self.span(&pair);
        let text = pair.as_str();
        match pair.as_rule() {
            Rule::null_lit => Literal::Null,
            Rule::bool_lit => Literal::Bool(text == "true"),
            Rule::int_lit => text.parse().map(Literal::Int).unwrap_or_else(|_| {
                self.literal_error(span, LiteralError::Int);
                Literal::Int(0)
            }),
            Rule::decimal_lit => Decimal::from_str_exact(text).map(Literal::Decimal).unwrap_or_else(|_| {
                self.literal_error(span, LiteralError::Decimal);
                Literal::Decimal(Decimal::ZERO)
            }),
            Rule::float_lit => match f64::from_str(text) {
                Ok(f) if f.is_finite() => Literal::Float(f),
                _ => {
                    self.literal_error(span, LiteralError::Float);
                    Literal::Float(0.0)
                }
            },
            Rule::duration_lit => parse_duration(text).map(Literal::Duration).unwrap_or_else(|| {
                self.literal_error(span, LiteralError::Duration);
                Literal::Duration(0)
            }),
            Rule::bad_duration_lit => {
                self.literal_error(span, LiteralError::DurationUnit(text.to_string()));
                Literal::Duration(0)
            }
            Rule::status_class_lit => Literal::StatusClass(text.as_bytes().first().map_or(0, |b| b - b'0')),
            Rule::rate_lit => parse_rate(text).unwrap_or_else(|| {
                self.literal_error(span, LiteralError::Int);
                Literal::Rate(1, RateUnit::Second)
            }),
            r => unreachable!("grammar: {r:?} is not a literal"),
        }
    }

    /// A string that may interpolate; a string without `${}` becomes one text part.
    fn string_lit(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let mut parts: Vec<StrPart> = Vec::new();
        let mut text = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::interp => {
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(StrPart::Interp(self.expr(first(p))));
                }
                _ => self.string_piece(p, &mut text),
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrPart::Text(text));
        }
        Spanned::new(ExprKind::Str(parts), span)
    }

    fn plain_string(&mut self, pair: Pair<'_, Rule>) -> String {
        let mut text = String::new();
        for p in pair.into_inner() {
            self.string_piece(p, &mut text);
        }
        text
    }

    fn string_piece(&mut self, pair: Pair<'_, Rule>, out: &mut String) {
        if pair.as_rule() == Rule::str_text {
            out.push_str(pair.as_str());
            return;
        }
        let span = self.span(&pair);
        match unescape(pair.as_str()) {
            Some(c) => out.push(c),
            None => self.literal_error(span, LiteralError::Escape(pair.as_str().to_string())),
        }
    }
}

/// The text without white space and comments at its end.
fn without_trailing_trivia(mut t: &str) -> &str {
    loop {
        t = t.trim_end();
        if t.ends_with("*/") {
            if let Some(open) = t.rfind("/*") {
                t = &t[..open];
                continue;
            }
        }
        let line_start = t.rfind('\n').map_or(0, |i| i + 1);
        match line_comment_start(&t[line_start..]) {
            Some(i) => t = &t[..line_start + i],
            None => return t,
        }
    }
}

/// Where a `//` comment starts on a line, outside string literals.
fn line_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut in_str, mut i) = (false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn unescape(esc: &str) -> Option<char> {
    let body = esc.strip_prefix('\\')?;
    match body {
        "n" => Some('\n'),
        "t" => Some('\t'),
        "r" => Some('\r'),
        "\"" => Some('"'),
        "\\" => Some('\\'),
        "$" => Some('$'),
        "0" => Some('\0'),
        _ => {
            let hex = body.strip_prefix("u{")?.strip_suffix('}')?;
            char::from_u32(u32::from_str_radix(hex, 16).ok()?)
        }
    }
}

/// `1h30m` in milliseconds; `None` on overflow.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 604_800_000,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    Some(total)
}

fn parse_rate(text: &str) -> Option<Literal> {
    let (n, unit) = text.split_once('/')?;
    let unit = match unit {
        "s" => RateUnit::Second,
        "m" => RateUnit::Minute,
        _ => RateUnit::Hour,
    };
    Some(Literal::Rate(n.parse().ok()?, unit))
}

fn bin_op(rule: Rule) -> BinOp {
    match rule {
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        Rule::op_rem => BinOp::Rem,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_and => BinOp::And,
        Rule::op_or => BinOp::Or,
        Rule::op_coalesce => BinOp::Coalesce,
        r => unreachable!("grammar: {r:?} is not an operator"),
    }
}

/// The next pair the grammar guarantees to be there.
pub(super) fn next<'a, I: Iterator<Item = Pair<'a, Rule>>>(it: &mut I) -> Pair<'a, Rule> {
    it.next().unwrap_or_else(|| unreachable!("grammar guarantees another pair"))
}

fn first(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    next(&mut pair.into_inner())
}

fn pop(v: &mut Vec<Expr>) -> Expr {
    v.pop().unwrap_or_else(|| unreachable!("grammar guarantees the branch"))
}
