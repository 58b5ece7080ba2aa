//! Paying a scanned merchant code through the bank.
//!
//! A merchant-presented payment needs the bank online: the merchant waits
//! for confirmation. The operation is written to the outbox (with a fresh
//! idempotency key) before it is sent, so whatever happens it is applied at
//! most once:
//! - the bank answers: the posted entry is stored and the operation done;
//! - nothing reached the bank (no connection): the operation is withdrawn
//!   and the caller gets `Offline` (the app offers the consumer-presented
//!   code instead);
//! - the outcome is unknown (timeout, 5xx after retries): a pending hold is
//!   recorded, the operation stays in the outbox, and the next sync learns
//!   the outcome under the same key: `PaymentUnconfirmed`.

use billfold_protocol::{
    self as wire, Merchant, Op, PaymentResult, PaymentStatus, QrPaymentRequest,
};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::params;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::{apply_bank_entries_in, EntryKind, LedgerEntry, PendingEntry, MAIN_ACCOUNT};
use crate::money::Money;
use crate::qr::{PaymentRequest, TipRule};
use crate::wallet::Wallet;

use super::engine::bank_entry;

/// A payment the bank approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrPayment {
    pub payment_id: String,
    /// Amount plus tip or fee.
    pub total: Money,
    /// The posted ledger entry.
    pub entry: LedgerEntry,
}

/// The amount and tip to pay, from the code's rules and what the payer
/// entered. Everything is in the code's currency.
fn amounts(
    req: &PaymentRequest,
    amount: Option<&Money>,
    tip: Option<&Money>,
) -> Result<(Money, Money)> {
    let currency = req.currency;
    for m in [amount, tip].into_iter().flatten() {
        if m.currency() != currency {
            return Err(Error::CurrencyMismatch);
        }
        if m.is_negative() || m.rounded() != *m {
            return Err(Error::InvalidAmount(
                "give a positive amount with no more decimals than the currency has",
            ));
        }
    }
    let amount = match (&req.amount, amount) {
        (Some(fixed), None) => *fixed,
        (Some(fixed), Some(given)) if given == fixed => *fixed,
        (Some(_), Some(_)) => {
            return Err(Error::InvalidAmount(
                "this code fixes the amount; pay it as it is",
            ))
        }
        (None, Some(given)) => *given,
        (None, None) => {
            return Err(Error::InvalidAmount(
                "this code asks you to enter the amount",
            ))
        }
    };
    if amount.to_minor()? <= 0 {
        return Err(Error::InvalidAmount("the amount must be more than zero"));
    }
    let zero = Money::zero(currency);
    let tip = match (&req.tip, tip) {
        (TipRule::None, None) => zero,
        (TipRule::None, Some(t)) if t.to_minor()? == 0 => zero,
        (TipRule::None, Some(_)) => {
            return Err(Error::InvalidAmount("this merchant does not take tips"))
        }
        (TipRule::Prompt, t) => t.copied().unwrap_or(zero),
        (TipRule::FixedFee { fee }, _) => *fee,
        (TipRule::PercentageFee { percent }, _) => Money::new(
            amount.amount() * percent / rust_decimal::Decimal::ONE_HUNDRED,
            currency,
        )
        .rounded(),
    };
    Ok((amount, tip))
}

fn new_key() -> Result<String> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Error::KeyStore("no randomness for a payment key".into()))?;
    Ok(format!("qr:{}", hex::encode(b)))
}

