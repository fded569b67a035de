//! Integration tests of `qasa::fit` on synthetic sweeps generated from the model itself
//! (docs/physics.md §2), with binomial counts and optional per-call field noise (over-dispersion).

use qasa::fit::{
    fit_sweep, FailReason, FitConfig, FitError, FitStatus, FitWarning, ModelChoice,
    NoiseLikelihood, ProfileMode, QubitFit,
};
use qasa::model::{p_down, Model, NoiseKind, Param, Params};
use qasa::sweep::{CountMatrix, Sweep, SweepMeta, SweepSource};
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution};
use rand_pcg::Pcg64Mcg;

/// Synthetic sweep: `calls` calls per h with `reads_per_call` reads each; block c = the c-th call at
/// every h. With `per_call_noise`, each (call, qubit) sees one random offset ±η (quasi-static noise,
/// over-dispersed counts, the two-point model in expectation); otherwise counts are plain binomial.
fn synth(
    truth: &[Params],
    h: &[f64],
    calls: usize,
    reads_per_call: u32,
    per_call_noise: bool,
    seed: u64,
) -> Sweep {
    let nq = truth.len();
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut blocks: Vec<CountMatrix> = (0..calls)
        .map(|_| CountMatrix::zeros(h.len(), nq))
        .collect();
    for (ih, &hv) in h.iter().enumerate() {
        for block in blocks.iter_mut() {
            for (iq, t) in truth.iter().enumerate() {
                let pd = if per_call_noise {
                    let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                    let p = Params::new(t.beta, t.b + sign * t.eta, t.gamma, 0.0);
                    p_down(NoiseKind::TwoPoint, &p, hv)
                } else {
                    p_down(NoiseKind::TwoPoint, t, hv)
                };
                let k = Binomial::new(u64::from(reads_per_call), pd)
                    .unwrap()
                    .sample(&mut rng) as u32;
                let i = ih * nq + iq;
                block.down[i] = k;
                block.reads[i] = reads_per_call;
            }
        }
    }
    let mut counts = CountMatrix::zeros(h.len(), nq);
    for b in &blocks {
        counts.add(b);
    }
    Sweep {
        meta: SweepMeta {
            source: SweepSource::Simulated,
            solver: None,
            graph_id: None,
            topology: None,
            anneal_time_us: None,
            parameters: Default::default(),
            gauges: Some(false),
            started_at: None,
            finished_at: None,
            tool_version: qasa::TOOL_VERSION.to_string(),
            seed: Some(seed),
            calls_per_block: Some(1),
            campaign: None,
        },
        h: h.to_vec(),
        qubits: (0..nq as u32).collect(),
        counts,
        blocks,
        pairs: None,
    }
}

/// ℓ of column `iq` of `sweep` at `params` (two-point model).
fn ll_at(sweep: &Sweep, iq: usize, params: &Params) -> f64 {
    let data = qasa::fit::qubit_counts(sweep, iq);
    qasa::model::log_likelihood(
        NoiseKind::TwoPoint,
        params,
        &data,
        qasa::model::Order::Value,
    )
    .ll
}

fn grid81() -> Vec<f64> {
    (0..81).map(|i| -1.0 + 0.025 * i as f64).collect()
}

/// Plausible Advantage-like truths (physics.md §4), drawn deterministically.
fn truths(n: usize, seed: u64) -> Vec<Params> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            Params::new(
                rng.random_range(5.0..12.0),
                rng.random_range(-0.02..0.02),
                rng.random_range(0.02..0.12),
                rng.random_range(0.005..0.03),
            )
        })
        .collect()
}

/// Fraction of qubits whose interval covers the truth, per parameter (β, b, |γ|, |η|).
fn coverage(
    fits: &[QubitFit],
    truth: &[Params],
    iv: impl Fn(&QubitFit) -> [(Option<f64>, Option<f64>); 4],
) -> [f64; 4] {
    let mut hit = [0usize; 4];
    for (f, t) in fits.iter().zip(truth) {
        let tv = [t.beta, t.b, t.gamma.abs(), t.eta.abs()];
        for (j, (lo, hi)) in iv(f).into_iter().enumerate() {
            if let (Some(lo), Some(hi)) = (lo, hi) {
                if lo <= tv[j] && tv[j] <= hi {
                    hit[j] += 1;
                }
            }
        }
    }
    hit.map(|h| h as f64 / fits.len() as f64)
}

/// ±1.96 model-based (binomial) standard errors.
fn wald(f: &QubitFit) -> [(Option<f64>, Option<f64>); 4] {
    let v = f.values();
    let s = Param::ALL.map(|p| f.estimate(p).se_model);
    std::array::from_fn(|j| match (v[j], s[j]) {
        (Some(v), Some(s)) => (Some(v - 1.96 * s), Some(v + 1.96 * s)),
        _ => (None, None),
    })
}

fn boot(f: &QubitFit) -> [(Option<f64>, Option<f64>); 4] {
    match &f.bootstrap {
        Some(b) => Param::ALL.map(|p| (b.params[p].lo, b.params[p].hi)),
        None => [(None, None); 4],
    }
}

/// 500 qubits, 81 h in [-1, 1], 10^5 reads per h, binomial counts: β unbiased to 0.3 %, and the 95 %
/// profile intervals cover 92–98 % per parameter.
#[test]
fn recovery_and_profile_coverage_binomial() {
    let t = truths(500, 11);
    let s = synth(&t, &grid81(), 10, 10_000, false, 12);
    let cfg = FitConfig {
        profile: ProfileMode::All,
        ..Default::default()
    };
    let r = fit_sweep(&s, &cfg).unwrap();
    assert_eq!(r.qubits.len(), 500);
    // binomial counts: the per-read likelihood is the better one on the chip
    assert_eq!(
        r.noise.likelihood,
        NoiseLikelihood::PerRead,
        "{:?}",
        r.noise
    );
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    let bias = r
        .qubits
        .iter()
        .zip(&t)
        .map(|(f, t)| f.value(Param::Beta).unwrap() / t.beta - 1.0)
        .sum::<f64>()
        / 500.0;
    assert!(bias.abs() < 0.003, "relative bias of beta {bias}");
    let profile =
        |f: &QubitFit| Param::ALL.map(|p| (f.estimate(p).profile_lo, f.estimate(p).profile_hi));
    let cov = coverage(&r.qubits, &t, profile);
    let robust = coverage(&r.qubits, &t, QubitFit::intervals);
    eprintln!(
        "profile coverage {cov:?}, robust {robust:?}, wald {:?}",
        coverage(&r.qubits, &t, wald)
    );
    for (j, c) in cov.iter().chain(&robust).enumerate() {
        assert!(
            (0.92..=0.98).contains(c),
            "parameter {}: coverage {c}",
            j % 4
        );
    }
    // every fit is a local maximum at least as good as the truth's likelihood is not guaranteed, but
    // the dispersion of binomial data is close to 1
    let d = r.summary.median_dispersion.unwrap();
    assert!((0.7..1.3).contains(&d), "median dispersion {d}");
}

