//! Cross-qubit sample correlations on couplers (docs/physics.md §5): the connected correlation of each
//! coupler's two qubits at every h, pooled over h into one test of independence, the equivalent spurious
//! coupling J_eff, and detection with Benjamini–Hochberg control.
//!
//! Input: the sweep's per-(h, coupler) agree counts `a` out of `n` pair reads (from raw reads or recorded
//! on hardware), the per-qubit counts at the same h and, when kept, their per-call blocks. Each row
//! (h value) gives a connected correlation `C_h`, its response `w_h` to a small coupling and its variance
//! `V_h` under independence ([`row`]): exact within calls where the pair's table is complete, with a
//! modelled call-to-call term ([`noise`]) where it is not.
//!
//! **Pooling.** A small coupling K (energy `K s_u s_v` in units of the thermal scale; J > 0 favours
//! anti-alignment, D-Wave's sign convention) gives `C_h ≈ −K w_h`. The score test pools the h values
//! optimally:
//!
//! ```text
//! S = Σ_h C_h w_h / V_h,   I = Σ_h w_h² / V_h,   z = S / sqrt(Var₀ S)     ~ N(0, 1) under independence
//! ```
//!
//! **Why per-call noise needs care.** Every call draws its own field offset per qubit (physics.md §3.5),
//! so the magnetisations of two independent qubits move together from call to call by chance: pooled
//! over a few calls, their reads correlate with variance `(r − 1) v_u v_v / n` on top of the binomial
//! `σ_u² σ_v² / n` (r reads per call, v the call-to-call variance of m). Centred on the row's
//! marginals with a wrong v, these chance correlations look like couplings (a mean FDP of 11.5 % at a
//! nominal 10 % before this module centred within calls). Two remedies, by what the data allow:
//!
//! - *Complete rows* (the pair was read in the same calls as each qubit alone, and the sweep keeps one
//!   block per call, as `qasa simulate`/`collect` record it): the row is centred within each call
//!   ([`row`]), where the two qubits are exactly independent given the call's counts; `V_h` is then the
//!   hypergeometric variance and needs no noise model. `Var₀ S = I` over these rows.
//! - *Modelled rows* (the pair shares only some of each qubit's calls, as with several spin-reversal
//!   gauges per h; the pair's own marginals are unknown): `V_h` carries the modelled call-to-call term
//!   ([`noise`]), whose error (v is estimated per qubit) is not negligible. Their part of the variance is
//!   set by an **empirical null** (Efron 2004, central matching): with `S_mod`, `I_mod` the modelled
//!   rows' sums of each coupler and `z_mod = S_mod / sqrt(I_mod)`, nearly all couplers are uncoupled, so
//!
//!   ```text
//!   σ₀² = max(1, (median_c |z_mod,c| / Φ⁻¹(3/4))²),     Var₀ S = I_exact + σ₀² I_mod
//!   ```
//!
//!   (the median ignores the few coupled couplers; σ₀² < 1 is not used, so the modelled variance is
//!   only ever widened). Reported as `empirical_null_scale`. A scale cannot fix a null whose error
//!   differs between couplers (v is misestimated qubit by qubit), so modelled rows stay approximate: on
//!   the default demo (five gauges per h, 96 % of rows modelled) σ₀² ≈ 1.34 brings the detections from
//!   1018 to 907 for 806 planted (FDP 0.21 → 0.11), with p-values close to but not exactly uniform.
//!   Pair counts kept per call block would make those rows exact too.
//!
//! **The coupling.** When every row is complete, K̂ solves the common-odds-ratio estimating equation of
//! [`coupling`] (ψ = e^{−4K}, exact for an Ising pair at any strength and field) with every call's own
//! marginals; its standard error `1/(4 sqrt(Σ n W))` is widened by the ratio of the within-call to the
//! total information of those rows when a part holds several calls. Otherwise the score estimate
//! `K̂ = atanh(−S / I)`, `se = sqrt(Var₀ S) / I / (1 − tanh²K̂)`. `corr = −tanh K̂` is the correlation
//! the pair shows at m = 0 and `J_eff = −atanh(corr)/β = K̂/β` with `β = sqrt(β_u β_v)` from the fit
//! (physics.md §5), in h units.
//!
//! p-values are two-sided normal; a coupler is detected when its BH q-value is at most the FDR level.

pub mod coupling;
pub mod noise;
mod row;

