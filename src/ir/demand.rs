//! Which fields of the source's records a flow can ever read.
//!
//! A Shopify order declares a hundred-odd fields; a mapping reads a few dozen. Building
//! a value for every declared field of every order costs more than the mapping itself,
//! so the source builds only the fields this analysis says the program may read, and
//! checks the rest against their declared types without building them (a record whose
//! unread fields do not fit is still held as a schema mismatch).
//!
//! The analysis is by record type, and errs towards reading more: a field is needed when
//! any expression anywhere in the program reads it from a record of that type, and a
//! record type is needed whole when a value of it is used other than by reading its
//! fields or passing it on unchanged (written to a sink, compared, spread into another
//! record, placed in a new record or list, interpolated, hashed, given to a builtin that
//! looks at the whole value). A value "passed on unchanged" (a `let`, `??`, the branches
//! of an `if`, a function argument, a list element handed to a lambda) is judged where it
//! ends up, since its type says which record types it carries; but where it ends up with
//! another type (records are assignable by shape, so an argument of one record type may
//! meet a parameter of another, and `if` joins two branch types into a third), the reads
//! would be counted against that other type, so the value counts as used whole. The
//! checker notes every such widening (`Program::widened`), since the tree it leaves
//! carries the wider type only.

use std::sync::Arc;

use super::{Expr, ExprKind, Flow, Program, StageKind, StrPart};
use crate::syntax::ast::BinOp;
use crate::types::{RecordType, Type};

/// The fields the program may read, per record type.
#[derive(Debug, Default)]
pub struct Demand {
    /// Record types with the fields read from them (by slot); `whole` when every field is.
    types: Vec<TypeDemand>,
    /// Each function's parameter types, by function index.
    params: Vec<Vec<Type>>,
}

#[derive(Debug)]
struct TypeDemand {
    layout: Arc<RecordType>,
    fields: Vec<bool>,
    whole: bool,
}

/// Field names an operator's hold listing is keyed by (see the runtime's `blocking_key`);
/// always decoded on the source's top-level record.
pub const KEY_FIELDS: &[&str] =
    &["name", "order_number", "number", "external_ref", "ref", "reference", "order_id", "id", "sku", "key"];

impl Demand {
    /// What `flow` (and every function and lookup of `program`) may read of its records.
    pub fn of_flow(program: &Program, flow: &Flow) -> Demand {
        let mut d =
            Demand { params: program.functions.iter().map(|f| f.param_types.clone()).collect(), ..Demand::default() };
        // A value given a wider type somewhere keeps its own layout at run time, while the
        // reads counted there are against the wider type: its own type is needed whole.
        for t in &program.widened {
            d.whole(t);
        }
        for f in &program.functions {
            d.expr(&f.body, false);
        }
        for l in &program.lookups {
            if let super::LookupData::Table(rows) = &l.data {
                for (k, v) in rows {
                    d.expr(k, true);
                    d.expr(v, true);
                }
            }
        }
        for (_, e) in &flow.source.options {
            d.expr(e, true);
        }
        for st in &flow.stages {
            match &st.kind {
                StageKind::Filter(e) | StageKind::HoldWhen { cond: e, .. } => d.expr(e, true),
                StageKind::Dedupe { key, .. } => d.expr(key, true),
                StageKind::Validate(rules) => {
                    for r in rules {
                        d.expr(&r.cond, true);
                        if let Some(m) = &r.hold.message {
                            d.expr(m, true);
                        }
                    }
                }
                // The value lives on in a slot; its uses are judged where they are.
                StageKind::Let { value, .. } => d.expr(value, false),
                // A split's elements become records that holds show as the stage input.
                StageKind::Split(e) => d.expr(e, true),
                StageKind::Map(e) => d.pass_on(e, &st.output),
                StageKind::Batch { .. } => {}
                StageKind::Group(g) => {
                    d.expr(&g.key, true);
                    for (_, arg, _) in &g.aggregates {
                        if let Some(a) = arg {
                            d.expr(a, true);
                        }
                    }
                    d.pass_on(&g.body, &st.output);
                }
                StageKind::Enrich(e) => {
                    for (_, x) in &e.call.options {
                        d.expr(x, true);
                    }
                }
                StageKind::FilterRemember(e) => d.expr(e, true),
                // The key and the value are written to the store whole.
                StageKind::State(s) => {
                    d.expr(&s.key, true);
                    d.expr(&s.value, true);
                }
            }
            if let StageKind::HoldWhen { hold, .. } = &st.kind {
                if let Some(m) = &hold.message {
                    d.expr(m, true);
                }
            }
            // What leaves the last stage goes to the sinks whole.
        }
        let out = flow.stages.last().map_or(&flow.source.ty, |s| &s.output);
        d.whole(out);
        for sink in &flow.sinks {
            d.whole(&sink.ty);
            for (_, e) in &sink.options {
                d.expr(e, true);
            }
        }
        if let Type::Record(top) = flow.source.ty.strip_optional() {
            for (i, name) in top.fields.keys().enumerate() {
                if KEY_FIELDS.contains(&name.as_str()) {
                    d.field(top, i);
                }
            }
        }
        d
    }

