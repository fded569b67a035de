//! One (h, coupler) row of the crosstalk test: the connected correlation of the pair's reads at one h,
//! its response to a small coupling and its variance under independence (docs/analysis.md,
//! "Crosstalk"; physics.md §5).
//!
//! **Within calls (exact).** When the pair's table is complete at h (its pair reads are all of each
//! qubit's reads there, so both qubits were read in the same calls) and the sweep keeps per-call blocks,
//! the correlation is centred within each block b (n_b reads, magnetisations `x_ub`, `x_vb`,
//! `s² = 1 − x²`):
//!
//! ```text
//! C_h = (2a/n − 1) − Σ_b (n_b/n) x_ub x_vb        E[C_h] ≈ −K w_h,   w_h = Σ_b (n_b/n) s²_ub s²_vb
//! V_h = Σ_b (n_b/n)² s²_ub s²_vb / (n_b − 1)
//! ```
//!
//! Within one call the reads are exchangeable and the two qubits' noise draws are independent, so under
//! independence the agreements given the block's counts are hypergeometric and `V_h` is their exact
//! variance: a qubit's own call-to-call noise moves its block marginal, which the centring removes, and
//! needs no model. A block of k > 1 calls of r reads adds `((k − 1)/k)(r − 1) v_u v_v / n_b` per block
//! (the call-to-call variances v of [`super::noise`]), and its response uses the within-call variances
//! `s² − v`. Without blocks the whole row is one block.
//!
//! **Modelled (fallback).** Otherwise (the pair saw the same field in only some of the qubits' calls, as
//! with several spin-reversal gauge pairs per h) the pair's own marginals are unknown; with the row's
//! marginals `m`, `σ² = 1 − m²`, `f = n / N` the pair's share of each qubit's reads:
//!
//! ```text
//! C_h = (2a/n − 1) − m_u m_v,    w_h = (σ_u² − v_u)(σ_v² − v_v)
//! V_h = [σ_u² σ_v² + (r − 1) v_u v_v + (1 − f_u) m_v² (σ_u² + (r − 1) v_u) + (1 − f_v) m_u² (σ_v² + (r − 1) v_v)] / n
//! ```

use super::coupling::Part;
use crate::sweep::Sweep;

/// What every row needs from the sweep.
pub(super) struct RowData<'a> {
    pub sweep: &'a Sweep,
    /// Call-to-call variance of m per sweep column and h ([`super::noise::call_variance_table`]).
    pub v_table: &'a [Vec<f64>],
    /// Reads per call, when known.
    pub reads_per_call: Option<f64>,
}

/// The test quantities of one row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RowTerm {
    /// Connected correlation (centred within the row's parts).
    pub c: f64,
    /// Response to a small coupling: `E[C] ≈ −K w`.
    pub w: f64,
    /// Variance of C under independence.
    pub var: f64,
    /// The within-call part of `var` (equal to it when every part is one call).
    pub var_within: f64,
    /// Correlation coefficient `C / Σ_b (n_b/n) s_ub s_vb`.
    pub rho: f64,
    /// Centred within the pair's own reads (complete table); its parts went to the caller's list.
    pub exact: bool,
}