/// Per-call ±η noise (quasi-static) fitted with the per-read likelihood: counts are over-dispersed,
/// binomial intervals are too short, while the default robust intervals (cluster-robust over calls) and
/// the block bootstrap over calls cover 90–98 %.
fn overdispersion_case(n: usize, calls: usize, reps: usize) {
    let t = truths(n, 21);
    let s = synth(&t, &grid81(), calls, (100_000 / calls) as u32, true, 22);
    let cfg = FitConfig {
        profile: ProfileMode::None,
        noise: NoiseLikelihood::PerRead,
        bootstrap: reps,
        seed: 5,
        ..Default::default()
    };
    let r = fit_sweep(&s, &cfg).unwrap();
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    assert_eq!(r.noise.likelihood, NoiseLikelihood::PerRead);
    let cw = coverage(&r.qubits, &t, wald);
    let cb = coverage(&r.qubits, &t, boot);
    let cr = coverage(&r.qubits, &t, QubitFit::intervals);
    eprintln!(
        "binomial (Wald) coverage {cw:?}, robust {cr:?}, bootstrap {cb:?}, dispersion {:?}",
        r.summary.median_dispersion
    );
    for c in &cr[..3] {
        assert!((0.90..=0.98).contains(c), "robust coverage {cr:?}");
    }
    assert!(r.summary.median_dispersion.unwrap() > 2.0);
    assert!(
        cw[0] < 0.85 && cw[1] < 0.85,
        "binomial coverage should fall short: {cw:?}"
    );
    for (j, c) in cb.iter().enumerate().take(3) {
        assert!(
            (0.90..=0.98).contains(c),
            "bootstrap coverage of parameter {j}: {c}"
        );
    }
    let flagged = r
        .qubits
        .iter()
        .filter(|q| q.warnings.contains(&FitWarning::OverDispersed))
        .count();
    assert!(
        flagged * 10 >= n * 8,
        "{flagged} of {n} flagged over-dispersed"
    );
}

#[test]
fn overdispersion_binomial_short_bootstrap_covers() {
    overdispersion_case(200, 40, 100);
}

/// The full-size version (500 qubits, 200 replicates): `cargo test --release --test fit -- --ignored`.
#[test]
#[ignore]
fn overdispersion_bootstrap_coverage_full() {
    overdispersion_case(500, 40, 200);
}

#[test]
fn bootstrap_is_deterministic_with_a_seed() {
    let t = truths(3, 31);
    let s = synth(&t, &grid81(), 8, 2_000, true, 32);
    let cfg = FitConfig {
        profile: ProfileMode::None,
        bootstrap: 20,
        seed: 9,
        ..Default::default()
    };
    let a = fit_sweep(&s, &cfg).unwrap();
    let b = fit_sweep(&s, &cfg).unwrap();
    assert_eq!(a.qubits, b.qubits);
    let c = fit_sweep(&s, &FitConfig { seed: 10, ..cfg }).unwrap();
    assert_ne!(a.qubits[0].bootstrap, c.qubits[0].bootstrap);
}

#[test]
fn true_eta_zero_sits_on_the_bound_or_is_unresolved() {
    let t: Vec<Params> = truths(40, 41)
        .into_iter()
        .map(|p| Params { eta: 0.0, ..p })
        .collect();
    let s = synth(&t, &grid81(), 10, 10_000, false, 42);
    let r = fit_sweep(&s, &FitConfig::default()).unwrap();
    let on_bound = r.qubits.iter().filter(|q| matches!(&q.status, FitStatus::OnBound { at } if at.contains(&qasa::model::Param::Eta))).count();
    assert!(on_bound >= 8, "{on_bound} of 40 on the bound");
    for q in &r.qubits {
        assert!(!q.status.is_failed());
        if matches!(q.status, FitStatus::OnBound { .. }) {
            assert_eq!(q.value(Param::Eta), Some(0.0));
            assert_eq!(q.interval(Param::Eta).0, Some(0.0));
            assert!(q.warnings.contains(&FitWarning::EtaNotResolved));
        }
        assert!(q.interval(Param::Eta).1.unwrap() > 0.0);
    }
}

/// Sharp qubits with no or a tiny wrong-state floor (γ = 0 or 0.001–0.003, β 15–30, h to ±2, 10^6
/// reads): at γ = 0 the tails reach p ~ 1e-50, where the likelihood's derivatives must stay relatively
/// accurate (the solver and the profile's inner fits step onto γ = 0). Every fit reaches at least the
/// truth's likelihood; where γ = 0 its interval reaches 0, and where γ > 0 it covers the truth.
#[test]
fn sharp_qubits_without_a_wrong_state_floor() {
    let mut rng = Pcg64Mcg::seed_from_u64(77);
    let t: Vec<Params> = (0..40)
        .map(|i| {
            Params::new(
                rng.random_range(15.0..30.0),
                rng.random_range(-0.02..0.02),
                if i % 2 == 0 {
                    0.0
                } else {
                    rng.random_range(0.001..0.003)
                },
                if i % 4 < 2 { 0.0 } else { 0.004 },
            )
        })
        .collect();
    let h: Vec<f64> = (0..161).map(|i| -2.0 + 0.025 * i as f64).collect();
    let s = synth(&t, &h, 10, 100_000, false, 78);
    let r = fit_sweep(&s, &FitConfig::default()).unwrap();
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    let mut covered = 0;
    for (iq, q) in r.qubits.iter().enumerate() {
        let ll_truth = ll_at(&s, iq, &t[iq]);
        let ll = q.ll.unwrap();
        assert!(
            ll >= ll_truth - 1e-6,
            "qubit {iq}: ll {ll} < truth's {ll_truth}"
        );
        assert!(
            (q.value(Param::Beta).unwrap() / t[iq].beta - 1.0).abs() < 0.05,
            "qubit {iq}: {q:?}"
        );
        let (lo, hi) = q.interval(Param::Gamma);
        let (lo, hi) = (lo.unwrap(), hi.unwrap());
        if t[iq].gamma == 0.0 {
            assert_eq!(lo, 0.0, "qubit {iq}: {q:?}");
        }
        if lo <= t[iq].gamma && t[iq].gamma <= hi {
            covered += 1;
        }
    }
    assert!(
        covered >= 36,
        "γ interval covers the truth on {covered} of 40"
    );
}

