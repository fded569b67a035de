//! Raw samples from Ocean: dimod `SampleSet.to_serializable()` JSON, read into a sweep with counts and,
//! given a hardware graph, pair counts on its couplers (docs/physics.md §5).
//!
//! Two shapes of file:
//! * one sample set (`{"type": "SampleSet", ...}`): one field h for every variable, taken from the energies
//!   (`E = h Σ s` for a J = 0 problem with a uniform h); every row with `Σ s ≠ 0` must give the same h;
//! * a list `[{"h": H, "sampleset": {...}}, ...]`, one entry per call, the same uniform H on every variable,
//!   as Ocean users record single-qubit sweeps. Entries with the same H are added up; when every H has the
//!   same number k ≥ 2 of entries, entry i of each H becomes per-call block i (for the block bootstrap).
//!
//! Encodings handled (dimod sampleset schema 3.x): packed samples (`sample_packed`, the default: one
//! `uint32` word per 32 variables, bit j of word w = variable 32w + j, set for s = +1 / x = 1) and unpacked
//! ones (`-1/+1` for SPIN, `0/1` for BINARY); `num_occurrences` (absent: one read per row); integer labels
//! and strings holding an integer (`"30"`). Anything else (other labels, DISCRETE variables, `use_bytes`
//! data, other schema versions) is rejected with the reason. Samples are in the variables' own frame, which
//! is the physical frame only if no spin-reversal transform was applied: gauges are unknown
//! (`meta.gauges` absent), so the fit's odd-symmetry check warns when data look gauge-averaged (§3.4).
//!
//! Counting is column-wise over bit sets: per variable one bit per row (set = s = −1, "down"); the weights
//! are split into binary planes so that `down = Σ_b 2^b popcount(P_b ∧ col)` and the disagreeing reads of a
//! coupler are `Σ_b 2^b popcount(P_b ∧ (col_u ⊕ col_v))`. Files are parsed in one streaming pass; each
//! sample set is reduced to its bit columns as soon as it is read.

