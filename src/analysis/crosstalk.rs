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
//! `σ² = 1 − m²` is the per-read variance; `v` the variance of a qubit's magnetisation between programming
//! cycles from quasi-static field noise (the fit's η or σ: `v = ((m(h; b+η) − m(h; b−η))/2)²` for the
//! two-point model; physics.md §3.5), `r` the reads per call, so reads of one call share their noise draw;
//! `f = n / N` the share of the qubit's reads at h that are pair reads (pairs recorded only in calls where
//! both qubits saw the same physical field use marginals from more reads than the pair). Without a fit or
//! with η = 0, `v = 0`; without a recorded call size, one call per h (the conservative choice).
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
//! `corr = −K̂` is the correlation coefficient the pair would show at m = 0 (where `ρ = −tanh K` exactly),
//! and `J_eff = −atanh(corr)/β` with `β = sqrt(β_u β_v)` from the fit (physics.md §5), in h units.
//! p-values are two-sided normal; a coupler is detected when its BH q-value is at most the FDR level.

use super::stats::{bh_adjust, normal_two_sided};
use crate::model::response::gauss_hermite_normal;
use crate::model::{p_down, NoiseKind, Params};
use crate::sweep::Sweep;
use crate::topology::Topology;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Default false discovery rate of the detection.
pub const DEFAULT_FDR: f64 = 0.10;

/// Per-qubit model of the call-to-call noise (aligned with the sweep's qubits).
#[derive(Clone, Debug, Default)]
pub struct CallNoise {
    /// Reads per call (programming cycle); `None`: every h is one call.
    pub reads_per_call: Option<f64>,
    /// Fitted parameters and noise kind per sweep column; `None` where the fit failed or is absent.
    pub params: Vec<Option<(NoiseKind, Params)>>,
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
    /// Pooled correlation coefficient at m = 0 (dimensionless, −1..1): `−K̂`.
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
    /// Whether the call-to-call noise term used fitted η (true when a fit was given).
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
}

/// Per-read variance of s and call-to-call variance of m at field h.
fn qubit_moments(
    down: u32,
    reads: u32,
    noise: Option<&(NoiseKind, Params)>,
    h: f64,
) -> (f64, f64, f64) {
    let m = 1.0 - 2.0 * f64::from(down) / f64::from(reads);
    let sigma2 = (1.0 - m * m).max(0.0);
    let v = noise
        .map_or(0.0, |(kind, p)| call_variance(*kind, p, h))
        .min(sigma2);
    (m, sigma2, v)
}

/// Variance of a qubit's magnetisation between calls (the noise branch fixed per call).
pub fn call_variance(kind: NoiseKind, p: &Params, h: f64) -> f64 {
    let m_at = |shift: f64| {
        let q = Params::new(p.beta, p.b + shift, p.gamma, 0.0);
        2.0 * p_down(NoiseKind::TwoPoint, &q, h) - 1.0
    };
    if p.eta == 0.0 {
        return 0.0;
    }
    match kind {
        NoiseKind::TwoPoint => {
            let d = 0.5 * (m_at(p.eta) - m_at(-p.eta));
            d * d
        }
        NoiseKind::Gaussian => {
            let (mut s1, mut s2) = (0.0, 0.0);
            for &(z, w) in gauss_hermite_normal() {
                let m = m_at(p.eta * z);
                s1 += w * m;
                s2 += w * m * m;
            }
            (s2 - s1 * s1).max(0.0)
        }
    }
}

