//! The per-call likelihood (docs/physics.md §3.5): flux noise is quasi-static, so the reads of one call
//! (programming cycle) share one noise draw δ, and a call's count is a mixture of binomials over the noise
//! law rather than one binomial of the averaged response:
//!
//! ```text
//! two-point:  L_c = ½ Bin(k_c; n_c, p(h + b + η)) + ½ Bin(k_c; n_c, p(h + b - η))
//! gaussian:   L_c = Σ_i w_i Bin(k_c; n_c, p(h + b + σ z_i))     (trapezoid rule over z ~ N(0, 1))
//! ```
//!
//! where `p(·)` is the noiseless branch of the response (§2) with saturation γ. In count form (binomial
//! coefficients dropped, as in [`super::likelihood`]) with `a_i = k ln p_i + (n - k) ln q_i`:
//! `ℓ_c = ln Σ_i w_i e^{a_i}`; with the posterior weights `π_i = w_i e^{a_i - ℓ_c}`,
//! `A_i = k/p_i - (n-k)/q_i`, `B_i = -k/p_i² - (n-k)/q_i²`, the exact derivatives are
//!
//! ```text
//! ∇ℓ_c  = Σ_i π_i A_i ∇p_i
//! ∇²ℓ_c = Σ_i π_i [(B_i + A_i²) ∇p_i ∇p_iᵀ + A_i ∇²p_i] - ∇ℓ_c ∇ℓ_cᵀ.
//! ```
//!
//! Cells are the per-call counts `(h, k, n)` of one qubit, given as a [`QubitCounts`] with one entry per
//! call, grouped by h (cells of equal h adjacent). All cells at one h share the branches `p_i`, `∇p_i`,
//! `∇²p_i`; only the scalars `π_i`, `A_i`, `B_i` differ, so the sum over the cells of one h is
//! accumulated per branch (`Σ_c π A`, `Σ_c π (B + A²)`) and per cell only as `∇ℓ_c ∇ℓ_cᵀ`; the branch
//! derivatives are computed only for branches with a non-negligible posterior weight
//! (`π_i > e^-40 max π`, below the precision of the sum).
//!
//! The Gaussian law is integrated by the trapezoid rule on a uniform grid in z over ±[`GAUSS_Z_MAX`]
//! with weights `φ(z_i) Δz` (halved at the two ends, normalised; the truncation at ±7 changes L_c by
//! less than 1e-11): exponentially accurate for the smooth, possibly sharply peaked
//! integrand, where a fixed Gauss–Hermite rule is not. For a Gaussian-like integrand of width `s` the
//! relative error is `≈ 2 exp(-2π² s²/Δz²)`. The width is bounded below per h from the Fisher
//! information of one call about z, `n σ² β² (U²/R² ∧ U²/R⁴ + sech² X)` (the largest over the grid,
//! `X = β |h + b|` less 7σ, `U = βγh`, `R² = X² + U²`, a bound on `p'²/(p q)`), and the step is the
//! largest `0.5/2^l` with `s/Δz ≥ 1.2` (error ≈ 1e-12, like the truncation at ±7): 29 nodes on the
//! plateaus, up to a few hundred at the transition of a sharp qubit.

use super::likelihood::{LogLik, QubitCounts, P_MIN};
use super::params::{NoiseKind, Params};
use super::response::{branch_response, Order};
use std::sync::OnceLock;

/// Half-width of the z grid of the Gaussian per-call law.
pub const GAUSS_Z_MAX: f64 = 7.0;
/// Step of the coarsest z grid (level 0: 29 nodes).
const BASE_STEP: f64 = 0.5;
/// Finest grid level the rule may use (step 0.5/2^9, 14,337 nodes).
pub const MAX_LEVEL: u32 = 9;
/// Grids up to this many nodes (level 2) are computed whole; finer ones in windows around each cell's
/// posterior.
const EAGER_NODES: usize = 113;
/// A branch whose log-weight is this far below the largest is left out of a cell's sums (e^-40 < 1e-17).
const NEGLIGIBLE: f64 = -40.0;

/// The z rule of the Gaussian per-call law.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussGrid {
    /// Finest level (step `0.5/2^max_level`), at most [`MAX_LEVEL`].
    pub max_level: u32,
    /// The step is at most the lower bound of the integrand's width divided by this.
    pub safety: f64,
    /// One level at every h (no adaptation); for checks of the adaptive rule.
    pub fixed_level: Option<u32>,
}

