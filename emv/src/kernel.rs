//! The reader kernel: the terminal side of a contactless transaction, used
//! by the POS simulator and by tests to drive any card over a transport.
//!
//! It runs SELECT PPSE → SELECT AID → GET PROCESSING OPTIONS (PDOL data) →
//! READ RECORD for every AFL entry → GENERATE AC (CDOL1 data, asking for an
//! ARQC), and returns a transcript of every exchange together with the
//! outcome the terminal forwards to the issuer.

use std::collections::BTreeMap;
use std::fmt;

use crate::apdu::{CommandApdu, ResponseApdu, StatusWord};
use crate::bcd::{decode_cn, decode_n, encode_n};
use crate::card::TxnDate;
use crate::crypto::{CryptogramData, CryptogramKind};
use crate::dol::Dol;
use crate::tlv::{self, Tag, Tlv};

const PPSE_NAME: &[u8] = b"2PAY.SYS.DDF01";
/// A card may not make the kernel read more records than this.
const MAX_RECORDS: usize = 32;

/// What the terminal knows about the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalParams {
    /// Amount, authorised, in minor units (at most 12 digits).
    pub amount_minor: u64,
    /// Amount, other (cashback), in minor units.
    pub other_amount_minor: u64,
    /// ISO 4217 numeric currency code.
    pub currency: u16,
    /// ISO 3166 numeric country code.
    pub country: u16,
    pub date: TxnDate,
    /// Transaction type (9C): 0x00 purchase.
    pub transaction_type: u8,
    /// Unpredictable number (9F37): the caller draws it.
    pub unpredictable_number: [u8; 4],
    /// Merchant category code (9F15).
    pub mcc: u16,
    /// Merchant name and location (9F4E), ASCII.
    pub merchant_name: String,
    /// Terminal Transaction Qualifiers (9F66).
    pub ttq: [u8; 4],
    /// Terminal Verification Results (95).
    pub tvr: [u8; 5],
    /// Select this AID instead of the PPSE's highest-priority entry.
    pub preferred_aid: Option<Vec<u8>>,
}

impl TerminalParams {
    /// Parameters for a purchase with the usual defaults: no cashback, an
    /// EMV-mode online-capable TTQ, clean TVR, highest-priority application.
    #[allow(clippy::too_many_arguments)]
    pub fn purchase(
        amount_minor: u64,
        currency: u16,
        country: u16,
        date: TxnDate,
        unpredictable_number: [u8; 4],
        mcc: u16,
        merchant_name: impl Into<String>,
    ) -> Self {
        TerminalParams {
            amount_minor,
            other_amount_minor: 0,
            currency,
            country,
            date,
            transaction_type: 0x00,
            unpredictable_number,
            mcc,
            merchant_name: merchant_name.into(),
            ttq: [0x36, 0x00, 0x40, 0x00],
            tvr: [0; 5],
            preferred_aid: None,
        }
    }

    /// The terminal's data elements, by tag.
    fn data(&self) -> Result<BTreeMap<Tag, Vec<u8>>, KernelError> {
        let n = |v: u64, len: usize, what: &'static str| {
            encode_n(v, len).ok_or(KernelError::InvalidParams(what))
        };
        let date = (self.date.year % 100) as u64 * 10_000
            + u64::from(self.date.month) * 100
            + u64::from(self.date.day);
        let name: Vec<u8> = self
            .merchant_name
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        let mut m = BTreeMap::new();
        m.insert(
            Tag(0x9F02),
            n(self.amount_minor, 6, "amount has more than 12 digits")?,
        );
        m.insert(
            Tag(0x9F03),
            n(
                self.other_amount_minor,
                6,
                "other amount has more than 12 digits",
            )?,
        );
        m.insert(
            Tag(0x5F2A),
            n(
                self.currency.into(),
                2,
                "currency code has more than 3 digits",
            )?,
        );
        m.insert(
            Tag(0x9F1A),
            n(
                self.country.into(),
                2,
                "country code has more than 3 digits",
            )?,
        );
        m.insert(Tag(0x9A), n(date, 3, "bad date")?);
        m.insert(
            Tag(0x9C),
            n(self.transaction_type.into(), 1, "transaction type above 99")?,
        );
        m.insert(Tag(0x9F37), self.unpredictable_number.to_vec());
        m.insert(
            Tag(0x9F15),
            n(self.mcc.into(), 2, "MCC has more than 4 digits")?,
        );
        m.insert(Tag(0x9F4E), name);
        m.insert(Tag(0x9F66), self.ttq.to_vec());
        m.insert(Tag(0x95), self.tvr.to_vec());
        // Terminal type: attended, online only, merchant-controlled.
        m.insert(Tag(0x9F35), vec![0x21]);
        Ok(m)
    }
}

