//! HTTP-dates (RFC 9110 IMF-fixdate): formatted for the Date header once a
//! second per thread, not per request, and parsed for conditional requests.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::{Civil, MONTHS, WEEKDAYS};

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `secs` since the epoch.
pub fn format(secs: i64) -> String {
    HttpDate(secs).to_string()
}

/// An HTTP-date that formats itself where it is written (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct HttpDate(pub i64);

impl std::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = Civil::from_unix(self.0);
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[c.weekday as usize],
            c.day,
            MONTHS[(c.month - 1) as usize],
            c.year,
            c.hour,
            c.minute,
            c.second
        )
    }
}

/// The 29 bytes of `Sun, 06 Nov 1994 08:49:37 GMT` written directly (per
/// response for Last-Modified, so without `core::fmt`); `None` for a year
/// outside 0..=9999, which [`HttpDate`]'s Display prints instead.
pub fn fixdate(secs: i64) -> Option<[u8; 29]> {
    let c = Civil::from_unix(secs);
    let year = u32::try_from(c.year).ok().filter(|y| *y <= 9999)?;
    let mut out = [0u8; 29];
    out[..3].copy_from_slice(WEEKDAYS[c.weekday as usize].as_bytes().get(..3)?);
    out[3..5].copy_from_slice(b", ");
    two_digits(&mut out[5..7], c.day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(c.month - 1) as usize].as_bytes().get(..3)?);
    out[11] = b' ';
    two_digits(&mut out[12..14], year / 100);
    two_digits(&mut out[14..16], year % 100);
    out[16] = b' ';
    two_digits(&mut out[17..19], c.hour);
    out[19] = b':';
    two_digits(&mut out[20..22], c.minute);
    out[22] = b':';
    two_digits(&mut out[23..25], c.second);
    out[25..].copy_from_slice(b" GMT");
    Some(out)
}

fn two_digits(out: &mut [u8], n: u32) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

thread_local! {
    static CACHE: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// Appends the current HTTP-date to `out`, reformatting at most once a second.
pub fn append_now(out: &mut Vec<u8>) {
    let now = unix_now();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != now {
            *cache = (now, format(now));
        }
        out.extend_from_slice(cache.1.as_bytes());
    });
}

/// Seconds since the epoch of an HTTP date, or `None` where APR answers
/// `APR_DATE_BAD`. Accepted as APR does: RFC 1123 (`Sun, 06 Nov 1994
/// 08:49:37 GMT`, also with a one-digit day), RFC 850 (`Sunday, 06-Nov-94
/// 08:49:37 GMT`, two-digit years below 70 are 20xx) and asctime (`Sun Nov
/// 6 08:49:37 1994`). The weekday is skipped unchecked and whatever follows
/// the time (the zone) is ignored, as APR's masks end in `*`.
pub fn parse(text: &str) -> Option<i64> {
    let s = text.trim_start().as_bytes();
    let space = s.iter().position(|&b| b == b' ')?;
    let d = &s[space + 1..];
    let digit = |i: usize| i64::from(d[i] - b'0');
    let (year, day, month_at, time_at) = if mask(d, b"## @$$ #### ##:##:## *") {
        let century = digit(7) * 10 + digit(8) - 19;
        if century < 0 {
            return None;
        }
        (1900 + century * 100 + digit(9) * 10 + digit(10), digit(0) * 10 + digit(1), 3, 12)
    } else if mask(d, b"##-@$$-## ##:##:## *") {
        let yy = digit(7) * 10 + digit(8);
        (if yy < 70 { 2000 + yy } else { 1900 + yy }, digit(0) * 10 + digit(1), 3, 10)
    } else if mask(d, b"@$$ ~# ##:##:## ####*") {
        let century = digit(16) * 10 + digit(17) - 19;
        if century < 0 {
            return None;
        }
        let tens = if d[4] == b' ' { 0 } else { digit(4) * 10 };
        (1900 + century * 100 + digit(18) * 10 + digit(19), tens + digit(5), 0, 7)
    } else if mask(d, b"# @$$ #### ##:##:## *") {
        let century = digit(6) * 10 + digit(7) - 19;
        if century < 0 {
            return None;
        }
        (1900 + century * 100 + digit(8) * 10 + digit(9), digit(0), 2, 11)
    } else {
        return None;
    };
    let t = &d[time_at..];
    let two = |i: usize| i64::from(t[i] - b'0') * 10 + i64::from(t[i + 1] - b'0');
    let (hour, minute, second) = (two(0), two(3), two(6));
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 61 {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.as_bytes() == &d[month_at..month_at + 3])? as i64 + 1;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > month_days {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// APR's `apr_date_checkmask`: `@` an upper-case letter, `$` a lower-case
/// one, `#` a digit, `~` a digit or space, `*` anything from here on; any
/// other byte stands for itself.
fn mask(data: &[u8], mask: &[u8]) -> bool {
    for (i, &m) in mask.iter().enumerate() {
        if m == b'*' {
            return true;
        }
        let Some(&d) = data.get(i) else { return false };
        let ok = match m {
            b'@' => d.is_ascii_uppercase(),
            b'$' => d.is_ascii_lowercase(),
            b'#' => d.is_ascii_digit(),
            b'~' => d == b' ' || d.is_ascii_digit(),
            _ => d == m,
        };
        if !ok {
            return false;
        }
    }
    data.len() == mask.len()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days-from-civil, the inverse of [`Civil::from_unix`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn parses_as_apr() {
        let check = |text: &str, expected: Option<i64>| {
            assert_eq!(parse(text), expected, "{text:?}");
        };
        let t = Some(784_111_777);
        check("Sun, 06 Nov 1994 08:49:37 GMT", t);
        check("Sunday, 06-Nov-94 08:49:37 GMT", t);
        check("Sun Nov  6 08:49:37 1994", t);
        check("Sun, 6 Nov 1994 08:49:37 GMT", t);
        check("  Xyz, 06 Nov 1994 08:49:37 whatever", t);
        check("Mon, 23 Nov 2026 17:19:19 GMT", Some(1_795_454_359));
        check("Sat, 01-Jan-00 00:00:00 GMT", Some(946_684_800));
        check("Thu, 29 Feb 2024 00:00:00 GMT", Some(1_709_164_800));
        check("Thu, 29 Feb 2023 00:00:00 GMT", None);
        check("Thu, 31 Apr 2023 00:00:00 GMT", None);
        check("Thu, 01 Jan 2023 24:00:00 GMT", None);
        check("Thu, 01 jan 2023 00:00:00 GMT", None);
        check("Sun, 06 Nov 1994", None);
        check("garbage", None);
        check("", None);
    }

    #[test]
    fn round_trip() {
        for secs in [0, 951_782_400, 1_795_357_482, 4_102_444_800] {
            assert_eq!(parse(&format(secs)), Some(secs));
        }
    }

    #[test]
    fn cached_now_is_a_date() {
        let mut out = Vec::new();
        append_now(&mut out);
        assert!(parse(std::str::from_utf8(&out).unwrap()).is_some());
    }

    #[test]
    fn fixdate_is_display_without_fmt() {
        for secs in [0, 784_111_777, 1_700_000_000, 253_402_300_799, -1] {
            let bytes = fixdate(secs).unwrap();
            assert_eq!(std::str::from_utf8(&bytes).unwrap(), HttpDate(secs).to_string(), "{secs}");
        }
        assert_eq!(fixdate(253_402_300_800), None, "year 10000");
    }
}