impl Default for GaussGrid {
    fn default() -> Self {
        GaussGrid {
            max_level: MAX_LEVEL,
            safety: 1.2,
            fixed_level: None,
        }
    }
}

impl GaussGrid {
    /// The same grid level at every h.
    pub fn fixed(level: u32) -> Self {
        GaussGrid {
            fixed_level: Some(level.min(MAX_LEVEL)),
            ..Default::default()
        }
    }

    fn step(level: u32) -> f64 {
        BASE_STEP / f64::from(1u32 << level)
    }

    fn n_nodes(level: u32) -> usize {
        (2.0 * GAUSS_Z_MAX / BASE_STEP) as usize * (1usize << level) + 1
    }

    /// Unnormalised log trapezoid weight of node `j` of `level` (step `dz`): `-z²/2`, less ln 2 at
    /// the two ends.
    fn ln_weight(level: u32, j: usize, dz: f64) -> f64 {
        let z = -GAUSS_Z_MAX + dz * j as f64;
        let end = j == 0 || j + 1 == GaussGrid::n_nodes(level);
        -0.5 * z * z - if end { std::f64::consts::LN_2 } else { 0.0 }
    }

    /// The grid level at field `h` for cells of at most `n_max` reads.
    fn level_for(&self, params: &Params, h: f64, n_max: f64) -> u32 {
        if let Some(l) = self.fixed_level {
            return l;
        }
        let sigma = params.eta.abs();
        let beta = params.beta;
        if !(sigma > 0.0 && beta > 0.0 && n_max > 0.0) {
            return 0;
        }
        let x = beta * ((h + params.b).abs() - GAUSS_Z_MAX * sigma).max(0.0);
        let u = beta * params.gamma * h;
        let r2 = x * x + u * u;
        let first = if r2 > 0.0 {
            (u * u / r2).min(u * u / (r2 * r2))
        } else {
            0.0
        };
        let sech = if x < 350.0 { 1.0 / x.cosh() } else { 0.0 };
        let ratio = (first + sech * sech).min(1.0);
        let info = n_max * (sigma * beta).powi(2) * ratio;
        let width = 1.0 / (1.0 + info).sqrt();
        let need = width / self.safety;
        if need.is_nan() || need <= 0.0 {
            return self.max_level.min(MAX_LEVEL);
        }
        let l = (BASE_STEP / need).log2().ceil().max(0.0);
        (l as u32).min(self.max_level.min(MAX_LEVEL))
    }
}

/// `ln Σ_j e^{-z_j²/2}` over the nodes of each level.
fn ln_norms() -> &'static [f64] {
    static NORMS: OnceLock<Vec<f64>> = OnceLock::new();
    NORMS.get_or_init(|| {
        (0..=MAX_LEVEL)
            .map(|l| {
                let dz = GaussGrid::step(l);
                (0..GaussGrid::n_nodes(l))
                    .map(|j| GaussGrid::ln_weight(l, j, dz).exp())
                    .sum::<f64>()
                    .ln()
            })
            .collect()
    })
}

#[inline]
fn ln_prob(p: f64, complement: f64) -> f64 {
    if p > 0.5 {
        (-complement).ln_1p()
    } else {
        p.ln()
    }
}

/// One branch (noise node) at one h: what the cell weights need.
#[derive(Clone, Copy, Default)]
struct Node {
    /// Computed for the current h when equal to [`Work::stamp`] (the values below are set).
    stamp: u32,
    /// p or q was clamped at `P_MIN` (derivatives zero).
    clamped: bool,
    /// Derivatives computed (in [`Work::deriv`]).
    deriv: bool,
    /// Log-weight of the node in the law (normalised).
    lnw: f64,
    lp: f64,
    lq: f64,
    /// `1/p`, `1/q` (clamped p, q).
    ip: f64,
    iq: f64,
}

/// `∇p`, `∇²p` of one node.
#[derive(Clone, Copy, Default)]
struct Deriv {
    dp: [f64; 4],
    d2p: [[f64; 4]; 4],
}