use super::stats::{bh_adjust, normal_two_sided};
use crate::sweep::Sweep;
use crate::topology::Topology;
pub use coupling::Part;
pub use noise::{
    call_variance_table, call_variances, noise_shape, CallNoise, QubitNoise, NOISE_PRIOR_DOF,
};
use rayon::prelude::*;
use row::{RowData, RowTerm};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Default false discovery rate of the detection.
pub const DEFAULT_FDR: f64 = 0.10;

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
    /// Reads per call assumed in the null variance (`None`: one call per block, or per h without
    /// blocks).
    pub reads_per_call: Option<f64>,
    /// Share of the tested (coupler, h) rows whose null is exact within calls (complete pair tables);
    /// the rest use the modelled call-to-call term.
    #[serde(default)]
    pub exact_share: f64,
    /// Factor on the null variance of the modelled rows from the empirical null of the chip's couplers
    /// (1: the modelled variance held, or every row is exact).
    #[serde(default = "one")]
    pub empirical_null_scale: f64,
    /// Whether the call-to-call noise term used the fit (its dispersion and response shape).
    pub call_noise_from_fit: bool,
    /// Kolmogorov–Smirnov distance of the p-values from uniform and its p-value (a check of the null
    /// when few couplers are coupled).
    pub ks_uniform_d: f64,
    pub ks_uniform_p: f64,
}

fn one() -> f64 {
    1.0
}

/// Errors of the crosstalk analysis.
#[derive(Debug, thiserror::Error)]
pub enum CrosstalkError {
    #[error("the sweep has no pair counts (per-coupler agreement counts, or raw reads with a hardware graph): no crosstalk analysis")]
    NoPairs,
    #[error("the sweep is inconsistent: {0}")]
    InvalidSweep(#[source] crate::sweep::CheckError),
}

/// Pooled sums of one coupler over its rows.
#[derive(Default)]
struct Pooled {
    /// Score-test sums Σ C w / V and Σ w² / V.
    num: f64,
    info: f64,
    /// Σ w² / V and Σ w² / V_within over the complete rows (the widening of the coupling's SE).
    info_exact: f64,
    info_exact_within: f64,
    /// Σ C w / V and Σ w² / V over the modelled rows (the empirical null's input).
    num_modelled: f64,
    info_modelled: f64,
    /// Variance of `num` under independence: `info` with the modelled rows' part scaled by the
    /// empirical null (set once the scale is known).
    var_num: f64,
    /// Observed agreements and parts of the complete rows (the coupling estimate).
    agree_exact: f64,
    parts: Vec<Part>,
    n_h: usize,
    n_exact: usize,
    reads: u64,
    by_h: Vec<Option<f64>>,
}

impl Pooled {
    fn add(&mut self, t: &RowTerm, (a, n): (u32, u32)) {
        self.num += t.c * t.w / t.var;
        self.info += t.w * t.w / t.var;
        self.n_h += 1;
        self.reads += u64::from(n);
        if t.exact {
            self.info_exact += t.w * t.w / t.var;
            self.info_exact_within += t.w * t.w / t.var_within;
            self.agree_exact += f64::from(a);
            self.n_exact += 1;
        } else {
            self.num_modelled += t.c * t.w / t.var;
            self.info_modelled += t.w * t.w / t.var;
        }
    }

    /// Sets the variance of the score sum with the modelled rows' null variance scaled by `scale2`.
    fn set_null_scale(&mut self, scale2: f64) {
        self.var_num = self.info + (scale2 - 1.0) * self.info_modelled;
    }

