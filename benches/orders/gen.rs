//! Generates Shopify orders as NDJSON, one full `GET /orders/{id}.json` order object a line,
//! in the shape of flows/payloads/shopify/orders/*.json: customer, addresses, 3 to 8 line
//! items with tax lines, discount allocations and properties, shipping lines, fulfillments,
//! refunds, note attributes and every `*_set` money object, most of which the mapping never
//! reads. Money is sent as strings ("199.00"), tax rates and refund subtotals as bare numbers,
//! as Shopify does. An order is about 12.7 KB of compact JSON; the output depends only on the
//! seed and the count.
//!
//! Every order is valid for `shopify.Order` and its totals add up, so the flow delivers it,
//! except on purpose: about 2% have no shipping address (held `no_address`), about 1% are
//! cancelled (filtered), about 0.5% are a second delivery of the previous order (dropped by
//! the dedupe stage), and a few in ten thousand have no email anywhere (held `no_email`).
//! Some values need the mapping's cleaning: SKUs and emails with blanks around them, blank
//! `address2` lines, GB addresses without a province, UTC offsets written `+00:00`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Map, Number, Value};

/// What a generated file holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenStats {
    /// Lines written (second deliveries included).
    pub lines: u64,
    pub bytes: u64,
    pub no_shipping_address: u64,
    pub cancelled: u64,
    pub redelivered: u64,
}

/// xorshift64*: small, fast and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        (self.next_u64() >> 11) % n.max(1)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True `k` times in a thousand.
    pub fn per_mille(&mut self, k: u64) -> bool {
        self.below(1000) < k
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

struct Product {
    id: u64,
    title: &'static str,
    vendor: &'static str,
    sku: &'static str,
    cents: i64,
    grams: i64,
    variants: &'static [&'static str],
}

const PRODUCTS: &[Product] = &[
    Product {
        id: 632910392,
        title: "IPod Nano - 8gb",
        vendor: "Apple",
        sku: "IPOD2008",
        cents: 19900,
        grams: 200,
        variants: &["green", "red", "black", "silver"],
    },
    Product {
        id: 921728736,
        title: "IPod Touch 8GB",
        vendor: "Apple",
        sku: "IPOD2009",
        cents: 19900,
        grams: 250,
        variants: &["Black", "White"],
    },
    Product {
        id: 7513594,
        title: "Organic Cotton T-Shirt",
        vendor: "Northwind Apparel",
        sku: "NW-TEE",
        cents: 2450,
        grams: 180,
        variants: &["S / White", "M / White", "L / Black", "XL / Navy"],
    },
    Product {
        id: 7513601,
        title: "Merino Wool Beanie",
        vendor: "Northwind Apparel",
        sku: "NW-BEANIE",
        cents: 3200,
        grams: 90,
        variants: &["Charcoal", "Forest", "Rust"],
    },
    Product {
        id: 7513622,
        title: "Waxed Canvas Backpack",
        vendor: "Harbour Goods",
        sku: "HG-PACK",
        cents: 14900,
        grams: 1350,
        variants: &["Olive", "Tan"],
    },
    Product {
        id: 7513640,
        title: "Stoneware Mug 350ml",
        vendor: "Kiln & Co",
        sku: "KC-MUG",
        cents: 1800,
        grams: 420,
        variants: &["Speckled", "Matte Black", "Sage"],
    },
    Product {
        id: 7513655,
        title: "Pour-Over Coffee Set",
        vendor: "Kiln & Co",
        sku: "KC-POUR",
        cents: 5900,
        grams: 980,
        variants: &["Default Title"],
    },
    Product {
        id: 7513671,
        title: "Single Origin Coffee Beans 1kg",
        vendor: "Roastery 41",
        sku: "R41-BEANS",
        cents: 3495,
        grams: 1000,
        variants: &["Ethiopia / Whole Bean", "Colombia / Ground", "Brazil / Whole Bean"],
    },
    Product {
        id: 7513688,
        title: "Linen Tea Towel",
        vendor: "Harbour Goods",
        sku: "HG-TOWEL",
        cents: 1250,
        grams: 120,
        variants: &["Natural", "Striped"],
    },
    Product {
        id: 7513699,
        title: "Leather Card Holder",
        vendor: "Harbour Goods",
        sku: "HG-CARD",
        cents: 3900,
        grams: 60,
        variants: &["Tan", "Black", "Oxblood"],
    },
    Product {
        id: 7513702,
        title: "Trail Running Shoes",
        vendor: "Fell Sports",
        sku: "FS-TRAIL",
        cents: 12995,
        grams: 620,
        variants: &["UK 7", "UK 8", "UK 9", "UK 10", "UK 11"],
    },
    Product {
        id: 7513715,
        title: "Insulated Water Bottle 750ml",
        vendor: "Fell Sports",
        sku: "FS-BOTTLE",
        cents: 2799,
        grams: 380,
        variants: &["Slate", "Coral"],
    },
    Product {
        id: 7513729,
        title: "Yoga Mat 5mm",
        vendor: "Fell Sports",
        sku: "FS-MAT",
        cents: 4500,
        grams: 1800,
        variants: &["Plum", "Teal"],
    },
    Product {
        id: 7513733,
        title: "Scented Soy Candle",
        vendor: "Ember Home",
        sku: "EH-CANDLE",
        cents: 2200,
        grams: 300,
        variants: &["Fig", "Cedar", "Sea Salt"],
    },
    Product {
        id: 7513748,
        title: "Wool Throw Blanket",
        vendor: "Ember Home",
        sku: "EH-THROW",
        cents: 8900,
        grams: 1400,
        variants: &["Grey Herringbone", "Ochre"],
    },
    Product {
        id: 7513750,
        title: "Ceramic Planter",
        vendor: "Ember Home",
        sku: "EH-PLANT",
        cents: 2650,
        grams: 900,
        variants: &["Small", "Medium", "Large"],
    },
    Product {
        id: 7513766,
        title: "Noise Cancelling Headphones",
        vendor: "Volta Audio",
        sku: "VA-NC700",
        cents: 27900,
        grams: 250,
        variants: &["Black", "Silver"],
    },
    Product {
        id: 7513771,
        title: "USB-C Charging Cable 2m",
        vendor: "Volta Audio",
        sku: "VA-USBC",
        cents: 1499,
        grams: 50,
        variants: &["Default Title"],
    },
    Product {
        id: 7513785,
        title: "Hardcover Notebook A5",
        vendor: "Paper Mill",
        sku: "PM-NOTE",
        cents: 1695,
        grams: 350,
        variants: &["Dotted", "Lined", "Plain"],
    },
    Product {
        id: 7513790,
        title: "Fountain Pen",
        vendor: "Paper Mill",
        sku: "PM-PEN",
        cents: 6400,
        grams: 40,
        variants: &["Fine", "Medium"],
    },
];

