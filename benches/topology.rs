//! Topology benchmarks (criterion): `cargo bench --bench topology`.
//!
//! Edge lists and layouts of the full-size graphs, and loading a real Advantage solver record (gzip JSON,
//! 5627 qubits / 40279 couplers) from the shared data (`QASA_SHARED_DATA`, `../shared/data` or
//! `/work/shared/data`; skipped when absent).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::topology::{Topology, WorkingGraph};

fn shared_solver(name: &str) -> Option<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(dir) = std::env::var("QASA_SHARED_DATA") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    dirs.push(PathBuf::from("/work/shared/data"));
    dirs.into_iter()
        .map(|d| d.join("solvers").join(name))
        .find(|p| p.is_file())
}

fn graphs(c: &mut Criterion) {
    for spec in ["chimera:16", "pegasus:16", "zephyr:12,4"] {
        let t: Topology = spec.parse().expect("valid spec");
        c.bench_function(&format!("edges {spec}"), |b| b.iter(|| t.edges()));
        c.bench_function(&format!("layout {spec}"), |b| b.iter(|| t.layout()));
    }
}

fn solver_record(c: &mut Criterion) {
    let Some(path) = shared_solver("Advantage_system4_1.solver.json.gz") else {
        eprintln!("shared data not found; skipping the solver-record benchmark");
        return;
    };
    c.bench_function("from_solver_file Advantage_system4_1", |b| {
        b.iter(|| WorkingGraph::from_solver_file(&path).expect("record loads"))
    });
    let g = WorkingGraph::from_solver_file(&path).expect("record loads");
    c.bench_function("missing_couplers Advantage_system4_1", |b| {
        b.iter(|| g.missing_couplers())
    });
}

criterion_group!(benches, graphs, solver_record);
criterion_main!(benches);
