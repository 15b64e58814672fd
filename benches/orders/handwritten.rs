//! Yardstick 1: the mapping written by hand in Rust, as a careful programmer would without
//! flowgate. Typed serde structs declare only the fields the mapping reads (serde skips the
//! rest of the order unread), money is rust_decimal parsed exactly from Shopify's strings or
//! numbers, timestamps are chrono values, and the output is the same `erp.SalesOrder` JSON,
//! written with serde_json. Same stages in the same order as bench.flow: dedupe, filters,
//! validation, holds, map; held records go to a holds file.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::common::{clean, decimal, hold, opt_decimal, round2, street, timestamp, Hold, Holds, Money, Outcome};

#[derive(Deserialize)]
struct Order {
    id: i64,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    customer: Option<Customer>,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
    #[serde(default)]
    processed_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    cancelled_at: Option<DateTime<FixedOffset>>,
    test: bool,
    currency: String,
    taxes_included: bool,
    #[serde(deserialize_with = "decimal")]
    total_price: Decimal,
    #[serde(deserialize_with = "decimal")]
    total_tax: Decimal,
    #[serde(deserialize_with = "decimal")]
    total_discounts: Decimal,
    #[serde(default, deserialize_with = "opt_decimal")]
    total_tip_received: Option<Decimal>,
    line_items: Vec<LineItem>,
    shipping_lines: Vec<ShippingLine>,
    discount_codes: Vec<DiscountCode>,
    #[serde(default)]
    billing_address: Option<Address>,
    #[serde(default)]
    shipping_address: Option<Address>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct Customer {
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct LineItem {
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(default)]
    sku: Option<String>,
    name: String,
    quantity: i64,
    #[serde(deserialize_with = "decimal")]
    price: Decimal,
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default)]
    tax_lines: Option<Vec<TaxLine>>,
    #[serde(default)]
    discount_allocations: Option<Vec<DiscountAllocation>>,
}

#[derive(Deserialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct TaxLine {
    #[serde(deserialize_with = "decimal")]
    price: Decimal,
}

#[derive(Deserialize)]
struct DiscountAllocation {
    #[serde(deserialize_with = "decimal")]
    amount: Decimal,
}

#[derive(Deserialize)]
struct ShippingLine {
    title: String,
    #[serde(deserialize_with = "decimal")]
    price: Decimal,
}

#[derive(Deserialize)]
struct DiscountCode {
    code: String,
}

#[derive(Deserialize)]
struct Address {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    address1: Option<String>,
    #[serde(default)]
    address2: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    province_code: Option<String>,
    #[serde(default)]
    zip: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Serialize)]
struct SalesOrder<'a> {
    external_ref: &'a str,
    order_date: String,
    customer_email: &'a str,
    currency: &'a str,
    prices_include_tax: bool,
    ship_to: ErpAddress<'a>,
    bill_to: Option<ErpAddress<'a>>,
    carrier: &'a str,
    promotion_codes: Vec<&'a str>,
    lines: Vec<SalesOrderLine<'a>>,
    shipping_charge: Money,
    tax_total: Money,
    discount_total: Money,
    total: Money,
    notes: Option<&'a str>,
}

#[derive(Serialize)]
struct ErpAddress<'a> {
    name: Option<&'a str>,
    company: Option<&'a str>,
    street: String,
    city: &'a str,
    region: Option<&'a str>,
    postcode: Option<&'a str>,
    country: &'a str,
    phone: Option<&'a str>,
}

#[derive(Serialize)]
struct SalesOrderLine<'a> {
    sku: &'a str,
    description: String,
    qty: i64,
    unit_price: Money,
    discount: Money,
    line_total: Money,
    tax: Money,
}

fn line_discount(l: &LineItem) -> Decimal {
    l.discount_allocations.as_ref().map_or(Decimal::ZERO, |d| d.iter().map(|a| a.amount).sum())
}

fn line_tax(l: &LineItem) -> Decimal {
    l.tax_lines.as_ref().map_or(Decimal::ZERO, |t| t.iter().map(|t| t.price).sum())
}

fn description(l: &LineItem) -> String {
    if l.properties.is_empty() {
        return l.name.clone();
    }
    let props: Vec<String> = l.properties.iter().map(|p| format!("{}: {}", p.name, p.value)).collect();
    format!("{} ({})", l.name, props.join(", "))
}

/// What became of one order.
enum End<'a> {
    Deliver(Box<SalesOrder<'a>>),
    Filter,
    Hold(Hold),
}

