//! A hint for input that wraps records of the declared type instead of being one.
//!
//! APIs answer with envelopes: Shopify's `GET /orders/<id>.json` is `{"order": {...}}` and
//! its list `{"orders": [...]}`. Decoded against `shopify.Order`, such a body fails on the
//! first required field (`id`: found nothing), which sends an operator looking for a
//! missing id when the payload is fine and the flow reads it at the wrong level. The hint
//! names what was seen and the two fixes the language has: declaring the wrapper type and
//! splitting it, or, on a source that reads pages, selecting the records with `records`.
//!
//! Only input that already failed is looked at, so a run that decodes cleanly pays nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::decode::{decode_json_serde, Plan};
use crate::syntax::ast::{FieldDecl, Item, RecordTypeEntry, TypeExpr, TypeExprKind};
use crate::types::Type;

/// How a wrapper holds the declared type: one record in a field, or a list of them.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Holds {
    One,
    List,
}

/// The hint for input `bytes` that did not decode as `ty`, when it looks like a wrapper of
/// `ty`: a JSON object with none of `ty`'s fields and exactly one field whose value is a
/// record (or a list of records) that fits `ty`, or that is named after `ty` (`order` or
/// `orders` for an `Order`) and holds an object or a list of them.
pub(super) fn hint(bytes: &[u8], ty: &Type) -> Option<String> {
    let Type::Record(layout) = ty.strip_optional() else { return None };
    let serde_json::Value::Object(doc) = serde_json::from_slice::<serde_json::Value>(bytes).ok()? else {
        return None;
    };
    if doc.keys().any(|k| layout.fields.contains_key(k)) {
        return None;
    }
    let name = layout.name.as_deref()?;
    let (one, many) = field_names(name);
    let fits = |v: &serde_json::Value| {
        serde_json::to_vec(v).is_ok_and(|text| decode_json_serde(&text, ty, &Plan::Check).is_ok())
    };
    let mut found = doc.iter().filter_map(|(key, v)| {
        let holds = match v {
            serde_json::Value::Object(_) if *key == one || fits(v) => Holds::One,
            serde_json::Value::Array(items)
                if items.iter().all(serde_json::Value::is_object)
                    && (*key == many || !items.is_empty() && items.iter().all(fits)) =>
            {
                Holds::List
            }
            _ => return None,
        };
        Some((key.as_str(), holds))
    });
    let (key, holds) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(wording(name, key, holds, doc.len() == 1))
}

/// The hint's text: what the record holds, and how to read what is inside it.
fn wording(ty: &str, key: &str, holds: Holds, alone: bool) -> String {
    let only = if alone { "only " } else { "" };
    let (what, split, path) = match holds {
        Holds::One => (format!("a {ty}"), format!("split [record.{}]", flow_field(key)), json_path(key)),
        Holds::List => {
            (format!("a list of {ty}"), format!("split record.{}", flow_field(key)), format!("{}[*]", json_path(key)))
        }
    };
    let declare = match wrapper_type(ty, key, holds) {
        Some(w) => format!("declare the source as {w}"),
        None => {
            let field = match holds {
                Holds::One => ty.to_string(),
                Holds::List => format!("[{ty}]"),
            };
            format!("declare the source as a record type with `{}: {field}`", flow_field(key))
        }
    };
    format!(
        "this looks like a wrapper: the record has {only}\"{key}\", {what}; {declare} and add the stage `{split}`, \
         or, on an http.poll source, set records: \"{path}\""
    )
}

/// The names a field holding one `T` or a list of them usually has: `order` and `orders` for
/// `shopify.Order`, `inventory_level` and `inventory_levels` for `InventoryLevel`.
fn field_names(ty: &str) -> (String, String) {
    let base = ty.rsplit('.').next().unwrap_or(ty);
    let mut one = String::with_capacity(base.len() + 4);
    for (i, c) in base.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            one.push('_');
        }
        one.extend(c.to_lowercase());
    }
    let many = if one.ends_with('s') || one.ends_with('x') || one.ends_with("ch") || one.ends_with("sh") {
        format!("{one}es")
    } else if one.ends_with('y') && !one.ends_with("ay") && !one.ends_with("ey") && !one.ends_with("oy") {
        format!("{}ies", &one[..one.len() - 1])
    } else {
        format!("{one}s")
    };
    (one, many)
}

