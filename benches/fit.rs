//! Benchmark of `qasa::fit` on a full Advantage-sized chip: 5,640 qubits × 81 h in [-1, 1], 10^5 reads
//! per h in 10 calls of 10^4, plausible parameters (docs/physics.md §4), quasi-static noise (each call
//! draws ±η per qubit, as `qasa simulate` does by default), blocks of one call each
//! (`meta.calls_per_block = 1`), no bootstrap:
//! - `default`: the default settings, what `qasa simulate` + `qasa fit` does: the chip's noise likelihood
//!   chosen on 64 qubits, then the per-call two-point likelihood (target ≤ 1.5 s on 2 cores);
//! - `per_read`: `--noise per-read` (the binomial likelihood of the pooled counts, robust errors over
//!   calls; the default before per-call noise);
//! - `per_read_profile_bounds`: plus profile intervals for γ, η near their bound;
//! - `per_call_two_point`: `--noise per-call` (target ≤ 5 s);
//! - `per_call_gaussian`: `--noise per-call --model gaussian` (the Gaussian law on a z grid).
//!
//!
//! A second group, `fit_demo_chip_crosstalk`, fits the sweep the demo fits: a virtual pegasus:16 chip with
//! crosstalk planted on 0.5 % of its couplers, 81 h values, 20,000 reads per h in calls of 2,000. Its
//! default fit chooses the per-call noise law per qubit (the coupled qubits keep the Gaussian law; the
//! Gaussian law is fitted only where it comes within 10 nats at the two-point maximum).
//!
//! `cargo bench --bench fit`. With `QASA_BENCH_EXPORT=DIR` the sweep is also written as
//! `DIR/advantage.sweep.json` and `DIR/spin_table.csv` (for `/usr/bin/time -v qasa fit` and the SciPy
//! reference `scripts/reference_fit.py`).

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::fit::{fit_sweep, FitConfig, ModelChoice, NoiseLikelihood, ProfileMode};
use qasa::model::{p_down, Model, NoiseKind, Params};
use qasa::sweep::{CountMatrix, Sweep, SweepMeta, SweepSource};
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution};
use rand_pcg::Pcg64Mcg;
use std::hint::black_box;

const QUBITS: usize = 5640;
const CALLS: usize = 10;
const READS_PER_CALL: u64 = 10_000;

fn chip() -> Sweep {
    let h: Vec<f64> = (0..81).map(|i| -1.0 + 0.025 * i as f64).collect();
    let mut rng = Pcg64Mcg::seed_from_u64(2024);
    let truth: Vec<Params> = (0..QUBITS)
        .map(|_| {
            Params::new(
                rng.random_range(5.0..7.0),
                rng.random_range(-0.02..0.02),
                rng.random_range(0.02..0.1),
                rng.random_range(0.005..0.02),
            )
        })
        .collect();
    let mut blocks: Vec<CountMatrix> = (0..CALLS)
        .map(|_| CountMatrix::zeros(h.len(), QUBITS))
        .collect();
    for (ih, &hv) in h.iter().enumerate() {
        for b in blocks.iter_mut() {
            for (iq, t) in truth.iter().enumerate() {
                // one noise draw per call and qubit
                let delta = if rng.random::<bool>() { t.eta } else { -t.eta };
                let p = p_down(
                    NoiseKind::TwoPoint,
                    &Params::new(t.beta, t.b + delta, t.gamma, 0.0),
                    hv,
                );
                let i = ih * QUBITS + iq;
                b.down[i] =
                    Binomial::new(READS_PER_CALL, p).map_or(0, |d| d.sample(&mut rng) as u32);
                b.reads[i] = READS_PER_CALL as u32;
            }
        }
    }
    let mut counts = CountMatrix::zeros(h.len(), QUBITS);
    for b in &blocks {
        counts.add(b);
    }
    let mut meta = SweepMeta::new(SweepSource::Simulated);
    meta.seed = Some(2024);
    meta.calls_per_block = Some(1);
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
    let qasa = ModelChoice::Fixed(Model::Qasa);
    let gaussian = ModelChoice::Fixed(Model::Gaussian);
    let mut g = c.benchmark_group("fit_advantage_5640q_81h");
    g.sample_size(10);
    for (name, profile, noise, model) in [
        ("default", ProfileMode::None, NoiseLikelihood::Auto, qasa),
        (
            "per_read",
            ProfileMode::None,
            NoiseLikelihood::PerRead,
            qasa,
        ),
        (
            "per_read_profile_bounds",
            ProfileMode::Bounds,
            NoiseLikelihood::PerRead,
            qasa,
        ),
        (
            "per_call_two_point",
            ProfileMode::None,
            NoiseLikelihood::PerCall,
            qasa,
        ),
        (
            "per_call_gaussian",
            ProfileMode::None,
            NoiseLikelihood::PerCall,
            gaussian,
        ),
    ] {
        let cfg = FitConfig {
            profile,
            noise,
            model,
            ..Default::default()
        };
        if std::env::var_os("QASA_BENCH_CHECK").is_some() {
            // what each variant fits with (printed once, outside the timing)
            if let Ok(r) = fit_sweep(&sweep, &cfg) {
                eprintln!(
                    "{name}: {} {}; failed {}; median η {:?}",
                    r.noise.likelihood.name(),
                    r.noise.reason,
                    r.summary.failed,
                    r.summary.median_eta
                );
            }
        }
        g.bench_function(name, |b| {
            b.iter(|| black_box(fit_sweep(black_box(&sweep), &cfg)))
        });
    }
    g.finish();
}

/// The demo's sweep on a perfect pegasus:16 chip (see the module docs).
fn demo_chip() -> Option<Sweep> {
    use qasa::device::{self, DeviceConfig, SimulationPlan, VirtualQpu};
    use qasa::topology::WorkingGraph;
    let topology = "pegasus:16".parse().ok()?;
    let qpu = VirtualQpu::new(
        WorkingGraph::perfect(topology),
        &DeviceConfig {
            crosstalk_fraction: 0.005,
            ..DeviceConfig::default()
        },
    );
    let plan = SimulationPlan {
        reads: 20_000,
        reads_per_call: 2_000,
        ..SimulationPlan::default()
    };
    device::simulate(&qpu, &plan, &|_| {}).ok()
}

fn bench_fit_crosstalk(c: &mut Criterion) {
    let Some(sweep) = demo_chip() else {
        eprintln!("cannot simulate the demo chip");
        return;
    };
    let cfg = FitConfig::default();
    if std::env::var_os("QASA_BENCH_CHECK").is_some() {
        if let Ok(r) = fit_sweep(&sweep, &cfg) {
            eprintln!(
                "crosstalk default: {}; models {:?}",
                r.noise.reason, r.summary.models
            );
        }
    }
    let mut g = c.benchmark_group("fit_demo_chip_crosstalk");
    g.sample_size(10);
    g.bench_function("default", |b| {
        b.iter(|| black_box(fit_sweep(black_box(&sweep), &cfg)))
    });
    g.finish();
}

criterion_group!(benches, bench_fit, bench_fit_crosstalk);
criterion_main!(benches);
