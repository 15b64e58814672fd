//! The graph as Mermaid (for Markdown, the default) or Graphviz dot text.
//!
//! Both renderings share one layout: the parts top to bottom in the order a record
//! passes them, each lookup beside the parts that read it (dotted), and one node per
//! hold reason, `held: CODE`, reached by a dashed edge from every part that can hold
//! with it.

use std::fmt::Write;

use super::{FlowGraph, Part};

/// Node ids and labels, shared by the renderers.
struct Layout<'g> {
    parts: Vec<(String, &'g Part)>,
    /// (id of the last stage or the source, sink id, `when` condition)
    sink_edges: Vec<(String, String, Option<&'g str>)>,
    lookups: Vec<(String, &'g str)>,
    holds: Vec<(String, &'g str)>,
}

fn layout(g: &FlowGraph) -> Layout<'_> {
    let mut parts = vec![("source".to_string(), &g.source)];
    parts.extend(g.stages.iter().enumerate().map(|(i, s)| (format!("stage{}", i + 1), s)));
    let last = parts.last().map(|(id, _)| id.clone()).unwrap_or_default();
    let mut sink_edges = Vec::new();
    for (i, s) in g.sinks.iter().enumerate() {
        let id = format!("sink{}", i + 1);
        sink_edges.push((last.clone(), id.clone(), s.when.as_deref()));
        parts.push((id, &s.part));
    }
    let mut lookups: Vec<(String, &str)> = Vec::new();
    let mut holds: Vec<(String, &str)> = Vec::new();
    for (_, p) in &parts {
        for l in &p.lookups {
            if !lookups.iter().any(|(_, n)| n == l) {
                lookups.push((format!("lookup{}", lookups.len() + 1), l));
            }
        }
        for h in &p.holds {
            if !holds.iter().any(|(_, n)| n == h) {
                holds.push((format!("held{}", holds.len() + 1), h));
            }
        }
    }
    Layout { parts, sink_edges, lookups, holds }
}

impl Layout<'_> {
    fn id_of<'a>(list: &'a [(String, &str)], name: &str) -> &'a str {
        list.iter().find(|(_, n)| *n == name).map_or("", |(id, _)| id.as_str())
    }

    /// The lines of a part's label: what it is, its type, where it is.
    fn label(id: &str, p: &Part) -> Vec<String> {
        let head = match id.strip_prefix("stage") {
            Some(n) => format!("{n}. {}", p.label),
            None => p.label.clone(),
        };
        let mut lines = vec![head];
        if !p.detail.is_empty() {
            lines.push(p.detail.clone());
        }
        lines.push(format!("line {}", p.line));
        lines
    }
}

/// Mermaid flowchart text.
pub fn mermaid(g: &FlowGraph) -> String {
    let esc = |s: &str| s.replace('&', "#amp;").replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;");
    let l = layout(g);
    let mut out = format!("---\ntitle: flow {}\n---\nflowchart TD\n", g.name);
    for (id, p) in &l.parts {
        let text: Vec<String> = Layout::label(id, p).iter().map(|s| esc(s)).collect();
        let (open, close) = if id.starts_with("sink") || id == "source" { ("([", "])") } else { ("[", "]") };
        let _ = writeln!(out, "  {id}{open}\"{}\"{close}", text.join("<br/>"));
    }
    for (id, name) in &l.lookups {
        let _ = writeln!(out, "  {id}[(\"lookup {}\")]", esc(name));
    }
    for (id, code) in &l.holds {
        let _ = writeln!(out, "  {id}{{{{\"held: {}\"}}}}", esc(code));
    }
    let chain: Vec<&str> = l.parts.iter().map(|(id, _)| id.as_str()).filter(|id| !id.starts_with("sink")).collect();
    for w in chain.windows(2) {
        let _ = writeln!(out, "  {} --> {}", w[0], w[1]);
    }
    for (from, to, when) in &l.sink_edges {
        match when {
            Some(w) => {
                let _ = writeln!(out, "  {from} -- \"when {}\" --> {to}", esc(w));
            }
            None => {
                let _ = writeln!(out, "  {from} --> {to}");
            }
        }
    }
    for (id, p) in &l.parts {
        for name in &p.lookups {
            let _ = writeln!(out, "  {} -.-> {id}", Layout::id_of(&l.lookups, name));
        }
        for code in &p.holds {
            let _ = writeln!(out, "  {id} -.-> {}", Layout::id_of(&l.holds, code));
        }
    }
    out
}

/// Graphviz dot text.
pub fn dot(g: &FlowGraph) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let l = layout(g);
    let mut out = format!("digraph \"{}\" {{\n  node [shape=box, fontname=\"Helvetica\"];\n", esc(&g.name));
    for (id, p) in &l.parts {
        let text: Vec<String> = Layout::label(id, p).iter().map(|s| esc(s)).collect();
        let shape = if id.starts_with("sink") || id == "source" { ", style=rounded" } else { "" };
        let _ = writeln!(out, "  {id} [label=\"{}\"{shape}];", text.join("\\n"));
    }
    for (id, name) in &l.lookups {
        let _ = writeln!(out, "  {id} [label=\"lookup {}\", shape=cylinder];", esc(name));
    }
    for (id, code) in &l.holds {
        let _ = writeln!(out, "  {id} [label=\"held: {}\", shape=octagon];", esc(code));
    }
    let chain: Vec<&str> = l.parts.iter().map(|(id, _)| id.as_str()).filter(|id| !id.starts_with("sink")).collect();
    for w in chain.windows(2) {
        let _ = writeln!(out, "  {} -> {};", w[0], w[1]);
    }
    for (from, to, when) in &l.sink_edges {
        match when {
            Some(w) => {
                let _ = writeln!(out, "  {from} -> {to} [label=\"when {}\"];", esc(w));
            }
            None => {
                let _ = writeln!(out, "  {from} -> {to};");
            }
        }
    }
    for (id, p) in &l.parts {
        for name in &p.lookups {
            let _ = writeln!(out, "  {} -> {id} [style=dotted];", Layout::id_of(&l.lookups, name));
        }
        for code in &p.holds {
            let _ = writeln!(out, "  {id} -> {} [style=dashed];", Layout::id_of(&l.holds, code));
        }
    }
    out.push_str("}\n");
    out
}
