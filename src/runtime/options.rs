//! A connector's options as its flow gives them, read by the names its kind declares in
//! `crate::options`: the table the checker checked them against. Reading a name the kind
//! does not declare is refused, so a connector and the checker cannot drift apart.

use std::time::Duration;

use super::eval::{compile, Compiled, Frame, Shared};
use super::stage::Stop;
use super::RuntimeError;
use crate::connectors::Format;
use crate::ir;
use crate::options::{enrich_options, sink_options, source_options, OptSpec};
use crate::value::Value;

pub(crate) struct Options<'a> {
    conn: &'a ir::Connector,
    specs: Vec<OptSpec>,
    shared: &'a Shared,
    /// `source`, `sink` or `enrich`, for messages.
    role: &'static str,
}

impl<'a> Options<'a> {
    pub fn source(conn: &'a ir::Connector, shared: &'a Shared) -> Result<Options<'a>, RuntimeError> {
        let specs = source_options(&conn.kind).ok_or_else(|| unknown("source", conn))?;
        Ok(Options { conn, specs, shared, role: "source" })
    }

    pub fn sink(conn: &'a ir::Connector, shared: &'a Shared) -> Result<Options<'a>, RuntimeError> {
        let specs = sink_options(&conn.kind).ok_or_else(|| unknown("sink", conn))?;
        Ok(Options { conn, specs, shared, role: "sink" })
    }

    pub fn enrich(conn: &'a ir::Connector, shared: &'a Shared) -> Result<Options<'a>, RuntimeError> {
        let specs = enrich_options(&conn.kind).ok_or_else(|| unknown("enrich", conn))?;
        Ok(Options { conn, specs, shared, role: "enrich" })
    }

    pub fn name(&self) -> &str {
        &self.conn.name
    }

    pub fn kind(&self) -> &str {
        &self.conn.kind
    }

    /// The option's expression, if the flow gives it.
    pub fn expr(&self, name: &str) -> Result<Option<&'a ir::Expr>, RuntimeError> {
        if !self.specs.iter().any(|s| s.name == name) {
            return Err(RuntimeError::Setup(format!(
                "the {} kind `{}` declares no option `{name}` (a connector reads an undeclared option)",
                self.role, self.conn.kind
            )));
        }
        Ok(self.conn.options.iter().find(|(n, _)| n == name).map(|(_, e)| e))
    }

    pub fn given(&self, name: &str) -> Result<bool, RuntimeError> {
        Ok(self.expr(name)?.is_some())
    }

    /// An option evaluated for each record.
    pub fn per_record(&self, name: &str) -> Result<Option<Compiled>, RuntimeError> {
        Ok(self.expr(name)?.map(compile))
    }

    /// An option that does not depend on a record, evaluated once.
    pub fn value(&self, name: &str) -> Result<Option<Value>, RuntimeError> {
        let Some(e) = self.expr(name)? else { return Ok(None) };
        let frame = Frame::new(Value::Null, Vec::new(), self.shared);
        compile(e)(&frame).map(Some).map_err(|e| {
            RuntimeError::Setup(format!(
                "{} `{}` option `{name}`: {}",
                self.role,
                self.conn.name,
                Stop::from_eval(e).message
            ))
        })
    }

    /// A plain string option written as a literal (`path: "orders/*.json"`).
    pub fn literal(&self, name: &str) -> Result<Option<String>, RuntimeError> {
        Ok(self.expr(name)?.and_then(const_str))
    }

    /// A literal the connector needs to start, such as a file sink's `path`.
    pub fn required_literal(&self, name: &str) -> Result<String, RuntimeError> {
        self.literal(name)?.ok_or_else(|| {
            RuntimeError::Setup(format!("{} `{}`: `{name}` must be a plain string", self.role, self.conn.name))
        })
    }

    pub fn duration(&self, name: &str) -> Result<Option<Duration>, RuntimeError> {
        Ok(match self.value(name)? {
            Some(Value::Duration(ms)) => Some(Duration::from_millis(ms)),
            _ => None,
        })
    }

    pub fn count(&self, name: &str) -> Result<Option<u64>, RuntimeError> {
        Ok(match self.value(name)? {
            Some(Value::Int(n)) => u64::try_from(n).ok(),
            _ => None,
        })
    }

    pub fn format(&self) -> Result<Option<Format>, RuntimeError> {
        Ok(self.literal("format")?.and_then(|f| Format::parse(&f)))
    }
}

fn unknown(role: &str, conn: &ir::Connector) -> RuntimeError {
    RuntimeError::Setup(format!("{role} `{}`: unknown kind `{}`", conn.name, conn.kind))
}

/// A constant string (`path: "orders/*.json"`), if the expression is one.
pub(crate) fn const_str(e: &ir::Expr) -> Option<String> {
    match &e.kind {
        ir::ExprKind::Concat(parts) => match parts.as_slice() {
            [ir::StrPart::Text(t)] => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}
