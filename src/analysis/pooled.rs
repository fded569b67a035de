//! The single pooled temperature D-Wave's own tool reports (docs/physics.md §6): dwave-system's
//! `fast_effective_temperature` fits one β to single-qubit data with |h| ≤ 1/6.1, assuming the ideal
//! Gibbs qubit `p_down = (1 + tanh(βh))/2` (b = γ = η = 0) for every qubit, and reports T = 1/β. Here the
//! same estimator runs on every (h, qubit) cell of a sweep with |h| ≤ h_max:
//!
//! ```text
//! ℓ(β) = Σ_cells [ k ln p + (N − k) ln(1 − p) ],   U(β) = ∂ℓ/∂β = Σ h (2k − N − N tanh(βh))
//! I(β) = −∂U/∂β = Σ N h² (1 − tanh²(βh))
//! ```
//!
//! U is strictly decreasing in β, so the maximum is its unique root (bracketed bisection refined by Newton).
//! Two standard errors: the model one, `1/sqrt(I)`, which assumes every qubit is the same ideal qubit, and
//! the robust (sandwich, clustered by qubit) one `sqrt(Σ_q U_q²)/I`, which stays honest when qubits
//! differ in β and b and reads are over-dispersed. `T = 1/β`, `se(T) = se(β)/β²`.
//!
//! The estimate is the single number that hides the per-qubit spread: the result carries the per-qubit
//! median and quartiles of β beside it.

use super::stats::{quantile_sorted, sorted_finite};
use crate::sweep::Sweep;
use serde::{Deserialize, Serialize};

/// dwave-system's default `h_range` half-width, 1/6.1 (h units).
pub const DWAVE_H_MAX: f64 = 1.0 / 6.1;

/// The pooled single-temperature estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PooledTemperature {
    /// What this is, in one line.
    pub definition: String,
    /// Largest |h| used (h units).
    pub h_max: f64,
    /// Pooled inverse temperature β (1/h units).
    pub beta: f64,
    /// Model standard error of β, `1/sqrt(I)` (1/h units).
    pub beta_se_model: f64,
    /// Robust standard error of β, clustered by qubit (1/h units).
    pub beta_se: f64,
    /// Pooled effective temperature `T = 1/β` (h units), as `fast_effective_temperature` reports it.
    pub temperature: f64,
    /// Robust standard error of T (h units).
    pub temperature_se: f64,
    /// Qubits and h values that contributed.
    pub n_qubits: usize,
    pub n_h: usize,
    /// Reads used.
    pub reads: f64,
    /// Per-qubit fitted β over the same chip (median and quartiles, 1/h units), for contrast.
    pub per_qubit_beta_median: Option<f64>,
    pub per_qubit_beta_q25: Option<f64>,
    pub per_qubit_beta_q75: Option<f64>,
}

/// Sufficient statistics of one cell.
struct Cell {
    iq: usize,
    h: f64,
    k: f64,
    n: f64,
}

fn cells(sweep: &Sweep, h_max: f64) -> Vec<Cell> {
    let nq = sweep.qubits.len();
    let mut out = Vec::new();
    for (ih, &h) in sweep.h.iter().enumerate() {
        if h.abs() > h_max + 1e-12 || h == 0.0 {
            continue; // h = 0 carries no information about β
        }
        for iq in 0..nq {
            let (k, n) = sweep.counts.get(ih, iq);
            if n > 0 {
                out.push(Cell {
                    iq,
                    h,
                    k: f64::from(k),
                    n: f64::from(n),
                });
            }
        }
    }
    out
}

fn score(cells: &[Cell], beta: f64) -> (f64, f64) {
    let (mut u, mut i) = (0.0, 0.0);
    for c in cells {
        let t = (beta * c.h).tanh();
        u += c.h * (2.0 * c.k - c.n - c.n * t);
        i += c.n * c.h * c.h * (1.0 - t * t);
    }
    (u, i)
}

