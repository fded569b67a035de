//! The SAPI `qp` encoding of QPU problems and answers, in all four directions.
//!
//! Protocol: `docs/sapi-protocol.md` §4 (worked example §4.5, data in `data/sapi/worked-example-qp.json`).
//!
//! Problem (request `data`):
//! * `lin`: one little-endian f64 per entry of the solver's `properties.qubits` list (in that order, NOT
//!   `0..num_qubits`); `lin[k] = h[Q[k]]`, `0.0` for an active qubit without a bias, quiet NaN
//!   (`0x7FF8000000000000`) for a qubit the problem does not use. Active = keys of `h` ∪ ends of `J`.
//! * `quad`: one little-endian f64 per coupler of `properties.couplers` (same order) whose two ends are both
//!   active; `J(u,v) + J(v,u)`; zeros are sent, NaN never; no couplers → `""`.
//!
//! Answer (`format: "qp"`):
//! * `active_variables`, `num_occurrences`: base64 of little-endian i32; `energies`: base64 of LE f64.
//! * `solutions`: R rows of `ceil(n/8)` bytes, n = number of active variables; variable i of a row is bit
//!   `7 - i % 8` of byte `i / 8` (MSB first). Bit 1 ↔ s = +1, bit 0 ↔ s = −1. Pad bits are 0.
//!   The decoder checks `len == R * ceil(n/8)` exactly (the official NumPy decoder is lenient, §8.1).
//!
//! Everything is standard base64 with `=` padding.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Errors of the `qp` codec. Each names the field and what to do.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QpError {
    #[error(
        "qp field `{field}`: invalid base64 ({msg}); the payload is corrupt or not a qp answer"
    )]
    Base64 { field: &'static str, msg: String },
    #[error("qp field `{field}`: {len} bytes is not a multiple of {width}; the payload is truncated or corrupt")]
    Length {
        field: &'static str,
        len: usize,
        width: usize,
    },
    #[error("qp field `{field}`: expected {expected} values, found {found}; {hint}")]
    Count {
        field: &'static str,
        expected: usize,
        found: usize,
        hint: &'static str,
    },
    #[error(
        "qp answer: field `{field}` is missing or has the wrong JSON type (expected {expected})"
    )]
    Field {
        field: &'static str,
        expected: &'static str,
    },
    #[error(
        "qp answer: format is `{0}`, expected `qp`; only QPU answers in qp format are supported"
    )]
    Format(String),
    #[error("qp field `{field}`: value {value} at index {index} is negative; qubit ids and counts are non-negative")]
    Negative {
        field: &'static str,
        index: usize,
        value: i64,
    },
    #[error(
        "qubit {qubit} is not a working qubit of the solver; use only qubits in properties.qubits"
    )]
    UnknownQubit { qubit: u32 },
    #[error(
        "coupling ({u}, {v}) is not a working coupler of the solver; use only properties.couplers"
    )]
    NotACoupler { u: u32, v: u32 },
    #[error("coupling ({u}, {v}) has value {value}, which is not finite")]
    NonFiniteCoupling { u: u32, v: u32, value: f64 },
    #[error("qubit {qubit} has bias {value}, which is not finite")]
    NonFiniteBias { qubit: u32, value: f64 },
    #[error("quad value for coupler ({u}, {v}) is NaN; couplers between active qubits must carry a number")]
    NanQuad { u: u32, v: u32 },
    #[error("active variable {qubit} is >= num_variables {num_variables}")]
    ActiveOutOfRange { qubit: u32, num_variables: u32 },
}

// ---------------------------------------------------------------------------------------------------
// Scalar arrays

/// Base64 of the values as little-endian IEEE-754 float64 (used for `lin`, `quad`, `energies`).
pub fn encode_f64_le(values: &[f64]) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 8);
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    B64.encode(bytes)
}

/// Inverse of [`encode_f64_le`]; `""` decodes to an empty vector.
pub fn decode_f64_le(s: &str) -> Result<Vec<f64>, QpError> {
    decode_f64_field(s, "f64 array")
}

/// Base64 of the values as little-endian int32 (used for `active_variables`, `num_occurrences`).
pub fn encode_i32_le(values: &[i32]) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    B64.encode(bytes)
}