/// The stage of the transaction an exchange belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SelectPpse,
    SelectApplication,
    GetProcessingOptions,
    ReadRecord,
    GenerateAc,
}

/// One command and the card's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Exchange {
    pub step: Step,
    /// What the command does, in words (never card data).
    pub description: String,
    pub command: Vec<u8>,
    /// The full response, data and status word.
    pub response: Vec<u8>,
}

impl Exchange {
    /// The response's status word, if it had one.
    pub fn status(&self) -> Option<StatusWord> {
        ResponseApdu::parse(&self.response).ok().map(|r| r.sw)
    }

    /// Command and response in hex. They contain card data (the PAN):
    /// for test tools and simulators, not for logs.
    pub fn hex(&self) -> (String, String) {
        (
            hex::encode_upper(&self.command),
            hex::encode_upper(&self.response),
        )
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status() {
            Some(sw) => write!(f, "{} → {}", self.description, sw),
            None => write!(f, "{} → no valid response", self.description),
        }
    }
}

// The response bytes hold the PAN and track data: Debug shows sizes only.
impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Exchange({:?}, {:?}, {} → {} bytes, {:?})",
            self.step,
            self.description,
            self.command.len(),
            self.response.len(),
            self.status()
        )
    }
}

/// Why a transaction could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    #[error("invalid terminal parameters: {0}")]
    InvalidParams(&'static str),
    #[error("transport failed during {step:?}: {message}")]
    Transport { step: Step, message: String },
    #[error("card answered {sw} to {step:?}")]
    Status { step: Step, sw: StatusWord },
    #[error("card's response to {step:?} is malformed: {reason}")]
    BadResponse { step: Step, reason: &'static str },
}

/// What the card returned, for the authorisation request.
#[derive(Clone, PartialEq, Eq)]
pub struct KernelOutcome {
    pub aid: Vec<u8>,
    pub label: Option<String>,
    /// The (token) PAN read from 5A or track 2.
    pub pan: String,
    /// PAN sequence number (5F34), if the card has one.
    pub psn: Option<u8>,
    /// Everything the cryptogram covers, with the cryptogram itself:
    /// kind, ATC, AC, IAD, AIP and the CDOL1 data used.
    pub cryptogram: CryptogramData,
}

impl KernelOutcome {
    pub fn kind(&self) -> CryptogramKind {
        self.cryptogram.kind
    }
}

impl fmt::Debug for KernelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last4 = self
            .pan
            .get(self.pan.len().saturating_sub(4)..)
            .unwrap_or("");
        f.debug_struct("KernelOutcome")
            .field("aid", &hex::encode_upper(&self.aid))
            .field("label", &self.label)
            .field("pan", &format_args!("…{last4}"))
            .field("psn", &self.psn)
            .field("cryptogram", &self.cryptogram)
            .finish()
    }
}

/// A transaction's transcript and result; the transcript is kept even when
/// the transaction failed, to show where.
#[derive(Debug, Clone)]
pub struct KernelRun {
    pub transcript: Vec<Exchange>,
    pub result: Result<KernelOutcome, KernelError>,
}

/// Runs one transaction against a card reached through `transport`, which
/// sends command bytes and returns response bytes.
pub fn run<T, E>(params: &TerminalParams, mut transport: T) -> KernelRun
where
    T: FnMut(&[u8]) -> Result<Vec<u8>, E>,
    E: fmt::Display,
{
    let mut session = Session {
        transcript: Vec::new(),
        transport: &mut transport,
    };
    let result = session.transact(params);
    KernelRun {
        transcript: session.transcript,
        result,
    }
}

struct Session<'a, T> {
    transcript: Vec<Exchange>,
    transport: &'a mut T,
}

