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

/// Partial derivatives of one branch `f(x, u) = x tanh(R)/R`, `R = sqrt(x² + u²)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Partials {
    pub fx: f64,
    pub fu: f64,
    /// Second derivatives; zero unless asked for.
    pub fxx: f64,
    pub fxu: f64,
    pub fuu: f64,
}

/// The partials of `f` at `(x, u)` with `R = sqrt(x² + u²) ≥ 0` and its hyperbolic pieces `hy`.
///
/// For `R ≥ 0.1` they use forms without cancellation (with `S = sech² R`, `t = tanh(R)/R`,
/// `D = S - t = g R² < 0`):
/// ```text
/// f_x  = (u² t + x² S)/R²                  f_u  = x u D/R²
/// f_xx = 3 x u² D/R⁴ - 2 x³ S t/R²          f_xu = u (u² - 2x²) D/R⁴ - 2 x² u S t/R²
/// f_uu = x (x² - 2u²) D/R⁴ - 2 x u² S t/R²
/// ```
/// The textbook `f_x = t + x² g` subtracts two O(1/R) terms to get `sech² R`, which in the tails (u ≈ 0,
/// i.e. γ ≈ 0, and large R) leaves an absolute error of 1e-18 on a value of 1e-38: the gradient of ℓ
/// relative to a p of that size would be off by 20 orders of magnitude. Below `R = 0.1` the series of
/// [`g_of`] and [`gg_of`] are used (no exponentially small terms there).
#[inline]
pub fn partials(x: f64, u: f64, r: f64, hy: &Hyper, second: bool) -> Partials {
    if r < SERIES_R {
        let (t, g) = t_and_g(r, hy);
        let mut p = Partials {
            fx: t + x * x * g,
            fu: x * u * g,
            ..Default::default()
        };
        if second {
            let gg = gg_of(r, hy, g);
            p.fxx = 3.0 * x * g + x * x * x * gg;
            p.fxu = u * g + x * x * u * gg;
            p.fuu = x * g + x * u * u * gg;
        }
        return p;
    }
    let inv2 = 1.0 / (r * r);
    let t = hy.th / r;
    let s = hy.sech2;
    let d = s - t;
    let (x2, u2) = (x * x, u * u);
    let mut p = Partials {
        fx: (u2 * t + x2 * s) * inv2,
        fu: x * u * d * inv2,
        ..Default::default()
    };
    if second {
        let inv4 = inv2 * inv2;
        let st = 2.0 * s * t * inv2;
        p.fxx = 3.0 * x * u2 * d * inv4 - x * x2 * st;
        p.fxu = u * (u2 - 2.0 * x2) * d * inv4 - x2 * u * st;
        p.fuu = x * (x2 - 2.0 * u2) * d * inv4 - x * u2 * st;
    }
    p
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
    fn partials_match_the_textbook_forms_and_stay_relative_in_the_tails() {
        for &(x, u) in &[
            (0.03, 0.05),
            (0.3, 0.2),
            (-1.5, 0.7),
            (4.0, -2.0),
            (-7.0, 0.01),
        ] {
            let r = f64::hypot(x, u);
            let hy = Hyper::new(r);
            let (t, g) = (hy.th / r, g_of(r, &hy));
            let gg = gg_of(r, &hy, g);
            let p = partials(x, u, r, &hy, true);
            let want = [
                t + x * x * g,
                x * u * g,
                3.0 * x * g + x * x * x * gg,
                u * g + x * x * u * gg,
                x * g + x * u * u * gg,
            ];
            let got = [p.fx, p.fu, p.fxx, p.fxu, p.fuu];
            for (a, b) in got.iter().zip(want) {
                assert!(
                    (a - b).abs() < 1e-12 * (1.0 + b.abs()),
                    "({x}, {u}): {got:?} vs {want:?}"
                );
            }
        }
        // u = 0: f = tanh x, f_x = sech² x, f_xx = -2 sech² x tanh x, to full relative precision
        for &x in &[0.5, 5.0, 40.0, 300.0] {
            let hy = Hyper::new(x);
            let p = partials(x, 0.0, x, &hy, true);
            let s = 1.0 / x.cosh().powi(2);
            assert!(
                ((p.fx - s) / s).abs() < 1e-12,
                "f_x at {x}: {} vs {s}",
                p.fx
            );
            let want = -2.0 * s * x.tanh();
            assert!(((p.fxx - want) / want).abs() < 1e-12, "f_xx at {x}");
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
