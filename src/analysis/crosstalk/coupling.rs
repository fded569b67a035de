//! The coupling of a pair from its agreement counts given the marginals of every call (docs/analysis.md,
//! "Crosstalk"). An Ising pair `P(s_u, s_v) ∝ exp(F_u s_u + F_v s_v − K s_u s_v)` has the odds ratio
//! `ψ = P(−−) P(++) / (P(−+) P(+−)) = e^{−4K}` at any field, so each part of the data (a call, or a
//! per-call block) with down fractions `(p_u, p_v)` is a 2×2 table with those margins and odds ratio ψ.
//! Its cell `P(−−)` (Plackett 1965) is the root in `[0, min(p_u, p_v)]` of
//!
//! ```text
//! (ψ − 1) x² − [1 + (ψ − 1)(p_u + p_v)] x + ψ p_u p_v = 0,    x = 2ψ p_u p_v / (B + sqrt(B² − 4ψ(ψ − 1) p_u p_v))
//! ```
//!
//! with `B = 1 + (ψ − 1)(p_u + p_v)` (written for `p_u + p_v ≤ 1`; otherwise both spins are flipped,
//! which keeps ψ). The estimate `λ̂ = ln ψ̂` solves "expected agreements = observed agreements" summed
//! over all parts, `Σ n (1 − p_u − p_v + 2 P(−−; λ)) = A` (the Mantel–Haenszel-type estimating equation
//! of a common odds ratio; exact in expectation at any strength). Its derivative in λ is `2 Σ n W` with
//! `W = 1 / (1/P(−−) + 1/P(−+) + 1/P(+−) + 1/P(++))`, and the variance of A given the margins is
//! `4 Σ n W`, so `se(λ̂) = 1 / sqrt(Σ n W)`. At ψ = 1, `W = p_u(1−p_u) p_v(1−p_v)`.

/// One part of a pair's data whose reads share their marginals: `n` pair reads with down fractions
/// `p_u`, `p_v` (of those same reads).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Part {
    pub n: f64,
    pub pu: f64,
    pub pv: f64,
}

/// Largest |ln ψ| the solver considers (|K| ≤ 7.5 thermal units).
const LAMBDA_MAX: f64 = 30.0;

/// `P(−−)` of a table with down margins `(pu, pv)` and log odds ratio `lambda`.
pub fn both_down(pu: f64, pv: f64, lambda: f64) -> f64 {
    let (pu, pv) = (pu.clamp(0.0, 1.0), pv.clamp(0.0, 1.0));
    if pu + pv > 1.0 {
        // Flip both spins: margins 1 − p, same odds ratio; P(−−) = P'(−−) − 1 + p_u + p_v.
        let flipped = both_down_low(1.0 - pu, 1.0 - pv, lambda);
        return (flipped - 1.0 + pu + pv).clamp(0.0, pu.min(pv));
    }
    both_down_low(pu, pv, lambda)
}

/// [`both_down`] for `pu + pv ≤ 1` (then `B > 0` and the rationalised root is stable).
fn both_down_low(pu: f64, pv: f64, lambda: f64) -> f64 {
    let psi = lambda.clamp(-LAMBDA_MAX, LAMBDA_MAX).exp();
    let t = psi - 1.0;
    let b = 1.0 + t * (pu + pv);
    let disc = (b * b - 4.0 * psi * t * pu * pv).max(0.0);
    let x = 2.0 * psi * pu * pv / (b + disc.sqrt());
    if x.is_finite() {
        x.clamp(0.0, pu.min(pv))
    } else {
        pu * pv
    }
}

/// Expected agreements `Σ n (1 − p_u − p_v + 2 P(−−))` and information `Σ n W` at `lambda`.
fn expected(parts: &[Part], lambda: f64) -> (f64, f64) {
    let mut agree = 0.0;
    let mut info = 0.0;
    for p in parts {
        let dd = both_down(p.pu, p.pv, lambda);
        let cells = [dd, p.pu - dd, p.pv - dd, 1.0 - p.pu - p.pv + dd];
        agree += p.n * (cells[0] + cells[3]);
        if cells.iter().all(|&c| c > 0.0) {
            info += p.n / cells.iter().map(|c| 1.0 / c).sum::<f64>();
        }
    }
    (agree, info)
}

