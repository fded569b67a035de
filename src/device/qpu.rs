//! The virtual QPU: one programming cycle (a SAPI call) at a time, in the physical frame.
//!
//! For a qubit with true (β, b, γ, η) at programmed field x, in a call whose noise draw for that qubit is
//! δ (physics.md §2 with the noise branch fixed for the whole call):
//!
//! ```text
//! a = x + b + δ,  c = γ x,  r = sqrt(a² + c²),  m = a tanh(β r) / r,  p_down = (1 + m) / 2
//! p_read = ε + (1 - 2ε) p_down                       (ε: readout flip probability)
//! ```
//!
//! With δ = ±η at random per call, the pooled response is exactly the QASA model of physics.md §2 and the
//! counts of one call share the draw (over-dispersion, §3.5).
//!
//! A planted crosstalk coupling J between u and v (on a matching) is sampled exactly from the pair's four
//! states, `P(s_u, s_v) ∝ exp(-F_u s_u - F_v s_v - K s_u s_v)` with `F = atanh(m)` (which reproduces each
//! qubit's single-qubit response when J = 0) and `K = sqrt(β_u β_v) J`; readout flips act after.

use super::truth::{generate, DeviceConfig, NoiseModel, Truth};
use crate::topology::WorkingGraph;
use rand::Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;

/// `tanh(x)/x`, stable at 0.
#[inline]
pub(crate) fn tanhc(x: f64) -> f64 {
    if x.abs() < 1e-4 {
        1.0 - x * x / 3.0
    } else {
        x.tanh() / x
    }
}

/// `m = <-s>` of one noise branch: `a tanh(β r)/r` with `r = sqrt(a² + c²)`.
#[inline]
pub(crate) fn magnetization(a: f64, c: f64, beta: f64) -> f64 {
    let r = a.hypot(c);
    a * beta * tanhc(beta * r)
}

/// Per-read spins of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSamples {
    /// Indices into `graph().qubits` of the qubits that returned spins (non-NaN fields), increasing.
    pub active: Vec<usize>,
    pub num_reads: usize,
    /// Spins ±1, row-major `[read][active]`.
    pub spins: Vec<i8>,
}

/// A simulated QPU with known true parameters.
#[derive(Clone, Debug)]
pub struct VirtualQpu {
    graph: WorkingGraph,
    truth: Truth,
    /// Partner of each qubit (graph index) under planted crosstalk, with K/β̄ = J.
    partner: Vec<Option<(usize, f64)>>,
}

impl VirtualQpu {
    /// Builds a device on a working graph, drawing its truth from `config.seed`.
    pub fn new(graph: WorkingGraph, config: &DeviceConfig) -> Self {
        let truth = generate(&graph, config);
        Self::with_truth(graph, truth)
    }

    /// A device with a given truth (one entry per working qubit, in graph order).
    pub fn with_truth(graph: WorkingGraph, truth: Truth) -> Self {
        let mut partner = vec![None; graph.qubits.len()];
        let pos: std::collections::HashMap<u32, usize> = graph
            .qubits
            .iter()
            .enumerate()
            .map(|(i, &q)| (q, i))
            .collect();
        for c in &truth.crosstalk {
            if let (Some(&iu), Some(&iv)) = (pos.get(&c.u), pos.get(&c.v)) {
                partner[iu] = Some((iv, c.j));
                partner[iv] = Some((iu, c.j));
            }
        }
        VirtualQpu {
            graph,
            truth,
            partner,
        }
    }

    pub fn graph(&self) -> &WorkingGraph {
        &self.graph
    }

    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Crosstalk partner (graph index) and J of a qubit (graph index).
    pub fn partner(&self, i: usize) -> Option<(usize, f64)> {
        self.partner[i]
    }

    /// Draws the per-call noise offsets δ of every qubit (0 for [`NoiseModel::Read`]).
    pub fn draw_call_noise(&self, rng: &mut Pcg64Mcg) -> Vec<f64> {
        let noise = self.truth.config.noise;
        self.truth
            .qubits
            .iter()
            .map(|q| match noise {
                NoiseModel::CallTwoPoint => {
                    if rng.random::<bool>() {
                        q.eta
                    } else {
                        -q.eta
                    }
                }
                NoiseModel::CallGaussian => {
                    q.eta * Distribution::<f64>::sample(&StandardNormal, rng)
                }
                NoiseModel::Read => 0.0,
            })
            .collect()
    }

