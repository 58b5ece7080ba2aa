//! The issuer side of the cryptograms, for the bank server and tests:
//! card master keys from issuer master keys (Option A / Option C), batches
//! of single-use session keys for the phone, ARQC verification with replay
//! protection, and the ARPC.

use std::collections::BTreeSet;

use crate::crypto::{
    application_cryptogram, arpc_method1, constant_time_eq, derive_icc_master_key,
    derive_session_key, CardMasterKey, CryptoError, CryptogramData, CryptogramKind, Iad,
    IssuerMasterKey, Profile, SessionKey,
};

/// Why the issuer refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("no issuer master key for {profile:?} with derivation key index {dki}")]
    UnknownKey { profile: Profile, dki: u8 },
    #[error("issuer application data is not in this issuer's format")]
    BadIad,
    #[error("the cryptogram is a {0:?}, not an ARQC")]
    NotAnArqc(CryptogramKind),
    #[error("the cryptogram does not verify")]
    CryptogramMismatch,
    #[error("ATC {0} was already used")]
    ReplayedAtc(u16),
    #[error("the ATC range passes 65535")]
    AtcOverflow,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The issuer's master keys, by profile and derivation key index.
#[derive(Debug, Default, Clone)]
pub struct Issuer {
    keys: Vec<(u8, IssuerMasterKey)>,
}

impl Issuer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the master key for its profile and `dki`.
    pub fn with_key(mut self, dki: u8, imk: IssuerMasterKey) -> Self {
        self.add_key(dki, imk);
        self
    }

    /// Adds (or replaces) the master key for its profile and `dki`.
    pub fn add_key(&mut self, dki: u8, imk: IssuerMasterKey) {
        self.keys
            .retain(|(d, k)| !(*d == dki && k.profile() == imk.profile()));
        self.keys.push((dki, imk));
    }

    fn imk(&self, profile: Profile, dki: u8) -> Result<&IssuerMasterKey, IssuerError> {
        self.keys
            .iter()
            .find(|(d, k)| *d == dki && k.profile() == profile)
            .map(|(_, k)| k)
            .ok_or(IssuerError::UnknownKey { profile, dki })
    }

    /// The master key of the card (token) with this PAN and PSN.
    pub fn card_master_key(
        &self,
        profile: Profile,
        dki: u8,
        pan: &str,
        psn: u8,
    ) -> Result<CardMasterKey, IssuerError> {
        Ok(derive_icc_master_key(self.imk(profile, dki)?, pan, psn)?)
    }

    /// Single-use session keys for ATCs `first_atc .. first_atc + count`,
    /// to provision to the phone.
    #[allow(clippy::too_many_arguments)]
    pub fn session_keys(
        &self,
        profile: Profile,
        dki: u8,
        pan: &str,
        psn: u8,
        first_atc: u16,
        count: u16,
    ) -> Result<Vec<(u16, SessionKey)>, IssuerError> {
        let mk = self.card_master_key(profile, dki, pan, psn)?;
        session_key_batch(&mk, first_atc, count)
    }

    /// Verifies an ARQC from the card with this PAN and PSN, and records
    /// its ATC in `atcs` (the card's replay record, which the caller
    /// persists). A cryptogram that does not verify leaves `atcs` as it was.
    pub fn verify_arqc(
        &self,
        pan: &str,
        psn: u8,
        data: &CryptogramData,
        atcs: &mut AtcRecord,
    ) -> Result<VerifiedArqc, IssuerError> {
        if data.kind != CryptogramKind::Arqc {
            return Err(IssuerError::NotAnArqc(data.kind));
        }
        let iad = Iad::parse(&data.iad).ok_or(IssuerError::BadIad)?;
        let mk = self.card_master_key(iad.profile, iad.dki, pan, psn)?;
        let sk = derive_session_key(&mk, data.atc);
        let expected = application_cryptogram(&sk, &data.input());
        if !constant_time_eq(&expected, &data.ac) {
            return Err(IssuerError::CryptogramMismatch);
        }
        if !atcs.is_fresh(data.atc) {
            return Err(IssuerError::ReplayedAtc(data.atc));
        }
        atcs.record(data.atc);
        Ok(VerifiedArqc {
            atc: data.atc,
            arqc: data.ac,
            session_key: sk,
        })
    }
}

/// Session keys for ATCs `first_atc .. first_atc + count` from a card
/// master key.
pub fn session_key_batch(
    mk: &CardMasterKey,
    first_atc: u16,
    count: u16,
) -> Result<Vec<(u16, SessionKey)>, IssuerError> {
    if u32::from(first_atc) + u32::from(count) > 0x1_0000 {
        return Err(IssuerError::AtcOverflow);
    }
    Ok((0..count)
        .map(|i| {
            let atc = first_atc + i;
            (atc, derive_session_key(mk, atc))
        })
        .collect())
}

