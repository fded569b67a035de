//! The h grid of a campaign, exact to the step's decimals (issue 9 §4).
//!
//! A stepped grid is `h_k = k · step` for `k = -K..=K` with `K = ⌊h_max / step⌋`, so `h_max` is never
//! exceeded (`step 0.4, h_max 1` gives ±0.8). Each value is computed as the integer `k · u` divided by
//! `10^d`, where `d` is the number of decimals of the step as written (its shortest round-trip form) and
//! `u = step · 10^d`: one correctly rounded division, so `-39 · 0.025` is the double nearest to -0.975 and
//! prints as `-0.975`, never `-0.9750000000000001`. The grid is symmetric, with ±h exact negatives, as the
//! gauge pairs need (a gauge flips the field a qubit sees, docs/physics.md §3 item 4).

use super::error::PlanError;

/// Largest number of decimals a step may have.
const MAX_DECIMALS: usize = 15;
/// Largest `K` (the grid has `2K + 1` values).
pub const MAX_HALF_WIDTH: u64 = 100_000;

/// How the h grid is given.
#[derive(Clone, Debug, PartialEq)]
pub enum GridSpec {
    /// `±k · step` up to `h_max` (h units).
    Step { h_max: f64, h_step: f64 },
    /// Explicit values (h units).
    Values(Vec<f64>),
}

/// The number of decimals of `x` as Rust writes it shortest (`0.025` → 3, `2` → 0).
pub fn decimals(x: f64) -> usize {
    let s = format!("{x}");
    s.split_once('.').map_or(0, |(_, frac)| frac.len())
}

/// `x` rounded to `d` decimals (the double nearest to the decimal number).
pub fn round_to(x: f64, d: usize) -> f64 {
    let scale = 10f64.powi(d as i32);
    let v = (x * scale).round() / scale;
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

/// The symmetric stepped grid, ascending.
pub fn stepped(h_max: f64, h_step: f64) -> Result<Vec<f64>, PlanError> {
    if !(h_step.is_finite() && h_step > 0.0) {
        return Err(PlanError::NotPositive {
            what: "h step",
            value: h_step,
        });
    }
    if !(h_max.is_finite() && h_max >= 0.0) {
        return Err(PlanError::Negative {
            what: "h max",
            value: h_max,
        });
    }
    let d = decimals(h_step);
    if d > MAX_DECIMALS {
        return Err(PlanError::StepPrecision { step: h_step });
    }
    let scale = 10f64.powi(d as i32);
    let units = (h_step * scale).round();
    // ⌊h_max / step⌋ with a relative tolerance of 1e-9 for values typed as exact multiples.
    let k_max = ((h_max * scale) / units * (1.0 + 1e-12) + 1e-9).floor();
    if k_max > MAX_HALF_WIDTH as f64 {
        return Err(PlanError::GridTooLarge {
            values: 2.0 * k_max + 1.0,
            max: 2 * MAX_HALF_WIDTH + 1,
        });
    }
    let k_max = k_max as i64;
    Ok((-k_max..=k_max)
        .map(|k| {
            if k == 0 {
                0.0
            } else {
                (k as f64 * units) / scale
            }
        })
        .collect())
}

/// An explicit grid: finite, distinct, sorted ascending; symmetric when `symmetric` (every h with -h).
pub fn explicit(values: &[f64], symmetric: bool) -> Result<Vec<f64>, PlanError> {
    if values.is_empty() {
        return Err(PlanError::EmptyGrid);
    }
    if let Some(&v) = values.iter().find(|v| !v.is_finite()) {
        return Err(PlanError::NotFinite {
            what: "h value",
            value: v,
        });
    }
    let mut h: Vec<f64> = values
        .iter()
        .map(|&v| if v == 0.0 { 0.0 } else { v })
        .collect();
    h.sort_by(f64::total_cmp);
    if let Some(w) = h.windows(2).find(|w| w[0] == w[1]) {
        return Err(PlanError::DuplicateH { h: w[0] });
    }
    if symmetric {
        let missing = |v: f64| {
            let neg = if v == 0.0 { 0.0 } else { -v };
            h.binary_search_by(|x| x.total_cmp(&neg)).is_err()
        };
        if let Some(&v) = h.iter().find(|&&v| missing(v)) {
            return Err(PlanError::AsymmetricGrid { h: v });
        }
    }
    Ok(h)
}

/// The grid a spec gives.
pub fn build(spec: &GridSpec, symmetric: bool) -> Result<Vec<f64>, PlanError> {
    match spec {
        GridSpec::Step { h_max, h_step } => stepped(*h_max, *h_step),
        GridSpec::Values(v) => explicit(v, symmetric),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_exact_decimals() {
        let g = stepped(1.0, 0.025).unwrap();
        assert_eq!(g.len(), 81);
        assert_eq!(g[1], -0.975);
        assert_eq!(format!("{}", g[1]), "-0.975");
        assert_eq!(g[40], 0.0);
        assert_eq!(g[80], 1.0);
        for (i, &h) in g.iter().enumerate() {
            assert_eq!(h, -g[80 - i], "symmetric");
            assert_eq!(h, round_to(h, 3));
            assert!(!format!("{h}").contains("0000"), "{h}");
        }
        let g = stepped(1.0, 0.1).unwrap();
        assert_eq!(format!("{:?}", &g[..4]), "[-1.0, -0.9, -0.8, -0.7]");
        assert_eq!(g[13], 0.3);
    }

    #[test]
    fn h_max_is_never_exceeded() {
        assert_eq!(stepped(1.0, 0.4).unwrap(), vec![-0.8, -0.4, 0.0, 0.4, 0.8]);
        assert_eq!(stepped(0.3, 0.1).unwrap().last(), Some(&0.3));
        assert_eq!(stepped(0.29999, 0.1).unwrap().last(), Some(&0.2));
        assert_eq!(stepped(0.0, 0.1).unwrap(), vec![0.0]);
        assert_eq!(stepped(2.0, 0.025).unwrap().len(), 161);
    }

    #[test]
    fn bad_steps_and_lists_are_refused() {
        assert!(matches!(
            stepped(1.0, 0.0),
            Err(PlanError::NotPositive { .. })
        ));
        assert!(matches!(
            stepped(1.0, -0.1),
            Err(PlanError::NotPositive { .. })
        ));
        assert!(matches!(
            stepped(f64::NAN, 0.1),
            Err(PlanError::Negative { .. })
        ));
        assert!(matches!(
            stepped(1e9, 1e-6),
            Err(PlanError::GridTooLarge { .. })
        ));
        assert!(matches!(
            explicit(&[0.1, 0.3, -0.1], true),
            Err(PlanError::AsymmetricGrid { h }) if h == 0.3
        ));
        assert_eq!(explicit(&[0.1, 0.3], false).unwrap(), vec![0.1, 0.3]);
        assert!(matches!(
            explicit(&[0.1, 0.1], false),
            Err(PlanError::DuplicateH { .. })
        ));
        assert_eq!(
            explicit(&[0.2, -0.2, -0.0], true).unwrap(),
            vec![-0.2, 0.0, 0.2]
        );
        assert_eq!(explicit(&[0.0], true).unwrap(), vec![0.0]);
    }

    #[test]
    fn decimals_of_typed_steps() {
        assert_eq!(decimals(0.025), 3);
        assert_eq!(decimals(2.0), 0);
        assert_eq!(decimals(1e-7), 7);
    }
}
