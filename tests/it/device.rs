//! The virtual QPU: determinism, the gauge-pair rule, block structure, agreement of the sampled counts
//! with the model of docs/physics.md §2 (implemented here independently), over-dispersion from per-call
//! noise, exact planted crosstalk, and the truth file.

use qasa::device::{self, DeviceConfig, NoiseModel, SimulationPlan, VirtualQpu};
use qasa::topology::{Topology, WorkingGraph};

/// p_down of physics.md §2, written out independently of the crate.
fn p_down(h: f64, beta: f64, b: f64, gamma: f64, eta: f64) -> f64 {
    let branch = |a: f64| {
        let c = gamma * h;
        let r = (a * a + c * c).sqrt();
        if r < 1e-12 {
            beta * a
        } else {
            a / r * (beta * r).tanh()
        }
    };
    let m = 0.5 * (branch(h + b + eta) + branch(h + b - eta));
    0.5 * (1.0 + m)
}

#[test]
fn independent_model_matches_physics_reference_vectors() {
    use crate::physics_reference::{CASES, H};
    for ([beta, b, g, e], want) in CASES {
        for (h, w) in H.iter().zip(want) {
            assert!((p_down(*h, beta, b, g, e) - w).abs() < 1e-9, "h={h}");
        }
    }
}

fn graph(spec: &str) -> WorkingGraph {
    WorkingGraph::perfect(spec.parse::<Topology>().unwrap())
}

fn plan(reads: u32, per_call: u32, seed: u64) -> SimulationPlan {
    SimulationPlan {
        h_max: 0.5,
        h_step: 0.05,
        reads,
        reads_per_call: per_call,
        blocks: 4,
        seed,
        ..Default::default()
    }
}

#[test]
fn deterministic_for_a_seed() {
    let g = graph("chimera:2,2,4");
    let cfg = DeviceConfig {
        seed: 9,
        ..Default::default()
    };
    let a = device::simulate(
        &VirtualQpu::new(g.clone(), &cfg),
        &plan(2000, 250, 4),
        &|_| {},
    )
    .unwrap();
    let b = device::simulate(
        &VirtualQpu::new(g.clone(), &cfg),
        &plan(2000, 250, 4),
        &|_| {},
    )
    .unwrap();
    assert_eq!(a, b);
    let c = device::simulate(&VirtualQpu::new(g, &cfg), &plan(2000, 250, 5), &|_| {}).unwrap();
    assert_ne!(a.counts, c.counts);
}

#[test]
fn every_qubit_sees_every_physical_field_the_planned_reads_and_blocks_are_uniform() {
    let g = graph("chimera:2,2,4");
    let qpu = VirtualQpu::new(g, &DeviceConfig::default());
    let p = plan(3000, 400, 1); // 4 gauge pairs of 375 reads
    assert_eq!(p.calls().unwrap(), vec![375; 8]);
    let s = device::simulate(&qpu, &p, &|_| {}).unwrap();
    assert_eq!(s.h.len(), 21);
    assert_eq!(s.h[10], 0.0);
    assert!(s.counts.reads.iter().all(|&r| r == 3000));
    assert_eq!(s.blocks.len(), 4);
    for b in &s.blocks {
        assert!(
            b.reads.iter().all(|&r| r == 750),
            "each block: two calls of 375 at every field"
        );
    }
    qasa::sweep::check(&s).unwrap();
    assert_eq!(s.meta.gauges, Some(true));
}

/// Pearson χ² per degree of freedom of the pooled counts against the true model.
fn dispersion(s: &qasa::sweep::Sweep, qpu: &VirtualQpu) -> f64 {
    let t = qpu.truth();
    let (mut chi2, mut dof) = (0.0, 0usize);
    for (iq, &q) in s.qubits.iter().enumerate() {
        let qt = t.qubits.iter().find(|x| x.qubit == q).unwrap();
        let beta = t.beta_at(qt, s.meta.anneal_time_us.unwrap());
        for (ih, &h) in s.h.iter().enumerate() {
            let (k, n) = s.counts.get(ih, iq);
            let p = p_down(h, beta, qt.b, qt.gamma, qt.eta);
            let var = n as f64 * p * (1.0 - p);
            if var > 5.0 {
                chi2 += (k as f64 - n as f64 * p).powi(2) / var;
                dof += 1;
            }
        }
    }
    chi2 / dof as f64
}

