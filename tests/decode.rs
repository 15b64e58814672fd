//! No input crashes the decoders: random bytes and mutated genuine payloads, decoded
//! against the stdlib's types through both the fast path and the serde path, which must
//! agree whenever the fast path answers. The fuzz target `decode` runs the same check
//! without bounds (see fuzz/README.md).

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flowgate::types::Type;
use flowgate::value::{decoders_agree, Plan};
use proptest::prelude::*;

/// Source types from the stdlib, each with the plan a flow reading part of it decodes
/// under, and untyped JSON.
fn targets() -> &'static [(Type, Plan)] {
    static TARGETS: OnceLock<Vec<(Type, Plan)>> = OnceLock::new();
    TARGETS.get_or_init(make_targets)
}

fn make_targets() -> Vec<(Type, Plan)> {
    let text = r#"
import shopify
import woocommerce

flow shop {
  source orders: stdin : shopify.Order
  filter record.line_items.count() > 0
  map { id: record.id, email: record.email ?? "", skus: record.line_items.map(l => l.sku ?? "") }
  sink out: stdout
}

flow woo {
  source orders: stdin : woocommerce.Order
  map { id: record.id, total: record.total }
  sink out: stdout
}
"#;
    let outcome = flowgate::check_text("decode.flow", text);
    let program = outcome.ir().unwrap_or_else(|| panic!("{:#?}", outcome.diagnostics));
    let mut out: Vec<(Type, Plan)> = program
        .flows
        .iter()
        .map(|f| (f.source.ty.clone(), Plan::for_type(&f.source.ty, &flowgate::ir::Demand::of_flow(&program, f))))
        .collect();
    out.push((Type::Json, Plan::Build));
    out
}

fn payloads() -> &'static [Vec<u8>] {
    static PAYLOADS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PAYLOADS.get_or_init(read_payloads)
}

fn read_payloads() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows/payloads/shopify/orders");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Every target, under its plan, built whole and only checked.
fn check_all(doc: &[u8], targets: &[(Type, Plan)]) {
    for (ty, plan) in targets {
        for plan in [plan, &Plan::Build, &Plan::Check] {
            if let Err(e) = decoders_agree(doc, ty, plan) {
                panic!("{e}");
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    /// A multi-byte character put in place of a byte.
    Char(usize, char),
    /// A multi-byte character put in place of a byte of a string that starts like a
    /// date (a timestamp or a date, whose bytes the decoders look at by offset): the
    /// `k`th such string, at `offset`.
    InDate(usize, usize, char),
}

/// Mostly bytes that mean something to JSON, sometimes any byte.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => proptest::sample::select(b"{}[]\",:\\ 0123456789-+.eEntfu\x1f\x7f".to_vec()), 1 => any::<u8>()]
}

fn wide() -> impl Strategy<Value = char> {
    proptest::sample::select(vec!['é', '☃', '😀', '\u{feff}'])
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<usize>(), byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
        1 => (any::<usize>(), byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        1 => any::<usize>().prop_map(Edit::Remove),
        1 => (any::<usize>(), wide()).prop_map(|(at, c)| Edit::Char(at, c)),
        2 => (any::<usize>(), 0..20usize, wide()).prop_map(|(k, at, c)| Edit::InDate(k, at, c)),
    ]
}

fn apply(doc: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut m = doc.to_vec();
    for e in edits {
        let len = m.len().max(1);
        match *e {
            Edit::Replace(at, b) if !m.is_empty() => m[at % len] = b,
            Edit::Insert(at, b) => m.insert(at % (m.len() + 1), b),
            Edit::Remove(at) if !m.is_empty() => drop(m.remove(at % len)),
            Edit::Char(at, c) if !m.is_empty() => {
                let at = at % len;
                m.splice(at..at + 1, c.to_string().into_bytes());
            }
            Edit::InDate(k, offset, c) => {
                let dated = |w: &[u8]| w[0] == b'"' && w[1..5].iter().all(u8::is_ascii_digit) && w[5] == b'-';
                let starts: Vec<usize> =
                    m.windows(6).enumerate().filter(|(_, w)| dated(w)).map(|(i, _)| i + 1).collect();
                if let Some(&start) = starts.get(k % starts.len().max(1)) {
                    let at = (start + offset).min(m.len() - 1);
                    m.splice(at..at + 1, c.to_string().into_bytes());
                }
            }
            _ => {}
        }
    }
    m
}

/// Cases are few and the whole is cut off after a few seconds: a debug build decodes
/// an order a few hundred times a second. The fuzz target goes on where this stops.
const BUDGET: Duration = Duration::from_secs(4);

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_crash_a_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check_all(&bytes, targets());
    }

    #[test]
    fn mutated_payloads_never_crash_a_decoder(which in any::<usize>(), edits in proptest::collection::vec(edit(), 1..4)) {
        static START: OnceLock<Instant> = OnceLock::new();
        if START.get_or_init(Instant::now).elapsed() > BUDGET {
            return Ok(());
        }
        let docs = payloads();
        let doc = apply(&docs[which % docs.len()], &edits);
        check_all(&doc, targets());
    }
}
