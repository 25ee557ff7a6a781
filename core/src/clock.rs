//! Calendar arithmetic for the formats httpd prints, without a time crate:
//! std gives seconds since the epoch, and the civil date follows from them.

/// A UTC moment broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

pub const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
pub const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl Civil {
    /// Breaks `secs` since 1970-01-01T00:00:00Z into fields (Howard Hinnant's
    /// days-to-civil algorithm).
    pub fn from_unix(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `2026-11-12T08:58:41`, as Debian's httpd prints "Server built".
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_moments() {
        assert_eq!(Civil::from_unix(0).iso8601(), "1970-01-01T00:00:00");
        assert_eq!(Civil::from_unix(0).weekday, 4);
        // 2026-11-22T14:24:42Z was a Sunday.
        let c = Civil::from_unix(1_795_357_482);
        assert_eq!(c.iso8601(), "2026-11-22T14:24:42");
        assert_eq!(WEEKDAYS[c.weekday as usize], "Sun");
        assert_eq!(Civil::from_unix(951_782_400).iso8601(), "2000-02-29T00:00:00");
    }
}