#[test]
fn gauge_averaged_data_is_flagged() {
    // a qubit-frame bias b seen as +b and -b in equal halves: the ±η form with η = |b|, b = 0
    let t = [Params::new(8.0, 0.03, 0.05, 0.0); 5];
    let h = grid81();
    let mut s = synth(&t, &h, 10, 10_000, false, 51);
    let mut rng = Pcg64Mcg::seed_from_u64(52);
    for (ih, &hv) in h.iter().enumerate() {
        for iq in 0..t.len() {
            let p = 0.5
                * (p_down(NoiseKind::TwoPoint, &t[iq], hv)
                    + p_down(NoiseKind::TwoPoint, &Params { b: -0.03, ..t[iq] }, hv));
            s.counts.down[ih * t.len() + iq] =
                Binomial::new(100_000, p).unwrap().sample(&mut rng) as u32;
        }
    }
    s.blocks.clear();
    s.meta.gauges = None; // frame unknown, as for a QASA csv
    let r = fit_sweep(
        &s,
        &FitConfig {
            profile: ProfileMode::None,
            ..Default::default()
        },
    )
    .unwrap();
    for q in &r.qubits {
        assert!(
            q.value(Param::B).unwrap().abs() < 0.002
                && (q.value(Param::Eta).unwrap() - 0.03).abs() < 0.003,
            "{:?}",
            q.values()
        );
        assert!(
            q.warnings.contains(&FitWarning::GaugeAveraged),
            "{:?}",
            q.warnings
        );
    }
    // physical-frame data with the same b is not flagged, even with the frame unknown
    let mut s = synth(&t, &h, 10, 10_000, false, 53);
    s.meta.gauges = None;
    let r = fit_sweep(
        &s,
        &FitConfig {
            profile: ProfileMode::None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r
        .qubits
        .iter()
        .all(|q| !q.warnings.contains(&FitWarning::GaugeAveraged)));
}

#[test]
fn narrow_h_range_warns_no_plateau() {
    let t = truths(3, 61);
    let h: Vec<f64> = (0..21).map(|i| -0.1 + 0.01 * i as f64).collect();
    let s = synth(&t, &h, 4, 10_000, false, 62);
    let r = fit_sweep(
        &s,
        &FitConfig {
            profile: ProfileMode::None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r
        .qubits
        .iter()
        .all(|q| q.warnings.contains(&FitWarning::NoPlateau)));
}

#[test]
fn auto_model_choice_follows_the_truth() {
    let mut t = vec![Params::new(7.0, 0.0, 0.0, 0.0); 4];
    t.extend(truths(4, 71).into_iter().map(|p| Params {
        eta: 0.03,
        gamma: 0.08,
        ..p
    }));
    let s = synth(&t, &grid81(), 10, 10_000, false, 72);
    let cfg = FitConfig {
        model: ModelChoice::Auto,
        profile: ProfileMode::None,
        ..Default::default()
    };
    let r = fit_sweep(&s, &cfg).unwrap();
    for q in &r.qubits[..4] {
        assert_eq!(q.comparison.len(), 5);
        assert!(matches!(q.model, Model::Gibbs | Model::Bias), "{}", q.model);
    }
    for q in &r.qubits[4..] {
        assert!(
            matches!(q.model, Model::Qasa | Model::Gaussian),
            "{}",
            q.model
        );
        let qs = q
            .comparison
            .iter()
            .find(|c| c.model == Model::Qasa)
            .unwrap();
        assert_eq!(qs.lr_vs, Some(Model::Noise));
        assert!(qs.lr_p_value.unwrap() < 1e-6);
    }
}

#[test]
fn nested_models_fix_their_parameters() {
    let t = truths(2, 81);
    let s = synth(&t, &grid81(), 5, 10_000, false, 82);
    for m in [Model::Gibbs, Model::Bias, Model::Noise, Model::Gaussian] {
        let r = fit_sweep(
            &s,
            &FitConfig {
                model: ModelChoice::Fixed(m),
                profile: ProfileMode::Bounds,
                ..Default::default()
            },
        )
        .unwrap();
        for q in &r.qubits {
            assert_eq!(q.model, m);
            assert!(!q.status.is_failed(), "{m}: {:?}", q.status);
            let free = m.free();
            for (j, se) in q.ses().iter().enumerate() {
                assert_eq!(se.is_some(), free[j], "{m} param {j}");
                if !free[j] {
                    assert_eq!(q.values()[j], Some(0.0));
                }
            }
        }
    }
}

fn status_of(q: &QubitFit) -> Option<FailReason> {
    match &q.status {
        FitStatus::Failed { reason, .. } => Some(*reason),
        _ => None,
    }
}

#[test]
fn bad_inputs_give_errors_or_failed_statuses() {
    let t = truths(4, 91);
    let h = grid81();
    // empty
    let mut s = synth(&t, &h, 2, 100, false, 92);
    let mut e = s.clone();
    e.h.clear();
    e.counts = CountMatrix::zeros(0, 4);
    e.blocks.clear();
    assert!(matches!(
        fit_sweep(&e, &FitConfig::default()),
        Err(FitError::Empty { .. })
    ));
    // NaN h
    let mut e = s.clone();
    e.h[5] = f64::NAN;
    let err = fit_sweep(&e, &FitConfig::default()).unwrap_err();
    assert!(
        matches!(err, FitError::NonFiniteField { index: 5, .. }) && err.to_string().contains("#5")
    );
    // bootstrap without blocks
    let mut e = s.clone();
    e.blocks.clear();
    assert!(matches!(
        fit_sweep(
            &e,
            &FitConfig {
                bootstrap: 10,
                ..Default::default()
            }
        ),
        Err(FitError::NoBlocks { .. })
    ));
    // shape mismatch
    let mut e = s.clone();
    e.counts.down.pop();
    assert!(matches!(
        fit_sweep(&e, &FitConfig::default()),
        Err(FitError::Shape { .. })
    ));
    // qubit 1 all down, qubit 2 no reads, qubit 3 all up
    for ih in 0..h.len() {
        let i = ih * 4;
        s.counts.down[i + 1] = s.counts.reads[i + 1];
        s.counts.down[i + 2] = 0;
        s.counts.reads[i + 2] = 0;
        s.counts.down[i + 3] = 0;
    }
    s.blocks.clear();
    let r = fit_sweep(&s, &FitConfig::default()).unwrap();
    assert_eq!(r.qubits.len(), 4);
    assert_eq!(status_of(&r.qubits[0]), None);
    assert_eq!(status_of(&r.qubits[1]), Some(FailReason::AllOneState));
    assert_eq!(status_of(&r.qubits[2]), Some(FailReason::NoReads));
    assert_eq!(status_of(&r.qubits[3]), Some(FailReason::AllOneState));
    assert_eq!(r.summary.failed, 3);
    // a single h value
    let one = synth(&t, &[0.1], 2, 1000, false, 93);
    let r = fit_sweep(&one, &FitConfig::default()).unwrap();
    assert!(r
        .qubits
        .iter()
        .all(|q| status_of(q) == Some(FailReason::TooFewFieldValues)));
    // few reads: still fitted, with a warning
    let few = synth(&t, &h, 1, 20, false, 94);
    let r = fit_sweep(&few, &FitConfig::default()).unwrap();
    assert!(r
        .qubits
        .iter()
        .all(|q| q.warnings.contains(&FitWarning::FewReads)));
}

#[test]
fn fit_json_matches_its_schema() {
    let t = truths(3, 101);
    let mut s = synth(&t, &grid81(), 4, 5_000, true, 102);
    for ih in 0..81 {
        s.counts.reads[ih * 3 + 2] = 0;
        s.counts.down[ih * 3 + 2] = 0;
        for b in s.blocks.iter_mut() {
            b.reads[ih * 3 + 2] = 0;
            b.down[ih * 3 + 2] = 0;
        }
    }
    let cfg = FitConfig {
        model: ModelChoice::Auto,
        bootstrap: 5,
        ..Default::default()
    };
    let r = fit_sweep(&s, &cfg).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    if let Err(e) = qasa::schema::validate(qasa::schema::FIT, &v) {
        panic!(
            "fit.json violates its schema at {}: {}",
            e.json_path, e.reason
        );
    }
    let back: qasa::fit::FitResult = serde_json::from_value(v).unwrap();
    assert_eq!(back.qubits.len(), 3);
}

fn write_synth(dir: &std::path::Path, name: &str, n: usize, seed: u64) -> std::path::PathBuf {
    let t = truths(n, seed);
    let s = synth(&t, &grid81(), 4, 25_000, false, seed + 1);
    let path = dir.join(name);
    qasa::sweep::write_sweep(&s, &path).unwrap();
    path
}

#[test]
fn cli_writes_json_csv_and_qasa_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_synth(dir.path(), "s.sweep.json", 5, 111);
    let out = dir.path().join("fit.json");
    let csv = dir.path().join("params.csv");
    let qcsv = dir.path().join("model_parameters.csv");
    let a = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args([
            "fit",
            input.to_str().unwrap(),
            "-q",
            "--profile",
            "bounds",
            "-o",
        ])
        .arg(&out)
        .arg("--csv")
        .arg(&csv)
        .arg("--qasa-csv")
        .arg(&qcsv)
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("fitted 5 qubits"), "{stdout}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("spin,beta,b,gamma,eta,beta_se,b_se,gamma_se,eta_se,beta_lo,beta_hi,b_lo,b_hi,gamma_lo,gamma_hi,eta_lo,eta_hi,ll,dispersion,model,status,error_method")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 5);
    // plain decimals, the error method named on every row
    for r in &rows {
        for c in r.split(',').take(19) {
            assert!(!c.contains('e'), "exponent in {c:?} of {r}");
        }
    }
    assert!(
        rows.iter().all(|r| r.ends_with(",cluster_robust_calls")),
        "{rows:?}"
    );
    assert!(
        stdout.contains("errors: 95 % intervals, cluster-robust sandwich over calls"),
        "{stdout}"
    );
    let q = std::fs::read_to_string(&qcsv).unwrap();
    assert!(q.starts_with("spin,β,b,γ,η\n0,"), "{q}");
    assert_eq!(q.lines().count(), 6);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(qasa::schema::validate(qasa::schema::FIT, &v).is_ok());
    // --json summary
    let a = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args([
            "fit",
            input.to_str().unwrap(),
            "-q",
            "--profile",
            "none",
            "--model",
            "auto",
            "--json",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(v["n_qubits"], 5);
}

#[test]
fn cli_errors_are_one_line_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let a = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args(["fit", dir.path().join("missing.json").to_str().unwrap()])
        .assert()
        .code(1);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args(["fit", "x.json", "--model", "nonsense"])
        .assert()
        .code(2);
    // bootstrap without per-call blocks: a clear failure
    let t = truths(2, 5);
    let mut s = synth(&t, &grid81(), 2, 1000, false, 6);
    s.blocks.clear();
    let input = dir.path().join("noblocks.sweep.json");
    qasa::sweep::write_sweep(&s, &input).unwrap();
    let a = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args([
            "fit",
            input.to_str().unwrap(),
            "-q",
            "--bootstrap",
            "10",
            "-o",
        ])
        .arg(dir.path().join("f.json"))
        .assert()
        .code(1);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("bootstrap needs per-call blocks"), "{err}");
}

/// Independent SciPy reference (scripts/reference_fit.py) on a QASA spin_table.csv: qasa's
/// log-likelihood must be at least the reference's (relative tolerance 1e-6) on every qubit.
/// Needs python3 with numpy + scipy: `QASA_PYTHON=/tmp/qasa-venv/bin/python cargo test --test fit
/// reference_scipy -- --ignored` (default interpreter: /tmp/qasa-venv/bin/python).
#[test]
#[ignore]
fn reference_scipy_likelihood_not_better_than_qasa() {
    let python =
        std::env::var("QASA_PYTHON").unwrap_or_else(|_| "/tmp/qasa-venv/bin/python".into());
    let n: usize = std::env::var("QASA_REFERENCE_QUBITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let table = write_synth(dir.path(), "spin_table.csv", n, 121);
    let csv = dir.path().join("params.csv");
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args([
            "fit",
            table.to_str().unwrap(),
            "-q",
            "--profile",
            "none",
            "-o",
        ])
        .arg(dir.path().join("fit.json"))
        .arg("--csv")
        .arg(&csv)
        .assert()
        .success();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference_fit.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&table)
        .arg("-o")
        .arg(dir.path().join("reference.csv"))
        .arg("--compare")
        .arg(&csv)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} (set QASA_PYTHON to a python with numpy+scipy): {e}")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "qasa worse than the SciPy reference on some qubit:\n{text}"
    );
}

