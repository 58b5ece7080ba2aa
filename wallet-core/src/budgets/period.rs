//! Budget periods as ranges of local calendar dates.
//!
//! Periods are computed on dates in the budget's time zone, never on
//! instants, so a DST change or a trip abroad cannot move a boundary: an
//! entry belongs to the period that contains its local booking date.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// How a budget's periods are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Starts on `start_day` of each month, clamped to the month's length
    /// (31 means the 28th or 29th in February, the 30th in April).
    Monthly { start_day: u32 },
    /// Seven days from each `start` weekday.
    Weekly { start: Weekday },
    /// Fourteen days, aligned on `anchor`.
    BiWeekly { anchor: NaiveDate },
    /// One range of dates, both ends included.
    Custom { start: NaiveDate, end: NaiveDate },
}

/// A custom range may span at most about ten years.
const MAX_CUSTOM_DAYS: i64 = 3660;

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Some(NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?.day())
}

fn month_start(year: i32, month: u32, start_day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, start_day.min(days_in_month(year, month)?))
}

fn prev_month(year: i32, month: u32) -> (i32, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

impl Period {
    pub fn validate(&self) -> Result<()> {
        match *self {
            Period::Monthly { start_day } if !(1..=31).contains(&start_day) => {
                Err(Error::InvalidStartDay)
            }
            Period::Custom { start, end } if end < start => Err(Error::InvalidPeriod(
                "a custom range must end on or after its start",
            )),
            Period::Custom { start, end } if (end - start).num_days() > MAX_CUSTOM_DAYS => Err(
                Error::InvalidPeriod("a custom range may span at most ten years"),
            ),
            _ => Ok(()),
        }
    }

    /// The period containing `date`, as (first day, last day). `None` for a
    /// date outside a custom range.
    pub fn containing(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Period::Monthly { start_day } => {
                let here = month_start(date.year(), date.month(), start_day)?;
                let start = if date >= here {
                    here
                } else {
                    let (y, m) = prev_month(date.year(), date.month());
                    month_start(y, m, start_day)?
                };
                let (y, m) = next_month(start.year(), start.month());
                Some((start, month_start(y, m, start_day)?.pred_opt()?))
            }
            Period::Weekly { start } => {
                let offset =
                    (date.weekday().num_days_from_monday() + 7 - start.num_days_from_monday()) % 7;
                let first = date.checked_sub_days(Days::new(offset.into()))?;
                Some((first, first.checked_add_days(Days::new(6))?))
            }
            Period::BiWeekly { anchor } => {
                let k = (date - anchor).num_days().div_euclid(14);
                let first = anchor.checked_add_signed(chrono::Duration::days(k * 14))?;
                Some((first, first.checked_add_days(Days::new(13))?))
            }
            Period::Custom { start, end } => (start..=end).contains(&date).then_some((start, end)),
        }
    }

    /// The period after the one ending on `end`.
    pub fn next_after(&self, end: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        self.containing(end.succ_opt()?)
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// The canonical text form, also used in the database and the CLI:
/// `monthly:31`, `weekly:mon`, `biweekly:2026-01-05`,
/// `custom:2026-01-01..2026-03-31`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Monthly { start_day } => write!(f, "monthly:{start_day}"),
            Period::Weekly { start } => write!(f, "weekly:{}", weekday_name(*start)),
            Period::BiWeekly { anchor } => write!(f, "biweekly:{anchor}"),
            Period::Custom { start, end } => write!(f, "custom:{start}..{end}"),
        }
    }
}

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::InvalidPeriod("write dates as YYYY-MM-DD"))
}

impl FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s.as_str(), None),
        };
        let p = match (kind, arg) {
            ("monthly", None) => Period::Monthly { start_day: 1 },
            ("monthly", Some(d)) => Period::Monthly {
                start_day: d.trim().parse().map_err(|_| Error::InvalidStartDay)?,
            },
            ("weekly", None) => Period::Weekly {
                start: Weekday::Mon,
            },
            ("weekly", Some(w)) => Period::Weekly {
                start: w
                    .trim()
                    .parse::<Weekday>()
                    .map_err(|_| Error::InvalidPeriod("name a weekday, e.g. weekly:mon"))?,
            },
            ("biweekly", Some(a)) => Period::BiWeekly { anchor: date(a)? },
            ("biweekly", None) => {
                return Err(Error::InvalidPeriod(
                    "give the first day of one fortnight, e.g. biweekly:2026-01-05",
                ))
            }
            ("custom", Some(r)) => {
                let (a, b) = r.split_once("..").ok_or(Error::InvalidPeriod(
                    "write a custom range as custom:YYYY-MM-DD..YYYY-MM-DD",
                ))?;
                Period::Custom {
                    start: date(a)?,
                    end: date(b)?,
                }
            }
            _ => {
                return Err(Error::InvalidPeriod(
                    "use monthly[:DAY], weekly[:DAY], biweekly:DATE or custom:DATE..DATE",
                ))
            }
        };
        p.validate()?;
        Ok(p)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        date(s).unwrap()
    }

    #[test]
    fn text_form_round_trips() {
        for s in [
            "monthly:31",
            "weekly:sun",
            "biweekly:2026-01-05",
            "custom:2026-01-01..2026-03-31",
        ] {
            assert_eq!(s.parse::<Period>().unwrap().to_string(), s);
        }
        assert!(matches!(
            "monthly:0".parse::<Period>(),
            Err(Error::InvalidStartDay)
        ));
        assert!(matches!(
            "monthly:32".parse::<Period>(),
            Err(Error::InvalidStartDay)
        ));
    }

    #[test]
    fn weekly_and_biweekly_align() {
        let w = Period::Weekly {
            start: Weekday::Mon,
        };
        // 2026-11-23 is a Monday.
        assert_eq!(
            w.containing(d("2026-11-29")),
            Some((d("2026-11-23"), d("2026-11-29")))
        );
        let b = Period::BiWeekly {
            anchor: d("2026-01-05"),
        };
        assert_eq!(
            b.containing(d("2026-01-04")),
            Some((d("2025-12-22"), d("2026-01-04")))
        );
        assert_eq!(
            b.containing(d("2026-01-19")),
            Some((d("2026-01-19"), d("2026-02-01")))
        );
    }
}
