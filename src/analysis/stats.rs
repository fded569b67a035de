//! Small statistics kernels used across the analysis: quantiles and robust spread (median, IQR, MAD),
//! ranks, Pearson and Spearman correlation with their t-test p-values, normal tails, Benjamini–Hochberg
//! adjusted p-values, and the Kolmogorov–Smirnov distance to the uniform distribution.
//!
//! Distribution functions come from statrs (normal, Student t, Fisher F); only the combinatorics here are
//! hand-written.
//!
//! * Pearson p-value: `t = r sqrt((n-2)/(1-r²))` against Student t with n − 2 degrees of freedom, two-sided.
//!   Spearman uses the same test on the ranks (average ranks for ties), the usual large-n approximation.
//! * Benjamini–Hochberg (1995): with p-values sorted ascending `p_(1) ≤ … ≤ p_(m)`, the adjusted value is
//!   `q_(k) = min_{j ≥ k} min(1, m p_(j) / j)`; rejecting `q ≤ α` controls the false discovery rate at α
//!   for independent (or positively dependent) tests.
//! * Robust outliers (Iglewicz & Hoaglin 1993): `z = (x − median) / (1.4826 MAD)`.

use statrs::distribution::{ContinuousCDF, FisherSnedecor, Normal, StudentsT};

/// Consistency constant of the MAD for a normal distribution.
pub const MAD_TO_SD: f64 = 1.4826;

