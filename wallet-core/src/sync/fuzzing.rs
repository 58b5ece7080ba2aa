//! The sync client's handling of the bank's answer, as one function of raw
//! bytes, for the `sync_response` fuzz target and its corpus replay (the
//! bank is outside input like a QR code or an APDU). Everything the pull
//! converts before it touches the database runs here: the JSON decoding,
//! ledger entries to the ledger's form, and key batches for both profiles.
//! A defect must come back as a typed error, never a panic.

use billfold_protocol::SyncResponse;
use emv::crypto::Profile;

use super::engine::{bank_entry, wire_batch};

#[doc(hidden)]
pub fn sync_response(data: &[u8]) {
    let Ok(resp) = serde_json::from_slice::<SyncResponse>(data) else {
        return;
    };
    for e in &resp.ledger {
        if let Err(err) = bank_entry(e) {
            let _ = err.to_string();
        }
    }
    for b in &resp.key_batches {
        for profile in [Profile::Tdes, Profile::Aes] {
            let _ = wire_batch(b, profile);
        }
    }
}