impl RowData<'_> {
    /// The row of coupler columns `(iu, iv)` at h row `ih` with `a` agreements of `n` pair reads; the
    /// parts of a complete table are appended to `parts` (for the coupling estimate).
    pub fn row(
        &self,
        ih: usize,
        (iu, iv): (usize, usize),
        (a, n): (u32, u32),
        parts: &mut Vec<Part>,
    ) -> Option<RowTerm> {
        let (_, nu) = self.sweep.counts.get(ih, iu);
        let (_, nv) = self.sweep.counts.get(ih, iv);
        if n == 0 || nu == 0 || nv == 0 {
            return None;
        }
        if n == nu && n == nv {
            let start = parts.len();
            self.block_parts(ih, (iu, iv), n, parts);
            let term = self.within(ih, (iu, iv), (a, n), &parts[start..]);
            if term.is_none() {
                parts.truncate(start);
            }
            return term;
        }
        self.modelled(ih, (iu, iv), (a, n))
    }

    /// The parts of a complete row: its per-call blocks when they split the pair's reads consistently,
    /// else the whole row.
    fn block_parts(&self, ih: usize, (iu, iv): (usize, usize), n: u32, parts: &mut Vec<Part>) {
        let start = parts.len();
        let mut total = 0u64;
        for b in &self.sweep.blocks {
            let (du, ru) = b.get(ih, iu);
            let (dv, rv) = b.get(ih, iv);
            if ru != rv {
                parts.truncate(start);
                break;
            }
            if ru > 0 {
                let r = f64::from(ru);
                parts.push(Part {
                    n: r,
                    pu: f64::from(du) / r,
                    pv: f64::from(dv) / r,
                });
                total += u64::from(ru);
            }
        }
        if parts.len() == start || total != u64::from(n) {
            parts.truncate(start);
            let (du, _) = self.sweep.counts.get(ih, iu);
            let (dv, _) = self.sweep.counts.get(ih, iv);
            let r = f64::from(n);
            parts.push(Part {
                n: r,
                pu: f64::from(du) / r,
                pv: f64::from(dv) / r,
            });
        }
    }

    /// The exact within-call row over `parts` (plus the call-to-call term of parts of several calls).
    fn within(
        &self,
        ih: usize,
        (iu, iv): (usize, usize),
        (a, n): (u32, u32),
        parts: &[Part],
    ) -> Option<RowTerm> {
        let nf = f64::from(n);
        let (vu_call, vv_call) = (self.v_table[iu][ih], self.v_table[iv][ih]);
        let (mut prod, mut w, mut var_within, mut var_calls, mut scale) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for p in parts {
            let (xu, xv) = (1.0 - 2.0 * p.pu, 1.0 - 2.0 * p.pv);
            let (su, sv) = ((1.0 - xu * xu).max(0.0), (1.0 - xv * xv).max(0.0));
            let calls = self
                .reads_per_call
                .map_or(1.0, |r| (p.n / r).round().max(1.0));
            let (vu, vv) = if calls > 1.0 {
                (vu_call.min(su), vv_call.min(sv))
            } else {
                (0.0, 0.0)
            };
            let r = p.n / calls;
            prod += p.n * xu * xv;
            w += p.n * (su - vu) * (sv - vv);
            var_within += p.n * p.n * su * sv / (p.n - 1.0).max(1.0);
            var_calls += p.n * (calls - 1.0) / calls * (r - 1.0).max(0.0) * vu * vv;
            scale += p.n * (su * sv).sqrt();
        }
        let (var_within, var) = (var_within / (nf * nf), (var_within + var_calls) / (nf * nf));
        let (w, scale) = (w / nf, scale / nf);
        if var.is_nan() || var <= 0.0 || w.is_nan() || w <= 0.0 {
            return None;
        }
        let c = (2.0 * f64::from(a) / nf - 1.0) - prod / nf;
        Some(RowTerm {
            c,
            w,
            var,
            var_within,
            rho: c / scale,
            exact: true,
        })
    }

    /// The modelled row of an incomplete table (row marginals and the call-to-call term).
    fn modelled(&self, ih: usize, (iu, iv): (usize, usize), (a, n): (u32, u32)) -> Option<RowTerm> {
        let (du, nu) = self.sweep.counts.get(ih, iu);
        let (dv, nv) = self.sweep.counts.get(ih, iv);
        let m_of = |d: u32, r: u32| 1.0 - 2.0 * f64::from(d) / f64::from(r);
        let (xu, xv) = (m_of(du, nu), m_of(dv, nv));
        let (su, sv) = ((1.0 - xu * xu).max(0.0), (1.0 - xv * xv).max(0.0));
        let (vu, vv) = (self.v_table[iu][ih].min(su), self.v_table[iv][ih].min(sv));
        let nf = f64::from(n);
        let r = self.reads_per_call.unwrap_or(nf).clamp(1.0, nf);
        let fu = (nf / f64::from(nu)).min(1.0);
        let fv = (nf / f64::from(nv)).min(1.0);
        let within = su * sv + (1.0 - fu) * xv * xv * su + (1.0 - fv) * xu * xu * sv;
        let var = (su * sv
            + (r - 1.0) * vu * vv
            + (1.0 - fu) * xv * xv * (su + (r - 1.0) * vu)
            + (1.0 - fv) * xu * xu * (sv + (r - 1.0) * vv))
            / nf;
        let w = (su - vu).max(0.0) * (sv - vv).max(0.0);
        if var.is_nan() || var <= 0.0 || w.is_nan() || w <= 0.0 {
            return None;
        }
        let c = (2.0 * f64::from(a) / nf - 1.0) - xu * xv;
        Some(RowTerm {
            c,
            w,
            var,
            var_within: within / nf,
            rho: c / (su * sv).sqrt(),
            exact: false,
        })
    }
}
