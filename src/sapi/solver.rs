//! Solver definitions as SAPI returns them (`docs/sapi-protocol.md` §3.1, §5): the one record type the
//! client, the local server and the topology loader share.
//!
//! Two shapes exist and both load:
//! * v3 (SAPI today, `GET solvers/remote/`): `{"identity": {"name", "version": {"graph_id"}}, "status",
//!   "description", "avg_load", "properties"}`;
//! * v2 (older captures, such as D-Wave's recorded cassettes): `{"id": name, "status", "description",
//!   "avg_load", "properties"}`.
//!
//! The fields qasa uses are typed ([`SolverProperties`], [`ProblemTimingData`]); the record as received is
//! kept in [`SolverRecord::raw`] (serving it, `--json`), and [`SolverRecord`] serialises back to it. A field
//! of the wrong type is an error naming it (`properties.qubits[3]: invalid type …`); a field that is absent is
//! `None` (hybrid solvers have no `qubits`), and the users that need it (the topology loader, the server)
//! say so.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Why a solver record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    #[error("a solver record must be a JSON object, found {found}; is this a SAPI solver record?")]
    NotAnObject { found: &'static str },
    #[error("solver record has no identity.name or id; is this a SAPI solver record?")]
    NoName,
    #[error("solver record: {field}: {source}")]
    Field {
        /// Dot path of the field (`properties.couplers[2]`).
        field: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    File(#[from] crate::gzip::ReadError),
    #[error("{}: not valid JSON ({source}); expected a SAPI solver record or a list of them", path.display())]
    Json {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// A closed range `[min, max]` as SAPI writes it (a two-element array), e.g. `h_range`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "[T; 2]", into = "[T; 2]")]
pub struct Range<T: Copy> {
    pub min: T,
    pub max: T,
}

impl<T: Copy> From<[T; 2]> for Range<T> {
    fn from([min, max]: [T; 2]) -> Self {
        Range { min, max }
    }
}

impl<T: Copy> From<Range<T>> for [T; 2] {
    fn from(r: Range<T>) -> Self {
        [r.min, r.max]
    }
}

impl<T: Copy + PartialOrd> Range<T> {
    /// `min <= x <= max`.
    pub fn contains(&self, x: T) -> bool {
        self.min <= x && x <= self.max
    }
}

/// Graph family and size (`properties.topology`), e.g. `{"type": "pegasus", "shape": [16]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverTopology {
    #[serde(rename = "type")]
    pub kind: String,
    pub shape: Vec<u32>,
}

/// The timing model of a QPU (`properties.problem_timing_data`, version 1.0.x; docs/sapi-protocol.md §6.3).
/// All times in µs. Every field is optional: older records (2000Q) have no timing data at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProblemTimingData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Programming time of a typical problem, µs.
    #[serde(
        rename = "typical_programming_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub typical_programming_time_us: Option<f64>,
    /// Extra programming time of a reverse anneal with `reinitialize_state`, µs.
    #[serde(
        rename = "reverse_annealing_with_reinit_prog_time_delta",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ra_with_reinit_prog_delta_us: Option<f64>,
    /// Extra programming time of a reverse anneal without `reinitialize_state`, µs.
    #[serde(
        rename = "reverse_annealing_without_reinit_prog_time_delta",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ra_without_reinit_prog_delta_us: Option<f64>,
    /// Default `programming_thermalization`, µs.
    #[serde(
        rename = "default_programming_thermalization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_programming_thermalization_us: Option<f64>,
    /// Default `annealing_time`, µs.
    #[serde(
        rename = "default_annealing_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_annealing_time_us: Option<f64>,
    /// `pwl_log_log` or `pwl_linear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readout_time_model: Option<String>,
    /// Breakpoints: the first half qubit counts (or their log10), the second half times (or their log10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readout_time_model_parameters: Option<Vec<f64>>,
    /// Delay between reads, µs.
    #[serde(
        rename = "qpu_delay_time_per_sample",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub qpu_delay_time_per_sample_us: Option<f64>,
    /// Extra delay per read of a reverse anneal with `reinitialize_state`, µs.
    #[serde(
        rename = "reverse_annealing_with_reinit_delay_time_delta",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ra_with_reinit_delay_delta_us: Option<f64>,
    /// Extra delay per read of a reverse anneal without `reinitialize_state`, µs.
    #[serde(
        rename = "reverse_annealing_without_reinit_delay_time_delta",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ra_without_reinit_delay_delta_us: Option<f64>,
    /// Default `readout_thermalization`, µs.
    #[serde(
        rename = "default_readout_thermalization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_readout_thermalization_us: Option<f64>,
    /// Anneal time at which `reduce_intersample_correlation` reaches the top of its range, µs.
    #[serde(
        rename = "decorrelation_max_nominal_anneal_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub decorrelation_max_nominal_anneal_time_us: Option<f64>,
    /// Delay range of `reduce_intersample_correlation`, µs.
    #[serde(
        rename = "decorrelation_time_range",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub decorrelation_time_range_us: Option<Range<f64>>,
}

/// The typed part of `properties` (docs/sapi-protocol.md §5). Fields not listed stay in
/// [`SolverRecord::raw`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SolverProperties {
    /// All qubit indices of the chip, working or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_qubits: Option<u32>,
    /// Working qubits: the order of `lin` (§0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qubits: Option<Vec<u32>>,
    /// Working couplers `[u, v]`: the order of `quad` (§0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub couplers: Option<Vec<(u32, u32)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<SolverTopology>,
    /// `qpu`, `hybrid`, `software`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_problem_types: Vec<String>,
    /// Allowed h, in the solver's h units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h_range: Option<Range<f64>>,
    /// Allowed J, in the solver's J units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub j_range: Option<Range<f64>>,
    /// Allowed `num_reads` per problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_reads_range: Option<Range<u64>>,
    /// Allowed `annealing_time`, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annealing_time_range: Option<Range<f64>>,
    /// Allowed run duration of one problem, µs (the "QMI runtime limit", §6.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_run_duration_range: Option<Range<f64>>,
    /// Default `annealing_time`, µs.
    #[serde(
        rename = "default_annealing_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_annealing_time_us: Option<f64>,
    /// Default `programming_thermalization`, µs.
    #[serde(
        rename = "default_programming_thermalization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_programming_thermalization_us: Option<f64>,
    /// Default `readout_thermalization`, µs.
    #[serde(
        rename = "default_readout_thermalization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_readout_thermalization_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_timing_data: Option<ProblemTimingData>,
    /// Accepted problem parameters, name → description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, Value>>,
}

/// `identity` of a v3 record.
#[derive(Deserialize)]
struct Identity {
    name: Option<String>,
    #[serde(default)]
    version: Option<IdentityVersion>,
}

#[derive(Deserialize)]
struct IdentityVersion {
    graph_id: Option<String>,
}

/// The wire shape, v2 and v3 together.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    avg_load: Option<f64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    properties: Option<SolverProperties>,
}