    /// `m = <-s>` of qubit `i` at field `x` in a call with noise offset `delta`, before readout errors.
    pub fn call_magnetization(&self, i: usize, x: f64, delta: f64, anneal_time_us: f64) -> f64 {
        let q = &self.truth.qubits[i];
        let beta = self.beta(i, anneal_time_us);
        if self.truth.config.noise == NoiseModel::Read {
            0.5 * (magnetization(x + q.b + q.eta, q.gamma * x, beta)
                + magnetization(x + q.b - q.eta, q.gamma * x, beta))
        } else {
            magnetization(x + q.b + delta, q.gamma * x, beta)
        }
    }

    /// The four-state distribution of a planted pair `(i, j)`: probabilities of
    /// `(s_i, s_j) = (-,-), (-,+), (+,-), (+,+)` before readout errors.
    pub fn pair_probabilities(
        &self,
        m_i: f64,
        m_j: f64,
        beta_i: f64,
        beta_j: f64,
        j: f64,
    ) -> [f64; 4] {
        const LIM: f64 = 1.0 - 1e-15;
        let fi = m_i.clamp(-LIM, LIM).atanh();
        let fj = m_j.clamp(-LIM, LIM).atanh();
        let k = (beta_i * beta_j).sqrt() * j;
        // Energies -F_i s_i - F_j s_j - K s_i s_j → weights exp(F_i s'_i + ...) with s' = -s.
        let e = [fi + fj - k, fi - fj + k, -fi + fj + k, -fi - fj - k];
        let mx = e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = e.iter().map(|x| (x - mx).exp()).collect();
        let z: f64 = w.iter().sum();
        [w[0] / z, w[1] / z, w[2] / z, w[3] / z]
    }

    /// β of qubit `i` at an anneal time.
    pub fn beta(&self, i: usize, anneal_time_us: f64) -> f64 {
        let factor = if anneal_time_us == self.truth.config.anneal_time_us {
            self.truth.beta_time_factor
        } else {
            super::truth::beta_time_factor(anneal_time_us, self.truth.config.beta_time_exponent)
        };
        self.truth.qubits[i].beta_ref * factor
    }

    /// One programming cycle with per-read spins. `fields[i]` is the field on `graph().qubits[i]`; NaN = the
    /// qubit is not used and returns no spin. Planted crosstalk acts between active partners.
    pub fn sample_raw(
        &self,
        fields: &[f64],
        num_reads: usize,
        anneal_time_us: f64,
        rng: &mut Pcg64Mcg,
    ) -> RawSamples {
        let n = self.graph.qubits.len();
        let active: Vec<usize> = (0..n.min(fields.len()))
            .filter(|&i| !fields[i].is_nan())
            .collect();
        let col: Vec<Option<usize>> = {
            let mut c = vec![None; n];
            for (k, &i) in active.iter().enumerate() {
                c[i] = Some(k);
            }
            c
        };
        let delta = self.draw_call_noise(rng);
        let width = active.len();
        let mut spins = vec![1i8; num_reads * width];
        for (k, &i) in active.iter().enumerate() {
            let eps = self.truth.qubits[i].readout_flip;
            match self.partner[i] {
                Some((j, jval)) if col[j].is_some() => {
                    if j < i {
                        continue; // sampled with its partner
                    }
                    let kj = col[j].unwrap_or(0);
                    let mi = self.call_magnetization(i, fields[i], delta[i], anneal_time_us);
                    let mj = self.call_magnetization(j, fields[j], delta[j], anneal_time_us);
                    let p = self.pair_probabilities(
                        mi,
                        mj,
                        self.beta(i, anneal_time_us),
                        self.beta(j, anneal_time_us),
                        jval,
                    );
                    let epsj = self.truth.qubits[j].readout_flip;
                    for r in 0..num_reads {
                        let u: f64 = rng.random();
                        let (si, sj) = if u < p[0] {
                            (-1, -1)
                        } else if u < p[0] + p[1] {
                            (-1, 1)
                        } else if u < p[0] + p[1] + p[2] {
                            (1, -1)
                        } else {
                            (1, 1)
                        };
                        let fi = eps > 0.0 && rng.random::<f64>() < eps;
                        let fj = epsj > 0.0 && rng.random::<f64>() < epsj;
                        spins[r * width + k] = if fi { -si } else { si };
                        spins[r * width + kj] = if fj { -sj } else { sj };
                    }
                }
                _ => {
                    let m = self.call_magnetization(i, fields[i], delta[i], anneal_time_us);
                    let p = eps + (1.0 - 2.0 * eps) * 0.5 * (1.0 + m);
                    for r in 0..num_reads {
                        if rng.random::<f64>() < p {
                            spins[r * width + k] = -1;
                        }
                    }
                }
            }
        }
        RawSamples {
            active,
            num_reads,
            spins,
        }
    }

