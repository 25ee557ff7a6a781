//! Local time for log lines. httpd writes both logs in local time
//! (`ap_explode_recent_localtime`); the zone (TZ, else /etc/localtime) is read
//! once through jiff, which needs no `unsafe` `localtime_r`, and each moment is
//! shifted by its offset and broken into fields by [`Civil`].

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

use crate::clock::{Civil, MONTHS, WEEKDAYS};

const FULL_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const FULL_WEEKDAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The zone log lines are written in, resolved once.
#[derive(Debug, Clone)]
pub struct LogZone {
    tz: TimeZone,
}

/// A moment as a log line shows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalTime {
    /// Seconds since the epoch (UTC).
    pub unix: i64,
    /// 0..1_000_000
    pub micros: u32,
    /// Local calendar fields.
    pub civil: Civil,
    /// Seconds east of UTC.
    pub offset: i32,
}

impl LogZone {
    /// The system's zone: `TZ`, else /etc/localtime, else UTC.
    pub fn system() -> LogZone {
        LogZone { tz: TimeZone::try_system().unwrap_or(TimeZone::UTC) }
    }

    pub fn utc() -> LogZone {
        LogZone { tz: TimeZone::UTC }
    }

    /// A zone `offset_secs` east of UTC with no daylight saving (for tests).
    pub fn fixed(offset_secs: i32) -> LogZone {
        let offset = Offset::from_seconds(offset_secs).unwrap_or(Offset::UTC);
        LogZone { tz: TimeZone::fixed(offset) }
    }

    /// Seconds east of UTC at `unix`.
    pub fn offset_at(&self, unix: i64) -> i32 {
        Timestamp::from_second(unix).map_or(0, |ts| self.tz.to_offset(ts).seconds())
    }

    /// The zone's abbreviation at `unix` (`UTC`, `CET`, `EDT`), for strftime's `%Z`.
    fn abbreviation(&self, unix: i64) -> String {
        Timestamp::from_second(unix)
            .map(|ts| self.tz.to_offset_info(ts).abbreviation().to_string())
            .unwrap_or_default()
    }

    pub(crate) fn local(&self, t: SystemTime) -> LocalTime {
        let (unix, micros) = split_unix(t);
        let offset = self.offset_at(unix);
        LocalTime { unix, micros, civil: Civil::from_unix(unix + i64::from(offset)), offset }
    }
}

/// Seconds and microseconds since the epoch; earlier moments round down.
fn split_unix(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(e) => {
            let d = e.duration();
            let (secs, micros) = (d.as_secs() as i64, d.subsec_micros());
            if micros == 0 { (-secs, 0) } else { (-secs - 1, 1_000_000 - micros) }
        }
    }
}

/// Microseconds since the epoch (`%{usec}t`).
pub(crate) fn unix_micros(t: SystemTime) -> i128 {
    let (secs, micros) = split_unix(t);
    i128::from(secs) * 1_000_000 + i128::from(micros)
}

/// Adds `d` to `t`, saturating far in the future.
pub(crate) fn after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

fn push_offset(out: &mut Vec<u8>, offset: i32) {
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    let _ = write!(out, "{sign}{:02}{:02}", abs / 3600, abs % 3600 / 60);
}

/// `[22/Nov/2026:14:25:57 +0000]`, the `%t` of the Common Log Format.
pub(crate) fn push_clf(out: &mut Vec<u8>, t: &LocalTime) {
    let c = &t.civil;
    let _ = write!(
        out,
        "[{:02}/{}/{}:{:02}:{:02}:{:02} ",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    );
    push_offset(out, t.offset);
    out.push(b']');
}

/// `Mon Nov 23 17:18:31.123456 2026`, the error log's date
/// (`ap_recent_ctime_ex` with `AP_CTIME_OPTION_USEC`).
pub(crate) fn push_ctime_usec(out: &mut Vec<u8>, t: &LocalTime) {
    let c = &t.civil;
    let _ = write!(
        out,
        "{} {} {:02} {:02}:{:02}:{:02}.{:06} {:04}",
        WEEKDAYS[c.weekday as usize],
        MONTHS[(c.month - 1) as usize],
        c.day,
        c.hour,
        c.minute,
        c.second,
        t.micros,
        c.year
    );
}

/// Day of the year, 1..=366.
fn day_of_year(c: &Civil) -> u32 {
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    BEFORE[(c.month - 1) as usize] + c.day + u32::from(leap && c.month > 2)
}

