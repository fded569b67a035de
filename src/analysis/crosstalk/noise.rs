//! The call-to-call noise term of the crosstalk null (docs/analysis.md, "Crosstalk"): reads of one call
//! share the call's quasi-static field-noise draw (physics.md §3.5), so a qubit's magnetisation varies
//! between calls by `v_h` on top of the binomial variance. The exact within-call null
//! ([`super::row`]) needs none of this; it enters only where the pair's reads cannot be split into
//! calls (the pair saw the same field in some of the qubit's calls only, or a block holds several calls).
//!
//! Field noise of variance s² per call moves m by `m'(h) δ`, so `v_h = m'(h)² s²`; s² is set per qubit
//! so that the implied over-dispersion matches the fit's measured one,
//! `φ − 1 = mean_h[(r − 1) v_h / σ_h²]` (`m'` from the fitted response, `σ² = 1 − m²`, r reads per
//! call), then shrunk towards the chip median with a weight of [`NOISE_PRIOR_DOF`] degrees of freedom
//! against the fit's own (a dispersion from a few h values is noisy). Without a fit or with φ ≤ 1,
//! `v = 0`.

use crate::model::{response, NoiseKind, Order, Params};
use crate::sweep::Sweep;
use rayon::prelude::*;

/// What the null variance needs to know about one qubit's call-to-call noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QubitNoise {
    /// Noise kind of the fitted model.
    pub kind: NoiseKind,
    /// Fitted parameters (the shape of the response, hence of `m'(h)`).
    pub params: Params,
    /// The fit's dispersion φ = Pearson χ²/dof (how over-dispersed the counts are).
    pub dispersion: f64,
    /// Degrees of freedom of φ (h values with reads − fitted parameters).
    pub dof: f64,
}

/// Per-qubit call-to-call noise (aligned with the sweep's qubits).
#[derive(Clone, Debug, Default)]
pub struct CallNoise {
    /// Reads per call (programming cycle); `None`: every per-call block (every h without blocks) is one
    /// call.
    pub reads_per_call: Option<f64>,
    /// Per sweep column; `None` where the fit failed or is absent (then no call-to-call term).
    pub qubits: Vec<Option<QubitNoise>>,
}

/// Weight, in degrees of freedom, of the chip median field-noise variance in each qubit's estimate.
pub const NOISE_PRIOR_DOF: f64 = 10.0;

/// The shape `m'(h)²` of one qubit's call-to-call variance at every h, and its unscaled estimate of the
/// field noise variance per call, `s² = (φ − 1) / mean_h[(r − 1) m'(h)² / σ_h²]` (`None` without excess
/// dispersion or slope).
pub fn noise_shape(
    sweep: &Sweep,
    iq: usize,
    noise: &QubitNoise,
    reads_per_call: Option<f64>,
) -> (Vec<f64>, Option<f64>) {
    let n_h = sweep.h.len();
    let mut slope2 = vec![0.0; n_h];
    let (mut acc, mut points) = (0.0, 0usize);
    for (ih, &h) in sweep.h.iter().enumerate() {
        let (k, n) = sweep.counts.get(ih, iq);
        if n == 0 {
            continue;
        }
        let r = response(noise.kind, &noise.params, h, Order::Gradient);
        let dm = 2.0 * r.dp[1]; // ∂m/∂b = ∂m/∂h up to the γh term
        slope2[ih] = dm * dm;
        let m = 1.0 - 2.0 * f64::from(k) / f64::from(n);
        let sigma2 = (1.0 - m * m).max(1e-12);
        let calls = reads_per_call
            .unwrap_or(f64::from(n))
            .clamp(1.0, f64::from(n));
        acc += (calls - 1.0) * slope2[ih] / sigma2;
        points += 1;
    }
    let excess = (noise.dispersion - 1.0).max(0.0);
    if points == 0 || acc.is_nan() || acc <= 0.0 {
        return (slope2, None);
    }
    (slope2, Some(excess * points as f64 / acc))
}

/// The field-noise variance s² of one qubit measured from its per-call blocks, and its degrees of
/// freedom. With `K` blocks at h (block b: `n_b` reads of `k_b` calls, `r_b = n_b / k_b`, magnetisation
/// `x_b`), `Q_h = Σ_b n_b (x_b − x̄)²` has expectation `(K − 1)(1 − x̄²) + v_h [Σ_b r_b (1 − n_b/N) − (K − 1)]`,
/// so with `v_h = g_h s²` (`g = m'(h)²`)
///
/// ```text
/// s² = Σ_h [Q_h − (K_h − 1)(1 − x̄_h²)] / Σ_h g_h [Σ_b r_b (1 − n_b/N) − (K_h − 1)]
/// ```
///
/// (clamped at 0), with `Σ_h (K_h − 1) g_h)² / Σ_h (K_h − 1) g_h²` effective degrees of freedom. `None`
/// without two blocks at any h where the response has a slope.
pub fn block_noise(
    sweep: &Sweep,
    iq: usize,
    shape: &[f64],
    reads_per_call: Option<f64>,
) -> Option<(f64, f64)> {
    let (mut num, mut den, mut g1, mut g2) = (0.0, 0.0, 0.0, 0.0);
    for (ih, &g) in shape.iter().enumerate() {
        let (down, total) = sweep.counts.get(ih, iq);
        if total == 0 || g <= 0.0 {
            continue;
        }
        let nt = f64::from(total);
        let xbar = 1.0 - 2.0 * f64::from(down) / nt;
        let (mut q, mut k, mut reach) = (0.0, 0.0, 0.0);
        for b in &sweep.blocks {
            let (d, n) = b.get(ih, iq);
            if n == 0 {
                continue;
            }
            let nb = f64::from(n);
            let x = 1.0 - 2.0 * f64::from(d) / nb;
            q += nb * (x - xbar) * (x - xbar);
            let calls = reads_per_call.map_or(1.0, |r| (nb / r).round().max(1.0));
            reach += nb / calls * (1.0 - nb / nt);
            k += 1.0;
        }
        if k < 2.0 {
            continue;
        }
        num += q - (k - 1.0) * (1.0 - xbar * xbar);
        den += g * (reach - (k - 1.0));
        g1 += (k - 1.0) * g;
        g2 += (k - 1.0) * g * g;
    }
    (den > 0.0 && g2 > 0.0 && num.is_finite()).then(|| ((num / den).max(0.0), g1 * g1 / g2))
}

