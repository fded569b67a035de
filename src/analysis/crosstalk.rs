//! Cross-qubit sample correlations on couplers (docs/physics.md §5): the connected correlation of each
//! coupler's two qubits at every h, pooled over h into one test of independence, the equivalent spurious
//! coupling J_eff, and detection with Benjamini–Hochberg control.
//!
//! Input: the sweep's per-(h, coupler) agree counts `a` out of `n` pair reads (from raw reads or recorded
//! on hardware) and the per-qubit counts at the same h. With `m = <s> = 1 − 2 down/reads`:
//!
//! ```text
//! C_h = (2a/n − 1) − m_u m_v                                     connected correlation at h
//! ρ_h = C_h / sqrt((1 − m_u²)(1 − m_v²))                          correlation coefficient at h (reported)
//! ```
//!
//! **Null variance.** Under independence `C_h ≈ N(0, V_h)` with
//!
//! ```text
//! V_h = [σ_u² σ_v² + (r − 1) v_u v_v + (1 − f_u) m_v² (σ_u² + (r − 1) v_u) + (1 − f_v) m_u² (σ_v² + (r − 1) v_v)] / n
//! ```
//!
//! `σ² = 1 − m²` is the per-read variance, `r` the reads per call (reads of one call share the call's
//! quasi-static field-noise draw, physics.md §3.5), `v` the variance of a qubit's magnetisation between
//! calls, and `f = n / N` the share of the qubit's reads at h that are pair reads (pairs recorded only in
//! calls where both qubits saw the same physical field use marginals from more reads than the pair).
//! Field noise of variance s² per call moves m by `m'(h) δ`, so `v_h = m'(h)² s²`; s² is set per qubit so
//! that the implied over-dispersion matches the fit's measured one,
//! `φ − 1 = mean_h[(r − 1) v_h / σ_h²]` (`m'` from the fitted response), then shrunk towards the chip
//! median with a weight of 10 degrees of freedom against the fit's own (a dispersion from a few h values is
//! noisy). This uses the measured dispersion rather than the often unresolved η. Without a fit or with
//! φ ≤ 1, `v = 0`; without a recorded call size, one call per h (conservative).
//!
//! **Pooling.** A small coupling K (energy `K s_u s_v` in units of the thermal scale; J > 0 favours
//! anti-alignment, D-Wave's sign convention) gives `C_h ≈ −K w_h` with `w_h = (σ_u² − v_u)(σ_v² − v_v)`. The
//! score test pools the h values optimally:
//!
//! ```text
//! z = Σ_h (C_h w_h / V_h) / sqrt(Σ_h w_h² / V_h)       ~ N(0, 1) under independence
//! K̂ = −Σ_h (C_h w_h / V_h) / Σ_h (w_h² / V_h),   se(K̂) = 1 / sqrt(Σ_h w_h² / V_h)
//! ```
//!
//! The coupling itself: where the pair's 2×2 table is complete (pair reads = each qubit's reads, as with
//! raw reads or ungauged pair counts), K̂ comes from the inverse-variance pooled log odds ratio,
//! `ln(n₋₋ n₊₊ / (n₋₊ n₊₋)) = −4K` (exact for an Ising pair at any strength and field); otherwise from the
//! score estimate, `K̂ = atanh(−Σ C w/V / Σ w²/V)`. `corr = −tanh K̂` is the correlation the pair shows at
//! m = 0 and `J_eff = −atanh(corr)/β = K̂/β` with `β = sqrt(β_u β_v)` from the fit (physics.md §5), in h
//! units.
//! p-values are two-sided normal; a coupler is detected when its BH q-value is at most the FDR level.

use super::stats::{bh_adjust, normal_two_sided};
use crate::model::{response, NoiseKind, Order, Params};
use crate::sweep::Sweep;
use crate::topology::Topology;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Default false discovery rate of the detection.
pub const DEFAULT_FDR: f64 = 0.10;

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
    /// Reads per call (programming cycle); `None`: every h is one call.
    pub reads_per_call: Option<f64>,
    /// Per sweep column; `None` where the fit failed or is absent (then no call-to-call term).
    pub qubits: Vec<Option<QubitNoise>>,
}

/// Settings of the crosstalk analysis.
#[derive(Clone, Debug)]
pub struct CrosstalkConfig {
    /// Use only h values with |h| ≤ this (h units); `None`: all.
    pub h_max: Option<f64>,
    /// False discovery rate of the detection.
    pub fdr: f64,
    /// Keep the per-h correlation coefficients in the result.
    pub per_h: bool,
}

