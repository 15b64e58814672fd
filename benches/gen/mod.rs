//! A generator of large, realistic and type-correct `.flow` files for the benchmarks.
//!
//! The file imports `shopify` and `erp` from the stdlib and declares, in order:
//!
//! - shared types (a status union, an order line) and `record_count` entity types of 30
//!   to 40 fields each (every scalar kind, optionals, unions, lists of records, a link
//!   to the previous entity), plus one wide output type per flow;
//! - lookups with inline tables;
//! - four functions per entity (text, score, amount, state);
//! - flows, one per `flow_count`, each with a file source, a dedupe, many filters, a
//!   validate block, `let` bindings, a `hold when`, a long `map` into the output type,
//!   a second `map` into an `erp` type, a batch and two sinks; and one flow over
//!   `shopify.Order`.
//!
//! Everything declared is used (no unused-declaration warnings) and every value fits
//! the type it goes into: optionals are handled with `??`, Decimal amounts going into
//! `Decimal(2)` fields are rounded, and union fields only receive members.

use std::fmt::Write as _;

/// How much to generate. `Size::for_lines(n)` aims at about `n` lines.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// Entity types (each with its four functions).
    pub entities: usize,
    /// Lookups with inline tables.
    pub lookups: usize,
    /// Entries per lookup table.
    pub entries: usize,
    /// Flows over entities (one more, over `shopify.Order`, is always added).
    pub flows: usize,
    /// Fields of each flow's output type, all given in its `map`.
    pub out_fields: usize,
}

impl Size {
    /// About `lines` lines: the proportions of a large real project.
    pub fn for_lines(lines: usize) -> Size {
        let unit = (lines / 1000).max(1);
        Size { entities: 10 * unit, lookups: 4 * unit, entries: 24, flows: (unit / 2).max(2), out_fields: 180 }
    }
}

/// Scalar kinds of entity fields; an entity has `count(kind, entity)` fields of each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Str,
    OptStr,
    Money,
    Bool,
    OptInt,
    Rate,
}

const KINDS: &[(Kind, &str, &str)] = &[
    (Kind::Int, "i", "Int"),
    (Kind::Str, "s", "String"),
    (Kind::OptStr, "o", "String?"),
    (Kind::Money, "m", "Decimal(2)"),
    (Kind::Bool, "b", "Bool"),
    (Kind::OptInt, "n", "Int?"),
    (Kind::Rate, "r", "Decimal"),
];

/// How many fields of `kind` entity `e` has: 3 to 6, varying by entity.
fn count(kind: Kind, e: usize) -> usize {
    let k = KINDS.iter().position(|(x, ..)| *x == kind).unwrap_or(0);
    3 + (e + k) % 4
}

fn prefix(kind: Kind) -> &'static str {
    KINDS.iter().find(|(x, ..)| *x == kind).map_or("x", |(_, p, _)| p)
}

/// Field `j` of `kind`, wrapped into the entity's range.
fn field(kind: Kind, e: usize, j: usize) -> String {
    format!("{}{}", prefix(kind), j % count(kind, e))
}

const STATUSES: &[&str] = &["new", "open", "paid", "shipped", "cancelled"];
const REGIONS: &[&str] = &["north", "south", "east", "west"];

/// The whole file.
pub fn generate(size: Size) -> String {
    let mut out = String::with_capacity(512 * 1024);
    let w = &mut out;
    line(w, "// A generated integration project: entities, lookups, helpers and flows.");
    line(w, "import shopify");
    line(w, "import erp");
    line(w, "");
    shared_types(w);
    for e in 0..size.entities {
        entity_type(w, e);
    }
    for f in 0..size.flows {
        output_type(w, f, size);
    }
    for l in 0..size.lookups {
        lookup(w, l, size.entries);
    }
    for e in 0..size.entities {
        functions(w, e, size);
    }
    for f in 0..size.flows {
        entity_flow(w, f, size);
    }
    shopify_flow(w, size);
    out
}

fn line(w: &mut String, s: &str) {
    w.push_str(s);
    w.push('\n');
}

