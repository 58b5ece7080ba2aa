//! Statement import (OFX 1 SGML, OFX 2 XML, the documented CSV layout) with
//! stable-id deduplication; CSV export that imports back; insights and the
//! spending chart.

mod common;
mod ledger_support;

use common::*;
use ledger_support::*;
use wallet_core::{
    render_chart, ChartFormat, EntryKind, Error, HistoryQuery, ImportFormat, ImportOptions,
    InsightsQuery,
};

/// An OFX 1.02 credit-card statement: SGML, leaf elements without end tags,
/// and the card number as the account id.
const OFX_SGML: &str = "OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261120120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>4929123456781236</CCACCTFROM>
<BANKTRANLIST><DTSTART>20261001<DTEND>20261120
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261015120000.000[-5:EST]<TRNAMT>-42.50<FITID>T1<NAME>Green Grocer &amp; Co<SIC>5411<MEMO>weekly shop</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261015<TRNAMT>-42.50<FITID>T2<NAME>Green Grocer &amp; Co<SIC>5411</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261102<TRNAMT>-108.37<FITID>T3<NAME>Hotel de Paris<SIC>7011<ORIGCURRENCY><CURRATE>1.0837<CURSYM>EUR</ORIGCURRENCY></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261105<TRNAMT>2000.00<FITID>T4<NAME>Salary</STMTTRN>
<STMTTRN><TRNTYPE>SRVCHG<DTPOSTED>20261106<TRNAMT>-2.00<FITID>T5<NAME>Card fee</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1804.63<DTASOF>20261120</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
";

const OFX_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE"?>
<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF>
<BANKACCTFROM><BANKID>123</BANKID><ACCTID>FR7612345</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST>
<STMTTRN><TRNTYPE>POS</TRNTYPE><DTPOSTED>20261110093000</DTPOSTED><TRNAMT>-12.30</TRNAMT><FITID>X-1</FITID><NAME>Boulangerie</NAME><SIC>5462</SIC></STMTTRN>
<STMTTRN><TRNTYPE>XFER</TRNTYPE><DTPOSTED>20261111</DTPOSTED><TRNAMT>-500.00</TRNAMT><FITID>X-2</FITID><NAME>To savings</NAME></STMTTRN>
</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"#;

const CSV: &str = "id,date,amount,currency,merchant,category,mcc,kind
c1,2026-11-02,-15.00,USD,Cinema City,,7832,
c2,2026-11-03 19:30,-60.00,USD,Trattoria,,5812,
c3,2026-11-03T20:00:00+01:00,-4.00,USD,=cmd|' /C calc'!A0,,,
c4,2026-11-04,25.00,USD,Trattoria,,,refund
";

fn opts(format: ImportFormat) -> ImportOptions {
    ImportOptions {
        format,
        ..Default::default()
    }
}

