//! Numerically stable pieces of the response function (docs/physics.md §2).
//!
//! With `R ≥ 0`: `t(R) = tanh(R)/R`, `g(R) = (sech² R - t(R))/R²` and, for the second derivatives,
//! `G(R) = g'(R)/R = (-2 sech²(R) t(R) - 3 g(R))/R²`. For small `R` the closed forms cancel
//! catastrophically, so `g` and `G` switch to their Taylor series (coefficients `c_k = 2k t_{2k+1}` from
//! the series `tanh x = Σ t_{2k+1} x^{2k+1}`). `sech²` and `1 - tanh` come from one `exp(-2R)`, so they
//! stay accurate (relative) for large `R`.

/// Taylor coefficients of tanh: x, x³, …, x¹⁵.
const TANH: [f64; 8] = [
    1.0,
    -1.0 / 3.0,
    2.0 / 15.0,
    -17.0 / 315.0,
    62.0 / 2835.0,
    -1382.0 / 155925.0,
    21844.0 / 6081075.0,
    -929569.0 / 638512875.0,
];

/// Below this `R`, `g` and `G` use their series (truncation < 1e-13, cancellation avoided).
const SERIES_R: f64 = 0.1;

/// Hyperbolic pieces of one `R = β r ≥ 0`.
#[derive(Clone, Copy, Debug)]
pub struct Hyper {
    /// tanh R.
    pub th: f64,
    /// 1 - tanh R (accurate for large R).
    pub one_minus_th: f64,
    /// sech² R.
    pub sech2: f64,
}

impl Hyper {
    #[inline]
    pub fn new(r: f64) -> Self {
        let e = (-2.0 * r).exp();
        let inv = 1.0 / (1.0 + e);
        Hyper {
            th: (1.0 - e) * inv,
            one_minus_th: 2.0 * e * inv,
            sech2: 4.0 * e * inv * inv,
        }
    }
}

/// `t(R) = tanh(R)/R`, 1 at R = 0.
#[inline]
pub fn t_of(r: f64, hy: &Hyper) -> f64 {
    if r < 1e-5 {
        1.0 - r * r / 3.0
    } else {
        hy.th / r
    }
}

/// `(t, g)` at once with one division (same values as [`t_of`] and [`g_of`]).
#[inline]
pub fn t_and_g(r: f64, hy: &Hyper) -> (f64, f64) {
    if r < SERIES_R {
        (t_of(r, hy), g_of(r, hy))
    } else {
        let inv = 1.0 / r;
        let t = hy.th * inv;
        (t, (hy.sech2 - t) * inv * inv)
    }
}

/// `g(R) = (sech² R - tanh(R)/R)/R²` (series `-2/3 + 8R²/15 - …`).
#[inline]
pub fn g_of(r: f64, hy: &Hyper) -> f64 {
    if r < SERIES_R {
        let r2 = r * r;
        // g = Σ_{k≥1} 2k t_{2k+1} R^{2k-2}
        let mut acc = 0.0;
        for k in (1..=7).rev() {
            acc = acc * r2 + 2.0 * k as f64 * TANH[k];
        }
        acc
    } else {
        (hy.sech2 - hy.th / r) / (r * r)
    }
}

/// `G(R) = g'(R)/R` (series `16/15 - 136R²/105 + …`).
#[inline]
pub fn gg_of(r: f64, hy: &Hyper, g: f64) -> f64 {
    if r < SERIES_R {
        let r2 = r * r;
        // G = Σ_{k≥2} (2k-2) 2k t_{2k+1} R^{2k-4}
        let mut acc = 0.0;
        for k in (2..=7).rev() {
            let kf = k as f64;
            acc = acc * r2 + (2.0 * kf - 2.0) * 2.0 * kf * TANH[k];
        }
        acc
    } else {
        let inv = 1.0 / r;
        (-2.0 * hy.sech2 * hy.th * inv - 3.0 * g) * inv * inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g_direct(r: f64) -> f64 {
        let s = 1.0 / r.cosh().powi(2);
        (s - r.tanh() / r) / (r * r)
    }

    #[test]
    fn series_and_closed_forms_agree_at_the_switch() {
        for &r in &[0.0999, 0.1, 0.1001, 0.2, 0.5] {
            let hy = Hyper::new(r);
            let g = g_of(r, &hy);
            assert!((g - g_direct(r)).abs() < 1e-12, "g at {r}");
        }
        let lo = Hyper::new(0.0999999);
        let hi = Hyper::new(0.1000001);
        let g_lo = g_of(0.0999999, &lo);
        let g_hi = g_of(0.1000001, &hi);
        assert!((gg_of(0.0999999, &lo, g_lo) - gg_of(0.1000001, &hi, g_hi)).abs() < 1e-7);
    }

    #[test]
    fn big_g_is_the_derivative_of_g_over_r() {
        for &r in &[0.05, 0.3, 1.0, 3.0, 10.0] {
            let d = 1e-5;
            let num = (g_direct(r + d) - g_direct(r - d)) / (2.0 * d) / r;
            let hy = Hyper::new(r);
            let g = g_of(r, &hy);
            assert!(
                (gg_of(r, &hy, g) - num).abs() < 1e-6 * (1.0 + num.abs()),
                "G at {r}"
            );
        }
    }

    #[test]
    fn limits_are_finite() {
        for &r in &[0.0, 1e-300, 1e-8, 700.0, 1e6, f64::MAX] {
            let hy = Hyper::new(r);
            let g = g_of(r, &hy);
            assert!(t_of(r, &hy).is_finite() && g.is_finite() && gg_of(r, &hy, g).is_finite());
        }
        let hy = Hyper::new(0.0);
        assert!((g_of(0.0, &hy) + 2.0 / 3.0).abs() < 1e-15);
    }
}