mod derivatives {
    use proptest::prelude::*;
    use qasa::model::{log_likelihood, response, NoiseKind, Order, Params, QubitCounts};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// ∂p/∂θ and ∂²p/∂θ∂θ' against central differences, both noise models.
        #[test]
        fn response_derivatives_match_finite_differences(
            beta in 0.5f64..30.0, b in -0.1f64..0.1, gamma in -0.3f64..0.3, eta in -0.1f64..0.1,
            h in -2.0f64..2.0, gauss in any::<bool>(),
        ) {
            let kind = if gauss { NoiseKind::Gaussian } else { NoiseKind::TwoPoint };
            let th = [beta, b, gamma, eta];
            let r = response(kind, &Params::from_array(th), h, Order::Hessian);
            for i in 0..4 {
                let step = 1e-6 * th[i].abs().max(1e-2);
                let mut lo = th;
                let mut hi = th;
                lo[i] -= step;
                hi[i] += step;
                let rl = response(kind, &Params::from_array(lo), h, Order::Gradient);
                let rh = response(kind, &Params::from_array(hi), h, Order::Gradient);
                let num = (rh.p - rl.p) / (2.0 * step);
                prop_assert!(close(num, r.dp[i], 1e-5), "dp[{}]: {} vs {}", i, num, r.dp[i]);
                for j in 0..4 {
                    let num = (rh.dp[j] - rl.dp[j]) / (2.0 * step);
                    prop_assert!(close(num, r.d2p[i][j], 1e-4), "d2p[{}][{}]: {} vs {}", i, j, num, r.d2p[i][j]);
                }
            }
        }

        /// p + q = 1 and both in [0, 1] everywhere, including extreme β and h.
        #[test]
        fn probabilities_are_complementary(beta in 1e-6f64..1e6, b in -1.0f64..1.0, gamma in -2.0f64..2.0,
                                           eta in -1.0f64..1.0, h in -100.0f64..100.0) {
            let r = response(NoiseKind::TwoPoint, &Params::new(beta, b, gamma, eta), h, Order::Hessian);
            prop_assert!(r.p >= 0.0 && r.q >= 0.0 && (r.p + r.q - 1.0).abs() < 1e-12);
            prop_assert!(r.dp.iter().chain(r.d2p.iter().flatten()).all(|v| v.is_finite()));
        }

        /// The likelihood gradient against central differences of ℓ. The difference quotient carries
        /// the rounding of ℓ (|ℓ| ε / step, ℓ ≈ -3e4 here), which the tolerance includes.
        #[test]
        fn likelihood_gradient_matches(beta in 1.0f64..15.0, b in -0.05f64..0.05, gamma in 0.0f64..0.2, eta in 0.0f64..0.05) {
            let d = QubitCounts::from_triples([(-1.0, 10, 10_000), (-0.1, 2_000, 10_000), (0.0, 5_100, 10_000), (0.05, 7_000, 10_000), (1.0, 9_990, 10_000)]);
            let th = [beta, b, gamma, eta];
            let e = log_likelihood(NoiseKind::TwoPoint, &Params::from_array(th), &d, Order::Gradient);
            for i in 0..4 {
                let step = 1e-5 * th[i].abs().max(1e-2);
                let mut lo = th;
                let mut hi = th;
                lo[i] -= step;
                hi[i] += step;
                let num = (log_likelihood(NoiseKind::TwoPoint, &Params::from_array(hi), &d, Order::Value).ll
                    - log_likelihood(NoiseKind::TwoPoint, &Params::from_array(lo), &d, Order::Value).ll) / (2.0 * step);
                let rounding = 16.0 * f64::EPSILON * e.ll.abs() / step;
                prop_assert!((num - e.grad[i]).abs() <= 1e-4 * (1.0 + num.abs().max(e.grad[i].abs())) + rounding,
                    "grad[{}]: {} vs {}", i, num, e.grad[i]);
            }
        }
    }
}

