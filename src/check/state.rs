//! `state NAME: T by KEY = VALUE` and `filter ... else remember`: a value remembered per
//! key across runs. The binding is `T?` because a key seen for the first time has no
//! value yet, and the flow must say what that means before it compares or computes.

use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{Expr, FlowDecl, Ident, StageKind, TypeExpr};
use crate::types::{assignable, Type};

use super::error::mismatch;
use super::typed::{TStageKind, TState};
use super::Checker;

impl Checker<'_> {
    pub(super) fn state_stage(&mut self, name: &Ident, ty: &TypeExpr, key: &Expr, value: &Expr) -> TStageKind {
        let declared = self.resolve_type(ty);
        self.state_type(&declared, ty);
        let k = self.expr(key, Some(&Type::String));
        if !matches!(k.ty, Type::String | Type::Error | Type::Never) {
            let help = if k.ty.is_optional() {
                "a key must always be there: default it (`?? \"none\"`) or hold before this stage"
            } else {
                "build a string key, e.g. \"${record.location}:${record.sku}\""
            };
            let d = Diagnostic::new(
                Code::StateKeyNotString,
                &self.file,
                key.span,
                format!("the key of state `{}` must be a String, found {}", name.node, k.ty),
                format!("this is {}", k.ty),
            )
            .with_help(help);
            self.report(d);
        }
        let mut v = self.expr(value, Some(&declared));
        if !declared.is_error() {
            match assignable(&v.ty, &declared) {
                Ok(()) => {
                    self.note_widened(&v.ty, &declared);
                    if !matches!(v.ty, Type::Never) {
                        v.ty = declared.clone();
                    }
                }
                Err(why) => {
                    let what = format!("the value remembered by state `{}`", name.node);
                    let mut d = mismatch(&self.file, value.span, &v.ty, &declared, &why, &what);
                    d.code = Code::StateValueType;
                    self.report(d);
                }
            }
        }
        let mut bound_as = name.node.as_str();
        if let Some(first) = self.flow_states.iter().find(|(n, _)| *n == name.node).map(|(_, s)| *s) {
            // The first stays the one later stages read, so it is not reported unused too.
            bound_as = "";
            let d = Diagnostic::new(
                Code::DuplicateState,
                &self.file,
                name.span,
                format!("state `{}` is declared twice in this flow", name.node),
                "declared again here",
            )
            .with_secondary(&self.file, first, "first declared here")
            .with_help("one name keeps one value per key; give the second state another name");
            self.report(d);
        } else {
            self.flow_states.push((name.node.clone(), name.span));
            self.check_let_name(name);
        }
        let local = self.scope.bind(bound_as, declared.clone().optional(), name.span, !bound_as.is_empty());
        TStageKind::State(Box::new(TState { local, name: name.node.clone(), ty: declared, key: k, value: v }))
    }

    /// A remembered value is written to the state store and read back as its type; an
    /// optional one would remember an absence, which the binding (already optional for
    /// "nothing remembered yet") could not tell apart.
    fn state_type(&mut self, declared: &Type, ty: &TypeExpr) {
        if !declared.is_optional() {
            return;
        }
        let d = Diagnostic::new(
            Code::StateTypeNotStorable,
            &self.file,
            ty.span,
            format!("a state cannot remember values of type {declared}: it would remember an absence"),
            "optional",
        )
        .with_help(format!(
            "declare it as `{}`: the binding is optional already, absent while nothing is remembered",
            declared.unwrap_optional()
        ));
        self.report(d);
    }

    /// `else remember` commits state values; in a flow without a `state` stage it does
    /// nothing, which is probably not what was meant.
    pub(super) fn warn_remember_without_state(&mut self, f: &FlowDecl) {
        if f.stages.iter().any(|s| matches!(s.node, StageKind::State { .. })) {
            return;
        }
        for s in f.stages.iter().filter(|s| matches!(s.node, StageKind::FilterRemember(_))) {
            let d = Diagnostic::new(
                Code::RememberWithoutState,
                &self.file,
                s.span,
                format!("`else remember` in flow `{}`, which has no `state` stage", f.name.node),
                "nothing to remember",
            )
            .with_help("remove `else remember`, or add a `state NAME: T by KEY = VALUE` stage before the filter");
            self.report(d);
        }
    }
}