/// A solver definition (static and dynamic parts merged).
#[derive(Clone, Debug, PartialEq)]
pub struct SolverRecord {
    /// `identity.name` (v3) or `id` (v2).
    pub name: String,
    /// `identity.version.graph_id` (QPUs; v2 records have none).
    pub graph_id: Option<String>,
    /// `ONLINE` / `OFFLINE` as sent.
    pub status: Option<String>,
    /// Average load, 0..1.
    pub avg_load: Option<f64>,
    pub description: Option<String>,
    /// The typed properties.
    pub properties: SolverProperties,
    /// The record as received, every field (typed above or not).
    pub raw: Value,
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl SolverRecord {
    /// Reads a solver definition object (v2 or v3), keeping it as [`SolverRecord::raw`].
    pub fn from_value(raw: Value) -> Result<SolverRecord, SolverError> {
        if !raw.is_object() {
            return Err(SolverError::NotAnObject {
                found: json_type(&raw),
            });
        }
        // Fast path without path tracking; on an error, decode again to learn which field failed.
        let wire = match Wire::deserialize(&raw) {
            Ok(w) => w,
            Err(plain) => {
                return Err(match serde_path_to_error::deserialize::<_, Wire>(&raw) {
                    Err(e) => SolverError::Field {
                        field: e.path().to_string(),
                        source: e.into_inner(),
                    },
                    Ok(_) => SolverError::Field {
                        field: ".".into(),
                        source: plain,
                    },
                })
            }
        };
        let (v3_name, graph_id) = match wire.identity {
            Some(i) => (i.name, i.version.and_then(|v| v.graph_id)),
            None => (None, None),
        };
        let name = v3_name.or(wire.id).ok_or(SolverError::NoName)?;
        Ok(SolverRecord {
            name,
            graph_id,
            status: wire.status,
            avg_load: wire.avg_load,
            description: wire.description,
            properties: wire.properties.unwrap_or_default(),
            raw,
        })
    }

    /// As [`SolverRecord::from_value`], from a borrowed value.
    pub fn from_json(v: &Value) -> Result<SolverRecord, SolverError> {
        Self::from_value(v.clone())
    }

    /// The records of a file (`.json` or gzip, [`crate::gzip`]): one record, or every record of a list
    /// (a saved `GET solvers/remote/`).
    pub fn read_file(path: &Path) -> Result<Vec<SolverRecord>, SolverError> {
        match read_json(path)? {
            Value::Array(list) => list.into_iter().map(Self::from_value).collect(),
            one => Ok(vec![Self::from_value(one)?]),
        }
    }

    /// Working qubits (`properties.qubits`, the `lin` order); empty for solvers without a graph.
    pub fn qubits(&self) -> &[u32] {
        self.properties.qubits.as_deref().unwrap_or_default()
    }

    /// Working couplers (`properties.couplers`, the `quad` order); empty for solvers without a graph.
    pub fn couplers(&self) -> &[(u32, u32)] {
        self.properties.couplers.as_deref().unwrap_or_default()
    }

    /// `properties.num_qubits`.
    pub fn num_qubits(&self) -> Option<u32> {
        self.properties.num_qubits
    }

    /// `properties.topology`.
    pub fn topology(&self) -> Option<&SolverTopology> {
        self.properties.topology.as_ref()
    }

    /// Allowed h (`properties.h_range`), in the solver's h units.
    pub fn h_range(&self) -> Option<Range<f64>> {
        self.properties.h_range
    }

    /// Allowed `num_reads` per problem (`properties.num_reads_range`).
    pub fn num_reads_range(&self) -> Option<Range<u64>> {
        self.properties.num_reads_range
    }

    /// Allowed `annealing_time` in µs (`properties.annealing_time_range`).
    pub fn annealing_time_range_us(&self) -> Option<Range<f64>> {
        self.properties.annealing_time_range
    }

    /// Allowed run duration of one problem in µs (`properties.problem_run_duration_range`).
    pub fn problem_run_duration_range_us(&self) -> Option<Range<f64>> {
        self.properties.problem_run_duration_range
    }

    /// The timing model (`properties.problem_timing_data`), absent on older records.
    pub fn problem_timing_data(&self) -> Option<&ProblemTimingData> {
        self.properties.problem_timing_data.as_ref()
    }

    /// Whether the solver is a QPU: category `qpu`, or no category but a working graph.
    pub fn is_qpu(&self) -> bool {
        match self.properties.category.as_deref() {
            Some(c) => c == "qpu",
            None => !self.qubits().is_empty(),
        }
    }

    /// Whether the solver reports `status` ONLINE (case-insensitive, as the official client compares).
    pub fn is_online(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("online"))
    }

