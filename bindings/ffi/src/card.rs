//! Cards as the apps see them: masked, never the full number.

use wallet_core::Network as CoreNetwork;

/// The card's payment network, from its BIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Network {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Diners,
    Jcb,
    UnionPay,
    Maestro,
    RuPay,
    Mir,
    Elo,
    Verve,
    Unknown,
}

impl From<CoreNetwork> for Network {
    fn from(n: CoreNetwork) -> Self {
        match n {
            CoreNetwork::Visa => Network::Visa,
            CoreNetwork::Mastercard => Network::Mastercard,
            CoreNetwork::Amex => Network::Amex,
            CoreNetwork::Discover => Network::Discover,
            CoreNetwork::Diners => Network::Diners,
            CoreNetwork::Jcb => Network::Jcb,
            CoreNetwork::UnionPay => Network::UnionPay,
            CoreNetwork::Maestro => Network::Maestro,
            CoreNetwork::RuPay => Network::RuPay,
            CoreNetwork::Mir => Network::Mir,
            CoreNetwork::Elo => Network::Elo,
            CoreNetwork::Verve => Network::Verve,
            CoreNetwork::Unknown => Network::Unknown,
        }
    }
}

/// A card in the wallet. It holds at most the BIN and the last four digits,
/// so it is safe to log or show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Card {
    /// Opaque identifier for `freezeCard`, `removeCard` and the rest.
    pub id: String,
    pub network: Network,
    /// e.g. "411111******1111".
    pub masked_pan: String,
    pub last4: String,
    /// MM/YY.
    pub expiry: String,
    pub cardholder_name: String,
    pub nickname: Option<String>,
    /// A frozen card is kept but cannot pay.
    pub frozen: bool,
    /// The card taps pay with.
    pub is_default: bool,
}

impl From<wallet_core::Card> for Card {
    fn from(c: wallet_core::Card) -> Self {
        Card {
            id: c.id,
            network: c.network.into(),
            masked_pan: c.masked_pan,
            last4: c.last4,
            expiry: c.expiry,
            cardholder_name: c.cardholder_name,
            nickname: c.nickname,
            frozen: c.frozen,
            is_default: c.is_default,
        }
    }
}
