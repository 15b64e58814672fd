//! JSON paths, hashing for idempotency keys, the environment and secrets, retry policies.

use super::{decl, Decl};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "jsonpath(value: T, path: String) -> [Json]",
            "Every value the JSONPath selects (jsonpath-rust syntax).",
            &[(r#"jsonpath(record, "$..sku")"#, r#"["A1", "B2"]"#)],
        ),
        decl("sha256(s: String) -> String", "The SHA-256 digest, lower-case hex.", &[(r#"sha256("abc")"#, r#""ba7816bf…""#)]),
        decl(
            "uuid_v5(namespace: String, name: String) -> String",
            "A name-based UUID: the same inputs always give the same id (for idempotency keys).",
            &[(r#"uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "order-1001")"#, r#""…""#)],
        ),
        decl(
            "env(name: String) -> String",
            "An environment variable, read once when the flow starts; a missing one stops the run before any record is read.",
            &[(r#"env("ERP_URL")"#, r#""https://erp.example""#)],
        ),
        decl(
            "secret(name: String) -> Secret",
            "A secret from the environment. It may go into headers (`\"Bearer \" + secret(\"T\")`), never into a body, a log or a hold.",
            &[(r#"secret("ERP_TOKEN")"#, "<redacted>")],
        ),
        decl(
            "exponential(base: Duration, max?: Duration) -> Backoff",
            "Retry delays doubling from `base` up to `max`, with full jitter.",
            &[("exponential(1s, max: 2m)", "1s, 2s, 4s, … ≤ 2m")],
        ),
        decl("fixed(delay: Duration) -> Backoff", "The same delay before every retry, with jitter.", &[("fixed(5s)", "5s, 5s, …")]),
    ]
}
