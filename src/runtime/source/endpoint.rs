//! The receiving side of a `webhook` source, configured from the source's options: what
//! a server (the CLI's `--listen`, or any program using the library) mounts to fill the
//! inbox the webhook source reads.

use std::sync::Arc;

use super::super::env::prepare_env;
use super::super::eval::{compile_fn, Shared};
use super::super::options::Options;
use super::super::{RunContext, RunOptions, RuntimeError};
use crate::connectors::webhook::{Endpoint, Signature};
use crate::ir;
use crate::state::StateStore;
use crate::value::Value;

/// Largest request body taken without a `max_body` option.
const DEFAULT_MAX_BODY: usize = 5 << 20;

/// The endpoint of `flow`'s webhook source. Refuses to start an endpoint that checks
/// signatures without a usable secret: an empty secret is one anybody can sign with.
pub fn webhook_endpoint(
    program: &ir::Program,
    flow: &ir::Flow,
    opts: &RunOptions,
    store: Arc<dyn StateStore>,
) -> Result<Endpoint, RuntimeError> {
    let src = &flow.source;
    if src.kind != "webhook" {
        return Err(RuntimeError::Setup(format!("the source `{}` of flow `{}` is not a webhook", src.name, flow.name)));
    }
    let shared = Shared {
        functions: program.functions.iter().map(compile_fn).collect(),
        lookups: Vec::new(),
        ctx: Box::new(RunContext { now: opts.now, env: prepare_env(program, flow, opts)? }),
    };
    let o = Options::source(src, &shared)?;
    let kind = o.literal("signature")?;
    let signature = Signature::from_option(kind.as_deref(), o.literal("signature_header")?.as_deref());
    let secret = match o.value("secret")? {
        Some(Value::Secret(s)) => Some(s.to_string()),
        _ => None,
    };
    if signature != Signature::None {
        match &secret {
            None => {
                return Err(RuntimeError::Setup(format!(
                    "the webhook source checks {} signatures, so it needs `secret: secret(\"...\")`",
                    kind.unwrap_or_default()
                )))
            }
            Some(s) if s.trim().is_empty() => {
                return Err(RuntimeError::Setup(format!(
                    "the webhook source `{}` has an empty secret: anybody could sign requests with it; set the \
                     secret's environment variable to the key the sender signs with",
                    src.name
                )))
            }
            Some(_) => {}
        }
    }
    let max_body = o.count("max_body")?.map_or(DEFAULT_MAX_BODY, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let path = o.literal("path")?.unwrap_or_else(|| "/".into());
    Ok(Endpoint {
        flow: flow.name.clone(),
        path: if path.starts_with('/') { path } else { format!("/{path}") },
        signature,
        secret,
        id_header: o.literal("id_header")?,
        max_body,
        store,
    })
}
