//! Cross-check against an independent implementation: vectors made by
//! `vectors/gen_pyemv.py` with pyemv 1.5.0 (3DES profile) and the Book 2
//! AES formulas over Python's `cryptography` (AES profile). The JSON is
//! committed so this test needs no Python.

use emv::crypto::{
    application_cryptogram, arpc_method1, arqc_input, derive_icc_master_key, derive_session_key,
    CryptogramData, CryptogramKind, Iad, IssuerMasterKey, Profile,
};
use emv::issuer::{AtcRecord, Issuer};
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/pyemv_vectors.json");

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

#[test]
fn matches_pyemv_and_independent_aes() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(doc["pyemv_version"], "1.5.0");
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 20);
    for (i, v) in vectors.iter().enumerate() {
        let profile = match v["profile"].as_str().unwrap() {
            "tdes" => Profile::Tdes,
            "aes" => Profile::Aes,
            other => panic!("unknown profile {other}"),
        };
        let pan = v["pan"].as_str().unwrap();
        let psn = v["psn"].as_u64().unwrap() as u8;
        let dki = v["dki"].as_u64().unwrap() as u8;
        let atc = v["atc"].as_u64().unwrap() as u16;
        let imk = IssuerMasterKey::from_slice(profile, &bytes(v, "imk")).unwrap();

        let mk = derive_icc_master_key(&imk, pan, psn).unwrap();
        assert_eq!(
            mk.expose_bytes().to_vec(),
            bytes(v, "card_master_key"),
            "vector {i}: master key"
        );
        let sk = derive_session_key(&mk, atc);
        assert_eq!(
            sk.expose_bytes().to_vec(),
            bytes(v, "session_key"),
            "vector {i}: session key"
        );

        // The IAD layout is rebuilt independently by the script.
        let iad = Iad {
            profile,
            dki,
            kind: CryptogramKind::Arqc,
            decline_code: 0,
        }
        .encode();
        assert_eq!(iad.to_vec(), bytes(v, "iad"), "vector {i}: IAD");

        let aip: [u8; 2] = bytes(v, "aip").try_into().unwrap();
        let cdol1_data = bytes(v, "cdol1_data");
        let input = arqc_input(&cdol1_data, aip, atc, &iad);
        let arqc = application_cryptogram(&sk, &input);
        assert_eq!(arqc.to_vec(), bytes(v, "arqc"), "vector {i}: ARQC");
        let arc: [u8; 2] = bytes(v, "arc").try_into().unwrap();
        assert_eq!(
            arpc_method1(&sk, &arqc, arc).to_vec(),
            bytes(v, "arpc"),
            "vector {i}: ARPC"
        );

        // And the issuer API end to end on the same data.
        let issuer = Issuer::new().with_key(dki, imk);
        let data = CryptogramData {
            kind: CryptogramKind::Arqc,
            atc,
            aip,
            cdol1_data,
            iad: iad.to_vec(),
            ac: arqc,
        };
        let verified = issuer
            .verify_arqc(pan, psn, &data, &mut AtcRecord::new())
            .unwrap();
        assert_eq!(
            verified.arpc(arc).to_vec(),
            bytes(v, "arpc"),
            "vector {i}: issuer ARPC"
        );
    }
}
