//! Loading a full Advantage sweep: 5,640 qubits × 161 h (|h| ≤ 2, step 0.025) with 10 per-call blocks.
//! Run: `cargo bench --bench sweep`. Peak memory: `/usr/bin/time -v target/release/qasa convert ...`.

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::device::{simulate, DeviceConfig, SimulationPlan, VirtualQpu};
use qasa::topology::{Topology, WorkingGraph};

fn load_advantage(c: &mut Criterion) {
    let graph = WorkingGraph::perfect("advantage".parse::<Topology>().expect("spec"));
    let qpu = VirtualQpu::new(graph, &DeviceConfig::default());
    let plan = SimulationPlan {
        h_max: 2.0,
        reads: 100_000,
        reads_per_call: 10_000,
        blocks: 10,
        ..Default::default()
    };
    let sweep = simulate(&qpu, &plan, &|_| {}).expect("simulate");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("sweep_load");
    group.sample_size(10);
    for name in ["advantage.sweep.json", "advantage.sweep.json.gz"] {
        let path = dir.path().join(name);
        qasa::sweep::write_sweep(&sweep, &path).expect("write");
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "{name}: {size} bytes, {} qubits × {} h, {} blocks",
            sweep.qubits.len(),
            sweep.h.len(),
            sweep.blocks.len()
        );
        group.bench_function(name, |b| {
            b.iter(|| qasa::sweep::read_sweep(&path).expect("read"))
        });
    }
    group.finish();
}

criterion_group!(benches, load_advantage);
criterion_main!(benches);