/// A verified ARQC; holds its session key to answer with an ARPC.
#[derive(Debug)]
pub struct VerifiedArqc {
    pub atc: u16,
    pub arqc: [u8; 8],
    session_key: SessionKey,
}

impl VerifiedArqc {
    /// The ARPC (method 1) for the 2-byte Authorisation Response Code,
    /// e.g. `*b"00"` approved, `*b"51"` insufficient funds.
    pub fn arpc(&self, arc: [u8; 2]) -> [u8; 8] {
        arpc_method1(&self.session_key, &self.arqc, arc)
    }
}

/// Which ATCs a card has already used, so a replayed cryptogram is refused.
///
/// Keeps the last [`AtcRecord::WINDOW`] ATCs seen; everything below the
/// oldest of them is refused too. Taps may reach the issuer out of order
/// (offline taps sync later) as long as they are within the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtcRecord {
    /// Every ATC below this is refused.
    floor: u16,
    seen: BTreeSet<u16>,
    /// ATC 65535 is the last one; once used, nothing is fresh.
    exhausted: bool,
}

/// Why stored ATC record bytes cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed ATC record")]
pub struct AtcRecordError;

impl AtcRecord {
    /// How many recent ATCs are remembered individually.
    pub const WINDOW: usize = 256;

    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `atc` has not been used (and is not below the window).
    pub fn is_fresh(&self, atc: u16) -> bool {
        !self.exhausted && atc >= self.floor && !self.seen.contains(&atc)
    }

    /// Marks `atc` used.
    pub fn record(&mut self, atc: u16) {
        if atc == u16::MAX {
            self.exhausted = true;
        }
        self.seen.insert(atc);
        while self.seen.len() > Self::WINDOW {
            if let Some(oldest) = self.seen.pop_first() {
                self.floor = self.floor.max(oldest.saturating_add(1));
            }
        }
    }

    /// The highest ATC used so far.
    pub fn highest(&self) -> Option<u16> {
        self.seen.last().copied()
    }

    /// A compact encoding for storage: floor, flags, then each ATC (all
    /// big-endian u16).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + 2 * self.seen.len());
        out.extend_from_slice(&self.floor.to_be_bytes());
        out.push(u8::from(self.exhausted));
        for atc in &self.seen {
            out.extend_from_slice(&atc.to_be_bytes());
        }
        out
    }

    /// Reads the encoding of [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AtcRecordError> {
        let [f0, f1, flags, rest @ ..] = bytes else {
            return Err(AtcRecordError);
        };
        if *flags > 1 || !rest.len().is_multiple_of(2) || rest.len() / 2 > Self::WINDOW {
            return Err(AtcRecordError);
        }
        let floor = u16::from_be_bytes([*f0, *f1]);
        let seen: BTreeSet<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        if seen.len() != rest.len() / 2 || seen.first().is_some_and(|a| *a < floor) {
            return Err(AtcRecordError);
        }
        Ok(AtcRecord {
            floor,
            seen,
            exhausted: *flags == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atc_window() {
        let mut r = AtcRecord::new();
        assert!(r.is_fresh(5));
        r.record(5);
        assert!(!r.is_fresh(5));
        assert!(r.is_fresh(3), "out of order within the window is fine");
        for atc in 6..(6 + AtcRecord::WINDOW as u16) {
            r.record(atc);
        }
        assert!(!r.is_fresh(3), "below the window");
        assert!(!r.is_fresh(5));
        assert_eq!(r.highest(), Some(5 + AtcRecord::WINDOW as u16));
        assert_eq!(AtcRecord::from_bytes(&r.to_bytes()).unwrap(), r);
        r.record(u16::MAX);
        assert!(!r.is_fresh(1000));
        assert_eq!(AtcRecord::from_bytes(&r.to_bytes()).unwrap(), r);
        assert!(AtcRecord::from_bytes(&[0, 0]).is_err());
        assert!(AtcRecord::from_bytes(&[0, 9, 0, 0, 1]).is_err());
        assert!(
            AtcRecord::from_bytes(&[0, 9, 0, 0, 1, 0, 1]).is_err(),
            "below floor / duplicate"
        );
    }

    #[test]
    fn batch_bounds() {
        let mk = CardMasterKey::new(Profile::Aes, [1; 16]);
        assert_eq!(session_key_batch(&mk, 0xFFFE, 2).unwrap().len(), 2);
        assert_eq!(
            session_key_batch(&mk, 0xFFFE, 3).unwrap_err(),
            IssuerError::AtcOverflow
        );
    }
}