use super::{CountMatrix, CouplerAgreement, Sweep, SweepError, SweepMeta, SweepSource};
use crate::topology::WorkingGraph;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// Reads a dimod JSON document (one sample set or a list of `{h, sampleset}`); `graph` gives the couplers
/// on which pair counts are kept (none without it).
pub fn from_slice(
    bytes: &[u8],
    path: &Path,
    graph: Option<&WorkingGraph>,
) -> Result<Sweep, SweepError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let calls = de.deserialize_any(FileVisitor).map_err(|e| {
        SweepError::invalid(path, format!("cannot read this dimod sample set file: {e}"))
    })?;
    de.end().map_err(|e| {
        SweepError::invalid(path, format!("trailing data after the JSON document: {e}"))
    })?;
    let sweep = build(calls, graph).map_err(|r| SweepError::invalid(path, r))?;
    super::check::check(&sweep).map_err(|source| SweepError::Check {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(sweep)
}

/// The top-level `"type"` of a JSON object, found without building the document (`None` if absent or
/// not a string). A document cut short after its `"type"` still tells, so that a truncated sample set file
/// is reported as one.
pub fn top_level_type(bytes: &[u8]) -> Option<String> {
    struct V<'a>(&'a std::cell::RefCell<Option<String>>);
    impl<'de> Visitor<'de> for V<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "type" && self.0.borrow().is_none() {
                    let v = map.next_value::<serde_json::Value>()?;
                    *self.0.borrow_mut() = v.as_str().map(str::to_string);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    let found = std::cell::RefCell::new(None);
    let _ = serde_json::Deserializer::from_slice(bytes).deserialize_map(V(&found));
    found.into_inner()
}

/// One sample set reduced to bit columns.
struct Call {
    /// Field of the call, if the file says (list form) or the energies tell.
    h: f64,
    labels: Vec<u32>,
    /// `words` u64 per variable: bit r set when row r reads s = −1.
    cols: Vec<u64>,
    words: usize,
    /// Weight planes: plane b has bit r set when bit b of row r's weight is set.
    planes: Vec<Vec<u64>>,
    /// Total reads (Σ weights).
    reads: u64,
}

impl Call {
    fn col(&self, i: usize) -> &[u64] {
        &self.cols[i * self.words..(i + 1) * self.words]
    }
    fn weighted(&self, f: impl Fn(usize) -> u64) -> u64 {
        self.planes
            .iter()
            .enumerate()
            .map(|(b, plane)| {
                let c: u64 = (0..self.words)
                    .map(|w| (plane[w] & f(w)).count_ones() as u64)
                    .sum();
                c << b
            })
            .sum()
    }
    fn down(&self, i: usize) -> u64 {
        let col = self.col(i);
        self.weighted(|w| col[w])
    }
    fn disagree(&self, i: usize, j: usize) -> u64 {
        let (a, b) = (self.col(i), self.col(j));
        self.weighted(|w| a[w] ^ b[w])
    }
}

// ------------------------------------------------------------------------------------------------
// Streaming parse

/// Numbers of a (nested) JSON array, flattened; narrow storage until a wide value appears.
#[derive(Default)]
enum Ints {
    #[default]
    Empty,
    Small(Vec<i8>),
    Wide(Vec<i64>),
    /// `use_bytes` data (a string): not representable in JSON.
    Bytes,
}

impl Ints {
    fn push(&mut self, v: i64) {
        match self {
            Ints::Empty => *self = Ints::Small(Vec::new()),
            Ints::Bytes => return,
            _ => {}
        }
        match self {
            Ints::Small(s) => match i8::try_from(v) {
                Ok(x) => s.push(x),
                Err(_) => {
                    let mut w: Vec<i64> = s.iter().map(|&x| i64::from(x)).collect();
                    w.push(v);
                    *self = Ints::Wide(w);
                }
            },
            Ints::Wide(w) => w.push(v),
            _ => {}
        }
    }
    fn len(&self) -> usize {
        match self {
            Ints::Small(s) => s.len(),
            Ints::Wide(w) => w.len(),
            _ => 0,
        }
    }
    fn get(&self, i: usize) -> i64 {
        match self {
            Ints::Small(s) => s.get(i).map_or(0, |&x| i64::from(x)),
            Ints::Wide(w) => w.get(i).copied().unwrap_or(0),
            _ => 0,
        }
    }
}

/// A sink for flattened numbers.
trait Sink {
    fn int(&mut self, v: i64) -> Result<(), String>;
    fn float(&mut self, v: f64) -> Result<(), String>;
    fn string(&mut self) -> Result<(), String>;
}

impl Sink for Ints {
    fn int(&mut self, v: i64) -> Result<(), String> {
        self.push(v);
        Ok(())
    }
    fn float(&mut self, v: f64) -> Result<(), String> {
        if v.fract() == 0.0 && v.abs() < 9e15 {
            self.push(v as i64);
            Ok(())
        } else {
            Err(format!("expected integers in the sample data, found {v}"))
        }
    }
    fn string(&mut self) -> Result<(), String> {
        *self = Ints::Bytes;
        Ok(())
    }
}

impl Sink for Vec<f64> {
    fn int(&mut self, v: i64) -> Result<(), String> {
        self.push(v as f64);
        Ok(())
    }
    fn float(&mut self, v: f64) -> Result<(), String> {
        self.push(v);
        Ok(())
    }
    fn string(&mut self) -> Result<(), String> {
        Err("array data given as bytes (use_bytes=True) cannot be read from JSON".into())
    }
}

struct Flat<'a, S>(&'a mut S);

