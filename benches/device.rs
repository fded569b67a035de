//! The virtual QPU in counts mode: a full Advantage chip (5,640 qubits) at 81 h × 10^6 reads
//! (100 calls of 10^4 reads per h, 8,100 calls). Run: `cargo bench --bench device`.

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::device::{simulate, DeviceConfig, SimulationPlan, VirtualQpu};
use qasa::topology::{Topology, WorkingGraph};

fn simulate_advantage(c: &mut Criterion) {
    let graph = WorkingGraph::perfect("advantage".parse::<Topology>().expect("spec"));
    let qpu = VirtualQpu::new(graph, &DeviceConfig::default());
    let plan = SimulationPlan {
        reads: 1_000_000,
        reads_per_call: 10_000,
        blocks: 10,
        ..Default::default()
    };
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.bench_function("advantage_81h_1e6_reads", |b| {
        b.iter(|| simulate(&qpu, &plan, &|_| {}).expect("simulate"))
    });
    group.finish();
}

criterion_group!(benches, simulate_advantage);
criterion_main!(benches);