/// A catalogue item is sold as a custom item (no product, no SKU) now and then.
const CUSTOM_ITEMS: &[(&str, i64)] =
    &[("Gift Wrapping", 500), ("Red Leather Coat", 12999), ("Custom Engraving Service", 1500), ("Repair Fee", 4000)];

struct Country {
    name: &'static str,
    code: &'static str,
    currency: &'static str,
    taxes_included: bool,
    /// (province, province code, tax title, tax rate in basis points)
    provinces: &'static [(Option<&'static str>, Option<&'static str>, &'static str, i64)],
    cities: &'static [(&'static str, &'static str)],
    phone: &'static str,
    offset_hours: i32,
    locale: &'static str,
}

const COUNTRIES: &[Country] = &[
    Country {
        name: "United States",
        code: "US",
        currency: "USD",
        taxes_included: false,
        provinces: &[
            (Some("New York"), Some("NY"), "NY State Tax", 400),
            (Some("California"), Some("CA"), "CA State Tax", 725),
            (Some("Kentucky"), Some("KY"), "State Tax", 600),
            (Some("Texas"), Some("TX"), "TX State Tax", 625),
            (Some("Oregon"), Some("OR"), "", 0),
        ],
        cities: &[
            ("Louisville", "40202"),
            ("Brooklyn", "11211"),
            ("Austin", "78701"),
            ("San Jose", "95113"),
            ("Portland", "97205"),
        ],
        phone: "+1 502-459-",
        offset_hours: -5,
        locale: "en-US",
    },
    Country {
        name: "Canada",
        code: "CA",
        currency: "CAD",
        taxes_included: false,
        provinces: &[
            (Some("Ontario"), Some("ON"), "HST", 1300),
            (Some("Quebec"), Some("QC"), "GST", 500),
            (Some("Alberta"), Some("AB"), "GST", 500),
        ],
        cities: &[("Ottawa", "K2P 1L4"), ("Toronto", "M5V 2T6"), ("Montréal", "H2X 1Y4"), ("Calgary", "T2P 1J9")],
        phone: "+1 613-555-",
        offset_hours: -5,
        locale: "en-CA",
    },
    Country {
        name: "United Kingdom",
        code: "GB",
        currency: "GBP",
        taxes_included: true,
        provinces: &[(None, None, "GB VAT", 2000), (Some("England"), Some("ENG"), "GB VAT", 2000)],
        cities: &[("London", "EC1V 9HX"), ("Manchester", "M1 1AE"), ("Bristol", "BS1 4DJ"), ("Leeds", "LS1 4AP")],
        phone: "+44 20 7946 ",
        offset_hours: 0,
        locale: "en-GB",
    },
    Country {
        name: "Germany",
        code: "DE",
        currency: "EUR",
        taxes_included: true,
        provinces: &[(None, None, "DE MwSt", 1900)],
        cities: &[("Berlin", "10115"), ("München", "80331"), ("Hamburg", "20095"), ("Köln", "50667")],
        phone: "+49 30 901820",
        offset_hours: 1,
        locale: "de",
    },
    Country {
        name: "France",
        code: "FR",
        currency: "EUR",
        taxes_included: true,
        provinces: &[(None, None, "FR TVA", 2000)],
        cities: &[("Paris", "75003"), ("Lyon", "69002"), ("Nantes", "44000")],
        phone: "+33 1 42 68 ",
        offset_hours: 1,
        locale: "fr",
    },
    Country {
        name: "Australia",
        code: "AU",
        currency: "AUD",
        taxes_included: true,
        provinces: &[(Some("New South Wales"), Some("NSW"), "GST", 1000), (Some("Victoria"), Some("VIC"), "GST", 1000)],
        cities: &[("Sydney", "2000"), ("Melbourne", "3000"), ("Newcastle", "2300")],
        phone: "+61 2 9374 ",
        offset_hours: 10,
        locale: "en-AU",
    },
];

