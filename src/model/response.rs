//! The response function and its exact derivatives (docs/physics.md §2).
//!
//! ```text
//! a± = h + b ± η,  c = γ h,  r± = sqrt(a±² + c²)
//! m(h) = ½ Σ± (a±/r±) tanh(β r±),   p_down = (1 + m)/2
//! ```
//!
//! Each branch is `f(x, u) = x tanh(R)/R` with `x = β a`, `u = β c`, `R = β r`, whose derivatives are
//! `f_x = t + x² g`, `f_u = x u g` and (second order, with `G = g'/R`) `f_xx = 3xg + x³G`,
//! `f_xu = ug + x²uG`, `f_uu = xg + xu²G` (evaluated in the cancellation-free forms of
//! [`super::stable::partials`]). The chain rule through `x(β, b, η)` and `u(β, γ)` gives the
//! gradient and Hessian of `p_down` with respect to `(β, b, γ, η)`.
//!
//! `p_down` and `1 - p_down` are both computed without cancellation: for `a ≥ 0`,
//! `1 - m_branch = c²/(r(r+a)) + (a/r)(1 - tanh R)` (mirror for `a < 0`), so tails far below 1e-16 keep
//! their relative accuracy. The Gaussian variant (§2, last paragraph) averages the noiseless branch over
//! `h + b + σ z`, `z ~ N(0,1)`, with a cached 32-node Gauss–Hermite rule.

use super::params::{NoiseKind, Params};
use super::stable::{partials, Hyper};
use std::sync::OnceLock;

/// Number of Gauss–Hermite nodes of the Gaussian-noise model.
pub const GAUSS_HERMITE_NODES: usize = 32;

/// How many derivatives to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Order {
    Value,
    Gradient,
    Hessian,
}

/// `p_down`, `1 - p_down` and derivatives with respect to `[β, b, γ, η]` at one h.
#[derive(Clone, Copy, Debug, Default)]
pub struct Response {
    /// Probability of s = -1.
    pub p: f64,
    /// Probability of s = +1, `1 - p` computed without cancellation.
    pub q: f64,
    /// ∂p/∂θ, θ = (β, b, γ, η); zero unless `Order::Gradient` or higher.
    pub dp: [f64; 4],
    /// ∂²p/∂θ∂θ'; zero unless `Order::Hessian`.
    pub d2p: [[f64; 4]; 4],
}

/// Gauss–Hermite nodes as `(z, weight)` for E over z ~ N(0, 1): `z = √2 x_i`, `w = w_i/√π`.
pub fn gauss_hermite_normal() -> &'static [(f64, f64)] {
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| {
        let rule = match gauss_quad::hermite::GaussHermite::new(GAUSS_HERMITE_NODES) {
            Ok(r) => r,
            Err(_) => return Vec::new(),
        };
        let s = std::f64::consts::PI.sqrt();
        let mut v: Vec<(f64, f64)> = rule
            .as_node_weight_pairs()
            .iter()
            .map(|&(x, w)| (std::f64::consts::SQRT_2 * x, w / s))
            .collect();
        // Symmetrise exactly so that the model is exactly even in σ.
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = v.len();
        for i in 0..n / 2 {
            let z = 0.5 * (v[n - 1 - i].0 - v[i].0);
            let w = 0.5 * (v[n - 1 - i].1 + v[i].1);
            v[i] = (-z, w);
            v[n - 1 - i] = (z, w);
        }
        if n % 2 == 1 {
            v[n / 2].0 = 0.0;
        }
        let total: f64 = v.iter().map(|x| x.1).sum();
        v.iter_mut().for_each(|x| x.1 /= total);
        v
    })
}

/// p_down at field `h` (value only).
pub fn p_down(kind: NoiseKind, params: &Params, h: f64) -> f64 {
    response(kind, params, h, Order::Value).p
}

/// m(h) = 2 p_down - 1.
pub fn magnetization(kind: NoiseKind, params: &Params, h: f64) -> f64 {
    let r = response(kind, params, h, Order::Value);
    r.p - r.q
}

/// `p_down` with derivatives up to `order` at field `h`.
pub fn response(kind: NoiseKind, params: &Params, h: f64, order: Order) -> Response {
    let mut acc = Response::default();
    match kind {
        NoiseKind::TwoPoint if params.eta == 0.0 => {
            // both branches coincide: odd terms in η cancel, even ones add up
            branch(params, h, 0.0, 1.0, 1.0, order, &mut acc);
            acc.dp[3] = 0.0;
            for i in 0..3 {
                acc.d2p[i][3] = 0.0;
                acc.d2p[3][i] = 0.0;
            }
        }
        NoiseKind::TwoPoint => {
            branch(params, h, params.eta, 1.0, 0.5, order, &mut acc);
            branch(params, h, -params.eta, -1.0, 0.5, order, &mut acc);
        }
        NoiseKind::Gaussian => {
            for &(z, w) in gauss_hermite_normal() {
                branch(params, h, params.eta * z, z, w, order, &mut acc);
            }
        }
    }
    acc
}

