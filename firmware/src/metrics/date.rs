//! Times and dates as the firmware renders them (`HH:MM:SS`, `YYYY-MM-DD HH:MM:SS UTC`).

/// Seconds since midnight as `HH:MM:SS` (the firmware's TimeUTC unit). Values outside one day wrap,
/// negative values wrap backwards.
pub fn format_time_of_day(secs: i64) -> String {
    let s = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS <zone>` (proleptic Gregorian calendar).
pub fn format_date(epoch_secs: i64, zone: &str) -> String {
    let days = epoch_secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let t = format_time_of_day(epoch_secs);
    format!("{y:04}-{m:02}-{d:02} {t} {zone}")
}

/// Year, month (1..=12) and day (1..=31) of a day count since 1970-01-01 (days-to-civil algorithm on
/// 400-year eras).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // 0..=11, March-based
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(format_date(0, "UTC"), "1970-01-01 00:00:00 UTC");
        // module-facts §6.1 example: m.time.utc 2023-12-03 02:14:31 UTC
        assert_eq!(format_date(1_701_569_671, "UTC"), "2023-12-03 02:14:31 UTC");
        assert_eq!(format_date(951_782_400, "UTC"), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_date(-1, "UTC"), "1969-12-31 23:59:59 UTC");
        assert_eq!(format_date(4_102_444_800, "UTC"), "2100-01-01 00:00:00 UTC");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(format_time_of_day(27_000), "07:30:00");
        assert_eq!(format_time_of_day(86_399), "23:59:59");
        assert_eq!(format_time_of_day(86_400 + 61), "00:01:01");
        assert_eq!(format_time_of_day(-1), "23:59:59");
    }
}
