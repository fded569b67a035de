//! Solver definitions as SAPI returns them (`docs/sapi-protocol.md` §3.1, §5).
//!
//! v3 records carry `identity: {name, version: {graph_id}}`; older records (such as the recorded files in
//! `data/solvers/`) carry `id: name`. Both are accepted. Only the fields qasa needs are typed; the full
//! record is kept in `raw`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a solver record could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SolverError {
    #[error("solver record has no identity.name or id; it is not a SAPI solver definition")]
    NoName,
    #[error("solver record '{name}': field {field} is malformed ({msg})")]
    Field {
        name: String,
        field: &'static str,
        msg: String,
    },
}

/// Graph family and size (`properties.topology`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolverTopology {
    #[serde(rename = "type")]
    pub kind: String,
    pub shape: Vec<u32>,
}

/// A solver definition (static and dynamic parts merged).
#[derive(Clone, Debug, PartialEq)]
pub struct SolverRecord {
    pub name: String,
    /// `identity.version.graph_id` (QPUs).
    pub graph_id: Option<String>,
    /// `ONLINE` / `OFFLINE` as sent.
    pub status: Option<String>,
    /// Average load (0..1).
    pub avg_load: Option<f64>,
    pub description: Option<String>,
    /// `properties.num_qubits` (all qubits, working or not).
    pub num_qubits: Option<u32>,
    /// Working qubits (`properties.qubits`): the `lin` order.
    pub qubits: Vec<u32>,
    /// Working couplers (`properties.couplers`): the `quad` order.
    pub couplers: Vec<(u32, u32)>,
    pub topology: Option<SolverTopology>,
    pub category: Option<String>,
    pub supported_problem_types: Vec<String>,
    /// The record as received.
    pub raw: Value,
}

fn field<T: for<'de> Deserialize<'de>>(
    props: &Value,
    key: &'static str,
    name: &str,
) -> Result<Option<T>, SolverError> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| SolverError::Field {
                name: name.to_string(),
                field: key,
                msg: e.to_string(),
            }),
    }
}

impl SolverRecord {
    /// Reads a solver definition object.
    pub fn from_json(v: &Value) -> Result<SolverRecord, SolverError> {
        let identity = v.get("identity");
        let name = identity
            .and_then(|i| i.get("name"))
            .or_else(|| v.get("id"))
            .and_then(Value::as_str)
            .ok_or(SolverError::NoName)?
            .to_string();
        let graph_id = identity
            .and_then(|i| i.get("version"))
            .and_then(|ver| ver.get("graph_id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let props = v.get("properties").cloned().unwrap_or(Value::Null);
        let couplers: Vec<[u32; 2]> = field(&props, "couplers", &name)?.unwrap_or_default();
        Ok(SolverRecord {
            graph_id,
            status: v.get("status").and_then(Value::as_str).map(str::to_string),
            avg_load: v.get("avg_load").and_then(Value::as_f64),
            description: v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            num_qubits: field(&props, "num_qubits", &name)?,
            qubits: field(&props, "qubits", &name)?.unwrap_or_default(),
            couplers: couplers.into_iter().map(|[a, b]| (a, b)).collect(),
            topology: field(&props, "topology", &name)?,
            category: field(&props, "category", &name)?,
            supported_problem_types: field(&props, "supported_problem_types", &name)?
                .unwrap_or_default(),
            raw: v.clone(),
            name,
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_and_legacy_records() {
        let v3 = serde_json::json!({"identity":{"name":"M","version":{"graph_id":"g1"}},
            "properties":{"num_qubits":8,"qubits":[0,1],"couplers":[[0,1]],"topology":{"type":"chimera","shape":[1,1,4]}}});
        let mut r = SolverRecord::from_json(&v3).unwrap();
        assert_eq!(r.couplers, vec![(0, 1)]);
        assert_eq!(
            r.identity_json(),
            serde_json::json!({"name":"M","version":{"graph_id":"g1"}})
        );
        assert!(!r.is_online());
        r.merge_dynamic(&serde_json::json!({"status":"online","avg_load":0.5}));
        assert!(r.is_online());
        let legacy =
            serde_json::json!({"id":"DW_2000Q_5","status":"ONLINE","properties":{"qubits":[1]}});
        assert_eq!(SolverRecord::from_json(&legacy).unwrap().name, "DW_2000Q_5");
        assert_eq!(
            SolverRecord::from_json(&serde_json::json!({})),
            Err(SolverError::NoName)
        );
        let bad = serde_json::json!({"id":"x","properties":{"couplers":[[1]]}});
        assert!(matches!(
            SolverRecord::from_json(&bad),
            Err(SolverError::Field {
                field: "couplers",
                ..
            })
        ));
    }
}