/// `p_down` of one noise branch: the field `h + b + e` with the noise offset `e = de · η` held fixed (one
/// call's draw, docs/physics.md §3.5), with derivatives with respect to `[β, b, γ, η]` (`∂e/∂η = de`).
pub fn branch_response(params: &Params, h: f64, e: f64, de: f64, order: Order) -> Response {
    let mut acc = Response::default();
    branch(params, h, e, de, 1.0, order, &mut acc);
    acc
}

/// Adds `w ×` one branch with noise offset `e` (`de = ∂e/∂η`) to `acc` (all halved: p = (1+m)/2).
#[inline]
fn branch(pr: &Params, h: f64, e: f64, de: f64, w: f64, order: Order, acc: &mut Response) {
    let beta = pr.beta;
    let a = h + pr.b + e;
    let c = pr.gamma * h;
    let r = (a * a + c * c).sqrt();
    let rr = beta * r;
    let hy = Hyper::new(rr);
    // 1 + m_branch and 1 - m_branch without cancellation.
    let (op, om) = if r == 0.0 {
        (1.0, 1.0)
    } else if a >= 0.0 {
        let om = c * c / (r * (r + a)) + (a / r) * hy.one_minus_th;
        (2.0 - om, om)
    } else {
        let op = c * c / (r * (r - a)) + (-a / r) * hy.one_minus_th;
        (op, 2.0 - op)
    };
    let hw = 0.5 * w;
    acc.p += hw * op;
    acc.q += hw * om;
    if order == Order::Value {
        return;
    }
    let x = beta * a;
    let u = beta * c;
    let f = partials(x, u, rr, &hy, order == Order::Hessian);
    let (fx, fu) = (f.fx, f.fu);
    let dx = [a, beta, 0.0, beta * de];
    let du = [c, 0.0, beta * h, 0.0];
    for i in 0..4 {
        acc.dp[i] += hw * (fx * dx[i] + fu * du[i]);
    }
    if order == Order::Gradient {
        return;
    }
    let (fxx, fxu, fuu) = (f.fxx, f.fxu, f.fuu);
    // dx = (a, β, 0, β de), du = (c, 0, β h, 0); ∂²x/∂β∂b = 1, ∂²x/∂β∂η = de, ∂²u/∂β∂γ = h
    let b2 = beta * beta;
    let xa = fxx * a + fxu * c;
    let ua = fxu * a + fuu * c;
    let v = [
        [
            xa * a + ua * c,
            xa * beta + fx,
            (ua * beta + fu) * h,
            (xa * beta + fx) * de,
        ],
        [0.0, fxx * b2, fxu * b2 * h, fxx * b2 * de],
        [0.0, 0.0, fuu * b2 * h * h, fxu * b2 * h * de],
        [0.0, 0.0, 0.0, fxx * b2 * de * de],
    ];
    for i in 0..4 {
        for j in i..4 {
            acc.d2p[i][j] += hw * v[i][j];
            if i != j {
                acc.d2p[j][i] += hw * v[i][j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use reference::H;

    mod reference {
        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/physics_reference.rs"
        ));
    }

    #[test]
    fn reference_vectors_of_physics_md() {
        for (p, want) in reference::CASES {
            let pr = Params::from_array(p);
            for (h, w) in reference::H.iter().zip(want) {
                let got = p_down(NoiseKind::TwoPoint, &pr, *h);
                assert!((got - w).abs() < 1e-9, "{p:?} h={h}: {got} vs {w}");
            }
        }
    }

    #[test]
    fn eta_zero_shortcut_matches_the_limit() {
        let at0 = response(
            NoiseKind::TwoPoint,
            &Params::new(7.0, 0.01, 0.1, 0.0),
            0.03,
            Order::Hessian,
        );
        let near = response(
            NoiseKind::TwoPoint,
            &Params::new(7.0, 0.01, 0.1, 1e-9),
            0.03,
            Order::Hessian,
        );
        assert!((at0.p - near.p).abs() < 1e-15);
        for i in 0..4 {
            assert!((at0.dp[i] - near.dp[i]).abs() < 1e-7);
            for j in 0..4 {
                assert!(
                    (at0.d2p[i][j] - near.d2p[i][j]).abs() < 1e-6 * (1.0 + near.d2p[i][j].abs())
                );
            }
        }
    }

    #[test]
    fn closed_forms() {
        // b = η = 0: m = tanh(β sqrt(1+γ²) h)/sqrt(1+γ²)
        let (beta, gamma) = (7.0, 0.3);
        let s = (1.0f64 + gamma * gamma).sqrt();
        for h in [-2.0, -0.3, -1e-9, 0.0, 0.2, 5.0] {
            let m = magnetization(NoiseKind::TwoPoint, &Params::new(beta, 0.0, gamma, 0.0), h);
            assert!((m - (beta * s * h).tanh() / s).abs() < 1e-14);
        }
        // slope at h = -b with noise: β sech²(βη)
        let pr = Params::new(9.0, 0.013, 0.0, 0.04);
        let r = response(NoiseKind::TwoPoint, &pr, -pr.b, Order::Gradient);
        let slope = 2.0 * r.dp[1]; // ∂m/∂h = ∂m/∂b
        let want = 9.0 / (9.0f64 * 0.04).cosh().powi(2);
        assert!((slope - want).abs() < 1e-12, "{slope} vs {want}");
        // tails keep relative accuracy: ideal Gibbs p = 1/(1 + e^{-2βh})
        let r = response(
            NoiseKind::TwoPoint,
            &Params::new(30.0, 0.0, 0.0, 0.0),
            -1.0,
            Order::Value,
        );
        let want = 1.0 / (1.0 + 60f64.exp());
        assert!(((r.p - want) / want).abs() < 1e-12);
        // wrong-state floor (1 - 1/sqrt(1+γ²))/2
        let r = response(
            NoiseKind::TwoPoint,
            &Params::new(50.0, 0.0, 0.2, 0.0),
            3.0,
            Order::Value,
        );
        let floor = (1.0 - 1.0 / (1.0f64 + 0.04).sqrt()) / 2.0;
        assert!(((r.q - floor) / floor).abs() < 1e-12);
    }

    #[test]
    fn derivatives_keep_relative_accuracy_in_the_gibbs_tails() {
        // γ = η = 0: p = σ(z), z = 2β(h + b); ∂p/∂z = pq, ∂²p/∂z² = pq(q - p)
        for (beta, h) in [
            (30.0, -1.0),
            (30.0, 1.0),
            (22.0, -2.0),
            (5.0, 0.3),
            (200.0, -1.5),
        ] {
            let pr = Params::new(beta, 0.0, 0.0, 0.0);
            let r = response(NoiseKind::TwoPoint, &pr, h, Order::Hessian);
            let (p, q) = (r.p, r.q);
            let d1 = p * q;
            let d2 = p * q * (q - p);
            let want = [
                (r.dp[0], 2.0 * h * d1),
                (r.dp[1], 2.0 * beta * d1),
                (r.d2p[0][0], 4.0 * h * h * d2),
                (r.d2p[1][1], 4.0 * beta * beta * d2),
                (r.d2p[0][1], 2.0 * d1 + 4.0 * beta * h * d2),
            ];
            for (k, (got, w)) in want.iter().enumerate() {
                assert!(
                    ((got - w) / w).abs() < 1e-9,
                    "β={beta} h={h} #{k}: {got:e} vs {w:e} (p = {p:e})"
                );
            }
        }
    }

    #[test]
    fn extreme_inputs_are_finite_and_in_range() {
        for beta in [1e-12, 1e-3, 1.0, 1e3, 1e9] {
            for h in [-1e6, -1.0, -1e-12, 0.0, 1e-300, 1.0, 1e6] {
                for kind in [NoiseKind::TwoPoint, NoiseKind::Gaussian] {
                    let r = response(kind, &Params::new(beta, 0.0, 0.1, 0.01), h, Order::Hessian);
                    assert!(r.p >= 0.0 && r.q >= 0.0 && (r.p + r.q - 1.0).abs() < 1e-12);
                    assert!(r
                        .dp
                        .iter()
                        .chain(r.d2p.iter().flatten())
                        .all(|v| v.is_finite()));
                }
            }
        }
    }

    #[test]
    fn gaussian_rule_moments_and_small_sigma_limit() {
        let n = gauss_hermite_normal();
        assert_eq!(n.len(), GAUSS_HERMITE_NODES);
        let m2: f64 = n.iter().map(|(z, w)| w * z * z).sum();
        let m4: f64 = n.iter().map(|(z, w)| w * z.powi(4)).sum();
        assert!((m2 - 1.0).abs() < 1e-12 && (m4 - 3.0).abs() < 1e-11);
        // σ = η small: the two models agree to second order.
        let pr = Params::new(6.0, 0.01, 0.05, 0.005);
        for h in H {
            let a = p_down(NoiseKind::TwoPoint, &pr, h);
            let b = p_down(NoiseKind::Gaussian, &pr, h);
            assert!((a - b).abs() < 1e-5, "h={h}: {a} vs {b}");
        }
    }
}
