//! Every platform payload in tests/fixtures/payloads/ decodes against its stdlib type: a flow
//! reading it would deliver it, never hold it as `schema_mismatch`.
//!
//! The fixtures are the platforms' own samples where their licence allows copying them, and
//! files of the same shape with our own values where it does not (SOURCES.md in each folder
//! says which is which). A top-level JSON array is decoded element by element, as the `file`
//! source reads it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flowgate::types::Type;
use flowgate::value::decode_json_value;

/// Each fixture, relative to tests/fixtures/payloads/, and the stdlib type it is an instance of.
const FIXTURES: &[(&str, &str)] = &[
    // Shopify: wrappers around single objects and lists, as the Admin API answers.
    ("shopify/order-get-single-3-lines-discount-tax-refunds-fulfillments.json", "shopify.OrderWrapper"),
    ("shopify/order-create-eur-custom-line-item-no-sku.json", "shopify.OrderWrapper"),
    ("shopify/order-create-custom-items-multiple-tax-lines-nontaxable.json", "shopify.OrderWrapper"),
    ("shopify/order-create-with-discount-addresses.json", "shopify.OrderWrapper"),
    ("shopify/order-cancel-refunded.json", "shopify.OrderWrapper"),
    ("shopify/order-legacy-python-fixture.json", "shopify.OrderWrapper"),
    ("shopify/orders-list-status-any.json", "shopify.OrderList"),
    ("shopify/refund-get-single-restock-2-lines.json", "shopify.RefundWrapper"),
    ("shopify/refund-create-return-with-shipping-full-refund.json", "shopify.RefundWrapper"),
    ("shopify/refund-create-shipping-only-order-adjustment.json", "shopify.RefundWrapper"),
    ("shopify/refund-calculate-shipping.json", "shopify.CalculatedRefundWrapper"),
    ("shopify/fulfillment-get-single-failure-usps.json", "shopify.FulfillmentWrapper"),
    ("shopify/fulfillment-create-by-fulfillment-order.json", "shopify.FulfillmentWrapper"),
    ("shopify/fulfillment-update-tracking-ups-origin-address.json", "shopify.FulfillmentWrapper"),
    ("shopify/fulfillment-orders-list-for-order.json", "shopify.FulfillmentOrderList"),
    ("shopify/fulfillment-orders-list-financial-summaries.json", "shopify.FulfillmentOrderList"),
    ("shopify/inventory-levels-list-multi-location.json", "shopify.InventoryLevelList"),
    ("shopify/inventory-level-set.json", "shopify.InventoryLevelWrapper"),
    ("shopify/own-payouts-list.json", "shopify.PayoutList"),
    ("shopify/own-payout-transactions-list.json", "shopify.PayoutTransactionList"),
    // WooCommerce: bare objects and bare arrays.
    ("woocommerce/docs-order-retrieve-727-variation-meta-empty-sku.json", "woocommerce.Order"),
    ("woocommerce/docs-orders-list.json", "woocommerce.Order"),
    ("woocommerce/docs-order-refund-create.json", "woocommerce.Refund"),
    ("woocommerce/docs-order-refunds-list.json", "woocommerce.Refund"),
    ("woocommerce/docs-product-variable-create.json", "woocommerce.Product"),
    ("woocommerce/docs-product-variation-retrieve.json", "woocommerce.Variation"),
    ("woocommerce/docs-product-variations-list.json", "woocommerce.Variation"),
    ("woocommerce/own-order-bundled-line-items.json", "woocommerce.Order"),
    ("woocommerce/own-order-composite-product.json", "woocommerce.Order"),
    ("woocommerce/own-order-coupon-fee-empty-sku.json", "woocommerce.Order"),
    ("woocommerce/own-order-partially-refunded.json", "woocommerce.Order"),
    ("woocommerce/own-refunds-list-line-items.json", "woocommerce.Refund"),
    ("woocommerce/own-product-variations-list.json", "woocommerce.Variation"),
    // Magento 2: orders, shipments and the inventory (MSI) documents.
    ("magento2/order-get-3-bundle-configurable-downloadable.json", "magento.Order"),
    ("magento2/shipment-create-request-with-tracks.json", "magento.ShipOrderRequest"),
    ("magento2/msi-shipment-request-source-code.json", "magento.ShipOrderRequest"),
    ("magento2/invoice-get-bundle-children.json", "magento.Invoice"),
    ("magento2/msi-invoice-get-multi-item.json", "magento.Invoice"),
    ("magento2/creditmemo-refund-request.json", "magento.RefundInvoiceRequest"),
    ("magento2/order-payment-information-request.json", "magento.PaymentInformationRequest"),
    ("magento2/b2b-company-search-multiline-street.json", "magento.CompanySearchResult"),
    ("magento2/msi-source-items-save-request.json", "magento.SourceItemsSaveRequest"),
    ("magento2/msi-source-items-search-response.json", "magento.SourceItemSearchResult"),
    ("magento2/msi-ssa-request.json", "magento.SourceSelectionRequest"),
    ("magento2/msi-ssa-response-split-sources.json", "magento.SourceSelectionResult"),
    ("magento2/own-order-list.json", "magento.OrderSearchResult"),
    ("magento2/own-shipment.json", "magento.Shipment"),
    // commercetools: orders, carts, drafts and inventory.
    ("commercetools/jvmsdk-order-taxed-refused-gift.json", "commercetools.Order"),
    ("commercetools/jvmsdk-order-import-draft-custom-line-item.json", "commercetools.OrderImportDraft"),
    ("commercetools/jvmsdk-cart-with-taxes-custom-line-item.json", "commercetools.Cart"),
    ("commercetools/jvmsdk-inventory-entry-draft-supply-channel.json", "commercetools.InventoryEntryDraft"),
    ("commercetools/own-order-line-item-taxed-state.json", "commercetools.Order"),
    ("commercetools/own-orders-paged-query-result.json", "commercetools.OrderPagedQueryResponse"),
    ("commercetools/own-order-custom-line-item-only.json", "commercetools.Order"),
    ("commercetools/own-inventory-entry.json", "commercetools.InventoryEntry"),
    ("commercetools/own-inventory-entries-query-result.json", "commercetools.InventoryPagedQueryResponse"),
    // OrderWise: no public samples; files of the module's documented best-guess shapes.
    ("orderwise/own-sales-order.json", "orderwise.SalesOrder"),
    ("orderwise/own-stock-levels.json", "orderwise.StockLevel"),
    ("orderwise/own-despatch.json", "orderwise.Despatch"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/payloads")
}

/// The types named in FIXTURES, resolved through one checked flow per type.
fn types() -> Vec<(String, Type)> {
    let names: BTreeSet<&str> = FIXTURES.iter().map(|(_, t)| *t).collect();
    let modules: BTreeSet<&str> = names.iter().map(|t| t.split('.').next().unwrap()).collect();
    let mut text: String = modules.iter().map(|m| format!("import {m}\n")).collect();
    for (i, name) in names.iter().enumerate() {
        text.push_str(&format!("\nflow f{i} {{\n  source s: stdin : {name}\n  sink o: stdout\n}}\n"));
    }
    let outcome = flowgate::check_text("payloads.flow", &text);
    let program = outcome.ir().unwrap_or_else(|| panic!("{:#?}", outcome.diagnostics));
    names.iter().zip(&program.flows).map(|(n, f)| (n.to_string(), f.source.ty.clone())).collect()
}

#[test]
fn every_fixture_is_listed() {
    let listed: BTreeSet<String> = FIXTURES.iter().map(|(f, _)| f.to_string()).collect();
    let mut found = BTreeSet::new();
    for dir in std::fs::read_dir(root()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        assert!(dir.join("SOURCES.md").is_file(), "{} has no SOURCES.md", dir.display());
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "json") {
                let platform = dir.file_name().unwrap().to_str().unwrap();
                found.insert(format!("{platform}/{}", f.file_name().unwrap().to_str().unwrap()));
            }
        }
    }
    assert_eq!(found, listed, "fixtures on disk and in FIXTURES differ");
}

#[test]
fn every_fixture_decodes_against_its_stdlib_type() {
    let types = types();
    let mut failures = Vec::new();
    for (file, name) in FIXTURES {
        let ty = &types.iter().find(|(n, _)| n == name).unwrap().1;
        let bytes = std::fs::read(root().join(file)).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let docs = match doc {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        assert!(!docs.is_empty(), "{file} is empty");
        for (i, doc) in docs.iter().enumerate() {
            if let Err(e) = decode_json_value(doc, ty) {
                failures.push(format!("{file} [{i}] as {name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "held as schema_mismatch:\n{}", failures.join("\n"));
}