#[test]
fn counts_follow_the_model_binomially_with_per_read_noise() {
    let g = graph("chimera:4");
    let cfg = DeviceConfig {
        noise: NoiseModel::Read,
        seed: 2,
        ..Default::default()
    };
    let qpu = VirtualQpu::new(g, &cfg);
    let s = device::simulate(&qpu, &plan(20_000, 2_000, 3), &|_| {}).unwrap();
    let phi = dispersion(&s, &qpu);
    // ~2000 cells: χ²/dof has sd ≈ sqrt(2/2000) ≈ 0.03.
    assert!((phi - 1.0).abs() < 0.12, "dispersion {phi}");
}

#[test]
fn per_call_noise_makes_counts_over_dispersed_but_unbiased() {
    let g = graph("chimera:4");
    let cfg = DeviceConfig {
        noise: NoiseModel::CallTwoPoint,
        seed: 2,
        ..Default::default()
    };
    let qpu = VirtualQpu::new(g, &cfg);
    let s = device::simulate(&qpu, &plan(20_000, 2_000, 3), &|_| {}).unwrap();
    let phi = dispersion(&s, &qpu);
    assert!(
        phi > 1.5,
        "per-call noise must over-disperse the counts, got {phi}"
    );
    // The call-by-call path (taken when pair counts are recorded) draws the same distribution as the
    // aggregated one.
    let per_call = SimulationPlan {
        pairs: true,
        ..plan(20_000, 2_000, 4)
    };
    let s2 = device::simulate(&qpu, &per_call, &|_| {}).unwrap();
    let phi2 = dispersion(&s2, &qpu);
    assert!(
        phi2 > 1.5 && (phi2 / phi - 1.0).abs() < 0.35,
        "per-call {phi2} vs aggregated {phi}"
    );
    // Unbiased: the mean residual over all cells is near zero.
    let t = qpu.truth();
    let mut resid = 0.0;
    let mut n = 0.0;
    for (iq, &q) in s.qubits.iter().enumerate() {
        let qt = t.qubits.iter().find(|x| x.qubit == q).unwrap();
        for (ih, &h) in s.h.iter().enumerate() {
            let (k, r) = s.counts.get(ih, iq);
            resid += k as f64 / r as f64 - p_down(h, t.beta_at(qt, 5.0), qt.b, qt.gamma, qt.eta);
            n += 1.0;
        }
    }
    assert!((resid / n).abs() < 2e-3, "mean residual {}", resid / n);
}

#[test]
fn readout_flips_raise_the_floor() {
    let g = graph("chimera:1,1,4");
    let cfg = DeviceConfig {
        noise: NoiseModel::Read,
        readout_flip: 0.05,
        outlier_fraction: 0.0,
        ..Default::default()
    };
    let qpu = VirtualQpu::new(g, &cfg);
    let mut p = plan(200_000, 20_000, 1);
    p.h_max = 1.0;
    p.h_step = 1.0;
    let s = device::simulate(&qpu, &p, &|_| {}).unwrap();
    for iq in 0..s.qubits.len() {
        let (k, n) = s.counts.get(2, iq); // h = +1: almost always down without flips
        let frac_up = 1.0 - k as f64 / n as f64;
        assert!((frac_up - 0.05).abs() < 0.01, "qubit {iq}: {frac_up}");
    }
}

#[test]
fn anneal_time_scales_beta() {
    let g = graph("pegasus:2");
    let slow = DeviceConfig {
        anneal_time_us: 50.0,
        ..Default::default()
    };
    let t = VirtualQpu::new(g, &slow).truth().clone();
    let q = &t.qubits[0];
    assert!((t.beta_at(q, 50.0) / t.beta_at(q, 5.0) - 10f64.powf(0.1)).abs() < 1e-12);
    assert!((t.beta_time_factor - 10f64.powf(0.1)).abs() < 1e-12);
}

