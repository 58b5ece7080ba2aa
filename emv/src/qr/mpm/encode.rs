//! Writing a merchant-presented payload: payload format "01" first, the
//! specification's order after it, and the CRC, in uppercase hex, last.

use super::{MerchantAccount, MerchantPayload, TipRule};
use crate::qr::crc::{crc16_ccitt_false, crc_hex};
use crate::qr::data_object::{write, DataObject};
use crate::qr::error::MpmError;

impl MerchantPayload {
    /// The payload text, after the same checks the parser applies, so what
    /// this writes always parses back to an equal [`MerchantPayload`].
    pub fn encode(&self) -> Result<String, MpmError> {
        self.validate()?;
        let mut out = String::with_capacity(256);
        write(&mut out, 0, "01");
        if let Some(poi) = self.point_of_initiation {
            write(&mut out, 1, poi.code());
        }
        // Accounts and templates keep the caller's order, so a parsed payload
        // encodes back to its own order.
        for account in &self.merchant_accounts {
            match account {
                MerchantAccount::Network { id, value } => write(&mut out, *id, value),
                MerchantAccount::Template { id, fields } => write(&mut out, *id, &template(fields)),
            }
        }
        if let Some(mcc) = &self.mcc {
            write(&mut out, 52, mcc);
        }
        write(&mut out, 53, &self.currency);
        if let Some(amount) = &self.amount {
            write(&mut out, 54, amount);
        }
        match &self.tip {
            TipRule::None => {}
            TipRule::Prompt => write(&mut out, 55, "01"),
            TipRule::Fixed(fee) => {
                write(&mut out, 55, "02");
                write(&mut out, 56, fee);
            }
            TipRule::Percentage(pct) => {
                write(&mut out, 55, "03");
                write(&mut out, 57, pct);
            }
        }
        write(&mut out, 58, &self.country);
        for (id, value) in [
            (59, &self.merchant_name),
            (60, &self.merchant_city),
            (61, &self.postal_code),
        ] {
            if let Some(value) = value {
                write(&mut out, id, value);
            }
        }
        if let Some(data) = &self.additional_data {
            write(&mut out, 62, &pairs(data.objects()));
        }
        if let Some(lang) = &self.language {
            write(&mut out, 64, &pairs(lang.objects()));
        }
        for obj in &self.rfu {
            write(&mut out, obj.id, &obj.value);
        }
        for t in &self.unreserved {
            write(&mut out, t.id, &template(&t.fields));
        }
        out.push_str("6304");
        let crc = crc16_ccitt_false(out.as_bytes());
        out.push_str(&crc_hex(crc));
        Ok(out)
    }
}

fn template(fields: &[DataObject]) -> String {
    pairs(fields.iter().map(|f| (f.id, f.value.as_str())).collect())
}

fn pairs(objects: Vec<(u8, &str)>) -> String {
    let mut out = String::new();
    for (id, value) in objects {
        write(&mut out, id, value);
    }
    out
}
