//! `billfold insights`: spending by month, category and merchant, with an
//! optional chart written to PNG or SVG.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use wallet_core::{render_chart, ChartFormat, Currency, Error, Insights, InsightsQuery};

use crate::output::Out;
use crate::session::{open, text};

pub struct Args {
    pub months: u32,
    pub currency: Option<OsString>,
    pub tz: OsString,
    pub top: u32,
    pub chart: Option<PathBuf>,
}

fn human(i: &Insights, chart: Option<&str>) -> String {
    let mut s = format!(
        "Spending {} .. {} in {} ({}): {}\n\nBy month:",
        i.from, i.to, i.currency, i.time_zone, i.total
    );
    for m in &i.months {
        s.push_str(&format!("\n  {} {:>14}", m.month, m.spent.to_string()));
        if let (Some(c), Some(p)) = (&m.change, m.change_percent) {
            s.push_str(&format!(
                "  {}{} ({:+}%)",
                if c.is_negative() { "" } else { "+" },
                c,
                p
            ));
        }
    }
    s.push_str("\n\nBy category:");
    for c in i.by_top_category.iter().take(10) {
        s.push_str(&format!(
            "\n  {:<24} {:>14} {:>3}%",
            c.name,
            c.spent.to_string(),
            c.share_percent
        ));
    }
    s.push_str("\n\nTop merchants:");
    for m in &i.top_merchants {
        s.push_str(&format!(
            "\n  {:<24} {:>14} ({}x)",
            m.merchant,
            m.spent.to_string(),
            m.transactions
        ));
    }
    if let Some(path) = chart {
        s.push_str(&format!("\n\nChart written to {path}"));
    }
    s
}

pub fn run(a: Args, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let format = a
        .chart
        .as_ref()
        .map(|p| ChartFormat::from_path(&p.to_string_lossy()))
        .transpose()?;
    let wallet = open(home)?;
    let currency = match a.currency {
        Some(c) => Currency::from_code(&text("currency", c)?)?,
        // The currency most of the money is in: the first balance's.
        None => wallet
            .balances()?
            .first()
            .map(|b| b.currency)
            .ok_or(Error::InvalidText {
                field: "currency",
                reason: "no transactions yet; give --currency",
            })?,
    };
    let insights = wallet.insights(&InsightsQuery {
        months: a.months,
        currency,
        time_zone: text("time zone", a.tz)?,
        top_merchants: a.top,
    })?;
    let chart = match (&a.chart, format) {
        (Some(path), Some(f)) => {
            let bytes = render_chart(&insights, f)?;
            std::fs::write(path, bytes)?;
            Some(path.display().to_string())
        }
        _ => None,
    };
    let value = serde_json::json!({ "insights": &insights, "chart": chart });
    out.print(&value, || human(&insights, chart.as_deref()));
    wallet.close()
}
