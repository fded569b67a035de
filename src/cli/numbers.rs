//! Value parsers for numeric flags that say what is accepted. Whole numbers take plain digits or an exact
//! scientific form (`--reads 1e5`); a value out of range names the range (`--reads 1e12`: "too large:
//! expected a whole number from 0 to 4294967295"). Real numbers must be finite. Negative values reach
//! these parsers (the commands set `allow_negative_numbers`) so that `--seed -1` is refused for what it is,
//! not as an unknown flag `-1`.

use std::fmt::Display;

/// An unsigned integer type a flag can take.
pub trait Whole: Sized + Display {
    const MIN: i128;
    const MAX: i128;
    fn from_i128(v: i128) -> Self;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl Whole for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
            fn from_i128(v: i128) -> Self {
                // Callers check MIN <= v <= MAX first.
                v as $t
            }
        }
    )*};
}
whole!(u16, u32, u64, usize);

/// Largest integer an f64 holds exactly.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// A whole number written as digits (`100000`) or exactly in scientific form (`1e5`).
fn parse_integer(text: &str) -> Result<i128, String> {
    let t = text.trim();
    if let Ok(v) = t.parse::<i128>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() <= EXACT_F64 => Ok(v as i128),
        Ok(v) if v.is_finite() && v.fract() == 0.0 => Err(if v < 0.0 {
            "is negative".into()
        } else {
            "is too large".into()
        }),
        Ok(v) if v.is_finite() => Err("is not a whole number".into()),
        _ => Err("is not a number".into()),
    }
}

/// Parses a whole number of type `T`, with the accepted range in every error.
pub fn whole<T: Whole>(text: &str) -> Result<T, String> {
    let range = || format!("expected a whole number from {} to {}", T::MIN, T::MAX);
    let v = parse_integer(text).map_err(|why| format!("{text:?} {why}: {}", range()))?;
    if v < T::MIN {
        return Err(format!("{text} is negative: {}", range()));
    }
    if v > T::MAX {
        return Err(format!("{text} is too large: {}", range()));
    }
    Ok(T::from_i128(v))
}

/// Parses a whole number of at least 1 (counts and limits where 0 means nothing would be done).
pub fn positive<T: Whole>(text: &str) -> Result<T, String> {
    let v = parse_integer(text).map_err(|why| {
        format!(
            "{text:?} {why}: expected a whole number from 1 to {}",
            T::MAX
        )
    })?;
    if v < 1 {
        return Err(format!("{text} is less than 1: expected at least 1"));
    }
    whole::<T>(text)
}

/// Parses a rate strictly between 0 and 1 (a false discovery rate, say).
pub fn open_unit(text: &str) -> Result<f64, String> {
    let v = finite(text)?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!("{text} is not strictly between 0 and 1"))
    }
}

/// Parses a finite real number (`nan` and `inf` are refused).
pub fn finite(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{text} is not finite: expected a finite number")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_strictly_between_0_and_1() {
        assert_eq!(open_unit("0.1"), Ok(0.1));
        for bad in ["0", "1", "-0.1", "nan"] {
            assert!(open_unit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn positive_numbers_start_at_one() {
        assert_eq!(positive::<u64>("200"), Ok(200));
        assert_eq!(
            positive::<u64>("0").unwrap_err(),
            "0 is less than 1: expected at least 1"
        );
        assert!(positive::<u64>("-3").unwrap_err().contains("less than 1"));
        assert!(positive::<u16>("70000").unwrap_err().contains("too large"));
    }

    #[test]
    fn whole_numbers_name_their_range() {
        assert_eq!(whole::<u32>("100000"), Ok(100_000));
        assert_eq!(whole::<u32>("1e5"), Ok(100_000));
        assert_eq!(whole::<u64>("0"), Ok(0));
        let e = whole::<u32>("1e12").unwrap_err();
        assert_eq!(
            e,
            "1e12 is too large: expected a whole number from 0 to 4294967295"
        );
        let e = whole::<u64>("-1").unwrap_err();
        assert_eq!(
            e,
            "-1 is negative: expected a whole number from 0 to 18446744073709551615"
        );
        assert!(whole::<u32>("2.5")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(whole::<u32>("ten").unwrap_err().contains("not a number"));
        assert!(whole::<u16>("70000")
            .unwrap_err()
            .contains("from 0 to 65535"));
        assert!(whole::<u64>("1e300").unwrap_err().contains("too large"));
    }

    #[test]
    fn reals_must_be_finite() {
        assert_eq!(finite("-0.1"), Ok(-0.1));
        assert!(finite("nan").unwrap_err().contains("finite"));
        assert!(finite("inf").unwrap_err().contains("finite"));
        assert!(finite("x").unwrap_err().contains("not a number"));
    }
}
