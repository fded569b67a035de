//! Topology against the dwave-networkx 0.8.19 reference data (docs/topology.md §4) and the real SAPI
//! solver records in the shared data (`solvers/PROVENANCE`), plus the `qasa topology` command line.

use crate::common::shared_data;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use assert_cmd::Command;
use qasa::topology::{
    ChimeraShape, EdgeClass, GraphSummary, PegasusShape, Topology, WorkingGraph, ZephyrShape,
};
use sha2::{Digest, Sha256};

fn read_text(rel: &str) -> String {
    let path = shared_data().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A small reference graph: file stem, SPEC, nodes, edges, internal / external / odd, SHA-256.
type SmallCase = (
    &'static str,
    &'static str,
    usize,
    usize,
    [usize; 3],
    &'static str,
);

/// The small reference graphs of docs/topology.md §4.
const SMALL: [SmallCase; 8] = [
    (
        "chimera1_1_4",
        "chimera:1,1,4",
        8,
        16,
        [16, 0, 0],
        "54d98cb3e31d082fe61f41984dc50c1ac6ba112202da16f75d2e7ddfb93a8e09",
    ),
    (
        "chimera2_2_4",
        "chimera:2,2,4",
        32,
        80,
        [64, 16, 0],
        "3a873854aec3e68f477e78223f1c9ba2bb445ba8cc5b6a46d1625c9c0f7d12da",
    ),
    (
        "chimera2_3_2",
        "chimera:2,3,2",
        24,
        38,
        [24, 14, 0],
        "b2d5c7985725ef9c014583eab1253cc9ba6570a4a8b8cbc2c27b3e8599a9338b",
    ),
    (
        "pegasus2",
        "pegasus:2",
        40,
        164,
        [144, 0, 20],
        "9a134c8544dc7641cca616e30d26c61ba8432b17e7e5e2a0c52b11a33c4ff84f",
    ),
    (
        "pegasus3",
        "pegasus:3",
        128,
        704,
        [576, 64, 64],
        "e163086df7b69d1e7d5eec2935cdb086cdc3b405d01faf9656af22a76dc5be99",
    ),
    (
        "zephyr1_1",
        "zephyr:1,1",
        12,
        22,
        [16, 0, 6],
        "eda97fa8febcefbc759d007568be33e3fe9d123378b98a3b9efbfcbc7b061fd3",
    ),
    (
        "zephyr1_4",
        "zephyr:1,4",
        48,
        280,
        [256, 0, 24],
        "609b8e18843c661be8d94c2cfd9a6da9ecef79bf9c29f80ffce2d12a2e5e4bcf",
    ),
    (
        "zephyr2_2",
        "zephyr:2,2",
        80,
        356,
        [256, 40, 60],
        "7565fff55b569118f1fe30f34e1e4f7db5ba8f8ea01c358376066e0fdea02df7",
    ),
];

fn topo(spec: &str) -> Topology {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn canonical_edges(t: &Topology) -> String {
    t.edges()
        .iter()
        .map(|e| format!("{} {}\n", e.u, e.v))
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn class_counts(t: &Topology) -> [usize; 3] {
    let mut c = [0; 3];
    for e in t.edges() {
        c[match e.class {
            EdgeClass::Internal => 0,
            EdgeClass::External => 1,
            EdgeClass::Odd => 2,
        }] += 1;
    }
    c
}

fn degree_histogram(t: &Topology) -> BTreeMap<usize, usize> {
    let mut degree = BTreeMap::<u32, usize>::new();
    for q in t.nodes() {
        degree.insert(q, 0);
    }
    for e in t.edges() {
        *degree.entry(e.u).or_default() += 1;
        *degree.entry(e.v).or_default() += 1;
    }
    let mut hist = BTreeMap::new();
    for d in degree.values() {
        *hist.entry(*d).or_default() += 1;
    }
    hist
}

#[test]
fn small_edges_match_reference_files_byte_for_byte_and_hashes() {
    for (name, spec, nodes, edges, classes, sha) in SMALL {
        let t = topo(spec);
        let text = canonical_edges(&t);
        assert_eq!(
            text,
            read_text(&format!("topology/{name}.edges.txt")),
            "{name}"
        );
        assert_eq!(sha256_hex(text.as_bytes()), sha, "{name}");
        assert_eq!((t.nodes().len(), t.edges().len()), (nodes, edges), "{name}");
        assert_eq!(class_counts(&t), classes, "{name}");
    }
}

/// SHA-256 of the full-size canonical edge lists, computed from dwave-networkx 0.8.19
/// (`chimera_graph(16)`, `pegasus_graph(16)`, `zephyr_graph(6,4)`, `zephyr_graph(12,4)`) while this module
/// was written; docs/topology.md §4 leaves them out.
#[test]
fn full_size_edge_lists_match_dnx_hashes() {
    let cases = [
        (
            "chimera:16",
            "2edf8b6b853d8456e99efabc473554dba9c3604cb2a4f2bafb2b1a89cf05891c",
        ),
        (
            "pegasus:16",
            "d8eac0f74904bcc8a2052f242b8b3781eb641a73c9be79639d0b45f592df84ba",
        ),
        (
            "zephyr:6,4",
            "1d5304b41c9cb750fbd39c983468e0329b37bf9d034057aaf88bba2ad6c10e14",
        ),
        (
            "zephyr:12,4",
            "ef22ee5f626012490211d16216a7dc50af4c7f5a09470bc2f370429121f3a0b5",
        ),
    ];
    for (spec, sha) in cases {
        assert_eq!(
            sha256_hex(canonical_edges(&topo(spec)).as_bytes()),
            sha,
            "{spec}"
        );
    }
}

#[test]
fn small_edge_classes_match_reference_files() {
    for (name, spec, ..) in SMALL {
        let t = topo(spec);
        let ours: String = t
            .edges()
            .iter()
            .map(|e| format!("{} {} {}\n", e.u, e.v, e.class))
            .collect();
        assert_eq!(
            ours,
            read_text(&format!("topology/{name}.edges_class.txt")),
            "{name}"
        );
        // edge_class agrees with the edge list on every pair of nodes, in both orders.
        let edges: std::collections::HashMap<(u32, u32), EdgeClass> =
            t.edges().iter().map(|e| ((e.u, e.v), e.class)).collect();
        for a in 0..t.num_index_space() + 2 {
            for b in 0..t.num_index_space() + 2 {
                let want = edges.get(&(a.min(b), a.max(b))).copied();
                assert_eq!(t.edge_class(a, b), want, "{name} {a} {b}");
            }
        }
    }
}

fn csv_rows(rel: &str) -> Vec<Vec<String>> {
    let text = read_text(rel);
    let mut lines = text.lines();
    lines.next().expect("header");
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[test]
fn small_coordinates_match_reference_files() {
    for (name, spec, ..) in SMALL {
        let rows = csv_rows(&format!("topology/{name}.coords.csv"));
        let t = topo(spec);
        assert_eq!(
            rows.len() as u32,
            t.num_index_space(),
            "{name}: one row per index"
        );
        for r in rows {
            let q = num(&r[0]);
            match t {
                Topology::Chimera { m, n, t } => {
                    let g = ChimeraShape { m, n, t };
                    let c = g.from_linear(q).unwrap();
                    assert_eq!(
                        [c.i, c.j, c.u, c.k],
                        [num(&r[1]), num(&r[2]), num(&r[3]), num(&r[4])]
                    );
                    assert_eq!(g.to_linear(c), Some(q));
                }
                Topology::Pegasus { m } => {
                    let g = PegasusShape { m };
                    let c = g.from_linear(q).unwrap();
                    assert_eq!(
                        [c.u, c.w, c.k, c.z],
                        [num(&r[1]), num(&r[2]), num(&r[3]), num(&r[4])]
                    );
                    assert_eq!(t.contains(q), r[5] == "1", "{name} {q} fabric flag");
                    let nice = g.to_nice(c).map(|n| [n.t, n.y, n.x, n.u, n.k]);
                    let want = (!r[6].is_empty()).then(|| [6, 7, 8, 9, 10].map(|i| num(&r[i])));
                    assert_eq!(nice, want, "{name} {q} nice");
                    assert_eq!(g.to_linear(c), Some(q));
                }
                Topology::Zephyr { m, t } => {
                    let g = ZephyrShape { m, t };
                    let c = g.from_linear(q).unwrap();
                    let want = [1, 2, 3, 4, 5].map(|i| num(&r[i]));
                    assert_eq!([c.u, c.w, c.k, c.j, c.z], want, "{name} {q}");
                    let cart = g.to_cartesian(c);
                    assert_eq!(
                        [cart.x, cart.y, cart.k],
                        [6, 7, 8].map(|i| num(&r[i])),
                        "{name} {q}"
                    );
                    assert_eq!(g.from_cartesian(cart), Some(c));
                    assert_eq!(g.to_linear(c), Some(q));
                }
            }
        }
    }
}

#[test]
fn small_layouts_match_reference_files() {
    for (name, spec, ..) in SMALL {
        let rows = csv_rows(&format!("topology/{name}.layout.csv"));
        let ours = topo(spec).layout();
        assert_eq!(ours.len(), rows.len(), "{name}");
        for ((q, x, y), r) in ours.iter().zip(rows) {
            let (rx, ry): (f64, f64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
            assert_eq!(*q, num(&r[0]), "{name}");
            assert!(
                (x - rx).abs() < 1e-9 && (y - ry).abs() < 1e-9,
                "{name} {q}: ({x}, {y}) vs ({rx}, {ry})"
            );
        }
    }
}

#[test]
fn closed_form_counts() {
    for m in 1..=16u32 {
        let t = Topology::Chimera { m, n: m, t: 4 };
        let (n, e) = (2 * m * m * 4, m * m * 16 + 4 * (2 * m * m - 2 * m));
        assert_eq!(
            (t.nodes().len(), t.edges().len()),
            (n as usize, e as usize),
            "{t}"
        );
    }
    for m in 2..=16u32 {
        let t = Topology::Pegasus { m };
        let n = 8 * (m - 1) * (3 * m - 1);
        let e = 144 * (m - 1) * (m - 1) + 4 * (3 * m - 1) * (3 * m - 5);
        assert_eq!(
            (t.nodes().len(), t.edges().len()),
            (n as usize, e as usize),
            "{t}"
        );
        let internal = 144 * (m - 1) * (m - 1);
        let external = (24 * m - 8) * (m - 2);
        let odd = (12 * m - 4) * (m - 1);
        assert_eq!(
            class_counts(&t),
            [internal as usize, external as usize, odd as usize],
            "{t}"
        );
    }
    for m in 1..=12u32 {
        let t = Topology::Zephyr { m, t: 4 };
        let n = 16 * m * (2 * m + 1);
        let e = 16 * 16 * m * m + 8 * (2 * m + 1) * (4 * m - 3);
        let e_docstring = if m > 1 {
            8 * (40 * m * m - 2 * m - 3)
        } else {
            8 * 35
        };
        assert_eq!(e, e_docstring);
        assert_eq!(
            (t.nodes().len(), t.edges().len()),
            (n as usize, e as usize),
            "{t}"
        );
        assert_eq!(
            class_counts(&t)[2],
            (8 * (2 * m + 1) * (2 * m - 1)) as usize,
            "{t} odd"
        );
    }
}

#[test]
fn full_size_class_counts_and_degree_histograms() {
    let cases = [
        ("chimera:16", 2048, [4096, 1920, 0]),
        ("pegasus:16", 5640, [32400, 5264, 2820]),
        ("zephyr:6,4", 1248, [9216, 1040, 1144]),
        ("zephyr:12,4", 4800, [36864, 4400, 4600]),
    ];
    for (spec, nodes, classes) in cases {
        let t = topo(spec);
        assert_eq!(t.nodes().len(), nodes, "{spec}");
        assert_eq!(class_counts(&t), classes, "{spec}");
    }
    let c16 = degree_histogram(&topo("chimera:16"));
    assert_eq!(c16, BTreeMap::from([(5, 256), (6, 1792)]));
    let p16 = degree_histogram(&topo("pegasus:16"));
    assert_eq!(
        p16,
        BTreeMap::from([
            (15, 4472),
            (14, 688),
            (11, 208),
            (10, 32),
            (7, 208),
            (6, 32)
        ])
    );
    let z12 = degree_histogram(&topo("zephyr:12,4"));
    assert_eq!(z12.get(&20), Some(&3680));
    assert_eq!(z12.keys().max(), Some(&20));
}

#[test]
fn layouts_of_full_size_graphs_fill_the_unit_box() {
    for spec in ["2000q", "advantage", "advantage2"] {
        let pos = topo(spec).layout();
        let min_x = pos.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max_x = pos.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let min_y = pos.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
        let max_y = pos.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
        assert!(
            min_x == 0.0 && (max_x - 1.0).abs() < 1e-12,
            "{spec} x in [{min_x}, {max_x}]"
        );
        assert!(
            max_y == 0.0 && (min_y + 1.0).abs() < 1e-12,
            "{spec} y in [{min_y}, {max_y}]"
        );
    }
}

#[test]
fn coords_round_trip_and_cover_every_node() {
    for spec in ["chimera:16", "pegasus:16", "zephyr:12,4", "chimera:2,3,2"] {
        let t = topo(spec);
        let mut seen = std::collections::HashSet::new();
        for q in 0..t.num_index_space() + 1 {
            match t.coords(q) {
                Some(c) => {
                    assert!(t.contains(q));
                    assert!(c.orientation < 2);
                    assert!(
                        seen.insert((c.cell_row, c.cell_col, c.index_in_cell)),
                        "{spec} {q}: {c:?}"
                    );
                }
                None => assert!(!t.contains(q), "{spec} {q}"),
            }
        }
        assert_eq!(seen.len(), t.nodes().len());
    }
}

fn solver(name: &str) -> PathBuf {
    shared_data().join("solvers").join(name)
}

#[test]
fn real_solver_records() {
    let cases = [
        (
            "DW_2000Q_5.solver.json.gz",
            "DW_2000Q_5",
            "chimera:16,16,4",
            2030,
            5909,
            18,
            107,
        ),
        (
            "Advantage_system4_1.solver.json.gz",
            "Advantage_system4.1",
            "pegasus:16",
            5627,
            40279,
            13,
            205,
        ),
        (
            "Advantage2_prototype2_3.solver.json.gz",
            "Advantage2_prototype2.3",
            "zephyr:6,4",
            1217,
            10829,
            31,
            571,
        ),
    ];
    for (file, id, spec, nq, nc, mq, mc) in cases {
        let g = WorkingGraph::from_solver_file(&solver(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.solver_name.as_deref(), Some(id));
        assert_eq!(g.topology.to_string(), spec);
        assert_eq!((g.qubits.len(), g.couplers.len()), (nq, nc), "{file}");
        assert_eq!(
            (g.missing_qubits().len(), g.missing_couplers().len()),
            (mq, mc),
            "{file}"
        );
        assert!(g
            .couplers
            .iter()
            .all(|&(u, v)| u < v && g.coupler_class(u, v).is_some()));
        let s = GraphSummary::of_working(&g);
        assert_eq!(s.couplers_by_class.total(), nc);
        assert_eq!(s.num_index_space, g.topology.num_index_space());
    }
    // The Advantage holes are never in a real record (docs/topology.md §2).
    let adv =
        WorkingGraph::from_solver_file(&solver("Advantage_system4_1.solver.json.gz")).unwrap();
    assert!(adv.qubits.iter().all(|&q| adv.topology.contains(q)));
}

/// The JSON of a shared solver record file.
fn solver_json(file: &str) -> serde_json::Value {
    qasa::sapi::solver::read_json(&solver(file)).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes the DW_2000Q_5 record without `properties.qubits`, gzipped, as a list, named like the original.
fn record_without_qubits(dir: &std::path::Path) -> PathBuf {
    let mut value = solver_json("DW_2000Q_5.solver.json.gz");
    value["properties"]
        .as_object_mut()
        .unwrap()
        .remove("qubits");
    let path = dir.join("DW_2000Q_5.solver.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(
        serde_json::to_string(&serde_json::json!([value]))
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    path
}

#[test]
fn record_without_qubits_names_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = record_without_qubits(dir.path());
    let msg = WorkingGraph::from_solver_file(&path)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: solver record has no properties.qubits; is this a SAPI solver record?",
            path.display()
        )
    );
}

#[test]
fn plain_json_and_named_list_selection() {
    let dir = tempfile::tempdir().unwrap();
    let record = solver_json("Advantage2_prototype2_3.solver.json.gz");
    let list = serde_json::json!([{"id": "Other", "properties": {}}, record]);
    let path = dir.path().join("solvers.json");
    std::fs::write(&path, serde_json::to_vec(&list).unwrap()).unwrap();
    let g = WorkingGraph::from_solver_file_named(&path, Some("Advantage2_prototype2.3")).unwrap();
    assert_eq!((g.qubits.len(), g.couplers.len()), (1217, 10829));
    let first = WorkingGraph::from_solver_file(&path)
        .unwrap_err()
        .to_string();
    assert!(
        first.contains("solvers.json: solver record has no properties.qubits"),
        "{first}"
    );
    let missing = WorkingGraph::from_solver_file(&dir.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope.json: cannot read it (") && missing.contains("check the path"),
        "{missing}"
    );
    std::fs::write(&path, b"{not json").unwrap();
    let bad = WorkingGraph::from_solver_file(&path)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("solvers.json: not valid JSON"), "{bad}");
}

/// A solver record in the v3 shape SAPI serves today: `identity: {name, version: {graph_id}}` instead of
/// the v2 `id` (docs/sapi-protocol.md §3.1; the shape of the recorded cassettes and of `GET solvers/remote/`).
fn v3_record(v2_file: &str, name: &str, graph_id: &str) -> serde_json::Value {
    let mut v = solver_json(v2_file);
    let obj = v.as_object_mut().unwrap();
    obj.remove("id");
    obj.insert(
        "identity".into(),
        serde_json::json!({"name": name, "version": {"graph_id": graph_id}}),
    );
    v
}

/// A v3 solver list as `GET solvers/remote/` returns it: a hybrid solver first, then two QPUs.
fn v3_list(dir: &std::path::Path) -> PathBuf {
    let list = serde_json::json!([
        {"identity": {"name": "hybrid_binary_quadratic_model_version2p"}, "status": "ONLINE",
         "properties": {"category": "hybrid", "supported_problem_types": ["bqm"]}},
        v3_record("DW_2000Q_5.solver.json.gz", "DW_2000Q_6", "0f1e2d3c4b"),
        v3_record("Advantage2_prototype2_3.solver.json.gz", "Advantage2_system1.5", "a1b2c3d4e5"),
    ]);
    let path = dir.join("list.json");
    std::fs::write(&path, serde_json::to_vec(&list).unwrap()).unwrap();
    path
}

/// Regression (issue 10): a v3 list, whose records carry `identity.name` instead of `id`, is searched by
/// that name, and the graph carries it.
#[test]
fn v3_solver_list_is_searched_by_identity_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = v3_list(dir.path());
    let g = WorkingGraph::from_solver_file_named(&path, Some("Advantage2_system1.5")).unwrap();
    assert_eq!(g.solver_name.as_deref(), Some("Advantage2_system1.5"));
    assert_eq!(g.topology.to_string(), "zephyr:6,4");
    assert_eq!((g.qubits.len(), g.couplers.len()), (1217, 10829));
    let g = WorkingGraph::from_solver_file_named(&path, Some("DW_2000Q_6")).unwrap();
    assert_eq!((g.qubits.len(), g.couplers.len()), (2030, 5909));
    let e = WorkingGraph::from_solver_file_named(&path, Some("Advantage_system9.9"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no solver named \"Advantage_system9.9\" in the list; it holds hybrid_binary_quadratic_model_version2p, DW_2000Q_6, Advantage2_system1.5"),
        "{e}"
    );

    let out = qasa()
        .args(["topology", "info", "--json", "--solver-file"])
        .arg(&path)
        .args(["--solver", "Advantage2_system1.5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["solver_name"], "Advantage2_system1.5");
    assert_eq!(
        (v["num_qubits"].as_u64(), v["num_couplers"].as_u64()),
        (Some(1217), Some(10829))
    );
    let human = qasa()
        .args(["topology", "info", "--solver-file"])
        .arg(&path)
        .args(["--solver", "Advantage2_system1.5"])
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.starts_with("solver            Advantage2_system1.5\n"),
        "{text}"
    );
}

#[test]
fn truncated_gzip_record_says_it_is_probably_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(solver("DW_2000Q_5.solver.json.gz")).unwrap();
    let path = dir.path().join("cut.solver.json.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let out = qasa()
        .args(["topology", "info", "--solver-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "error: {}: the gzip data ends after ",
            path.display()
        )) && err.contains("decompressed bytes; the file is probably truncated")
            && err.ends_with('\n')
            && err.lines().count() == 1,
        "{err}"
    );
}

// ---------------------------------------------------------------- command line

fn qasa() -> Command {
    Command::cargo_bin("qasa").unwrap()
}

#[test]
fn cli_edges_match_reference_files() {
    for (name, spec, ..) in SMALL {
        let out = qasa().args(["topology", "edges", spec]).output().unwrap();
        assert!(out.status.success(), "{spec}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            read_text(&format!("topology/{name}.edges.txt"))
        );
    }
}

#[test]
fn cli_layout_is_bit_exact_with_reference_files() {
    // Rust's `{:?}` and Python's `repr` print the same shortest round-trip digits for these values.
    for (name, spec, ..) in SMALL {
        let out = qasa().args(["topology", "layout", spec]).output().unwrap();
        assert!(out.status.success(), "{spec}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            read_text(&format!("topology/{name}.layout.csv"))
        );
    }
}

#[test]
fn cli_layout_round_trips_f64() {
    let out = qasa()
        .args(["topology", "layout", "pegasus:3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("index,x,y"));
    let ours = topo("pegasus:3").layout();
    let printed: Vec<(u32, f64, f64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (num(f[0]), f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(printed, ours);
}

#[test]
fn cli_info_json_for_spec_and_solver() {
    let out = qasa()
        .args(["topology", "info", "advantage2", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["family"], "zephyr");
    assert_eq!(v["shape"], serde_json::json!([12, 4]));
    assert_eq!(v["num_qubits"], 4800);
    assert_eq!(v["num_couplers"], 45864);
    assert_eq!(
        v["couplers_by_class"],
        serde_json::json!({"internal": 36864, "external": 4400, "odd": 4600})
    );
    assert_eq!(v["missing_qubits"], serde_json::json!([]));
    assert_eq!(v["missing_couplers"], serde_json::json!([]));

    let file = solver("DW_2000Q_5.solver.json.gz");
    let out = qasa()
        .args(["topology", "info", "--json", "--solver-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["num_qubits"].as_u64(), v["num_couplers"].as_u64()),
        (Some(2030), Some(5909))
    );
    assert_eq!(v["missing_qubits"].as_array().unwrap().len(), 18);
    let couplers = v["missing_couplers"].as_array().unwrap();
    assert_eq!(couplers.len(), 107);
    assert!(couplers.iter().all(|c| c
        .as_array()
        .is_some_and(|p| p.len() == 2 && p[0].as_u64() < p[1].as_u64())));
    let c = &v["couplers_by_class"];
    assert_eq!(
        c["internal"].as_u64().unwrap() + c["external"].as_u64().unwrap(),
        5909
    );
    assert_eq!(c["odd"], 0);

    let human = qasa()
        .args(["topology", "info"])
        .arg("--solver-file")
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("DW_2000Q_5")
            && text.contains("2030 of 2048")
            && text.contains("5909 of 6016"),
        "{text}"
    );
}

#[test]
fn cli_record_without_qubits_fails_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = record_without_qubits(dir.path());
    let out = qasa()
        .args(["topology", "info", "--solver-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        format!(
            "error: {}: solver record has no properties.qubits; is this a SAPI solver record?\n",
            path.display()
        )
    );
}

#[test]
fn cli_bad_spec_is_a_usage_error() {
    for (spec, want) in [
        ("pegasus:1", "M must be at least 2"),
        ("torus:3", "unknown topology type"),
        ("chimera:x", "is not a whole number"),
    ] {
        let out = qasa().args(["topology", "edges", spec]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{spec}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains(want),
            "{spec}: {err}"
        );
    }
    let out = qasa().args(["topology", "info"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

mod solver_record_fuzz {
    //! The solver-record loader on mutated and arbitrary input: a clear error naming the field, never a
    //! panic, and a graph only when the record is still valid.
    use proptest::prelude::*;
    use qasa::sapi::solver::{SolverError, SolverRecord};
    use qasa::topology::{TopologyError, WorkingGraph};
    use serde_json::{json, Value};

    fn record() -> Value {
        json!({
            "id": "Fuzz_C1",
            "properties": {
                "num_qubits": 8,
                "qubits": [0, 1, 2, 3, 4, 5, 6, 7],
                "couplers": [[0, 4], [0, 5], [1, 4], [1, 5], [2, 6], [3, 7]],
                "topology": {"type": "chimera", "shape": [1, 1, 4]}
            }
        })
    }

    fn graph(v: Value) -> Result<WorkingGraph, TopologyError> {
        WorkingGraph::from_solver_record(&SolverRecord::from_value(v)?)
    }

    const TARGETS: [&str; 9] = [
        "/properties/qubits",
        "/properties/couplers",
        "/properties/topology",
        "/properties/topology/type",
        "/properties/topology/shape",
        "/properties/qubits/3",
        "/properties/couplers/2",
        "/properties/couplers/2/1",
        "/properties",
    ];

    fn values() -> [Value; 10] {
        [
            json!(null),
            json!(-1),
            json!(1e300),
            json!("x"),
            json!([]),
            json!([[1]]),
            json!([4294967296u64]),
            json!({"type": "pegasus", "shape": [100000]}),
            json!([1, 1, 0]),
            json!([[7, 7]]),
        ]
    }

    /// Every (field, value) mutation: the mutations that leave a valid record give its graph; every other
    /// one gives an error that names a `properties` field, and for a list or a scalar field the field
    /// itself.
    #[test]
    fn mutated_records_give_errors_naming_the_field() {
        let mut valid = Vec::new();
        for target in TARGETS {
            for value in values() {
                let mut r = record();
                *r.pointer_mut(target).unwrap() = value.clone();
                match graph(r.clone()) {
                    Ok(g) => {
                        let q = r.pointer("/properties/qubits").unwrap();
                        assert_eq!(&json!(g.qubits), q, "{target} = {value}");
                        valid.push((target, value));
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        // "/properties/qubits/3" → "properties.qubits", "/properties" → "properties".
                        let field = target.trim_start_matches('/').replace('/', ".");
                        let field = field.split('.').take(2).collect::<Vec<_>>().join(".");
                        assert!(msg.contains("properties"), "{target} = {value}: {msg}");
                        if target != "/properties/topology" {
                            assert!(msg.contains(&field), "{target} = {value}: {msg}");
                        }
                        assert!(!msg.contains('\n'), "one line: {msg}");
                    }
                }
            }
        }
        // Only an empty coupler list keeps the record valid (a chip with no working couplers).
        assert_eq!(valid, vec![("/properties/couplers", json!([]))]);
        // A list is never a record.
        assert!(matches!(
            SolverRecord::from_value(json!([record()])),
            Err(SolverError::NotAnObject { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_files_give_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), gz in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("s.json");
            let data = if gz {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut e, &bytes).unwrap();
                e.finish().unwrap()
            } else {
                bytes
            };
            std::fs::write(&p, data).unwrap();
            // Random bytes are never a valid record: an error that names the file.
            let e = WorkingGraph::from_solver_file(&p).unwrap_err();
            prop_assert!(e.to_string().contains("s.json"), "{}", e);
        }
    }
}
