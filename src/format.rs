//! How the dashboard writes numbers, dates, durations and keys for people. Pure functions
//! (the current time is a parameter), so tests pin them without a clock.

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A chart or table value: whole numbers with thousands separators, others with up to two
/// decimals (`12.5`, `0.83`).
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    if magnitude.fract() == 0.0 && magnitude < 1e15 {
        // Exact: a whole f64 below 2^53 converts without loss.
        return format!("{sign}{}", thousands(magnitude as u64));
    }
    let rounded = (magnitude * 100.0).round() / 100.0;
    let whole = rounded.trunc();
    let cents = ((rounded - whole) * 100.0).round() as u64;
    let fraction = if cents.is_multiple_of(10) {
        format!("{}", cents / 10)
    } else {
        format!("{cents:02}")
    };
    if cents == 0 {
        format!("{sign}{}", thousands(whole as u64))
    } else {
        format!("{sign}{}.{fraction}", thousands(whole as u64))
    }
}

/// An axis label: short, with k / M / B for thousands, millions and billions (`1.2k`).
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "B")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e3 {
        (value / 1e3, "k")
    } else {
        return number((value * 100.0).round() / 100.0);
    };
    let text = format!("{scaled:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{suffix}")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Year, month and day of a `YYYY-MM-DD…` text.
fn ymd(text: &str) -> Option<(i64, u32, u32)> {
    let year = text.get(0..4)?.parse().ok()?;
    let month: u32 = text.get(5..7)?.parse().ok()?;
    let day: u32 = text.get(8..10)?.parse().ok()?;
    let separators = text.get(4..5) == Some("-") && text.get(7..8) == Some("-");
    (separators && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some((year, month, day))
}

/// `"2026-11-28T14:05:00.000Z"` (or `"2026-11-28"`) → `"28 Nov 2026"`; anything else as given.
pub fn date(rfc3339: &str) -> String {
    match ymd(rfc3339) {
        Some((y, m, d)) => format!("{d} {} {y}", MONTHS[m as usize - 1]),
        None => rfc3339.to_owned(),
    }
}

/// `"2026-11-03"` → `"3 Nov"`: a day on a chart axis.
pub fn short_date(text: &str) -> String {
    match ymd(text) {
        Some((_, m, d)) => format!("{d} {}", MONTHS[m as usize - 1]),
        None => text.to_owned(),
    }
}

/// `"2026-11-28T14:05:09.120Z"` → `"28 Nov 2026, 14:05 UTC"`; the time as the API sends it
/// (UTC), so every reader of a shared screen sees the same clock.
pub fn date_time(rfc3339: &str) -> String {
    match (ymd(rfc3339), rfc3339.get(10..11), rfc3339.get(11..16)) {
        (Some(_), Some("T"), Some(hm)) if hm.as_bytes().get(2) == Some(&b':') => {
            format!("{}, {hm} UTC", date(rfc3339))
        }
        _ => date(rfc3339),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The UTC day of an instant (milliseconds since the epoch), as [`date`] writes it.
pub fn date_of_epoch_ms(ms: f64) -> String {
    let days = (ms / 86_400_000.0).floor() as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{d} {} {y}", MONTHS[m as usize - 1])
}

/// The last day of a period that ends (exclusively) at `end`: `"2026-12-01T00:00:00Z"` →
/// `"30 Nov 2026"`.
pub fn last_day_before(end: &str) -> String {
    match epoch_ms(end) {
        Some(ms) => date_of_epoch_ms(ms - 1.0),
        None => date(end),
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time (`Z` or a `±hh:mm` offset).
pub fn epoch_ms(rfc3339: &str) -> Option<f64> {
    let (y, mo, d) = ymd(rfc3339)?;
    let days = days_from_civil(y, mo, d) as f64;
    let rest = rfc3339.get(10..)?;
    if rest.is_empty() {
        return Some(days * 86_400_000.0);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let h: f64 = rest.get(0..2)?.parse().ok()?;
    let mi: f64 = rest.get(3..5)?.parse().ok()?;
    let s: f64 = rest.get(6..8)?.parse().ok()?;
    let mut tail = rest.get(8..)?;
    let mut fraction = 0.0;
    if let Some(after_dot) = tail.strip_prefix('.') {
        let len = after_dot
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after_dot.len());
        fraction = format!("0.{}", &after_dot[..len]).parse().ok()?;
        tail = &after_dot[len..];
    }
    let offset_minutes = match tail {
        "Z" | "z" => 0.0,
        _ => {
            let sign = match tail.get(0..1)? {
                "+" => 1.0,
                "-" => -1.0,
                _ => return None,
            };
            let oh: f64 = tail.get(1..3)?.parse().ok()?;
            let om: f64 = tail.get(4..6)?.parse().ok()?;
            sign * (oh * 60.0 + om)
        }
    };
    let seconds = days * 86_400.0 + h * 3_600.0 + mi * 60.0 + s + fraction - offset_minutes * 60.0;
    Some(seconds * 1_000.0)
}

/// How long ago (or until) `rfc3339` is, seen from `now_ms`: `"just now"`, `"5 min ago"`,
/// `"3 h ago"`, `"2 days ago"`, `"in 40 s"`; past a month, the date.
pub fn relative_time(rfc3339: &str, now_ms: f64) -> String {
    let Some(then) = epoch_ms(rfc3339) else {
        return rfc3339.to_owned();
    };
    let seconds = ((now_ms - then) / 1_000.0).round();
    let future = seconds < 0.0;
    let s = seconds.abs() as u64;
    let amount = match s {
        0..=9 => return "just now".to_owned(),
        10..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min", s / 60),
        3_600..=86_399 => format!("{} h", s / 3_600),
        86_400..=172_799 => "1 day".to_owned(),
        172_800..=2_591_999 => format!("{} days", s / 86_400),
        _ => return date(rfc3339),
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A duration in milliseconds: `"340 ms"`, `"1.2 s"`, `"2 min 5 s"`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => {
            let tenths = (ms + 50) / 100;
            if tenths.is_multiple_of(10) {
                format!("{} s", tenths / 10)
            } else {
                format!("{}.{} s", tenths / 10, tenths % 10)
            }
        }
        _ => {
            let s = (ms + 500) / 1_000;
            match s % 60 {
                0 => format!("{} min", s / 60),
                rest => format!("{} min {rest} s", s / 60),
            }
        }
    }
}

/// An API key with only its kind and last four characters showing: `"sk_live_…abcd"`.
pub fn masked_key(key: &str) -> String {
    let prefix = ["sk_live_", "sk_test_"]
        .into_iter()
        .find(|p| key.starts_with(p))
        .unwrap_or("");
    let rest = &key[prefix.len()..];
    let chars: Vec<char> = rest.chars().collect();
    if chars.len() <= 4 {
        // Too short to show any of it safely.
        return format!("{prefix}…");
    }
    let last: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{last}")
}

/// `72.44` → `"72.4"`; no score yet → `"—"`.
pub fn quality_text(score: Option<f64>) -> String {
    match score {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "—".to_owned(),
    }
}