fn shared_types(w: &mut String) {
    let statuses: Vec<String> = STATUSES.iter().map(|s| format!("\"{s}\"")).collect();
    let regions: Vec<String> = REGIONS.iter().map(|s| format!("\"{s}\"")).collect();
    let _ = writeln!(w, "// Where an entity is in its life.\ntype Status = {}\n", statuses.join(" | "));
    let _ = writeln!(w, "type Region = {}\n", regions.join(" | "));
    line(w, "// One line of an entity: what was ordered, how many, at what price.");
    line(
        w,
        "type Line = {\n  sku: String\n  qty: Int\n  price: Decimal(2)\n  discount: Decimal(2)?\n  note: String?\n}\n",
    );
    line(w, "// A line as the outputs carry it.");
    line(w, "type OutLine = {\n  sku: String\n  qty: Int\n  unit_price: Decimal(2)\n  line_total: Decimal(2)\n}\n");
}

fn entity_type(w: &mut String, e: usize) {
    let _ = writeln!(w, "// Entity {e}: a record as the upstream system sends it.");
    let _ = writeln!(w, "type Entity{e} = {{");
    line(w, "  id: Int");
    line(w, "  code: String");
    line(w, "  status: Status");
    line(w, "  region: Region?");
    line(w, "  tags: [String]");
    line(w, "  lines: [Line]");
    for &(kind, p, ty) in KINDS {
        for j in 0..count(kind, e) {
            let _ = writeln!(w, "  {p}{j}: {ty}");
        }
    }
    line(w, "  \"x-trace-id\": String?");
    if e > 0 {
        let _ = writeln!(w, "  parent: Entity{}?", e - 1);
    }
    line(w, "}\n");
}

/// The kind of output field `k`: cycles through the shapes a `map` gives.
fn out_kind(k: usize) -> (&'static str, usize) {
    const SHAPES: &[&str] = &["String", "Int", "Decimal(2)", "Bool", "String?", "Status", "[OutLine]", "[String]"];
    (SHAPES[k % SHAPES.len()], k % SHAPES.len())
}

fn output_type(w: &mut String, f: usize, size: Size) {
    let _ = writeln!(w, "// What flow {f} delivers.");
    let _ = writeln!(w, "type Out{f} = {{");
    line(w, "  ref: String");
    line(w, "  location: String");
    line(w, "  available: Int");
    for k in 0..size.out_fields {
        let _ = writeln!(w, "  out{k}: {}", out_kind(k).0);
    }
    line(w, "}\n");
}

fn lookup(w: &mut String, l: usize, entries: usize) {
    let _ = writeln!(w, "// Upstream codes to downstream codes, table {l}.");
    let _ = writeln!(w, "lookup codes{l}: String -> String = {{");
    for k in 0..entries {
        let _ = writeln!(w, "  \"U{l:02}-{k:03}\" => \"D{:03}-{l:02}\"", (k * 7 + l) % 1000);
    }
    line(w, "}\n");
}

fn functions(w: &mut String, e: usize, size: Size) {
    let s0 = field(Kind::Str, e, 0);
    let o0 = field(Kind::OptStr, e, 0);
    let o1 = field(Kind::OptStr, e, 1);
    let i0 = field(Kind::Int, e, 0);
    let i1 = field(Kind::Int, e, 1);
    let n0 = field(Kind::OptInt, e, 0);
    let b0 = field(Kind::Bool, e, 0);
    let m0 = field(Kind::Money, e, 0);
    let m1 = field(Kind::Money, e, 1);
    let r0 = field(Kind::Rate, e, 0);
    let codes = e % size.lookups;
    // Each function of an entity also applies its namesake to the parent entity, so
    // every function is called from somewhere.
    let parent = |call: &str, default: &str| {
        if e == 0 {
            String::new()
        } else {
            format!("\n    + (x.parent?.{call}{}() ?? {default})", e - 1)
        }
    };
    let _ = writeln!(w, "// A one-line label for entity {e}.");
    let _ = writeln!(
        w,
        "fn label{e}(x: Entity{e}) -> String =\n  \"${{x.code}}/${{x.{s0}}} \" + (codes{codes}[x.code] ?? x.{o0} ?? x.{o1} ?? \"-\"){}\n",
        parent("label", "\"\"")
    );
    let _ = writeln!(w, "// A score for sorting entity {e}.");
    let _ = writeln!(
        w,
        "fn score{e}(x: Entity{e}) -> Int =\n  x.{i0} * 2 + x.{i1} - (x.{n0} ?? 0) + (if x.{b0} then 10 else 0) + x.lines.count(){}\n",
        parent("score", "0")
    );
    let _ = writeln!(w, "// The amount of entity {e}, lines included, before rounding.");
    let _ = writeln!(
        w,
        "fn amount{e}(x: Entity{e}) -> Decimal =\n  x.{m0} + x.{m1} * x.{r0} + x.lines.sum(l => l.price * l.qty - (l.discount ?? 0.00)){}\n",
        parent("amount", "0.00")
    );
    let cancelled = if e == 0 { "\"VOID\"".to_string() } else { format!("x.parent?.state{}() ?? \"VOID\"", e - 1) };
    let _ = writeln!(w, "// The downstream state of entity {e}.");
    let _ = writeln!(
        w,
        "fn state{e}(x: Entity{e}) -> String = match x.status {{\n  \"new\" | \"open\" => \"OPEN\"\n  \"paid\" => \"PAID\"\n  \"shipped\" => \"DONE\"\n  \"cancelled\" => {cancelled}\n}}\n"
    );
}