    /// Whether the program may read field `slot` of records of type `layout`.
    pub fn reads(&self, layout: &Arc<RecordType>, slot: usize) -> bool {
        self.find(layout).is_some_and(|t| t.whole || t.fields.get(slot).copied().unwrap_or(true))
    }

    /// Whether records of type `layout` are needed whole.
    pub fn whole_record(&self, layout: &Arc<RecordType>) -> bool {
        self.find(layout).is_some_and(|t| t.whole)
    }

    fn find(&self, layout: &Arc<RecordType>) -> Option<&TypeDemand> {
        self.types
            .iter()
            .find(|t| Arc::ptr_eq(&t.layout, layout))
            .or_else(|| self.types.iter().find(|t| t.layout == *layout))
    }

    fn entry(&mut self, layout: &Arc<RecordType>) -> &mut TypeDemand {
        let i = match self.types.iter().position(|t| Arc::ptr_eq(&t.layout, layout) || t.layout == *layout) {
            Some(i) => i,
            None => {
                self.types.push(TypeDemand {
                    layout: layout.clone(),
                    fields: vec![false; layout.fields.len()],
                    whole: false,
                });
                self.types.len() - 1
            }
        };
        &mut self.types[i]
    }

    fn field(&mut self, layout: &Arc<RecordType>, slot: usize) {
        if let Some(f) = self.entry(layout).fields.get_mut(slot) {
            *f = true;
        }
    }

    /// Every record type a value of `ty` can carry is needed whole.
    fn whole(&mut self, ty: &Type) {
        match ty {
            Type::Record(r) => {
                let e = self.entry(r);
                if e.whole {
                    return;
                }
                e.whole = true;
                for t in r.fields.values() {
                    self.whole(t);
                }
            }
            Type::List(t) | Type::Optional(t) => self.whole(t),
            Type::Lookup(k, v) => {
                self.whole(k);
                self.whole(v);
            }
            Type::Fn(params, ret) => {
                params.iter().for_each(|p| self.whole(p));
                self.whole(ret);
            }
            _ => {}
        }
    }

    /// Walks `inner`, a value passed on as a value of type `outer`: judged where it ends
    /// up when that keeps its record types, else used whole here.
    fn pass_on(&mut self, inner: &Expr, outer: &Type) {
        self.expr(inner, !inner.ty.same_records_as(outer));
    }

    /// Walks `e`; `used` is whether its value is used whole by what contains it (rather
    /// than passed on, or only read field by field).
    fn expr(&mut self, e: &Expr, used: bool) {
        if used {
            self.whole(&e.ty);
        }
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Record | ExprKind::Local(_) | ExprKind::Constant(_) => {}
            ExprKind::Concat(parts) => {
                for p in parts {
                    if let StrPart::Value(v) = p {
                        self.expr(v, true);
                    }
                }
            }
            ExprKind::Field { base, slot, .. } => {
                if let (Some(slot), Type::Record(r)) = (slot, base.ty.strip_optional()) {
                    self.field(r, *slot as usize);
                }
                self.expr(base, false);
            }
            ExprKind::Index { base, index, .. } => {
                self.pass_on(base, &e.ty);
                self.expr(index, true);
            }
            ExprKind::Lookup { key, .. } => self.expr(key, true),
            ExprKind::Builtin { builtin, args, .. } => {
                let passes_on = PASSES_ELEMENTS_ON.contains(&builtin.name);
                let maps = matches!(builtin.name, "map" | "flat_map");
                for (i, a) in args.iter().enumerate() {
                    match &a.kind {
                        ExprKind::Lambda { body, .. } if maps => self.pass_on(body, &e.ty),
                        ExprKind::Lambda { body, .. } => self.expr(body, true),
                        // The list's elements go to the lambda (typed as they are) or into
                        // the result.
                        _ if i == 0 && passes_on => self.expr(a, false),
                        _ => self.expr(a, true),
                    }
                }
            }
            ExprKind::CallFn { function, args } => {
                let params = self.params.get(*function).cloned().unwrap_or_default();
                for (i, a) in args.iter().enumerate() {
                    match params.get(i) {
                        Some(p) => self.pass_on(a, p),
                        None => self.expr(a, true),
                    }
                }
            }
            ExprKind::Unary(_, x) => self.expr(x, true),
            ExprKind::Binary(BinOp::Coalesce, a, b) => {
                self.pass_on(a, &e.ty);
                self.pass_on(b, &e.ty);
            }
            ExprKind::Binary(_, a, b) => {
                self.expr(a, true);
                self.expr(b, true);
            }
            ExprKind::Lambda { body, .. } => self.expr(body, true),
            ExprKind::If { cond, then, otherwise } => {
                self.expr(cond, true);
                self.pass_on(then, &e.ty);
                self.pass_on(otherwise, &e.ty);
            }
            ExprKind::Match { scrutinee, arms } => {
                // What a pattern binds is judged where the binding is used.
                self.expr(scrutinee, false);
                arms.iter().for_each(|(_, body)| self.pass_on(body, &e.ty));
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i, true)),
            ExprKind::MakeRecord { spreads, fields } => {
                spreads.iter().for_each(|s| self.expr(s, true));
                fields.iter().for_each(|(_, v)| self.expr(v, true));
            }
            ExprKind::Hold(h) => {
                if let Some(m) = &h.message {
                    self.expr(m, true);
                }
            }
        }
    }
}

