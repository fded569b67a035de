//! The binomial log-likelihood in count form (docs/physics.md §3):
//! `ℓ(θ) = Σ_h [ k_h ln p_h + (N_h - k_h) ln(1 - p_h) ]`,
//! without the binomial coefficient (constant in θ). `p` and `1 - p` come from the cancellation-free
//! response; each is clamped to at least [`P_MIN`] (where clamped its derivatives are zero), and the
//! logarithm of a value near 1 uses `ln_1p` of its small complement.
//!
//! Derivatives: `∂ℓ/∂θ = Σ A ∂p`, `∂²ℓ/∂θ∂θ' = Σ (B ∂p ∂pᵀ + A ∂²p)` with `A = k/p - (N-k)/q` and
//! `B = -k/p² - (N-k)/q²`; the expected (Fisher) information is `Σ N ∂p ∂pᵀ / (p q)` (§6).

use super::params::{NoiseKind, Params};
use super::response::{response, Order};

/// Smallest probability used in a logarithm.
pub const P_MIN: f64 = 1e-100;

/// The counts of one qubit: field values with their down counts and reads (points with N = 0 omitted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QubitCounts {
    /// Field values h (h units).
    pub h: Vec<f64>,
    /// Reads with s = -1.
    pub k: Vec<f64>,
    /// All reads.
    pub n: Vec<f64>,
}

impl QubitCounts {
    /// Builds from `(h, down, reads)` triples, dropping those with no reads.
    pub fn from_triples(it: impl IntoIterator<Item = (f64, u32, u32)>) -> Self {
        let mut c = QubitCounts::default();
        for (h, k, n) in it {
            if n > 0 {
                c.h.push(h);
                c.k.push(f64::from(k.min(n)));
                c.n.push(f64::from(n));
            }
        }
        c
    }
    pub fn len(&self) -> usize {
        self.h.len()
    }
    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }
    /// Total reads.
    pub fn total_reads(&self) -> f64 {
        self.n.iter().sum()
    }
}

/// Log-likelihood with gradient and Hessian with respect to `[β, b, γ, η]` (natural units).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogLik {
    /// ℓ in nats.
    pub ll: f64,
    pub grad: [f64; 4],
    pub hess: [[f64; 4]; 4],
    /// Pearson χ² = Σ (k - Np)² / (N p q) at the same point (always computed).
    pub pearson_chi2: f64,
}

#[inline]
fn ln_prob(p: f64, complement: f64) -> f64 {
    if p > 0.5 {
        (-complement).ln_1p()
    } else {
        p.ln()
    }
}

/// ℓ and derivatives up to `order` for one qubit.
pub fn log_likelihood(
    kind: NoiseKind,
    params: &Params,
    data: &QubitCounts,
    order: Order,
) -> LogLik {
    let mut out = LogLik::default();
    for i in 0..data.len() {
        let (h, k, n) = (data.h[i], data.k[i], data.n[i]);
        let mut r = response(kind, params, h, order);
        let (mut p, mut q) = (r.p, r.q);
        if p < P_MIN || q < P_MIN {
            p = p.max(P_MIN);
            q = q.max(P_MIN);
            r.dp = [0.0; 4];
            r.d2p = [[0.0; 4]; 4];
        }
        let nk = n - k;
        out.pearson_chi2 += (k - n * p).powi(2) / (n * p * q);
        let mut term = 0.0;
        if k > 0.0 {
            term += k * ln_prob(p, q);
        }
        if nk > 0.0 {
            term += nk * ln_prob(q, p);
        }
        out.ll += term;
        if order == Order::Value {
            continue;
        }
        let (ip, iq) = (1.0 / p, 1.0 / q);
        let a = k * ip - nk * iq;
        let b = -k * ip * ip - nk * iq * iq;
        for i in 0..4 {
            out.grad[i] += a * r.dp[i];
            if order == Order::Hessian {
                for j in i..4 {
                    out.hess[i][j] += b * r.dp[i] * r.dp[j] + a * r.d2p[i][j];
                }
            }
        }
    }
    for i in 0..4 {
        for j in 0..i {
            out.hess[i][j] = out.hess[j][i];
        }
    }
    out
}

/// Goodness of fit of one qubit at `params`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GoodnessOfFit {
    /// Pearson χ² = Σ (k - Np)² / (N p q).
    pub pearson_chi2: f64,
    /// Deviance against the saturated model, 2 Σ [k ln(k/Np) + (N-k) ln((N-k)/Nq)].
    pub deviance: f64,
    /// Number of field values with reads.
    pub n_points: usize,
}