/// The entity flow `f` reads; flow 0 reads the last one, whose functions nothing else calls.
fn entity_of(f: usize, size: Size) -> usize {
    size.entities - 1 - (f * 7) % size.entities
}

fn entity_flow(w: &mut String, f: usize, size: Size) {
    let e = entity_of(f, size);
    let _ = writeln!(w, "// Flow {f}: entity {e} records, checked, translated and delivered in batches.");
    let _ = writeln!(w, "flow sync{f} {{");
    let _ = writeln!(w, "  source input: file {{ path: \"in/entity{e}/*.json\", format: \"json\" }} : Entity{e}\n");
    line(w, "  dedupe by \"${record.id}:${record.code}\" within 7d");
    line(w, "  filter record.status != \"cancelled\"");
    for j in 0..count(Kind::Int, e) * 3 {
        let i = field(Kind::Int, e, j);
        let s = field(Kind::Str, e, j);
        let _ = writeln!(w, "  filter record.{i} >= {} or record.{s} != \"\"", j * 10);
    }
    line(w, "");
    line(w, "  validate {");
    for j in 0..count(Kind::Int, e) * 3 {
        let i = field(Kind::Int, e, j);
        let m = field(Kind::Money, e, j);
        let _ = writeln!(
            w,
            "    record.{i} < 1000000 and record.{m} >= 0.00\n      else hold \"out_of_range_{j}\" \"entity ${{record.id}} has {i} = ${{record.{i}}}\""
        );
    }
    line(w, "    record.lines.count() > 0 else hold \"no_lines\"");
    line(w, "  }\n");
    let lets = 12;
    for j in 0..lets {
        let _ = match j % 4 {
            0 => writeln!(w, "  let v{j} = score{e}(record) + record.{}", field(Kind::Int, e, j)),
            1 => writeln!(w, "  let v{j}: String = label{e}(record) + \"#{j}\""),
            2 => writeln!(w, "  let v{j} = round(amount{e}(record) * {j}.5, 2, half_even)"),
            _ => writeln!(
                w,
                "  let v{j} = codes{}[record.{}] ?? \"UNMAPPED\"",
                (f + j) % size.lookups,
                field(Kind::Str, e, j)
            ),
        };
    }
    line(w, "");
    let m0 = field(Kind::Money, e, 0);
    let _ = writeln!(
        w,
        "  hold when record.{m0} > 1000000.00 \"high_value\" \"entity ${{record.id}} is worth ${{record.{m0}}}\"\n"
    );
    let _ = writeln!(w, "  map : Out{f} {{");
    line(w, "    ref: \"E${record.id}-${record.code}\"");
    let _ = writeln!(w, "    location: codes{}[record.code] ?? \"MAIN\"", f % size.lookups);
    let _ = writeln!(w, "    available: score{e}(record)");
    for k in 0..size.out_fields {
        let value = out_value(k, e, f, size, lets);
        let _ = writeln!(w, "    out{k}: {value}");
    }
    line(w, "  }\n");
    line(w, "  filter record.available >= 0 and record.ref != \"\"");
    line(w, "  map : erp.StockLevel {\n    sku: record.ref\n    location: record.location\n    available: record.available\n  }\n");
    line(w, "  batch { size: 100, max_wait: 5s }\n");
    line(w, "  sink erp: http.post {");
    let _ = writeln!(w, "    url: env(\"ERP_URL\") + \"/stock/{f}\"");
    line(w, "    headers: { Authorization: \"Bearer \" + secret(\"ERP_TOKEN\") }");
    line(w, "    retry: { attempts: 6, backoff: exponential(1s, max: 2m), on: [429, 5xx, timeout] }");
    line(w, "    rate: 10/s");
    line(w, "    concurrency: 4");
    line(w, "  }");
    let _ = writeln!(w, "  sink archive: file {{ path: \"out/sync{f}.ndjson\", format: \"ndjson\" }}");
    line(w, "}\n");
}

