//! Benchmark of `qasa::fit` on a full Advantage-sized chip: 5,640 qubits × 81 h in [-1, 1], 10^5 reads
//! per h (10 calls of 10^4), plausible parameters (docs/physics.md §4), no bootstrap.
//!
//! `cargo bench --bench fit`. With `QASA_BENCH_EXPORT=DIR` the sweep is also written as
//! `DIR/advantage.sweep.json` and `DIR/spin_table.csv` (for `/usr/bin/time -v qasa fit` and the SciPy
//! reference `scripts/reference_fit.py`).

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::fit::{fit_sweep, FitConfig, ProfileMode};
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
    let mut g = c.benchmark_group("fit_advantage_5640q_81h");
    g.sample_size(10);
    for (name, profile) in [
        ("no_profile", ProfileMode::None),
        ("profile_bounds", ProfileMode::Bounds),
    ] {
        let cfg = FitConfig {
            profile,
            ..Default::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(fit_sweep(black_box(&sweep), &cfg)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_fit);
criterion_main!(benches);