#[test]
fn ofx_statements_import_once() {
    let f = fixture();
    let w = &f.wallet;
    let applied = w
        .import_statement(OFX_SGML.as_bytes(), &opts(ImportFormat::Auto))
        .unwrap();
    assert_eq!(
        (applied.inserted, applied.updated, applied.unchanged),
        (5, 0, 0)
    );
    // The same file again: nothing new. Two identical grocery lines with
    // different FITIDs stay two.
    let again = w
        .import_statement(OFX_SGML.as_bytes(), &opts(ImportFormat::Ofx))
        .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 5));
    let page = w
        .history(&HistoryQuery {
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.entries.len(), 5);
    let grocer: Vec<_> = page
        .entries
        .iter()
        .filter(|e| e.merchant.as_deref() == Some("Green Grocer & Co"))
        .collect();
    assert_eq!(grocer.len(), 2);
    assert_eq!(grocer[0].category, "food.groceries");
    assert_eq!(grocer[0].account, "ofx-1236");
    // 12:00 EST is 17:00 UTC.
    assert!(page
        .entries
        .iter()
        .any(|e| e.booked_at_ms == at("2026-10-15T17:00:00Z")));
    let hotel = page.entries.iter().find(|e| e.mcc == Some(7011)).unwrap();
    assert_eq!(hotel.amount, money("-108.37 USD"));
    assert_eq!(
        hotel.original.as_ref().unwrap().original,
        money("-100.00 EUR")
    );
    let kinds: Vec<EntryKind> = page.entries.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EntryKind::Income) && kinds.contains(&EntryKind::Fee));
    let b = &w.balances().unwrap()[0];
    assert_eq!(b.posted, money("1804.63 USD"));

    // The card number that is the statement's account id is not on disk.
    w.checkpoint().unwrap();
    for (name, bytes) in read_all(f.dir.path()) {
        assert!(
            !bytes.windows(12).any(|x| x == b"492912345678"),
            "card digits in {name}"
        );
    }

    let applied = w
        .import_statement(OFX_XML.as_bytes(), &opts(ImportFormat::Auto))
        .unwrap();
    assert_eq!(applied.inserted, 2);
    let eur = w.balance("ofx-2345").unwrap();
    assert_eq!(eur[0].posted, money("-512.30 EUR"));
}

