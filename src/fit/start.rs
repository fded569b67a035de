//! Deterministic starting points (docs/physics.md §2–3): β from the central slope of `atanh(m)`, b from
//! the crossing of `p_down = 1/2` (at `h = -b`), γ from the plateau floor `(1 - 1/sqrt(1+γ²))/2`, plus a
//! few fixed alternatives. γ and η never start at 0 (their gradient vanishes there).

use crate::model::{Model, Param, Params, QubitCounts};

/// The data-driven guess.
pub fn data_guess(d: &QubitCounts) -> Params {
    let p: Vec<f64> = d.k.iter().zip(&d.n).map(|(k, n)| k / n).collect();
    // b: crossing of 1/2 nearest to h = 0
    let mut cross: Option<f64> = None;
    for i in 1..d.len() {
        let (a, b) = (p[i - 1] - 0.5, p[i] - 0.5);
        if a == 0.0 || a * b < 0.0 || (b == 0.0 && i + 1 == d.len()) {
            let hc = if a == b {
                d.h[i - 1]
            } else {
                d.h[i - 1] + (d.h[i] - d.h[i - 1]) * a / (a - b)
            };
            if cross.is_none_or(|c| hc.abs() < c.abs()) {
                cross = Some(hc);
            }
        }
    }
    let (hmin, hmax) =
        d.h.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &h| {
                (lo.min(h), hi.max(h))
            });
    let mean_p = p.iter().sum::<f64>() / p.len().max(1) as f64;
    let hc = cross.unwrap_or(if mean_p > 0.5 { hmin } else { hmax });
    let b = if hc.is_finite() { -hc } else { 0.0 };
    // β: weighted least squares of atanh(m) = β (h + b) over the transition
    let (mut sw, mut swx, mut swy, mut swxx, mut swxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut used = 0;
    for i in 0..d.len() {
        let m = 2.0 * p[i] - 1.0;
        if m.abs() < 0.9 {
            let w = d.n[i] * (1.0 - m * m);
            let (x, y) = (d.h[i], m.atanh());
            sw += w;
            swx += w * x;
            swy += w * y;
            swxx += w * x * x;
            swxy += w * x * y;
            used += 1;
        }
    }
    let den = sw * swxx - swx * swx;
    let mut beta = if used >= 2 && den > 0.0 {
        (sw * swxy - swx * swy) / den
    } else {
        f64::NAN
    };
    if !(beta.is_finite() && beta > 0.0) {
        // steep transition: about one grid step wide
        let step =
            d.h.windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .filter(|s| *s > 0.0)
                .fold(f64::INFINITY, f64::min);
        beta = if step.is_finite() { 2.0 / step } else { 1.0 };
    }
    beta = beta.clamp(1e-3, 1e4);
    // γ: the wrong-state floor on the plateaus (β|h + b| > 4)
    let (mut ws, mut wn) = (0.0, 0.0);
    for i in 0..d.len() {
        let x = d.h[i] + b;
        if beta * x.abs() > 4.0 {
            let wrong = if x > 0.0 { d.n[i] - d.k[i] } else { d.k[i] };
            ws += wrong;
            wn += d.n[i];
        }
    }
    let gamma = if wn > 0.0 {
        let eps = (ws / wn).clamp(1e-6, 0.4);
        ((1.0 - 2.0 * eps).powi(-2) - 1.0).sqrt()
    } else {
        0.05
    };
    Params::new(beta, b, gamma.max(1e-3), 0.05 / beta)
}

/// Starting points for `model`: the data-driven guess first, then fixed alternatives. Parameters the
/// model does not fit are zero.
pub fn starts(model: Model, guess: &Params) -> Vec<Params> {
    let g = *guess;
    let raw = [
        g,
        Params::new(g.beta * 1.5, g.b, 0.1, 0.8 / g.beta),
        Params::new(g.beta, g.b, g.gamma, 0.02),
        Params::new(g.beta / 1.5, g.b, 0.01, 0.002),
    ];
    let mut out: Vec<Params> = Vec::new();
    for s in raw {
        let mut a = s.to_array();
        for p in Param::ALL {
            if !model.fits(p) {
                a[p.index()] = 0.0;
            }
        }
        let p = Params::from_array(a);
        if !out.iter().any(|q| q == &p) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{p_down, NoiseKind};

    #[test]
    fn guess_is_close_on_clean_data() {
        let truth = Params::new(8.0, 0.02, 0.1, 0.0);
        let d = QubitCounts::from_triples((0..81).map(|i| {
            let h = -1.0 + 0.025 * i as f64;
            (
                h,
                (p_down(NoiseKind::TwoPoint, &truth, h) * 1e6).round() as u32,
                1_000_000,
            )
        }));
        let g = data_guess(&d);
        assert!((g.beta / 8.0 - 1.0).abs() < 0.15, "{g:?}");
        assert!(
            (g.b - 0.02).abs() < 0.005 && (g.gamma - 0.1).abs() < 0.02,
            "{g:?}"
        );
        assert_eq!(starts(Model::Gibbs, &g).len(), 3);
    }
}
