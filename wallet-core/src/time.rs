//! Calendar helpers: the UTC calendar of an instant, and local dates in an
//! IANA time zone (budget periods, insight months).
//!
//! Zones come from the platform's own time-zone database, read by jiff:
//! zoneinfo on Linux and macOS, Android's concatenated `tzdata` file. The
//! library carries no copy of its own (a bundled database was a fifth of
//! the mobile library's size), except on iOS, whose app sandbox is not
//! promised a readable zoneinfo directory, so there jiff bundles one. The
//! platform's database is also the one its own clock and calendar use, and
//! it is updated with the OS. `TZDIR` points jiff at another copy.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
pub(crate) use jiff::tz::TimeZone;

use crate::error::{Error, Result};

/// The UTC calendar year and month of an instant in milliseconds.
pub(crate) fn year_month(ms: i64) -> (u16, u8) {
    let dt = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    (dt.year().clamp(0, u16::MAX as i32) as u16, dt.month() as u8)
}

/// A zone by its IANA name, in any letter case ("europe/paris" too).
pub(crate) fn parse_zone(name: &str) -> Result<TimeZone> {
    let zone = TimeZone::get(name.trim()).map_err(|_| Error::UnknownTimeZone)?;
    // Only named zones: the name is what budgets store and sync.
    match zone.iana_name() {
        Some(_) => Ok(zone),
        None => Err(Error::UnknownTimeZone),
    }
}

/// The zone's canonical IANA name, as the database spells it.
pub(crate) fn zone_name(zone: &TimeZone) -> &str {
    zone.iana_name().unwrap_or("UTC")
}

/// The local calendar date of a UTC instant in `zone`.
pub(crate) fn local_date(ms: i64, zone: &TimeZone) -> NaiveDate {
    let instant = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let d = zone.to_datetime(instant).date();
    NaiveDate::from_ymd_opt(d.year().into(), d.month() as u32, d.day() as u32).unwrap_or_default()
}

/// The UTC instant of local midnight starting `date`, or the first instant
/// of that day where a DST jump skips midnight.
pub(crate) fn day_start_ms(date: NaiveDate, zone: &TimeZone) -> i64 {
    let local = i16::try_from(date.year())
        .ok()
        .and_then(|y| jiff::civil::Date::new(y, date.month() as i8, date.day() as i8).ok());
    // "Compatible" resolution: a skipped midnight moves forward by the gap
    // (to the gap's end when, as in real zones, the gap starts at midnight);
    // a repeated one takes the earlier instant.
    local
        .and_then(|d| zone.to_timestamp(d.into()).ok())
        .map(|t| t.as_millisecond())
        .unwrap_or_else(|| {
            date.and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis())
                .unwrap_or(0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn zones_by_name_in_any_case_and_nothing_else() {
        assert_eq!(
            zone_name(&parse_zone(" europe/paris ").unwrap()),
            "Europe/Paris"
        );
        assert_eq!(zone_name(&parse_zone("UTC").unwrap()), "UTC");
        for bad in [
            "",
            "Mars/Olympus",
            "+02:00",
            "../../etc/passwd",
            "Europe/Paris\0",
        ] {
            assert!(
                matches!(parse_zone(bad), Err(Error::UnknownTimeZone)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn local_dates_follow_the_zone_and_its_daylight_saving() {
        let sao_paulo = parse_zone("America/Sao_Paulo").unwrap();
        let auckland = parse_zone("Pacific/Auckland").unwrap();
        // 2026-01-31T23:30Z: still the 31st in São Paulo (UTC-3), already
        // February 1st in Auckland (UTC+13 in its summer).
        let ms = 1_769_902_200_000;
        assert_eq!(local_date(ms, &sao_paulo), date(2026, 1, 31));
        assert_eq!(local_date(ms, &auckland), date(2026, 2, 1));
    }

    #[test]
    fn a_day_starts_after_a_gap_that_skips_midnight() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2024-09-08.
        let santiago = parse_zone("America/Santiago").unwrap();
        let start = day_start_ms(date(2024, 9, 8), &santiago);
        assert_eq!(start, 1_725_768_000_000); // 2024-09-08T04:00Z = 01:00 -03
        assert_eq!(local_date(start, &santiago), date(2024, 9, 8));
        assert_eq!(local_date(start - 1, &santiago), date(2024, 9, 7));
        // An ordinary day: Paris midnight in winter is 23:00Z the day before.
        let paris = parse_zone("Europe/Paris").unwrap();
        assert_eq!(day_start_ms(date(2026, 1, 15), &paris), 1_768_431_600_000);
    }
}
