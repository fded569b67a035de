#!/usr/bin/env python3
"""Generate qasa's SAPI qp fixtures with the official D-Wave encoder/decoder.

Usage:
    python3 -m venv /tmp/qasa-venv && /tmp/qasa-venv/bin/pip install dwave-cloud-client numpy
    /tmp/qasa-venv/bin/python scripts/sapi_fixtures.py            # writes tests/fixtures/sapi/*.json

Outputs (read by tests/it/sapi.rs):
  qp_problems.json  problems encoded by dwave.cloud.coders.encode_problem_as_qp on the mock solver and the
                    real solver records in <shared data>/solvers (lin/quad base64, or sha256 of them for the
                    full-graph cases whose values come from a formula qasa's test recomputes).
  qp_answers.json   SAPI-format qp answers built here (numpy.packbits, MSB first) and decoded by the official
                    decode_qp_numpy; per-qubit counts of s = -1 weighted by num_occurrences.
  recorded_qp.json  the real recorded answers (<shared data>/recorded/inspector_recorded_problems.json) packed
                    into SAPI qp form, checked to decode back exactly with decode_qp_numpy.

Shared data is located like the Rust tests do: $QASA_SHARED_DATA, else <repo>/../shared/data, else
/work/shared/data.
"""
import base64
import copy
import gzip
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
from importlib.metadata import version as pkg_version
from dwave.cloud.coders import decode_qp, decode_qp_numpy, encode_problem_as_qp
from dwave.cloud.solver import StructuredSolver

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "sapi"


