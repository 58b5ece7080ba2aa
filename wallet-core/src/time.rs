//! Calendar helpers over UTC instants.

use chrono::{DateTime, Datelike, Utc};

/// The UTC calendar year and month of an instant in milliseconds.
pub(crate) fn year_month(ms: i64) -> (u16, u8) {
    let dt = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    (dt.year().clamp(0, u16::MAX as i32) as u16, dt.month() as u8)
}
