//! The command line: `qasa simulate` and `qasa convert`, exit codes and one-line errors; every command
//! safe with its output (issue 9): a full stdout, outputs that would replace an input, atomic files that
//! leave nothing behind, numbers that say their range, one progress style, summaries on stdout.

use assert_cmd::Command;
use std::path::Path;

fn qasa() -> Command {
    Command::cargo_bin("qasa").expect("binary")
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn simulate_writes_sweep_truth_and_qasa_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = qasa()
        .args([
            "simulate",
            "--topology",
            "chimera:2,2,4",
            "--h-max",
            "0.5",
            "--h-step",
            "0.1",
        ])
        .args([
            "--reads",
            "2000",
            "--reads-per-call",
            "500",
            "--seed",
            "4",
            "--quiet",
            "--json",
        ])
        .arg("--out")
        .arg(d.join("run.sweep.json.gz"))
        .arg("--truth")
        .arg(d.join("truth.json"))
        .arg("--export-qasa-csv")
        .arg(d.join("spin_table.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["num_qubits"], 32);
    assert_eq!(summary["num_h"], 11);
    assert_eq!(summary["num_calls"], 44);
    let sweep = qasa::sweep::read_sweep(&d.join("run.sweep.json.gz")).unwrap();
    let table = qasa::sweep::read_sweep(&d.join("spin_table.csv")).unwrap();
    assert_eq!(sweep.counts, table.counts);
    assert_eq!(sweep.h, table.h);
    let truth = qasa::device::read_truth(&d.join("truth.json")).unwrap();
    assert_eq!(truth.qubits.len(), 32);
}

#[test]
fn convert_round_trips_a_qasa_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = "h,samples,spin_0,spin_5\n-0.10000,100,3,7\n-0.00000,100,50,49\n0.10000,100,97,90\n";
    std::fs::write(d.join("spin_table.csv"), csv).unwrap();
    qasa()
        .arg("convert")
        .arg(d.join("spin_table.csv"))
        .arg("--out")
        .arg(d.join("t.sweep.json"))
        .assert()
        .success();
    qasa()
        .arg("convert")
        .arg(d.join("t.sweep.json"))
        .arg("--out")
        .arg(d.join("back.csv"))
        .assert()
        .success();
    let back = std::fs::read_to_string(d.join("back.csv")).unwrap();
    assert_eq!(
        back,
        "h,samples,spin_0,spin_5\n-0.1,100,3,7\n0,100,50,49\n0.1,100,97,90\n"
    );
}

fn convert_error(d: &Path, name: &str, content: &[u8], out: &str) -> String {
    std::fs::write(d.join(name), content).unwrap();
    let o = qasa()
        .arg("convert")
        .arg(d.join(name))
        .arg("--out")
        .arg(d.join(out))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let e = stderr_of(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("error: "), "{e}");
    e
}

#[test]
fn convert_gives_one_line_errors_with_exit_code_1_or_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = convert_error(
        d,
        "neg.csv",
        b"h,samples,spin_0\n0.1,100,-4\n",
        "x.sweep.json",
    );
    assert!(
        e.contains("neg.csv: line 2, column 3") && e.contains("negative count"),
        "{e}"
    );
    let e = convert_error(
        d,
        "trunc.sweep.json",
        br#"{"format":"qasa-sweep","version":1,"meta":{"sou"#,
        "x.csv",
    );
    assert!(
        e.contains("trunc.sweep.json") && e.contains("not valid JSON"),
        "{e}"
    );
    // A sweep whose reads differ within one h cannot become a QASA table.
    let doc = serde_json::json!({
        "format": "qasa-sweep", "version": 1,
        "meta": {"source": "collected", "tool_version": "0"},
        "h": [0.0], "qubits": [1, 2],
        "counts": {"down": [[1, 2]], "reads": [[10, 11]]}
    });
    let e = convert_error(d, "uneven.sweep.json", doc.to_string().as_bytes(), "x.csv");
    assert!(e.contains("one `samples` per row"), "{e}");
    // An output name of the wrong kind is a usage error.
    std::fs::write(d.join("ok.csv"), b"h,samples,spin_0\n0.1,100,4\n").unwrap();
    let o = qasa()
        .arg("convert")
        .arg(d.join("ok.csv"))
        .arg("--out")
        .arg(d.join("x.txt"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_of(&o).contains(".csv, .json or .json.gz"));
}

#[test]
fn usage_errors_exit_2() {
    qasa()
        .args(["simulate", "--out", "x.sweep.json"])
        .assert()
        .code(2);
    qasa().args(["frobnicate"]).assert().code(2);
    let o = qasa()
        .args([
            "simulate",
            "--topology",
            "chimera:0",
            "--out",
            "x.sweep.json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_of(&o).contains("M must be at least 1"));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Std, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("qasa");
    let mut child = Std::new(bin)
        .args(["topology", "edges", "pegasus:16"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "30 31\n");
    // The reader is dropped here, as `| head -1` would.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

// ---- issue 9: every command safe with its output ----

/// A small, fast simulation into `dir`: 8 qubits × 11 h values × 2,000 reads in 4 calls.
fn small_simulate(dir: &Path, out: &str) -> Command {
    let mut c = qasa();
    c.current_dir(dir)
        .args(["simulate", "--topology", "chimera:1", "--h-max", "0.5"])
        .args([
            "--h-step",
            "0.1",
            "--reads",
            "2000",
            "--reads-per-call",
            "500",
        ])
        .args(["--quiet", "--out", out]);
    c
}

fn one_error_line(o: &std::process::Output) -> String {
    let e = stderr_of(o);
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("error: "), "{e}");
    e
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_simulate(d, "s.sweep.json").assert().success();
    let cases: [&[&str]; 9] = [
        &[
            "simulate",
            "--topology",
            "chimera:1",
            "-q",
            "--reads",
            "200",
            "-o",
            "z.sweep.json",
        ],
        &[
            "simulate",
            "--topology",
            "chimera:1",
            "-q",
            "--reads",
            "200",
            "-o",
            "z.sweep.json",
            "--json",
        ],
        &["fit", "s.sweep.json", "-q", "-o", "z.json"],
        &["fit", "s.sweep.json", "-q", "-o", "z.json", "--json"],
        &["convert", "s.sweep.json", "-o", "z.sweep.json.gz"],
        &["topology", "info", "2000q"],
        &["topology", "info", "2000q", "--json"],
        &["topology", "edges", "chimera:1"],
        &["--help"],
    ];
    for args in cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("qasa"))
            .current_dir(d)
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr_of(&o));
        let e = one_error_line(&o);
        assert!(
            e.contains("cannot write to standard output: No space left on device"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn an_output_may_not_replace_an_input_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_simulate(d, "same.sweep.json").assert().success();
    let before = std::fs::read(d.join("same.sweep.json")).unwrap();
    let refused: [&[&str]; 5] = [
        &["fit", "same.sweep.json", "-q", "-o", "same.sweep.json"],
        &[
            "fit",
            "same.sweep.json",
            "-q",
            "-o",
            "./fit.json",
            "--csv",
            "fit.json",
        ],
        &[
            "fit",
            "same.sweep.json",
            "-q",
            "--csv",
            "p.csv",
            "--qasa-csv",
            "sub/../p.csv",
        ],
        &["convert", "./same.sweep.json", "-o", "same.sweep.json"],
        &[
            "simulate",
            "--topology",
            "chimera:1",
            "-o",
            "a.sweep.json",
            "--truth",
            "./a.sweep.json",
        ],
    ];
    std::fs::create_dir(d.join("sub")).unwrap();
    for args in refused {
        let o = qasa().current_dir(d).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr_of(&o));
        let e = one_error_line(&o);
        assert!(
            e.contains("refusing to overwrite an input")
                || e.contains("give each output its own name"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(std::fs::read(d.join("same.sweep.json")).unwrap(), before);
    assert_eq!(names_in(d), ["same.sweep.json", "sub"], "nothing written");
}

#[test]
fn a_failing_command_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Checked before simulating: no sweep is written when the truth cannot be.
    let o = small_simulate(d, "t.sweep.json")
        .args(["--truth", "nodir/t.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = one_error_line(&o);
    assert!(
        e.contains("nodir/t.json") && e.contains("does not exist"),
        "{e}"
    );
    assert!(names_in(d).is_empty(), "{:?}", names_in(d));

    small_simulate(d, "s.sweep.json").assert().success();
    let o = qasa()
        .current_dir(d)
        .args([
            "fit",
            "s.sweep.json",
            "-q",
            "-o",
            "f.json",
            "--csv",
            "nodir/p.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(one_error_line(&o).contains("nodir/p.csv"));
    assert_eq!(names_in(d), ["s.sweep.json"]);

    // A write that fails half-way keeps the old file and leaves no temporary file.
    let doc = serde_json::json!({
        "format": "qasa-sweep", "version": 1,
        "meta": {"source": "collected", "tool_version": "0"},
        "h": [0.0], "qubits": [1, 2],
        "counts": {"down": [[1, 2]], "reads": [[10, 11]]}
    });
    std::fs::write(d.join("uneven.sweep.json"), doc.to_string()).unwrap();
    std::fs::write(d.join("old.csv"), "keep me").unwrap();
    let o = qasa()
        .current_dir(d)
        .args(["convert", "uneven.sweep.json", "-o", "old.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(one_error_line(&o).contains("one `samples` per row"));
    assert_eq!(
        std::fs::read_to_string(d.join("old.csv")).unwrap(),
        "keep me"
    );
    assert_eq!(
        names_in(d),
        ["old.csv", "s.sweep.json", "uneven.sweep.json"]
    );
}

#[test]
fn convert_says_in_one_line_what_a_qasa_table_drops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_simulate(d, "s.sweep.json")
        .args(["--pairs", "--blocks", "2"])
        .assert()
        .success();
    let o = qasa()
        .current_dir(d)
        .args(["convert", "s.sweep.json", "-o", "spin_table.csv"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let e = stderr_of(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("warning: spin_table.csv keeps only the total counts"),
        "{e}"
    );
    for dropped in [
        "2 per-call blocks (`fit --bootstrap` needs them)",
        "pair counts on 16 couplers",
        "metadata (solver, topology, anneal_time_us, parameters, gauges, seed)",
    ] {
        assert!(e.contains(dropped), "{dropped}: {e}");
    }
    // Nothing is lost the other way round: no warning.
    let o = qasa()
        .current_dir(d)
        .args(["convert", "spin_table.csv", "-o", "back.sweep.json"])
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        stderr_of(&o)
    );
}

#[test]
fn numbers_are_parsed_then_refused_with_the_accepted_range() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["--seed", "-1"],
            2,
            "-1 is negative: expected a whole number from 0 to 18446744073709551615",
        ),
        (
            &["--reads", "1e12"],
            2,
            "1e12 is too large: expected a whole number from 0 to 4294967295",
        ),
        (&["--reads", "2.5"], 2, "is not a whole number"),
        (&["--h-max", "nan"], 2, "nan is not finite"),
        (&["--h-step", "-0.1"], 2, "--h-step"),
        (
            &["--topology", "zephyr:4294967296"],
            2,
            "4294967296 is too large",
        ),
    ];
    for (args, code, want) in cases {
        let mut c = qasa();
        c.current_dir(d)
            .args(["simulate", "-q", "-o", "x.sweep.json"]);
        if args[0] != "--topology" {
            c.args(["--topology", "chimera:1"]);
        }
        let o = c.args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr_of(&o));
        let e = stderr_of(&o);
        assert!(
            e.starts_with("error: ") && e.contains(want),
            "{args:?}: {e}"
        );
        assert!(!e.contains("unexpected argument"), "{args:?}: {e}");
    }
    let o = qasa()
        .args(["fit", "x.sweep.json", "--bootstrap", "-5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("-5 is negative"),
        "{}",
        stderr_of(&o)
    );
    // An exact scientific form is a whole number.
    let o = qasa()
        .current_dir(d)
        .args(["simulate", "--topology", "chimera:1", "--reads", "2e3"])
        .args(["-q", "--json", "-o", "sci.sweep.json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["reads_per_h"], 2000);
    assert!(names_in(d) == ["sci.sweep.json"], "{:?}", names_in(d));
}

#[test]
fn summaries_go_to_stdout_and_nothing_else_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runs: [(&[&str], &str); 4] = [
        (
            &[
                "simulate",
                "--topology",
                "chimera:1",
                "--reads",
                "2000",
                "-o",
                "s.sweep.json",
            ],
            "simulated 8 qubits",
        ),
        (
            &["convert", "s.sweep.json", "-o", "s.json"],
            "converted 8 qubits",
        ),
        (&["fit", "s.sweep.json", "-o", "f.json"], "fitted 8 qubits"),
        (&["topology", "info", "chimera:1"], "family"),
    ];
    for (args, want) in runs {
        let o = qasa().current_dir(d).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr_of(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(want),
            "{args:?}"
        );
        assert!(o.stderr.is_empty(), "{args:?}: {}", stderr_of(&o));
    }
}

#[test]
fn serve_checks_its_ledger_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = qasa()
        .current_dir(d)
        .args([
            "serve",
            "--topology",
            "chimera:1",
            "--ledger",
            "nodir/l.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(one_error_line(&o).contains("nodir/l.jsonl"));
    std::fs::write(d.join("s.solver.json"), "{}").unwrap();
    let o = qasa()
        .current_dir(d)
        .args([
            "serve",
            "--solver-file",
            "s.solver.json",
            "--ledger",
            "./s.solver.json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(one_error_line(&o).contains("refusing to overwrite an input"));
    assert_eq!(
        std::fs::read_to_string(d.join("s.solver.json")).unwrap(),
        "{}"
    );
}

// ---- the repository's own example data and quick start ----

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_solver_records_load_with_their_documented_graphs() {
    // Counts as data/PROVENANCE.md states them.
    for (file, solver, qubits, couplers, missing_q, missing_c) in [
        (
            "DW_2000Q_5.solver.json.gz",
            "DW_2000Q_5",
            2030,
            5909,
            18,
            107,
        ),
        (
            "Advantage_system4_1.solver.json.gz",
            "Advantage_system4.1",
            5627,
            40279,
            13,
            205,
        ),
        (
            "Advantage2_prototype2_3.solver.json.gz",
            "Advantage2_prototype2.3",
            1217,
            10829,
            31,
            571,
        ),
    ] {
        let o = qasa()
            .args(["topology", "info", "--json", "--solver-file"])
            .arg(repo().join("data").join(file))
            .output()
            .unwrap();
        assert!(o.status.success(), "{file}: {}", stderr_of(&o));
        let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(s["solver_name"], solver, "{file}");
        assert_eq!(s["num_qubits"], qubits, "{file}");
        assert_eq!(s["num_couplers"], couplers, "{file}");
        assert_eq!(
            s["missing_qubits"].as_array().unwrap().len(),
            missing_q,
            "{file}"
        );
        assert_eq!(
            s["missing_couplers"].as_array().unwrap().len(),
            missing_c,
            "{file}"
        );
    }
    let provenance = std::fs::read_to_string(repo().join("data/PROVENANCE.md")).unwrap();
    for name in std::fs::read_dir(repo().join("data")).unwrap() {
        let name = name.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "PROVENANCE.md" || provenance.contains(&format!("`{name}`")),
            "data/{name} has no provenance"
        );
    }
}

#[test]
fn the_readme_names_only_files_the_repository_has() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut named = 0;
    for word in readme.split(|c: char| c.is_whitespace() || "`()[]|,".contains(c)) {
        let word = word.trim_end_matches(['.', ':', ';']);
        if word.contains('*') {
            continue; // a pattern, e.g. data/*.solver.json.gz
        }
        if word.starts_with("data/") || word.starts_with("scripts/") || word.starts_with("schemas/")
        {
            assert!(
                repo().join(word).exists(),
                "README names {word}, which is not in the repository"
            );
            named += 1;
        }
    }
    assert!(
        named >= 5,
        "the README names the example data and scripts ({named})"
    );
}