    fn z(&self) -> f64 {
        self.num / self.var_num.sqrt()
    }
}

/// Fewest couplers with modelled rows from which the empirical null is estimated.
const MIN_EMPIRICAL_NULL: usize = 50;

/// The empirical null's variance factor of the modelled rows (see the module doc):
/// `max(1, (median_c |z_c,mod| / Φ⁻¹(3/4))²)` over the couplers with modelled rows; 1 when fewer than
/// [`MIN_EMPIRICAL_NULL`] have any.
fn empirical_null_scale(pooled: &[Option<Pooled>]) -> f64 {
    let z: Vec<f64> = pooled
        .iter()
        .flatten()
        .filter(|a| a.info_modelled > 0.0)
        .map(|a| (a.num_modelled / a.info_modelled.sqrt()).abs())
        .collect();
    if z.len() < MIN_EMPIRICAL_NULL {
        return 1.0;
    }
    let q3 = ContinuousCDF::inverse_cdf(&Normal::standard(), 0.75);
    super::stats::median(z).map_or(1.0, |m| (m / q3).powi(2).max(1.0))
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
    let data = RowData {
        sweep,
        v_table: &v_table,
        reads_per_call: noise.reads_per_call,
    };
    let pooled: Vec<Option<Pooled>> = (0..nc)
        .into_par_iter()
        .map(|c| {
            let (qu, qv) = pairs.couplers[c];
            let cols = (col(qu)?, col(qv)?);
            let mut acc = Pooled::default();
            for &ih in &hs {
                let cell = (pairs.agree[ih * nc + c], pairs.reads[ih * nc + c]);
                let term = data.row(ih, cols, cell, &mut acc.parts);
                if let Some(t) = &term {
                    acc.add(t, cell);
                }
                if config.per_h {
                    acc.by_h.push(term.map(|t| t.rho));
                }
            }
            (acc.info > 0.0).then_some(acc)
        })
        .collect();
    let mut pooled = pooled;
    let null_scale = empirical_null_scale(&pooled);
    for acc in pooled.iter_mut().flatten() {
        acc.set_null_scale(null_scale);
    }
    let p: Vec<Option<f64>> = pooled
        .iter()
        .map(|a| a.as_ref().map(|a| normal_two_sided(a.z())))
        .collect();
    let q = bh_adjust(&p);
    let mut out = Vec::new();
    let (mut rows, mut exact_rows) = (0usize, 0usize);
    for (c, acc) in pooled.into_iter().enumerate() {
        let Some(acc) = acc else { continue };
        rows += acc.n_h;
        exact_rows += acc.n_exact;
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
        let tests = (p[c].unwrap_or(1.0), q[c].unwrap_or(1.0));
        out.push(coupler_result((u, v), acc, b, tests, config, topology));
    }
    let pv: Vec<f64> = out.iter().map(|c| c.p).collect();
    let (d, ks_p) = super::stats::ks_uniform(&pv);
    let summary = CrosstalkSummary {
        definition:
            "pooled connected correlation of each coupler's qubits at J = 0, centred within calls, score \
             test of independence over h, J_eff = -atanh(corr)/β (J > 0 favours anti-alignment), \
             Benjamini–Hochberg detection"
                .into(),
        h: hs.iter().map(|&ih| sweep.h[ih]).collect(),
        fdr: config.fdr,
        n_couplers: nc,
        n_tested: out.len(),
        n_detected: out.iter().filter(|c| c.detected).count(),
        reads_per_call: noise.reads_per_call,
        exact_share: if rows > 0 {
            exact_rows as f64 / rows as f64
        } else {
            0.0
        },
        empirical_null_scale: null_scale,
        call_noise_from_fit: noise.qubits.iter().any(Option::is_some),
        ks_uniform_d: d,
        ks_uniform_p: ks_p,
    };
    Ok((out, summary))
}

/// The coupling K (thermal units) and its SE: from the common odds ratio when every row is complete,
/// else from the linear score estimate over all rows (with the empirical null's variance).
fn coupling_of(acc: &Pooled) -> (f64, f64) {
    if acc.n_exact == acc.n_h {
        if let Some((lambda, info)) = coupling::log_odds(&acc.parts, acc.agree_exact) {
            if info > 0.0 {
                let widen = if acc.info_exact > 0.0 {
                    (acc.info_exact_within / acc.info_exact).max(1.0)
                } else {
                    1.0
                };
                return (-lambda / 4.0, (widen / info).sqrt() / 4.0);
            }
        }
    }
    let k_lin = (-acc.num / acc.info).clamp(-1.0 + 1e-12, 1.0 - 1e-12);
    let se_lin = acc.var_num.sqrt() / acc.info;
    (k_lin.atanh(), se_lin / (1.0 - k_lin * k_lin))
}

/// The result of one coupler from its pooled sums; `(p, q)` of its test.
fn coupler_result(
    (u, v): (u32, u32),
    acc: Pooled,
    beta: Option<f64>,
    (p, q): (f64, f64),
    config: &CrosstalkConfig,
    topology: Option<&Topology>,
) -> CouplerCrosstalk {
    let z = acc.z();
    let (k, k_se) = coupling_of(&acc);
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
        corr_by_h: acc.by_h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    /// Couplers whose modelled parts are N(0, σ²) with 2 % far out (coupled).
    fn modelled(sigma: f64, n: usize) -> Vec<Option<Pooled>> {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        (0..n)
            .map(|i| {
                let z: f64 = StandardNormal.sample(&mut rng);
                let shift = if i % 50 == 0 { 20.0 } else { 0.0 };
                Some(Pooled {
                    num: sigma * z + shift,
                    info: 1.0,
                    num_modelled: sigma * z + shift,
                    info_modelled: 1.0,
                    ..Pooled::default()
                })
            })
            .collect()
    }

    #[test]
    fn empirical_null_widens_an_underestimated_modelled_variance_only() {
        let scale = empirical_null_scale(&modelled(1.3, 20_000));
        assert!((scale - 1.69).abs() < 0.06, "{scale}");
        // A model that overstates the variance is left alone (never narrowed).
        assert_eq!(empirical_null_scale(&modelled(0.8, 20_000)), 1.0);
        // Too few couplers: no empirical null.
        assert_eq!(empirical_null_scale(&modelled(1.3, 10)), 1.0);
        let mut acc = modelled(1.0, 1).remove(0).unwrap();
        acc.info_exact = 2.0;
        acc.info = 3.0;
        acc.set_null_scale(1.5);
        assert!((acc.var_num - 3.5).abs() < 1e-12);
    }
}