impl<T, E> Session<'_, T>
where
    T: FnMut(&[u8]) -> Result<Vec<u8>, E>,
    E: fmt::Display,
{
    /// Sends a command, records the exchange, and returns the response
    /// data if the card answered 9000.
    fn exchange(
        &mut self,
        step: Step,
        description: String,
        cmd: CommandApdu,
    ) -> Result<Vec<u8>, KernelError> {
        let command = cmd.to_bytes().map_err(|_| KernelError::BadResponse {
            step,
            reason: "command data too long for a short APDU",
        })?;
        let sent = (self.transport)(&command);
        let response = match &sent {
            Ok(r) => r.clone(),
            Err(_) => Vec::new(),
        };
        self.transcript.push(Exchange {
            step,
            description,
            command,
            response,
        });
        let bytes = sent.map_err(|e| KernelError::Transport {
            step,
            message: e.to_string(),
        })?;
        let r = ResponseApdu::parse(&bytes).map_err(|_| KernelError::BadResponse {
            step,
            reason: "no status word",
        })?;
        if !r.sw.is_success() {
            return Err(KernelError::Status { step, sw: r.sw });
        }
        Ok(r.data)
    }

    fn transact(&mut self, params: &TerminalParams) -> Result<KernelOutcome, KernelError> {
        let terminal = params.data()?;

        // Application selection.
        let ppse = self.exchange(
            Step::SelectPpse,
            "SELECT PPSE 2PAY.SYS.DDF01".into(),
            CommandApdu::new(0x00, 0xA4, 0x04, 0x00, PPSE_NAME, Some(256)),
        )?;
        let aid = match &params.preferred_aid {
            Some(aid) => aid.clone(),
            None => choose_application(&ppse)?,
        };
        let fci = self.exchange(
            Step::SelectApplication,
            format!("SELECT AID {}", hex::encode_upper(&aid)),
            CommandApdu::new(0x00, 0xA4, 0x04, 0x00, aid.clone(), Some(256)),
        )?;
        let fci = parse(Step::SelectApplication, &fci)?;
        let label = tlv::find_value(&fci, 0x50).map(|l| String::from_utf8_lossy(l).into_owned());
        let pdol = match tlv::find_value(&fci, 0x9F38) {
            Some(raw) => {
                Dol::parse(raw).map_err(|_| bad(Step::SelectApplication, "malformed PDOL"))?
            }
            None => Dol::default(),
        };

        // Initiate application processing.
        let pdol_data = pdol.build(&terminal);
        let mut gpo_data = vec![0x83];
        tlv::encode_length(pdol_data.len(), &mut gpo_data)
            .map_err(|_| bad(Step::SelectApplication, "PDOL too long"))?;
        gpo_data.extend_from_slice(&pdol_data);
        let gpo = self.exchange(
            Step::GetProcessingOptions,
            format!(
                "GET PROCESSING OPTIONS with {} bytes of PDOL data",
                pdol_data.len()
            ),
            CommandApdu::new(0x80, 0xA8, 0x00, 0x00, gpo_data, Some(256)),
        )?;
        let (aip, afl) = parse_gpo(&gpo)?;

        // Read application data.
        let mut card: BTreeMap<Tag, Vec<u8>> = BTreeMap::new();
        for (sfi, record) in afl_records(&afl)? {
            let data = self.exchange(
                Step::ReadRecord,
                format!("READ RECORD SFI {sfi} record {record}"),
                CommandApdu::new(0x00, 0xB2, record, (sfi << 3) | 0x04, Vec::new(), Some(256)),
            )?;
            let tlvs = parse(Step::ReadRecord, &data)?;
            let [Tlv { tag: Tag(0x70), .. }] = tlvs.as_slice() else {
                return Err(bad(Step::ReadRecord, "record is not a 70 template"));
            };
            for (tag, value) in tlv::flatten(&tlvs) {
                card.entry(tag).or_insert_with(|| value.to_vec());
            }
        }
        let cdol1 = card
            .get(&Tag(0x8C))
            .ok_or(bad(Step::ReadRecord, "no CDOL1 (8C)"))
            .and_then(|raw| {
                Dol::parse(raw).map_err(|_| bad(Step::ReadRecord, "malformed CDOL1"))
            })?;
        let pan = card
            .get(&Tag(0x5A))
            .and_then(|v| decode_cn(v))
            .or_else(|| card.get(&Tag(0x57)).and_then(|t2| pan_from_track2(t2)))
            .filter(|p| !p.is_empty())
            .ok_or(bad(Step::ReadRecord, "no PAN (5A or 57)"))?;
        let psn = card
            .get(&Tag(0x5F34))
            .and_then(|v| decode_n(v))
            .and_then(|v| u8::try_from(v).ok());

        // Card action analysis: ask for an ARQC (online).
        let mut source = card.clone();
        source.extend(terminal);
        let cdol1_data = cdol1.build(&source);
        let gen_ac = self.exchange(
            Step::GenerateAc,
            format!(
                "GENERATE AC (ARQC requested) with {} bytes of CDOL1 data",
                cdol1_data.len()
            ),
            CommandApdu::new(0x80, 0xAE, 0x80, 0x00, cdol1_data.clone(), Some(256)),
        )?;
        let cryptogram = parse_generate_ac(&gen_ac, aip, cdol1_data)?;
        Ok(KernelOutcome {
            aid,
            label,
            pan,
            psn,
            cryptogram,
        })
    }
}