    /// True when the counts of several calls at one field can be drawn in aggregate exactly
    /// ([`VirtualQpu::sample_calls_aggregated`]): no planted crosstalk and no Gaussian per-call noise.
    pub fn supports_aggregated_counts(&self) -> bool {
        self.truth.crosstalk.is_empty() && self.truth.config.noise != NoiseModel::CallGaussian
    }

    /// Probabilities of a down read of qubit `i` at physical field `x` on the two noise branches
    /// (`+η`, `-η`), readout flips included. With per-read noise both are the branch average.
    pub fn branch_probabilities(&self, i: usize, x: f64, anneal_time_us: f64) -> (f64, f64) {
        let q = &self.truth.qubits[i];
        let eps = q.readout_flip;
        let p_read = |m: f64| (eps + (1.0 - 2.0 * eps) * 0.5 * (1.0 + m)).clamp(0.0, 1.0);
        if self.truth.config.noise == NoiseModel::Read {
            let p = p_read(self.call_magnetization(i, x, 0.0, anneal_time_us));
            return (p, p);
        }
        (
            p_read(self.call_magnetization(i, x, q.eta, anneal_time_us)),
            p_read(self.call_magnetization(i, x, -q.eta, anneal_time_us)),
        )
    }

    /// The total down count of one qubit over several calls at the same physical field, each call of
    /// `call_reads[c]` reads with its own noise branch, drawn in aggregate and exactly: each call's branch is
    /// a fair coin, the calls on the `+η` branch hold `R₊ = Σ r_c` reads, and the count is
    /// `Bin(R₊, p₊) + Bin(R₋, p₋)`, the distribution of the sum of the per-call binomials. `probs` comes
    /// from [`VirtualQpu::branch_probabilities`]. Only valid when
    /// [`VirtualQpu::supports_aggregated_counts`].
    pub fn sample_calls_aggregated(
        probs: (f64, f64),
        call_reads: &[u32],
        rng: &mut Pcg64Mcg,
    ) -> u32 {
        let total: u64 = call_reads.iter().map(|&r| u64::from(r)).sum();
        if probs.0 == probs.1 {
            return binomial(total, probs.0, rng);
        }
        let mut plus = 0u64;
        let mut bits = 0u64;
        for (c, &r) in call_reads.iter().enumerate() {
            if c % 64 == 0 {
                bits = rng.random();
            }
            if bits & (1 << (c % 64)) != 0 {
                plus += u64::from(r);
            }
        }
        binomial(plus, probs.0, rng) + binomial(total - plus, probs.1, rng)
    }

    /// One programming cycle in counts mode: the number of s = -1 reads per qubit (graph order; 0 for NaN
    /// fields). When `pair_agree` is given, it receives for every entry of `pairs` (graph indices) the number
    /// of reads in which both spins agree, sampled exactly (joint for planted pairs, hypergeometric given
    /// the two counts otherwise).
    pub fn sample_counts(
        &self,
        fields: &[f64],
        num_reads: u32,
        anneal_time_us: f64,
        rng: &mut Pcg64Mcg,
        pairs: &[(usize, usize)],
        pair_agree: Option<&mut [u32]>,
    ) -> Vec<u32> {
        let n = self.graph.qubits.len();
        let delta = self.draw_call_noise(rng);
        let m: Vec<f64> = (0..n)
            .map(|i| match fields.get(i) {
                Some(x) if !x.is_nan() => self.call_magnetization(i, *x, delta[i], anneal_time_us),
                _ => f64::NAN,
            })
            .collect();
        let n = m.len();
        let nr = u64::from(num_reads);
        let mut down = vec![0u32; n];
        // Joint state counts of planted pairs, keyed by the lower index: [--, -+, +-, ++] after flips.
        let mut joint: std::collections::HashMap<usize, [u32; 4]> =
            std::collections::HashMap::new();
        for i in 0..n {
            if m[i].is_nan() {
                continue;
            }
            let eps = self.truth.qubits[i].readout_flip;
            match self.partner[i] {
                Some((j, jval)) if !m[j].is_nan() => {
                    if j < i {
                        continue;
                    }
                    let p = self.pair_probabilities(
                        m[i],
                        m[j],
                        self.beta(i, anneal_time_us),
                        self.beta(j, anneal_time_us),
                        jval,
                    );
                    let p = flip_pair(p, eps, self.truth.qubits[j].readout_flip);
                    let c = multinomial4(nr, p, rng);
                    down[i] = c[0] + c[1];
                    down[j] = c[0] + c[2];
                    joint.insert(i, c);
                }
                _ => {
                    let p = (eps + (1.0 - 2.0 * eps) * 0.5 * (1.0 + m[i])).clamp(0.0, 1.0);
                    down[i] = binomial(nr, p, rng);
                }
            }
        }
        if let Some(out) = pair_agree {
            for (slot, &(a, b)) in out.iter_mut().zip(pairs) {
                if m[a].is_nan() || m[b].is_nan() {
                    *slot = 0;
                    continue;
                }
                let lo = a.min(b);
                let planted = self.partner[lo].is_some_and(|(p, _)| p == a.max(b));
                *slot = match joint.get(&lo) {
                    Some(c) if planted => c[0] + c[3],
                    _ => {
                        // Independent given the counts: the reads both down are hypergeometric.
                        let (ka, kb) = (u64::from(down[a]), u64::from(down[b]));
                        let both = hypergeometric(nr, ka, kb, rng);
                        (nr + 2 * both - ka - kb) as u32
                    }
                };
            }
        }
        down
    }
}