/// The value of output field `k` in flow `f` (over entity `e`), of type `out_kind(k)`.
fn out_value(k: usize, e: usize, f: usize, size: Size, lets: usize) -> String {
    let (_, shape) = out_kind(k);
    let j = k / 8;
    // The `let` bindings of kind `want` (see `entity_flow`), the `pick`th of them.
    let let_of = |want: usize, pick: usize| {
        let ks: Vec<usize> = (0..lets).filter(|x| x % 4 == want).collect();
        format!("v{}", ks[pick % ks.len()])
    };
    match shape {
        0 => match j % 4 {
            0 => format!("record.{}", field(Kind::Str, e, j)),
            1 => format!("{} + \":\" + state{e}(record)", let_of(1, j / 4)),
            2 => let_of(3, j / 4),
            _ => format!("codes{}[record.{}] ?? record.code", (f + j) % size.lookups, field(Kind::Str, e, j)),
        },
        1 => match j % 3 {
            0 => format!("record.{} + record.{}", field(Kind::Int, e, j), field(Kind::Int, e, j + 1)),
            1 => let_of(0, j / 3),
            _ => format!("(record.{} ?? 0) * {}", field(Kind::OptInt, e, j), j + 1),
        },
        2 => match j % 3 {
            0 => format!("record.{}", field(Kind::Money, e, j)),
            1 => let_of(2, j / 3),
            _ => format!(
                "round(record.{} * record.{} + 0.005, 2, half_up)",
                field(Kind::Money, e, j),
                field(Kind::Rate, e, j)
            ),
        },
        3 => format!(
            "record.{} and not (record.{} > {})",
            field(Kind::Bool, e, j),
            field(Kind::Int, e, j),
            j * 100
        ),
        4 => format!("record.{} ?? record.\"x-trace-id\"", field(Kind::OptStr, e, j)),
        5 if j % 2 == 1 && e > 0 => "record.parent?.status ?? record.status".to_string(),
        5 => "record.status".to_string(),
        6 => "record.lines.map(l => {\n      sku: l.sku\n      qty: l.qty\n      unit_price: l.price\n      line_total: round(l.price * l.qty - (l.discount ?? 0.00), 2, half_even)\n    })".to_string(),
        _ => format!("record.tags.map(t => t + \"-{j}\")"),
    }
}

fn shopify_flow(w: &mut String, size: Size) {
    line(w, "// Shopify orders to stock reservations in the back office.");
    line(w, "flow shopify_reservations {");
    line(w, "  source orders: file { path: \"in/shopify/*.json\", format: \"json\" } : shopify.Order");
    line(w, "  filter record.line_items.count() > 0");
    line(w, "  let who = record.email ?? hold \"no_email\" \"order ${record.name} has no email\"");
    line(w, "  split record.line_items");
    line(w, "  map : erp.StockLevel {");
    let _ = writeln!(w, "    sku: codes{}[record.sku ?? \"\"] ?? record.sku ?? hold \"no_sku\"", size.lookups - 1);
    line(w, "    location: if who == \"\" then \"MAIN\" else \"SHOP\"");
    line(w, "    available: 0 - record.quantity");
    line(w, "  }");
    line(w, "  sink out: stdout { format: \"ndjson\" }");
    line(w, "}");
}
