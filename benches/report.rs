//! Benchmark of `qasa demo` at its defaults, stage by stage: the virtual Advantage_system4.1 chip (5,627
//! working qubits, 40,279 couplers, 2 % with planted crosstalk), a sweep of 81 h × 20,000 reads with pair
//! counts, the fit of every qubit, the analysis (999 permutations, crosstalk on every coupler), the report (model and every rendered file), and the whole demo end to
//! end. Target: the whole demo in ≤ 60 s on 2 cores.
//!
//! `cargo bench --bench report` (about ten minutes: ten samples of each stage).

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::analysis::{self, AnalysisConfig};
use qasa::device::{self, DeviceConfig, VirtualQpu};
use qasa::fit::{self, FitConfig};
use qasa::report::demo::{self, DemoConfig, DemoProgress, Stage};
use qasa::report::{self, render, ReportInput};
use std::hint::black_box;
use std::time::Duration;

struct Silent;

impl DemoProgress for Silent {
    fn start(&self, _: Stage, _: u64, _: &str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: Stage, _: f64) {}
}

fn stages(c: &mut Criterion) {
    let config = DemoConfig::default();
    let graph = demo::advantage_graph().expect("embedded record");
    let qpu = VirtualQpu::new(
        graph,
        &DeviceConfig {
            seed: config.seed,
            crosstalk_fraction: config.crosstalk_fraction,
            ..DeviceConfig::default()
        },
    );
    let plan = config.plan.clone();
    let sweep = device::simulate(&qpu, &plan, &|_| {}).expect("sweep");
    let fit = fit::fit_sweep(&sweep, &FitConfig::default()).expect("fit");
    let a = analysis::analyze(
        &fit,
        Some(&sweep),
        Some(qpu.graph()),
        &AnalysisConfig::default(),
    )
    .expect("analysis");
    let mut g = c.benchmark_group("demo");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    g.bench_function("sweep", |b| {
        b.iter(|| device::simulate(&qpu, black_box(&plan), &|_| {}).expect("sweep"))
    });
    g.bench_function("fit", |b| {
        b.iter(|| fit::fit_sweep(black_box(&sweep), &FitConfig::default()).expect("fit"))
    });
    g.bench_function("analysis", |b| {
        b.iter(|| {
            analysis::analyze(
                black_box(&fit),
                Some(&sweep),
                Some(qpu.graph()),
                &AnalysisConfig::default(),
            )
            .expect("analysis")
        })
    });
    g.bench_function("report", |b| {
        b.iter(|| {
            let r = report::build(&ReportInput {
                sweep: &sweep,
                fit: &fit,
                analysis: &a,
                compare: None,
                topology: None,
                inputs: Vec::new(),
                generated_at: None,
            })
            .expect("report");
            render::folder(&r).expect("render")
        })
    });
    g.bench_function("whole", |b| {
        b.iter(|| demo::run(black_box(&config), &Silent).expect("demo"))
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
