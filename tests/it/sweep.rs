//! The sweep dataset: native files, QASA tables, conversion, and loaders that never panic.

use proptest::prelude::*;
use qasa::sweep::{self, CountMatrix, CouplerAgreement, Sweep, SweepError, SweepMeta, SweepSource};
use std::path::Path;

fn small_sweep(n_h: usize, n_q: usize, blocks: usize, pairs: bool) -> Sweep {
    let h: Vec<f64> = (0..n_h)
        .map(|i| -1.0 + 2.0 * i as f64 / (n_h.max(2) - 1) as f64)
        .collect();
    let qubits: Vec<u32> = (0..n_q as u32).map(|q| 3 * q + 1).collect();
    let mut bl = Vec::new();
    let mut counts = CountMatrix::zeros(n_h, n_q);
    for b in 0..blocks.max(1) {
        let mut m = CountMatrix::zeros(n_h, n_q);
        for ih in 0..n_h {
            for iq in 0..n_q {
                let i = ih * n_q + iq;
                m.reads[i] = 1000 + (b as u32 % 2) * 7;
                m.down[i] = ((ih * 37 + iq * 11 + b * 5) % 1000) as u32;
            }
        }
        counts.add(&m);
        bl.push(m);
    }
    let pairs = pairs.then(|| {
        let couplers: Vec<(u32, u32)> = qubits.windows(2).map(|w| (w[0], w[1])).collect();
        let n_c = couplers.len();
        CouplerAgreement {
            couplers,
            agree: (0..n_h * n_c).map(|i| (i % 50) as u32).collect(),
            reads: vec![50; n_h * n_c],
        }
    });
    let mut meta = SweepMeta::new(SweepSource::Simulated);
    meta.anneal_time_us = Some(5.0);
    meta.seed = Some(3);
    Sweep {
        meta,
        h,
        qubits,
        counts,
        blocks: if blocks == 0 { vec![] } else { bl },
        pairs,
    }
}

#[test]
fn native_round_trip_small_and_packed_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    for (n_h, n_q, blocks, pairs) in [(5, 3, 0, false), (9, 4, 3, true), (81, 120, 4, true)] {
        let s = small_sweep(n_h, n_q, blocks, pairs);
        for name in ["a.sweep.json", "a.sweep.json.gz"] {
            let p = dir.path().join(name);
            sweep::write_sweep(&s, &p).unwrap();
            let back = sweep::read_sweep(&p).unwrap();
            assert_eq!(back, s, "{name} {n_h}x{n_q}");
        }
    }
    // The large one is packed; the reads of each block are row-constant.
    let s = small_sweep(81, 120, 4, true);
    let v = sweep::native::to_value(&s);
    assert_eq!(v["counts"]["down"]["encoding"], "base64-u16le");
    assert!(v["blocks"][0]["reads"]["row_constant"].is_array());
}

#[test]
fn u32_counts_pack_as_u32() {
    let mut s = small_sweep(81, 120, 0, false);
    s.counts.reads.iter_mut().for_each(|r| *r = 1_000_000);
    s.counts.reads[7] = 999_999;
    s.counts.down[7] = 999_999;
    let v = sweep::native::to_value(&s);
    assert_eq!(v["counts"]["reads"]["encoding"], "base64-u32le");
    let back = sweep::native::from_value(v, Path::new("x")).unwrap();
    assert_eq!(back, s);
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn qasa_table_reads_reference_quirks() {
    let dir = tempfile::tempdir().unwrap();
    // Out of order, -0.00000, different samples per row, a blank trailing line.
    let p = write(
        dir.path(),
        "spin_table.csv",
        "h,samples,spin_30,spin_31,spin_7\n0.02500,1000,900,880,700\n-0.00000,2000,1000,1010,990\n-0.02500,1000,100,120,300\n\n",
    );
    let s = sweep::read_sweep(&p).unwrap();
    assert_eq!(s.h, vec![-0.025, 0.0, 0.025]);
    assert!(s.h[1].is_sign_positive());
    assert_eq!(s.qubits, vec![7, 30, 31]);
    assert_eq!(s.counts.get(0, 0), (300, 1000));
    assert_eq!(s.counts.get(1, 1), (1000, 2000));
    assert_eq!(s.counts.get(2, 2), (880, 1000));
    assert_eq!(s.meta.source, SweepSource::QasaCsv);
    assert_eq!(s.meta.gauges, None);
    // And back: the written table reads back identically.
    let out = dir.path().join("again.csv");
    sweep::write_sweep(&s, &out).unwrap();
    assert_eq!(sweep::read_sweep(&out).unwrap(), s);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("h,samples,spin_7,spin_30,spin_31\n-0.025,1000,300,100,120\n"),
        "{text}"
    );
}

fn csv_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", text);
    match sweep::read_sweep(&p) {
        Err(e @ SweepError::Csv { .. }) => e.to_string(),
        other => panic!("expected a csv error, got {other:?}"),
    }
}