/// The noise law at one h: node `j` has the offset `η · de(j)` and log-weight `lnw(j)`.
#[derive(Clone, Copy)]
enum Law {
    TwoPoint,
    /// Trapezoid grid of `level` (step `dz`, `ln Σ w` = `norm`).
    Grid {
        level: u32,
        dz: f64,
        norm: f64,
    },
}

impl Law {
    #[inline]
    fn de(self, j: usize) -> f64 {
        match self {
            Law::TwoPoint => {
                if j == 0 {
                    1.0
                } else {
                    -1.0
                }
            }
            Law::Grid { dz, .. } => -GAUSS_Z_MAX + dz * j as f64,
        }
    }
    #[inline]
    fn lnw(self, j: usize) -> f64 {
        match self {
            Law::TwoPoint => -std::f64::consts::LN_2,
            Law::Grid { level, dz, norm } => GaussGrid::ln_weight(level, j, dz) - norm,
        }
    }
}

/// Reusable buffers of one likelihood evaluation; nodes are computed on first use. The buffers only
/// grow: `n` nodes are in use at the current h, and a node is current when its stamp is `stamp`.
struct Work {
    params: Params,
    h: f64,
    law: Law,
    n: usize,
    stamp: u32,
    nodes: Vec<Node>,
    /// Derivatives per node, valid where `nodes[j].deriv`.
    deriv: Vec<Deriv>,
    /// Nodes whose derivatives were computed at this h.
    touched: Vec<usize>,
    /// Log-weights, then unnormalised posterior weights, of the current cell on `lo..hi`.
    e: Vec<f64>,
    lo: usize,
    hi: usize,
    /// Per node: `Σ_c π A` and `Σ_c π (B + A²)` over the cells of the current h.
    t: Vec<f64>,
    s: Vec<f64>,
}

impl Work {
    fn new(params: &Params) -> Self {
        Work {
            params: *params,
            h: 0.0,
            law: Law::TwoPoint,
            n: 0,
            stamp: 0,
            nodes: Vec::new(),
            deriv: Vec::new(),
            touched: Vec::new(),
            e: Vec::new(),
            lo: 0,
            hi: 0,
            t: Vec::new(),
            s: Vec::new(),
        }
    }

