//! Throughput of `qasa collect` from keeping calls in flight (issue 11 §3): a 100-call campaign (chimera:4,
//! 128 qubits, 100 reads per call) against `qasa serve --latency-ms 200`, with 1, 4 and 8 calls in flight
//! (printed; 8 measured by criterion), journal fsyncs included. The target: within 1.3 × (server time per call × calls / in-flight), where the
//! server time per call is measured first as one call alone. Run: `cargo bench --bench collect`.

use criterion::{criterion_group, criterion_main, Criterion};
use qasa::collect::{collect, CollectOptions, PlanSpec, SolverLimits, SolverSource, Target};
use qasa::sapi::{SapiClient, SolverRecord, Token};
use qasa::server::{FaultConfig, Server, ServerConfig, ServerHandle};
use qasa::topology::WorkingGraph;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SPEC: &str = "chimera:4";

fn server() -> ServerHandle {
    Server::start(ServerConfig {
        solvers: vec![qasa::server::SolverSource::Topology(SPEC.into())],
        faults: FaultConfig {
            latency_ms: 200,
            ..FaultConfig::default()
        },
        answer_memory_mib: 64,
        ..ServerConfig::default()
    })
    .expect("server starts")
}

/// A plan of `calls_per_h × 5` calls (h = -0.2..0.2) of 100 reads.
fn plan(calls_per_h: u32) -> qasa::collect::Plan {
    let def = qasa::server::synthetic_record(SPEC).expect("spec");
    let graph = WorkingGraph::perfect(SPEC.parse().expect("spec"));
    let limits = SolverLimits::from_record(&def.record);
    let spec = PlanSpec {
        h_max: 0.2,
        h_step: 0.1,
        reads: 100 * calls_per_h,
        reads_per_call: 100,
        blocks: calls_per_h as usize,
        ..PlanSpec::default()
    };
    let target = Target {
        solver: def.name().to_string(),
        graph_id: None,
        source: SolverSource::Topology,
        graph: &graph,
        limits: &limits,
    };
    qasa::collect::Plan::build(&spec, &target, 8).expect("plan")
}

fn run(
    client: &SapiClient,
    solver: &SolverRecord,
    plan: &qasa::collect::Plan,
    in_flight: usize,
) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("b.sweep.json");
    let opts = CollectOptions {
        in_flight,
        ..CollectOptions::default()
    };
    let t = Instant::now();
    let done = collect(
        client,
        solver,
        plan,
        &out,
        &opts,
        Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .expect("campaign");
    let elapsed = t.elapsed();
    assert_eq!(done.calls_this_session, plan.calls.len());
    elapsed
}

fn in_flight(c: &mut Criterion) {
    let s = server();
    let client = SapiClient::new(
        s.base_url(),
        Token::new("bench").expect("token"),
        Default::default(),
    )
    .expect("client");
    let name = s.solver_names().remove(0);
    let solver = client.get_solver(&name).expect("solver");
    // Server time per call: one call alone, best of 5.
    let one = plan(2);
    let single = qasa::collect::Plan {
        calls: one.calls[..1].to_vec(),
        ..one.clone()
    };
    let single = qasa::collect::Plan {
        sha256: single.content_sha256(),
        ..single
    };
    let per_call = (0..5)
        .map(|_| run(&client, &solver, &single, 1))
        .min()
        .unwrap_or_default();
    let campaign = plan(20);
    assert_eq!(campaign.calls.len(), 100);
    let mut group = c.benchmark_group("collect_latency_200ms");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(40));
    for n in [1usize, 4, 8] {
        let ideal = per_call.as_secs_f64() * 100.0 / n as f64;
        let t = run(&client, &solver, &campaign, n).as_secs_f64();
        eprintln!(
            "in-flight {n}: 100 calls in {t:.2} s; server time per call {:.0} ms → ideal {ideal:.2} s, ratio {:.3} (target ≤ 1.3)",
            per_call.as_secs_f64() * 1e3,
            t / ideal
        );
        if n == 8 {
            group.bench_function(format!("100_calls_in_flight_{n}"), |b| {
                b.iter(|| run(&client, &solver, &campaign, n))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, in_flight);
criterion_main!(benches);