fn flip_pair(p: [f64; 4], ei: f64, ej: f64) -> [f64; 4] {
    if ei == 0.0 && ej == 0.0 {
        return p;
    }
    let mut q = [0.0; 4];
    for (s, ps) in p.iter().enumerate() {
        for (t, qt) in q.iter_mut().enumerate() {
            let fi = if (s >> 1) != (t >> 1) { ei } else { 1.0 - ei };
            let fj = if (s & 1) != (t & 1) { ej } else { 1.0 - ej };
            *qt += ps * fi * fj;
        }
    }
    q
}

/// An exact Binomial(n, p) draw.
#[inline]
pub(crate) fn binomial(n: u64, p: f64, rng: &mut Pcg64Mcg) -> u32 {
    match Binomial::new(n, p.clamp(0.0, 1.0)) {
        Ok(d) => d.sample(rng) as u32,
        Err(_) => 0,
    }
}

/// An exact Hypergeometric(N, K, n) draw: the number of marked items among `n` drawn without replacement
/// from `N` of which `K` are marked. rand_distr refuses some parameters (its inverse-transform start
/// underflows); those have a small `min(n, N - n)` and are drawn item by item.
pub(crate) fn hypergeometric(total: u64, marked: u64, draws: u64, rng: &mut Pcg64Mcg) -> u64 {
    if let Ok(d) = rand_distr::Hypergeometric::new(total, marked, draws) {
        return d.sample(rng);
    }
    let marked = marked.min(total);
    let draws = draws.min(total);
    let complement = draws > total - draws;
    let steps = if complement { total - draws } else { draws };
    let (mut left, mut left_marked, mut hit) = (total, marked, 0u64);
    for _ in 0..steps {
        if rng.random_range(0..left) < left_marked {
            hit += 1;
            left_marked -= 1;
        }
        left -= 1;
    }
    if complement {
        marked - hit
    } else {
        hit
    }
}

/// An exact multinomial draw over four states by sequential binomials.
fn multinomial4(n: u64, p: [f64; 4], rng: &mut Pcg64Mcg) -> [u32; 4] {
    let mut left = n;
    let mut rest = 1.0;
    let mut out = [0u32; 4];
    for k in 0..3 {
        let q = if rest > 0.0 {
            (p[k] / rest).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let x = binomial(left, q, rng);
        out[k] = x;
        left -= u64::from(x);
        rest -= p[k];
    }
    out[3] = left as u32;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn hypergeometric_covers_parameters_rand_distr_refuses() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        // rand_distr 0.5 refuses this one (PopulationTooLarge).
        assert!(rand_distr::Hypergeometric::new(2000, 173, 1890).is_err());
        let n = 20_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = hypergeometric(2000, 173, 1890, &mut rng);
            assert!((63..=173).contains(&x), "{x}");
            sum += x as f64;
        }
        let mean = sum / f64::from(n);
        let expect = 173.0 * 1890.0 / 2000.0;
        // sd of one draw ≈ sqrt(n K/N (1-K/N)(N-n)/(N-1)) ≈ 2.2; of the mean ≈ 0.016.
        assert!((mean - expect).abs() < 0.1, "{mean} vs {expect}");
    }

    #[test]
    fn magnetization_is_stable_at_zero_field() {
        assert_eq!(magnetization(0.0, 0.0, 10.0), 0.0);
        assert!((magnetization(1e-9, 0.0, 10.0) - 1e-8).abs() < 1e-15);
        assert!((magnetization(2.0, 0.0, 1e6) - 1.0).abs() < 1e-12);
    }
}