#[test]
fn qasa_table_errors_name_line_and_column() {
    let e = csv_error("h,samples,spin_1,spin_2\n0.1,100,5,-3\n");
    assert!(
        e.contains("line 2, column 4") && e.contains("negative count"),
        "{e}"
    );
    let e = csv_error("h,samples,spin_1,spin_2\n0.1,100,5,3\n0.2,100,101,3\n");
    assert!(
        e.contains("line 3, column 3") && e.contains("above samples"),
        "{e}"
    );
    let e = csv_error("h,samples,spin_1,spin_2\n0.1,100,5\n");
    assert!(e.contains("line 2") && e.contains("ragged"), "{e}");
    let e = csv_error("h,samples,spin_1,spin_2\n0.1,100,5,x\n");
    assert!(e.contains("line 2, column 4") && e.contains("\"x\""), "{e}");
    let e = csv_error("h,samples,spin_1\nnan,100,5\n");
    assert!(e.contains("line 2, column 1"), "{e}");
    let e = csv_error("h,samples,spin_1\n0.1,100,5\n0.10000,100,5\n");
    assert!(
        e.contains("line 3") && e.contains("also appears on line 2"),
        "{e}"
    );
    let e = csv_error("h,samples,spin_1\n");
    assert!(e.contains("no rows"), "{e}");
    let e = csv_error("h,samples,qubit_1\n0,1,1\n");
    assert!(e.contains("line 1, column 3"), "{e}");
}

#[test]
fn export_refuses_unequal_reads_in_a_row() {
    let mut s = small_sweep(3, 3, 0, false);
    s.counts.reads[4] += 1;
    let err = sweep::qasa_csv::to_string(&s).unwrap_err().to_string();
    assert!(err.contains("one `samples` per row"), "{err}");
}

#[test]
fn native_errors_name_file_and_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = small_sweep(5, 3, 2, false);
    let p = dir.path().join("good.sweep.json");
    sweep::write_sweep(&s, &p).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();

    let t = write(dir.path(), "trunc.sweep.json", &text[..text.len() / 2]);
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(
        e.contains("trunc.sweep.json") && e.contains("not valid JSON"),
        "{e}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["counts"]["down"][1][2] = serde_json::json!("many");
    let t = write(dir.path(), "str.sweep.json", &v.to_string());
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(
        e.contains("str.sweep.json") && e.contains("/counts/down/1/2"),
        "{e}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["blocks"][0]["down"][0][0] = serde_json::json!(1);
    let t = write(dir.path(), "sum.sweep.json", &v.to_string());
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(e.contains("blocks do not sum"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["h"] = serde_json::json!([0.0, 0.1, 0.1, 0.3, 0.4]);
    let t = write(dir.path(), "grid.sweep.json", &v.to_string());
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(e.contains("strictly increasing"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["meta"]["anneal_time_us"] = serde_json::json!(-1);
    let t = write(dir.path(), "meta.sweep.json", &v.to_string());
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(e.contains("/meta/anneal_time_us"), "{e}");

    let t = write(dir.path(), "what.txt", "hello");
    let e = sweep::read_sweep(&t).unwrap_err().to_string();
    assert!(e.contains("unknown file format"), "{e}");
}

// ---------------------------------------------------------------------------------------------------
// Messages through the command line

fn qasa_convert(input: &Path, output: &Path) -> (String, Option<i32>) {
    let out = assert_cmd::Command::cargo_bin("qasa")
        .unwrap()
        .arg("convert")
        .arg(input)
        .arg("--out")
        .arg(output)
        .output()
        .unwrap();
    (String::from_utf8(out.stderr).unwrap(), out.status.code())
}

#[test]
fn cli_schema_violations_name_the_field_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let good = sweep::native::to_value(&small_sweep(5, 3, 0, false));
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, &str); 3] = [
        (
            "no-h.sweep.json",
            |v| {
                v.as_object_mut().unwrap().remove("h");
            },
            "at /h: this required field is missing; expected the h grid (units of the solver's h), strictly increasing.",
        ),
        (
            "shape.sweep.json",
            |v| v["counts"] = serde_json::json!([1, 2]),
            "at /counts: expected an object, found an array",
        ),
        (
            "neg.sweep.json",
            |v| v["counts"]["down"][2][1] = serde_json::json!(-4),
            "at /counts/down/2/1: -4 is below the minimum 0",
        ),
    ];
    for (name, edit, want) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let p = write(dir.path(), name, &v.to_string());
        let out = dir.path().join("out.csv");
        let (err, code) = qasa_convert(&p, &out);
        assert_eq!(code, Some(1), "{name}");
        assert_eq!(err, format!("error: {}: {want}\n", p.display()), "{name}");
        assert!(!out.exists());
    }
}

#[test]
fn cli_truncated_gzip_sweep_says_it_is_probably_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.sweep.json.gz");
    sweep::write_sweep(&small_sweep(81, 120, 2, true), &p).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let e = sweep::read_sweep(&p).unwrap_err();
    assert!(matches!(
        e,
        SweepError::File(qasa::gzip::ReadError::Truncated { .. })
    ));
    let (err, code) = qasa_convert(&p, &dir.path().join("out.csv"));
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!(
            "error: {}: the gzip data ends after ",
            p.display()
        )) && err.contains(
            " decompressed bytes; the file is probably truncated (an interrupted download or copy?), fetch or write it again"
        ) && err.lines().count() == 1,
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Loaders on arbitrary and mutated input: an error naming the file, or a valid sweep that round-trips

