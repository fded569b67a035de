//! SAPI answer decoding benchmark: a 5,640-qubit × 10,000-read `qp` answer (one row per read, raw-mode-like
//! histogram with all weights 1) decoded straight into per-qubit counts.
//!
//! `cargo bench --bench sapi`. Throughput is reported over the base64 `solutions` text (MB/s).
//! To time exactly the payload `scripts/bench_decode.py` used, set `QASA_BENCH_PAYLOAD=<answer.json>`
//! (the script writes it); otherwise a seeded random payload of the same shape is generated.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qasa::sapi::qp::{encode_answer, PackedSolutions, QpAnswer};
use qasa::sapi::{count_answer, counts};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

const N_ACTIVE: usize = 5640;
const N_READS: usize = 10_000;

fn payload() -> Value {
    if let Ok(p) = std::env::var("QASA_BENCH_PAYLOAD") {
        let text =
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("QASA_BENCH_PAYLOAD {p}: {e}"));
        let v: Value = serde_json::from_str(&text).expect("payload JSON");
        return v.get("answer").cloned().unwrap_or(v);
    }
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2026);
    let rb = N_ACTIVE.div_ceil(8);
    let mut bytes = vec![0u8; rb * N_READS];
    rng.fill(&mut bytes[..]);
    for row in bytes.chunks_exact_mut(rb) {
        // clear pad bits (5640 is a multiple of 8, so none here; kept for other shapes)
        if N_ACTIVE % 8 != 0 {
            row[rb - 1] &= 0xFFu8 << (8 - N_ACTIVE % 8);
        }
    }
    let ans = QpAnswer {
        num_variables: 5760,
        active_variables: (0..N_ACTIVE as u32).collect(),
        energies: (0..N_READS).map(|i| -(i as f64)).collect(),
        num_occurrences: vec![1; N_READS],
        has_num_occurrences: true,
        solutions: PackedSolutions {
            num_active: N_ACTIVE,
            rows: N_READS,
            bytes,
        },
        timing: Map::new(),
        format: "qp".into(),
    };
    encode_answer(&ans)
}

fn bench(c: &mut Criterion) {
    let answer = payload();
    let text = serde_json::to_string(&answer).unwrap();
    let sol_len = answer["solutions"].as_str().map_or(0, str::len) as u64;
    let mut g = c.benchmark_group("sapi_decode");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(sol_len));
    g.bench_function(BenchmarkId::new("count_answer", "5640x10000"), |b| {
        b.iter(|| count_answer(&answer, None).unwrap())
    });
    g.bench_function(
        BenchmarkId::new("parse_json_and_count", "5640x10000"),
        |b| {
            b.iter(|| {
                let v: Value = serde_json::from_str(&text).unwrap();
                count_answer(&v, None).unwrap()
            })
        },
    );
    // Pair counts for 40,000 couplers (heavier; only when asked for).
    let parsed = qasa::sapi::qp::decode_answer(&answer).unwrap();
    let n = parsed.active_variables.len();
    let pairs: Vec<(usize, usize)> = (0..40_000).map(|k| (k % n, (k * 7 + 1) % n)).collect();
    g.sample_size(10);
    g.bench_function(
        BenchmarkId::new("agree_40000_couplers", "5640x10000"),
        |b| {
            b.iter(|| {
                counts::count_agree(&parsed.solutions, &parsed.num_occurrences, &pairs).unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