#[test]
fn truth_has_family_magnitudes_structure_and_outliers() {
    let t = VirtualQpu::new(graph("pegasus:16"), &DeviceConfig::default())
        .truth()
        .clone();
    assert_eq!(t.qubits.len(), 5640);
    let normal: Vec<_> = t.qubits.iter().filter(|q| q.outlier.is_none()).collect();
    let mean = |f: &dyn Fn(&&qasa::device::QubitTruth) -> f64| {
        normal.iter().map(f).sum::<f64>() / normal.len() as f64
    };
    let beta = mean(&|q| q.beta_ref);
    assert!((beta - 6.0).abs() < 0.1, "Advantage β ≈ 6, got {beta}");
    let eta = mean(&|q| q.eta);
    assert!((eta - 0.0105).abs() < 0.002, "η ≈ 0.01, got {eta}");
    let outliers = t.qubits.len() - normal.len();
    assert_eq!(outliers, 28, "0.5 % outliers");
    // Orientation offset of the bias: horizontal qubits sit 2 × 0.003 above vertical ones.
    let topo: Topology = "pegasus:16".parse().unwrap();
    let (mut s0, mut n0, mut s1, mut n1) = (0.0, 0.0, 0.0, 0.0);
    for q in &normal {
        if topo.coords(q.qubit).unwrap().orientation == 1 {
            s1 += q.b;
            n1 += 1.0;
        } else {
            s0 += q.b;
            n0 += 1.0;
        }
    }
    let diff = s1 / n1 - s0 / n0;
    assert!((diff - 0.006).abs() < 0.0015, "orientation offset {diff}");
    let zephyr = VirtualQpu::new(graph("zephyr:2"), &DeviceConfig::default())
        .truth()
        .clone();
    assert!(zephyr
        .qubits
        .iter()
        .filter(|q| q.outlier.is_none())
        .all(|q| q.beta_ref > 7.0 && q.beta_ref < 9.0));
}

#[test]
fn planted_crosstalk_shows_in_raw_pair_counts() {
    let g = graph("chimera:2,2,4");
    let cfg = DeviceConfig {
        crosstalk_fraction: 0.2,
        noise: NoiseModel::Read,
        outlier_fraction: 0.0,
        seed: 5,
        ..Default::default()
    };
    let qpu = VirtualQpu::new(g, &cfg);
    let planted = qpu.truth().crosstalk.clone();
    // 20 % of 80 couplers is 16, a perfect matching of the 32 qubits; a greedy random matching gets close.
    assert!(
        (12..=16).contains(&planted.len()),
        "{} planted",
        planted.len()
    );
    let mut seen = std::collections::HashSet::new();
    for c in &planted {
        assert!(
            seen.insert(c.u) && seen.insert(c.v),
            "a matching: no qubit in two planted pairs"
        );
    }
    let p = SimulationPlan {
        h_max: 0.0,
        h_step: 0.1,
        reads: 40_000,
        reads_per_call: 10_000,
        raw: true,
        pairs: true,
        blocks: 2,
        ..Default::default()
    };
    let s = device::simulate(&qpu, &p, &|_| {}).unwrap();
    let pairs = s.pairs.as_ref().unwrap();
    assert_eq!(pairs.couplers.len(), 80);
    let n_c = pairs.couplers.len();
    for (ci, &(u, v)) in pairs.couplers.iter().enumerate() {
        let (a, r) = (pairs.agree[ci], pairs.reads[ci]);
        assert!(r > 0);
        let corr = 2.0 * a as f64 / r as f64 - 1.0;
        let (ku, nu) = s.counts.get(0, s.column_of(u).unwrap());
        let (kv, nv) = s.counts.get(0, s.column_of(v).unwrap());
        let mu = 1.0 - 2.0 * ku as f64 / nu as f64;
        let mv = 1.0 - 2.0 * kv as f64 / nv as f64;
        let connected = corr - mu * mv;
        let sd = 1.0 / (r as f64).sqrt();
        match planted.iter().find(|c| c.u == u && c.v == v) {
            Some(c) => {
                // Exact pair distribution at h = 0: <s_u s_v> = -tanh(K) when both fields vanish.
                let beta = (qpu.beta(
                    qpu.graph().qubits.iter().position(|&x| x == u).unwrap(),
                    5.0,
                ) * qpu.beta(
                    qpu.graph().qubits.iter().position(|&x| x == v).unwrap(),
                    5.0,
                ))
                .sqrt();
                assert!(
                    connected.signum() == -c.j.signum(),
                    "planted {u}-{v} J={} corr {connected}",
                    c.j
                );
                assert!(
                    connected.abs() > 5.0 * sd,
                    "planted {u}-{v}: {connected} vs sd {sd}"
                );
                let expect = -(beta * c.j).tanh();
                assert!((corr - expect).abs() < 0.1, "{u}-{v}: {corr} vs {expect}");
            }
            None => assert!(
                connected.abs() < 5.0 * sd,
                "unplanted {u}-{v}: {connected} (sd {sd})"
            ),
        }
    }
    let _ = n_c;
}

