//! The objective seen by the solver: ℓ in working coordinates `φ = (ln β, b, γ, η)` (β > 0 by
//! construction; γ and η free in sign, docs/physics.md §3 "optimizer trap").

use crate::model::calls::GaussGrid;
use crate::model::{
    call_log_likelihood, log_likelihood, LogLik, NoiseKind, Order, Params, QubitCounts,
};

/// Something the solver can maximise: value, gradient and Hessian in working coordinates.
pub trait Objective {
    fn eval(&self, phi: &[f64; 4], order: Order) -> LogLik;
}

/// Working coordinates → natural parameters.
pub fn to_params(phi: &[f64; 4]) -> Params {
    Params::new(phi[0].exp(), phi[1], phi[2], phi[3])
}

/// Natural parameters → working coordinates (β must be > 0).
pub fn to_phi(p: &Params) -> [f64; 4] {
    [p.beta.ln(), p.b, p.gamma, p.eta]
}

/// The likelihood of one qubit's counts: binomial on the pooled counts (`cells` = None, the noise drawn
/// per read), or the per-call mixture over `cells` (one entry per call, the noise drawn per call;
/// [`crate::model::calls`]).
pub struct Likelihood<'a> {
    pub kind: NoiseKind,
    pub data: &'a QubitCounts,
    pub cells: Option<&'a QubitCounts>,
    /// z grid of the Gaussian per-call law.
    pub grid: Option<&'a GaussGrid>,
}

impl<'a> Likelihood<'a> {
    /// The binomial likelihood of the pooled counts.
    pub fn pooled(kind: NoiseKind, data: &'a QubitCounts) -> Self {
        Likelihood {
            kind,
            data,
            cells: None,
            grid: None,
        }
    }
    /// ℓ and derivatives in natural coordinates.
    pub fn natural(&self, p: &Params, order: Order) -> LogLik {
        match self.cells {
            Some(c) => call_log_likelihood(self.kind, p, c, self.grid, order),
            None => log_likelihood(self.kind, p, self.data, order),
        }
    }
}

impl Objective for Likelihood<'_> {
    fn eval(&self, phi: &[f64; 4], order: Order) -> LogLik {
        let p = to_params(phi);
        let mut e = self.natural(&p, order);
        // chain rule for φ₀ = ln β
        let beta = p.beta;
        let g0 = e.grad[0];
        e.grad[0] = beta * g0;
        if order == Order::Hessian {
            e.hess[0][0] = beta * g0 + beta * beta * e.hess[0][0];
            for j in 1..4 {
                e.hess[0][j] *= beta;
                e.hess[j][0] *= beta;
            }
        }
        e
    }
}

/// Working-coordinate derivatives → natural ones (`∂/∂β` from `∂/∂ ln β`), the inverse of the chain rule
/// in [`Likelihood::eval`].
pub fn to_natural(e: &LogLik, beta: f64) -> LogLik {
    let mut n = *e;
    let g0 = e.grad[0];
    n.grad[0] = g0 / beta;
    n.hess[0][0] = (e.hess[0][0] - g0) / (beta * beta);
    for j in 1..4 {
        n.hess[0][j] = e.hess[0][j] / beta;
        n.hess[j][0] = e.hess[j][0] / beta;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_derivatives_round_trip() {
        let d = QubitCounts::from_triples([
            (-0.5, 10, 1000),
            (0.0, 480, 1000),
            (0.1, 800, 1000),
            (1.0, 998, 1000),
        ]);
        let p = Params::new(6.5, 0.01, 0.05, 0.02);
        let nat = log_likelihood(NoiseKind::TwoPoint, &p, &d, Order::Hessian);
        let obj = Likelihood::pooled(NoiseKind::TwoPoint, &d);
        let back = to_natural(&obj.eval(&to_phi(&p), Order::Hessian), p.beta);
        for i in 0..4 {
            assert!((back.grad[i] - nat.grad[i]).abs() < 1e-9 * (1.0 + nat.grad[i].abs()));
            for j in 0..4 {
                assert!(
                    (back.hess[i][j] - nat.hess[i][j]).abs() < 1e-9 * (1.0 + nat.hess[i][j].abs())
                );
            }
        }
    }
}