fn bad(step: Step, reason: &'static str) -> KernelError {
    KernelError::BadResponse { step, reason }
}

fn parse(step: Step, data: &[u8]) -> Result<Vec<Tlv>, KernelError> {
    tlv::decode(data).map_err(|_| bad(step, "malformed TLV"))
}

/// Picks the PPSE entry with the best (lowest) priority indicator; entries
/// without one come last, ties keep directory order.
fn choose_application(ppse: &[u8]) -> Result<Vec<u8>, KernelError> {
    let fci = parse(Step::SelectPpse, ppse)?;
    let directory = tlv::find(&fci, 0xBF0C).ok_or(bad(Step::SelectPpse, "no directory (BF0C)"))?;
    directory
        .children()
        .iter()
        .filter(|e| e.tag == Tag(0x61))
        .filter_map(|e| {
            let aid = e.find(0x4F)?.bytes()?.to_vec();
            let priority = e
                .find(0x87)
                .and_then(Tlv::bytes)
                .and_then(|p| p.first())
                .map_or(16, |p| p & 0x0F);
            Some((priority, aid))
        })
        .min_by_key(|(priority, _)| *priority)
        .map(|(_, aid)| aid)
        .ok_or(bad(Step::SelectPpse, "no application in the directory"))
}

/// AIP and AFL from a format 1 (80) or format 2 (77) GPO response.
fn parse_gpo(data: &[u8]) -> Result<([u8; 2], Vec<u8>), KernelError> {
    let step = Step::GetProcessingOptions;
    let tlvs = parse(step, data)?;
    let (aip, afl) = match tlvs.as_slice() {
        [t] if t.tag == Tag(0x80) => {
            let v = t.bytes().unwrap_or_default();
            if v.len() < 2 {
                return Err(bad(step, "format 1 response too short"));
            }
            (v[..2].to_vec(), v[2..].to_vec())
        }
        [t] if t.tag == Tag(0x77) => (
            t.find(0x82)
                .and_then(Tlv::bytes)
                .ok_or(bad(step, "no AIP"))?
                .to_vec(),
            t.find(0x94)
                .and_then(Tlv::bytes)
                .ok_or(bad(step, "no AFL"))?
                .to_vec(),
        ),
        _ => return Err(bad(step, "neither an 80 nor a 77 template")),
    };
    let aip: [u8; 2] = aip
        .try_into()
        .map_err(|_| bad(step, "AIP is not 2 bytes"))?;
    Ok((aip, afl))
}

/// Expands the AFL into (SFI, record) pairs.
fn afl_records(afl: &[u8]) -> Result<Vec<(u8, u8)>, KernelError> {
    let step = Step::GetProcessingOptions;
    if !afl.len().is_multiple_of(4) {
        return Err(bad(step, "AFL length is not a multiple of 4"));
    }
    let mut out = Vec::new();
    for entry in afl.chunks_exact(4) {
        let (sfi, first, last) = (entry[0] >> 3, entry[1], entry[2]);
        if sfi == 0 || sfi > 30 || first == 0 || last < first {
            return Err(bad(step, "invalid AFL entry"));
        }
        for record in first..=last {
            if out.len() == MAX_RECORDS {
                return Err(bad(step, "AFL names too many records"));
            }
            out.push((sfi, record));
        }
    }
    Ok(out)
}

