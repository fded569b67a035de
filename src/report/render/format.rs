//! Number formatting shared by the Markdown and HTML renderers (formatting only, no statistics).

/// A value with a few significant digits; `–` when absent.
pub fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => sig(x, 4),
        _ => "–".into(),
    }
}

/// `x` with `digits` significant digits, plain notation between 1e-3 and 1e5.
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    let s = if !(1e-3..1e5).contains(&a) {
        format!("{:.*e}", digits.saturating_sub(1), x)
    } else {
        let mag = a.log10().floor() as i32;
        let decimals = (digits as i32 - 1 - mag).max(0) as usize;
        format!("{x:.decimals$}")
    };
    s.replace('-', "−")
}

/// `value ± se` with the value rounded to the se's second significant digit.
pub fn pm(value: Option<f64>, se: Option<f64>) -> String {
    match (value, se) {
        (Some(v), Some(s)) if v.is_finite() && s.is_finite() && s > 0.0 => {
            let decimals = (1 - s.log10().floor() as i32).max(0) as usize;
            if decimals > 8 || s.abs() >= 1e5 || (v.abs() > 0.0 && v.abs() < 1e-3) {
                return format!("{} ± {}", sig(v, 3), sig(s, 2));
            }
            format!("{v:.decimals$} ± {s:.decimals$}").replace('-', "−")
        }
        _ => num(value),
    }
}

/// A percentage of `part` in `whole`.
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!("{:.1} %", 100.0 * part as f64 / whole as f64)
}

/// Seconds in words: `4.2 s`, `12.5 min`, `3.1 h`.
pub fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.2} h", s / 3600.0)
    }
}

/// A label with its unit in parentheses (none for dimensionless quantities).
pub fn with_unit(label: &str, unit: &str) -> String {
    crate::report::plot::histogram::axis_label(label, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(pm(Some(6.1234), Some(0.0312)), "6.123 ± 0.031");
        assert_eq!(pm(Some(-0.0123), Some(0.0004)), "−0.01230 ± 0.00040");
        assert_eq!(pm(Some(5.0), None), "5.000");
        assert_eq!(num(None), "–");
        assert_eq!(sig(12345.678, 4), "12346");
        assert_eq!(sig(0.000012, 2), "1.2e−5");
        assert_eq!(duration(90.0), "90.0 s");
        assert_eq!(percent(1, 3), "33.3 %");
    }
}