impl Wallet {
    /// Pays a scanned merchant code through the bank. `amount` is needed
    /// when the code leaves it to the customer (and must match when the
    /// code fixes it); `tip` when the code prompts for one.
    pub fn pay_qr(
        &self,
        request: &PaymentRequest,
        amount: Option<Money>,
        tip: Option<Money>,
    ) -> Result<QrPayment> {
        if !request.crc_valid {
            return Err(Error::InvalidQr {
                reason: "crc_mismatch",
                message: "the code's checksum does not match; do not pay it".into(),
            });
        }
        let (amount, tip) = amounts(request, amount.as_ref(), tip.as_ref())?;
        let enrollment = self.enrollment()?.ok_or(Error::NotEnrolled)?;
        if enrollment.currency != request.currency {
            return Err(Error::CurrencyMismatch);
        }
        // No sync may push this operation while it is being sent here.
        let _exclusive = self.sync.exclusive();
        let (client, signer) = self.bank()?;
        let total = amount.checked_add(&tip)?;
        let card_id: Option<String> = match self.default_card()? {
            Some(c) => self.conn().query_row(
                "SELECT bank_card_id FROM cards WHERE id = ?1",
                [&c.id],
                |r| r.get(0),
            )?,
            None => None,
        };
        let scheme = request.schemes.first();
        let body = QrPaymentRequest {
            card_id,
            amount: wire::Money::new(amount.to_minor()?, request.currency.code()),
            tip_minor: tip.to_minor()?,
            merchant: Merchant {
                name: request
                    .merchant_name
                    .clone()
                    .unwrap_or_else(|| "QR payment".into()),
                city: request.merchant_city.clone(),
                country: Some(request.country.clone()).filter(|c| !c.is_empty()),
                mcc: request.mcc.as_deref().and_then(|m| m.parse().ok()),
            },
            scheme: scheme.map(|s| s.scheme.clone()),
            payee: scheme.and_then(|s| s.payee.clone()),
        };
        let key = new_key()?;
        let op = Op::QrPayment(body.clone());
        let payload = serde_json::to_string(&op)
            .map_err(|_| Error::BankProtocol("a payment could not be encoded"))?;
        let now = self.now_ms();
        self.conn().execute(
            "INSERT INTO outbox (idempotency_key, kind, payload, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![key, op.kind(), payload, now],
        )?;
        let sent: Result<PaymentResult> = client.post(
            &signer.key,
            &signer.device_id,
            "/v1/payments/qr",
            &body,
            Some(&key),
            true,
        );
        match sent {
            Ok(result) if result.status == PaymentStatus::Approved => {
                let wire_entry = result
                    .entry
                    .as_ref()
                    .ok_or(Error::BankProtocol("an approved payment has no entry"))?;
                let entry = bank_entry(wire_entry)?;
                let collect = self.alert_listener.is_set();
                let (applied, changed) = {
                    let mut conn = self.conn();
                    let tx = conn.transaction()?;
                    let out = apply_bank_entries_in(
                        &tx,
                        std::slice::from_ref(&entry),
                        &[],
                        now,
                        collect,
                    )?;
                    tx.execute("DELETE FROM outbox WHERE idempotency_key = ?1", [&key])?;
                    tx.commit()?;
                    out
                };
                self.alert_listener.deliver(&changed, &applied.alerts);
                let total =
                    Money::from_minor(
                        result.total.amount_minor,
                        result.total.currency.parse().map_err(|_| {
                            Error::BankProtocol("the payment's currency is unknown")
                        })?,
                    );
                let stored = self.entry_by_bank_id(&wire_entry.entry_id)?;
                Ok(QrPayment {
                    payment_id: result.payment_id,
                    total,
                    entry: stored,
                })
            }
            Ok(result) => {
                self.withdraw(&key)?;
                Err(Error::PaymentDeclined(
                    result
                        .decline_reason
                        .map_or("declined", |r| r.as_str())
                        .replace('_', " "),
                ))
            }
            // Certainly not applied: nothing to keep.
            Err(e @ (Error::Offline | Error::BankRefused { .. })) => {
                self.withdraw(&key)?;
                Err(e)
            }
            Err(_) => {
                self.record_pending(&PendingEntry {
                    idempotency_key: key,
                    account: MAIN_ACCOUNT.to_string(),
                    kind: EntryKind::Purchase,
                    amount: total,
                    original: None,
                    merchant: Some(body.merchant.name),
                    mcc: body.merchant.mcc,
                    category: None,
                    note: None,
                    booked_at_ms: now,
                })?;
                Err(Error::PaymentUnconfirmed)
            }
        }
    }

    fn withdraw(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE idempotency_key = ?1", [key])?;
        Ok(())
    }

    fn entry_by_bank_id(&self, bank_id: &str) -> Result<LedgerEntry> {
        let id: String = self.conn().query_row(
            "SELECT id FROM ledger_entries WHERE bank_id = ?1",
            [bank_id],
            |r| r.get(0),
        )?;
        self.entry(&id)
    }
}
