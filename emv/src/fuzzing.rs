//! Fuzz target bodies, shared by the cargo-fuzz targets in `fuzz/` and by
//! the corpus replay test (`tests/fuzz_corpus.rs`) so both run exactly the
//! same code. Each function must never panic except on a real bug.

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::card::{CardApp, CardBackend, DeactivationReason, Decline, Expiry, Token};
use crate::crypto::{Profile, SessionKey};
use crate::dol::Dol;
use crate::tlv;

/// BER-TLV, DOL and APDU parsers on arbitrary bytes: no panic, and what
/// decodes re-encodes to something that decodes the same.
pub fn tlv(data: &[u8]) {
    if let Ok(tlvs) = tlv::decode(data) {
        let encoded = tlv::encode(&tlvs).expect("decoded TLVs re-encode");
        assert_eq!(tlv::decode(&encoded).as_ref(), Ok(&tlvs), "TLV round trip");
        let _ = tlv::flatten(&tlvs);
    }
    let _ = tlv::decode_flat(data);
    if let Ok(dol) = Dol::parse(data) {
        let built = dol.build(&[][..] as &[tlv::Tlv]);
        assert_eq!(built.len(), dol.data_len());
        assert!(dol.split(&built).is_ok());
        assert_eq!(Dol::parse(&dol.encode()).as_ref(), Ok(&dol));
    }
    if let Ok(cmd) = CommandApdu::parse(data) {
        if let Ok(bytes) = cmd.to_bytes() {
            assert_eq!(CommandApdu::parse(&bytes), Ok(cmd), "APDU round trip");
        }
    }
    let _ = ResponseApdu::parse(data);
}

/// A session of APDUs against the card application.
///
/// Byte 0 picks the backend's behaviour (approve, frozen, locked,
/// exhausted, or a key for the wrong profile). The rest is a sequence of
/// `length, bytes...` APDUs; a length byte of `FF` deactivates the field
/// instead.
pub fn apdu_session(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut card = CardApp::new(sample_tokens());
    let mut backend = FuzzBackend { mode, atc: 0 };
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0xFF {
            card.on_deactivated(DeactivationReason::LinkLoss);
            rest = tail;
            continue;
        }
        let (apdu, next) = tail.split_at(usize::from(len).min(tail.len()));
        let response = card.process_apdu(apdu, &mut backend);
        assert!(response.len() >= 2, "every response ends in a status word");
        rest = next;
    }
    let _ = card.take_completed();
}

/// Two tokens, one per profile, as the fuzz and replay tests use them.
pub fn sample_tokens() -> Vec<Token> {
    let expiry = Expiry {
        yy: 30,
        mm: 12,
        dd: 31,
    };
    [
        (
            "tdes",
            "A0000000031010",
            "BILLFOLD VISA",
            "4761739001010010",
            Profile::Tdes,
        ),
        (
            "aes",
            "A0000000041010",
            "BILLFOLD MC",
            "5413330089020011",
            Profile::Aes,
        ),
    ]
    .into_iter()
    .filter_map(|(id, aid, label, pan, profile)| {
        Token::new(
            id,
            hex::decode(aid).ok()?,
            label,
            pan,
            1,
            expiry,
            profile,
            1,
        )
        .ok()
    })
    .collect()
}

struct FuzzBackend {
    mode: u8,
    atc: u16,
}

impl CardBackend for FuzzBackend {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        match self.mode % 5 {
            1 => return Err(Decline::Frozen),
            2 => return Err(Decline::Locked),
            3 => return Err(Decline::KeysExhausted),
            _ => {}
        }
        self.atc = self.atc.wrapping_add(1);
        let profile = match (self.mode % 5, token.profile) {
            (4, Profile::Tdes) => Profile::Aes,
            (4, Profile::Aes) => Profile::Tdes,
            (_, p) => p,
        };
        Ok((self.atc, SessionKey::new(profile, [self.atc as u8; 16])))
    }
}
