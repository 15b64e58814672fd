//! Source, sink and batch options: which each connector kind takes, and their types.
//!
//! The one declaration of every option: the checker checks a flow's options against it,
//! and each connector builds its typed configuration from the options it lists, so an
//! option is added in one place. It sits below the checker and the connectors so that
//! both can read it without importing each other.

use std::sync::Arc;

use crate::types::{Fields, RecordType, Type};

/// How an option's value is checked.
#[derive(Clone, Debug)]
pub enum OptKind {
    /// A value of this type.
    Of(Type),
    /// A value of this type that is never absent. `Json` admits `null`, but a request
    /// body that is absent for some records would send `null` to the receiving system
    /// instead of holding those records with a reason.
    Present(Type),
    /// Header names to String or Secret values.
    Headers,
    /// A positive duration.
    Duration,
    /// A positive rate such as `10/s`.
    Rate,
    /// A positive whole number.
    Count,
}

#[derive(Clone, Debug)]
pub struct OptSpec {
    pub name: &'static str,
    pub kind: OptKind,
    pub required: bool,
    /// Evaluated for each record, with `record` in scope.
    pub per_record: bool,
    /// What to write when a required option is missing: the choice is not always obvious.
    pub help: Option<&'static str>,
}

const fn opt(name: &'static str, kind: OptKind) -> OptSpec {
    OptSpec { name, kind, required: false, per_record: false, help: None }
}

fn with_help(mut o: OptSpec, help: &'static str) -> OptSpec {
    o.help = Some(help);
    o
}

fn required(mut o: OptSpec) -> OptSpec {
    o.required = true;
    o
}

fn per_record(mut o: OptSpec) -> OptSpec {
    o.per_record = true;
    o
}

fn record(fields: &[(&str, Type)]) -> Type {
    let fields: Fields = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    Type::Record(Arc::new(RecordType { name: None, fields }))
}

fn format_type() -> Type {
    Type::Union(vec!["json".to_string(), "ndjson".to_string(), "csv".to_string()].into())
}

pub fn retry_type() -> Type {
    record(&[("attempts", Type::Int), ("backoff", Type::Backoff.optional()), ("on", Type::RetryOn.list().optional())])
}

pub fn sink_batch_type() -> Type {
    record(&[("size", Type::Int), ("max_wait", Type::Duration.optional()), ("max_bytes", Type::Int.optional())])
}

pub const SOURCE_KINDS: &[&str] = &["file", "stdin", "http.poll", "webhook"];
pub const SINK_KINDS: &[&str] = &["file", "stdout", "http", "http.post", "http.put", "http.patch", "http.delete"];

/// The options a source kind takes, or `None` for an unknown kind.
pub fn source_options(kind: &str) -> Option<Vec<OptSpec>> {
    Some(match kind {
        "file" => vec![required(opt("path", OptKind::Of(Type::String))), opt("format", OptKind::Of(format_type()))],
        "stdin" => vec![opt("format", OptKind::Of(format_type()))],
        "http.poll" => vec![
            required(opt("url", OptKind::Of(Type::String))),
            opt("headers", OptKind::Headers),
            opt("query", OptKind::Of(Type::Json)),
            opt("records", OptKind::Of(Type::String)),
            per_record(opt("cursor", OptKind::Of(Type::Json))),
            opt("next_page", OptKind::Of(Type::String)),
            opt("page_param", OptKind::Of(Type::String)),
            opt("every", OptKind::Duration),
            opt("timeout", OptKind::Duration),
            opt("retry", OptKind::Of(retry_type())),
            opt("rate", OptKind::Rate),
        ],
        "webhook" => vec![
            required(opt("path", OptKind::Of(Type::String))),
            // Required: a webhook without one takes records from anyone who can reach
            // the port, so accepting unsigned requests is written down, not defaulted.
            with_help(
                required(opt(
                    "signature",
                    OptKind::Of(Type::Union(
                        vec!["shopify".into(), "woocommerce".into(), "hmac_sha256".into(), "none".into()].into(),
                    )),
                )),
                "say how requests are signed: `signature: \"shopify\"`, `\"woocommerce\"` or `\"hmac_sha256\"` \
                 with `secret: secret(\"NAME\")`, or `signature: \"none\"` to accept unsigned requests",
            ),
            opt("secret", OptKind::Of(Type::Secret)),
            opt("signature_header", OptKind::Of(Type::String)),
            opt("id_header", OptKind::Of(Type::String)),
            per_record(opt("dedupe_key", OptKind::Of(Type::String))),
            opt("max_body", OptKind::Count),
        ],
        _ => return None,
    })
}

/// The options a sink kind takes, or `None` for an unknown kind.
pub fn sink_options(kind: &str) -> Option<Vec<OptSpec>> {
    let common = || vec![per_record(opt("when", OptKind::Of(Type::Bool)))];
    let mut specs = match kind {
        "file" => vec![required(opt("path", OptKind::Of(Type::String))), opt("format", OptKind::Of(format_type()))],
        "stdout" => vec![opt("format", OptKind::Of(format_type()))],
        k if k == "http" || k.starts_with("http.") && SINK_KINDS.contains(&k) => {
            let mut v = vec![
                required(per_record(opt("url", OptKind::Of(Type::String)))),
                per_record(opt("headers", OptKind::Headers)),
                per_record(opt("body", OptKind::Present(Type::Json))),
                per_record(opt("idempotency_key", OptKind::Of(Type::String))),
                opt("retry", OptKind::Of(retry_type())),
                opt("no_retry", OptKind::Of(Type::RetryOn.list())),
                opt("rate", OptKind::Rate),
                opt("concurrency", OptKind::Count),
                per_record(opt("ordered_by", OptKind::Of(Type::Json))),
                opt("batch", OptKind::Of(sink_batch_type())),
                opt("timeout", OptKind::Duration),
                opt("connect_timeout", OptKind::Duration),
            ];
            if k == "http" {
                v.push(required(opt(
                    "method",
                    OptKind::Of(Type::Union(vec!["POST".into(), "PUT".into(), "PATCH".into(), "DELETE".into()].into())),
                )));
            }
            v
        }
        _ => return None,
    };
    specs.extend(common());
    Some(specs)
}

/// The options of a `batch { ... }` stage.
pub fn batch_stage_options() -> Vec<OptSpec> {
    vec![required(opt("size", OptKind::Count)), opt("max_wait", OptKind::Duration)]
}

pub const ENRICH_KINDS: &[&str] = &["http.get", "http.post"];

/// The options of an `enrich` stage's call, or `None` for an unknown kind. The request
/// is built per record; how it is sent (retries, rate, concurrency) is fixed per stage.
pub fn enrich_options(kind: &str) -> Option<Vec<OptSpec>> {
    let mut v = vec![
        required(per_record(opt("url", OptKind::Of(Type::String)))),
        per_record(opt("query", OptKind::Of(Type::Json))),
        per_record(opt("headers", OptKind::Headers)),
        opt("select", OptKind::Of(Type::String)),
        opt("cache", OptKind::Duration),
        opt("retry", OptKind::Of(retry_type())),
        opt("rate", OptKind::Rate),
        opt("concurrency", OptKind::Count),
        opt("timeout", OptKind::Duration),
    ];
    match kind {
        "http.get" => {}
        "http.post" => v.push(per_record(opt("body", OptKind::Present(Type::Json)))),
        _ => return None,
    }
    Some(v)
}