def shared_data() -> Path:
    cands = []
    if os.environ.get("QASA_SHARED_DATA"):
        cands.append(Path(os.environ["QASA_SHARED_DATA"]))
    cands += [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    for c in cands:
        if c.is_dir():
            return c
    sys.exit(f"shared data not found; looked in {cands}")


DATA = shared_data()


def load_solver(rel: str) -> tuple[StructuredSolver, dict]:
    p = DATA / rel
    raw = json.load(gzip.open(p) if rel.endswith(".gz") else open(p))
    d = copy.deepcopy(raw)
    if "identity" not in d:  # legacy records carry `id`
        d["identity"] = {"name": d["id"], "version": {"graph_id": "recorded"}}
    return StructuredSolver(client=None, data=d), raw


def formula_h(q: int) -> float:
    return ((q * 7919 + 13) % 2001 - 1000) / 1000.0


def formula_j(u: int, v: int) -> float:
    return ((u * 31 + v * 17) % 2001 - 1000) / 1000.0


def problems() -> list:
    cases = []
    rng = np.random.RandomState(20261128)

    def add(name, rel, h, J, offset=0, full_formula=False, digest=False):
        solver, _ = load_solver(rel)
        enc = encode_problem_as_qp(solver, h, J, offset)
        case = {"name": name, "solver_file": rel, "offset": offset}
        if full_formula:
            case["formula"] = "full working graph: h(q)=((q*7919+13)%2001-1000)/1000, J(u,v)=((u*31+v*17)%2001-1000)/1000"
        else:
            case["h"] = [[int(q), float(v)] for q, v in h.items()]
            case["J"] = [[int(u), int(v), float(x)] for (u, v), x in J.items()]
        if digest:
            case["lin_sha256"] = hashlib.sha256(enc["lin"].encode()).hexdigest()
            case["quad_sha256"] = hashlib.sha256(enc["quad"].encode()).hexdigest()
            case["lin_len"] = len(base64.b64decode(enc["lin"])) // 8
            case["quad_len"] = len(base64.b64decode(enc["quad"])) // 8
        else:
            case["lin"] = enc["lin"]
            case["quad"] = enc["quad"]
        cases.append(case)

    mock = "sapi/mock-solver-Mock8Q.json"
    add("worked-example", mock, {0: -1.0, 4: 0.5, 7: 0.0}, {(0, 4): -1.0, (7, 0): 0.25}, 1.5)
    add("mock-single-qubit", mock, {3: 1.0}, {})
    add("mock-j-only", mock, {}, {(1, 5): 0.5})
    add("mock-both-directions-summed", mock, {0: 0.1}, {(0, 4): 0.25, (4, 0): 0.5, (5, 1): -0.125})
    add("mock-zero-coupling-sent", mock, {0: 0.0, 4: -0.0, 5: 2.0}, {(0, 5): 0.0})
    add("mock-empty", mock, {}, {})
    for rel in ["solvers/DW_2000Q_5.solver.json.gz", "solvers/Advantage_system4_1.solver.json.gz",
                "solvers/Advantage2_prototype2_3.solver.json.gz"]:
        solver, raw = load_solver(rel)
        qubits = raw["properties"]["qubits"]
        couplers = raw["properties"]["couplers"]
        stem = rel.split("/")[1].split(".")[0]
        add(f"{stem}-single-qubit", rel, {qubits[0]: 1.0}, {})
        # random subgraph: random couplers (random direction) plus random biases
        idx = rng.choice(len(couplers), size=60, replace=False)
        J = {}
        for i in idx:
            u, v = couplers[i]
            if rng.rand() < 0.5:
                u, v = v, u
            J[(u, v)] = float(rng.uniform(-1, 1))
        hq = rng.choice(qubits, size=40, replace=False)
        h = {int(q): float(rng.uniform(-2, 2)) for q in hq}
        add(f"{stem}-random-subgraph", rel, h, J, offset=-0.75)
        # full working graph from a formula (digest only, to keep fixtures small)
        hf = {q: formula_h(q) for q in qubits}
        Jf = {(u, v): formula_j(u, v) for u, v in couplers}
        add(f"{stem}-full-graph", rel, hf, Jf, full_formula=True, digest=True)
    return cases


def pack_answer(num_variables, active, rows_bits, energies, num_occurrences):
    """SAPI qp answer: MSB-first rows of ceil(n/8) bytes (numpy.packbits pads each row)."""
    bits = np.asarray(rows_bits, dtype=np.uint8).reshape(len(energies), len(active))
    packed = np.packbits(bits, axis=1) if len(active) else np.zeros((len(energies), 0), np.uint8)
    ans = {
        "format": "qp",
        "num_variables": int(num_variables),
        "active_variables": base64.b64encode(struct.pack("<%di" % len(active), *active)).decode(),
        "energies": base64.b64encode(struct.pack("<%dd" % len(energies), *energies)).decode(),
        "solutions": base64.b64encode(packed.tobytes()).decode(),
        "timing": {"qpu_access_time": 15945.48, "qpu_sampling_time": 872.6},
    }
    if num_occurrences is not None:
        ans["num_occurrences"] = base64.b64encode(struct.pack("<%di" % len(num_occurrences), *num_occurrences)).decode()
    return ans


def official_decode(ans, ptype="ising"):
    msg = {"type": ptype, "answer": copy.deepcopy(ans)}
    r = decode_qp_numpy(msg, return_matrix=False)
    act = r["active_variables"]
    rows = [[row[q] for q in act] for row in r["solutions"]]
    # cross-check with the pure-Python decoder (fills inactive with -1 but active values agree)
    r2 = decode_qp({"type": ptype, "answer": copy.deepcopy(ans)})
    assert [[row[q] for q in act] for row in r2["solutions"]] == rows
    return r, rows


def counts(rows, occ):
    n = len(rows[0]) if rows else 0
    w = occ if occ is not None else [1] * len(rows)
    down = [sum(wi for r, wi in zip(rows, w) if r[i] == -1) for i in range(n)]
    return down, int(sum(w))


def answers() -> list:
    rng = np.random.RandomState(42)
    cases = []
    specs = [("n1", 8, [5], 3, True), ("n3-worked", 8, [0, 4, 7], 3, True), ("n8", 16, list(range(0, 16, 2)), 5, True),
             ("n9", 20, list(range(9)), 7, True), ("n17-raw", 40, list(range(1, 35, 2)), 11, False),
             ("n64", 64, list(range(64)), 4, True), ("n100", 128, sorted(rng.choice(128, 100, replace=False).tolist()), 9, True),
             ("n0-empty", 8, [], 0, True)]
    _, adv = load_solver("solvers/Advantage_system4_1.solver.json.gz")
    specs.append(("advantage-full-3rows", adv["properties"]["num_qubits"], adv["properties"]["qubits"], 3, True))
    for name, nv, active, nrows, hist in specs:
        bits = rng.randint(0, 2, size=(nrows, len(active)))
        energies = sorted(rng.uniform(-10, 0, size=nrows).tolist())
        occ = rng.randint(1, 1000, size=nrows).tolist() if hist else None
        ans = pack_answer(nv, active, bits, energies, occ)
        r, rows = official_decode(ans)
        assert r["energies"] == energies and r["active_variables"] == list(active)
        assert rows == (2 * bits - 1).tolist()
        down, reads = counts(rows, r.get("num_occurrences"))
        cases.append({"name": name, "answer": ans,
                      "decoded": {"num_variables": nv, "active_variables": r["active_variables"],
                                  "energies": r["energies"], "num_occurrences": r.get("num_occurrences"),
                                  "solutions_active": rows},
                      "counts": {"down": down, "reads": reads}})
    return cases


def recorded() -> list:
    recs = json.load(open(DATA / "recorded" / "inspector_recorded_problems.json"))
    out = []
    for rec in recs:
        a = rec["answer"]
        rows = a["solutions"]
        bits = (np.asarray(rows) > 0).astype(np.uint8) if rows else np.zeros((0, len(a["active_variables"])), np.uint8)
        ans = pack_answer(a["num_variables"], a["active_variables"], bits, a["energies"], a.get("num_occurrences"))
        ans["timing"] = a.get("timing", {})
        r, dec_rows = official_decode(ans, rec["problem_type"])
        assert dec_rows == rows, rec["problem_id"]
        assert r["energies"] == a["energies"]
        out.append({"problem_id": rec["problem_id"], "solver": rec["solver"], "problem_type": rec["problem_type"],
                    "answer": ans})
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    gen = {"dwave-cloud-client": pkg_version("dwave-cloud-client"), "numpy": np.__version__,
           "python": sys.version.split()[0], "script": "scripts/sapi_fixtures.py"}
    for fname, payload in [("qp_problems.json", problems()), ("qp_answers.json", answers()),
                           ("recorded_qp.json", recorded())]:
        with open(OUT / fname, "w") as f:
            json.dump({"generated_by": gen, "cases": payload}, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {OUT / fname}")


if __name__ == "__main__":
    main()
