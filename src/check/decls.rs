//! Declarations: `type`, `lookup` and `fn` items, and resolving written types.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::types::Fields;

use crate::confine::{ReadError, MAX_LOOKUP_BYTES};
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::lookup_file as lookups;
use crate::source::{Origin, Span};
use crate::syntax::ast::{
    Arg, ExprKind, FnDecl, Item, LookupBody, LookupDecl, Module, RecordTypeEntry, StrPart, TypeDecl, TypeExpr,
    TypeExprKind,
};

use super::typed::{TExpr, TExprKind, TFn, TLookup, TLookupData};
use super::{Checker, Declared, FnSig, LookupSig};
use crate::types::{RecordType, Type};

/// The type declarations of one module while they are resolved, each at most once.
struct Resolving<'a, 'd> {
    decls: &'a HashMap<String, &'d TypeDecl>,
    /// Record types are named `module.Name`, unless the module is an application.
    qualify: bool,
    /// The declarations being resolved, to find a type that contains itself.
    stack: HashSet<String>,
}

const BUILTIN_TYPES: &[&str] = &["String", "Int", "Decimal", "Float", "Bool", "Date", "DateTime", "Duration", "Json"];

impl Checker<'_> {
    pub(super) fn declare_types(&mut self, ast: &Module) {
        let mut decls: HashMap<String, &TypeDecl> = HashMap::new();
        for item in &ast.items {
            if let Item::Type(t) = item {
                if let Some(first) = decls.get(&t.name.node) {
                    let first = first.name.span;
                    self.duplicate(&t.name.node, t.name.span, first);
                    continue;
                }
                decls.insert(t.name.node.clone(), t);
            }
        }
        let mut order: Vec<&TypeDecl> = decls.values().copied().collect();
        order.sort_by_key(|t| t.span);
        // Asked once per module, not once per record type: asking per type made a file
        // of many types quadratic.
        let qualify = !(self.graph.get(self.module).file.origin == Origin::Inline || self.is_root_like());
        let mut resolving = Resolving { decls: &decls, qualify, stack: HashSet::new() };
        for t in order {
            self.resolve_decl(t, &mut resolving);
        }
    }

    fn resolve_decl(&mut self, t: &TypeDecl, r: &mut Resolving<'_, '_>) -> Type {
        if let Some(d) = self.env().types.get(&t.name.node) {
            return d.value.clone();
        }
        if r.stack.contains(&t.name.node) {
            self.error(
                Code::RecursiveType,
                t.name.span,
                format!("type `{}` refers to itself", t.name.node),
                "this type contains itself",
            );
            return Type::Error;
        }
        r.stack.insert(t.name.node.clone());
        let mut ty = self.type_expr(&t.ty, &mut |c, name| {
            let d = r.decls.get(name).copied()?;
            Some(c.resolve_decl(d, r))
        });
        r.stack.remove(&t.name.node);
        if let Type::Record(rec) = &ty {
            let name = if r.qualify { format!("{}.{}", self.env().name, t.name.node) } else { t.name.node.clone() };
            ty = Type::Record(Arc::new(RecordType { name: Some(name), fields: rec.fields.clone() }));
        }
        self.env_mut()
            .types
            .insert(t.name.node.clone(), Declared { value: ty.clone(), span: t.name.span, used: false });
        ty
    }

    /// Modules with flows are applications: their types print unqualified.
    fn is_root_like(&self) -> bool {
        crate::syntax::flows(&self.graph.get(self.module).ast).next().is_some()
    }

    /// Resolves a written type in the current module (declarations already resolved).
    pub(super) fn resolve_type(&mut self, t: &TypeExpr) -> Type {
        self.type_expr(t, &mut |_, _| None)
    }

    fn type_expr(&mut self, t: &TypeExpr, local: &mut dyn FnMut(&mut Self, &str) -> Option<Type>) -> Type {
        match &t.node {
            TypeExprKind::Named { module: None, name } => self.named_type(&name.node, name.span, local),
            TypeExprKind::Named { module: Some(m), name } => {
                self.qualified_type(&m.node, m.span, &name.node, name.span)
            }
            TypeExprKind::ScaledDecimal(s) => Type::Decimal(Some(*s)),
            TypeExprKind::List(inner) => self.type_expr(inner, local).list(),
            TypeExprKind::Optional(inner) => self.type_expr(inner, local).optional(),
            TypeExprKind::Literal(s) => Type::Union(vec![s.clone()].into()),
            TypeExprKind::Record(fields) => {
                let mut out = Fields::default();
                for f in fields {
                    let ty = self.type_expr(&f.ty, local);
                    if out.insert(f.name.node.clone(), ty).is_some() {
                        self.error(
                            Code::DuplicateDefinition,
                            f.name.span,
                            format!("field `{}` is declared twice", f.name.node),
                            "declared again here",
                        );
                    }
                }
                Type::Record(Arc::new(RecordType { name: None, fields: out }))
            }
            TypeExprKind::RecordSpread(entries) => self.record_with_spreads(entries, local),
            TypeExprKind::Union(members) => self.union_type(members, local),
        }
    }

    /// `{ ..Base, extra: T }`: the fields of each spread record type and each field, in
    /// the order written. A field may come only once: a spread does not override.
    fn record_with_spreads(
        &mut self,
        entries: &[RecordTypeEntry],
        local: &mut dyn FnMut(&mut Self, &str) -> Option<Type>,
    ) -> Type {
        let mut out = Fields::default();
        // Where each field came from, to say so when one comes again.
        let mut origin: HashMap<String, (Span, String)> = HashMap::new();
        let mut broken = false;
        for e in entries {
            let (added, span, from): (Vec<(String, Type)>, Span, String) = match e {
                RecordTypeEntry::Field(f) => {
                    let ty = self.type_expr(&f.ty, local);
                    (vec![(f.name.node.clone(), ty)], f.name.span, "declared".to_string())
                }
                RecordTypeEntry::Spread { ty, span } => match self.type_expr(ty, local) {
                    Type::Record(rec) => {
                        let from = match &rec.name {
                            Some(n) => format!("spread from `{n}`"),
                            None => "spread".to_string(),
                        };
                        (rec.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), *span, from)
                    }
                    Type::Error => {
                        broken = true;
                        continue;
                    }
                    other => {
                        let d = Diagnostic::new(
                            Code::InvalidType,
                            &self.file,
                            *span,
                            format!("only a record type can be spread into a record type, found {other}"),
                            "not a record type",
                        )
                        .with_help("spread a named record type, `{ ..Base, extra: String }`, or declare the field");
                        self.report(d);
                        broken = true;
                        continue;
                    }
                },
            };
            for (name, ty) in added {
                if let Some((first, first_from)) = origin.get(&name) {
                    let d = Diagnostic::new(
                        Code::DuplicateDefinition,
                        &self.file,
                        span,
                        format!("field `{name}` is {from} here, but it is already {first_from}"),
                        format!("`{name}` again"),
                    )
                    .with_secondary(&self.file, *first, format!("`{name}` {first_from} here"))
                    .with_help("a spread does not override: give the field another name, or leave one out");
                    self.report(d);
                    continue;
                }
                origin.insert(name.clone(), (span, from.clone()));
                out.insert(name, ty);
            }
        }
        if broken {
            return Type::Error;
        }
        Type::Record(Arc::new(RecordType { name: None, fields: out }))
    }

    fn union_type(&mut self, members: &[TypeExpr], local: &mut dyn FnMut(&mut Self, &str) -> Option<Type>) -> Type {
        let mut names: Vec<String> = Vec::new();
        let mut optional = false;
        for m in members {
            match self.type_expr(m, local) {
                Type::Union(ms) => names.extend(ms.iter().cloned()),
                Type::Optional(inner) if matches!(*inner, Type::Union(_)) => {
                    optional = true;
                    if let Type::Union(ms) = *inner {
                        names.extend(ms.iter().cloned());
                    }
                }
                Type::Error => return Type::Error,
                other => {
                    self.error(
                        Code::InvalidType,
                        m.span,
                        format!("a union may only join string literals, found {other}"),
                        "not a string literal",
                    );
                    return Type::Error;
                }
            }
        }
        names.dedup();
        let u = Type::Union(names.into());
        if optional {
            u.optional()
        } else {
            u
        }
    }

    fn named_type(&mut self, name: &str, span: Span, local: &mut dyn FnMut(&mut Self, &str) -> Option<Type>) -> Type {
        match name {
            "String" => return Type::String,
            "Int" => return Type::Int,
            "Decimal" => return Type::Decimal(None),
            "Float" => return Type::Float,
            "Bool" => return Type::Bool,
            "Date" => return Type::Date,
            "DateTime" => return Type::DateTime,
            "Duration" => return Type::Duration,
            "Json" => return Type::Json,
            _ => {}
        }
        if let Some(d) = self.env_mut().types.get_mut(name) {
            d.used = true;
            return d.value.clone();
        }
        if let Some(t) = local(self, name) {
            return t;
        }
        let mut candidates: Vec<String> = BUILTIN_TYPES.iter().map(|s| s.to_string()).collect();
        candidates.extend(self.env().types.keys().cloned());
        candidates.extend(self.graph.get(self.module).ast.items.iter().filter_map(|i| match i {
            Item::Type(t) => Some(t.name.node.clone()),
            _ => None,
        }));
        let help = did_you_mean(name, candidates.iter().map(String::as_str));
        let d =
            Diagnostic::new(Code::UnknownType, &self.file, span, format!("unknown type `{name}`"), "not a known type")
                .with_help_opt(help.or_else(|| {
                    if name.chars().next().is_some_and(char::is_lowercase) {
                        Some("type names start with a capital letter: String, Int, Decimal, ...".into())
                    } else {
                        None
                    }
                }));
        self.report(d);
        Type::Error
    }

    fn qualified_type(&mut self, module: &str, mspan: Span, name: &str, span: Span) -> Type {
        let Some(target) = self.use_import(module, mspan) else {
            return Type::Error;
        };
        let Some(env) = self.envs.get(&target) else {
            return Type::Error; // the module failed to parse; already reported
        };
        if let Some(d) = env.types.get(name) {
            return d.value.clone();
        }
        let help = did_you_mean(name, env.types.keys().map(String::as_str));
        let d = Diagnostic::new(
            Code::UnknownType,
            &self.file,
            span,
            format!("module `{module}` has no type `{name}`"),
            "not declared there",
        )
        .with_help_opt(help);
        self.report(d);
        Type::Error
    }

    /// The module an import alias names, marked used; reports an unknown alias.
    pub(super) fn use_import(&mut self, alias: &str, span: Span) -> Option<usize> {
        if let Some(d) = self.env_mut().imports.get_mut(alias) {
            d.used = true;
            return Some(d.value);
        }
        if self.env().failed_imports.iter().any(|a| a == alias) {
            return None;
        }
        let imported: Vec<String> = self.env().imports.keys().cloned().collect();
        let help = if crate::modules::stdlib_module(alias).is_some() {
            Some(format!("add `import {alias}` at the top of the file"))
        } else {
            did_you_mean(alias, imported.iter().map(String::as_str))
        };
        let d = Diagnostic::new(
            Code::UnknownModule,
            &self.file,
            span,
            format!("`{alias}` is not an imported module"),
            "not imported",
        )
        .with_help_opt(help);
        self.report(d);
        None
    }

    pub(super) fn declare_signatures(&mut self, ast: &Module) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in &ast.items {
            let (name, span) = match item {
                Item::Fn(f) => (&f.name, f.name.span),
                Item::Lookup(l) => (&l.name, l.name.span),
                _ => continue,
            };
            if let Some(first) = seen.get(&name.node) {
                let first = *first;
                self.duplicate(&name.node, span, first);
                continue;
            }
            seen.insert(name.node.clone(), span);
            match item {
                Item::Fn(f) => self.declare_fn(f),
                Item::Lookup(l) => self.declare_lookup(l),
                _ => {}
            }
        }
    }

    fn declare_fn(&mut self, f: &FnDecl) {
        let params: Vec<(String, Type)> =
            f.params.iter().map(|p| (p.name.node.clone(), self.resolve_type(&p.ty))).collect();
        let ret = self.resolve_type(&f.ret);
        let index = self.program.fns.len();
        self.program.fns.push(TFn {
            name: f.name.node.clone(),
            module: self.env().name.clone(),
            params: Vec::new(),
            ret: ret.clone(),
            body: error_expr(f.span),
            span: f.name.span,
        });
        self.env_mut().fns.insert(
            f.name.node.clone(),
            Declared { value: FnSig { index, params, ret }, span: f.name.span, used: false },
        );
    }

    fn declare_lookup(&mut self, l: &LookupDecl) {
        let key = self.resolve_type(&l.key);
        let value = self.resolve_type(&l.value);
        if !(key.is_scalar() || key.is_error()) {
            self.error(
                Code::InvalidLookup,
                l.key.span,
                format!("a lookup key must be a string, number, boolean or date, not {key}"),
                "not a key type",
            );
        }
        let index = self.program.lookups.len();
        self.program.lookups.push(TLookup {
            name: l.name.node.clone(),
            module: self.env().name.clone(),
            key: key.clone(),
            value: value.clone(),
            data: TLookupData::Table(Vec::new()),
            span: l.name.span,
        });
        self.env_mut().lookups.insert(
            l.name.node.clone(),
            Declared { value: LookupSig { index, key, value }, span: l.name.span, used: false },
        );
    }

    pub(super) fn check_bodies(&mut self, ast: &Module) {
        for item in &ast.items {
            match item {
                Item::Fn(f) => self.check_fn_body(f),
                Item::Lookup(l) => self.check_lookup_body(l),
                _ => {}
            }
        }
    }

    fn check_fn_body(&mut self, f: &FnDecl) {
        let Some(sig) = self.env().fns.get(&f.name.node).filter(|d| d.span == f.name.span).map(|d| d.value.clone())
        else {
            return;
        };
        self.scope.reset_ids();
        self.scope.push();
        let mut params = Vec::new();
        for (p, (name, ty)) in f.params.iter().zip(&sig.params) {
            let id = self.scope.bind(name, ty.clone(), p.name.span, true);
            params.push((id, name.clone(), ty.clone()));
        }
        let body = self.expr_against(&f.body, &sig.ret, &format!("the result of `{}`", f.name.node));
        for local in self.scope.pop() {
            if !local.used && !local.name.starts_with('_') {
                let d = Diagnostic::new(
                    Code::UnusedBinding,
                    &self.file,
                    local.span,
                    format!("parameter `{}` is never used", local.name),
                    "never used",
                )
                .with_help(format!("remove it, or name it `_{}`", local.name));
                self.report(d);
            }
        }
        let slot = &mut self.program.fns[sig.index];
        slot.params = params;
        slot.body = body;
    }

    fn check_lookup_body(&mut self, l: &LookupDecl) {
        let Some(sig) = self.env().lookups.get(&l.name.node).filter(|d| d.span == l.name.span).map(|d| d.value.clone())
        else {
            return;
        };
        self.scope.reset_ids();
        self.scope.push();
        let data = match &l.body {
            LookupBody::Table(entries) => {
                let mut out = Vec::new();
                // Keys seen so far, by their text: a map, so a large table checks in linear time.
                let mut seen: HashMap<&str, Span> = HashMap::with_capacity(entries.len());
                let file = self.file.clone();
                for (k, v) in entries {
                    let key_text = file.slice(k.span);
                    if let Some(&first) = seen.get(key_text) {
                        let d = Diagnostic::new(
                            Code::DuplicateDefinition,
                            &self.file,
                            k.span,
                            format!("key {key_text} appears twice in lookup `{}`", l.name.node),
                            "repeated key",
                        )
                        .with_secondary(&self.file, first, "first given here");
                        self.report(d);
                    }
                    seen.entry(key_text).or_insert(k.span);
                    let tk = self.expr_against(k, &sig.key, "a lookup key");
                    let tv = self.expr_against(v, &sig.value, "a lookup value");
                    out.push((tk, tv));
                }
                TLookupData::Table(out)
            }
            LookupBody::File { loader, args } => {
                self.lookup_file(l, &loader.node, loader.span, args, &sig.key, &sig.value)
            }
        };
        self.scope.pop();
        self.program.lookups[sig.index].data = data;
    }

    /// `csv("file.csv", key: "sku", value: "code")`: checks the file exists and has the columns.
    fn lookup_file(
        &mut self,
        l: &LookupDecl,
        loader: &str,
        loader_span: Span,
        args: &[Arg],
        key_ty: &Type,
        value_ty: &Type,
    ) -> TLookupData {
        let empty = TLookupData::Table(Vec::new());
        if loader == "http" {
            return self.lookup_http(l, loader_span, args, value_ty).unwrap_or(empty);
        }
        if !matches!(loader, "csv" | "yaml" | "json") {
            let d = Diagnostic::new(
                Code::InvalidLookup,
                &self.file,
                loader_span,
                format!("unknown lookup loader `{loader}`"),
                "not a loader",
            )
            .with_help("a lookup is an inline table `{ key => value }` or a file: csv(...), yaml(...) or json(...)");
            self.report(d);
            return empty;
        }
        let mut path: Option<(String, Span)> = None;
        let mut key: Option<(String, Span)> = None;
        let mut value: Option<(String, Span)> = None;
        for arg in args {
            let text = literal_string(arg.expr());
            match (arg, text) {
                (Arg::Positional(e), Some(t)) if path.is_none() => path = Some((t, e.span)),
                (Arg::Named(n, e), Some(t)) if n.node == "key" => key = Some((t, e.span)),
                (Arg::Named(n, e), Some(t)) if n.node == "value" => value = Some((t, e.span)),
                (Arg::Named(n, _), _) if n.node != "key" && n.node != "value" => {
                    let d = Diagnostic::new(
                        Code::UnknownArgument,
                        &self.file,
                        n.span,
                        format!("`{loader}` has no argument `{}`", n.node),
                        "unknown argument",
                    )
                    .with_help("lookup files take a path, `key:` and `value:`");
                    self.report(d);
                }
                (a, _) => self.error(
                    Code::InvalidLookup,
                    a.expr().span,
                    "lookup file arguments must be plain string literals",
                    "expected a string such as \"carriers.csv\"",
                ),
            }
        }
        let Some((path, path_span)) = path else {
            self.error(Code::InvalidLookup, loader_span, format!("`{loader}(...)` needs a file path"), "no path");
            return empty;
        };
        let Some((key, key_span)) = key else {
            self.error(
                Code::InvalidLookup,
                l.span,
                format!("`{loader}(...)` needs `key: \"column\"`"),
                "no key column",
            );
            return empty;
        };
        let value_columns: Vec<(String, Span)> = match (&value, value_ty) {
            (Some(v), _) => vec![v.clone()],
            (None, Type::Record(r)) => r.fields.keys().map(|k| (k.clone(), l.value.span)).collect(),
            (None, _) => {
                self.error(
                    Code::InvalidLookup,
                    l.span,
                    format!("`{loader}(...)` needs `value: \"column\"` (or a record value type naming the columns)"),
                    "no value column",
                );
                return empty;
            }
        };
        let resolved = self.relative_path(&path);
        let read = self.graph.confinement.read_text(&resolved, MAX_LOOKUP_BYTES);
        let text = match read {
            Ok((_, text)) => text,
            Err(e) => {
                let (code, label) = match &e {
                    ReadError::Outside { .. } => (Code::PathOutside, "outside"),
                    ReadError::Io(_) => (Code::LookupFileMissing, "this file"),
                    _ => (Code::FileRefused, "not read"),
                };
                let d = Diagnostic::new(
                    code,
                    &self.file,
                    path_span,
                    format!("cannot read lookup file `{path}`: {e}"),
                    label,
                )
                .with_help(format!("paths are relative to the flow file; looked for {}", resolved.display()));
                self.report(d);
                return TLookupData::File {
                    format: loader.to_string(),
                    path: resolved,
                    key,
                    value: value.map(|v| v.0),
                };
            }
        };
        match lookup_columns(loader, &text) {
            Err(e) => {
                let d = Diagnostic::new(
                    Code::LookupFileMissing,
                    &self.file,
                    path_span,
                    format!("cannot read lookup file `{path}`: {e}"),
                    "this file",
                )
                .with_help(format!("paths are relative to the flow file; looked for {}", resolved.display()));
                self.report(d);
            }
            Ok(columns) => {
                if columns.contains(&key) {
                    self.lookup_duplicates(loader, &text, &path, path_span, &key, key_ty);
                }
                for (col, span) in std::iter::once((key.clone(), key_span)).chain(value_columns) {
                    if !columns.contains(&col) {
                        let help = did_you_mean(&col, columns.iter().map(String::as_str))
                            .unwrap_or_else(|| format!("the file has: {}", columns.join(", ")));
                        let d = Diagnostic::new(
                            Code::LookupColumnMissing,
                            &self.file,
                            span,
                            format!("lookup file `{path}` has no column `{col}`"),
                            "no such column",
                        )
                        .with_help(help);
                        self.report(d);
                    }
                }
            }
        }
        TLookupData::File { format: loader.to_string(), path: resolved, key, value: value.map(|v| v.0) }
    }

    /// A key given by two rows of a lookup file, found by the code that loads the file
    /// at run start, so the check and the run agree on what a repeat is.
    fn lookup_duplicates(&mut self, loader: &str, text: &str, path: &str, span: Span, key: &str, key_ty: &Type) {
        let Ok(rows) = lookups::file_rows(loader, text) else { return };
        let Err(lookups::KeyError::Duplicate(dup)) = lookups::row_keys(&rows, key, key_ty) else { return };
        let d = Diagnostic::new(
            Code::DuplicateDefinition,
            &self.file,
            span,
            format!("lookup file `{path}` gives the key `{}` twice: {} and {}", dup.key, dup.first, dup.second),
            "repeated key in this file",
        )
        .with_help(format!("each key may appear once in column `{key}`; remove one of the rows or correct its key"));
        self.report(d);
    }

    fn relative_path(&self, path: &str) -> PathBuf {
        match &self.file.origin {
            Origin::File(p) => p.parent().map_or_else(|| PathBuf::from(path), |d| d.join(path)),
            _ => PathBuf::from(path),
        }
    }
}

fn literal_string(e: &crate::syntax::ast::Expr) -> Option<String> {
    match &e.node {
        ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Text(t)] => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The column names of a lookup file: CSV headers, or the keys of the first object of a
/// YAML/JSON list of objects (or of a mapping's first value).
fn lookup_columns(loader: &str, text: &str) -> Result<Vec<String>, String> {
    match loader {
        "csv" => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let headers = reader.headers().map_err(|e| e.to_string())?;
            Ok(headers.iter().map(|h| h.trim().to_string()).collect())
        }
        "json" => {
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Ok(first_object_keys(&v))
        }
        _ => {
            let v = crate::yaml::from_str(text)?;
            Ok(first_object_keys(&v))
        }
    }
}

fn first_object_keys(v: &serde_json::Value) -> Vec<String> {
    let first = match v {
        serde_json::Value::Array(items) => items.first(),
        serde_json::Value::Object(map) => map.values().next().filter(|v| v.is_object()).or(Some(v)),
        _ => None,
    };
    match first {
        Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

pub(super) fn error_expr(span: Span) -> TExpr {
    TExpr { kind: TExprKind::Error, ty: Type::Error, span }
}