/// The pooled estimate from a sweep (`None` when the sweep is inconsistent, no cell with 0 < |h| ≤ h_max
/// has reads, or the counts do not determine β, e.g. every read agrees with the field).
pub fn pooled_temperature(
    sweep: &Sweep,
    h_max: f64,
    per_qubit_beta: &[Option<f64>],
) -> Option<PooledTemperature> {
    crate::sweep::check(sweep).ok()?;
    let cells = cells(sweep, h_max);
    if cells.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = (1e-6, 1e6);
    if score(&cells, lo).0 <= 0.0 || score(&cells, hi).0 >= 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if score(&cells, mid).0 > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi / lo - 1.0 < 1e-13 {
            break;
        }
    }
    let mut beta = 0.5 * (lo + hi);
    for _ in 0..3 {
        let (u, i) = score(&cells, beta);
        if i > 0.0 {
            let next = beta + u / i;
            if next > lo * 0.999 && next < hi * 1.001 {
                beta = next;
            }
        }
    }
    let (_, info) = score(&cells, beta);
    let mut per_qubit = vec![0.0; sweep.qubits.len()];
    let mut used = vec![false; sweep.qubits.len()];
    let mut hs = Vec::new();
    let mut reads = 0.0;
    for c in &cells {
        let t = (beta * c.h).tanh();
        per_qubit[c.iq] += c.h * (2.0 * c.k - c.n - c.n * t);
        used[c.iq] = true;
        reads += c.n;
        if !hs.contains(&c.h) {
            hs.push(c.h);
        }
    }
    let meat: f64 = per_qubit.iter().map(|u| u * u).sum();
    let beta_se = meat.sqrt() / info;
    let sorted = sorted_finite(per_qubit_beta.iter().flatten().copied());
    Some(PooledTemperature {
        definition:
            "one β for all qubits, ideal Gibbs qubit (b = γ = η = 0), maximum likelihood over \
                     |h| ≤ h_max, as dwave-system's fast_effective_temperature; T = 1/β"
                .into(),
        h_max,
        beta,
        beta_se_model: 1.0 / info.sqrt(),
        beta_se,
        temperature: 1.0 / beta,
        temperature_se: beta_se / (beta * beta),
        n_qubits: used.iter().filter(|&&u| u).count(),
        n_h: hs.len(),
        reads,
        per_qubit_beta_median: quantile_sorted(&sorted, 0.5),
        per_qubit_beta_q25: quantile_sorted(&sorted, 0.25),
        per_qubit_beta_q75: quantile_sorted(&sorted, 0.75),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{CountMatrix, SweepMeta, SweepSource};

    /// Expected counts of ideal qubits: the pooled MLE is exactly the true β.
    #[test]
    fn recovers_beta_from_exact_expected_counts() {
        let h: Vec<f64> = (-8..=8).map(|i| f64::from(i) * 0.02).collect();
        let nq = 3;
        let mut counts = CountMatrix::zeros(h.len(), nq);
        let n = 1_000_000u32;
        for (ih, &hv) in h.iter().enumerate() {
            for iq in 0..nq {
                let p = 0.5 * (1.0 + (6.5 * hv).tanh());
                counts.down[ih * nq + iq] = (p * f64::from(n)).round() as u32;
                counts.reads[ih * nq + iq] = n;
            }
        }
        let sweep = Sweep {
            meta: SweepMeta::new(SweepSource::Simulated),
            h,
            qubits: vec![1, 2, 3],
            counts,
            blocks: Vec::new(),
            pairs: None,
        };
        let t = pooled_temperature(&sweep, DWAVE_H_MAX, &[Some(6.4), Some(6.5), None]).unwrap();
        assert!((t.beta - 6.5).abs() < 1e-4, "{}", t.beta);
        assert!((t.temperature - 1.0 / 6.5).abs() < 1e-5);
        assert_eq!(
            (t.n_qubits, t.n_h),
            (3, 16),
            "h = 0 and |h| > 1/6.1 excluded"
        );
        assert_eq!(t.per_qubit_beta_median, Some(6.45));
        assert!(
            t.beta_se_model > 0.0 && t.beta_se < t.beta_se_model,
            "rounding only"
        );
    }
}
