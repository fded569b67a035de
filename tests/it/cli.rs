//! The command line of the foundation: `qasa simulate` and `qasa convert`, exit codes and one-line errors.

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
fn convert_gives_one_line_errors_with_exit_code_1() {
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
    let e = convert_error(d, "ok.csv", b"h,samples,spin_0\n0.1,100,4\n", "x.txt");
    assert!(e.contains(".csv, .json or .json.gz"), "{e}");
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
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_of(&o).starts_with("error: "));
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
