//! Parsing a date as C's `ctime` writes it (`Sun Nov 22 02:49:31 2026`) into seconds since
//! the epoch, read as UTC (programs run with TZ=UTC).

use regex::Regex;
use std::sync::OnceLock;

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        crate::text::re(
            r"\b(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\b",
        )
    })
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first ctime date in `text`: the matched text and its seconds since the epoch (UTC).
/// `Err` says why a date-like text is not one (a weekday that does not fit the date).
pub fn find(text: &str) -> Option<Result<(String, i64), String>> {
    let c = pattern().captures(text)?;
    let matched = c[0].to_string();
    let index = |names: &[&str], s: &str| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .unwrap_or(0) as i64
    };
    let num = |i: usize| c[i].parse::<i64>().unwrap_or(-1);
    let (month, day) = (index(&MONTHS, &c[2]) + 1, num(3));
    let days = days_from_civil(num(7), month, day);
    let weekday = (days + 4).rem_euclid(7);
    if !(1..=31).contains(&day) || num(4) > 23 || num(5) > 59 || num(6) > 60 {
        return Some(Err(format!("{matched:?} is not a valid date")));
    }
    if weekday != index(&DAYS, &c[1]) {
        return Some(Err(format!(
            "{matched:?} names the wrong weekday (that date is a {})",
            DAYS[weekday as usize]
        )));
    }
    Some(Ok((
        matched,
        days * 86_400 + num(4) * 3600 + num(5) * 60 + num(6),
    )))
}

/// Seconds since the epoch now.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ctime() {
        let (text, t) = find("\n\nCurrent time: Sun Nov 22 02:49:31 2026\n\n")
            .and_then(Result::ok)
            .unwrap_or_default();
        assert_eq!(text, "Sun Nov 22 02:49:31 2026");
        assert_eq!(t, 1_795_315_771);
        assert!(matches!(find("Thu Jan  1 00:00:00 1970"), Some(Ok((_, 0)))));
        assert!(matches!(find("Mon Jan  1 00:00:00 1970"), Some(Err(_))));
        assert!(find("no date here").is_none());
    }
}