impl Default for CrosstalkConfig {
    fn default() -> Self {
        CrosstalkConfig {
            h_max: None,
            fdr: DEFAULT_FDR,
            per_h: false,
        }
    }
}

/// The crosstalk result of one coupler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CouplerCrosstalk {
    pub u: u32,
    pub v: u32,
    /// Coupler class (`internal`, `external`, `odd`) when the topology is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// h values with pair data that entered the pooled test.
    pub n_h: usize,
    /// Pair reads over those h values.
    pub reads: u64,
    /// Pooled correlation coefficient at m = 0 (dimensionless, −1..1): `−tanh K̂`.
    pub corr: f64,
    /// Its standard error under independence.
    pub corr_se: f64,
    /// Pooled score statistic, N(0, 1) under independence.
    pub z: f64,
    /// Equivalent spurious coupling in h units (J > 0 favours anti-alignment); `None` without a β.
    pub j_eff: Option<f64>,
    pub j_eff_se: Option<f64>,
    /// Two-sided p-value of z.
    pub p: f64,
    /// Benjamini–Hochberg q-value over all couplers with data.
    pub q: f64,
    /// q ≤ the FDR level.
    pub detected: bool,
    /// Correlation coefficient ρ_h per h of `CrosstalkSummary::h` (only when asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corr_by_h: Vec<Option<f64>>,
}

/// What the crosstalk analysis did, for the reader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrosstalkSummary {
    pub definition: String,
    /// h values used (h units).
    pub h: Vec<f64>,
    /// FDR level of the detection.
    pub fdr: f64,
    /// Couplers with pair counts, and with data in the h range.
    pub n_couplers: usize,
    pub n_tested: usize,
    pub n_detected: usize,
    /// Reads per call assumed in the null variance (`None`: one call per h).
    pub reads_per_call: Option<f64>,
    /// Whether the call-to-call noise term used the fit (its dispersion and response shape).
    pub call_noise_from_fit: bool,
    /// Kolmogorov–Smirnov distance of the p-values from uniform and its p-value (a check of the null
    /// when few couplers are coupled).
    pub ks_uniform_d: f64,
    pub ks_uniform_p: f64,
}