const FIRST: &[&str] =
    &["Bob", "Jane", "Amélie", "Oliver", "Priya", "Kenji", "Sofia", "Liam", "Zoë", "Mateo", "Hannah", "Tomasz"];
const LAST: &[&str] =
    &["Norman", "Smith", "Dubois", "Nguyen", "Patel", "Tanaka", "García", "O'Brien", "Müller", "Kowalski", "Okafor"];
const STREETS: &[&str] = &[
    "Chestnut Street",
    "High Street",
    "Rue de Rivoli",
    "Hauptstraße",
    "King Street West",
    "George St",
    "Elm Avenue",
    "Market Lane",
];
const COMPANIES: &[&str] = &["Acme Trading Ltd", "Northwind GmbH", "Fabrikam Inc.", "Contoso Pty Ltd"];
/// Shipping methods: every title is in carriers.csv beside bench.flow.
const SHIPPING: &[(&str, &str, i64, i64)] = &[
    ("Free Shipping", "Free Shipping", 0, 0),
    ("Standard", "STANDARD", 499, 999),
    ("Standard Shipping", "Standard Shipping", 599, 899),
    ("Express", "EXPRESS", 1499, 2499),
    ("Express Shipping", "Express Shipping", 1299, 1999),
    ("UPS Ground", "03", 899, 1499),
    ("UPS 2nd Day Air", "02", 1999, 2999),
    ("USPS Priority Mail", "Priority", 795, 1295),
    ("DHL Express Worldwide", "P", 2495, 3995),
    ("Local Pickup", "Pickup", 0, 0),
];
const PROPERTIES: &[(&str, &str)] = &[
    ("Custom Engraving Front", "Happy Birthday"),
    ("Custom Engraving Back", "Merry Christmas"),
    ("Gift message", "For Sam, with love"),
    ("Monogram", "J.K.L."),
    ("Grind", "Espresso"),
];
const NOTES: &[&str] = &[
    "Please leave the parcel with the neighbour at no. 12.",
    "  Gift - please do not include the invoice.  ",
    "Ring twice, the bell is broken.",
    "Deliver after 5pm",
];

/// `cents` as Shopify's money text: "199.00", "-5.00".
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A bare JSON number with exactly this text (serde_json keeps it with arbitrary_precision).
fn num(text: &str) -> Value {
    Value::Number(Number::from_str(text).expect("a number"))
}

