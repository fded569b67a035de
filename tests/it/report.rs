//! The hardware report (issue 13): the model holds the fit's and the sweep's numbers, every renderer renders
//! into bytes, the HTML page is self-contained, `qasa demo` runs end to end, `qasa report` writes its folder
//! whole or not at all and refuses a fit of another chip.

use crate::common::{names_in, one_error_line};
use assert_cmd::Command;
use qasa::analysis::{self, Analysis, AnalysisConfig};
use qasa::device::{self, DeviceConfig, SimulationPlan, VirtualQpu};
use qasa::fit::{self, FitConfig, FitResult};
use qasa::report::{self, render, Report, ReportInput};
use qasa::sweep::Sweep;
use qasa::topology::{Topology, WorkingGraph};
use std::path::Path;

fn qasa() -> Command {
    Command::cargo_bin("qasa").expect("binary")
}

fn plan(seed: u64) -> SimulationPlan {
    SimulationPlan {
        h_max: 1.0,
        h_step: 0.05,
        reads: 4000,
        reads_per_call: 1000,
        blocks: 4,
        pairs: true,
        seed,
        ..SimulationPlan::default()
    }
}

/// A small virtual chip: its sweep and fit.
fn chip(graph: WorkingGraph, seed: u64) -> (Sweep, FitResult) {
    let config = DeviceConfig {
        seed,
        crosstalk_fraction: 0.05,
        ..DeviceConfig::default()
    };
    let qpu = VirtualQpu::new(graph, &config);
    let sweep = device::simulate(&qpu, &plan(seed), &|_| {}).expect("simulate");
    let fit = fit::fit_sweep(&sweep, &FitConfig::default()).expect("fit");
    (sweep, fit)
}

fn analyse(sweep: &Sweep, fit: &FitResult) -> Analysis {
    let config = AnalysisConfig {
        permutations: 99,
        ..AnalysisConfig::default()
    };
    analysis::analyze(fit, Some(sweep), None, &config).expect("analysis")
}