    /// Starts field `h` (cells of at most `n_max` reads): the law's nodes, none computed yet.
    fn set_h(&mut self, kind: NoiseKind, h: f64, n_max: f64, grid: &GaussGrid) {
        self.h = h;
        let n = match kind {
            NoiseKind::TwoPoint => {
                self.law = Law::TwoPoint;
                2
            }
            NoiseKind::Gaussian => {
                let level = grid.level_for(&self.params, h, n_max);
                let norm = ln_norms().get(level as usize).copied().unwrap_or(0.0);
                self.law = Law::Grid {
                    level,
                    dz: GaussGrid::step(level),
                    norm,
                };
                GaussGrid::n_nodes(level)
            }
        };
        self.n = n;
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.nodes.iter_mut().for_each(|x| x.stamp = 0);
            self.stamp = 1;
        }
        if self.nodes.len() < n {
            self.nodes.resize(n, Node::default());
            self.deriv.resize(n, Deriv::default());
            self.e.resize(n, 0.0);
            self.t.resize(n, 0.0);
            self.s.resize(n, 0.0);
        }
        for &j in &self.touched {
            self.t[j] = 0.0;
            self.s[j] = 0.0;
        }
        self.touched.clear();
        if n <= EAGER_NODES {
            for j in 0..n {
                self.node(j);
            }
        }
    }

    /// Node `j`'s values (computed on first use).
    #[inline]
    fn node(&mut self, j: usize) -> Node {
        let node = &mut self.nodes[j];
        if node.stamp != self.stamp {
            let de = self.law.de(j);
            let pr = &self.params;
            let r = branch_response(pr, self.h, pr.eta * de, de, Order::Value);
            let (p, q) = (r.p.max(P_MIN), r.q.max(P_MIN));
            *node = Node {
                stamp: self.stamp,
                clamped: r.p < P_MIN || r.q < P_MIN,
                deriv: false,
                lnw: self.law.lnw(j),
                lp: ln_prob(p, q),
                lq: ln_prob(q, p),
                ip: 1.0 / p,
                iq: 1.0 / q,
            };
        }
        *node
    }

    /// Node `j` with its derivatives up to `order` (computed on first use, zero where clamped).
    fn ensure(&mut self, j: usize, order: Order) -> (Node, &Deriv) {
        let node = self.node(j);
        if !node.deriv {
            self.nodes[j].deriv = true;
            self.touched.push(j);
            let d = &mut self.deriv[j];
            if node.clamped {
                *d = Deriv::default();
            } else {
                let de = self.law.de(j);
                let pr = &self.params;
                let r = branch_response(pr, self.h, pr.eta * de, de, order);
                d.dp = r.dp;
                d.d2p = r.d2p;
            }
        }
        (node, &self.deriv[j])
    }

    /// `ln w_j + a_j` of one cell.
    #[inline]
    fn log_term(&mut self, j: usize, k: f64, nk: f64) -> f64 {
        let node = self.node(j);
        let mut t = node.lnw;
        if k > 0.0 {
            t += k * node.lp;
        }
        if nk > 0.0 {
            t += nk * node.lq;
        }
        t
    }

    /// The window `lo..hi` of nodes with non-negligible posterior weight for one cell, their log
    /// terms in `e`, and the largest. On a grid: the coarsest level's nodes locate the peak, and the
    /// window grows from there until the terms fall below the largest by more than [`NEGLIGIBLE`] on
    /// both sides (the binomial factor is unimodal in z, the response being monotone in the field).
    /// Any coarse node outside the window that is not negligible falls back to every node.
    fn window(&mut self, k: f64, nk: f64) -> f64 {
        let n = self.n;
        let level = match self.law {
            Law::Grid { level, .. } if n > EAGER_NODES => level,
            _ => {
                // every node computed in `set_h`
                let mut tmax = f64::NEG_INFINITY;
                for (node, e) in self.nodes[..n].iter().zip(self.e.iter_mut()) {
                    let mut t = node.lnw;
                    if k > 0.0 {
                        t += k * node.lp;
                    }
                    if nk > 0.0 {
                        t += nk * node.lq;
                    }
                    *e = t;
                    tmax = tmax.max(t);
                }
                self.lo = 0;
                self.hi = n;
                return tmax;
            }
        };
        let stride = 1usize << level;
        let (mut tmax, mut j0) = (f64::NEG_INFINITY, 0);
        for j in (0..n).step_by(stride) {
            let t = self.log_term(j, k, nk);
            self.e[j] = t;
            if t > tmax {
                (tmax, j0) = (t, j);
            }
        }
        let mut hi = j0 + 1;
        while hi < n {
            let t = self.log_term(hi, k, nk);
            self.e[hi] = t;
            hi += 1;
            tmax = tmax.max(t);
            if t < tmax + NEGLIGIBLE {
                break;
            }
        }
        let mut lo = j0;
        while lo > 0 {
            let t = self.log_term(lo - 1, k, nk);
            self.e[lo - 1] = t;
            lo -= 1;
            tmax = tmax.max(t);
            if t < tmax + NEGLIGIBLE {
                break;
            }
        }
        let outside = (0..n)
            .step_by(stride)
            .any(|j| (j < lo || j >= hi) && self.e[j] >= tmax + NEGLIGIBLE);
        if outside {
            for j in 0..n {
                self.e[j] = self.log_term(j, k, nk);
            }
            tmax = self.e[..n]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            (lo, hi) = (0, n);
        }
        self.lo = lo;
        self.hi = hi;
        tmax
    }

    /// The unnormalised posterior weights `e_j = w_j e^{a_j} / max` of one cell on `lo..hi` (0 where
    /// negligible) and `(ln max, Σ e_j)`: `ℓ_c = ln max + ln Σ e_j`.
    fn weights(&mut self, k: f64, nk: f64) -> (f64, f64) {
        let tmax = self.window(k, nk);
        let mut sum = 0.0;
        for e in &mut self.e[self.lo..self.hi] {
            let d = *e - tmax;
            *e = if d == 0.0 {
                1.0
            } else if d > NEGLIGIBLE {
                d.exp()
            } else {
                0.0
            };
            sum += *e;
        }
        (tmax, sum)
    }
}

