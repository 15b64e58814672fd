//! Rules of the `webhook` source that its option types cannot say: how requests are
//! signed decides who may post records, so the choice is checked, not defaulted.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

use super::typed::{TExprKind, TOption, TStrPart};
use super::Checker;

impl Checker<'_> {
    /// `signature: "none"` is allowed but said out loud; any other signature needs the
    /// `secret` to verify it with, or the endpoint would refuse every request at start.
    pub(super) fn webhook_rules(&mut self, options: &[TOption], kind_span: Span) {
        let Some(signature) = options.iter().find(|o| o.name == "signature") else { return };
        let TExprKind::Str(parts) = &signature.value.kind else { return };
        let [TStrPart::Text(kind)] = parts.as_slice() else { return };
        if kind == "none" {
            let d = Diagnostic::new(
                Code::UnsignedWebhook,
                &self.file,
                signature.value.span,
                "this webhook accepts unsigned requests: anyone who can reach the port can post records",
                "no signature checked",
            )
            .with_help(
                "if the sender signs its requests, name the scheme (`\"shopify\"`, `\"woocommerce\"`, \
                 `\"hmac_sha256\"`) and give `secret: secret(\"NAME\")`",
            );
            self.report(d);
        } else if !options.iter().any(|o| o.name == "secret") {
            let d = Diagnostic::new(
                Code::MissingOption,
                &self.file,
                kind_span,
                format!("a webhook with `signature: \"{kind}\"` needs the option `secret`"),
                "missing option",
            )
            .with_secondary(&self.file, signature.value.span, "signatures are checked here")
            .with_help("add `secret: secret(\"WEBHOOK_SECRET\")`, the key the sender signs its requests with");
            self.report(d);
        }
    }
}
