//! Integration tests of `qasa::fit` on synthetic sweeps generated from the model itself
//! (docs/physics.md §2), with binomial counts and optional per-call field noise (over-dispersion).

use qasa::fit::{fit_sweep, FitConfig, FitStatus, ModelChoice, ProfileMode};
use qasa::model::{p_down, Model, NoiseKind, Params};
use qasa::sweep::{CountMatrix, Sweep, SweepMeta, SweepSource};
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Normal};
use rand_pcg::Pcg64Mcg;

/// Synthetic sweep: `calls` calls per h with `reads_per_call` reads each; block c = the c-th call at
/// every h. `tau` = standard deviation of a per-call field offset (0 = pure binomial).
fn synth(
    truth: &[Params],
    h: &[f64],
    calls: usize,
    reads_per_call: u32,
    tau: f64,
    seed: u64,
) -> Sweep {
    let nq = truth.len();
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut blocks: Vec<CountMatrix> = (0..calls)
        .map(|_| CountMatrix::zeros(h.len(), nq))
        .collect();
    let normal = Normal::new(0.0, 1.0).unwrap();
    for (ih, &hv) in h.iter().enumerate() {
        for block in blocks.iter_mut() {
            for (iq, t) in truth.iter().enumerate() {
                let mut p = *t;
                if tau > 0.0 {
                    p.b += tau * normal.sample(&mut rng);
                }
                let pd = p_down(NoiseKind::TwoPoint, &p, hv);
                let k = Binomial::new(u64::from(reads_per_call), pd)
                    .unwrap()
                    .sample(&mut rng) as u32;
                let i = ih * nq + iq;
                block.down[i] = k;
                block.reads[i] = reads_per_call;
            }
        }
    }
    let mut counts = CountMatrix::zeros(h.len(), nq);
    for b in &blocks {
        counts.add(b);
    }
    Sweep {
        meta: SweepMeta {
            source: SweepSource::Simulated,
            solver: None,
            graph_id: None,
            topology: None,
            anneal_time_us: None,
            parameters: Default::default(),
            gauges: Some(false),
            started_at: None,
            finished_at: None,
            tool_version: qasa::TOOL_VERSION.to_string(),
            seed: Some(seed),
        },
        h: h.to_vec(),
        qubits: (0..nq as u32).collect(),
        counts,
        blocks,
        pairs: None,
    }
}

fn grid81() -> Vec<f64> {
    (0..81).map(|i| -1.0 + 0.025 * i as f64).collect()
}

/// Plausible Advantage-like truths (physics.md §4), drawn deterministically.
fn truths(n: usize, seed: u64) -> Vec<Params> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            Params::new(
                rng.random_range(5.0..12.0),
                rng.random_range(-0.02..0.02),
                rng.random_range(0.02..0.12),
                rng.random_range(0.005..0.03),
            )
        })
        .collect()
}

#[test]
fn recovers_one_qubit() {
    let t = truths(4, 1);
    let s = synth(&t, &grid81(), 10, 10_000, 0.0, 2);
    let cfg = FitConfig {
        model: ModelChoice::Fixed(Model::Qasa),
        profile: ProfileMode::All,
        ..Default::default()
    };
    let r = fit_sweep(&s, &cfg).unwrap();
    for (q, tr) in r.qubits.iter().zip(&t) {
        eprintln!(
            "{:?} {:?} it={} starts={}/{} se={:?} iv={:?} w={:?}",
            q.status,
            q.values(),
            q.iterations,
            q.starts_agreeing,
            q.starts,
            q.ses(),
            q.intervals(),
            q.warnings
        );
        eprintln!("   truth {tr:?}");
        assert!(matches!(q.status, FitStatus::Converged));
    }
}
