//! The JSON decoders never panic, and agree: any bytes, decoded against the stdlib's
//! source types (whole, checked only, and as a flow reading part of them plans it) and
//! as untyped JSON, through both the fast path and the serde path. Seed the corpus with
//! genuine payloads (see fuzz/README.md) so that mutants reach deep into them.
#![no_main]

use std::sync::OnceLock;

use flowgate::types::Type;
use flowgate::value::{decoders_agree, Plan};
use libfuzzer_sys::fuzz_target;

const FLOWS: &str = r#"
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

/// Each source type with the plans it is decoded under, and untyped JSON.
fn targets() -> &'static [(Type, Vec<Plan>)] {
    static TARGETS: OnceLock<Vec<(Type, Vec<Plan>)>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let outcome = flowgate::check_text("decode.flow", FLOWS);
        let program = outcome.ir().expect("the fuzzed flows check");
        let mut out: Vec<(Type, Vec<Plan>)> = program
            .flows
            .iter()
            .map(|f| {
                let ty = f.source.ty.clone();
                let read = Plan::for_type(&ty, &flowgate::ir::Demand::of_flow(&program, f));
                (ty, vec![read, Plan::Build, Plan::Check])
            })
            .collect();
        out.push((Type::Json, vec![Plan::Build, Plan::Check]));
        out
    })
}

fuzz_target!(|data: &[u8]| {
    for (ty, plans) in targets() {
        for plan in plans {
            if let Err(e) = decoders_agree(data, ty, plan) {
                panic!("the decoders disagree: {e}");
            }
        }
    }
});