/// Call-to-call variances `v_h = m'(h)² s²` of every sweep column, s² from the qubit's per-call blocks
/// when the sweep keeps them ([`block_noise`]), else from the fit's dispersion ([`noise_shape`]). Each
/// qubit's s² is shrunk towards the chip median, `(dof s²_q + D s²_med)/(dof + D)` with D =
/// [`NOISE_PRIOR_DOF`]: an estimate from few h values is too noisy to set one qubit's null variance alone.
pub fn call_variance_table(sweep: &Sweep, noise: &CallNoise) -> Vec<Vec<f64>> {
    /// Shape m'(h)², unscaled s², and its degrees of freedom.
    type Shape = (Vec<f64>, Option<f64>, f64);
    let shapes: Vec<Option<Shape>> = (0..sweep.qubits.len())
        .into_par_iter()
        .map(|iq| {
            let qn = noise.qubits.get(iq).copied().flatten()?;
            let (shape, s2) = noise_shape(sweep, iq, &qn, noise.reads_per_call);
            if sweep.blocks.len() >= 2 {
                let est = block_noise(sweep, iq, &shape, noise.reads_per_call);
                return Some(match est {
                    Some((s2, dof)) => (shape, Some(s2), dof),
                    None => (shape, None, 0.0),
                });
            }
            Some((shape, s2, qn.dof.max(0.0)))
        })
        .collect();
    let s2_med =
        crate::analysis::stats::median(shapes.iter().flatten().filter_map(|s| s.1)).unwrap_or(0.0);
    shapes
        .into_iter()
        .map(|s| match s {
            Some((shape, Some(s2), dof)) => {
                let shrunk = (dof * s2 + NOISE_PRIOR_DOF * s2_med) / (dof + NOISE_PRIOR_DOF);
                shape.iter().map(|d| d * shrunk).collect()
            }
            Some((shape, None, _)) => vec![0.0; shape.len()],
            None => vec![0.0; sweep.h.len()],
        })
        .collect()
}

/// Call-to-call variance of m at every h for one qubit on its own (no shrinkage).
pub fn call_variances(
    sweep: &Sweep,
    iq: usize,
    noise: &QubitNoise,
    reads_per_call: Option<f64>,
) -> Vec<f64> {
    match noise_shape(sweep, iq, noise, reads_per_call) {
        (shape, Some(s2)) => shape.iter().map(|d| d * s2).collect(),
        (shape, None) => vec![0.0; shape.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_variances_reproduce_the_dispersion() {
        use crate::sweep::{CountMatrix, SweepMeta, SweepSource};
        let h: Vec<f64> = (-4..=4).map(|i| f64::from(i) * 0.05).collect();
        let params = Params::new(6.0, 0.0, 0.0, 0.01);
        let mut counts = CountMatrix::zeros(h.len(), 1);
        for (i, &x) in h.iter().enumerate() {
            counts.down[i] =
                (1e4 * crate::model::p_down(NoiseKind::TwoPoint, &params, x)).round() as u32;
            counts.reads[i] = 10_000;
        }
        let sweep = Sweep {
            meta: SweepMeta::new(SweepSource::Simulated),
            h: h.clone(),
            qubits: vec![0],
            counts,
            blocks: Vec::new(),
            pairs: None,
        };
        let qn = QubitNoise {
            kind: NoiseKind::TwoPoint,
            params,
            dof: 6.0,
            dispersion: 3.0,
        };
        let v = call_variances(&sweep, 0, &qn, Some(1000.0));
        let implied: f64 = h
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let m = 1.0 - 2.0 * f64::from(sweep.counts.down[i]) / 1e4;
                999.0 * v[i] / (1.0 - m * m)
            })
            .sum::<f64>()
            / h.len() as f64;
        assert!((implied - 2.0).abs() < 1e-9, "{implied}");
        assert!(v[4] > v[0], "largest at the transition");
        let none = QubitNoise {
            dispersion: 0.9,
            ..qn
        };
        assert!(call_variances(&sweep, 0, &none, Some(1000.0))
            .iter()
            .all(|&x| x == 0.0));
    }
}
