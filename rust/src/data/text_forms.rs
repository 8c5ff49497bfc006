//! The text and number forms data values take, and their limits: what .NET
//! would refuse on the way back is refused here, while checking.

/// `DateTime.MaxValue.Ticks` in .NET.
pub(crate) const MAX_DATETIME_TICKS: i64 = 3_155_378_975_999_999_999;
/// SyncPool's datetime kind beside .NET's `DateTimeKind` (0 Unspecified,
/// 1 Utc, 2 Local with wall-clock ticks): a local time held as its UTC
/// moment (see [`Data::DateTime`]).
///
/// [`Data::DateTime`]: super::Data::DateTime
pub(crate) const LOCAL_MOMENT: u8 = 4;
/// `DateTimeOffset` offsets are at most 14 hours either way.
const MAX_OFFSET_MINUTES: i16 = 14 * 60;

pub(crate) fn check_datetime(ticks: i64, kind: u8) -> Result<(), String> {
    if !(0..=MAX_DATETIME_TICKS).contains(&ticks) {
        return Err(format!("datetime ticks must be from 0 to {MAX_DATETIME_TICKS}, not {ticks}"));
    }
    if kind > 2 && kind != LOCAL_MOMENT {
        return Err("datetime kind must be 0 (Unspecified), 1 (Utc), 2 (Local, wall-clock ticks) or 4 (Local, UTC ticks)".to_owned());
    }
    Ok(())
}

pub(crate) fn check_datetime_offset(ticks: i64, offset_minutes: i16) -> Result<(), String> {
    if !(0..=MAX_DATETIME_TICKS).contains(&ticks) {
        return Err(format!("datetimeoffset ticks must be from 0 to {MAX_DATETIME_TICKS}, not {ticks}"));
    }
    if offset_minutes.abs() > MAX_OFFSET_MINUTES {
        return Err(format!("a datetimeoffset offset must be within 14 hours, not {offset_minutes} minutes"));
    }
    // The UTC instant must be a valid DateTime too.
    let utc = i128::from(ticks) - i128::from(offset_minutes) * 600_000_000;
    if !(0..=i128::from(MAX_DATETIME_TICKS)).contains(&utc) {
        return Err("a datetimeoffset's UTC time is outside the DateTime range".to_owned());
    }
    Ok(())
}

/// A .NET `decimal` in invariant text: `-?digits(.digits)?`, at most 28
/// digits after the point, and a value below 2^96 once the point is
/// removed (what `decimal.Parse` accepts without rounding).
pub(crate) fn check_decimal(text: &str) -> Result<(), String> {
    let bad = || format!("'{text}' is not a decimal (digits with an optional '.' and sign)");
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (unsigned, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if unsigned.contains('.') && fraction.is_empty() {
        return Err(bad());
    }
    if fraction.len() > 28 {
        return Err(format!("'{text}' has more than 28 digits after the point"));
    }
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let fits = digits.len() <= 29 && digits.parse::<u128>().map_or(digits.is_empty(), |m| m < (1u128 << 96));
    if !fits {
        return Err(format!("'{text}' is outside the range of a decimal"));
    }
    Ok(())
}

/// A GUID in the lowercase `D` form .NET writes by default.
pub(crate) fn check_guid(text: &str) -> Result<(), String> {
    let groups: Vec<&str> = text.split('-').collect();
    let ok = groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, len)| {
            group.len() == len && group.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    if ok { Ok(()) } else { Err(format!("'{text}' is not a GUID like 0f8fad5b-d9cb-469f-a165-70867728950e")) }
}

/// A `[version]`: two to four dot-separated whole numbers, each at most
/// `int.MaxValue`.
pub(crate) fn check_version(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split('.').collect();
    let ok = (2..=4).contains(&parts.len())
        && parts.iter().all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && part.parse::<i32>().is_ok()
        });
    if ok { Ok(()) } else { Err(format!("'{text}' is not a version like 1.2 or 1.2.3.4")) }
}

/// A `[bigint]` in invariant text: an optional '-' and decimal digits
/// (what `BigInteger.Parse` reads back exactly, without a sign of '+').
pub(crate) fn check_big_integer(text: &str) -> Result<(), String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("'{text}' is not a bigint (decimal digits with an optional '-')"))
    }
}

