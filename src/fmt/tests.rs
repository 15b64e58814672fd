use super::format_text;

fn fmt(src: &str) -> String {
    match format_text("t.flow", src) {
        Ok(out) => out,
        Err(d) => panic!("does not parse: {}", crate::diagnostic::render_plain(&d)),
    }
}

#[test]
fn spacing_is_canonical() {
    let src = "import   shopify\nimport erp\nfn  f( a:Int,b : String? )->Int=a+1\n";
    assert_eq!(fmt(src), "import shopify\nimport erp\n\nfn f(a: Int, b: String?) -> Int = a + 1\n");
}

#[test]
fn parentheses_are_kept_only_where_precedence_needs_them() {
    let src = "fn f(a: Int) -> Int = ((a + 1)) * (2 - (a - 1)) + (-(-a))\n";
    assert_eq!(fmt(src), "fn f(a: Int) -> Int = (a + 1) * (2 - (a - 1)) + -(-a)\n");
    let src = "fn g(a: Int?) -> Bool = not (a == 1) and (not a == 2) or (if true then 1 else 2) > (a ?? 1) ?? 3\n";
    assert_eq!(
        fmt(src),
        "fn g(a: Int?) -> Bool = not a == 1 and not a == 2 or (if true then 1 else 2) > (a ?? 1) ?? 3\n"
    );
}

#[test]
fn a_record_that_fits_stays_on_one_line_and_a_map_is_one_field_a_line() {
    let src = "flow f { source s: stdin : {a: Int}\n map { a: record.a, b: {x: 1, y: 2} }\n sink o: stdout }";
    assert_eq!(
        fmt(src),
        "flow f {\n  source s: stdin {} : { a: Int }\n  map {\n    a: record.a\n    b: { x: 1, y: 2 }\n  }\n  sink o: stdout {}\n}\n"
    );
}

#[test]
fn a_spread_in_a_record_type_is_laid_out_as_a_field() {
    let src = "type L = {..orderwise.StockLevel,bin:String}\ntype M = {\n..A\n  ..B, c: Int\n}\n";
    assert_eq!(
        fmt(src),
        "type L = {\n  ..orderwise.StockLevel\n  bin: String\n}\n\ntype M = {\n  ..A\n  ..B\n  c: Int\n}\n"
    );
    let src = "type N = { lines: [{..Line,qty:Int}] }\n";
    assert_eq!(fmt(src), "type N = {\n  lines: [{ ..Line, qty: Int }]\n}\n");
}

#[test]
fn comments_stay_where_they_were() {
    let src = "// head\n\nimport shopify // the store\n/* before */ flow f {\n  // first\n  source s: stdin { /* none */ } : shopify.Order\n  filter true // always\n  map {\n    a: 1, // one\n    // b next\n    b: 2\n    // end of map\n  }\n  sink o: stdout {}\n  // last\n}\n// tail\n";
    let out = fmt(src);
    assert_eq!(
        out,
        "// head\n\nimport shopify // the store\n\n/* before */ flow f {\n  // first\n  source s: stdin {\n    /* none */\n  } : shopify.Order\n  filter true // always\n  map {\n    a: 1 // one\n    // b next\n    b: 2\n    // end of map\n  }\n  sink o: stdout {}\n  // last\n}\n// tail\n"
    );
    assert_eq!(fmt(&out), out);
}

#[test]
fn long_expressions_break_before_their_operators() {
    let long = "a_rather_long_name_for_a_value";
    let src = format!("fn f({long}: Int) -> Bool = {long} + {long} * 2 > {long} - 1 and {long} != 3\n");
    assert_eq!(
        fmt(&src),
        format!("fn f({long}: Int) -> Bool =\n  {long} + {long} * 2\n    > {long} - 1\n    and {long} != 3\n")
    );
}

#[test]
fn a_last_lambda_building_a_record_opens_on_the_call_line() {
    let src = "fn f(xs: [Int]) -> [{ a: Int, b: Int }] = xs.map(x => { a: x, b: x + 1, c_long_field_name: x * 2, d_long_field_name: x * 3, e_long_field_name: 5 })\n";
    assert_eq!(
        fmt(src),
        "fn f(xs: [Int]) -> [{ a: Int, b: Int }] =\n  xs.map(x => {\n    a: x\n    b: x + 1\n    c_long_field_name: x * 2\n    d_long_field_name: x * 3\n    e_long_field_name: 5\n  })\n"
    );
}

#[test]
fn a_condition_ending_in_hold_keeps_its_parentheses_before_a_reason() {
    let src = "flow f { source s: stdin : {a: Int?}\n hold when (record.a ?? hold \"x\") > 1 \"big\"\n hold when record.a == (null ?? hold \"x\") \"big\"\n sink o: stdout }";
    let out = fmt(src);
    assert!(out.contains("hold when record.a ?? hold \"x\" > 1 \"big\""), "{out}");
    assert!(out.contains("hold when (record.a == null ?? hold \"x\") \"big\""), "{out}");
    assert_eq!(fmt(&out), out);
}

#[test]
fn a_file_that_does_not_parse_is_refused() {
    assert!(format_text("t.flow", "flow {").is_err());
}