/// A field name as a flow writes it after `record.`: quoted unless it is a plain name.
fn flow_field(key: &str) -> String {
    if is_plain(key) {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// A field as a JSONPath from the root.
fn json_path(key: &str) -> String {
    if is_plain(key) {
        format!("$.{key}")
    } else {
        format!("$['{}']", key.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn is_plain(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The stdlib type that wraps `ty` the way the input does, as `module.Name`: a record type
/// of `ty`'s module whose field `key` is `ty` (or a list of it) and whose other fields are
/// optional, such as `shopify.OrderWrapper` for `{"order": ...}`.
fn wrapper_type(ty: &str, key: &str, holds: Holds) -> Option<String> {
    let (module, name) = ty.split_once('.')?;
    wrappers(module)
        .iter()
        .find(|w| w.field == key && w.inner == name && w.holds == holds)
        .map(|w| format!("{module}.{}", w.name))
}

/// A record type of a stdlib module with one required field, of another type of the module.
struct Wrapper {
    name: String,
    field: String,
    inner: String,
    holds: Holds,
}

/// The wrappers a stdlib module declares, read from its text once per process.
fn wrappers(module: &str) -> Arc<Vec<Wrapper>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<Wrapper>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(module).cloned()) {
        return found;
    }
    let found = Arc::new(read_wrappers(module));
    if let Ok(mut c) = cache.lock() {
        c.insert(module.to_string(), found.clone());
    }
    found
}

fn read_wrappers(module: &str) -> Vec<Wrapper> {
    let Some(file) = crate::modules::stdlib_module(module) else { return Vec::new() };
    let Ok(parsed) = crate::syntax::parse(&file) else { return Vec::new() };
    parsed
        .items
        .iter()
        .filter_map(|item| {
            let Item::Type(decl) = item else { return None };
            let fields: Vec<&FieldDecl> = match &decl.ty.node {
                TypeExprKind::Record(fields) => fields.iter().collect(),
                TypeExprKind::RecordSpread(entries) => entries
                    .iter()
                    .map(|e| match e {
                        RecordTypeEntry::Field(f) => Some(f),
                        RecordTypeEntry::Spread { .. } => None,
                    })
                    .collect::<Option<_>>()?,
                _ => return None,
            };
            let mut required = fields.iter().filter(|f| !matches!(f.ty.node, TypeExprKind::Optional(_)));
            let field = required.next()?;
            if required.next().is_some() {
                return None;
            }
            let (inner, holds) = match &field.ty.node {
                TypeExprKind::List(item) => (local_name(item)?, Holds::List),
                _ => (local_name(&field.ty)?, Holds::One),
            };
            Some(Wrapper { name: decl.name.node.clone(), field: field.name.node.clone(), inner, holds })
        })
        .collect()
}

/// The name of a type of the same module (`Order`), or `None` for any other type.
fn local_name(ty: &TypeExpr) -> Option<String> {
    match &ty.node {
        TypeExprKind::Named { module: None, name } => Some(name.node.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::RecordType;

    fn named(name: &str, fields: &[(&str, Type)]) -> Type {
        let fields = fields.iter().map(|(k, t)| (k.to_string(), t.clone())).collect();
        Type::Record(Arc::new(RecordType { name: Some(name.into()), fields }))
    }

    fn order() -> Type {
        named("shopify.Order", &[("id", Type::Int), ("name", Type::String), ("total_price", Type::Decimal(None))])
    }

    #[test]
    fn names_of_a_field_holding_a_type() {
        assert_eq!(field_names("shopify.Order"), ("order".into(), "orders".into()));
        assert_eq!(field_names("InventoryLevel"), ("inventory_level".into(), "inventory_levels".into()));
        assert_eq!(field_names("shopify.Address"), ("address".into(), "addresses".into()));
        assert_eq!(field_names("erp.Delivery"), ("delivery".into(), "deliveries".into()));
    }

    #[test]
    fn an_order_in_its_envelope_names_the_stdlib_wrapper() {
        let doc = br#"{"order": {"id": 1, "name": "No. 1001", "total_price": "10.00"}}"#;
        assert_eq!(
            hint(doc, &order()).unwrap(),
            "this looks like a wrapper: the record has only \"order\", a shopify.Order; declare the source as \
             shopify.OrderWrapper and add the stage `split [record.order]`, or, on an http.poll source, set \
             records: \"$.order\""
        );
        // Shopify's answer to a cancel carries a notice beside the order.
        let doc = br#"{"notice": "Order has been cancelled", "order": {"id": 1}}"#;
        let text = hint(doc, &order()).unwrap();
        assert!(
            text.contains("the record has \"order\", a shopify.Order; declare the source as shopify.OrderWrapper"),
            "{text}"
        );
    }

    #[test]
    fn a_page_of_orders_names_the_list_type() {
        let doc = br#"{"orders": [{"id": 1, "name": "No. 1001", "total_price": "10.00"}]}"#;
        assert_eq!(
            hint(doc, &order()).unwrap(),
            "this looks like a wrapper: the record has only \"orders\", a list of shopify.Order; declare the source \
             as shopify.OrderList and add the stage `split record.orders`, or, on an http.poll source, set \
             records: \"$.orders[*]\""
        );
    }

    #[test]
    fn a_field_that_fits_is_found_whatever_its_name() {
        let ty = named("woocommerce.Order", &[("id", Type::Int)]);
        let text = hint(br#"{"data": {"id": 8101}}"#, &ty).unwrap();
        assert!(
            text.contains("declare the source as a record type with `data: woocommerce.Order` and add the stage `split [record.data]`"),
            "{text}"
        );
        let text = hint(br#"{"my-orders": [{"id": 1}, {"id": 2}]}"#, &ty).unwrap();
        assert!(text.contains("`\"my-orders\": [woocommerce.Order]`"), "{text}");
        assert!(text.contains("`split record.\"my-orders\"`"), "{text}");
        assert!(text.contains("records: \"$['my-orders'][*]\""), "{text}");
    }

    #[test]
    fn no_hint_for_a_record_that_is_no_wrapper() {
        // A record of the type with a field missing is just that.
        assert_eq!(hint(br#"{"name": "No. 1001", "order": {"id": 1}}"#, &order()), None);
        // Nothing in it fits, and nothing is named for the type.
        assert_eq!(hint(br#"{"data": {"sku": "A"}}"#, &order()), None);
        assert_eq!(hint(br#"{"items": []}"#, &order()), None);
        // Two candidates: which one is meant is not for the hint to guess.
        let one = r##"{"id": 1, "name": "No. 1001", "total_price": "10.00"}"##;
        assert_eq!(hint(format!(r#"{{"a": {one}, "b": {one}}}"#).as_bytes(), &order()), None);
        assert!(hint(format!(r#"{{"a": {one}, "b": 2}}"#).as_bytes(), &order()).is_some());
        // Not an object, or not a record type.
        assert_eq!(hint(br#"[{"id": 1}]"#, &order()), None);
        assert_eq!(hint(br#"{"order": {"id": 1}}"#, &Type::Int), None);
    }

    #[test]
    fn the_named_field_is_a_wrapper_even_when_its_record_has_its_own_mismatch() {
        let text = hint(br#"{"order": {"id": "one"}}"#, &order()).unwrap();
        assert!(text.contains("shopify.OrderWrapper"), "{text}");
        let text = hint(br#"{"orders": []}"#, &order()).unwrap();
        assert!(text.contains("shopify.OrderList"), "{text}");
    }
}