struct Pooled {
    num: f64,
    info: f64,
    n_h: usize,
    reads: u64,
    by_h: Vec<Option<f64>>,
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
    let nc = pairs.couplers.len();
    let hs: Vec<usize> = (0..sweep.h.len())
        .filter(|&ih| config.h_max.is_none_or(|m| sweep.h[ih].abs() <= m + 1e-12))
        .collect();
    let col = |q: u32| sweep.column_of(q);
    let pooled: Vec<Option<Pooled>> = (0..nc)
        .into_par_iter()
        .map(|c| {
            let (qu, qv) = pairs.couplers[c];
            let (iu, iv) = (col(qu)?, col(qv)?);
            let mut acc = Pooled {
                num: 0.0,
                info: 0.0,
                n_h: 0,
                reads: 0,
                by_h: Vec::new(),
            };
            for &ih in &hs {
                let rho = coupler_cell(sweep, noise, ih, (c, nc), (iu, iv), &mut acc);
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
        let z = acc.num / acc.info.sqrt();
        let k_lin = -acc.num / acc.info;
        let se_lin = 1.0 / acc.info.sqrt();
        let corr = k_lin.clamp(-1.0 + 1e-12, 1.0 - 1e-12) * -1.0;
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
        out.push(CouplerCrosstalk {
            u,
            v,
            class: topology
                .and_then(|t| t.edge_class(u, v))
                .map(|k| k.name().to_string()),
            n_h: acc.n_h,
            reads: acc.reads,
            corr,
            corr_se: se_lin,
            z,
            j_eff: b.map(|b| -corr.atanh() / b),
            j_eff_se: b.map(|b| se_lin / (1.0 - corr * corr) / b),
            p: p[c].unwrap_or(1.0),
            q: qv,
            detected: qv <= config.fdr,
            corr_by_h: acc.by_h,
        });
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
        call_noise_from_fit: noise.params.iter().any(Option::is_some),
        ks_uniform_d: d,
        ks_uniform_p: ks_p,
    };
    Ok((out, summary))
}

/// Adds one (h, coupler) cell to the pooled sums; returns ρ_h.
fn coupler_cell(
    sweep: &Sweep,
    noise: &CallNoise,
    ih: usize,
    (c, nc): (usize, usize),
    (iu, iv): (usize, usize),
    acc: &mut Pooled,
) -> Option<f64> {
    let pairs = sweep.pairs.as_ref()?;
    let (a, n) = (pairs.agree[ih * nc + c], pairs.reads[ih * nc + c]);
    let (du, nu) = sweep.counts.get(ih, iu);
    let (dv, nv) = sweep.counts.get(ih, iv);
    if n == 0 || nu == 0 || nv == 0 {
        return None;
    }
    let h = sweep.h[ih];
    let (mu, su, vu) = qubit_moments(du, nu, noise.params.get(iu).and_then(Option::as_ref), h);
    let (mv, sv, vv) = qubit_moments(dv, nv, noise.params.get(iv).and_then(Option::as_ref), h);
    let nf = f64::from(n);
    let r = noise.reads_per_call.unwrap_or(nf).clamp(1.0, nf);
    let fu = (nf / f64::from(nu)).min(1.0);
    let fv = (nf / f64::from(nv)).min(1.0);
    let var = (su * sv
        + (r - 1.0) * vu * vv
        + (1.0 - fu) * mv * mv * (su + (r - 1.0) * vu)
        + (1.0 - fv) * mu * mu * (sv + (r - 1.0) * vv))
        / nf;
    let w = (su - vu).max(0.0) * (sv - vv).max(0.0);
    if !(var > 0.0) || !(w > 0.0) {
        return None;
    }
    let cval = (2.0 * f64::from(a) / nf - 1.0) - mu * mv;
    acc.num += cval * w / var;
    acc.info += w * w / var;
    acc.n_h += 1;
    acc.reads += u64::from(n);
    Some(cval / (su * sv).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_variance_of_the_two_point_model() {
        // b = γ = 0 at h = 0: m(±η) = ±tanh(βη), so v = tanh²(βη).
        let p = Params::new(6.0, 0.0, 0.0, 0.01);
        let v = call_variance(NoiseKind::TwoPoint, &p, 0.0);
        assert!((v - (0.06f64).tanh().powi(2)).abs() < 1e-15);
        assert_eq!(
            call_variance(NoiseKind::TwoPoint, &Params::new(6.0, 0.0, 0.0, 0.0), 0.0),
            0.0
        );
        let g = call_variance(NoiseKind::Gaussian, &p, 0.0);
        assert!((g / v - 1.0).abs() < 0.02, "{g} vs {v}");
    }
}