/// Cells `[i, end)` of equal h, and their largest reads.
fn h_group(cells: &QubitCounts, i: usize) -> (usize, f64) {
    let h = cells.h[i];
    let mut end = i;
    let mut n_max = 0.0f64;
    while end < cells.len() && cells.h[end] == h {
        n_max = n_max.max(cells.n[end]);
        end += 1;
    }
    (end, n_max)
}

/// `Σ_x Σ_y` upper triangle of `w · a bᵀ` (symmetric use).
#[inline]
fn add_outer_upper(m: &mut [[f64; 4]; 4], a: &[f64; 4], b: &[f64; 4], w: f64) {
    for x in 0..4 {
        let wa = w * a[x];
        for y in x..4 {
            m[x][y] += wa * b[y];
        }
    }
}

fn symmetrize(m: &mut [[f64; 4]; 4]) {
    for x in 0..4 {
        for y in 0..x {
            m[x][y] = m[y][x];
        }
    }
}

/// Accumulates `Σ ln s` of many per-cell sums `s ∈ [1, nodes]` with few logarithms.
struct LnProduct {
    acc: f64,
    prod: f64,
}

impl LnProduct {
    fn new() -> Self {
        LnProduct {
            acc: 0.0,
            prod: 1.0,
        }
    }
    #[inline]
    fn push(&mut self, s: f64) {
        self.prod *= s;
        if self.prod > 1e200 {
            self.acc += self.prod.ln();
            self.prod = 1.0;
        }
    }
    fn total(&self) -> f64 {
        self.acc + self.prod.ln()
    }
}

/// One cell as the sums see it: its reads, its share of the noise law, its ℓ_c.
struct Cell {
    k: f64,
    nk: f64,
    /// `Σ_j e_j` of [`Work::weights`] and its inverse.
    sum: f64,
    inv: f64,
}

/// Runs `cell` on every cell (grouped by h, the nodes of its h set up in `w`, the cell's weights
/// computed) and `h_done` after the cells of each h.
fn visit_cells(
    kind: NoiseKind,
    params: &Params,
    cells: &QubitCounts,
    grid: Option<&GaussGrid>,
    mut cell: impl FnMut(&mut Work, usize, &Cell, f64),
    mut h_done: impl FnMut(&Work),
) {
    let grid = grid.copied().unwrap_or_default();
    let mut w = Work::new(params);
    let mut i = 0;
    while i < cells.len() {
        let (end, n_max) = h_group(cells, i);
        w.set_h(kind, cells.h[i], n_max, &grid);
        for c in i..end {
            let (k, n) = (cells.k[c], cells.n[c]);
            let nk = n - k;
            let (tmax, sum) = w.weights(k, nk);
            let cc = Cell {
                k,
                nk,
                sum,
                inv: 1.0 / sum,
            };
            cell(&mut w, c, &cc, tmax);
        }
        h_done(&w);
        i = end;
    }
}

/// Calls `f(j, π_j, A_j, B_j, derivatives of node j)` for every node of the cell's window with a
/// non-negligible weight (`B_j` only for `Order::Hessian`, else 0).
fn node_terms(
    w: &mut Work,
    c: &Cell,
    order: Order,
    mut f: impl FnMut(&mut Work, usize, f64, f64, f64),
) {
    for j in w.lo..w.hi {
        let e = w.e[j];
        if e == 0.0 {
            continue;
        }
        let (node, _) = w.ensure(j, order);
        let a = c.k * node.ip - c.nk * node.iq;
        let b = if order == Order::Hessian {
            -c.k * node.ip * node.ip - c.nk * node.iq * node.iq
        } else {
            0.0
        };
        f(w, j, e * c.inv, a, b);
    }
}