fn build(sweep: &Sweep, fit: &FitResult) -> Report {
    let a = analyse(sweep, fit);
    report::build(&ReportInput {
        sweep,
        fit,
        analysis: &a,
        compare: None,
        topology: None,
        inputs: vec!["s.sweep.json".into()],
        generated_at: None,
    })
    .expect("report")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[test]
fn the_model_holds_the_numbers_of_the_fit_and_the_sweep() {
    let (sweep, fit) = chip(
        WorkingGraph::perfect(Topology::Chimera { m: 2, n: 2, t: 4 }),
        3,
    );
    let r = build(&sweep, &fit);
    assert_eq!(r.format, "qasa-report");
    assert_eq!(r.fits.n_qubits, 32);
    assert_eq!(r.fits.failed, fit.summary.failed);
    assert_eq!(r.provenance.solver, sweep.meta.solver);
    assert_eq!(r.provenance.seed, Some(3));
    assert_eq!(r.protocol.n_h, 41);
    assert_eq!(r.protocol.reads_per_h, Some(4000.0));
    assert_eq!(r.protocol.reads_per_call, Some(1000.0));
    assert_eq!(
        r.protocol.n_pair_couplers,
        sweep.pairs.as_ref().unwrap().couplers.len()
    );
    // The summary's β median is the median of the fitted β.
    let betas: Vec<f64> = fit
        .qubits
        .iter()
        .filter(|q| !q.status.is_failed())
        .filter_map(|q| q.values()[0])
        .collect();
    let row = r.summary.iter().find(|s| s.name == "beta").expect("β row");
    assert!((row.median.unwrap() - median(betas.clone())).abs() < 1e-12);
    assert_eq!(row.n, betas.len());
    // Curves: parameters from the fit, points k/N from the sweep, ideal curve at the chip median β.
    assert!(r.figures.curves.len() >= 3, "best, median, worst");
    for c in &r.figures.curves {
        let q = fit.qubits.iter().find(|q| q.qubit == c.spin).unwrap();
        assert_eq!(c.params, q.values());
        let iq = sweep.column_of(c.spin).unwrap();
        for (p, (k, n)) in c.points.iter().zip(sweep.counts.qubit_column(iq)) {
            assert_eq!(p.reads, n);
            assert!((p.p - f64::from(k) / f64::from(n)).abs() < 1e-15);
            assert!(p.lo <= p.p && p.p <= p.hi);
        }
        assert_eq!(c.ideal_beta, fit.summary.median_beta.unwrap());
        let mid = c.ideal[c.ideal.len() / 2];
        assert!(mid[0].abs() < 1e-12 && (mid[1] - 0.5).abs() < 1e-12);
    }
    // Histograms count every fitted value once.
    let hb = r
        .figures
        .histograms
        .iter()
        .find(|h| h.name == "beta")
        .unwrap();
    assert_eq!(
        hb.counts.iter().sum::<u64>() + hb.below + hb.above,
        betas.len() as u64
    );
    // Maps: one value per site, equal to the fit's.
    let layout = r.figures.layout.as_ref().expect("chimera layout");
    assert_eq!(layout.sites.len(), 32);
    let map = r.figures.maps.iter().find(|m| m.name == "b").unwrap();
    for (site, v) in layout.sites.iter().zip(&map.values) {
        let q = fit.qubits.iter().find(|q| q.qubit == site.spin).unwrap();
        assert_eq!(*v, q.values()[1]);
    }
    assert_eq!(map.scale.palette, "diverging");
    assert_eq!(map.scale.lo, -map.scale.hi);
    // The model section says which errors and which noise likelihood the fit used.
    assert!(
        r.model.errors.contains(fit.errors.method.describe()),
        "{}",
        r.model.errors
    );
    assert!(
        r.model.errors.contains(&fit.noise.reason),
        "{}",
        r.model.errors
    );
    assert!(r.model.errors.starts_with("95 % intervals"));
}

#[test]
fn the_model_holds_the_numbers_of_the_analysis() {
    let (sweep, fit) = chip(
        WorkingGraph::perfect(Topology::Chimera { m: 2, n: 2, t: 4 }),
        3,
    );
    let a = analyse(&sweep, &fit);
    let r = report::build(&ReportInput {
        sweep: &sweep,
        fit: &fit,
        analysis: &a,
        compare: None,
        topology: None,
        inputs: Vec::new(),
        generated_at: None,
    })
    .unwrap();
    let fid: Vec<f64> = a.scores.iter().filter_map(|s| s.fidelity).collect();
    let row = r.summary.iter().find(|s| s.name == "fidelity").unwrap();
    assert!((row.median.unwrap() - median(fid.clone())).abs() < 1e-12);
    let dist = a.summary.iter().find(|d| d.name == "fidelity").unwrap();
    assert_eq!(row.n_outliers, dist.n_outliers);
    assert_eq!(r.n_flagged, a.flagged.len());
    assert_eq!(r.score_definitions.len(), a.score_definitions.len());
    // Best and worst curves are the qubits of highest and lowest fidelity.
    let best = r.figures.curves.iter().find(|c| c.role == "best").unwrap();
    let worst = r.figures.curves.iter().find(|c| c.role == "worst").unwrap();
    let max = fid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = fid.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(best.fidelity, Some(max));
    assert_eq!(worst.fidelity, Some(min));
    assert_eq!(best.ideal_beta, a.meta.beta_median.unwrap());
    // The heatmap is the analysis' Spearman matrix.
    let h = r.figures.correlation.as_ref().unwrap();
    assert_eq!(h.r, a.correlations.spearman.r);
    // Crosstalk: every coupler with data on the map, the detections of the analysis.
    let cs = a.crosstalk.as_ref().expect("pair counts give crosstalk");
    let info = r.crosstalk.as_ref().unwrap();
    assert_eq!(info.n_detected, cs.iter().filter(|c| c.detected).count());
    let map = r.figures.crosstalk.as_ref().unwrap();
    assert_eq!(map.couplers.len(), cs.len());
    assert_eq!(
        map.couplers.iter().filter(|c| c.detected).count(),
        info.n_detected
    );
    let z = r.figures.crosstalk_z.as_ref().unwrap();
    assert_eq!(
        z.counts.iter().sum::<u64>() + z.below + z.above,
        cs.len() as u64
    );
    assert_eq!(z.counted, "couplers");
    if let Some(p) = &a.pooled_temperature {
        assert_eq!(r.pooled_temperature.as_ref().unwrap().beta, p.beta);
    }
}

#[test]
fn missing_qubits_have_a_place_on_the_map_of_every_family() {
    for topology in [
        Topology::Chimera { m: 2, n: 2, t: 4 },
        Topology::Pegasus { m: 2 },
        Topology::Zephyr { m: 1, t: 2 },
    ] {
        let mut g = WorkingGraph::perfect(topology);
        let gone = [g.qubits[0], g.qubits[5]];
        g.qubits.retain(|q| !gone.contains(q));
        g.couplers
            .retain(|(u, v)| !gone.contains(u) && !gone.contains(v));
        let (sweep, fit) = chip(g, 1);
        let r = build(&sweep, &fit);
        let layout = r.figures.layout.as_ref().expect("layout");
        assert_eq!(layout.sites.len(), topology.num_nodes(), "{topology}");
        let missing: Vec<u32> = layout
            .sites
            .iter()
            .filter(|s| !s.present)
            .map(|s| s.spin)
            .collect();
        assert_eq!(missing, gone, "{topology}");
        for m in &r.figures.maps {
            for (s, v) in layout.sites.iter().zip(&m.values) {
                assert!(s.present || v.is_none());
            }
        }
        for s in &layout.sites {
            assert!(
                (0.0..=1.0).contains(&s.x) && (-1.0..=0.0).contains(&s.y),
                "{topology}: {s:?}"
            );
        }
    }
}

#[test]
fn every_renderer_renders_into_bytes() {
    let (sweep, fit) = chip(WorkingGraph::perfect(Topology::Pegasus { m: 2 }), 5);
    let r = build(&sweep, &fit);
    let json = render::json(&r).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    qasa::schema::validate(qasa::schema::REPORT, &v).unwrap_or_else(|e| panic!("{e:?}"));
    let back: Report = serde_json::from_value(v).unwrap();
    assert_eq!(back, r, "report.json round-trips");

    let (md, pngs) = render::markdown(&r).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.starts_with("# Single-qubit assessment of"));
    assert!(!pngs.is_empty());
    for (name, bytes) in &pngs {
        assert!(md.contains(&format!("]({name})")), "{name} is linked");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.as_slice()));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(info.width >= 400 && info.height >= 300, "{name}");
    }
    let html = String::from_utf8(render::html(&r).unwrap()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let figures = html.matches("<figure").count();
    assert_eq!(figures, pngs.len(), "the same figures in both");
    assert_eq!(html.matches("<svg").count(), figures);
    assert!(
        html.contains("Provenance") && html.contains("Methods") && html.contains("Flagged qubits")
    );
}