/// `%{format}t`: strftime in the C locale for the conversions log formats
/// use; any other conversion is copied as written.
pub(crate) fn push_strftime(out: &mut Vec<u8>, format: &str, t: &LocalTime, zone: &LogZone) {
    let c = &t.civil;
    let hour12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            let mut utf8 = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let Some(conv) = chars.next() else {
            out.push(b'%');
            break;
        };
        let _ = match conv {
            'a' => write!(out, "{}", WEEKDAYS[c.weekday as usize]),
            'A' => write!(out, "{}", FULL_WEEKDAYS[c.weekday as usize]),
            'b' | 'h' => write!(out, "{}", MONTHS[(c.month - 1) as usize]),
            'B' => write!(out, "{}", FULL_MONTHS[(c.month - 1) as usize]),
            'c' => {
                push_strftime(out, "%a %b %e %H:%M:%S %Y", t, zone);
                Ok(())
            }
            'C' => write!(out, "{:02}", c.year.div_euclid(100)),
            'd' => write!(out, "{:02}", c.day),
            'D' | 'x' => write!(out, "{:02}/{:02}/{:02}", c.month, c.day, c.year.rem_euclid(100)),
            'e' => write!(out, "{:2}", c.day),
            'F' => write!(out, "{:04}-{:02}-{:02}", c.year, c.month, c.day),
            'H' => write!(out, "{:02}", c.hour),
            'I' => write!(out, "{hour12:02}"),
            'j' => write!(out, "{:03}", day_of_year(c)),
            'k' => write!(out, "{:2}", c.hour),
            'l' => write!(out, "{hour12:2}"),
            'm' => write!(out, "{:02}", c.month),
            'M' => write!(out, "{:02}", c.minute),
            'n' => out.write_all(b"\n"),
            'p' => write!(out, "{}", if c.hour < 12 { "AM" } else { "PM" }),
            'r' => write!(
                out,
                "{hour12:02}:{:02}:{:02} {}",
                c.minute,
                c.second,
                if c.hour < 12 { "AM" } else { "PM" }
            ),
            'R' => write!(out, "{:02}:{:02}", c.hour, c.minute),
            's' => write!(out, "{}", t.unix),
            'S' => write!(out, "{:02}", c.second),
            't' => out.write_all(b"\t"),
            'T' | 'X' => write!(out, "{:02}:{:02}:{:02}", c.hour, c.minute, c.second),
            'u' => write!(out, "{}", if c.weekday == 0 { 7 } else { c.weekday }),
            'w' => write!(out, "{}", c.weekday),
            'y' => write!(out, "{:02}", c.year.rem_euclid(100)),
            'Y' => write!(out, "{}", c.year),
            'z' => {
                push_offset(out, t.offset);
                Ok(())
            }
            'Z' => write!(out, "{}", zone.abbreviation(t.unix)),
            '%' => write!(out, "%"),
            other => write!(out, "%{other}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23T17:18:31.123456Z, a Monday.
    fn moment() -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(1_795_454_311_123_456)
    }

    fn clf(zone: &LogZone, t: SystemTime) -> String {
        let mut out = Vec::new();
        push_clf(&mut out, &zone.local(t));
        String::from_utf8(out).unwrap()
    }

    fn strftime(format: &str) -> String {
        let zone = LogZone::fixed(3600);
        let mut out = Vec::new();
        push_strftime(&mut out, format, &zone.local(moment()), &zone);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn clf_dates_carry_the_offset() {
        assert_eq!(clf(&LogZone::utc(), moment()), "[23/Nov/2026:17:18:31 +0000]");
        assert_eq!(clf(&LogZone::fixed(-5 * 3600), moment()), "[23/Nov/2026:12:18:31 -0500]");
        assert_eq!(clf(&LogZone::fixed(5 * 3600 + 1800), moment()), "[23/Nov/2026:22:48:31 +0530]");
        assert_eq!(clf(&LogZone::fixed(7 * 3600), moment()), "[24/Nov/2026:00:18:31 +0700]");
        assert_eq!(clf(&LogZone::utc(), UNIX_EPOCH), "[01/Jan/1970:00:00:00 +0000]");
    }

    #[test]
    fn error_log_dates_have_microseconds() {
        let mut out = Vec::new();
        push_ctime_usec(&mut out, &LogZone::utc().local(moment()));
        assert_eq!(String::from_utf8(out).unwrap(), "Mon Nov 23 17:18:31.123456 2026");
        let mut out = Vec::new();
        push_ctime_usec(&mut out, &LogZone::utc().local(UNIX_EPOCH + Duration::from_secs(86_400 * 5)));
        assert_eq!(String::from_utf8(out).unwrap(), "Tue Jan 06 00:00:00.000000 1970");
    }

    #[test]
    fn moments_before_the_epoch_round_down() {
        let t = UNIX_EPOCH - Duration::from_micros(1_500_000);
        assert_eq!(split_unix(t), (-2, 500_000));
        assert_eq!(unix_micros(t), -1_500_000);
    }

    #[test]
    fn strftime_subset() {
        assert_eq!(strftime("%Y-%m-%d %H:%M:%S %z"), "2026-11-23 18:18:31 +0100");
        assert_eq!(strftime("%a %A %b %B %e %j"), "Mon Monday Nov November 23 327");
        assert_eq!(strftime("%D %T %R %I %p %u %w %y %C"), "11/23/26 18:18:31 18:18 06 PM 1 1 26 20");
        assert_eq!(strftime("%s %% %Q %"), "1795454311 % %Q %");
        assert_eq!(strftime("%c"), "Mon Nov 23 18:18:31 2026");
        assert_eq!(strftime("%F"), "2026-11-23");
    }
}