/// The flow's stages after the dedupe, on one decoded order.
fn map_order<'a>(o: &'a Order, carriers: &'a HashMap<String, String>) -> End<'a> {
    if o.cancelled_at.is_some() || o.test {
        return End::Filter;
    }
    // validate: both rules are checked; the first that fails names the hold.
    let skus_ok = o.line_items.iter().all(|l| l.product_id.is_none() || clean(l.sku.as_deref()).is_some());
    let lines: Decimal = o.line_items.iter().map(|l| l.price * Decimal::from(l.quantity)).sum();
    let shipping: Decimal = o.shipping_lines.iter().map(|s| s.price).sum();
    let tax = if o.taxes_included { Decimal::ZERO } else { o.total_tax };
    let totals_ok =
        lines - o.total_discounts + tax + shipping + o.total_tip_received.unwrap_or(Decimal::ZERO) == o.total_price;
    if !skus_ok {
        return End::Hold(hold("missing_sku", "a catalogue line item has no SKU"));
    }
    if !totals_ok {
        return End::Hold(hold(
            "total_mismatch",
            "order total does not match its lines, discounts, tax, shipping and tips",
        ));
    }

    let Some(addr) = &o.shipping_address else {
        return End::Hold(hold("no_address", "order has no shipping address"));
    };
    let ship_street = street(addr.address1.as_deref(), addr.address2.as_deref());
    if ship_street.is_empty() {
        return End::Hold(hold("no_street", "shipping address has no street"));
    }
    let Some(ship_city) = clean(addr.city.as_deref()) else {
        return End::Hold(hold("no_city", "shipping address has no city"));
    };
    let Some(ship_country) = addr.country_code.as_deref() else {
        return End::Hold(hold("no_country", "shipping address has no country code"));
    };
    let Some(email) = clean(o.email.as_deref())
        .or_else(|| clean(o.contact_email.as_deref()))
        .or_else(|| clean(o.customer.as_ref().and_then(|c| c.email.as_deref())))
    else {
        return End::Hold(hold("no_email", "order has no customer email"));
    };
    let carrier = match o.shipping_lines.first() {
        Some(s) => match carriers.get(&s.title) {
            Some(code) => code.as_str(),
            None => {
                let message = format!("no ERP carrier code for shipping method \"{}\"", s.title);
                return End::Hold(Hold { code: "unknown_carrier", message });
            }
        },
        None => "STD",
    };
    if o.total_price > Decimal::new(1_000_000, 2) {
        return End::Hold(hold("high_value", "orders over 10000.00 need a manual check"));
    }

    let bill_to = match &o.billing_address {
        None => None,
        Some(b) => {
            let incomplete = |what: &str| {
                End::Hold(Hold {
                    code: "incomplete_billing_address",
                    message: format!("billing address has no {what}"),
                })
            };
            let street = street(b.address1.as_deref(), b.address2.as_deref());
            if street.is_empty() {
                return incomplete("street");
            }
            let Some(city) = clean(b.city.as_deref()) else { return incomplete("city") };
            let Some(country) = b.country_code.as_deref() else { return incomplete("country code") };
            Some(ErpAddress {
                name: clean(b.name.as_deref()),
                company: clean(b.company.as_deref()),
                street,
                city,
                region: clean(b.province_code.as_deref()).or_else(|| clean(b.province.as_deref())),
                postcode: clean(b.zip.as_deref()),
                country,
                phone: clean(b.phone.as_deref()),
            })
        }
    };
    let lines = o
        .line_items
        .iter()
        .map(|l| {
            let discount = line_discount(l);
            SalesOrderLine {
                sku: clean(l.sku.as_deref()).unwrap_or("CUSTOM"),
                description: description(l),
                qty: l.quantity,
                unit_price: Money(round2(l.price)),
                discount: Money(round2(discount)),
                line_total: Money(round2(l.price * Decimal::from(l.quantity) - discount)),
                tax: Money(round2(line_tax(l))),
            }
        })
        .collect();
    End::Deliver(Box::new(SalesOrder {
        external_ref: &o.name,
        order_date: timestamp(o.processed_at.as_ref().unwrap_or(&o.created_at)),
        customer_email: email,
        currency: &o.currency,
        prices_include_tax: o.taxes_included,
        ship_to: ErpAddress {
            name: clean(addr.name.as_deref()),
            company: clean(addr.company.as_deref()),
            street: ship_street,
            city: ship_city,
            region: clean(addr.province_code.as_deref()).or_else(|| clean(addr.province.as_deref())),
            postcode: clean(addr.zip.as_deref()),
            country: ship_country,
            phone: clean(addr.phone.as_deref()),
        },
        bill_to,
        carrier,
        promotion_codes: o.discount_codes.iter().map(|d| d.code.as_str()).collect(),
        lines,
        shipping_charge: Money(round2(shipping)),
        tax_total: Money(round2(o.total_tax)),
        discount_total: Money(round2(o.total_discounts)),
        total: Money(round2(o.total_price)),
        notes: clean(o.note.as_deref()),
    }))
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
        let order: Order = match serde_json::from_slice(&line) {
            Ok(o) => o,
            Err(e) => {
                let (code, is_json) = if e.is_data() { ("schema_mismatch", true) } else { ("malformed_input", false) };
                held.write(&Hold { code, message: e.to_string() }, &format!("{name}:{n}"), &line, is_json)?;
                *outcome.held.entry(code.to_string()).or_default() += 1;
                continue;
            }
        };
        if !seen.insert(format!("{}:{}", order.id, timestamp(&order.updated_at))) {
            outcome.filtered += 1;
            continue;
        }
        match map_order(&order, carriers) {
            End::Deliver(so) => {
                serde_json::to_writer(&mut out, &so)?;
                out.write_all(b"\n")?;
                outcome.delivered += 1;
            }
            End::Filter => outcome.filtered += 1,
            End::Hold(h) => {
                held.write(&h, &format!("{name}:{n}"), &line, true)?;
                *outcome.held.entry(h.code.to_string()).or_default() += 1;
            }
        }
    }
    out.flush()?;
    held.finish()?;
    Ok(outcome)
}