/// What doubles and singles share in their text forms.
pub(crate) trait Float: Copy + PartialEq + std::fmt::Debug + std::str::FromStr {
    const NAN: Self;
    const INFINITY: Self;
    const NEG_INFINITY: Self;
    /// Hexadecimal digits of the bits (a NaN's "bits" in JSON).
    const BIT_DIGITS: usize;
    fn is_nan(self) -> bool;
    fn bits(self) -> u64;
    /// The value of `bits`, which has at most [`BIT_DIGITS`](Float::BIT_DIGITS) digits.
    fn from_bits(bits: u64) -> Self;
}

impl Float for f64 {
    const NAN: Self = f64::NAN;
    const INFINITY: Self = f64::INFINITY;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    const BIT_DIGITS: usize = 16;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
}

impl Float for f32 {
    const NAN: Self = f32::NAN;
    const INFINITY: Self = f32::INFINITY;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    const BIT_DIGITS: usize = 8;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
}

/// Shortest text that parses back to the same double (or single: its own
/// shortest text, not its double widening's); .NET spellings for the values
/// JSON has no number for.
pub(crate) fn float_text<F: Float>(x: F) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x == F::INFINITY {
        "Infinity".to_owned()
    } else if x == F::NEG_INFINITY {
        "-Infinity".to_owned()
    } else {
        // `{:?}` is shortest-round-trip and keeps the sign of -0.0.
        format!("{x:?}")
    }
}

/// The number a [`float_text`] text stands for.
pub(crate) fn parse_float_text<F: Float>(text: &str) -> Result<F, String> {
    match text {
        "NaN" => Ok(F::NAN),
        "Infinity" => Ok(F::INFINITY),
        "-Infinity" => Ok(F::NEG_INFINITY),
        other => other.parse::<F>().map_err(|_| format!("'{other}' is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_and_singles() {
        for good in ["0", "-0", "123456789012345678901234567890", "-18446744073709551616"] {
            assert!(check_big_integer(good).is_ok(), "{good}");
        }
        for bad in ["", "-", "+1", "1.0", "1e5", " 1", "0x10"] {
            assert!(check_big_integer(bad).is_err(), "{bad}");
        }
        for x in [1.1f32, -0.0, f32::MAX, f32::MIN_POSITIVE, 1e-45, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(parse_float_text::<f32>(&float_text(x)).unwrap().to_bits(), x.to_bits(), "{x}");
        }
        assert_eq!(float_text(1.1f32), "1.1", "the single's own shortest text, not its double widening");
        assert!(parse_float_text::<f32>(&float_text(f32::NAN)).unwrap().is_nan());
    }

    #[test]
    fn decimals() {
        for good in ["0", "-0", "1.10", "79228162514264337593543950335", "-0.0000000000000000000000000001", "007"] {
            assert!(check_decimal(good).is_ok(), "{good}");
        }
        for bad in ["", "-", "1.", ".5", "1e5", "1,5", "+1", "79228162514264337593543950336", "0.00000000000000000000000000001", "NaN"] {
            assert!(check_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guids_versions_and_dates() {
        assert!(check_guid("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(check_guid("0F8FAD5B-D9CB-469F-A165-70867728950E").is_err(), "the canonical form is lowercase");
        assert!(check_guid("0f8fad5bd9cb469fa16570867728950e").is_err());
        assert!(check_version("1.2").is_ok() && check_version("1.2.3.4").is_ok());
        assert!(check_version("1").is_err() && check_version("1.2.3.4.5").is_err() && check_version("1.-2").is_err());
        assert!(check_version("1.2147483648").is_err());
        assert!(check_datetime(MAX_DATETIME_TICKS, 2).is_ok());
        assert!(check_datetime(-1, 0).is_err() && check_datetime(0, 3).is_err() && check_datetime(0, 4).is_ok() && check_datetime(0, 5).is_err());
        assert!(check_datetime_offset(MAX_DATETIME_TICKS, 0).is_ok());
        assert!(check_datetime_offset(0, 60).is_err(), "UTC would be before year 1");
        assert!(check_datetime_offset(1_000_000_000_000, 900).is_err());
    }

    #[test]
    fn double_text_round_trips() {
        let samples = [0.1, 1.0 / 3.0, 1e-320, 5e-324, 123456789012345680.0, -2.5e-10, f64::EPSILON, -0.0];
        for x in samples {
            assert_eq!(parse_float_text::<f64>(&float_text(x)).unwrap().to_bits(), x.to_bits(), "{x:?}");
        }
        assert!(parse_float_text::<f64>(&float_text(f64::NAN)).unwrap().is_nan());
    }
}