/// The per-call log-likelihood `Σ_c ℓ_c` with derivatives up to `order` with respect to `[β, b, γ, η]`
/// (η holds σ for the Gaussian law; `grid` None: the default rule). `pearson_chi2` is left at 0.
pub fn call_log_likelihood(
    kind: NoiseKind,
    params: &Params,
    cells: &QubitCounts,
    grid: Option<&GaussGrid>,
    order: Order,
) -> LogLik {
    let mut out = LogLik::default();
    let mut ln_sums = LnProduct::new();
    let mut gg = [[0.0; 4]; 4];
    let mut grad = [0.0; 4];
    let mut hess = [[0.0; 4]; 4];
    visit_cells(
        kind,
        params,
        cells,
        grid,
        |w, _, c, tmax| {
            out.ll += tmax;
            ln_sums.push(c.sum);
            if order == Order::Value {
                return;
            }
            // per node Σ_c π A (in t) and Σ_c π (B + A²) (in s); per cell ∇ℓ_c ∇ℓ_cᵀ
            let mut g = [0.0; 4];
            node_terms(w, c, order, |w, j, pi, a, b| {
                let u = pi * a;
                let dp = &w.deriv[j].dp;
                for x in 0..4 {
                    g[x] += u * dp[x];
                }
                w.t[j] += u;
                w.s[j] += pi * (b + a * a);
            });
            for x in 0..4 {
                grad[x] += g[x];
            }
            if order == Order::Hessian {
                add_outer_upper(&mut gg, &g, &g, 1.0);
            }
        },
        |w| {
            if order != Order::Hessian {
                return;
            }
            for &j in &w.touched {
                let (t, s, d) = (w.t[j], w.s[j], &w.deriv[j]);
                add_outer_upper(&mut hess, &d.dp, &d.dp, s);
                for x in 0..4 {
                    for y in x..4 {
                        hess[x][y] += t * d.d2p[x][y];
                    }
                }
            }
        },
    );
    out.ll += ln_sums.total();
    out.grad = grad;
    if order == Order::Hessian {
        for x in 0..4 {
            for y in x..4 {
                out.hess[x][y] = hess[x][y] - gg[x][y];
            }
        }
        symmetrize(&mut out.hess);
    }
    out
}

