//! A record's identity across runs: a digest of its text as it arrived.
//!
//! A hold must end when a later run takes the same record to its end (a rerun over the
//! same export, a restart after SIGTERM, a poll that fetches it again). The record's place
//! in the input is no identity: a poll numbers what it fetches anew each time, and an
//! export's third line is another order tomorrow. A dedupe or idempotency key is one only
//! where the flow declares it. The text as it arrived is the record itself, wherever it
//! came from and whatever the flow declares, so its digest names it.

use sha2::{Digest, Sha256};

/// The digest of a record's text as a hold keeps it (`JsonText`): 128 bits of SHA-256,
/// as hex. Collisions between different records are not a practical concern.
pub fn record_identity(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a hold's record text names one record: a JSON object. Input that never
/// became a record (an empty file, a line that is not JSON) has text any other such
/// input may share, and is told apart by where it came from alone.
pub(crate) fn names_a_record(text: &str) -> bool {
    text.starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_is_the_same_record_and_any_change_is_another() {
        let a = record_identity(r#"{"id":1,"total":"10.00"}"#);
        assert_eq!(a, record_identity(r#"{"id":1,"total":"10.00"}"#));
        assert_ne!(a, record_identity(r#"{"id":1,"total":"10.01"}"#));
        assert_eq!(a.len(), 32);
    }
}
