//! `enrich name: http.get { ... } : T`: a call out for each record whose answer, decoded
//! into the declared type, is bound for the stages after it.

use crate::diagnostic::{Code, Diagnostic};
use crate::options::{enrich_options, ENRICH_KINDS};
use crate::source::Span;
use crate::syntax::ast::{Enrich, ExprKind, StrPart};
use crate::types::Type;

use super::typed::{TEnrich, TStageKind};
use super::Checker;

impl Checker<'_> {
    pub(super) fn enrich(&mut self, e: &Enrich, rec: &Type) -> TStageKind {
        self.check_let_name(&e.name);
        let ty = match &e.ty {
            Some(t) => self.resolve_type(t),
            None => {
                // An answer taken as it comes would reach the stages as `Json`, and a
                // field the API renamed would fail in a map far from the call.
                let d = Diagnostic::new(
                    Code::UntypedEnrichment,
                    &self.file,
                    e.name.span,
                    format!("the answer bound to `{}` has no declared type", e.name.node),
                    "untyped",
                )
                .with_help(format!(
                    "declare what the answer is after the options block: `enrich {}: {} {{ ... }} : shopify.Order`, \
                     or `: T?` when finding nothing is expected",
                    e.name.node, e.kind.node
                ));
                self.report(d);
                Type::Error
            }
        };
        let options = match enrich_options(&e.kind.node) {
            Some(specs) => {
                self.options(&e.options, &specs, &format!("`enrich` {}", e.kind.node), e.kind.span, Some(rec))
            }
            None => {
                self.unknown_connector(&e.kind.node, e.kind.span, ENRICH_KINDS, "enrich");
                Vec::new()
            }
        };
        let select = e.options.iter().find(|o| o.name.node == "select").and_then(|o| self.select(&o.value));
        if enrich_options(&e.kind.node).is_some() && !e.options.iter().any(|o| o.name.node == "rate") {
            let d = Diagnostic::new(
                Code::UnlimitedEnrichment,
                &self.file,
                e.kind.span,
                format!("`enrich {}` calls out once for each record with no rate limit", e.name.node),
                "no `rate`",
            )
            .with_help("APIs limit callers (Shopify's REST API allows 2 requests a second): add e.g. `rate: 2/s`");
            self.report(d);
        }
        self.enrich_ahead.retain(|(n, _)| *n != e.name.node);
        let local = self.scope.bind(&e.name.node, ty.clone(), e.name.span, true);
        TStageKind::Enrich(Box::new(TEnrich {
            local,
            name: e.name.node.clone(),
            kind: e.kind.node.clone(),
            options,
            ty,
            select,
        }))
    }

    /// `select` is a JSONPath written out, so a mistake in it is found here rather than
    /// on the first record.
    fn select(&mut self, e: &crate::syntax::ast::Expr) -> Option<String> {
        let text = match &e.node {
            ExprKind::Str(parts) if parts.iter().all(|p| matches!(p, StrPart::Text(_))) => parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => t.as_str(),
                    StrPart::Interp(_) => "",
                })
                .collect::<String>(),
            _ => {
                self.bad_select(
                    e.span,
                    "`select` must be a JSONPath written as a plain string".into(),
                    "not a literal",
                );
                return None;
            }
        };
        match jsonpath_rust::parser::parse_json_path(&text) {
            Ok(_) => Some(text),
            Err(err) => {
                self.bad_select(e.span, format!("`{text}` is not a valid JSONPath: {err}"), "invalid JSONPath");
                None
            }
        }
    }

    fn bad_select(&mut self, span: Span, message: String, label: &str) {
        let d = Diagnostic::new(Code::InvalidEnrichSelect, &self.file, span, message, label)
            .with_help("write a path from the answer's root, e.g. `select: \"$.fulfillment_orders[0]\"`");
        self.report(d);
    }

    /// A name bound by an `enrich` further down, used before it: the answer is not there yet.
    pub(super) fn enrich_used_early(&mut self, name: &str, span: Span) -> bool {
        let Some((_, at)) = self.enrich_ahead.iter().find(|(n, _)| n == name) else { return false };
        let d = Diagnostic::new(
            Code::EnrichmentBeforeStage,
            &self.file,
            span,
            format!("`{name}` is used before the `enrich` stage that fetches it"),
            "not fetched yet",
        )
        .with_secondary(&self.file, *at, "fetched here")
        .with_help(format!("move this after the `enrich {name}` stage"));
        self.report(d);
        true
    }
}