/// The PAN from track 2 equivalent data: the digits before the D.
fn pan_from_track2(track2: &[u8]) -> Option<String> {
    let digits = hex::encode_upper(track2);
    let pan = digits.split('D').next()?;
    (pan.len() < digits.len() && pan.bytes().all(|b| b.is_ascii_digit())).then(|| pan.to_string())
}

/// The cryptogram from a format 1 (80) or format 2 (77) GENERATE AC response.
fn parse_generate_ac(
    data: &[u8],
    aip: [u8; 2],
    cdol1_data: Vec<u8>,
) -> Result<CryptogramData, KernelError> {
    let step = Step::GenerateAc;
    let tlvs = parse(step, data)?;
    let (cid, atc, ac, iad) = match tlvs.as_slice() {
        [t] if t.tag == Tag(0x80) => {
            let v = t.bytes().unwrap_or_default();
            if v.len() < 11 {
                return Err(bad(step, "format 1 response too short"));
            }
            (v[0], v[1..3].to_vec(), v[3..11].to_vec(), v[11..].to_vec())
        }
        [t] if t.tag == Tag(0x77) => {
            let get = |tag: u32, what| t.find(tag).and_then(Tlv::bytes).ok_or(bad(step, what));
            let cid = get(0x9F27, "no CID (9F27)")?;
            let [cid] = cid else {
                return Err(bad(step, "CID is not 1 byte"));
            };
            (
                *cid,
                get(0x9F36, "no ATC (9F36)")?.to_vec(),
                get(0x9F26, "no AC (9F26)")?.to_vec(),
                t.find(0x9F10)
                    .and_then(Tlv::bytes)
                    .unwrap_or_default()
                    .to_vec(),
            )
        }
        _ => return Err(bad(step, "neither an 80 nor a 77 template")),
    };
    Ok(CryptogramData {
        kind: CryptogramKind::from_cid(cid).ok_or(bad(step, "RFU cryptogram type"))?,
        atc: u16::from_be_bytes(
            atc.try_into()
                .map_err(|_| bad(step, "ATC is not 2 bytes"))?,
        ),
        aip,
        cdol1_data,
        iad,
        ac: ac.try_into().map_err(|_| bad(step, "AC is not 8 bytes"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn afl_expansion() {
        assert_eq!(
            afl_records(&[0x08, 1, 2, 0, 0x10, 1, 1, 1]).unwrap(),
            vec![(1, 1), (1, 2), (2, 1)]
        );
        assert!(afl_records(&[0x08, 1, 2]).is_err());
        assert!(afl_records(&[0x08, 2, 1, 0]).is_err());
        assert!(afl_records(&[0x00, 1, 1, 0]).is_err());
        assert!(afl_records(&[0x08, 1, 255, 0]).is_err());
    }

    #[test]
    fn track2_pan() {
        assert_eq!(
            pan_from_track2(&hex::decode("4761739001010010D2512201").unwrap()).as_deref(),
            Some("4761739001010010")
        );
        assert_eq!(pan_from_track2(&[0x47, 0x61]), None);
    }

    #[test]
    fn priority_choice() {
        // Two entries: the second has priority 1.
        let entry = |aid: u8, prio: u8| {
            Tlv::constructed(
                0x61,
                vec![
                    Tlv::primitive(0x4F, vec![aid; 5]),
                    Tlv::primitive(0x87, vec![prio]),
                ],
            )
        };
        let fci = Tlv::constructed(
            0x6F,
            vec![Tlv::constructed(
                0xA5,
                vec![Tlv::constructed(
                    0xBF0C,
                    vec![entry(0xAA, 2), entry(0xBB, 1)],
                )],
            )],
        );
        assert_eq!(
            choose_application(&fci.encode().unwrap()).unwrap(),
            vec![0xBB; 5]
        );
    }
}