/// Visits every cell with its ℓ_c and, up to `order`, its gradient and Hessian (as
/// [`call_log_likelihood`], cell by cell: the robust errors' scores). `pearson_chi2` is left at 0.
pub fn for_each_call(
    kind: NoiseKind,
    params: &Params,
    cells: &QubitCounts,
    grid: Option<&GaussGrid>,
    order: Order,
    mut visit: impl FnMut(usize, &LogLik),
) {
    visit_cells(
        kind,
        params,
        cells,
        grid,
        |w, idx, c, tmax| {
            let mut out = LogLik {
                ll: tmax + c.sum.ln(),
                ..Default::default()
            };
            if order != Order::Value {
                node_terms(w, c, order, |w, j, pi, a, b| {
                    let d = &w.deriv[j];
                    for x in 0..4 {
                        out.grad[x] += pi * a * d.dp[x];
                    }
                    if order == Order::Hessian {
                        add_outer_upper(&mut out.hess, &d.dp, &d.dp, pi * (b + a * a));
                        for x in 0..4 {
                            for y in x..4 {
                                out.hess[x][y] += pi * a * d.d2p[x][y];
                            }
                        }
                    }
                });
                if order == Order::Hessian {
                    let g = out.grad;
                    add_outer_upper(&mut out.hess, &g, &g, -1.0);
                    symmetrize(&mut out.hess);
                }
            }
            visit(idx, &out);
        },
        |_| {},
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{log_likelihood, p_down, Response};

    fn cells() -> QubitCounts {
        QubitCounts::from_triples([
            (-0.2, 40, 1000),
            (-0.2, 90, 1000),
            (0.0, 420, 1000),
            (0.0, 610, 1000),
            (0.0, 480, 1000),
            (0.1, 800, 1000),
            (0.5, 990, 1000),
        ])
    }

    /// The textbook mixture over explicit nodes `(de, weight)`, cell by cell, without any of the
    /// shortcuts: `ln Σ w_i Bin_i` by direct summation and the derivative formulas of the module doc.
    fn naive(params: &Params, d: &QubitCounts, nodes: &[(f64, f64)]) -> LogLik {
        let mut out = LogLik::default();
        for c in 0..d.len() {
            let (h, k, n) = (d.h[c], d.k[c], d.n[c]);
            let br: Vec<Response> = nodes
                .iter()
                .map(|&(de, _)| branch_response(params, h, params.eta * de, de, Order::Hessian))
                .collect();
            let a: Vec<f64> = br
                .iter()
                .map(|r| k * r.p.ln() + (n - k) * r.q.ln())
                .collect();
            let amax = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let l: f64 = nodes
                .iter()
                .zip(&a)
                .map(|(nw, ai)| nw.1 * (ai - amax).exp())
                .sum();
            out.ll += amax + l.ln();
            let mut g = [0.0; 4];
            let mut hs = [[0.0; 4]; 4];
            for ((nw, ai), r) in nodes.iter().zip(&a).zip(&br) {
                let pi = nw.1 * (ai - amax).exp() / l;
                let aa = k / r.p - (n - k) / r.q;
                let bb = -k / (r.p * r.p) - (n - k) / (r.q * r.q);
                for x in 0..4 {
                    g[x] += pi * aa * r.dp[x];
                    for y in 0..4 {
                        hs[x][y] += pi * ((bb + aa * aa) * r.dp[x] * r.dp[y] + aa * r.d2p[x][y]);
                    }
                }
            }
            for x in 0..4 {
                out.grad[x] += g[x];
                for y in 0..4 {
                    out.hess[x][y] += hs[x][y] - g[x] * g[y];
                }
            }
        }
        out
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn matches_the_textbook_mixture() {
        let d = cells();
        for p in [
            Params::new(6.0, 0.01, 0.07, 0.03),
            Params::new(12.0, -0.02, 0.0, 0.2),
            Params::new(3.0, 0.0, 0.1, 0.0),
        ] {
            let two = [(1.0, 0.5), (-1.0, 0.5)];
            let e = call_log_likelihood(NoiseKind::TwoPoint, &p, &d, None, Order::Hessian);
            let r = naive(&p, &d, &two);
            assert!(close(e.ll, r.ll, 1e-12), "{} vs {}", e.ll, r.ll);
            for x in 0..4 {
                assert!(close(e.grad[x], r.grad[x], 1e-9), "{p:?} grad {x}");
                for y in 0..4 {
                    assert!(close(e.hess[x][y], r.hess[x][y], 1e-9), "{p:?} hess {x}{y}");
                }
            }
            // the Gaussian law on a fixed level-3 grid against the same grid done by hand
            let level = 3;
            let dz = GaussGrid::step(level);
            let zs: Vec<f64> = (0..GaussGrid::n_nodes(level))
                .map(|j| -GAUSS_Z_MAX + dz * j as f64)
                .collect();
            let wt: Vec<f64> = (0..zs.len())
                .map(|j| {
                    let end = j == 0 || j + 1 == zs.len();
                    (-0.5 * zs[j] * zs[j]).exp() * if end { 0.5 } else { 1.0 }
                })
                .collect();
            let tot: f64 = wt.iter().sum();
            let nodes: Vec<(f64, f64)> = zs.iter().zip(&wt).map(|(&z, w)| (z, w / tot)).collect();
            let g = GaussGrid::fixed(level);
            let e = call_log_likelihood(NoiseKind::Gaussian, &p, &d, Some(&g), Order::Hessian);
            let r = naive(&p, &d, &nodes);
            assert!(close(e.ll, r.ll, 1e-12), "{} vs {}", e.ll, r.ll);
            for x in 0..4 {
                assert!(close(e.grad[x], r.grad[x], 1e-9), "{p:?} gauss grad {x}");
                for y in 0..4 {
                    assert!(
                        close(e.hess[x][y], r.hess[x][y], 1e-9),
                        "{p:?} gauss hess {x}{y}"
                    );
                }
            }
            // the per-cell visitor sums to the same
            let mut tot = LogLik::default();
            for_each_call(NoiseKind::TwoPoint, &p, &d, None, Order::Hessian, |_, c| {
                tot.ll += c.ll;
                for x in 0..4 {
                    tot.grad[x] += c.grad[x];
                    for y in 0..4 {
                        tot.hess[x][y] += c.hess[x][y];
                    }
                }
            });
            let e = call_log_likelihood(NoiseKind::TwoPoint, &p, &d, None, Order::Hessian);
            assert!(close(tot.ll, e.ll, 1e-12));
            for x in 0..4 {
                assert!(close(tot.grad[x], e.grad[x], 1e-9));
                for y in 0..4 {
                    assert!(close(tot.hess[x][y], e.hess[x][y], 1e-9));
                }
            }
        }
    }

    /// The adaptive z rule agrees with a much finer fixed grid (level 9, step 0.001) to 1e-10 in ℓ and
    /// its derivatives, from few reads to sharp cells of 10⁵ reads.
    #[test]
    fn adaptive_gaussian_rule_is_accurate() {
        let fine = GaussGrid::fixed(MAX_LEVEL);
        for (reads, beta, sigma) in [
            (100u32, 5.0, 0.02),
            (10_000, 6.0, 0.01),
            (100_000, 12.0, 0.03),
        ] {
            let truth = Params::new(beta, 0.005, 0.05, sigma);
            let d = QubitCounts::from_triples((0..41).flat_map(|i| {
                let h = -0.5 + 0.025 * i as f64;
                (0..3).map(move |c| {
                    let shift = [-1.0, 0.3, 1.2][c] * sigma;
                    let p = p_down(
                        NoiseKind::TwoPoint,
                        &Params {
                            b: truth.b + shift,
                            eta: 0.0,
                            ..truth
                        },
                        h,
                    );
                    (h, (p * f64::from(reads)).round() as u32, reads)
                })
            }));
            let a = call_log_likelihood(NoiseKind::Gaussian, &truth, &d, None, Order::Hessian);
            let r =
                call_log_likelihood(NoiseKind::Gaussian, &truth, &d, Some(&fine), Order::Hessian);
            assert!(close(a.ll, r.ll, 1e-13), "{reads}: {} vs {}", a.ll, r.ll);
            for x in 0..4 {
                assert!(
                    close(a.grad[x], r.grad[x], 1e-9),
                    "{reads} grad {x}: {} vs {}",
                    a.grad[x],
                    r.grad[x]
                );
                for y in 0..4 {
                    assert!(
                        close(a.hess[x][y], r.hess[x][y], 1e-8),
                        "{reads} hess {x}{y}"
                    );
                }
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let d = cells();
        for kind in [NoiseKind::TwoPoint, NoiseKind::Gaussian] {
            let p = [6.0, 0.01, 0.07, 0.03];
            let e = call_log_likelihood(kind, &Params::from_array(p), &d, None, Order::Hessian);
            for i in 0..4 {
                let step = 1e-6 * p[i].abs().max(1e-2);
                let (mut lo, mut hi) = (p, p);
                lo[i] -= step;
                hi[i] += step;
                let f = |x: [f64; 4]| {
                    call_log_likelihood(kind, &Params::from_array(x), &d, None, Order::Gradient)
                };
                let (el, eh) = (f(lo), f(hi));
                let num = (eh.ll - el.ll) / (2.0 * step);
                assert!(
                    (num - e.grad[i]).abs() < 1e-5 * (1.0 + num.abs()),
                    "{kind:?} grad {i}: {num} vs {}",
                    e.grad[i]
                );
                for j in 0..4 {
                    let num = (eh.grad[j] - el.grad[j]) / (2.0 * step);
                    assert!(
                        (num - e.hess[i][j]).abs() < 1e-4 * (1.0 + num.abs()),
                        "{kind:?} hess {i}{j}: {num} vs {}",
                        e.hess[i][j]
                    );
                }
            }
        }
    }

    #[test]
    fn one_read_per_call_is_the_pooled_binomial() {
        // n = 1: a mixture of Bernoullis is a Bernoulli of the mean response.
        let d = QubitCounts::from_triples([
            (-0.1, 0, 1),
            (-0.1, 1, 1),
            (0.05, 1, 1),
            (0.3, 1, 1),
            (0.3, 0, 1),
        ]);
        let p = Params::new(7.0, 0.02, 0.1, 0.04);
        let per_call = call_log_likelihood(NoiseKind::TwoPoint, &p, &d, None, Order::Value).ll;
        let pooled = log_likelihood(NoiseKind::TwoPoint, &p, &d, Order::Value).ll;
        assert!((per_call - pooled).abs() < 1e-12, "{per_call} vs {pooled}");
        // and the Gaussian grid reproduces the Gaussian response
        let per_call = call_log_likelihood(NoiseKind::Gaussian, &p, &d, None, Order::Value).ll;
        let pooled = log_likelihood(NoiseKind::Gaussian, &p, &d, Order::Value).ll;
        assert!((per_call - pooled).abs() < 1e-7, "{per_call} vs {pooled}");
        assert!(p_down(NoiseKind::TwoPoint, &p, 0.0) > 0.0);
    }
}