    /// The `solver` object of a submitted problem: `{"name", "version": {"graph_id"}}` (§0.3).
    pub fn identity_json(&self) -> Value {
        match &self.graph_id {
            Some(g) => serde_json::json!({"name": self.name, "version": {"graph_id": g}}),
            None => serde_json::json!({"name": self.name}),
        }
    }

    /// Overlays the dynamic view (`status`, `avg_load`) on a static record (§3.1 "merged client-side").
    pub fn merge_dynamic(&mut self, dynamic: &Value) {
        if let Some(s) = dynamic.get("status").and_then(Value::as_str) {
            self.status = Some(s.to_string());
        }
        if let Some(l) = dynamic.get("avg_load").and_then(Value::as_f64) {
            self.avg_load = Some(l);
        }
        if let Value::Object(m) = &mut self.raw {
            for k in ["status", "avg_load"] {
                if let Some(v) = dynamic.get(k) {
                    m.insert(k.to_string(), v.clone());
                }
            }
        }
    }

    /// The name a record value carries (`identity.name` or `id`), without reading the rest.
    pub fn name_of(v: &Value) -> Option<&str> {
        v.get("identity")
            .and_then(|i| i.get("name"))
            .or_else(|| v.get("id"))
            .and_then(Value::as_str)
    }
}