/// A tax rate in basis points as Shopify writes it: 600 -> 0.06, 725 -> 0.0725.
fn rate_text(bp: i64) -> String {
    let s = format!("0.{bp:04}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// `num / den` rounded half to even (both positive).
fn div_half_even(num: i64, den: i64) -> i64 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

fn money_set(cents: i64, currency: &str) -> Value {
    json!({
        "shop_money": { "amount": money(cents), "currency_code": currency },
        "presentment_money": { "amount": money(cents), "currency_code": currency },
    })
}

fn timestamp(secs: i64, offset_hours: i32) -> String {
    let offset = FixedOffset::east_opt(offset_hours * 3600).expect("offset");
    let t: DateTime<FixedOffset> = DateTime::from_timestamp(secs, 0).expect("time").with_timezone(&offset);
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

struct Line {
    json: Value,
    id: u64,
    net: i64,
    tax: i64,
}

struct Ctx<'a> {
    country: &'a Country,
    province: (Option<&'static str>, Option<&'static str>, &'static str, i64),
    cur: &'static str,
}

impl Ctx<'_> {
    /// The tax on a line (or shipping) of `net` cents: added on top, or included in it.
    fn tax(&self, net: i64) -> i64 {
        let bp = self.province.3;
        if bp == 0 || net <= 0 {
            0
        } else if self.country.taxes_included {
            div_half_even(net * bp, 10_000 + bp)
        } else {
            div_half_even(net * bp, 10_000)
        }
    }

    fn tax_lines(&self, tax: i64) -> Value {
        if self.province.3 == 0 {
            return json!([]);
        }
        json!([{
            "channel_liable": false,
            "price": money(tax),
            "price_set": money_set(tax, self.cur),
            "rate": num(&rate_text(self.province.3)),
            "title": self.province.2,
        }])
    }
}

fn address(rng: &mut Rng, ctx: &Ctx<'_>, first: &str, last: &str) -> Value {
    let (city, zip) = *rng.pick(ctx.country.cities);
    let street = format!("{} {}", rng.range(1, 240), rng.pick(STREETS));
    let address2 = match rng.below(10) {
        0..=5 => "".to_string(),
        6 => "   ".to_string(),
        _ => format!("Apt {}", rng.range(1, 60)),
    };
    json!({
        "first_name": first,
        "address1": street,
        "phone": format!("{}{:04}", ctx.country.phone, rng.below(10_000)),
        "city": city,
        "zip": zip,
        "province": ctx.province.0,
        "country": ctx.country.name,
        "last_name": last,
        "address2": address2,
        "company": if rng.per_mille(150) { Value::from(*rng.pick(COMPANIES)) } else { Value::Null },
        "latitude": num(&format!("{}.{:05}", rng.range(-40, 60), rng.below(100_000))),
        "longitude": num(&format!("{}.{:05}", rng.range(-120, 150), rng.below(100_000))),
        "name": format!("{first} {last}"),
        "country_code": ctx.country.code,
        "province_code": ctx.province.1,
    })
}

/// What a line sells: a catalogue product, or a custom item with only a title.
#[derive(Clone, Copy)]
enum Item {
    Product(&'static Product),
    Custom(&'static str),
}

/// One line item of `qty` at `price` cents, `alloc` cents of the order's discount taken off it.
fn line_item(rng: &mut Rng, ctx: &Ctx<'_>, id: u64, item: Item, price: i64, qty: i64, alloc: i64) -> Line {
    let cur = ctx.cur;
    let custom = matches!(item, Item::Custom(_));
    let (title, name, sku, product_id, variant_id, variant_title, vendor, grams) = match item {
        Item::Custom(t) => {
            (t.to_string(), t.to_string(), Value::Null, Value::Null, Value::Null, Value::Null, Value::Null, 0)
        }
        Item::Product(p) => {
            let vi = rng.below(p.variants.len() as u64) as usize;
            let v = p.variants[vi];
            let sku = format!("{}-{}", p.sku, v.to_uppercase().replace([' ', '/'], ""));
            // Now and then a SKU as a merchant typed it, with blanks around.
            let sku = if rng.per_mille(30) { format!(" {sku} ") } else { sku };
            let name = if v == "Default Title" { p.title.to_string() } else { format!("{} - {v}", p.title) };
            (
                p.title.to_string(),
                name,
                Value::from(sku),
                Value::from(p.id),
                Value::from(p.id * 10 + vi as u64),
                if v == "Default Title" { Value::Null } else { Value::from(v) },
                Value::from(p.vendor),
                p.grams,
            )
        }
    };
    let gross = price * qty;
    let net = gross - alloc;
    let tax = ctx.tax(net);
    let properties: Vec<Value> = if rng.per_mille(200) {
        (0..rng.range(1, 2))
            .map(|_| {
                let (n, v) = *rng.pick(PROPERTIES);
                json!({ "name": n, "value": v })
            })
            .collect()
    } else {
        Vec::new()
    };
    let allocations = if alloc > 0 {
        json!([{ "amount": money(alloc), "amount_set": money_set(alloc, cur), "discount_application_index": 0 }])
    } else {
        json!([])
    };
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    m.insert("admin_graphql_api_id".into(), format!("gid://shopify/LineItem/{id}").into());
    m.insert("attributed_staffs".into(), json!([]));
    m.insert("current_quantity".into(), qty.into());
    m.insert("fulfillable_quantity".into(), qty.into());
    m.insert("fulfillment_service".into(), "manual".into());
    m.insert("fulfillment_status".into(), Value::Null);
    m.insert("gift_card".into(), false.into());
    m.insert("grams".into(), grams.into());
    m.insert("name".into(), name.into());
    m.insert("price".into(), money(price).into());
    m.insert("price_set".into(), money_set(price, cur));
    m.insert("product_exists".into(), (!custom).into());
    m.insert("product_id".into(), product_id);
    m.insert("properties".into(), Value::Array(properties));
    m.insert("quantity".into(), qty.into());
    m.insert("requires_shipping".into(), true.into());
    m.insert("sku".into(), sku);
    m.insert("taxable".into(), (ctx.province.3 > 0).into());
    m.insert("title".into(), title.into());
    m.insert("total_discount".into(), "0.00".into());
    m.insert("total_discount_set".into(), money_set(0, cur));
    m.insert("variant_id".into(), variant_id);
    m.insert("variant_inventory_management".into(), if custom { Value::Null } else { "shopify".into() });
    m.insert("variant_title".into(), variant_title);
    m.insert("vendor".into(), vendor);
    m.insert("tax_lines".into(), ctx.tax_lines(tax));
    m.insert("duties".into(), json!([]));
    m.insert("discount_allocations".into(), allocations);
    Line { json: Value::Object(m), id, net, tax }
}

fn customer(rng: &mut Rng, id: u64, email: Value, first: &str, last: &str, ctx: &Ctx<'_>, created: &str) -> Value {
    let (city, zip) = *rng.pick(ctx.country.cities);
    json!({
        "id": id,
        "email": email,
        "created_at": created,
        "updated_at": created,
        "first_name": first,
        "last_name": last,
        "state": if rng.per_mille(700) { "enabled" } else { "disabled" },
        "note": Value::Null,
        "verified_email": true,
        "multipass_identifier": Value::Null,
        "tax_exempt": false,
        "phone": format!("{}{:04}", ctx.country.phone, rng.below(10_000)),
        "email_marketing_consent": {
            "state": if rng.per_mille(400) { "subscribed" } else { "not_subscribed" },
            "opt_in_level": "single_opt_in",
            "consent_updated_at": created,
        },
        "sms_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": Value::Null,
            "consent_collected_from": "OTHER",
        },
        "tags": if rng.per_mille(300) { "VIP, wholesale" } else { "" },
        "currency": ctx.cur,
        "tax_exemptions": [],
        "admin_graphql_api_id": format!("gid://shopify/Customer/{id}"),
        "default_address": {
            "id": id + 17,
            "customer_id": id,
            "first_name": first,
            "last_name": last,
            "company": Value::Null,
            "address1": format!("{} {}", rng.range(1, 240), rng.pick(STREETS)),
            "address2": "",
            "city": city,
            "province": ctx.province.0,
            "country": ctx.country.name,
            "zip": zip,
            "phone": Value::Null,
            "name": format!("{first} {last}"),
            "province_code": ctx.province.1,
            "country_code": ctx.country.code,
            "country_name": ctx.country.name,
            "default": true,
        },
    })
}

/// One order: (its JSON, whether it has no shipping address, whether it is cancelled).
fn order(rng: &mut Rng, i: u64) -> (Value, bool, bool) {
    let country = rng.pick(COUNTRIES);
    let province = *rng.pick(country.provinces);
    let ctx = Ctx { country, province, cur: country.currency };
    let cur = ctx.cur;
    let id = 5_310_000_000_000 + i * 13;
    let number = 1001 + i;
    let created_secs = 1_740_787_200 + (i as i64) * 47 + rng.range(0, 40);
    let created = timestamp(created_secs, country.offset_hours);
    let updated = timestamp(created_secs + rng.range(0, 7200), country.offset_hours);
    let processed: Value = if rng.per_mille(970) { created.clone().into() } else { Value::Null };
    let (first, last) = (*rng.pick(FIRST), *rng.pick(LAST));
    let email_addr = format!(
        "{}.{}{}@mail.example.com",
        first.to_lowercase().replace(['é', 'ë'], "e"),
        last.to_lowercase().replace(['ü', 'í'], "u").replace('\'', ""),
        i % 997
    );
    // Mostly `email`; sometimes only `contact_email`, or only the customer's.
    let (email, contact_email): (Value, Value) = match rng.below(100) {
        0..=4 => (format!("  {email_addr} ").into(), email_addr.clone().into()),
        5..=10 => (Value::Null, email_addr.clone().into()),
        11..=12 => ("".into(), Value::Null),
        _ => (email_addr.clone().into(), email_addr.clone().into()),
    };

    // Lines, with a discount code now and then allocated across them.
    // 3 to 8 lines, fewer more often.
    let n_lines = match rng.below(100) {
        0..=34 => 3,
        35..=59 => 4,
        60..=76 => 5,
        77..=87 => 6,
        88..=94 => 7,
        _ => 8,
    };
    let order_custom = rng.per_mille(60);
    let mut specs = Vec::with_capacity(n_lines);
    for k in 0..n_lines {
        let custom = (order_custom && k == 0) || rng.per_mille(15);
        let (item, price) = if custom {
            let (title, cents) = *rng.pick(CUSTOM_ITEMS);
            (Item::Custom(title), cents)
        } else {
            // The catalogue price, or a sale price a little under it.
            let p = rng.pick(PRODUCTS);
            (Item::Product(p), if rng.per_mille(150) { p.cents - p.cents / 10 } else { p.cents })
        };
        let qty = match rng.below(10) {
            0..=6 => 1,
            7..=8 => 2,
            _ => 3,
        };
        specs.push((item, price, qty));
    }
    let gross: i64 = specs.iter().map(|(_, p, q)| p * q).sum();
    let (code, discount_type, discount_value, discount): (Option<&str>, &str, String, i64) = match rng.below(100) {
        0..=19 => (Some("SAVE10"), "percentage", "10.0".into(), div_half_even(gross * 10, 100)),
        20..=29 => (Some("TENOFF"), "fixed_amount", "10.0".into(), 1000.min(gross)),
        30..=34 => (Some("WELCOME15"), "percentage", "15.0".into(), div_half_even(gross * 15, 100)),
        _ => (None, "", String::new(), 0),
    };
    let mut allocated = 0;
    let mut lines = Vec::with_capacity(n_lines);
    for (k, (item, price, qty)) in specs.iter().copied().enumerate() {
        let alloc = if discount == 0 {
            0
        } else if k + 1 == n_lines {
            discount - allocated
        } else {
            discount * price * qty / gross
        };
        allocated += alloc;
        lines.push(line_item(rng, &ctx, 10_000_000_000 + i * 10 + k as u64, item, price, qty, alloc));
    }

    // Shipping: one method, or none for orders collected or sent free of any charge line.
    let shipping: Option<(&str, &str, i64)> = if rng.per_mille(900) {
        let (title, code, lo, hi) = *rng.pick(SHIPPING);
        let price = if hi == 0 { 0 } else { rng.range(lo / 100, hi / 100) * 100 + 99 };
        Some((title, code, price))
    } else {
        None
    };
    let ship_tax = shipping.map_or(0, |s| if country.taxes_included { ctx.tax(s.2) } else { 0 });
    let ship_price = shipping.map_or(0, |s| s.2);
    let line_tax: i64 = lines.iter().map(|l| l.tax).sum();
    let total_tax = line_tax + ship_tax;
    let tip = if rng.per_mille(40) { rng.range(2, 5) * 100 } else { 0 };
    let subtotal = gross - discount;
    let total = subtotal + if country.taxes_included { 0 } else { total_tax } + ship_price + tip;
    let weight: i64 = lines.iter().map(|l| l.json["grams"].as_i64().unwrap_or(0)).sum();

    let no_shipping_address = rng.per_mille(20);
    let cancelled = rng.per_mille(10);
    let ship_to = address(rng, &ctx, first, last);
    let bill_to = match rng.below(20) {
        0..=2 => Value::Null,
        3..=5 => {
            let other = *rng.pick(FIRST);
            address(rng, &ctx, other, last)
        }
        _ => ship_to.clone(),
    };
    let shipping_lines: Vec<Value> = shipping
        .iter()
        .map(|(title, code, price)| {
            json!({
                "id": id / 1000 + 369,
                "carrier_identifier": Value::Null,
                "code": code,
                "discounted_price": money(*price),
                "discounted_price_set": money_set(*price, cur),
                "is_removed": false,
                "phone": Value::Null,
                "price": money(*price),
                "price_set": money_set(*price, cur),
                "requested_fulfillment_service_id": Value::Null,
                "source": "shopify",
                "title": title,
                "tax_lines": if ship_tax > 0 { ctx.tax_lines(ship_tax) } else { json!([]) },
                "discount_allocations": [],
            })
        })
        .collect();
    let mut order_tax_lines = Vec::new();
    if province.3 > 0 {
        order_tax_lines.push(json!({
            "price": money(total_tax),
            "rate": num(&rate_text(province.3)),
            "title": province.2,
            "price_set": money_set(total_tax, cur),
            "channel_liable": false,
        }));
    }
    let fulfillments: Vec<Value> = if !cancelled && rng.per_mille(300) {
        let shipped = if rng.per_mille(300) { 2 } else { 1 };
        let tracking = format!("1Z{:016}", id % 10_000_000_000_000_000);
        vec![json!({
            "id": id / 1000 + 255,
            "admin_graphql_api_id": format!("gid://shopify/Fulfillment/{}", id / 1000 + 255),
            "created_at": updated,
            "location_id": 655441491,
            "name": format!("#{number}.1"),
            "order_id": id,
            "origin_address": {},
            "receipt": { "testcase": false, "authorization": "123456" },
            "service": "manual",
            "shipment_status": if rng.per_mille(500) { Value::from("delivered") } else { Value::from("in_transit") },
            "status": "success",
            "tracking_company": "UPS",
            "tracking_number": tracking,
            "tracking_numbers": [tracking],
            "tracking_url": format!("https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={tracking}"),
            "tracking_urls": [format!("https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={tracking}")],
            "updated_at": updated,
            "line_items": lines[..shipped].iter().map(|l| l.json.clone()).collect::<Vec<_>>(),
        })]
    } else {
        Vec::new()
    };
    let refunds: Vec<Value> = if !cancelled && rng.per_mille(80) {
        let l = &lines[rng.below(n_lines as u64) as usize];
        let refund_id = id / 1000 + 509;
        vec![json!({
            "id": refund_id,
            "admin_graphql_api_id": format!("gid://shopify/Refund/{refund_id}"),
            "created_at": updated,
            "note": "it broke during shipping",
            "order_id": id,
            "processed_at": updated,
            "restock": true,
            "total_duties_set": money_set(0, cur),
            "user_id": 548380009,
            "order_adjustments": [],
            "transactions": [{
                "id": refund_id + 1,
                "admin_graphql_api_id": format!("gid://shopify/OrderTransaction/{}", refund_id + 1),
                "amount": money(l.net),
                "authorization": "authorization-key",
                "created_at": updated,
                "currency": cur,
                "device_id": Value::Null,
                "error_code": Value::Null,
                "gateway": "shopify_payments",
                "kind": "refund",
                "location_id": Value::Null,
                "message": Value::Null,
                "order_id": id,
                "parent_id": refund_id + 2,
                "processed_at": updated,
                "receipt": {},
                "source_name": "web",
                "status": "success",
                "test": false,
                "user_id": Value::Null,
            }],
            "refund_line_items": [{
                "id": refund_id + 3,
                "line_item_id": l.id,
                "location_id": 487838322,
                "quantity": 1,
                "restock_type": "return",
                "subtotal": num(&money(l.net)),
                "subtotal_set": money_set(l.net, cur),
                "total_tax": num(&money(l.tax)),
                "total_tax_set": money_set(l.tax, cur),
                "line_item": l.json.clone(),
            }],
            "duties": [],
            "additional_fees": [],
        })]
    } else {
        Vec::new()
    };
    let note_attributes: Vec<Value> = (0..rng.below(3))
        .map(|k| {
            let name = ["colour", "gift_wrap", "how_did_you_hear"][k as usize];
            json!({ "name": name, "value": "yes" })
        })
        .collect();
    let token = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    let total_weight = weight;

    let mut m = Map::new();
    m.insert("id".into(), id.into());
    m.insert("admin_graphql_api_id".into(), format!("gid://shopify/Order/{id}").into());
    m.insert("app_id".into(), 580111.into());
    m.insert("browser_ip".into(), format!("203.0.113.{}", rng.below(255)).into());
    m.insert("buyer_accepts_marketing".into(), rng.per_mille(400).into());
    m.insert("cancel_reason".into(), if cancelled { "customer".into() } else { Value::Null });
    m.insert("cancelled_at".into(), if cancelled { updated.clone().into() } else { Value::Null });
    m.insert("cart_token".into(), format!("{:016x}", rng.next_u64()).into());
    m.insert("checkout_id".into(), (id / 1000 + 901).into());
    m.insert("checkout_token".into(), format!("{:016x}", rng.next_u64()).into());
    m.insert(
        "client_details".into(),
        json!({
            "accept_language": "en-US,en;q=0.9",
            "browser_height": 900,
            "browser_ip": "203.0.113.7",
            "browser_width": 1440,
            "session_hash": Value::Null,
            "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
        }),
    );
    m.insert("closed_at".into(), Value::Null);
    m.insert("confirmation_number".into(), format!("{:09X}", rng.below(1 << 36)).into());
    m.insert("confirmed".into(), true.into());
    m.insert("contact_email".into(), contact_email);
    m.insert("created_at".into(), created.clone().into());
    m.insert("currency".into(), cur.into());
    m.insert("current_subtotal_price".into(), money(subtotal).into());
    m.insert("current_subtotal_price_set".into(), money_set(subtotal, cur));
    m.insert("current_total_additional_fees_set".into(), Value::Null);
    m.insert("current_total_discounts".into(), money(discount).into());
    m.insert("current_total_discounts_set".into(), money_set(discount, cur));
    m.insert("current_total_duties_set".into(), Value::Null);
    m.insert("current_total_price".into(), money(total).into());
    m.insert("current_total_price_set".into(), money_set(total, cur));
    m.insert("current_total_tax".into(), money(total_tax).into());
    m.insert("current_total_tax_set".into(), money_set(total_tax, cur));
    m.insert("customer_locale".into(), country.locale.into());
    m.insert("device_id".into(), Value::Null);
    m.insert(
        "discount_codes".into(),
        match code {
            Some(c) => json!([{ "code": c, "amount": money(discount), "type": discount_type }]),
            None => json!([]),
        },
    );
    m.insert("duties_included".into(), false.into());
    m.insert("email".into(), email);
    m.insert("estimated_taxes".into(), false.into());
    m.insert("financial_status".into(), if cancelled { "voided" } else { "paid" }.into());
    m.insert("fulfillment_status".into(), if fulfillments.is_empty() { Value::Null } else { "partial".into() });
    m.insert("landing_site".into(), "/products/organic-cotton-t-shirt?utm_source=newsletter".into());
    m.insert("landing_site_ref".into(), Value::Null);
    m.insert("location_id".into(), Value::Null);
    m.insert("merchant_business_entity_id".into(), "MTU0ODM4MDAwOQ".into());
    m.insert("merchant_of_record_app_id".into(), Value::Null);
    m.insert("name".into(), format!("#{number}").into());
    m.insert("note".into(), if rng.per_mille(150) { Value::from(*rng.pick(NOTES)) } else { Value::Null });
    m.insert("note_attributes".into(), Value::Array(note_attributes));
    m.insert("number".into(), (i + 1).into());
    m.insert("order_number".into(), number.into());
    m.insert(
        "order_status_url".into(),
        format!("https://example-shop.myshopify.com/548380009/orders/{token}/authenticate?key=c2VjcmV0").into(),
    );
    m.insert("original_total_additional_fees_set".into(), Value::Null);
    m.insert("original_total_duties_set".into(), Value::Null);
    m.insert("payment_gateway_names".into(), json!(["shopify_payments"]));
    m.insert("phone".into(), Value::Null);
    m.insert("po_number".into(), Value::Null);
    m.insert("presentment_currency".into(), cur.into());
    m.insert("processed_at".into(), processed);
    m.insert("reference".into(), Value::Null);
    m.insert("referring_site".into(), "https://www.google.com/".into());
    m.insert("source_identifier".into(), Value::Null);
    m.insert("source_name".into(), "web".into());
    m.insert("source_url".into(), Value::Null);
    m.insert("subtotal_price".into(), money(subtotal).into());
    m.insert("subtotal_price_set".into(), money_set(subtotal, cur));
    m.insert("tags".into(), if rng.per_mille(200) { "newsletter, repeat" } else { "" }.into());
    m.insert("tax_exempt".into(), false.into());
    m.insert("tax_lines".into(), Value::Array(order_tax_lines));
    m.insert("taxes_included".into(), country.taxes_included.into());
    m.insert("test".into(), false.into());
    m.insert("token".into(), token.into());
    m.insert("total_cash_rounding_payment_adjustment_set".into(), money_set(0, cur));
    m.insert("total_cash_rounding_refund_adjustment_set".into(), money_set(0, cur));
    m.insert("total_discounts".into(), money(discount).into());
    m.insert("total_discounts_set".into(), money_set(discount, cur));
    m.insert("total_line_items_price".into(), money(gross).into());
    m.insert("total_line_items_price_set".into(), money_set(gross, cur));
    m.insert("total_outstanding".into(), "0.00".into());
    m.insert("total_price".into(), money(total).into());
    m.insert("total_price_set".into(), money_set(total, cur));
    m.insert("total_shipping_price_set".into(), money_set(ship_price, cur));
    m.insert("total_tax".into(), money(total_tax).into());
    m.insert("total_tax_set".into(), money_set(total_tax, cur));
    m.insert("total_tip_received".into(), money(tip).into());
    m.insert("total_weight".into(), total_weight.into());
    m.insert("updated_at".into(), updated.into());
    m.insert("user_id".into(), Value::Null);
    m.insert("billing_address".into(), bill_to);
    let customer_email = if rng.per_mille(20) { Value::Null } else { email_addr.into() };
    let customer_id = 207_119_551 + i * 3;
    m.insert("customer".into(), customer(rng, customer_id, customer_email, first, last, &ctx, &created));
    m.insert(
        "discount_applications".into(),
        match code {
            Some(c) => json!([{
                "target_type": "line_item",
                "type": "discount_code",
                "value": discount_value,
                "value_type": discount_type,
                "allocation_method": "across",
                "target_selection": "all",
                "code": c,
            }]),
            None => json!([]),
        },
    );
    m.insert("fulfillments".into(), Value::Array(fulfillments));
    m.insert("line_items".into(), Value::Array(lines.into_iter().map(|l| l.json).collect()));
    m.insert("payment_terms".into(), Value::Null);
    m.insert("refunds".into(), Value::Array(refunds));
    m.insert("shipping_address".into(), if no_shipping_address { Value::Null } else { ship_to });
    m.insert("shipping_lines".into(), Value::Array(shipping_lines));
    (Value::Object(m), no_shipping_address, cancelled)
}

/// Writes `lines` orders as NDJSON to `path`, from `seed`.
pub fn write_orders(path: &Path, lines: u64, seed: u64) -> io::Result<GenStats> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = Rng::new(seed);
    let mut stats = GenStats::default();
    let mut previous = String::new();
    let mut i = 0;
    while stats.lines < lines {
        let text = if !previous.is_empty() && rng.per_mille(5) {
            stats.redelivered += 1;
            std::mem::take(&mut previous)
        } else {
            let (json, no_address, cancelled) = order(&mut rng, i);
            i += 1;
            stats.no_shipping_address += u64::from(no_address);
            stats.cancelled += u64::from(cancelled);
            serde_json::to_string(&json).map_err(io::Error::other)?
        };
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        stats.bytes += text.len() as u64 + 1;
        stats.lines += 1;
        previous = text;
    }
    out.flush()?;
    Ok(stats)
}