/// Against the virtual QPU (`qasa::device`): per-call ±η noise, random gauges mapped back to the physical
/// frame, 0.5 % outliers. Every qubit is fitted; β, b, γ, η are recovered within the bootstrap errors.
#[test]
fn recovers_the_virtual_qpu_truth() {
    use qasa::device::{self, DeviceConfig, SimulationPlan, VirtualQpu};
    use qasa::topology::{Topology, WorkingGraph};
    let topo: Topology = "chimera:4".parse().unwrap();
    let qpu = VirtualQpu::new(
        WorkingGraph::perfect(topo),
        &DeviceConfig {
            seed: 7,
            ..DeviceConfig::default()
        },
    );
    let plan = SimulationPlan {
        blocks: 10,
        seed: 8,
        ..SimulationPlan::default()
    };
    let sweep = device::simulate(&qpu, &plan, &|_| {}).unwrap();
    let cfg = FitConfig {
        profile: ProfileMode::Bounds,
        bootstrap: 60,
        seed: 3,
        ..Default::default()
    };
    let r = fit_sweep(&sweep, &cfg).unwrap();
    assert_eq!(r.qubits.len(), sweep.qubits.len());
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    let truth = qpu.truth();
    let mut within = [0usize; 4];
    let mut rel_beta = Vec::new();
    for q in &r.qubits {
        let t = truth.qubits.iter().find(|t| t.qubit == q.qubit).unwrap();
        let tv = [
            truth.beta_at(t, plan.anneal_time_us),
            t.b,
            t.gamma.abs(),
            t.eta.abs(),
        ];
        rel_beta.push((q.value(Param::Beta).unwrap() / tv[0] - 1.0).abs());
        // the fit is at least as likely as the truth (the optimizer found the maximum)
        let ll_truth = ll_at(
            &sweep,
            sweep.column_of(q.qubit).unwrap(),
            &Params::from_array(tv),
        );
        assert!(
            q.ll.unwrap() >= ll_truth - 1e-6,
            "qubit {}: ll {} < truth's {}",
            q.qubit,
            q.ll.unwrap(),
            ll_truth
        );
        let bs = q.bootstrap.as_ref().unwrap();
        let se = Param::ALL.map(|p| bs.params[p].se);
        for j in 0..4 {
            let z = (q.values()[j].unwrap() - tv[j]) / se[j].unwrap();
            if z.abs() < 3.0 {
                within[j] += 1;
            }
        }
    }
    rel_beta.sort_by(f64::total_cmp);
    let n = r.qubits.len();
    eprintln!(
        "median |β rel. error| {:.2e}; within 3 bootstrap SE: {within:?} of {n}; {:?}",
        rel_beta[n / 2],
        r.summary
    );
    assert!(rel_beta[n / 2] < 0.01);
    // η is weakly identified with 10 calls per h (each h sees only ten ±η draws, physics.md §3.2, §3.5)
    for (j, w) in within.iter().enumerate() {
        let need = if j == 3 { 0.85 } else { 0.95 };
        assert!(
            *w as f64 >= need * n as f64,
            "parameter {j}: {w} of {n} within 3 SE"
        );
    }
}

