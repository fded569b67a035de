//! Analysis of a full Advantage chip: 5,640 qubits, 40,484 couplers, 41 h in [−1, 1] with 2·10^4 reads,
//! pair counts on every coupler; scores with propagated errors, flags, pooled temperature, correlations,
//! Moran's I and Geary's C with 999 permutations for 5 quantities, maps, and crosstalk on every coupler
//! (one block per call, so its null is exact within calls).
//!
//! Run: `cargo bench --bench analysis` (target: ≤ 2 s on 2 cores).

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::analysis::{analyze, AnalysisConfig};
use qasa::device::{simulate, DeviceConfig, SimulationPlan, VirtualQpu};
use qasa::fit::{fit_sweep, FitConfig, ProfileMode};
use qasa::topology::{Topology, WorkingGraph};
use std::hint::black_box;

fn analyse_advantage(c: &mut Criterion) {
    let graph = WorkingGraph::perfect("advantage".parse::<Topology>().expect("spec"));
    let qpu = VirtualQpu::new(graph.clone(), &DeviceConfig::default());
    let plan = SimulationPlan {
        h_max: 1.0,
        h_step: 0.05,
        reads: 20_000,
        pairs: true,
        ..Default::default()
    };
    // One block per call (2 per h), as the crosstalk's exact within-call null wants.
    let plan = SimulationPlan {
        blocks: plan.calls().expect("calls").len(),
        ..plan
    };
    let sweep = simulate(&qpu, &plan, &|_| {}).expect("simulate");
    let fit_cfg = FitConfig {
        profile: ProfileMode::None,
        ..FitConfig::default()
    };
    let fit = fit_sweep(&sweep, &fit_cfg).expect("fit");
    let config = AnalysisConfig::default();
    let a = analyze(&fit, Some(&sweep), Some(&graph), &config).expect("analyze");
    eprintln!(
        "{} qubits, {} couplers with pair counts, {} permutations, {} spatial quantities, {} threads",
        a.scores.len(),
        a.crosstalk.as_ref().map_or(0, Vec::len),
        config.permutations,
        a.spatial.len(),
        rayon::current_num_threads()
    );
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.bench_function("advantage_full", |b| {
        b.iter(|| analyze(black_box(&fit), Some(&sweep), Some(&graph), &config).expect("analyze"))
    });
    group.finish();
}

criterion_group!(benches, analyse_advantage);
criterion_main!(benches);