impl<'de, S: Sink> DeserializeSeed<'de> for Flat<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Flat<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or a (nested) array of numbers")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.int(v).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let v = i64::try_from(v).map_err(|_| E::custom(format!("number {v} is too large")))?;
        self.0.int(v).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.float(v).map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.string().map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Flat(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// `{"type": "array", "data": ..., "data_type": ..., "shape": [...], "use_bytes": false}`.
struct Array<S> {
    data: S,
    data_type: String,
    shape: Vec<usize>,
    use_bytes: bool,
}

impl<'de, S: Sink + Default> Deserialize<'de> for Array<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Sink + Default> Visitor<'de> for V<S> {
            type Value = Array<S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a serialized array {type, data, data_type, shape, use_bytes}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Array<S>, A::Error> {
                let mut out = Array {
                    data: S::default(),
                    data_type: String::new(),
                    shape: Vec::new(),
                    use_bytes: false,
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "data" => map.next_value_seed(Flat(&mut out.data))?,
                        "data_type" => out.data_type = map.next_value()?,
                        "shape" => out.shape = map.next_value()?,
                        "use_bytes" => out.use_bytes = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// The `vectors` object: only `energy` and `num_occurrences` are kept.
#[derive(Default)]
struct Vectors {
    energy: Option<Array<Vec<f64>>>,
    num_occurrences: Option<Array<Vec<f64>>>,
}

impl<'de> Deserialize<'de> for Vectors {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vectors;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the vectors object of a sample set")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vectors, A::Error> {
                let mut out = Vectors::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "energy" => out.energy = Some(map.next_value()?),
                        "num_occurrences" => out.num_occurrences = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct SchemaVersion {
    sampleset_schema: String,
}

/// The fields of `SampleSet.to_serializable()` qasa uses.
#[derive(Deserialize)]
struct RawSampleSet {
    #[serde(rename = "type")]
    kind: String,
    version: SchemaVersion,
    num_variables: usize,
    num_rows: usize,
    sample_data: Array<Ints>,
    #[serde(default)]
    sample_packed: Option<bool>,
    #[serde(default)]
    vectors: Vectors,
    variable_labels: Vec<serde_json::Value>,
    variable_type: String,
}

/// `{"h": H, "sampleset": {...}}`.
#[derive(Deserialize)]
struct Entry {
    h: f64,
    sampleset: RawSampleSet,
}

struct FileVisitor;

impl<'de> Visitor<'de> for FileVisitor {
    type Value = Vec<Call>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a dimod sample set object or a list of {\"h\": H, \"sampleset\": {...}}")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<Call>, A::Error> {
        let raw = RawSampleSet::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let call = reduce(raw, None).map_err(de::Error::custom)?;
        Ok(vec![call])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Call>, A::Error> {
        let mut calls = Vec::new();
        while let Some(e) = seq.next_element::<Entry>()? {
            let i = calls.len();
            let call = reduce(e.sampleset, Some(e.h))
                .map_err(|r| de::Error::custom(format!("entry {i}: {r}")))?;
            calls.push(call);
        }
        Ok(calls)
    }
}

// ------------------------------------------------------------------------------------------------
// One sample set → bit columns

fn label(v: &serde_json::Value) -> Result<u32, String> {
    let parsed = match v {
        serde_json::Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        serde_json::Value::String(s) => s.trim().parse::<u32>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "variable label {v} is not a qubit index; qasa reads samples whose variables are hardware \
             qubits labelled by integers (or strings holding one)"
        )
    })
}

fn check_header(raw: &RawSampleSet) -> Result<bool, String> {
    if raw.kind != "SampleSet" {
        return Err(format!(
            "\"type\" is {:?}, expected \"SampleSet\"",
            raw.kind
        ));
    }
    let major = raw.version.sampleset_schema.split('.').next().unwrap_or("");
    if major != "3" {
        return Err(format!(
            "sampleset_schema {:?} is not supported; qasa reads version 3.x (dimod 0.9 and later)",
            raw.version.sampleset_schema
        ));
    }
    let binary = match raw.variable_type.as_str() {
        "SPIN" => false,
        "BINARY" => true,
        other => {
            return Err(format!(
                "variable_type {other:?} is not supported; expected SPIN or BINARY samples"
            ))
        }
    };
    if raw.variable_labels.len() != raw.num_variables {
        return Err(format!(
            "{} variable labels for num_variables = {}",
            raw.variable_labels.len(),
            raw.num_variables
        ));
    }
    if raw.sample_data.use_bytes || matches!(raw.sample_data.data, Ints::Bytes) {
        return Err(
            "sample data written with use_bytes=True cannot be read from JSON; write the sample set with \
             to_serializable() defaults"
                .into(),
        );
    }
    Ok(binary)
}

/// Reduces a parsed sample set to bit columns; `h` from the list entry, else from the energies.
fn reduce(raw: RawSampleSet, h: Option<f64>) -> Result<Call, String> {
    let binary = check_header(&raw)?;
    let nv = raw.num_variables;
    let rows = raw.num_rows;
    let labels: Vec<u32> = raw
        .variable_labels
        .iter()
        .map(label)
        .collect::<Result<_, _>>()?;
    let packed = raw.sample_packed.unwrap_or(true);
    let width = if packed { nv.div_ceil(32) } else { nv };
    let shape_ok = raw.sample_data.shape.len() == 2
        && raw.sample_data.shape[0] == rows
        && (raw.sample_data.shape[1] == width || (packed && nv == 0));
    if !shape_ok || raw.sample_data.data.len() != rows * width {
        return Err(format!(
            "sample_data has shape {:?} and {} values; {rows} rows of {nv} variables {} need [{rows}, {width}]",
            raw.sample_data.shape,
            raw.sample_data.data.len(),
            if packed { "packed in uint32 words" } else { "unpacked" }
        ));
    }
    let weights: Vec<u64> = match &raw.vectors.num_occurrences {
        Some(a) if a.data.len() == rows => a
            .data
            .iter()
            .map(|&w| {
                (w >= 0.0 && w.fract() == 0.0 && w < 4.3e9)
                    .then_some(w as u64)
                    .ok_or_else(|| format!("num_occurrences {w} is not a count"))
            })
            .collect::<Result<_, _>>()?,
        Some(a) => {
            return Err(format!(
                "num_occurrences has {} values for {rows} rows",
                a.data.len()
            ))
        }
        None => vec![1; rows],
    };
    let words = rows.div_ceil(64).max(1);
    let mut cols = vec![0u64; nv * words];
    let mut row_down = vec![0usize; rows];
    let data = &raw.sample_data.data;
    for r in 0..rows {
        for j in 0..nv {
            let down = if packed {
                let word = data.get(r * width + j / 32) as u64;
                word >> (j % 32) & 1 == 0
            } else {
                match (binary, data.get(r * width + j)) {
                    (false, -1) | (true, 0) => true,
                    (false, 1) | (true, 1) => false,
                    (_, v) => {
                        return Err(format!(
                            "row {r}, variable {}: value {v} is not a {} value",
                            labels[j],
                            if binary {
                                "BINARY (0/1)"
                            } else {
                                "SPIN (-1/+1)"
                            }
                        ))
                    }
                }
            };
            if down {
                cols[j * words + r / 64] |= 1 << (r % 64);
                row_down[r] += 1;
            }
        }
    }
    let h = match h {
        Some(h) if h.is_finite() => h,
        Some(h) => return Err(format!("h = {h} is not a finite number")),
        None => field_from_energies(&raw.vectors.energy, &row_down, nv)?,
    };
    let max_w = weights.iter().copied().max().unwrap_or(0);
    let n_planes = (64 - max_w.leading_zeros()) as usize;
    let mut planes = vec![vec![0u64; words]; n_planes];
    for (r, &w) in weights.iter().enumerate() {
        for (b, plane) in planes.iter_mut().enumerate() {
            if w >> b & 1 == 1 {
                plane[r / 64] |= 1 << (r % 64);
            }
        }
    }
    Ok(Call {
        h,
        labels,
        cols,
        words,
        planes,
        reads: weights.iter().sum(),
    })
}

/// The uniform field from `E = h Σ s` (J = 0): every row with `Σ s ≠ 0` must agree.
fn field_from_energies(
    energy: &Option<Array<Vec<f64>>>,
    row_down: &[usize],
    nv: usize,
) -> Result<f64, String> {
    let missing =
        "cannot tell the field h of a single sample set without energies; write a list of \
                   {\"h\": H, \"sampleset\": ...} entries";
    let e = energy.as_ref().ok_or(missing)?;
    if e.data.len() != row_down.len() {
        return Err(format!(
            "{} energies for {} rows",
            e.data.len(),
            row_down.len()
        ));
    }
    let mut h: Option<f64> = None;
    for (r, (&en, &down)) in e.data.iter().zip(row_down).enumerate() {
        let sum = nv as f64 - 2.0 * down as f64;
        if sum == 0.0 {
            continue;
        }
        let hr = en / sum;
        match h {
            None => h = Some(hr),
            Some(h0) if (hr - h0).abs() > 1e-6 * h0.abs().max(1e-3) => {
                return Err(format!(
                    "the energies are not those of one uniform field h with J = 0 (row 0 gives h = {h0}, \
                     row {r} gives {hr}); write a list of {{\"h\": H, \"sampleset\": ...}} entries"
                ))
            }
            _ => {}
        }
    }
    h.ok_or_else(|| missing.to_string())
}

// ------------------------------------------------------------------------------------------------
// Calls → sweep

fn build(calls: Vec<Call>, graph: Option<&WorkingGraph>) -> Result<Sweep, String> {
    if calls.is_empty() {
        return Err("the file holds no sample sets".into());
    }
    let mut qubits: Vec<u32> = calls
        .iter()
        .flat_map(|c| c.labels.iter().copied())
        .collect();
    qubits.sort_unstable();
    qubits.dedup();
    for c in &calls {
        let mut l = c.labels.clone();
        l.sort_unstable();
        if let Some(w) = l.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("variable {} appears twice in one sample set", w[0]));
        }
    }
    let mut by_h: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let key = |h: f64| (if h == 0.0 { 0.0f64 } else { h }).to_bits();
    for (i, c) in calls.iter().enumerate() {
        by_h.entry(key(c.h)).or_default().push(i);
    }
    let mut groups: Vec<(f64, Vec<usize>)> = by_h
        .into_iter()
        .map(|(k, v)| (f64::from_bits(k), v))
        .collect();
    groups.sort_by(|a, b| a.0.total_cmp(&b.0));
    let h: Vec<f64> = groups.iter().map(|g| g.0).collect();
    let (n_h, n_q) = (h.len(), qubits.len());
    let col_of: HashMap<u32, usize> = qubits.iter().enumerate().map(|(i, &q)| (q, i)).collect();
    let n_blocks = groups.first().map_or(0, |g| g.1.len());
    let blocked = n_blocks >= 2 && groups.iter().all(|g| g.1.len() == n_blocks);
    let mut blocks = vec![CountMatrix::zeros(n_h, n_q); if blocked { n_blocks } else { 0 }];
    let mut counts = CountMatrix::zeros(n_h, n_q);
    let to32 =
        |x: u64| u32::try_from(x).map_err(|_| format!("more than 2^32 reads at one h ({x})"));
    for (ih, (_, members)) in groups.iter().enumerate() {
        for (k, &ci) in members.iter().enumerate() {
            let c = &calls[ci];
            for (j, q) in c.labels.iter().enumerate() {
                let at = ih * n_q + col_of[q];
                let (d, n) = (to32(c.down(j))?, to32(c.reads)?);
                counts.down[at] = counts.down[at].checked_add(d).ok_or("too many reads")?;
                counts.reads[at] = counts.reads[at].checked_add(n).ok_or("too many reads")?;
                if blocked {
                    blocks[k].down[at] = d;
                    blocks[k].reads[at] = n;
                }
            }
        }
    }
    let pairs = graph
        .map(|g| pair_counts(&calls, &groups, &qubits, g))
        .transpose()?
        .flatten();
    let mut meta = SweepMeta::new(SweepSource::Dimod);
    if let Some(g) = graph {
        meta.topology = Some(g.topology.into());
        meta.solver = g.solver_name.clone();
    }
    Ok(Sweep {
        meta,
        h,
        qubits,
        counts,
        blocks,
        pairs,
    })
}

fn pair_counts(
    calls: &[Call],
    groups: &[(f64, Vec<usize>)],
    qubits: &[u32],
    graph: &WorkingGraph,
) -> Result<Option<CouplerAgreement>, String> {
    let present: std::collections::HashSet<u32> = qubits.iter().copied().collect();
    let mut couplers: Vec<(u32, u32)> = graph
        .couplers
        .iter()
        .map(|&(u, v)| (u.min(v), u.max(v)))
        .filter(|(u, v)| u != v && present.contains(u) && present.contains(v))
        .collect();
    couplers.sort_unstable();
    couplers.dedup();
    if couplers.is_empty() {
        return Ok(None);
    }
    let nc = couplers.len();
    let mut agree = vec![0u32; groups.len() * nc];
    let mut reads = vec![0u32; groups.len() * nc];
    for (ih, (_, members)) in groups.iter().enumerate() {
        for &ci in members {
            let c = &calls[ci];
            let idx: HashMap<u32, usize> =
                c.labels.iter().enumerate().map(|(i, &q)| (q, i)).collect();
            for (k, (u, v)) in couplers.iter().enumerate() {
                if let (Some(&i), Some(&j)) = (idx.get(u), idx.get(v)) {
                    let n = c.reads;
                    let a = n - c.disagree(i, j);
                    let at = ih * nc + k;
                    agree[at] =
                        u32::try_from(u64::from(agree[at]) + a).map_err(|_| "too many reads")?;
                    reads[at] =
                        u32::try_from(u64::from(reads[at]) + n).map_err(|_| "too many reads")?;
                }
            }
        }
    }
    Ok(Some(CouplerAgreement {
        couplers,
        agree,
        reads,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Sweep, SweepError> {
        from_slice(text.as_bytes(), Path::new("t.json"), None)
    }

    /// Written by dimod 0.12: `SampleSet.from_samples([{0: 1, 5: -1}, {0: -1, 5: -1}], 'SPIN',
    /// energy=[0.1, 0.2], num_occurrences=[3, 4]).to_serializable()`, packed and unpacked.
    const PACKED: &str = r#"{"type": "SampleSet", "version": {"sampleset_schema": "3.2.0"}, "num_variables": 2, "num_rows": 2, "sample_data": {"type": "array", "data": [[1], [0]], "data_type": "uint32", "shape": [2, 1], "use_bytes": false}, "sample_type": "int8", "sample_packed": true, "vectors": {"energy": {"type": "array", "data": [0.0, -0.2], "data_type": "float64", "shape": [2], "use_bytes": false}, "num_occurrences": {"type": "array", "data": [3, 4], "data_type": "int64", "shape": [2], "use_bytes": false}}, "variable_labels": [0, 5], "variable_type": "SPIN", "info": {}}"#;

    #[test]
    fn packed_sampleset_with_occurrences() {
        let s = parse(PACKED).unwrap();
        assert_eq!(s.qubits, vec![0, 5]);
        assert_eq!(
            s.h,
            vec![0.1],
            "h from E = h Σs on row 1 (Σs = -2, E = -0.2)"
        );
        assert_eq!(s.counts.down, vec![4, 7]);
        assert_eq!(s.counts.reads, vec![7, 7]);
        assert_eq!(s.meta.gauges, None);
    }

    #[test]
    fn unpacked_binary_string_labels_in_a_list() {
        let doc = r#"[{"h": -0.5, "sampleset": {"type": "SampleSet", "version": {"sampleset_schema": "3.1.0"}, "num_variables": 2, "num_rows": 3, "sample_data": {"type": "array", "data": [[1, 0], [0, 0], [1, 1]], "data_type": "int8", "shape": [3, 2], "use_bytes": false}, "sample_type": "int8", "sample_packed": false, "vectors": {}, "variable_labels": ["30", "31"], "variable_type": "BINARY", "info": {}}}]"#;
        let s = parse(doc).unwrap();
        assert_eq!((s.qubits.clone(), s.h.clone()), (vec![30, 31], vec![-0.5]));
        assert_eq!(s.counts.down, vec![1, 2]);
        let g = WorkingGraph {
            topology: crate::topology::Topology::Chimera { m: 1, n: 1, t: 1 },
            qubits: vec![30, 31],
            couplers: vec![(30, 31)],
            solver_name: None,
        };
        let s = from_slice(doc.as_bytes(), Path::new("t.json"), Some(&g)).unwrap();
        let p = s.pairs.unwrap();
        assert_eq!((p.agree, p.reads), (vec![2], vec![3]));
    }

    #[test]
    fn bad_files_say_why() {
        let e = parse(r#"{"type": "BinaryQuadraticModel"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.json") && e.contains("missing field"), "{e}");
        let e = parse(&PACKED.replace("[0, 5]", "[\"a\", 5]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("variable label \"a\" is not a qubit index"),
            "{e}"
        );
        let e = parse(&PACKED.replace("3.2.0", "2.0.0"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sampleset_schema \"2.0.0\" is not supported"),
            "{e}"
        );
        let e = parse(&PACKED.replace("\"SPIN\"", "\"DISCRETE\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("DISCRETE"), "{e}");
        let e = parse(&PACKED.replace("[[1], [0]]", "[[1]]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sample_data has shape"), "{e}");
        // Row 0 all down (Σs = -2), row 1 all up (Σs = 2), both with E = -0.2: no single h fits.
        let e = parse(
            &PACKED
                .replace("[0.0, -0.2]", "[-0.2, -0.2]")
                .replace("[[1], [0]]", "[[0], [3]]"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not those of one uniform field"), "{e}");
        let e = parse(&PACKED.replace("\"energy\"", "\"other\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot tell the field h"), "{e}");
        let e = parse("[{\"h\": 0.1}]").unwrap_err().to_string();
        assert!(e.contains("missing field `sampleset`"), "{e}");
    }
}