#[test]
fn counts_mode_pairs_match_raw_mode_statistically() {
    let g = graph("chimera:1,1,4");
    let cfg = DeviceConfig {
        crosstalk_fraction: 0.25,
        noise: NoiseModel::Read,
        outlier_fraction: 0.0,
        seed: 8,
        ..Default::default()
    };
    let qpu = VirtualQpu::new(g, &cfg);
    let base = SimulationPlan {
        h_max: 0.1,
        h_step: 0.1,
        reads: 40_000,
        reads_per_call: 20_000,
        pairs: true,
        blocks: 1,
        gauges: false,
        ..Default::default()
    };
    let counts = device::simulate(&qpu, &base, &|_| {}).unwrap();
    let raw = device::simulate(
        &qpu,
        &SimulationPlan {
            raw: true,
            seed: 77,
            ..base
        },
        &|_| {},
    )
    .unwrap();
    let (pc, pr) = (counts.pairs.unwrap(), raw.pairs.unwrap());
    for i in 0..pc.agree.len() {
        let a = pc.agree[i] as f64 / pc.reads[i] as f64;
        let b = pr.agree[i] as f64 / pr.reads[i] as f64;
        let sd = (0.25 / pc.reads[i] as f64 + 0.25 / pr.reads[i] as f64).sqrt();
        assert!((a - b).abs() < 5.0 * sd, "cell {i}: {a} vs {b}");
    }
    for i in 0..counts.counts.down.len() {
        let a = counts.counts.down[i] as f64 / counts.counts.reads[i] as f64;
        let b = raw.counts.down[i] as f64 / raw.counts.reads[i] as f64;
        assert!(
            (a - b).abs() < 5.0 * (0.5 / 40_000f64).sqrt(),
            "cell {i}: {a} vs {b}"
        );
    }
}

#[test]
fn truth_file_round_trips_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let qpu = VirtualQpu::new(
        graph("zephyr:1"),
        &DeviceConfig {
            crosstalk_fraction: 0.1,
            ..Default::default()
        },
    );
    let p = dir.path().join("truth.json");
    device::write_truth(qpu.truth(), &p).unwrap();
    assert_eq!(&device::read_truth(&p).unwrap(), qpu.truth());
    std::fs::write(&p, r#"{"format":"qasa-truth"}"#).unwrap();
    let e = device::read_truth(&p).unwrap_err().to_string();
    assert!(
        e.contains("truth.json: at /: required fields are missing: \"tool_version\", \"topology\""),
        "{e}"
    );
}

#[test]
fn bad_plans_are_refused_with_clear_messages() {
    let qpu = VirtualQpu::new(graph("chimera:1,1,4"), &DeviceConfig::default());
    let bad = [
        SimulationPlan {
            reads: 1001,
            ..Default::default()
        },
        SimulationPlan {
            h_step: 0.0,
            ..Default::default()
        },
        SimulationPlan {
            h_max: f64::NAN,
            ..Default::default()
        },
        SimulationPlan {
            reads_per_call: 0,
            ..Default::default()
        },
        SimulationPlan {
            anneal_time_us: -1.0,
            ..Default::default()
        },
    ];
    for p in bad {
        // Typed errors that name the setting (the command line adds the flag).
        let e = device::simulate(&qpu, &p, &|_| {}).unwrap_err();
        assert!(e.setting().is_some(), "{e}");
    }
}