/// What every loader result must be: a sweep that passes the checks and survives a native round trip
/// unchanged, or an error on one line that names the file.
fn valid_or_named_error(r: Result<Sweep, SweepError>, file: &str) -> Result<(), TestCaseError> {
    match r {
        Ok(s) => {
            prop_assert!(sweep::check(&s).is_ok());
            let back = sweep::native::from_value(sweep::native::to_value(&s), Path::new(file));
            prop_assert_eq!(back.ok(), Some(s));
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.contains(file), "{}", msg);
            prop_assert!(!msg.contains('\n'), "{}", msg);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn loaders_give_a_valid_sweep_or_a_named_error_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let p = Path::new("fuzz");
        valid_or_named_error(sweep::native::from_slice(&bytes, p), "fuzz")?;
        valid_or_named_error(sweep::qasa_csv::from_slice(&bytes, p), "fuzz")?;
    }

    #[test]
    fn csv_loader_reads_back_what_it_accepts(
        cells in proptest::collection::vec(proptest::collection::vec("-?[0-9]{0,4}|x|-0.00000|1e309|", 0..6), 0..6),
        header in "h,samples(,spin_[0-9]{1,3}){0,4}",
    ) {
        let mut text = header;
        text.push('\n');
        for row in cells {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        let r = sweep::qasa_csv::from_slice(text.as_bytes(), Path::new("fuzz.csv"));
        if let Ok(s) = &r {
            // An accepted table renders back to one that reads as the same sweep.
            let again = sweep::qasa_csv::to_string(s).unwrap();
            let back = sweep::qasa_csv::from_slice(again.as_bytes(), Path::new("fuzz.csv")).unwrap();
            prop_assert_eq!(&back, s);
        } else if let Err(e) = &r {
            prop_assert!(matches!(e, SweepError::Csv { .. } | SweepError::Check { .. }), "{}", e);
        }
        valid_or_named_error(r, "fuzz.csv")?;
    }

    #[test]
    fn native_loader_on_cut_or_flipped_files(
        cut in 0usize..4000,
        flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..4),
        blocks in 0usize..3,
    ) {
        let s = small_sweep(4, 3, blocks, blocks > 0);
        let original = serde_json::to_vec(&sweep::native::to_value(&s)).unwrap();
        let mut bytes = original.clone();
        for (i, b) in flips {
            let n = bytes.len();
            bytes[i % n] = b;
        }
        bytes.truncate(cut.max(1));
        let r = sweep::native::from_slice(&bytes, Path::new("fuzz.json"));
        if bytes == original {
            prop_assert_eq!(r.as_ref().ok(), Some(&s));
        } else if original.starts_with(&bytes) {
            // A cut file is never valid JSON: it says so.
            prop_assert!(matches!(r, Err(SweepError::Json { .. })), "{:?}", r);
        }
        valid_or_named_error(r, "fuzz.json")?;
    }

    #[test]
    fn native_loader_on_mutated_values(
        path_pick in 0usize..12, value_pick in 0usize..8,
    ) {
        let s = small_sweep(4, 3, 2, true);
        let mut v = sweep::native::to_value(&s);
        let replacement = [
            serde_json::json!(null), serde_json::json!(-1), serde_json::json!(1e300), serde_json::json!("x"),
            serde_json::json!([]), serde_json::json!([[1]]), serde_json::json!({"row_constant": [1]}),
            serde_json::json!({"encoding": "base64-u32le", "shape": [4, 3], "data": "AAAA"}),
        ][value_pick].clone();
        let targets = ["/h", "/qubits", "/counts/down", "/counts/reads", "/blocks/0/down", "/blocks/1/reads",
            "/pairs/couplers", "/pairs/agree", "/pairs/reads", "/meta", "/h/0", "/qubits/1"];
        let slot = v.pointer_mut(targets[path_pick]).unwrap();
        let changed = *slot != replacement;
        *slot = replacement;
        let r = sweep::native::from_value(v, Path::new("fuzz.json"));
        if let Ok(back) = &r {
            // Only a value that keeps every invariant is accepted, and then it is what was written.
            prop_assert!(!changed || back != &s || targets[path_pick] == "/h/0");
        } else if let Err(SweepError::Schema { json_path, .. }) = &r {
            // A schema violation points into the document (never a schema URL).
            prop_assert!(json_path.starts_with('/'), "{}", json_path);
        }
        valid_or_named_error(r, "fuzz.json")?;
    }
}
