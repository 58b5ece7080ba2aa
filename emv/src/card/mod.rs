//! The contactless card application the phone plays: a state machine from
//! command APDU bytes to response APDU bytes.
//!
//! The flow a terminal drives is SELECT PPSE → SELECT AID → GET PROCESSING
//! OPTIONS → READ RECORD → GENERATE AC. Every command that arrives out of
//! that order, or malformed, gets the ISO 7816 status word a real card
//! would give; nothing panics. The one side effect, taking a single-use
//! key, goes through [`CardBackend`], which durably marks the key used
//! before the cryptogram is computed.

mod backend;
pub mod templates;
mod token;
mod transaction;

use std::collections::BTreeMap;

pub use backend::{CardBackend, DeactivationReason, Decline};
pub use token::{Expiry, Token, TokenError};
pub use transaction::{CompletedTap, TapOutcome, TransactionData, TransactionDataError, TxnDate};

use crate::apdu::{CommandApdu, ResponseApdu, StatusWord};
use crate::crypto::{application_cryptogram, arqc_input, CryptogramData, CryptogramKind, Iad};
use crate::tlv::{parse_length, Tag};

const CLA_ISO: u8 = 0x00;
const CLA_PROPRIETARY: u8 = 0x80;
const INS_SELECT: u8 = 0xA4;
const INS_READ_RECORD: u8 = 0xB2;
const INS_GPO: u8 = 0xA8;
const INS_GENERATE_AC: u8 = 0xAE;

/// Where the card is in a transaction.
#[derive(Debug, Clone, Default)]
enum State {
    /// Nothing selected (field just arrived, or after deactivation).
    #[default]
    Idle,
    /// The PPSE is selected.
    Directory,
    /// An application is selected; `token` indexes the token list.
    Selected { token: usize },
    /// GET PROCESSING OPTIONS done; the PDOL values are kept for the
    /// transaction data.
    Initiated {
        token: usize,
        values: BTreeMap<Tag, Vec<u8>>,
    },
    /// GENERATE AC answered; only a new SELECT starts over.
    Done,
}

/// The card application.
///
/// Tokens are in priority order: the first is the default card and gets
/// priority 1 in the PPSE. The backend is passed to each call rather than
/// owned, so the wallet can lend its storage for the duration of one APDU.
#[derive(Debug, Clone)]
pub struct CardApp {
    tokens: Vec<Token>,
    state: State,
    completed: Option<CompletedTap>,
}

impl CardApp {
    /// A card presenting `tokens`, first one preferred.
    pub fn new(tokens: Vec<Token>) -> Self {
        CardApp {
            tokens,
            state: State::Idle,
            completed: None,
        }
    }

    /// The tokens presented, in priority order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Replaces the tokens (e.g. a new default card) and resets the session.
    pub fn set_tokens(&mut self, tokens: Vec<Token>) {
        self.tokens = tokens;
        self.state = State::Idle;
    }

    /// Processes one command APDU and returns the response bytes
    /// (data followed by SW1 SW2).
    pub fn process_apdu<B: CardBackend + ?Sized>(
        &mut self,
        apdu: &[u8],
        backend: &mut B,
    ) -> Vec<u8> {
        let response = match CommandApdu::parse(apdu) {
            Ok(cmd) => self.process(&cmd, backend),
            Err(e) => ResponseApdu::status(e.status_word()),
        };
        response.to_bytes()
    }