/// The JSON of a solver record file, plain or gzip ([`crate::gzip`]): one record or a list, unread.
pub fn read_json(path: &Path) -> Result<Value, SolverError> {
    let bytes = crate::gzip::read(path)?;
    serde_json::from_slice(&bytes).map_err(|source| SolverError::Json {
        path: path.to_path_buf(),
        source,
    })
}

impl Serialize for SolverRecord {
    /// The record as received ([`SolverRecord::raw`], with merged dynamic fields).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SolverRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        SolverRecord::from_value(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v3_and_legacy_records() {
        let v3 = json!({"identity":{"name":"M","version":{"graph_id":"g1"}},
            "properties":{"num_qubits":8,"qubits":[0,1],"couplers":[[0,1]],"topology":{"type":"chimera","shape":[1,1,4]},
            "h_range":[-4.0,4.0],"num_reads_range":[1,10000],"annealing_time_range":[0.5,2000.0],
            "problem_run_duration_range":[0.0,1000000.0],"problem_timing_data":{"typical_programming_time":14072.88,
            "decorrelation_time_range":[500.0,10000.0]},"chip_id":"kept"}});
        let mut r = SolverRecord::from_json(&v3).unwrap();
        assert_eq!((r.name.as_str(), r.graph_id.as_deref()), ("M", Some("g1")));
        assert_eq!(r.couplers(), [(0, 1)]);
        assert_eq!(
            r.h_range(),
            Some(Range {
                min: -4.0,
                max: 4.0
            })
        );
        assert_eq!(r.num_reads_range(), Some(Range { min: 1, max: 10000 }));
        assert!(r.annealing_time_range_us().unwrap().contains(2000.0));
        assert_eq!(r.problem_run_duration_range_us().unwrap().max, 1e6);
        let t = r.problem_timing_data().unwrap();
        assert_eq!(t.typical_programming_time_us, Some(14072.88));
        assert_eq!(t.decorrelation_time_range_us.unwrap().min, 500.0);
        assert_eq!(t.qpu_delay_time_per_sample_us, None);
        assert_eq!(
            r.identity_json(),
            json!({"name":"M","version":{"graph_id":"g1"}})
        );
        assert!(!r.is_online() && r.is_qpu());
        r.merge_dynamic(&json!({"status":"online","avg_load":0.5}));
        assert!(r.is_online());
        // Serialises back to the record as received (untyped fields kept), with the dynamic fields merged.
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["properties"]["chip_id"], "kept");
        assert_eq!(back["status"], "online");
        let again: SolverRecord = serde_json::from_value(back).unwrap();
        assert_eq!(again, r);

        let legacy = json!({"id":"DW_2000Q_5","status":"ONLINE","properties":{"qubits":[1]}});
        let l = SolverRecord::from_json(&legacy).unwrap();
        assert_eq!(
            (l.name.as_str(), l.graph_id.as_deref()),
            ("DW_2000Q_5", None)
        );
        assert_eq!(SolverRecord::name_of(&legacy), Some("DW_2000Q_5"));
        assert_eq!(SolverRecord::name_of(&v3), Some("M"));
        let hybrid = json!({"id":"hybrid_v1","properties":{"category":"hybrid"}});
        let h = SolverRecord::from_json(&hybrid).unwrap();
        assert!(h.qubits().is_empty() && !h.is_qpu());
    }

    #[test]
    fn bad_records_name_the_field() {
        assert!(matches!(
            SolverRecord::from_json(&json!({})),
            Err(SolverError::NoName)
        ));
        assert!(matches!(
            SolverRecord::from_json(&json!([1])),
            Err(SolverError::NotAnObject { found: "an array" })
        ));
        let cases = [
            (
                json!({"id":"x","properties":{"couplers":[[1]]}}),
                "properties.couplers[0]",
            ),
            (
                json!({"id":"x","properties":{"qubits":[0, -1]}}),
                "properties.qubits[1]",
            ),
            (
                json!({"id":"x","properties":{"h_range":[1]}}),
                "properties.h_range",
            ),
            (
                json!({"id":"x","properties":{"problem_timing_data":{"typical_programming_time":"slow"}}}),
                "properties.problem_timing_data.typical_programming_time",
            ),
            (json!({"identity":{"name":7}}), "identity.name"),
        ];
        for (v, field) in cases {
            let e = SolverRecord::from_json(&v).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("solver record: {field}: ")),
                "{v}: {msg}"
            );
            assert!(std::error::Error::source(&e).is_some());
        }
    }
}