/// Finite values only, sorted ascending.
pub fn sorted_finite(xs: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Quantile of sorted data with linear interpolation (type 7, as R and NumPy default); `None` when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

/// Median of finite values.
pub fn median(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    quantile_sorted(&sorted_finite(xs), 0.5)
}

/// Median absolute deviation from the median (unscaled).
pub fn mad(sorted: &[f64]) -> Option<f64> {
    let m = quantile_sorted(sorted, 0.5)?;
    let dev = sorted_finite(sorted.iter().map(|x| (x - m).abs()));
    quantile_sorted(&dev, 0.5)
}

/// Mean of a slice (`None` when empty).
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Two-sided tail probability of a standard normal: `P(|Z| ≥ |z|)`.
pub fn normal_two_sided(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { f64::NAN } else { 0.0 };
    }
    match Normal::new(0.0, 1.0) {
        Ok(n) => (2.0 * n.sf(z.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

/// Two-sided tail probability of Student t with `df` degrees of freedom.
pub fn t_two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { f64::NAN } else { 0.0 };
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

/// Upper tail of Fisher's F with `(d1, d2)` degrees of freedom.
pub fn f_upper(f: f64, d1: f64, d2: f64) -> f64 {
    if f.is_nan() {
        return f64::NAN;
    }
    match FisherSnedecor::new(d1, d2) {
        Ok(d) => d.sf(f.max(0.0)),
        Err(_) => f64::NAN,
    }
}

/// Pearson correlation of paired values (pairs with a non-finite member are skipped): `(r, n)`.
pub fn pearson(x: &[f64], y: &[f64]) -> (Option<f64>, usize) {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .collect();
    (pearson_pairs(&pairs), pairs.len())
}

fn pearson_pairs(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len();
    if n < 3 {
        return None;
    }
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (mx / n as f64, my / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        let (dx, dy) = (x - mx, y - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman rank correlation (average ranks for ties) of pairs with both members finite: `(ρ, n)`.
pub fn spearman(x: &[f64], y: &[f64]) -> (Option<f64>, usize) {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .unzip();
    let (rx, ry) = (ranks(&xs), ranks(&ys));
    pearson(&rx, &ry)
}

/// Ranks 1..n with ties averaged (the input must be finite).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Two-sided p-value of a correlation coefficient `r` from `n` pairs (t-test with n − 2 dof).
pub fn correlation_p(r: f64, n: usize) -> Option<f64> {
    if n < 3 || !r.is_finite() {
        return None;
    }
    let df = (n - 2) as f64;
    let denom = (1.0 - r * r).max(0.0);
    if denom == 0.0 {
        return Some(0.0);
    }
    Some(t_two_sided(r * (df / denom).sqrt(), df))
}

/// Benjamini–Hochberg adjusted p-values (q-values); `None` entries stay `None` and do not count in m.
pub fn bh_adjust(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut idx: Vec<usize> = (0..p.len())
        .filter(|&i| p[i].is_some_and(|x| x.is_finite()))
        .collect();
    idx.sort_by(|&a, &b| p[a].unwrap_or(1.0).total_cmp(&p[b].unwrap_or(1.0)));
    let m = idx.len() as f64;
    let mut q = vec![None; p.len()];
    let mut running = 1.0f64;
    for (rank, &i) in idx.iter().enumerate().rev() {
        let pi = p[i].unwrap_or(1.0);
        running = running.min(pi * m / (rank + 1) as f64).min(1.0);
        q[i] = Some(running);
    }
    q
}

/// Kolmogorov–Smirnov distance between the empirical distribution of `p` (values in [0, 1]) and the
/// uniform distribution, with the asymptotic p-value of the one-sample test.
pub fn ks_uniform(p: &[f64]) -> (f64, f64) {
    let s = sorted_finite(p.iter().copied());
    let n = s.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let nf = n as f64;
    let d = s
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let x = x.clamp(0.0, 1.0);
            ((i + 1) as f64 / nf - x).max(x - i as f64 / nf)
        })
        .fold(0.0, f64::max);
    (d, kolmogorov_sf((nf.sqrt() + 0.12 + 0.11 / nf.sqrt()) * d))
}

/// Survival function of the Kolmogorov distribution, `2 Σ (−1)^{k−1} exp(−2 k² λ²)`.
fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let kf = f64::from(k);
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        s += if k % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_type_7() {
        // numpy.quantile([1, 2, 4, 7, 11], [0.25, 0.5, 0.9]) = [2, 4, 9.4]
        let s = [1.0, 2.0, 4.0, 7.0, 11.0];
        assert_eq!(quantile_sorted(&s, 0.25), Some(2.0));
        assert_eq!(quantile_sorted(&s, 0.5), Some(4.0));
        assert!((quantile_sorted(&s, 0.9).unwrap() - 9.4).abs() < 1e-12);
        // MAD of [1, 2, 4, 7, 11] around 4: deviations 3, 2, 0, 3, 7 → 3
        assert_eq!(mad(&s), Some(3.0));
    }

    #[test]
    fn pearson_and_spearman_known_answers() {
        // scipy.stats.pearsonr([1,2,3,4,5],[2,4,5,4,5]) = (0.7745966692414834, 0.12402706265755456)
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 4.0, 5.0, 4.0, 5.0];
        let (r, n) = pearson(&x, &y);
        let r = r.unwrap();
        assert!((r - 0.774_596_669_241_483_4).abs() < 1e-12);
        assert!((correlation_p(r, n).unwrap() - 0.124_027_062_657_554_56).abs() < 1e-9);
        // scipy.stats.spearmanr(x, y) = (0.7378647873726218, 0.15461852312844926)
        let (rho, n) = spearman(&x, &y);
        let rho = rho.unwrap();
        assert!((rho - 0.737_864_787_372_621_8).abs() < 1e-12);
        assert!((correlation_p(rho, n).unwrap() - 0.154_618_523_128_449_26).abs() < 1e-9);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn bh_matches_scipy() {
        // scipy.stats.false_discovery_control([0.01, 0.04, 0.03, 0.005, 0.5])
        //   = [0.025, 0.05, 0.05, 0.025, 0.5]
        let p = [
            Some(0.01),
            Some(0.04),
            Some(0.03),
            Some(0.005),
            None,
            Some(0.5),
        ];
        let q = bh_adjust(&p);
        let want = [
            Some(0.025),
            Some(0.05),
            Some(0.05),
            Some(0.025),
            None,
            Some(0.5),
        ];
        for (a, b) in q.iter().zip(want) {
            match (a, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
                (a, b) => assert_eq!(*a, b),
            }
        }
    }

    #[test]
    fn normal_and_t_tails() {
        assert!((normal_two_sided(1.959_963_984_540_054) - 0.05).abs() < 1e-9);
        // scipy.stats.t.sf(2.0, 10) * 2 = 0.07338803477074037
        assert!((t_two_sided(2.0, 10.0) - 0.073_388_034_770_740_37).abs() < 1e-10);
        // scipy.stats.f.sf(3.0, 2, 20) = 0.07253815028640571
        assert!((f_upper(3.0, 2.0, 20.0) - 0.072_538_150_286_405_71).abs() < 1e-10);
    }

    #[test]
    fn ks_of_a_uniform_grid_is_small_and_of_a_skewed_one_large() {
        let grid: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let (d, p) = ks_uniform(&grid);
        assert!(d < 0.001 + 1e-12 && p > 0.99);
        let skew: Vec<f64> = grid.iter().map(|x| x * x).collect();
        let (d, p) = ks_uniform(&skew);
        assert!(d > 0.2 && p < 1e-10);
    }
}