/// The saturated log-likelihood `Σ [k ln(k/N) + (N-k) ln((N-k)/N)]` (deviance = 2(ℓ_sat - ℓ)).
pub fn saturated_log_likelihood(data: &QubitCounts) -> f64 {
    let mut ll = 0.0;
    for i in 0..data.len() {
        let (k, n) = (data.k[i], data.n[i]);
        let nk = n - k;
        if k > 0.0 {
            ll += k * (k / n).ln();
        }
        if nk > 0.0 {
            ll += nk * (nk / n).ln();
        }
    }
    ll
}

/// Pearson χ² and deviance.
pub fn goodness_of_fit(kind: NoiseKind, params: &Params, data: &QubitCounts) -> GoodnessOfFit {
    let e = log_likelihood(kind, params, data, Order::Value);
    GoodnessOfFit {
        pearson_chi2: e.pearson_chi2,
        deviance: 2.0 * (saturated_log_likelihood(data) - e.ll),
        n_points: data.len(),
    }
}

/// Expected (Fisher) information `Σ N ∂p ∂pᵀ/(p q)` with respect to `[β, b, γ, η]`.
pub fn fisher_information(kind: NoiseKind, params: &Params, h: &[f64], n: &[f64]) -> [[f64; 4]; 4] {
    let mut f = [[0.0; 4]; 4];
    for (&hi, &ni) in h.iter().zip(n) {
        let r = response(kind, params, hi, Order::Gradient);
        let w = ni / (r.p.max(P_MIN) * r.q.max(P_MIN));
        for i in 0..4 {
            for j in 0..4 {
                f[i][j] += w * r.dp[i] * r.dp[j];
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> QubitCounts {
        QubitCounts::from_triples([
            (-1.0, 3, 1000),
            (-0.1, 200, 1000),
            (0.0, 480, 1000),
            (0.2, 950, 1000),
            (1.0, 999, 1000),
        ])
    }

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        for kind in [NoiseKind::TwoPoint, NoiseKind::Gaussian] {
            let p = [6.0, 0.02, 0.07, 0.03];
            let d = data();
            let e = log_likelihood(kind, &Params::from_array(p), &d, Order::Hessian);
            for i in 0..4 {
                let step = 1e-6 * p[i].abs().max(1e-2);
                let mut lo = p;
                let mut hi = p;
                lo[i] -= step;
                hi[i] += step;
                let el = log_likelihood(kind, &Params::from_array(lo), &d, Order::Gradient);
                let eh = log_likelihood(kind, &Params::from_array(hi), &d, Order::Gradient);
                let num = (eh.ll - el.ll) / (2.0 * step);
                assert!(
                    (num - e.grad[i]).abs() < 1e-5 * (1.0 + num.abs()),
                    "grad {i}: {num} vs {}",
                    e.grad[i]
                );
                for j in 0..4 {
                    let num = (eh.grad[j] - el.grad[j]) / (2.0 * step);
                    assert!(
                        (num - e.hess[i][j]).abs() < 1e-4 * (1.0 + num.abs()),
                        "hess {i}{j}"
                    );
                }
            }
        }
    }

    #[test]
    fn deviance_is_zero_at_the_saturated_fit() {
        let pr = Params::new(8.0, 0.0, 0.0, 0.0);
        let h = [-0.1, 0.0, 0.1];
        let d = QubitCounts::from_triples(h.iter().map(|&h| {
            let p = super::super::response::p_down(NoiseKind::TwoPoint, &pr, h);
            (h, (p * 1e6).round() as u32, 1_000_000)
        }));
        let g = goodness_of_fit(NoiseKind::TwoPoint, &pr, &d);
        assert!(g.deviance.abs() < 1e-3 && g.pearson_chi2 < 1e-3);
    }

    #[test]
    fn extreme_counts_give_finite_likelihood() {
        let d = QubitCounts::from_triples([(-1.0, 1000, 1000), (1.0, 0, 1000)]);
        let e = log_likelihood(
            NoiseKind::TwoPoint,
            &Params::new(1e4, 0.0, 0.0, 0.0),
            &d,
            Order::Hessian,
        );
        assert!(e.ll.is_finite() && e.ll < -1e5);
        assert!(e
            .grad
            .iter()
            .chain(e.hess.iter().flatten())
            .all(|v| v.is_finite()));
    }
}