/// Errors of the crosstalk analysis.
#[derive(Debug, thiserror::Error)]
pub enum CrosstalkError {
    #[error("the sweep has no pair counts: record them (`qasa simulate --pairs`, raw reads, or a dimod file with --topology) to analyse crosstalk")]
    NoPairs,
    #[error("the sweep is inconsistent: {0}")]
    InvalidSweep(#[source] crate::sweep::CheckError),
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

/// Call-to-call variances `v_h = m'(h)² s²` of every sweep column. Each qubit's s² is shrunk towards the
/// chip median, `(dof s²_q + D s²_med)/(dof + D)` with D = [`NOISE_PRIOR_DOF`]: a dispersion from few h
/// values is too noisy to set one qubit's null variance alone.
pub fn call_variance_table(sweep: &Sweep, noise: &CallNoise) -> Vec<Vec<f64>> {
    /// Shape m'(h)², unscaled s², and the dof of the qubit's dispersion.
    type Shape = (Vec<f64>, Option<f64>, f64);
    let shapes: Vec<Option<Shape>> = (0..sweep.qubits.len())
        .into_par_iter()
        .map(|iq| {
            let qn = noise.qubits.get(iq).copied().flatten()?;
            let (shape, s2) = noise_shape(sweep, iq, &qn, noise.reads_per_call);
            Some((shape, s2, qn.dof.max(0.0)))
        })
        .collect();
    let s2_med = super::stats::median(shapes.iter().flatten().filter_map(|s| s.1)).unwrap_or(0.0);
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

#[derive(Default)]
struct Pooled {
    /// Score-test sums Σ C w / V and Σ w² / V.
    num: f64,
    info: f64,
    /// Inverse-variance sums of the log odds ratio over h values with a complete 2×2 table.
    psi: f64,
    psi_w: f64,
    n_h: usize,
    reads: u64,
    by_h: Vec<Option<f64>>,
}

/// Marginal and call-noise inputs of one qubit at one h.
struct Marginal {
    down: u32,
    reads: u32,
    /// Call-to-call variance of m.
    v: f64,
}

/// The per-coupler crosstalk of a sweep with pair counts; `beta` per sweep column (for J_eff), `noise`
/// for the call-to-call term.
pub fn crosstalk(
    sweep: &Sweep,
    beta: &[Option<f64>],
    noise: &CallNoise,
    topology: Option<&Topology>,
    config: &CrosstalkConfig,
) -> Result<(Vec<CouplerCrosstalk>, CrosstalkSummary), CrosstalkError> {
    let pairs = sweep.pairs.as_ref().ok_or(CrosstalkError::NoPairs)?;
    crate::sweep::check(sweep).map_err(CrosstalkError::InvalidSweep)?;
    let nc = pairs.couplers.len();
    let hs: Vec<usize> = (0..sweep.h.len())
        .filter(|&ih| config.h_max.is_none_or(|m| sweep.h[ih].abs() <= m + 1e-12))
        .collect();
    let col = |q: u32| sweep.column_of(q);
    let v_table = call_variance_table(sweep, noise);
    let marginal = |ih: usize, iq: usize| {
        let (down, reads) = sweep.counts.get(ih, iq);
        Marginal {
            down,
            reads,
            v: v_table[iq][ih],
        }
    };
    let pooled: Vec<Option<Pooled>> = (0..nc)
        .into_par_iter()
        .map(|c| {
            let (qu, qv) = pairs.couplers[c];
            let (iu, iv) = (col(qu)?, col(qv)?);
            let mut acc = Pooled::default();
            for &ih in &hs {
                let cell = (pairs.agree[ih * nc + c], pairs.reads[ih * nc + c]);
                let rho = add_cell(
                    cell,
                    &marginal(ih, iu),
                    &marginal(ih, iv),
                    noise.reads_per_call,
                    &mut acc,
                );
                if config.per_h {
                    acc.by_h.push(rho);
                }
            }
            (acc.info > 0.0).then_some(acc)
        })
        .collect();
    let p: Vec<Option<f64>> = pooled
        .iter()
        .map(|a| a.as_ref().map(|a| normal_two_sided(a.num / a.info.sqrt())))
        .collect();
    let q = bh_adjust(&p);
    let mut out = Vec::new();
    for (c, acc) in pooled.into_iter().enumerate() {
        let Some(acc) = acc else { continue };
        let (u, v) = pairs.couplers[c];
        let b = match (col(u), col(v)) {
            (Some(a), Some(b)) => beta
                .get(a)
                .copied()
                .flatten()
                .zip(beta.get(b).copied().flatten())
                .map(|(x, y)| (x * y).sqrt())
                .filter(|b| *b > 0.0),
            _ => None,
        };
        let qv = q[c].unwrap_or(1.0);
        out.push(coupler_result(
            (u, v),
            &acc,
            b,
            p[c].unwrap_or(1.0),
            qv,
            config,
            topology,
        ));
    }
    let pv: Vec<f64> = out.iter().map(|c| c.p).collect();
    let (d, ks_p) = super::stats::ks_uniform(&pv);
    let summary = CrosstalkSummary {
        definition:
            "pooled connected correlation of each coupler's qubits at J = 0, score test of \
                     independence over h, J_eff = -atanh(corr)/β (J > 0 favours anti-alignment), \
                     Benjamini–Hochberg detection"
                .into(),
        h: hs.iter().map(|&ih| sweep.h[ih]).collect(),
        fdr: config.fdr,
        n_couplers: nc,
        n_tested: out.len(),
        n_detected: out.iter().filter(|c| c.detected).count(),
        reads_per_call: noise.reads_per_call,
        call_noise_from_fit: noise.qubits.iter().any(Option::is_some),
        ks_uniform_d: d,
        ks_uniform_p: ks_p,
    };
    Ok((out, summary))
}

/// The result of one coupler from its pooled sums: the coupling K from the pooled log odds ratio when
/// complete tables exist (exact for a pair at any strength), else from the linear score estimate.
fn coupler_result(
    (u, v): (u32, u32),
    acc: &Pooled,
    beta: Option<f64>,
    p: f64,
    q: f64,
    config: &CrosstalkConfig,
    topology: Option<&Topology>,
) -> CouplerCrosstalk {
    let z = acc.num / acc.info.sqrt();
    let k_lin = (-acc.num / acc.info).clamp(-1.0 + 1e-12, 1.0 - 1e-12);
    let se_lin = 1.0 / acc.info.sqrt();
    let (k, k_se) = if acc.psi_w > 0.0 {
        (-acc.psi / acc.psi_w / 4.0, 1.0 / (4.0 * acc.psi_w.sqrt()))
    } else {
        (k_lin.atanh(), se_lin / (1.0 - k_lin * k_lin))
    };
    let corr = -k.tanh();
    CouplerCrosstalk {
        u,
        v,
        class: topology
            .and_then(|t| t.edge_class(u, v))
            .map(|k| k.name().to_string()),
        n_h: acc.n_h,
        reads: acc.reads,
        corr,
        corr_se: k_se * (1.0 - corr * corr),
        z,
        j_eff: beta.map(|b| k / b),
        j_eff_se: beta.map(|b| k_se / b),
        p,
        q,
        detected: q <= config.fdr,
        corr_by_h: acc.by_h.clone(),
    }
}

/// Adds one (h, coupler) cell `(agree, pair reads)` to the pooled sums; returns ρ_h.
fn add_cell(
    (a, n): (u32, u32),
    mu: &Marginal,
    mv: &Marginal,
    reads_per_call: Option<f64>,
    acc: &mut Pooled,
) -> Option<f64> {
    if n == 0 || mu.reads == 0 || mv.reads == 0 {
        return None;
    }
    let m_of = |m: &Marginal| 1.0 - 2.0 * f64::from(m.down) / f64::from(m.reads);
    let (xu, xv) = (m_of(mu), m_of(mv));
    let (su, sv) = ((1.0 - xu * xu).max(0.0), (1.0 - xv * xv).max(0.0));
    let (vu, vv) = (mu.v.min(su), mv.v.min(sv));
    let nf = f64::from(n);
    let r = reads_per_call.unwrap_or(nf).clamp(1.0, nf);
    let fu = (nf / f64::from(mu.reads)).min(1.0);
    let fv = (nf / f64::from(mv.reads)).min(1.0);
    let var = (su * sv
        + (r - 1.0) * vu * vv
        + (1.0 - fu) * xv * xv * (su + (r - 1.0) * vu)
        + (1.0 - fv) * xu * xu * (sv + (r - 1.0) * vv))
        / nf;
    let w = (su - vu).max(0.0) * (sv - vv).max(0.0);
    if var.is_nan() || var <= 0.0 || w.is_nan() || w <= 0.0 {
        return None;
    }
    let cval = (2.0 * f64::from(a) / nf - 1.0) - xu * xv;
    acc.num += cval * w / var;
    acc.info += w * w / var;
    acc.n_h += 1;
    acc.reads += u64::from(n);
    if n == mu.reads && n == mv.reads {
        // Complete 2×2 table: both down = (d_u + d_v − disagree)/2.
        let (du, dv) = (i64::from(mu.down), i64::from(mv.down));
        let both_down = (du + dv - (i64::from(n) - i64::from(a))) / 2;
        let cells = [
            both_down,
            i64::from(a) - both_down,
            du - both_down,
            dv - both_down,
        ];
        if cells.iter().all(|&x| x > 0) {
            let [dd, uu, du_, ud] = cells.map(|x| x as f64);
            let psi = (dd * uu / (du_ * ud)).ln();
            let w_psi = 1.0 / (1.0 / dd + 1.0 / uu + 1.0 / du_ + 1.0 / ud);
            acc.psi += psi * w_psi;
            acc.psi_w += w_psi;
        }
    }
    Some(cval / (su * sv).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_odds_recovers_a_strong_coupling_from_an_exact_table() {
        // P(s_u, s_v) ∝ exp(-K s_u s_v) with K = 0.6 and no fields, 10^6 reads in expectation.
        let k: f64 = 0.6;
        let (same, diff) = ((-k).exp(), k.exp());
        let z = 2.0 * (same + diff);
        let n = 1_000_000.0;
        let dd = (n * same / z).round() as u32;
        let du = (n * diff / z).round() as u32;
        let reads = 2 * dd + 2 * du;
        let m = Marginal {
            down: dd + du,
            reads,
            v: 0.0,
        };
        let mut acc = Pooled::default();
        let rho = add_cell((2 * dd, reads), &m, &m, None, &mut acc).unwrap();
        assert!((rho + k.tanh()).abs() < 1e-5, "ρ = -tanh K at m = 0: {rho}");
        let cfg = CrosstalkConfig::default();
        let r = coupler_result((1, 2), &acc, Some(6.0), 0.0, 0.0, &cfg, None);
        assert!((r.j_eff.unwrap() - k / 6.0).abs() < 1e-5, "{:?}", r.j_eff);
        assert!((r.corr + k.tanh()).abs() < 1e-5);
        assert!(r.z < -100.0, "J > 0: anti-aligned, negative correlation");
    }

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
