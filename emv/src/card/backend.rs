//! What the card application needs from the wallet: the next single-use
//! session key, durably consumed before any response leaves the phone.

use crate::crypto::SessionKey;

use super::Token;

/// Why the card answered a GENERATE AC with a decline (AAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    /// The card behind the token is frozen.
    Frozen,
    /// The wallet is locked: keys are not in memory.
    Locked,
    /// No single-use keys are left; the wallet must sync.
    KeysExhausted,
    /// The wallet could not durably mark a key used (e.g. a storage
    /// error), so it must not release one.
    Unavailable,
    /// The key the wallet supplied is for the other profile.
    KeyMismatch,
    /// The terminal itself asked for an AAC.
    TerminalDeclined,
}

impl Decline {
    /// The code carried in the IAD so the issuer learns the reason.
    pub fn code(self) -> u8 {
        match self {
            Decline::Frozen => 1,
            Decline::Locked => 2,
            Decline::KeysExhausted => 3,
            Decline::Unavailable => 4,
            Decline::KeyMismatch => 5,
            Decline::TerminalDeclined => 6,
        }
    }

    /// The reason a decline code names.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Decline::Frozen,
            2 => Decline::Locked,
            3 => Decline::KeysExhausted,
            4 => Decline::Unavailable,
            5 => Decline::KeyMismatch,
            6 => Decline::TerminalDeclined,
            _ => return None,
        })
    }
}

/// The wallet side of a tap.
pub trait CardBackend {
    /// Returns the next ATC and its single-use session key for `token`.
    ///
    /// The implementation must durably mark the key used (and advance the
    /// ATC) *before* returning it: the card computes and sends the
    /// cryptogram right after, and a key must never be used twice, even
    /// across a crash. Returns the reason instead when the wallet is
    /// locked, the card is frozen, or no key is left.
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline>;
}

impl<B: CardBackend + ?Sized> CardBackend for &mut B {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        (**self).take_session_key(token)
    }
}

/// Why the NFC link went away (Android's `onDeactivated` reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeactivationReason {
    /// The reader left the field.
    LinkLoss,
    /// The reader selected another application.
    Deselected,
}
