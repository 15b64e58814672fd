//! Yardstick 2: the generic way without flowgate. Each line is parsed into a whole
//! `serde_json::Value` (every field of the order, read or not), the fields the mapping needs
//! are picked out by name, money is rust_decimal parsed exactly from the string or number
//! text, and the output is built as a `serde_json::Value` by hand and written as NDJSON.
//! Same stages in the same order as bench.flow; held records go to a holds file.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::common::{clean, hold, json_number, parse_decimal, round2, street, timestamp, Hold, Holds, Outcome};

/// A missing or mistyped field: the record is held, as flowgate holds a schema mismatch.
fn mismatch(path: &str) -> Hold {
    Hold { code: "schema_mismatch", message: format!("`{path}` is missing or of the wrong type") }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => parse_decimal(s),
        Value::Number(n) => parse_decimal(n.as_str()),
        _ => None,
    }
}

fn decimal(v: &Value, key: &str) -> Result<Decimal, Hold> {
    v.get(key).and_then(decimal_of).ok_or_else(|| mismatch(key))
}

fn time(v: &Value, key: &str) -> Result<Option<DateTime<FixedOffset>>, Hold> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s).map(Some).map_err(|_| mismatch(key)),
        Some(_) => Err(mismatch(key)),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], Hold> {
    match v.get(key) {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(mismatch(key)),
    }
}

/// A list that may be absent or null: empty then.
fn opt_list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

fn money(d: Decimal) -> Value {
    Value::Number(json_number(round2(d)))
}

fn sum(items: &[Value], key: &str) -> Result<Decimal, Hold> {
    items.iter().map(|x| decimal(x, key)).sum()
}

/// An ERP address from a Shopify one whose street, city and country were checked.
fn erp_address(a: &Value, street: String, city: &str, country: &str) -> Value {
    let mut m = Map::with_capacity(8);
    m.insert("name".into(), opt(clean(text(a, "name"))));
    m.insert("company".into(), opt(clean(text(a, "company"))));
    m.insert("street".into(), Value::String(street));
    m.insert("city".into(), Value::String(city.to_string()));
    m.insert("region".into(), opt(clean(text(a, "province_code")).or_else(|| clean(text(a, "province")))));
    m.insert("postcode".into(), opt(clean(text(a, "zip"))));
    m.insert("country".into(), Value::String(country.to_string()));
    m.insert("phone".into(), opt(clean(text(a, "phone"))));
    Value::Object(m)
}

fn sales_line(l: &Value) -> Result<Value, Hold> {
    let price = decimal(l, "price")?;
    let qty = l.get("quantity").and_then(Value::as_i64).ok_or_else(|| mismatch("quantity"))?;
    let name = text(l, "name").ok_or_else(|| mismatch("name"))?;
    let discount = sum(opt_list(l, "discount_allocations"), "amount")?;
    let tax = sum(opt_list(l, "tax_lines"), "price")?;
    let props = opt_list(l, "properties");
    let description = if props.is_empty() {
        name.to_string()
    } else {
        let parts: Vec<String> = props
            .iter()
            .map(|p| format!("{}: {}", text(p, "name").unwrap_or(""), text(p, "value").unwrap_or("")))
            .collect();
        format!("{name} ({})", parts.join(", "))
    };
    let mut m = Map::with_capacity(7);
    m.insert("sku".into(), Value::String(clean(text(l, "sku")).unwrap_or("CUSTOM").to_string()));
    m.insert("description".into(), Value::String(description));
    m.insert("qty".into(), Value::from(qty));
    m.insert("unit_price".into(), money(price));
    m.insert("discount".into(), money(discount));
    m.insert("line_total".into(), money(price * Decimal::from(qty) - discount));
    m.insert("tax".into(), money(tax));
    Ok(Value::Object(m))
}