    /// Processes one parsed command.
    pub fn process<B: CardBackend + ?Sized>(
        &mut self,
        cmd: &CommandApdu,
        backend: &mut B,
    ) -> ResponseApdu {
        match (cmd.cla, cmd.ins) {
            (CLA_ISO, INS_SELECT) => self.select(cmd),
            (CLA_ISO, INS_READ_RECORD) => self.read_record(cmd),
            (CLA_PROPRIETARY, INS_GPO) => self.get_processing_options(cmd),
            (CLA_PROPRIETARY, INS_GENERATE_AC) => self.generate_ac(cmd, backend),
            (
                CLA_ISO | CLA_PROPRIETARY,
                INS_SELECT | INS_READ_RECORD | INS_GPO | INS_GENERATE_AC,
            ) => ResponseApdu::status(StatusWord::CLA_NOT_SUPPORTED),
            (CLA_ISO | CLA_PROPRIETARY, _) => ResponseApdu::status(StatusWord::INS_NOT_SUPPORTED),
            _ => ResponseApdu::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    /// The NFC link went away: forget the session. A completed tap stays
    /// available through [`take_completed`](Self::take_completed).
    pub fn on_deactivated(&mut self, _reason: DeactivationReason) {
        self.state = State::Idle;
    }

    /// The last finished tap, if the wallet has not taken it yet.
    pub fn completed(&self) -> Option<&CompletedTap> {
        self.completed.as_ref()
    }

    /// Takes the last finished tap, for the pending ledger entry.
    pub fn take_completed(&mut self) -> Option<CompletedTap> {
        self.completed.take()
    }

    fn select(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        // Select by DF name only; P2 00 = first occurrence, 02 = next
        // (there never is a next one).
        if cmd.p1 != 0x04 || !matches!(cmd.p2, 0x00 | 0x02) {
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        // Any SELECT ends the current transaction, found or not.
        self.state = State::Idle;
        if cmd.p2 == 0x02 || cmd.data.is_empty() {
            return ResponseApdu::status(StatusWord::FILE_NOT_FOUND);
        }
        if cmd.data == templates::PPSE_NAME {
            if self.tokens.is_empty() {
                return ResponseApdu::status(StatusWord::FILE_NOT_FOUND);
            }
            self.state = State::Directory;
            return ResponseApdu::ok(templates::ppse_fci(&self.tokens));
        }
        // Exact match first, then partial selection by AID prefix.
        let found = self
            .tokens
            .iter()
            .position(|t| t.aid == cmd.data)
            .or_else(|| {
                (cmd.data.len() >= 5)
                    .then(|| {
                        self.tokens
                            .iter()
                            .position(|t| t.aid.starts_with(&cmd.data))
                    })
                    .flatten()
            });
        match found {
            Some(token) => {
                self.state = State::Selected { token };
                ResponseApdu::ok(templates::adf_fci(&self.tokens[token]))
            }
            None => ResponseApdu::status(StatusWord::FILE_NOT_FOUND),
        }
    }

    fn get_processing_options(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        let State::Selected { token } = self.state else {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        // Command data is the Command Template: 83 L <PDOL data>.
        let [0x83, rest @ ..] = cmd.data.as_slice() else {
            return ResponseApdu::status(StatusWord::WRONG_DATA);
        };
        let Ok((len, len_len)) = parse_length(rest) else {
            return ResponseApdu::status(StatusWord::WRONG_LENGTH);
        };
        let pdol_data = &rest[len_len..];
        let pdol = templates::pdol();
        if len != pdol_data.len() {
            return ResponseApdu::status(StatusWord::WRONG_LENGTH);
        }
        let Ok(parts) = pdol.split(pdol_data) else {
            return ResponseApdu::status(StatusWord::WRONG_LENGTH);
        };
        let values = parts.into_iter().map(|(t, v)| (t, v.to_vec())).collect();
        self.state = State::Initiated { token, values };
        ResponseApdu::ok(templates::gpo_response())
    }

    fn read_record(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        // P2: SFI in bits 8–4, 100 in bits 3–1 ("P1 is a record number").
        if cmd.p1 == 0 || cmd.p2 & 0x07 != 0x04 {
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        let State::Initiated { token, .. } = self.state else {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        if cmd.p2 >> 3 != templates::SFI || cmd.p1 != 1 {
            return ResponseApdu::status(StatusWord::RECORD_NOT_FOUND);
        }
        ResponseApdu::ok(templates::record(&self.tokens[token]))
    }

    fn generate_ac<B: CardBackend + ?Sized>(
        &mut self,
        cmd: &CommandApdu,
        backend: &mut B,
    ) -> ResponseApdu {
        // P1 bits 8–7: AAC 00, TC 01, ARQC 10 (11 is RFU); bit 5 asks for
        // CDA, which this card does not offer (AIP) and so ignores.
        if cmd.p2 != 0 || cmd.p1 & 0xC0 == 0xC0 || cmd.p1 & 0x2F != 0 {
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        let State::Initiated { token, values } = &self.state else {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let token = &self.tokens[*token];
        let cdol1 = templates::cdol1();
        let Ok(parts) = cdol1.split(&cmd.data) else {
            return ResponseApdu::status(StatusWord::WRONG_LENGTH);
        };
        let mut values = values.clone();
        values.extend(parts.into_iter().map(|(t, v)| (t, v.to_vec())));
        // Check the terminal's data before a key is spent on it.
        let Ok(transaction) = TransactionData::from_values(&values) else {
            return ResponseApdu::status(StatusWord::WRONG_DATA);
        };

        let requested_aac = cmd.p1 & 0xC0 == 0x00;
        let taken = if requested_aac {
            Err(Decline::TerminalDeclined)
        } else {
            backend.take_session_key(token).and_then(|(atc, sk)| {
                if sk.profile() == token.profile {
                    Ok((atc, sk))
                } else {
                    Err(Decline::KeyMismatch)
                }
            })
        };

        let (response, outcome) = match taken {
            Ok((atc, sk)) => {
                let kind = CryptogramKind::Arqc;
                let iad = Iad {
                    profile: token.profile,
                    dki: token.dki,
                    kind,
                    decline_code: 0,
                }
                .encode();
                let ac =
                    application_cryptogram(&sk, &arqc_input(&cmd.data, templates::AIP, atc, &iad));
                let data = CryptogramData {
                    kind,
                    atc,
                    aip: templates::AIP,
                    cdol1_data: cmd.data.clone(),
                    iad: iad.to_vec(),
                    ac,
                };
                let bytes = templates::generate_ac_response(kind.cid(), atc, ac, &iad);
                (bytes, TapOutcome::Online(data))
            }
            Err(reason) => {
                // No key was released, so there is nothing to sign with:
                // the AAC carries zeros and the reason travels in the IAD.
                let iad = Iad {
                    profile: token.profile,
                    dki: token.dki,
                    kind: CryptogramKind::Aac,
                    decline_code: reason.code(),
                }
                .encode();
                let bytes =
                    templates::generate_ac_response(CryptogramKind::Aac.cid(), 0, [0; 8], &iad);
                (bytes, TapOutcome::Declined(reason))
            }
        };
        self.completed = Some(CompletedTap {
            token_id: token.id.clone(),
            transaction,
            outcome,
        });
        self.state = State::Done;
        ResponseApdu::ok(response)
    }
}