/// Solves `expected(λ) = agree` for the log odds ratio; returns `(λ̂, Σ n W at λ̂)`, or `None` when the
/// parts carry no information. λ̂ is clamped to ±30 when the observed agreement is at an edge.
pub fn log_odds(parts: &[Part], agree: f64) -> Option<(f64, f64)> {
    let (_, info0) = expected(parts, 0.0);
    if info0.is_nan() || info0 <= 0.0 {
        return None;
    }
    let (mut lo, mut hi) = (-LAMBDA_MAX, LAMBDA_MAX);
    let mut lambda = 0.0;
    for _ in 0..200 {
        let (e, info) = expected(parts, lambda);
        let f = e - agree;
        if f > 0.0 {
            hi = lambda;
        } else {
            lo = lambda;
        }
        // Newton step (derivative 2 Σ n W), kept inside the bracket; bisection otherwise.
        let newton = lambda - f / (2.0 * info);
        let next = if info > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - lambda).abs() < 1e-12 || hi - lo < 1e-12 {
            lambda = next;
            break;
        }
        lambda = next;
    }
    let (_, info) = expected(parts, lambda);
    Some((lambda, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four cells of an Ising pair with fields (F_u, F_v) and coupling K (energy −F s − K s_u s_v
    /// in the `exp` of the weight, s = −1 is "down").
    fn ising(fu: f64, fv: f64, k: f64) -> [f64; 4] {
        let w = |su: f64, sv: f64| (-(fu * su) - fv * sv - k * su * sv).exp();
        let c = [w(-1.0, -1.0), w(-1.0, 1.0), w(1.0, -1.0), w(1.0, 1.0)];
        let z: f64 = c.iter().sum();
        c.map(|x| x / z)
    }

    #[test]
    fn plackett_cell_reproduces_an_ising_pair_at_any_field_and_strength() {
        for &(fu, fv, k) in &[
            (0.0, 0.0, 0.0),
            (0.3, -0.2, 0.34),
            (1.5, 1.2, -0.8),
            (-2.0, 0.7, 1.5),
            (3.0, 3.0, 0.05),
        ] {
            let c = ising(fu, fv, k);
            let (pu, pv) = (c[0] + c[1], c[0] + c[2]);
            let dd = both_down(pu, pv, -4.0 * k);
            assert!((dd - c[0]).abs() < 1e-12, "{fu} {fv} {k}: {dd} vs {}", c[0]);
        }
        assert_eq!(both_down(0.3, 0.6, 0.0), 0.3 * 0.6);
    }

    #[test]
    fn log_odds_recovers_the_coupling_from_exact_tables_with_different_margins() {
        let k = 0.6;
        let mut parts = Vec::new();
        let mut agree = 0.0;
        for &(fu, fv) in &[(0.0, 0.0), (0.4, -0.3), (-1.0, 0.2), (2.0, 1.0)] {
            let c = ising(fu, fv, k);
            let n = 1000.0;
            parts.push(Part {
                n,
                pu: c[0] + c[1],
                pv: c[0] + c[2],
            });
            agree += n * (c[0] + c[3]);
        }
        let (lambda, info) = log_odds(&parts, agree).unwrap();
        assert!((lambda + 4.0 * k).abs() < 1e-9, "λ = {lambda}");
        assert!(info > 0.0);
        // Independent tables at ψ = 1: W = p(1-p) q(1-q).
        let p = [Part {
            n: 1.0,
            pu: 0.3,
            pv: 0.5,
        }];
        let (l0, w) = log_odds(&p, 0.3 * 0.5 + 0.7 * 0.5).unwrap();
        assert!(l0.abs() < 1e-9 && (w - 0.21 * 0.25).abs() < 1e-12);
        assert!(log_odds(
            &[Part {
                n: 5.0,
                pu: 1.0,
                pv: 0.5
            }],
            2.0
        )
        .is_none());
    }
}