/// The flow's stages after the dedupe: `Ok(None)` is filtered, `Err` held.
fn map_order(o: &Value, carriers: &HashMap<String, String>) -> Result<Option<Value>, Hold> {
    if !o.get("cancelled_at").is_none_or(Value::is_null) || o.get("test").and_then(Value::as_bool).unwrap_or(false) {
        return Ok(None);
    }
    let line_items = list(o, "line_items")?;
    let shipping_lines = list(o, "shipping_lines")?;
    let total_price = decimal(o, "total_price")?;
    let total_tax = decimal(o, "total_tax")?;
    let total_discounts = decimal(o, "total_discounts")?;
    let taxes_included = o.get("taxes_included").and_then(Value::as_bool).ok_or_else(|| mismatch("taxes_included"))?;

    let skus_ok =
        line_items.iter().all(|l| l.get("product_id").is_none_or(Value::is_null) || clean(text(l, "sku")).is_some());
    let mut lines = Decimal::ZERO;
    for l in line_items {
        let qty = l.get("quantity").and_then(Value::as_i64).ok_or_else(|| mismatch("quantity"))?;
        lines += decimal(l, "price")? * Decimal::from(qty);
    }
    let shipping = sum(shipping_lines, "price")?;
    let tip = match o.get("total_tip_received") {
        None | Some(Value::Null) => Decimal::ZERO,
        Some(v) => decimal_of(v).ok_or_else(|| mismatch("total_tip_received"))?,
    };
    let tax = if taxes_included { Decimal::ZERO } else { total_tax };
    let totals_ok = lines - total_discounts + tax + shipping + tip == total_price;
    if !skus_ok {
        return Err(hold("missing_sku", "a catalogue line item has no SKU"));
    }
    if !totals_ok {
        return Err(hold("total_mismatch", "order total does not match its lines, discounts, tax, shipping and tips"));
    }

    let addr = match o.get("shipping_address") {
        Some(a @ Value::Object(_)) => a,
        _ => return Err(hold("no_address", "order has no shipping address")),
    };
    let ship_street = street(text(addr, "address1"), text(addr, "address2"));
    if ship_street.is_empty() {
        return Err(hold("no_street", "shipping address has no street"));
    }
    let ship_city = clean(text(addr, "city")).ok_or_else(|| hold("no_city", "shipping address has no city"))?;
    let ship_country =
        text(addr, "country_code").ok_or_else(|| hold("no_country", "shipping address has no country code"))?;
    let email = clean(text(o, "email"))
        .or_else(|| clean(text(o, "contact_email")))
        .or_else(|| clean(o.get("customer").and_then(|c| text(c, "email"))))
        .ok_or_else(|| hold("no_email", "order has no customer email"))?;
    let carrier = match shipping_lines.first() {
        Some(s) => {
            let title = text(s, "title").ok_or_else(|| mismatch("shipping_lines[0].title"))?;
            carriers.get(title).map(String::as_str).ok_or_else(|| Hold {
                code: "unknown_carrier",
                message: format!("no ERP carrier code for shipping method \"{title}\""),
            })?
        }
        None => "STD",
    };
    if total_price > Decimal::new(1_000_000, 2) {
        return Err(hold("high_value", "orders over 10000.00 need a manual check"));
    }

    let bill_to = match o.get("billing_address") {
        Some(b @ Value::Object(_)) => {
            let incomplete = |what: &str| Hold {
                code: "incomplete_billing_address",
                message: format!("billing address has no {what}"),
            };
            let street = street(text(b, "address1"), text(b, "address2"));
            if street.is_empty() {
                return Err(incomplete("street"));
            }
            let city = clean(text(b, "city")).ok_or_else(|| incomplete("city"))?;
            let country = text(b, "country_code").ok_or_else(|| incomplete("country code"))?;
            erp_address(b, street, city, country)
        }
        _ => Value::Null,
    };
    let order_date = match time(o, "processed_at")? {
        Some(t) => t,
        None => time(o, "created_at")?.ok_or_else(|| mismatch("created_at"))?,
    };
    let codes: Vec<Value> = list(o, "discount_codes")?
        .iter()
        .map(|d| text(d, "code").map(|c| Value::String(c.to_string())).ok_or_else(|| mismatch("discount_codes.code")))
        .collect::<Result<_, _>>()?;
    let out_lines: Vec<Value> = line_items.iter().map(sales_line).collect::<Result<_, _>>()?;

    let mut m = Map::with_capacity(15);
    m.insert("external_ref".into(), Value::String(text(o, "name").ok_or_else(|| mismatch("name"))?.to_string()));
    m.insert("order_date".into(), Value::String(timestamp(&order_date)));
    m.insert("customer_email".into(), Value::String(email.to_string()));
    m.insert("currency".into(), Value::String(text(o, "currency").ok_or_else(|| mismatch("currency"))?.to_string()));
    m.insert("prices_include_tax".into(), Value::Bool(taxes_included));
    m.insert("ship_to".into(), erp_address(addr, ship_street, ship_city, ship_country));
    m.insert("bill_to".into(), bill_to);
    m.insert("carrier".into(), Value::String(carrier.to_string()));
    m.insert("promotion_codes".into(), Value::Array(codes));
    m.insert("lines".into(), Value::Array(out_lines));
    m.insert("shipping_charge".into(), money(shipping));
    m.insert("tax_total".into(), money(total_tax));
    m.insert("discount_total".into(), money(total_discounts));
    m.insert("total".into(), money(total_price));
    m.insert("notes".into(), opt(clean(text(o, "note"))));
    Ok(Some(Value::Object(m)))
}

/// Reads NDJSON orders from `input`, writes sales orders to `output` and holds to `holds`.
pub fn run(input: &Path, output: &Path, holds: &Path, carriers: &HashMap<String, String>) -> io::Result<Outcome> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(input)?);
    let mut out = BufWriter::new(File::create(output)?);
    let mut held = Holds::new(BufWriter::new(File::create(holds)?));
    let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("input");
    let mut seen: HashSet<String> = HashSet::new();
    let mut outcome = Outcome::default();
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        outcome.records_in += 1;
        let order: Value = match serde_json::from_slice(&line) {
            Ok(v) => v,
            Err(e) => {
                held.write(
                    &Hold { code: "malformed_input", message: e.to_string() },
                    &format!("{name}:{n}"),
                    &line,
                    false,
                )?;
                *outcome.held.entry("malformed_input".to_string()).or_default() += 1;
                continue;
            }
        };
        let key = match (order.get("id").and_then(Value::as_i64), time(&order, "updated_at")) {
            (Some(id), Ok(Some(t))) => format!("{id}:{}", timestamp(&t)),
            _ => {
                held.write(&mismatch("id/updated_at"), &format!("{name}:{n}"), &line, true)?;
                *outcome.held.entry("schema_mismatch".to_string()).or_default() += 1;
                continue;
            }
        };
        if !seen.insert(key) {
            outcome.filtered += 1;
            continue;
        }
        match map_order(&order, carriers) {
            Ok(Some(so)) => {
                serde_json::to_writer(&mut out, &so)?;
                out.write_all(b"\n")?;
                outcome.delivered += 1;
            }
            Ok(None) => outcome.filtered += 1,
            Err(h) => {
                held.write(&h, &format!("{name}:{n}"), &line, true)?;
                *outcome.held.entry(h.code.to_string()).or_default() += 1;
            }
        }
    }
    out.flush()?;
    held.finish()?;
    Ok(outcome)
}
