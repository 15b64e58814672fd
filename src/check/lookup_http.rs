//! `lookup carriers: String -> String = http(url, select: "$.carriers[*]", key: "name",
//! value: "code", refresh: 1h)`: a table fetched when a run starts, and again on a schedule.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Arg, Expr, ExprKind, LookupDecl, StrPart};
use crate::types::Type;

use super::typed::{TExprKind, THttpLookup, TLookupData};
use super::Checker;

impl Checker<'_> {
    /// `None` when the declaration is too broken to load; its diagnostics say why.
    pub(super) fn lookup_http(
        &mut self,
        l: &LookupDecl,
        loader_span: Span,
        args: &[Arg],
        value_ty: &Type,
    ) -> Option<TLookupData> {
        let mut url = None;
        let (mut headers, mut select, mut key, mut value, mut refresh_ms) = (None, None, None, None, None);
        for arg in args {
            match arg {
                Arg::Positional(e) if url.is_none() => url = Some(self.expr_against(e, &Type::String, "the URL")),
                Arg::Positional(e) => self.error(
                    Code::InvalidLookup,
                    e.span,
                    "`http(...)` takes one URL; name the other arguments",
                    "extra argument",
                ),
                Arg::Named(n, e) => match n.node.as_str() {
                    "headers" => headers = Some(self.headers(e)),
                    "select" => select = self.select_literal(e),
                    "key" => key = self.column(e),
                    "value" => value = self.column(e),
                    "refresh" => {
                        let t = self.positive_duration(e, "`refresh`");
                        if let TExprKind::Lit(crate::syntax::ast::Literal::Duration(ms)) = t.kind {
                            refresh_ms = Some(ms);
                        }
                    }
                    other => {
                        let d = Diagnostic::new(
                            Code::UnknownArgument,
                            &self.file,
                            n.span,
                            format!("`http` has no argument `{other}`"),
                            "unknown argument",
                        )
                        .with_help(
                            "an http lookup takes a URL, `headers:`, `select:`, `key:`, `value:` and `refresh:`",
                        );
                        self.report(d);
                    }
                },
            }
        }
        let Some(url) = url else {
            self.error(Code::InvalidLookup, loader_span, "`http(...)` needs the URL to fetch", "no URL");
            return None;
        };
        let Some(key) = key else {
            self.error(Code::InvalidLookup, l.span, "`http(...)` needs `key: \"field\"`", "no key field");
            return None;
        };
        if value.is_none() && !matches!(value_ty, Type::Record(_)) {
            self.error(
                Code::InvalidLookup,
                l.span,
                "`http(...)` needs `value: \"field\"` (or a record value type naming the fields)",
                "no value field",
            );
            return None;
        }
        Some(TLookupData::Http(Box::new(THttpLookup { url, headers, select, key, value, refresh_ms })))
    }

    /// A field name of the fetched rows, written as a plain string.
    fn column(&mut self, e: &Expr) -> Option<String> {
        let text = plain(e);
        if text.is_none() {
            self.error(
                Code::InvalidLookup,
                e.span,
                "lookup fields must be plain string literals",
                "expected a string such as \"code\"",
            );
        }
        text
    }

    /// `select:` of an http lookup, checked as an enrichment's is.
    fn select_literal(&mut self, e: &Expr) -> Option<String> {
        let Some(text) = plain(e) else {
            let d = Diagnostic::new(
                Code::InvalidEnrichSelect,
                &self.file,
                e.span,
                "`select` must be a JSONPath written as a plain string",
                "not a literal",
            );
            self.report(d);
            return None;
        };
        if let Err(err) = jsonpath_rust::parser::parse_json_path(&text) {
            let d = Diagnostic::new(
                Code::InvalidEnrichSelect,
                &self.file,
                e.span,
                format!("`{text}` is not a valid JSONPath: {err}"),
                "invalid JSONPath",
            )
            .with_help("write a path from the answer's root to the rows, e.g. `select: \"$.carriers[*]\"`");
            self.report(d);
            return None;
        }
        Some(text)
    }
}

fn plain(e: &Expr) -> Option<String> {
    match &e.node {
        ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Text(t)] => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}
