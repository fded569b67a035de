//! Benchmark of `qasa::fit` on a full Advantage-sized chip: 5,640 qubits × 81 h in [-1, 1], 10^5 reads
//! per h (10 calls of 10^4), plausible parameters (docs/physics.md §4), no bootstrap:
//! - `default`: the default settings (robust errors; the blocks do not say they are single calls, so the
//!   per-read likelihood), the target is ≤ 1.5 s on 2 cores;
//! - `profile_bounds`: plus profile intervals for γ, η near their bound;
//! - `per_call_two_point`: the per-call likelihood (blocks of one call each), target ≤ 5 s.
//!
//! `cargo bench --bench fit`. With `QASA_BENCH_EXPORT=DIR` the sweep is also written as
//! `DIR/advantage.sweep.json` and `DIR/spin_table.csv` (for `/usr/bin/time -v qasa fit` and the SciPy
//! reference `scripts/reference_fit.py`).

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::fit::{fit_sweep, FitConfig, NoiseLikelihood, ProfileMode};
use qasa::model::{p_down, NoiseKind, Params};
use qasa::sweep::{CountMatrix, Sweep, SweepMeta, SweepSource};
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution};
use rand_pcg::Pcg64Mcg;
use std::hint::black_box;

const QUBITS: usize = 5640;

fn chip() -> Sweep {
    let h: Vec<f64> = (0..81).map(|i| -1.0 + 0.025 * i as f64).collect();
    let mut rng = Pcg64Mcg::seed_from_u64(2024);
    let truth: Vec<Params> = (0..QUBITS)
        .map(|_| {
            Params::new(
                rng.random_range(5.0..7.0),
                rng.random_range(-0.02..0.02),
                rng.random_range(0.02..0.1),
                rng.random_range(0.0..0.02),
            )
        })
        .collect();
    let calls = 10;
    let mut blocks: Vec<CountMatrix> = (0..calls)
        .map(|_| CountMatrix::zeros(h.len(), QUBITS))
        .collect();
    for (ih, &hv) in h.iter().enumerate() {
        for (iq, t) in truth.iter().enumerate() {
            let p = p_down(NoiseKind::TwoPoint, t, hv);
            for b in blocks.iter_mut() {
                let i = ih * QUBITS + iq;
                b.down[i] = Binomial::new(10_000, p).map_or(0, |d| d.sample(&mut rng) as u32);
                b.reads[i] = 10_000;
            }
        }
    }
    let mut counts = CountMatrix::zeros(h.len(), QUBITS);
    for b in &blocks {
        counts.add(b);
    }
    let mut meta = SweepMeta::new(SweepSource::Simulated);
    meta.seed = Some(2024);
    Sweep {
        meta,
        h,
        qubits: (0..QUBITS as u32).collect(),
        counts,
        blocks,
        pairs: None,
    }
}

fn bench_fit(c: &mut Criterion) {
    let sweep = chip();
    if let Ok(dir) = std::env::var("QASA_BENCH_EXPORT") {
        let dir = std::path::Path::new(&dir);
        let _ = std::fs::create_dir_all(dir);
        for name in ["advantage.sweep.json", "spin_table.csv"] {
            if let Err(e) = qasa::sweep::write_sweep(&sweep, &dir.join(name)) {
                eprintln!("cannot export {name}: {e}");
            }
        }
    }
    let mut single = sweep.clone();
    single.meta.calls_per_block = Some(1);
    let mut g = c.benchmark_group("fit_advantage_5640q_81h");
    g.sample_size(10);
    for (name, profile, noise, s) in [
        ("default", ProfileMode::None, NoiseLikelihood::Auto, &sweep),
        (
            "profile_bounds",
            ProfileMode::Bounds,
            NoiseLikelihood::Auto,
            &sweep,
        ),
        (
            "per_call_two_point",
            ProfileMode::None,
            NoiseLikelihood::PerCall,
            &single,
        ),
    ] {
        let cfg = FitConfig {
            profile,
            noise,
            ..Default::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(fit_sweep(black_box(s), &cfg)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_fit);
criterion_main!(benches);