#[test]
fn csv_imports_with_its_documented_layout_and_bad_lines_store_nothing() {
    let f = fixture();
    let w = &f.wallet;
    let applied = w
        .import_statement(CSV.as_bytes(), &opts(ImportFormat::Csv))
        .unwrap();
    assert_eq!(applied.inserted, 4);
    assert_eq!(
        w.import_statement(CSV.as_bytes(), &opts(ImportFormat::Auto))
            .unwrap()
            .unchanged,
        4
    );
    let all = w.history(&HistoryQuery::default()).unwrap().entries;
    let c2 = all
        .iter()
        .find(|e| e.bank_id.as_deref() == Some("csv:main:c2"))
        .unwrap();
    assert_eq!(c2.booked_at_ms, at("2026-11-03T19:30:00Z"));
    assert_eq!(c2.category, "food.restaurants");
    let c3 = all
        .iter()
        .find(|e| e.bank_id.as_deref() == Some("csv:main:c3"))
        .unwrap();
    assert_eq!(c3.booked_at_ms, at("2026-11-03T19:00:00Z"));
    assert_eq!(
        all.iter().filter(|e| e.kind == EntryKind::Refund).count(),
        1
    );

    for (bad, record) in [
        (
            "id,date,amount,currency\nz1,2026-11-01,-1.00,USD\nz2,yesterday,-1.00,USD\n",
            3,
        ),
        ("id,date,amount,currency\nz1,2026-11-01,-1.005,USD\n", 2),
        ("id,date,amount,currency\nz1,2026-11-01,-1.00,ABC\n", 2),
        ("id,date,currency\nz1,2026-11-01,USD\n", 1),
        ("id,date,amount\nz1,2026-11-01,1\n", 1),
    ] {
        match w.import_statement(bad.as_bytes(), &opts(ImportFormat::Csv)) {
            Err(Error::InvalidImport { record: r, .. }) => assert_eq!(r, record, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(w.entry_count().unwrap(), 4, "a bad file stores nothing");
    assert!(w
        .import_statement(
            b"<OFX><STMTTRN><TRNAMT>1</STMTTRN></OFX>",
            &opts(ImportFormat::Ofx)
        )
        .is_err());
}

#[test]
fn export_writes_csv_that_imports_into_another_wallet() {
    let f = fixture();
    let w = &f.wallet;
    w.import_statement(OFX_SGML.as_bytes(), &opts(ImportFormat::Ofx))
        .unwrap();
    w.import_statement(CSV.as_bytes(), &opts(ImportFormat::Csv))
        .unwrap();
    spend(w, "local", "3.00 USD", Some("food"), "2026-11-20T08:00:00Z");
    let mut out = Vec::new();
    assert_eq!(w.export_csv(&mut out, None, None).unwrap(), 10);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("id,date,amount,currency,kind,status,"));
    // A merchant that a spreadsheet would run as a formula is defused.
    assert!(text.contains("'=cmd"), "{text}");

    let g = fixture();
    let applied = g
        .wallet
        .import_statement(&out, &opts(ImportFormat::Auto))
        .unwrap();
    assert_eq!(applied.inserted, 10);
    let mut before: Vec<String> = w
        .balances()
        .unwrap()
        .iter()
        .map(|b| format!("{} {}", b.posted, b.pending_holds))
        .collect();
    let mut after: Vec<String> = g
        .wallet
        .balances()
        .unwrap()
        .iter()
        .map(|b| format!("{} {}", b.posted, b.pending_holds))
        .collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
    let merchants: Vec<Option<String>> = g
        .wallet
        .history(&HistoryQuery::default())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.merchant)
        .collect();
    assert!(merchants.contains(&Some("=cmd|' /C calc'!A0".into())));
}

#[test]
fn insights_by_month_category_and_merchant_and_the_chart() {
    let f = fixture();
    let w = &f.wallet;
    w.import_statement(OFX_SGML.as_bytes(), &opts(ImportFormat::Ofx))
        .unwrap();
    w.import_statement(CSV.as_bytes(), &opts(ImportFormat::Csv))
        .unwrap();
    let ins = w
        .insights(&InsightsQuery {
            months: 3,
            currency: cur("USD"),
            time_zone: "America/New_York".into(),
            top_merchants: 3,
        })
        .unwrap();
    let months: Vec<(&str, String)> = ins
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.spent.to_string()))
        .collect();
    // October: 85.00 of groceries. November: hotel 108.37, fee 2.00, CSV
    // 15 + 60 + 4 - 25 = 54.
    assert_eq!(
        months,
        [
            ("2026-09", "0.00 USD".to_string()),
            ("2026-10", "85.00 USD".to_string()),
            ("2026-11", "164.37 USD".to_string())
        ]
    );
    assert_eq!(ins.months[2].change, Some(money("79.37 USD")));
    assert_eq!(ins.months[2].change_percent, Some(93));
    assert_eq!(ins.months[1].change_percent, None);
    assert_eq!(ins.total, money("249.37 USD"));
    assert_eq!(ins.top_merchants[0].merchant, "Hotel de Paris");
    assert_eq!(ins.top_merchants[1].merchant, "Green Grocer & Co");
    assert_eq!(ins.top_merchants[1].transactions, 2);
    // Food: groceries 85 + restaurant 60 (the refund, without an MCC, is
    // in "other").
    assert_eq!(ins.by_top_category[0].category, "food");
    assert_eq!(ins.by_top_category[0].spent, money("145.00 USD"));
    assert!(ins
        .by_category
        .iter()
        .any(|c| c.category == "food.groceries"));

    let svg = render_chart(&ins, ChartFormat::Svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("2026-11") && svg.contains("Travel"));
    assert!(!svg.contains("Green"), "merchants are not in the chart");
    let png = render_chart(&ins, ChartFormat::Png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(matches!(
        ChartFormat::from_path("x.gif"),
        Err(Error::InvalidText { .. })
    ));

    // A year of nothing renders too.
    let empty = fixture();
    let ins = empty
        .wallet
        .insights(&InsightsQuery {
            months: 12,
            currency: cur("JPY"),
            time_zone: "Asia/Tokyo".into(),
            top_merchants: 10,
        })
        .unwrap();
    assert_eq!(ins.months.len(), 12);
    render_chart(&ins, ChartFormat::Png).unwrap();
    assert!(matches!(
        empty.wallet.insights(&InsightsQuery {
            months: 0,
            currency: cur("JPY"),
            time_zone: "Asia/Tokyo".into(),
            top_merchants: 10,
        }),
        Err(Error::InvalidText { .. })
    ));
}
