//! `flowgate graph`: a flow as a picture. Built from the lowered program, not the text,
//! so what it shows is what runs: the source, the stages in order, the lookups each
//! stage reads (through the functions it calls too), the sinks with their `when`
//! conditions, and every hold reason a record can end in, at the part that holds it.

mod render;
mod walk;

use std::collections::BTreeSet;

pub use render::{dot, mermaid};

use crate::ir::{Connector, Flow, Program, StageKind};

/// The parts of one flow and what each can do to a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowGraph {
    pub name: String,
    pub source: Part,
    pub stages: Vec<Part>,
    pub sinks: Vec<SinkPart>,
}

/// A source or a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `source orders: file`, `dedupe`, `hold when`.
    pub label: String,
    /// The record type for a source, empty for a stage.
    pub detail: String,
    pub line: usize,
    /// Lookups read here, by name.
    pub lookups: BTreeSet<String>,
    /// Hold reasons this part can give a record.
    pub holds: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkPart {
    pub part: Part,
    /// The sink's `when` condition as written, if it has one.
    pub when: Option<String>,
}

/// Hold reasons the runtime gives where the flow's text names none: input that cannot
/// be read or does not fit the source's type, and an HTTP request that fails for good
/// (a 4xx the policy does not retry, or the last attempt of one it does).
const SOURCE_HOLDS: [&str; 2] = ["malformed_input", "schema_mismatch"];
const HTTP_SINK_HOLDS: [&str; 2] = ["http_4xx", "retries_exhausted"];

impl FlowGraph {
    pub fn of(program: &Program, flow: &Flow) -> FlowGraph {
        let line = |c: &Connector| flow.file.line_col(c.span.start).0;
        let mut source = Part {
            label: format!("source {}: {}", flow.source.name, flow.source.kind),
            detail: flow.source.ty.to_string(),
            line: line(&flow.source),
            lookups: BTreeSet::new(),
            holds: SOURCE_HOLDS.iter().map(|s| s.to_string()).collect(),
        };
        let walker = walk::Walker::new(program);
        for (_, e) in &flow.source.options {
            walker.expr(e, &mut source.lookups, &mut source.holds);
        }
        let stages = flow
            .stages
            .iter()
            .map(|s| {
                let walker = walk::Walker::new(program);
                let mut part = Part {
                    label: s.kind.name().to_string(),
                    detail: String::new(),
                    line: s.line,
                    lookups: BTreeSet::new(),
                    holds: BTreeSet::new(),
                };
                let (lookups, holds) = (&mut part.lookups, &mut part.holds);
                match &s.kind {
                    StageKind::Filter(e) | StageKind::Split(e) | StageKind::Map(e) => walker.expr(e, lookups, holds),
                    StageKind::Let { name, value, .. } => {
                        part.label = format!("let {name}");
                        walker.expr(value, lookups, holds);
                    }
                    StageKind::Dedupe { key, .. } => walker.expr(key, lookups, holds),
                    StageKind::Validate(rules) => {
                        for r in rules {
                            walker.expr(&r.cond, lookups, holds);
                            walker.hold(&r.hold, lookups, holds);
                        }
                    }
                    StageKind::HoldWhen { cond, hold } => {
                        walker.expr(cond, lookups, holds);
                        walker.hold(hold, lookups, holds);
                    }
                    StageKind::Batch { .. } => {}
                    StageKind::Group(g) => {
                        walker.expr(&g.key, lookups, holds);
                        for (_, arg, _) in &g.aggregates {
                            if let Some(a) = arg {
                                walker.expr(a, lookups, holds);
                            }
                        }
                        walker.expr(&g.body, lookups, holds);
                    }
                    StageKind::Enrich(e) => {
                        part.label = format!("enrich {} ({})", e.name, e.call.kind);
                        for (_, x) in &e.call.options {
                            walker.expr(x, lookups, holds);
                        }
                    }
                    StageKind::FilterRemember(e) => walker.expr(e, lookups, holds),
                    StageKind::State(s) => {
                        part.label = format!("state {}", s.name);
                        walker.expr(&s.key, lookups, holds);
                        walker.expr(&s.value, lookups, holds);
                    }
                }
                part
            })
            .collect();
        let sinks = flow
            .sinks
            .iter()
            .map(|c| {
                let walker = walk::Walker::new(program);
                let mut part = Part {
                    label: format!("sink {}: {}", c.name, c.kind),
                    detail: String::new(),
                    line: line(c),
                    lookups: BTreeSet::new(),
                    holds: BTreeSet::new(),
                };
                if c.kind.starts_with("http.") {
                    part.holds.extend(HTTP_SINK_HOLDS.iter().map(|s| s.to_string()));
                }
                let mut when = None;
                for (name, e) in &c.options {
                    walker.expr(e, &mut part.lookups, &mut part.holds);
                    if name == "when" {
                        when = Some(flow.file.slice(e.span).split_whitespace().collect::<Vec<_>>().join(" "));
                    }
                }
                SinkPart { part, when }
            })
            .collect();
        FlowGraph { name: flow.name.clone(), source, stages, sinks }
    }

    /// Every part in order: the source, the stages, the sinks.
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        std::iter::once(&self.source).chain(&self.stages).chain(self.sinks.iter().map(|s| &s.part))
    }
}