/// Collection builtins that only hand the list's elements to their lambda or back in
/// their result, so the list itself is not used whole.
const PASSES_ELEMENTS_ON: &[&str] = &[
    "map",
    "filter",
    "flat_map",
    "sum",
    "count",
    "len",
    "all",
    "any",
    "first",
    "last",
    "is_empty",
    "unique_by",
    "group_by",
    "sort_by",
    "compact",
    "reverse",
    "zip",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn demand_of(src: &str) -> (Demand, Program) {
        let out = crate::check_text("t.flow", src);
        let program = out.ir().unwrap_or_else(|| panic!("{src}: {:?}", out.diagnostics));
        let d = Demand::of_flow(&program, &program.flows[0]);
        (d, program)
    }

    fn source_layout(p: &Program) -> Arc<RecordType> {
        match p.flows[0].source.ty.strip_optional() {
            Type::Record(r) => r.clone(),
            t => panic!("{t}"),
        }
    }

    const TYPES: &str = r#"
type Line = { sku: String?, price: Decimal, note: String? }
type Order = { id: Int, email: String?, lines: [Line], notes: String?, extra: { a: Int }? }
type Out = { ref: String, total: Decimal }
"#;

    #[test]
    fn only_the_fields_read_are_needed() {
        let (d, p) = demand_of(&format!(
            "{TYPES}
flow f {{
  source s: stdin : Order
  map : Out {{ ref: \"${{record.email ?? \"\"}}\", total: record.lines.sum(l => l.price) }}
  sink o: stdout
}}"
        ));
        let order = source_layout(&p);
        let Type::List(line) = &order.fields["lines"] else { panic!() };
        let Type::Record(line) = &**line else { panic!() };
        assert!(d.reads(&order, 0), "id is a key field");
        assert!(d.reads(&order, 1) && d.reads(&order, 2));
        assert!(!d.reads(&order, 3) && !d.reads(&order, 4));
        assert!(d.reads(line, 1) && !d.reads(line, 0) && !d.reads(line, 2));
        assert!(!d.whole_record(&order));
    }

    #[test]
    fn records_used_whole_are_needed_whole() {
        // No map: the sink writes the order as it is.
        let (d, p) = demand_of(&format!(
            "{TYPES}
flow f {{
  source s: stdin : Order
  sink o: stdout
}}"
        ));
        assert!(d.whole_record(&source_layout(&p)));
        // A line put into a new record is needed whole, even through a function and a let.
        let (d, p) = demand_of(&format!(
            "{TYPES}
fn pick(o: Order) -> Line? = o.lines.first()
flow f {{
  source s: stdin : Order
  let l = pick(record)
  map {{ line: l }}
  sink o: stdout
}}"
        ));
        let order = source_layout(&p);
        let Type::List(line) = &order.fields["lines"] else { panic!() };
        let Type::Record(line) = &**line else { panic!() };
        assert!(d.whole_record(line));
        assert!(!d.whole_record(&order) && !d.reads(&order, 3));
    }

    #[test]
    fn a_record_passed_as_another_type_is_needed_whole() {
        // `Place` fits `City` by shape: inside `city_of`, reads count against `City`, so a
        // `Place` passed to it must be built whole.
        let src = r#"
type Place = { city: String?, zip: String? }
type City = { city: String? }
fn city_of(c: City) -> String? = c.city
flow f {
  source s: stdin : Place
  map { c: city_of(record) ?? "" }
  sink o: stdout
}"#;
        let (d, p) = demand_of(src);
        assert!(d.whole_record(&source_layout(&p)), "{d:#?}");
        // The same function on its own type reads one field only.
        let src = r#"
type City = { city: String?, zip: String? }
fn city_of(c: City) -> String? = c.city
flow f {
  source s: stdin : City
  map { c: city_of(record) ?? "" }
  sink o: stdout
}"#;
        let (d, p) = demand_of(src);
        let city = source_layout(&p);
        assert!(!d.whole_record(&city) && d.reads(&city, 0) && !d.reads(&city, 1));
    }
}