#[test]
fn degenerate_qubits_never_panic() {
    let t = truths(3, 131);
    let h = grid81();
    let mut s = synth(&t, &h, 1, 10_000, false, 132);
    s.blocks.clear();
    let mut rng = Pcg64Mcg::seed_from_u64(133);
    for ih in 0..h.len() {
        // qubit 0: dead (p = 1/2 everywhere); qubit 1: all down but one read; qubit 2: stuck with a 1e-4 leak
        s.counts.down[ih * 3] = Binomial::new(10_000, 0.5).unwrap().sample(&mut rng) as u32;
        s.counts.down[ih * 3 + 1] = if ih == 0 { 9_999 } else { 10_000 };
        s.counts.down[ih * 3 + 2] = Binomial::new(10_000, 1e-4).unwrap().sample(&mut rng) as u32;
    }
    for model in [ModelChoice::Fixed(Model::Qasa), ModelChoice::Auto] {
        let r = fit_sweep(
            &s,
            &FitConfig {
                model,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.qubits.len(), 3);
        for q in &r.qubits {
            eprintln!("{} {:?} {:?}", q.qubit, q.status, q.values());
            if q.qubit == 2 {
                assert!(
                    q.warnings.contains(&FitWarning::NoTransition),
                    "{:?}",
                    q.warnings
                );
            }
            for v in q.values().iter().flatten() {
                assert!(v.is_finite());
            }
        }
    }
}

/// Coverage of the DEFAULT outputs against the virtual QPU's truth (issue 8): `qasa simulate` defaults
/// on pegasus:6 with seeds 1–3 (2,040 qubit fits per case), per-call two-point noise, per-call Gaussian
/// noise, per-read noise, and the QASA-csv export of the first (pooled counts, gauges unknown), each
/// fitted with the default settings. β, b, γ intervals hold the truth on 93–97 % of qubits (91–97 %
/// for pooled counts), η's on ≥ 92 % where blocks exist; η's median relative error is ≤ 5 % under
/// per-call noise. Release only (about a minute): `cargo test --release --test it
/// fit::default_coverage -- --ignored --nocapture`.
#[test]
#[ignore]
fn default_coverage_against_the_virtual_qpu() {
    use qasa::device::{self, DeviceConfig, NoiseModel, SimulationPlan, VirtualQpu};
    use qasa::topology::{Topology, WorkingGraph};
    let topo: Topology = "pegasus:6".parse().unwrap();
    let cases: [(&str, NoiseModel, bool); 4] = [
        ("call-two-point", NoiseModel::CallTwoPoint, false),
        ("call-gaussian", NoiseModel::CallGaussian, false),
        ("read", NoiseModel::Read, false),
        ("qasa-csv", NoiseModel::CallTwoPoint, true),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, noise, pooled) in cases {
        let mut hit = [0usize; 4];
        let mut n = [0usize; 4];
        let mut rel_eta = Vec::new();
        for seed in 1..=3u64 {
            let qpu = VirtualQpu::new(
                WorkingGraph::perfect(topo),
                &DeviceConfig {
                    seed,
                    noise,
                    ..DeviceConfig::default()
                },
            );
            let plan = SimulationPlan {
                seed,
                ..SimulationPlan::default()
            };
            let mut sweep = device::simulate(&qpu, &plan, &|_| {}).unwrap();
            if pooled {
                let path = dir.path().join(format!("spin_table_{seed}.csv"));
                qasa::sweep::write_sweep(&sweep, &path).unwrap();
                sweep = qasa::sweep::read_sweep(&path).unwrap();
                assert!(sweep.blocks.is_empty());
            }
            let r = fit_sweep(&sweep, &FitConfig::default()).unwrap();
            let check = qasa::fit::check_against_truth(&r, qpu.truth()).unwrap();
            for pc in &check.params {
                let j = pc.param.index();
                let robust = pc.coverage.iter().find(|c| c.interval == "robust").unwrap();
                hit[j] += (robust.coverage * robust.n as f64).round() as usize;
                n[j] += robust.n;
                if pc.param == Param::Eta {
                    rel_eta.push(pc.median_rel_error.unwrap());
                }
            }
        }
        let cov: Vec<f64> = (0..4).map(|j| hit[j] as f64 / n[j] as f64).collect();
        rel_eta.sort_by(f64::total_cmp);
        eprintln!(
            "{name:>15}: coverage β {:.3}, b {:.3}, γ {:.3}, η {:.3} (n = {}), η median rel. error {:.3}",
            cov[0], cov[1], cov[2], cov[3], n[0], rel_eta[1]
        );
        assert!(n.iter().all(|&k| k >= 2000), "{name}: {n:?}");
        let band = if pooled { 0.91..=0.97 } else { 0.93..=0.97 };
        for (j, c) in cov.iter().enumerate().take(3) {
            if !band.contains(c) {
                failures.push(format!("{name}: parameter {j} coverage {c:.3}"));
            }
        }
        if !pooled && cov[3] < 0.92 {
            failures.push(format!("{name}: η coverage {:.3}", cov[3]));
        }
        if matches!(noise, NoiseModel::CallTwoPoint | NoiseModel::CallGaussian)
            && !pooled
            && rel_eta[1] > 0.05
        {
            failures.push(format!("{name}: η median relative error {:.3}", rel_eta[1]));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A sweep laid out like an optimised sparse plan (`qasa plan --optimize --match-reference
/// --pooled-reference` on Chimera): long calls at h = ±1, 20 calls at h = 0, one or two calls of 10⁴ reads
/// at the few other h values; each call draws ±η per qubit. `(h, calls)` per h; block c holds the c-th
/// call of every h that has one.
fn sparse_plan_sweep(truth: &[Params], seed: u64) -> Sweep {
    const READS: u32 = 10_000;
    let mut layout: Vec<(f64, usize)> = vec![(-1.0, 210)];
    for i in 1..=9 {
        layout.push((-1.0 + 0.1 * i as f64, 2));
    }
    layout.extend([(-0.05, 1), (0.0, 20), (0.05, 1)]);
    for i in 1..=9 {
        layout.push((0.1 * i as f64, 2));
    }
    layout.push((1.0, 210));
    let h: Vec<f64> = layout.iter().map(|l| l.0).collect();
    let calls = layout.iter().map(|l| l.1).max().unwrap_or(0);
    let nq = truth.len();
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut blocks: Vec<CountMatrix> = (0..calls)
        .map(|_| CountMatrix::zeros(h.len(), nq))
        .collect();
    for (ih, &(hv, n_calls)) in layout.iter().enumerate() {
        for block in blocks.iter_mut().take(n_calls) {
            for (iq, t) in truth.iter().enumerate() {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                let p = Params::new(t.beta, t.b + sign * t.eta, t.gamma, 0.0);
                let pd = p_down(NoiseKind::TwoPoint, &p, hv);
                let i = ih * nq + iq;
                block.down[i] = Binomial::new(u64::from(READS), pd)
                    .unwrap()
                    .sample(&mut rng) as u32;
                block.reads[i] = READS;
            }
        }
    }
    let mut sweep = synth(truth, &h, 0, READS, true, seed);
    let mut counts = CountMatrix::zeros(h.len(), nq);
    for b in &blocks {
        counts.add(b);
    }
    sweep.counts = counts;
    sweep.blocks = blocks;
    sweep
}

/// The default fit finds the global maximum on sparse plans (few h values in the transition, one or two
/// calls at each): there the per-call likelihood has several local maxima along β (each assignment of
/// those calls to the ±η branches is one), and the first start alone stopped up to hundreds of nats below
/// the truth's likelihood on some qubits (5 of 384 fits in the design proof). Every fit must end no more
/// than 1 nat below the likelihood of the true parameters.
#[test]
fn sparse_plans_reach_the_global_maximum() {
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let truth: Vec<Params> = (0..128)
        .map(|_| {
            Params::new(
                rng.random_range(9.5..12.5),
                rng.random_range(-0.02..0.0),
                rng.random_range(0.025..0.065),
                rng.random_range(0.009..0.018),
            )
        })
        .collect();
    let mut trapped = Vec::new();
    for seed in 2..=3 {
        let sweep = sparse_plan_sweep(&truth, seed);
        let r = fit_sweep(&sweep, &FitConfig::default()).unwrap();
        assert_eq!(r.noise.likelihood, NoiseLikelihood::PerCall);
        for (iq, (q, t)) in r.qubits.iter().zip(&truth).enumerate() {
            let cells = qasa::fit::chip::block_cells(&sweep, iq);
            let ll = |p: &Params| {
                qasa::model::call_log_likelihood(
                    NoiseKind::TwoPoint,
                    p,
                    &cells,
                    None,
                    qasa::model::Order::Value,
                )
                .ll
            };
            let [Some(beta), Some(b), Some(g), Some(eta)] = q.values() else {
                panic!("seed {seed}, qubit {iq}: {:?}", q.status);
            };
            let gap = ll(t) - ll(&Params::new(beta, b, g, eta));
            if gap > 1.0 {
                trapped.push((seed, iq, gap, t.beta, beta));
            }
        }
    }
    assert!(
        trapped.is_empty(),
        "(seed, qubit, nats below the truth, true β, fitted β): {trapped:?}"
    );
}

// ---- the command line (issue 9 items of `qasa fit`) ----

fn qasa_in(dir: &std::path::Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_qasa"));
    c.current_dir(dir);
    c
}

/// Runs `qasa ARGS` in `d`.
fn run(d: &std::path::Path, args: &[&str]) -> std::process::Output {
    qasa_in(d).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The one `error: …` line of a failed command (no panic, no abort).
fn one_error(o: &std::process::Output) -> String {
    let e = text(&o.stderr);
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        e.starts_with("error: ") && e.trim_end().lines().count() == 1,
        "{e}"
    );
    e
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A small sweep of `n` qubits written to `dir/name`, with `edit` applied first.
fn small_sweep(
    dir: &std::path::Path,
    name: &str,
    n: usize,
    edit: impl FnOnce(&mut Sweep),
) -> std::path::PathBuf {
    let mut s = synth(&truths(n, 141), &grid81(), 4, 2_500, true, 142);
    edit(&mut s);
    let path = dir.join(name);
    qasa::sweep::write_sweep(&s, &path).unwrap();
    path
}

#[test]
fn cli_iteration_limits_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_sweep(d, "s.sweep.json", 3, |_| {});
    // --max-iter 0 is a usage error
    let o = run(d, &["fit", "s.sweep.json", "--max-iter", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--max-iter"),
        "{}",
        text(&o.stderr)
    );
    // every qubit failed: exit 1 with the reason, nothing written
    let o = qasa_in(d)
        .args(["fit", "s.sweep.json", "-q", "--max-iter", "1"])
        .args(["-o", "f.json", "--csv", "p.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = one_error(&o);
    assert!(
        e.contains("no qubit")
            && e.contains("3 × iteration_limit")
            && e.contains("nothing written"),
        "{e}"
    );
    assert_eq!(files_in(d), ["s.sweep.json"]);
    // a sweep of one h value: every qubit fails for too few field values
    let t = truths(2, 5);
    let one = synth(&t, &[0.1], 2, 1000, false, 6);
    qasa::sweep::write_sweep(&one, &d.join("one.sweep.json")).unwrap();
    let o = run(d, &["fit", "one.sweep.json", "-q", "-o", "g.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_error(&o).contains("too_few_field_values"));
    assert!(!d.join("g.json").exists());
    // some failed: exit 0, and the summary says how many
    small_sweep(d, "dead.sweep.json", 3, |s| {
        for ih in 0..s.h.len() {
            let i = ih * 3 + 2;
            s.counts.down[i] = s.counts.reads[i];
            for b in s.blocks.iter_mut() {
                b.down[i] = b.reads[i];
            }
        }
    });
    let o = run(d, &["fit", "dead.sweep.json", "-q", "-o", "h.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("fitted 3 qubits")
            && out.contains("failed 1 (1 of 3 qubits not fitted)")
            && out.contains("failed all_one_state: 1"),
        "{out}"
    );
    // one qubit: "1 qubit"
    small_sweep(d, "single.sweep.json", 1, |_| {});
    let o = run(d, &["fit", "single.sweep.json", "-q", "-o", "k.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("fitted 1 qubit ×"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn cli_models_help_and_bootstrap_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_sweep(d, "s.sweep.json", 3, |_| {});
    let o = run(d, &["fit", "s.sweep.json", "--model", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("auto"), "{}", text(&o.stderr));
    // parameters a model does not fit are said to be fixed, not printed as 0.0000
    let o = run(
        d,
        &[
            "fit",
            "s.sweep.json",
            "-q",
            "--model",
            "gibbs",
            "-o",
            "g.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("b fixed at 0")
            && out.contains("γ fixed at 0")
            && out.contains("η fixed at 0"),
        "{out}"
    );
    assert!(!out.contains("0.0000 (h)"), "{out}");
    // the help names the confidence level and which interval each column holds
    let o = run(d, &["fit", "--help"]);
    let help = text(&o.stdout);
    assert!(o.status.success());
    assert!(
        help.contains("95 %") && help.contains("robust") && help.contains("*_lo, *_hi"),
        "{help}"
    );
    // an impossible bootstrap is refused before any work, with the largest that fits
    let o = run(
        d,
        &[
            "fit",
            "s.sweep.json",
            "-q",
            "--bootstrap",
            "1000000000000",
            "-o",
            "b.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = one_error(&o);
    assert!(
        e.contains("bootstrap replicates need about") && e.contains("use at most"),
        "{e}"
    );
    assert!(!d.join("b.json").exists());
}

/// `--truth` prints and records the comparison, and its numbers agree with an independent
/// computation from fit.json and truth.json (scripts/compare_truth.py, Python standard library): the
/// bias and RMS error per parameter and the coverage of the robust and bootstrap intervals. With
/// readout flips, γ is compared with the γ of the same wrong-state floor in both.
#[test]
fn cli_truth_check_agrees_with_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    qasa_in(d)
        .args([
            "simulate",
            "--topology",
            "chimera:2",
            "--reads",
            "20000",
            "-q",
        ])
        .args([
            "--readout-flip",
            "0.002",
            "-o",
            "s.sweep.json",
            "--truth",
            "truth.json",
        ])
        .assert()
        .success();
    let o = qasa_in(d)
        .args([
            "fit",
            "s.sweep.json",
            "-q",
            "--bootstrap",
            "20",
            "-o",
            "fit.json",
        ])
        .args(["--truth", "truth.json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("against the truth (32 qubits, β at 5 µs):"),
        "{out}"
    );
    let fit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("fit.json")).unwrap()).unwrap();
    let check = &fit["truth_check"];
    assert_eq!(check["qubits"], 32);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compare_truth.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .args(["fit.json", "truth.json"])
        .current_dir(d)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert!(
        table.contains("32 qubits, 0 failed, 0 not in the truth"),
        "{table}"
    );
    for (name, pc) in ["beta", "b", "gamma", "eta"]
        .iter()
        .zip(check["params"].as_array().unwrap())
    {
        assert_eq!(pc["param"], *name);
        let row: Vec<&str> = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row: {table}"))
            .split_whitespace()
            .collect();
        assert_eq!(row[1], "32", "{table}");
        // rust printed in the table to 3 significant digits
        let near = |s: &str, v: &serde_json::Value| {
            let (a, b) = (s.parse::<f64>().unwrap(), v.as_f64().unwrap());
            (a - b).abs() <= 5e-3 * b.abs() + 1e-300
        };
        assert!(near(row[3], &pc["bias"]), "{name} bias: {table} vs {pc}");
        assert!(
            near(row[4], &pc["rms_error"]),
            "{name} rms: {table} vs {pc}"
        );
        let cov = |kind: &str| {
            pc["coverage"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["interval"] == kind)
                .map(|c| format!("{:.3}", c["coverage"].as_f64().unwrap()))
        };
        assert_eq!(Some(row[5].to_string()), cov("robust"), "{name}: {table}");
        assert_eq!(
            Some(row[6].to_string()),
            cov("bootstrap"),
            "{name}: {table}"
        );
        // and the printed summary row
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains("robust ")),
            "{out}"
        );
    }
}

/// The gauge-averaging warning on physical-frame data (issue 8 §5). A qubit on its own cannot tell a
/// gauge-averaged bias from a qubit with b ≈ 0 and a resolved η (both are odd-symmetric), so a small
/// share p₁ of physical-frame qubits looks gauge-averaged by itself; averaging over gauges acts on the
/// whole chip, so the warning stands only when at least half of the fitted qubits look so. On pooled
/// tables of gauged, physical-frame data whose frame the fit does not know (QASA csv exports of
/// `qasa simulate` defaults, pegasus:6, seeds 1–3, 2,040 qubits): no chip is warned, p₁ (each qubit
/// fitted alone) is at most 2 %, so a chip of n qubits is falsely warned with probability at most
/// P(Bin(n, p₁) ≥ n/2), below 1e-4 for n ≥ 8 (one Chimera cell) and negligible for a real chip.
/// Gauge-averaged data is still flagged (`gauge_averaged_data_is_flagged`). Release:
/// `cargo test --release --test it fit::gauge_warning -- --ignored --nocapture`.
#[test]
#[ignore]
fn gauge_warning_false_alarms_are_bounded() {
    use qasa::device::{self, DeviceConfig, SimulationPlan, VirtualQpu};
    use qasa::topology::{Topology, WorkingGraph};
    let topo: Topology = "pegasus:6".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut alone, mut fitted, mut warned) = (0usize, 0usize, 0usize);
    for seed in 1..=3u64 {
        let qpu = VirtualQpu::new(
            WorkingGraph::perfect(topo),
            &DeviceConfig {
                seed,
                ..DeviceConfig::default()
            },
        );
        let plan = SimulationPlan {
            seed,
            ..SimulationPlan::default()
        };
        assert!(plan.gauges, "the default plan uses gauges");
        let sweep = device::simulate(&qpu, &plan, &|_| {}).unwrap();
        let path = dir.path().join(format!("spin_table_{seed}.csv"));
        qasa::sweep::write_sweep(&sweep, &path).unwrap();
        let pooled = qasa::sweep::read_sweep(&path).unwrap();
        assert!(pooled.meta.gauges.is_none() && pooled.blocks.is_empty());
        let r = fit_sweep(&pooled, &FitConfig::default()).unwrap();
        warned += r
            .qubits
            .iter()
            .filter(|q| q.warnings.contains(&FitWarning::GaugeAveraged))
            .count();
        // each qubit fitted on its own: the per-qubit rate
        for iq in 0..pooled.qubits.len() {
            let mut one = pooled.clone();
            one.qubits = vec![pooled.qubits[iq]];
            one.counts = CountMatrix::zeros(pooled.h.len(), 1);
            for ih in 0..pooled.h.len() {
                let (k, n) = pooled.counts.get(ih, iq);
                one.counts.down[ih] = k;
                one.counts.reads[ih] = n;
            }
            let f = fit_sweep(&one, &FitConfig::default()).unwrap();
            let q = &f.qubits[0];
            if !q.status.is_failed() {
                fitted += 1;
                if q.warnings.contains(&FitWarning::GaugeAveraged) {
                    alone += 1;
                }
            }
        }
    }
    let p1 = alone as f64 / fitted as f64;
    // P(Bin(n, p) ≥ n/2) for a chip of n qubits
    let tail = |n: u64, p: f64| -> f64 {
        let lnc = |k: u64| -> f64 { (1..=k).map(|i| ((n - k + i) as f64 / i as f64).ln()).sum() };
        (n.div_ceil(2)..=n)
            .map(|k| (lnc(k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp())
            .sum()
    };
    eprintln!(
        "{alone} of {fitted} qubits look gauge-averaged alone (p₁ = {p1:.4}); warned on the chips: {warned}; \
         false-alarm bound for n = 8: {:.2e}, n = 680: {:.2e}",
        tail(8, p1.max(1.0 / fitted as f64)),
        tail(680, p1.max(1.0 / fitted as f64))
    );
    assert_eq!(warned, 0);
    assert!(fitted >= 2000, "{fitted}");
    assert!(p1 <= 0.02, "per-qubit false-alarm rate {p1}");
    assert!(tail(8, 0.02) < 1e-4);
}

/// The README's quick start, run as pasted (less `cargo install`, with the built binary for `qasa`) in
/// a folder holding a copy of the repository's `data/`: every command succeeds, and the fit's built-in
/// comparison with the truth gives 93–97 % coverage of the default intervals for every parameter.
/// Release: `cargo test --release --test it fit::readme_quick_start -- --ignored --nocapture`.
#[test]
#[ignore]
fn readme_quick_start_runs_as_pasted() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let start = readme
        .find("## Quick start")
        .expect("a quick start section");
    let block = readme[start..]
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block in the quick start");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("data")).unwrap();
    for e in std::fs::read_dir(repo.join("data")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.join("data").join(e.file_name())).unwrap();
    }
    let mut last = String::new();
    let mut ran = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words[..2] == ["cargo", "install"] {
            continue;
        }
        assert_eq!(words[0], "qasa", "{line}");
        let o = qasa_in(d).args(&words[1..]).output().unwrap();
        assert!(o.status.success(), "{line}: {}", text(&o.stderr));
        last = text(&o.stdout);
        eprintln!("$ {line}\n{last}");
        ran += 1;
    }
    assert!(ran >= 2, "{block}");
    assert!(last.contains("against the truth ("), "{last}");
    let fit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("fit.json")).unwrap()).unwrap();
    for pc in fit["truth_check"]["params"].as_array().unwrap() {
        let robust = pc["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["interval"] == "robust")
            .unwrap();
        let c = robust["coverage"].as_f64().unwrap();
        assert!((0.93..=0.97).contains(&c), "{}: coverage {c}", pc["param"]);
    }
}

/// The noise law per qubit (`fit::noise`, `per_qubit_law`): on a chip where crosstalk couples some qubits
/// to a neighbour (whose spin each read sees as a field, so their per-call noise is not two-point), the
/// default fit keeps the Gaussian law for the coupled qubits and the two-point law for the others; on the
/// same chip without crosstalk it fits the two-point law only.
#[test]
fn default_fit_chooses_the_noise_law_per_qubit() {
    use qasa::device::{self, DeviceConfig, SimulationPlan, VirtualQpu};
    use qasa::topology::{Topology, WorkingGraph};
    let topo: Topology = "pegasus:3".parse().unwrap();
    let fit = |crosstalk_fraction: f64| {
        let qpu = VirtualQpu::new(
            WorkingGraph::perfect(topo),
            &DeviceConfig {
                seed: 5,
                crosstalk_fraction,
                outlier_fraction: 0.0,
                ..DeviceConfig::default()
            },
        );
        let plan = SimulationPlan {
            reads: 20_000,
            reads_per_call: 2_000,
            seed: 6,
            ..SimulationPlan::default()
        };
        let sweep = device::simulate(&qpu, &plan, &|_| {}).unwrap();
        let r = fit_sweep(&sweep, &FitConfig::default()).unwrap();
        // The Gaussian law on every qubit, to check what the screen skipped.
        let gaussian = fit_sweep(
            &sweep,
            &FitConfig {
                model: ModelChoice::Fixed(Model::Gaussian),
                noise: NoiseLikelihood::PerCall,
                ..FitConfig::default()
            },
        )
        .unwrap();
        let coupled: std::collections::HashSet<u32> = qpu
            .truth()
            .crosstalk
            .iter()
            .flat_map(|c| [c.u, c.v])
            .collect();
        (r, coupled, gaussian)
    };
    let (clean, _, _) = fit(0.0);
    assert_eq!(clean.noise.likelihood, NoiseLikelihood::PerCall);
    assert!(!clean.noise.per_qubit_law, "{}", clean.noise.reason);
    assert!(clean.qubits.iter().all(|q| q.model == Model::Qasa));

    let (r, coupled, all_gaussian) = fit(0.03);
    // The screen (fit::qubit::LAW_SCREEN_NATS) skipped the Gaussian fit on most two-point qubits and
    // missed no qubit the Gaussian law fits better by more than 1 nat.
    let mut skipped = 0;
    for (q, g) in r.qubits.iter().zip(&all_gaussian.qubits) {
        if q.model == Model::Qasa {
            skipped += usize::from(q.comparison.len() < 2);
            let (Some(lq), Some(lg)) = (q.ll, g.ll) else {
                continue;
            };
            assert!(
                lg <= lq + 1.0,
                "qubit {}: Gaussian ℓ {lg} vs kept two-point {lq}",
                q.qubit
            );
        }
    }
    let two_point = r.qubits.iter().filter(|q| q.model == Model::Qasa).count();
    assert!(
        skipped * 2 > two_point,
        "Gaussian fit skipped on {skipped} of {two_point}"
    );
    assert!(r.noise.per_qubit_law, "{}", r.noise.reason);
    assert!(coupled.len() >= 20, "{} coupled qubits", coupled.len());
    let gaussian = |want: bool| {
        let qs: Vec<&QubitFit> = r
            .qubits
            .iter()
            .filter(|q| coupled.contains(&q.qubit) == want)
            .collect();
        let g = qs.iter().filter(|q| q.model == Model::Gaussian).count();
        g as f64 / qs.len() as f64
    };
    eprintln!(
        "{} coupled qubits: Gaussian law on {:.3} of them, on {:.3} of the others",
        coupled.len(),
        gaussian(true),
        gaussian(false)
    );
    assert!(gaussian(true) >= 0.9, "coupled: {}", gaussian(true));
    assert!(gaussian(false) <= 0.03, "uncoupled: {}", gaussian(false));
}
