//! The few summaries the report builder makes itself from fits and sweeps (everything else comes from the
//! analysis, whose quantile kernels are used here too): the standard error of a chip median, equal-width
//! histograms over a robust range, the 68 % Wilson interval of a measured fraction, and colour ranges.
//!
//! ```text
//! se(median) = 1.2533 · 1.4826 · MAD / sqrt(n)          (normal efficiency of the median; MAD → σ)
//! Wilson:  (p + z²/2N ± z sqrt(p(1−p)/N + z²/4N²)) / (1 + z²/N),   z = 1
//! bins:    Freedman–Diaconis width 2 IQR / n^(1/3) over the 0.5 %–99.5 % quantile range, 12 to 60 bins
//! ```

use super::model::{ColourScale, Histogram};

use crate::analysis::stats::{mad, MAD_TO_SD};
pub use crate::analysis::stats::{median, quantile_sorted as quantile, sorted_finite as sorted};

/// Standard error of the median of sorted values: `1.2533 · 1.4826 MAD / sqrt(n)`.
pub fn median_se(sorted: &[f64]) -> Option<f64> {
    let mad = mad(sorted)?;
    (sorted.len() >= 2).then(|| 1.2533 * MAD_TO_SD * mad / (sorted.len() as f64).sqrt())
}

/// 68 % Wilson score interval of `k` successes out of `n`.
pub fn wilson68(k: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (f64::from(k), f64::from(n));
    let p = k / n;
    let z2 = 1.0;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At k = 0 or k = N the interval ends at p exactly (rounding could put it a hair beyond).
    ((centre - half).clamp(0.0, p), (centre + half).clamp(p, 1.0))
}

/// Histogram of `values` with equal bins over a robust range.
pub fn histogram(name: &str, label: &str, unit: &str, values: &[f64]) -> Histogram {
    let s = sorted(values.iter().copied());
    let (mut lo, mut hi) = match (quantile(&s, 0.005), quantile(&s, 0.995)) {
        (Some(a), Some(b)) => (a, b),
        _ => (0.0, 1.0),
    };
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        let c = lo;
        let w = if c == 0.0 { 1.0 } else { 0.05 * c.abs() };
        lo = c - w;
        hi = c + w;
    }
    let pad = 0.04 * (hi - lo);
    // A quantity that cannot be negative keeps its axis at 0 when its values reach it.
    if lo >= 0.0 && lo - pad < 0.0 {
        lo = 0.0;
    } else {
        lo -= pad;
    }
    hi += pad;
    let iqr = match (quantile(&s, 0.25), quantile(&s, 0.75)) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    let bins = if iqr > 0.0 && s.len() > 1 {
        let width = 2.0 * iqr / (s.len() as f64).cbrt();
        ((hi - lo) / width).ceil().clamp(12.0, 60.0) as usize
    } else {
        20
    };
    histogram_in(name, label, unit, &s, (lo, hi), bins)
}

/// Histogram of `values` with `bins` equal bins over `range` (values beyond are counted apart).
pub fn histogram_in(
    name: &str,
    label: &str,
    unit: &str,
    values: &[f64],
    range: (f64, f64),
    bins: usize,
) -> Histogram {
    let s = sorted(values.iter().copied());
    let (lo, hi) = range;
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + i as f64 * width).collect();
    let mut counts = vec![0u64; bins];
    let (mut below, mut above) = (0u64, 0u64);
    for &x in &s {
        if x < lo {
            below += 1;
        } else if x > hi {
            above += 1;
        } else if let Some(c) = counts.get_mut((((x - lo) / width) as usize).min(bins - 1)) {
            *c += 1;
        }
    }
    Histogram {
        name: name.into(),
        label: label.into(),
        unit: unit.into(),
        counted: "qubits".into(),
        edges,
        counts,
        below,
        above,
        n: s.len(),
        median: quantile(&s, 0.5),
        reference: Vec::new(),
        reference_label: None,
    }
}

/// Colour range of a map: the 2 %–98 % quantiles (viridis) or a range symmetric about 0 reaching the
/// larger of |2 %| and |98 %| (diverging); `clipped` when values lie beyond.
pub fn colour_scale(values: &[Option<f64>], diverging: bool) -> ColourScale {
    let s = sorted(values.iter().flatten().copied());
    let (q_lo, q_hi) = (
        quantile(&s, 0.02).unwrap_or(0.0),
        quantile(&s, 0.98).unwrap_or(1.0),
    );
    let (min, max) = (
        s.first().copied().unwrap_or(0.0),
        s.last().copied().unwrap_or(1.0),
    );
    let (mut lo, mut hi) = if diverging {
        let a = q_lo.abs().max(q_hi.abs());
        (-a, a)
    } else {
        (q_lo, q_hi)
    };
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        let w = if lo == 0.0 { 1.0 } else { 0.01 * lo.abs() };
        lo -= w;
        hi += w;
    }
    ColourScale {
        palette: if diverging { "diverging" } else { "viridis" }.into(),
        lo,
        hi,
        clipped: min < lo || max > hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_median_se() {
        let v = sorted([3.0, 1.0, 2.0, f64::NAN, 4.0]);
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        // MAD of 1..4 about 2.5 is 1 → 1.2533 · 1.4826 / 2
        assert!((median_se(&v).unwrap() - 1.2533 * 1.4826 / 2.0).abs() < 1e-12);
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn wilson_matches_a_hand_value_and_stays_in_range() {
        // k = 5, n = 10, z = 1: centre 0.5, half sqrt(0.025 + 0.0025)/1.1
        let (lo, hi) = wilson68(5, 10);
        let half = (0.025f64 + 0.0025).sqrt() / 1.1;
        assert!((lo - (0.5 - half)).abs() < 1e-12 && (hi - (0.5 + half)).abs() < 1e-12);
        let (lo, hi) = wilson68(0, 100);
        assert!(lo == 0.0 && hi > 0.0 && hi < 0.02);
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let values: Vec<f64> = (0..1000)
            .map(|i| f64::from(i) / 100.0)
            .chain([500.0])
            .collect();
        let h = histogram("x", "x", "1", &values);
        let total: u64 = h.counts.iter().sum::<u64>() + h.below + h.above;
        assert_eq!(total, 1001);
        assert_eq!(h.above, 1);
        assert_eq!(h.edges.len(), h.counts.len() + 1);
        assert_eq!(h.edges[0], 0.0, "a non-negative quantity starts at 0");
    }

    #[test]
    fn diverging_scales_are_symmetric() {
        let v: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i) - 30.0)).collect();
        let s = colour_scale(&v, true);
        assert_eq!(s.lo, -s.hi);
        assert!(s.clipped);
    }
}