/// Base64 of non-negative values as little-endian int32 (values above `i32::MAX` saturate).
pub fn encode_u32_as_i32_le(values: &[u32]) -> String {
    let v: Vec<i32> = values
        .iter()
        .map(|&x| i32::try_from(x).unwrap_or(i32::MAX))
        .collect();
    encode_i32_le(&v)
}

/// Inverse of [`encode_i32_le`].
pub fn decode_i32_le(s: &str) -> Result<Vec<i32>, QpError> {
    decode_i32_field(s, "i32 array")
}

/// Standard base64 decode with a field name in the error.
pub fn decode_b64(s: &str, field: &'static str) -> Result<Vec<u8>, QpError> {
    B64.decode(s.as_bytes()).map_err(|e| QpError::Base64 {
        field,
        msg: e.to_string(),
    })
}

fn decode_f64_field(s: &str, field: &'static str) -> Result<Vec<f64>, QpError> {
    let bytes = decode_b64(s, field)?;
    if bytes.len() % 8 != 0 {
        return Err(QpError::Length {
            field,
            len: bytes.len(),
            width: 8,
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

fn decode_i32_field(s: &str, field: &'static str) -> Result<Vec<i32>, QpError> {
    let bytes = decode_b64(s, field)?;
    if bytes.len() % 4 != 0 {
        return Err(QpError::Length {
            field,
            len: bytes.len(),
            width: 4,
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn decode_u32_field(s: &str, field: &'static str) -> Result<Vec<u32>, QpError> {
    decode_i32_field(s, field)?
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            u32::try_from(v).map_err(|_| QpError::Negative {
                field,
                index,
                value: v.into(),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Problems

/// A problem in `qp` form, before base64: `lin` over the solver's `qubits` order (NaN = unused), `quad` over
/// the solver's couplers whose two ends are both active (in `couplers` order).
#[derive(Clone, Debug, PartialEq)]
pub struct QpProblem {
    pub lin: Vec<f64>,
    pub quad: Vec<f64>,
}

impl QpProblem {
    /// The request `data` object `{"format":"qp","lin":…,"quad":…,"offset":…}` (key order as the official
    /// client sends it; serde_json sorts keys unless `preserve_order` is on, the JSON value is the same).
    pub fn to_data_json(&self, offset: f64) -> Value {
        let mut m = Map::new();
        m.insert("format".into(), Value::from("qp"));
        m.insert("lin".into(), Value::from(encode_f64_le(&self.lin)));
        m.insert("quad".into(), Value::from(encode_f64_le(&self.quad)));
        m.insert("offset".into(), json_number(offset));
        Value::Object(m)
    }

    /// `lin` as base64.
    pub fn lin_b64(&self) -> String {
        encode_f64_le(&self.lin)
    }

    /// `quad` as base64 (`""` when empty).
    pub fn quad_b64(&self) -> String {
        encode_f64_le(&self.quad)
    }
}

/// A JSON number for a finite f64; integers that are exact are written without a fraction like Python's
/// `json` writes `0` for an int offset — callers that need `0.0` pass a float, which serde writes as `0.0`.
fn json_number(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The canonical quiet NaN the official client writes (`00 00 00 00 00 00 f8 7f`).
pub const QP_NAN: f64 = f64::from_bits(0x7FF8_0000_0000_0000);

/// Couplers of the solver (in solver order) whose two ends are both active.
pub fn active_couplers(
    solver_couplers: &[(u32, u32)],
    active: impl Fn(u32) -> bool,
) -> Vec<(u32, u32)> {
    solver_couplers
        .iter()
        .copied()
        .filter(|&(u, v)| active(u) && active(v))
        .collect()
}

/// Encodes an Ising problem (`h` by qubit, directed `J` by `(u, v)`; `J(u,v)` and `J(v,u)` are summed) over the
/// solver's working graph exactly as dwave-cloud-client's `encode_problem_as_qp` does (§4.1–4.2).
///
/// Errors: a qubit that is not a working qubit, a coupling that is not a working coupler (either order), a
/// self-coupling, or a non-finite value.
pub fn encode_ising(
    solver_qubits: &[u32],
    solver_couplers: &[(u32, u32)],
    h: &BTreeMap<u32, f64>,
    j: &BTreeMap<(u32, u32), f64>,
) -> Result<QpProblem, QpError> {
    let working: std::collections::HashSet<u32> = solver_qubits.iter().copied().collect();
    let coupler_set: std::collections::HashSet<(u32, u32)> = solver_couplers
        .iter()
        .map(|&(u, v)| (u.min(v), u.max(v)))
        .collect();
    for (&q, &b) in h {
        if !working.contains(&q) {
            return Err(QpError::UnknownQubit { qubit: q });
        }
        if !b.is_finite() {
            return Err(QpError::NonFiniteBias { qubit: q, value: b });
        }
    }
    // Undirected sums; a (u, v) and (v, u) pair is added like the official client does.
    let mut sums: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for (&(u, v), &val) in j {
        if !val.is_finite() {
            return Err(QpError::NonFiniteCoupling { u, v, value: val });
        }
        for q in [u, v] {
            if !working.contains(&q) {
                return Err(QpError::UnknownQubit { qubit: q });
            }
        }
        let key = (u.min(v), u.max(v));
        if u == v || !coupler_set.contains(&key) {
            return Err(QpError::NotACoupler { u, v });
        }
        *sums.entry(key).or_insert(0.0) += val;
    }
    let mut active: std::collections::HashSet<u32> = h.keys().copied().collect();
    for &(u, v) in j.keys() {
        active.insert(u);
        active.insert(v);
    }
    let lin = solver_qubits
        .iter()
        .map(|q| match h.get(q) {
            Some(&b) => b,
            None if active.contains(q) => 0.0,
            None => QP_NAN,
        })
        .collect();
    let quad = active_couplers(solver_couplers, |q| active.contains(&q))
        .into_iter()
        .map(|(u, v)| sums.get(&(u.min(v), u.max(v))).copied().unwrap_or(0.0))
        .collect();
    Ok(QpProblem { lin, quad })
}

/// An Ising problem decoded from `qp` (the server direction): biases of active qubits and couplings of
/// active couplers (key `(q1, q2)` in solver order, zeros included).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct IsingProblem {
    pub h: BTreeMap<u32, f64>,
    pub j: BTreeMap<(u32, u32), f64>,
}

/// A solver's working graph as the codec needs it: qubits in `lin` order and couplers in `quad` order, each
/// coupler also as its two positions in `lin` (computed once; a server decodes many problems per solver).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct QpGraph {
    qubits: Vec<u32>,
    couplers: Vec<(u32, u32)>,
    /// `(lin position of u, lin position of v)` per coupler with both ends working.
    positions: Vec<(usize, usize)>,
    /// Index into `couplers` of each entry of `positions`.
    position_coupler: Vec<usize>,
}

impl QpGraph {
    /// From `properties.qubits` and `properties.couplers` (couplers with an end outside `qubits` are never
    /// active and are skipped).
    pub fn new(qubits: &[u32], couplers: &[(u32, u32)]) -> QpGraph {
        let pos: std::collections::HashMap<u32, usize> =
            qubits.iter().enumerate().map(|(i, &q)| (q, i)).collect();
        let (positions, position_coupler) = couplers
            .iter()
            .enumerate()
            .filter_map(|(k, (u, v))| Some(((*pos.get(u)?, *pos.get(v)?), k)))
            .unzip();
        QpGraph {
            qubits: qubits.to_vec(),
            couplers: couplers.to_vec(),
            positions,
            position_coupler,
        }
    }

    /// Working qubits, the `lin` order.
    pub fn qubits(&self) -> &[u32] {
        &self.qubits
    }

    /// Decodes base64 `lin`/`quad` (§4, checklist §10 item 4): `len(lin) == len(qubits)` with finite
    /// values or NaN (unused), `len(quad) ==` number of couplers with both ends active, finite `quad`.
    /// Returns `lin` in `qubits` order (NaN kept) and `quad` in `couplers` order of the active couplers.
    pub fn decode_problem(&self, lin_b64: &str, quad_b64: &str) -> Result<QpProblem, QpError> {
        let lin = decode_f64_field(lin_b64, "lin")?;
        if lin.len() != self.qubits.len() {
            return Err(QpError::Count {
                field: "lin",
                expected: self.qubits.len(),
                found: lin.len(),
                hint: "lin has one value per entry of the solver's properties.qubits",
            });
        }
        if let Some((&qubit, &value)) = self.qubits.iter().zip(&lin).find(|(_, b)| b.is_infinite())
        {
            return Err(QpError::NonFiniteBias { qubit, value });
        }
        let quad = decode_f64_field(quad_b64, "quad")?;
        let active: Vec<usize> = (0..self.positions.len())
            .filter(|&k| {
                let (a, b) = self.positions[k];
                !lin[a].is_nan() && !lin[b].is_nan()
            })
            .collect();
        if active.len() != quad.len() {
            return Err(QpError::Count {
                field: "quad",
                expected: active.len(),
                found: quad.len(),
                hint: "quad has one value per solver coupler whose two qubits are both active (non-NaN in lin)",
            });
        }
        for (&k, &value) in active.iter().zip(&quad) {
            let (u, v) = self.couplers[self.position_coupler[k]];
            if value.is_nan() {
                return Err(QpError::NanQuad { u, v });
            }
            if value.is_infinite() {
                return Err(QpError::NonFiniteCoupling { u, v, value });
            }
        }
        Ok(QpProblem { lin, quad })
    }

    /// The active couplers `(u, v)` of a decoded `lin`, in `quad` order.
    pub fn active_couplers(&self, lin: &[f64]) -> Vec<(u32, u32)> {
        self.positions
            .iter()
            .zip(&self.position_coupler)
            .filter(|((a, b), _)| {
                lin.get(*a).is_some_and(|x| !x.is_nan()) && lin.get(*b).is_some_and(|x| !x.is_nan())
            })
            .map(|(_, &k)| self.couplers[k])
            .collect()
    }
}

/// Decodes base64 `lin`/`quad` against the solver's working graph ([`QpGraph::decode_problem`]) into the
/// biases of the active qubits and the couplings of the active couplers.
pub fn decode_ising(
    solver_qubits: &[u32],
    solver_couplers: &[(u32, u32)],
    lin_b64: &str,
    quad_b64: &str,
) -> Result<IsingProblem, QpError> {
    let graph = QpGraph::new(solver_qubits, solver_couplers);
    let p = graph.decode_problem(lin_b64, quad_b64)?;
    let h = solver_qubits
        .iter()
        .zip(&p.lin)
        .filter(|(_, b)| !b.is_nan())
        .map(|(&q, &b)| (q, b))
        .collect();
    let j = graph
        .active_couplers(&p.lin)
        .into_iter()
        .zip(p.quad)
        .collect();
    Ok(IsingProblem { h, j })
}

// ---------------------------------------------------------------------------------------------------
// Answers

/// Bit-packed solution rows, MSB first, `row_bytes = ceil(num_active / 8)` bytes per row.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PackedSolutions {
    /// Number of active variables (bits used per row).
    pub num_active: usize,
    /// Number of rows.
    pub rows: usize,
    /// `rows * row_bytes` bytes.
    pub bytes: Vec<u8>,
}

impl PackedSolutions {
    /// Bytes per row: `ceil(num_active / 8)`.
    pub fn row_bytes(&self) -> usize {
        self.num_active.div_ceil(8)
    }

    /// An empty set of rows over `num_active` variables (append with [`PackedSolutions::push_spins`]).
    pub fn new(num_active: usize) -> Self {
        PackedSolutions {
            num_active,
            rows: 0,
            bytes: Vec::new(),
        }
    }

    /// Appends one row from an iterator of spins (`+1` → bit 1, else bit 0); missing trailing spins are −1,
    /// surplus ones are ignored.
    pub fn push_spins(&mut self, spins: impl IntoIterator<Item = i8>) {
        let rb = self.row_bytes();
        let start = self.bytes.len();
        self.bytes.resize(start + rb, 0);
        if let Some(out) = self.bytes.get_mut(start..) {
            for (i, s) in spins.into_iter().take(self.num_active).enumerate() {
                if s > 0 {
                    if let Some(b) = out.get_mut(i / 8) {
                        *b |= 0x80 >> (i % 8);
                    }
                }
            }
        }
        self.rows += 1;
    }

    /// Packs rows of spins (`+1` → bit 1, anything else → bit 0). Every row must have `num_active` spins.
    pub fn from_spin_rows(num_active: usize, rows: &[Vec<i8>]) -> Result<Self, QpError> {
        let rb = num_active.div_ceil(8);
        let mut bytes = vec![0u8; rb * rows.len()];
        for (r, row) in rows.iter().enumerate() {
            if row.len() != num_active {
                return Err(QpError::Count {
                    field: "solutions",
                    expected: num_active,
                    found: row.len(),
                    hint: "every solution row has one spin per active variable",
                });
            }
            let out = &mut bytes[r * rb..(r + 1) * rb];
            for (i, &s) in row.iter().enumerate() {
                if s > 0 {
                    out[i / 8] |= 0x80 >> (i % 8);
                }
            }
        }
        Ok(PackedSolutions {
            num_active,
            rows: rows.len(),
            bytes,
        })
    }

    /// The spin (+1 / −1) of active variable `i` in row `r`; `None` out of range.
    pub fn spin(&self, r: usize, i: usize) -> Option<i8> {
        if r >= self.rows || i >= self.num_active {
            return None;
        }
        let b = self.bytes.get(r * self.row_bytes() + i / 8)?;
        Some(if b & (0x80 >> (i % 8)) != 0 { 1 } else { -1 })
    }

    /// One row's bytes.
    pub fn row(&self, r: usize) -> Option<&[u8]> {
        let rb = self.row_bytes();
        self.bytes.get(r * rb..(r + 1) * rb)
    }

    /// Unpacks every row into spins over the active variables (allocates `rows * num_active` bytes).
    pub fn to_spin_rows(&self) -> Vec<Vec<i8>> {
        (0..self.rows)
            .map(|r| {
                (0..self.num_active)
                    .map(|i| self.spin(r, i).unwrap_or(-1))
                    .collect()
            })
            .collect()
    }
}

/// A decoded `qp` answer (§4.4). `energies` exclude any client-side offset.
#[derive(Clone, Debug, PartialEq)]
pub struct QpAnswer {
    /// Solver `num_qubits` (length of full sample vectors).
    pub num_variables: u32,
    /// Active qubits in answer order (ascending in practice).
    pub active_variables: Vec<u32>,
    /// One energy per row.
    pub energies: Vec<f64>,
    /// One count per row (all 1 when the answer had no `num_occurrences`, i.e. raw mode).
    pub num_occurrences: Vec<u32>,
    /// Whether `num_occurrences` was present in the answer (histogram mode).
    pub has_num_occurrences: bool,
    /// Bit-packed rows.
    pub solutions: PackedSolutions,
    /// Timing fields in µs, passed through.
    pub timing: Map<String, Value>,
    /// Always `"qp"`.
    pub format: String,
}

impl QpAnswer {
    /// Builds an answer from rows of spins over `active_variables` (server direction).
    pub fn from_spin_rows(
        num_variables: u32,
        active_variables: Vec<u32>,
        rows: &[Vec<i8>],
        energies: Vec<f64>,
        num_occurrences: Option<Vec<u32>>,
        timing: Map<String, Value>,
    ) -> Result<Self, QpError> {
        let solutions = PackedSolutions::from_spin_rows(active_variables.len(), rows)?;
        let ans = QpAnswer {
            num_variables,
            has_num_occurrences: num_occurrences.is_some(),
            num_occurrences: num_occurrences.unwrap_or_else(|| vec![1; rows.len()]),
            active_variables,
            energies,
            solutions,
            timing,
            format: "qp".into(),
        };
        ans.validate()?;
        Ok(ans)
    }

    /// Checks lengths and ranges; [`decode_answer`] and [`QpAnswer::from_spin_rows`] call it.
    pub fn validate(&self) -> Result<(), QpError> {
        let rows = self.solutions.rows;
        if self.energies.len() != rows {
            return Err(QpError::Count {
                field: "energies",
                expected: rows,
                found: self.energies.len(),
                hint: "one energy per solution row",
            });
        }
        if self.num_occurrences.len() != rows {
            return Err(QpError::Count {
                field: "num_occurrences",
                expected: rows,
                found: self.num_occurrences.len(),
                hint: "one count per solution row",
            });
        }
        if self.solutions.num_active != self.active_variables.len() {
            return Err(QpError::Count {
                field: "active_variables",
                expected: self.solutions.num_active,
                found: self.active_variables.len(),
                hint: "solutions rows have one bit per active variable",
            });
        }
        if let Some(&q) = self
            .active_variables
            .iter()
            .find(|&&q| q >= self.num_variables)
        {
            return Err(QpError::ActiveOutOfRange {
                qubit: q,
                num_variables: self.num_variables,
            });
        }
        Ok(())
    }

    /// Full spin vectors of length `num_variables` (0 at inactive qubits, as the NumPy decoder does).
    pub fn full_samples(&self) -> Vec<Vec<i8>> {
        (0..self.solutions.rows)
            .map(|r| {
                let mut v = vec![0i8; self.num_variables as usize];
                for (i, &q) in self.active_variables.iter().enumerate() {
                    if let (Some(slot), Some(s)) =
                        (v.get_mut(q as usize), self.solutions.spin(r, i))
                    {
                        *slot = s;
                    }
                }
                v
            })
            .collect()
    }

    /// Total number of reads (sum of `num_occurrences`).
    pub fn total_reads(&self) -> u64 {
        self.num_occurrences.iter().map(|&c| u64::from(c)).sum()
    }
}

/// The `answer` object exactly as SAPI sends it (§4.4; field set of the S02 capture). `num_occurrences` is
/// omitted when the answer is in raw mode (`has_num_occurrences == false`).
pub fn encode_answer(a: &QpAnswer) -> Value {
    let mut m = Map::new();
    m.insert("format".into(), Value::from("qp"));
    m.insert("num_variables".into(), Value::from(a.num_variables));
    m.insert(
        "active_variables".into(),
        Value::from(encode_u32_as_i32_le(&a.active_variables)),
    );
    m.insert("energies".into(), Value::from(encode_f64_le(&a.energies)));
    m.insert(
        "solutions".into(),
        Value::from(B64.encode(&a.solutions.bytes)),
    );
    m.insert("timing".into(), Value::Object(a.timing.clone()));
    if a.has_num_occurrences {
        m.insert(
            "num_occurrences".into(),
            Value::from(encode_u32_as_i32_le(&a.num_occurrences)),
        );
    }
    Value::Object(m)
}

fn str_field<'a>(m: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, QpError> {
    m.get(field).and_then(Value::as_str).ok_or(QpError::Field {
        field,
        expected: "a base64 string",
    })
}

/// Header of an answer: everything except the solution bits, plus the raw solution bytes. Shared by
/// [`decode_answer`] and the counting fast path so neither builds per-read vectors.
pub(crate) struct AnswerParts {
    pub num_variables: u32,
    pub active_variables: Vec<u32>,
    pub energies: Vec<f64>,
    pub num_occurrences: Option<Vec<u32>>,
    pub solution_bytes: Vec<u8>,
    pub timing: Map<String, Value>,
}

pub(crate) fn answer_parts(v: &Value) -> Result<AnswerParts, QpError> {
    let m = v.as_object().ok_or(QpError::Field {
        field: "answer",
        expected: "a JSON object",
    })?;
    let format = m
        .get("format")
        .and_then(Value::as_str)
        .ok_or(QpError::Field {
            field: "format",
            expected: "a string",
        })?;
    if format != "qp" {
        return Err(QpError::Format(format.to_string()));
    }
    let num_variables = m
        .get("num_variables")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(QpError::Field {
            field: "num_variables",
            expected: "a non-negative integer",
        })?;
    let active_variables = decode_u32_field(str_field(m, "active_variables")?, "active_variables")?;
    let energies = decode_f64_field(str_field(m, "energies")?, "energies")?;
    let num_occurrences = match m.get("num_occurrences") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(decode_u32_field(s, "num_occurrences")?),
        Some(_) => {
            return Err(QpError::Field {
                field: "num_occurrences",
                expected: "a base64 string",
            })
        }
    };
    let solution_bytes = decode_b64(str_field(m, "solutions")?, "solutions")?;
    let timing = match m.get("timing") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(t)) => t.clone(),
        Some(_) => {
            return Err(QpError::Field {
                field: "timing",
                expected: "a JSON object",
            })
        }
    };
    let rows = energies.len();
    let rb = active_variables.len().div_ceil(8);
    if solution_bytes.len() != rows * rb {
        return Err(QpError::Count {
            field: "solutions",
            expected: rows * rb,
            found: solution_bytes.len(),
            hint: "solutions must hold ceil(len(active_variables)/8) bytes per energy row",
        });
    }
    if let Some(&q) = active_variables.iter().find(|&&q| q >= num_variables) {
        return Err(QpError::ActiveOutOfRange {
            qubit: q,
            num_variables,
        });
    }
    if let Some(occ) = &num_occurrences {
        if occ.len() != rows {
            return Err(QpError::Count {
                field: "num_occurrences",
                expected: rows,
                found: occ.len(),
                hint: "one count per solution row",
            });
        }
    }
    Ok(AnswerParts {
        num_variables,
        active_variables,
        energies,
        num_occurrences,
        solution_bytes,
        timing,
    })
}

/// Decodes a SAPI `answer` object (§4.4) with exact length checks.
pub fn decode_answer(v: &Value) -> Result<QpAnswer, QpError> {
    let p = answer_parts(v)?;
    let rows = p.energies.len();
    let ans = QpAnswer {
        num_variables: p.num_variables,
        has_num_occurrences: p.num_occurrences.is_some(),
        num_occurrences: p.num_occurrences.unwrap_or_else(|| vec![1; rows]),
        solutions: PackedSolutions {
            num_active: p.active_variables.len(),
            rows,
            bytes: p.solution_bytes,
        },
        active_variables: p.active_variables,
        energies: p.energies,
        timing: p.timing,
        format: "qp".into(),
    };
    ans.validate()?;
    Ok(ans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_graph() -> (Vec<u32>, Vec<(u32, u32)>) {
        let q = vec![0, 1, 2, 3, 4, 5, 7];
        let c = vec![
            (0, 4),
            (0, 5),
            (0, 7),
            (1, 4),
            (1, 5),
            (1, 7),
            (2, 4),
            (2, 5),
            (2, 7),
            (3, 4),
            (3, 5),
            (3, 7),
        ];
        (q, c)
    }

    #[test]
    fn worked_example_problem_matches_official_encoder() {
        let (q, c) = mock_graph();
        let h = BTreeMap::from([(0, -1.0), (4, 0.5), (7, 0.0)]);
        let j = BTreeMap::from([((0, 4), -1.0), ((7, 0), 0.25)]);
        let p = encode_ising(&q, &c, &h, &j).unwrap();
        assert_eq!(
            p.lin_b64(),
            "AAAAAAAA8L8AAAAAAAD4fwAAAAAAAPh/AAAAAAAA+H8AAAAAAADgPwAAAAAAAPh/AAAAAAAAAAA="
        );
        assert_eq!(p.quad_b64(), "AAAAAAAA8L8AAAAAAADQPw==");
        let back = decode_ising(&q, &c, &p.lin_b64(), &p.quad_b64()).unwrap();
        assert_eq!(back.h, h);
        assert_eq!(back.j, BTreeMap::from([((0, 4), -1.0), ((0, 7), 0.25)]));
    }

    #[test]
    fn worked_example_answer_decodes() {
        let v: Value = serde_json::from_str(
            r#"{"format":"qp","num_variables":8,"active_variables":"AAAAAAQAAAAHAAAA",
            "energies":"AAAAAAAA/L8AAAAAAADovwAAAAAAANC/","num_occurrences":"BgAAAAMAAAABAAAA",
            "solutions":"wCCg","timing":{"qpu_access_time":15945.48,"qpu_sampling_time":872.6}}"#,
        )
        .unwrap();
        let a = decode_answer(&v).unwrap();
        assert_eq!(a.active_variables, vec![0, 4, 7]);
        assert_eq!(a.energies, vec![-1.75, -0.75, -0.25]);
        assert_eq!(a.num_occurrences, vec![6, 3, 1]);
        assert_eq!(a.full_samples()[0], vec![1, 0, 0, 0, 1, 0, 0, -1]);
        assert_eq!(a.full_samples()[1], vec![-1, 0, 0, 0, -1, 0, 0, 1]);
        assert_eq!(a.full_samples()[2], vec![1, 0, 0, 0, -1, 0, 0, 1]);
        // Re-encoding gives the same fields.
        assert_eq!(encode_answer(&a), v);
    }

    #[test]
    fn bad_inputs_give_errors() {
        assert!(matches!(decode_f64_le("!!"), Err(QpError::Base64 { .. })));
        assert!(matches!(
            decode_f64_le("AAAA"),
            Err(QpError::Length {
                len: 3,
                width: 8,
                ..
            })
        ));
        assert_eq!(decode_f64_le("").unwrap(), Vec::<f64>::new());
        let (q, c) = mock_graph();
        let h = BTreeMap::from([(6, 1.0)]);
        assert_eq!(
            encode_ising(&q, &c, &h, &BTreeMap::new()),
            Err(QpError::UnknownQubit { qubit: 6 })
        );
        let j = BTreeMap::from([((0, 1), 1.0)]);
        assert_eq!(
            encode_ising(&q, &c, &BTreeMap::new(), &j),
            Err(QpError::NotACoupler { u: 0, v: 1 })
        );
        // lin of the wrong length
        assert!(matches!(
            decode_ising(&q, &c, &encode_f64_le(&[0.0]), ""),
            Err(QpError::Count { field: "lin", .. })
        ));
        // surplus solution bytes (the official mock's lenient packing) are rejected
        let v = serde_json::json!({"format":"qp","num_variables":8,"active_variables":encode_i32_le(&[0,4]),
            "energies":encode_f64_le(&[-1.0]),"solutions":"wAAAAA=="});
        assert!(matches!(
            decode_answer(&v),
            Err(QpError::Count {
                field: "solutions",
                ..
            })
        ));
    }

    #[test]
    fn pack_unpack_roundtrip_17_vars() {
        let rows: Vec<Vec<i8>> = (0..5)
            .map(|r| {
                (0..17)
                    .map(|i| if (r * 7 + i * 3) % 5 < 2 { 1 } else { -1 })
                    .collect()
            })
            .collect();
        let p = PackedSolutions::from_spin_rows(17, &rows).unwrap();
        assert_eq!(p.row_bytes(), 3);
        assert_eq!(p.bytes.len(), 15);
        assert_eq!(p.to_spin_rows(), rows);
        let mut q = PackedSolutions::new(17);
        for r in &rows {
            q.push_spins(r.iter().copied());
        }
        assert_eq!(q, p);
    }

    proptest::proptest! {
        #[test]
        fn problem_roundtrip(hs in proptest::collection::btree_map(0u32..8, -4.0f64..4.0, 0..6),
                             js in proptest::collection::vec((0usize..12, -2.0f64..2.0), 0..8)) {
            let (q, c) = mock_graph();
            let h: BTreeMap<u32, f64> = hs.into_iter().filter(|(k, _)| *k != 6).collect();
            let j: BTreeMap<(u32, u32), f64> = js.into_iter().map(|(i, v)| (c[i], v)).collect();
            let p = encode_ising(&q, &c, &h, &j).unwrap();
            let back = decode_ising(&q, &c, &p.lin_b64(), &p.quad_b64()).unwrap();
            for (k, v) in &h {
                proptest::prop_assert_eq!(back.h.get(k), Some(v));
            }
            for (k, v) in &j {
                proptest::prop_assert_eq!(back.j.get(k), Some(v));
            }
        }

        #[test]
        fn answer_roundtrip(n in 0usize..20, rows in 0usize..10, seed in 0u64..1000) {
            let spins: Vec<Vec<i8>> = (0..rows)
                .map(|r| (0..n).map(|i| if (seed as usize + r * 31 + i * 7) % 3 == 0 { 1 } else { -1 }).collect())
                .collect();
            let active: Vec<u32> = (0..n as u32).collect();
            let a = QpAnswer::from_spin_rows(n as u32, active, &spins, vec![-1.0; rows], Some(vec![2; rows]), Map::new()).unwrap();
            let b = decode_answer(&encode_answer(&a)).unwrap();
            proptest::prop_assert_eq!(b.solutions.to_spin_rows(), spins);
            proptest::prop_assert_eq!(b, a);
        }
    }
}