#[test]
fn the_page_is_self_contained() {
    let (sweep, fit) = chip(WorkingGraph::perfect(Topology::Zephyr { m: 1, t: 4 }), 2);
    let html = String::from_utf8(render::html(&build(&sweep, &fit)).unwrap()).unwrap();
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "@import", "url(", "src=",
        "//cdn",
    ] {
        assert!(!lower.contains(bad), "the page contains {bad:?}");
    }
    // Every href is an anchor within the page.
    for part in lower.split("href=\"").skip(1) {
        assert!(
            part.starts_with('#'),
            "external link: {}",
            &part[..part.len().min(40)]
        );
    }
}

#[test]
fn the_demo_runs_end_to_end_on_a_small_chip() {
    let dir = tempfile::tempdir().unwrap();
    let out = qasa()
        .current_dir(dir.path())
        .args([
            "demo",
            "--topology",
            "chimera:2",
            "--seed",
            "4",
            "-o",
            "demo",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["qubits"], 32);
    for stage in ["chip", "sweep", "fit", "report"] {
        assert!(summary["seconds"][stage].as_f64().is_some(), "{stage}");
    }
    let names = names_in(&dir.path().join("demo"));
    for f in ["report.html", "report.md", "report.json"] {
        assert!(names.contains(&f.to_string()), "{names:?}");
    }
    assert!(
        names.iter().filter(|n| n.ends_with(".png")).count() >= 8,
        "{names:?}"
    );
    assert_eq!(names_in(dir.path()), ["demo"], "nothing else left");
    let r: Report =
        serde_json::from_slice(&std::fs::read(dir.path().join("demo/report.json")).unwrap())
            .unwrap();
    assert_eq!(r.provenance.seed, Some(4));
    assert!(
        r.notes.iter().any(|n| n.contains("virtual QPU")),
        "{:?}",
        r.notes
    );
}

/// A small sweep written to `dir/name` by `qasa simulate`.
fn simulate(dir: &Path, name: &str, seed: &str) {
    let o = qasa()
        .current_dir(dir)
        .args([
            "simulate",
            "--topology",
            "chimera:1",
            "--h-step",
            "0.1",
            "--reads",
            "2000",
        ])
        .args([
            "--reads-per-call",
            "500",
            "--seed",
            seed,
            "--quiet",
            "--out",
            name,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn report_writes_its_folder_whole_and_refuses_a_fit_of_another_chip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    simulate(d, "a.sweep.json", "1");
    simulate(d, "b.sweep.json", "2");
    let o = qasa()
        .current_dir(d)
        .args(["fit", "b.sweep.json", "-o", "b.fit.json", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let before = names_in(d);

    // The fit of another chip: one error line, exit 1, no folder.
    let o = qasa()
        .current_dir(d)
        .args([
            "report",
            "--sweep",
            "a.sweep.json",
            "--fit",
            "b.fit.json",
            "-o",
            "rep",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = one_error_line(&o);
    assert!(e.contains("do not belong to the same chip"), "{e}");
    assert!(e.contains("seed 2") && e.contains("seed 1"), "{e}");
    assert_eq!(names_in(d), before, "nothing written, nothing left");

    // Success: the folder appears whole.
    let o = qasa()
        .current_dir(d)
        .args([
            "report",
            "--sweep",
            "b.sweep.json",
            "--fit",
            "b.fit.json",
            "-o",
            "rep",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("rep/report.html"));
    let first = names_in(&d.join("rep"));
    assert!(first.contains(&"report.html".to_string()));

    // A failing run leaves the earlier report as it was.
    std::fs::write(d.join("rep/extra.txt"), "mine").unwrap();
    let o = qasa()
        .current_dir(d)
        .args([
            "report",
            "--sweep",
            "a.sweep.json",
            "--fit",
            "b.fit.json",
            "-o",
            "rep",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(d.join("rep/extra.txt").exists(), "untouched on failure");

    // A successful run replaces the earlier report as a whole (no stale files).
    let o = qasa()
        .current_dir(d)
        .args(["report", "--sweep", "a.sweep.json", "-o", "rep", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!d.join("rep/extra.txt").exists(), "replaced whole");
    let mut expected = before.clone();
    expected.push("rep".into());
    expected.sort();
    assert_eq!(names_in(d), expected, "no staging folder left");

    // A folder that is not a report is never replaced; an input inside the folder is refused.
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), "keep").unwrap();
    let o = qasa()
        .current_dir(d)
        .args(["report", "--sweep", "a.sweep.json", "-o", "mine", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(one_error_line(&o).contains("not a qasa report folder"));
    assert_eq!(names_in(&d.join("mine")), ["notes.txt"]);
    std::fs::copy(d.join("a.sweep.json"), d.join("rep/in.sweep.json")).unwrap();
    let o = qasa()
        .current_dir(d)
        .args(["report", "--sweep", "rep/in.sweep.json", "-o", "rep", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(one_error_line(&o).contains("is inside --out"));
}

#[test]
fn a_comparison_gives_drift_maps_and_refuses_another_chip() {
    let graph = WorkingGraph::perfect(Topology::Chimera { m: 2, n: 2, t: 4 });
    let qpu = VirtualQpu::new(
        graph,
        &DeviceConfig {
            seed: 7,
            ..DeviceConfig::default()
        },
    );
    let run = |seed: u64| {
        let sweep = device::simulate(&qpu, &plan(seed), &|_| {}).expect("simulate");
        let fit = fit::fit_sweep(&sweep, &FitConfig::default()).expect("fit");
        (sweep, fit)
    };
    let (sweep, fit) = run(1);
    let (_, earlier) = run(2);
    let a = analyse(&sweep, &fit);
    fn input<'a>(
        s: &'a Sweep,
        f: &'a FitResult,
        a: &'a Analysis,
        c: &'a FitResult,
    ) -> ReportInput<'a> {
        ReportInput {
            sweep: s,
            fit: f,
            analysis: a,
            compare: Some((c, "earlier.fit.json".to_string())),
            topology: None,
            inputs: Vec::new(),
            generated_at: None,
        }
    }
    let r = report::build(&input(&sweep, &fit, &a, &earlier)).expect("report");
    let c = r.comparison.as_ref().expect("comparison");
    assert_eq!(c.a, "earlier.fit.json");
    assert_eq!(
        c.n_compared + c.failed_in_a.len().max(c.failed_in_b.len()),
        32
    );
    assert_eq!(r.figures.drift_maps.len(), 4);
    let beta = &r.figures.drift_maps[0];
    let site = r
        .figures
        .layout
        .as_ref()
        .unwrap()
        .sites
        .iter()
        .position(|s| s.spin == 9)
        .unwrap();
    let (q_a, q_b) = (
        earlier.qubits.iter().find(|q| q.qubit == 9).unwrap(),
        fit.qubits.iter().find(|q| q.qubit == 9).unwrap(),
    );
    let want = q_b.values()[0].unwrap() - q_a.values()[0].unwrap();
    assert!(
        (beta.values[site].unwrap() - want).abs() < 1e-12,
        "Δβ is B − A"
    );
    assert_eq!(beta.scale.palette, "diverging");
    let html = String::from_utf8(render::html(&r).unwrap()).unwrap();
    assert!(html.contains("Changes since the other run"));

    let (_, other_chip) = chip(WorkingGraph::perfect(Topology::Pegasus { m: 2 }), 1);
    let e = report::build(&input(&sweep, &fit, &a, &other_chip))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not of the same chip") && e.contains("pegasus"),
        "{e}"
    );

    // An analysis of another fit is refused too.
    let (s2, f2) = chip(WorkingGraph::perfect(Topology::Pegasus { m: 2 }), 1);
    let a2 = analyse(&s2, &f2);
    let e = report::build(&ReportInput {
        sweep: &sweep,
        fit: &fit,
        analysis: &a2,
        compare: None,
        topology: None,
        inputs: Vec::new(),
        generated_at: None,
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("analysis is not of this fit"), "{e}");
}

/// The crosstalk section sets the fit's per-qubit noise law beside the detected couplers: on a chip with
/// planted crosstalk, the detected couplers whose two qubits both keep the Gaussian per-call law (flag
/// `gaussian_noise`) are the planted ones, and the false discoveries are not among them.
#[test]
fn the_noise_law_corroborates_the_planted_couplers() {
    let graph = WorkingGraph::perfect("pegasus:4".parse().unwrap());
    let qpu = VirtualQpu::new(
        graph,
        &DeviceConfig {
            seed: 5,
            crosstalk_fraction: 0.01,
            outlier_fraction: 0.0,
            ..DeviceConfig::default()
        },
    );
    let plan = SimulationPlan {
        reads: 20_000,
        reads_per_call: 2_000,
        pairs: true,
        seed: 6,
        ..SimulationPlan::default()
    };
    let sweep = device::simulate(&qpu, &plan, &|_| {}).expect("simulate");
    let fit = fit::fit_sweep(&sweep, &FitConfig::default()).expect("fit");
    let a = analyse(&sweep, &fit);
    let r = build(&sweep, &fit);
    let info = r.crosstalk.as_ref().expect("pair counts give crosstalk");
    let gaussian = fit
        .qubits
        .iter()
        .filter(|q| q.model == qasa::model::Model::Gaussian)
        .count();
    let n = info.noise_law.as_ref().unwrap_or_else(|| {
        panic!(
            "no qubit flagged; {gaussian} Gaussian-law fits; noise: {}",
            fit.noise.reason
        )
    });
    let planted: std::collections::HashSet<(u32, u32)> = qpu
        .truth()
        .crosstalk
        .iter()
        .map(|c| (c.u.min(c.v), c.u.max(c.v)))
        .collect();
    let flagged: std::collections::HashSet<u32> = a
        .flagged
        .iter()
        .filter(|f| f.reasons.iter().any(|r| r == "gaussian_noise"))
        .map(|f| f.spin)
        .collect();
    let cs = a.crosstalk.as_ref().unwrap();
    let both: Vec<(u32, u32)> = cs
        .iter()
        .filter(|c| c.detected && flagged.contains(&c.u) && flagged.contains(&c.v))
        .map(|c| (c.u.min(c.v), c.u.max(c.v)))
        .collect();
    assert_eq!(n.couplers_both_flagged, both.len());
    let false_detections = cs
        .iter()
        .filter(|c| c.detected && !planted.contains(&(c.u.min(c.v), c.u.max(c.v))))
        .count();
    let unplanted_both = both.iter().filter(|c| !planted.contains(c)).count();
    eprintln!(
        "{} planted, {} detected ({} not planted), {} with both qubits flagged ({} not planted)",
        planted.len(),
        info.n_detected,
        false_detections,
        both.len(),
        unplanted_both
    );
    assert!(planted.len() >= 10, "{} planted", planted.len());
    assert!(
        both.len() as f64 >= 0.9 * planted.len() as f64,
        "{} of {} planted couplers corroborated",
        both.len(),
        planted.len()
    );
    assert!(
        unplanted_both <= 1,
        "{unplanted_both} unplanted couplers with both qubits flagged"
    );
}
