//! The SAPI server: one full-chip QASA call (every working qubit of Advantage_system4.1, J = 0) submitted
//! over HTTP (zlib body) and answered inline, at 100 and 1,000 reads (raw answer); and answer building
//! alone (histogram + qp encoding) for 5,627 qubits × 1,000 reads. Run: `cargo bench --bench server`.

use criterion::{criterion_group, criterion_main, Criterion};
use flate2::write::ZlibEncoder;
use qasa::sapi::qp::encode_f64_le;
use qasa::server::answer::rows;
use qasa::server::submit::{AnswerMode, ProblemType};
use qasa::server::{RawSamples, Server, ServerConfig, SolverSource};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

fn solver_file() -> PathBuf {
    let base = std::env::var_os("QASA_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let p = base.join("solvers/Advantage_system4_1.solver.json.gz");
    if p.is_file() {
        p
    } else {
        PathBuf::from("/work/shared/data/solvers/Advantage_system4_1.solver.json.gz")
    }
}

fn full_chip_call(c: &mut Criterion) {
    let s = Server::start(ServerConfig {
        solvers: vec![SolverSource::File(solver_file())],
        answer_memory_mib: 64,
        ..ServerConfig::default()
    })
    .expect("server starts");
    let http = reqwest::blocking::Client::new();
    let url = format!("{}solvers/remote/Advantage_system4.1", s.base_url());
    let rec: Value = http
        .get(&url)
        .header(
            "Accept",
            "application/vnd.dwave.sapi.solver-definition+json; version=3.0.0",
        )
        .send()
        .and_then(|r| r.json())
        .expect("solver record");
    let nq = rec["properties"]["qubits"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let nc = rec["properties"]["couplers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let mut group = c.benchmark_group("server");
    group.sample_size(10);
    for reads in [100u32, 1000] {
        let body = json!([{"solver": rec["identity"],
            "data": {"format": "qp", "lin": encode_f64_le(&vec![0.1; nq]), "quad": encode_f64_le(&vec![0.0; nc])},
            "type": "ising", "params": {"num_reads": reads, "answer_mode": "raw", "auto_scale": false}}]);
        let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(body.to_string().as_bytes()).expect("deflate");
        let bytes = z.finish().expect("deflate");
        group.bench_function(format!("advantage_full_chip_call_{reads}_reads"), |b| {
            b.iter(|| {
                let v: Value = http
                    .post(format!("{}problems/", s.base_url()))
                    .header(
                        "Accept",
                        "application/vnd.dwave.sapi.problems+json; version=3.0.0",
                    )
                    .header("Content-Encoding", "deflate")
                    .body(bytes.clone())
                    .send()
                    .and_then(|r| r.json())
                    .expect("submit");
                assert_eq!(v[0]["status"], "COMPLETED");
            })
        });
    }
    group.finish();
}

fn answer_building(c: &mut Criterion) {
    let (n, reads) = (5627usize, 1000usize);
    let spins: Vec<i8> = (0..n * reads)
        .map(|k| if (k * 2654435761) % 7 < 3 { 1 } else { -1 })
        .collect();
    let samples = RawSamples {
        active: (0..n).collect(),
        num_reads: reads,
        spins,
    };
    let lin = vec![0.1; n];
    let qubits: Vec<u32> = (0..n as u32).collect();
    c.bench_function("answer_rows_histogram_5627x1000", |b| {
        b.iter(|| {
            rows(
                &samples,
                &lin,
                &qubits,
                ProblemType::Ising,
                AnswerMode::Histogram,
            )
        })
    });
}

criterion_group!(benches, answer_building, full_chip_call);
criterion_main!(benches);
