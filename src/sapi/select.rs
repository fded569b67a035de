//! Solver selection from the configured `solver` value (`docs/sapi-protocol.md` §7 "Solver string parsing",
//! §3.1 feature filters).
//!
//! * unset → the online QPU with the most working qubits (DWaveSampler orders by `-num_active_qubits`);
//! * a JSON object → a feature filter evaluated client-side over the solver list; supported keys:
//!   `name`/`name__eq`, `qpu`, `online`, `num_qubits[__gte|__lte|__gt|__lt]`,
//!   `num_active_qubits[__gte|__lte|__gt|__lt]`, `topology__type`; any other key is refused (rather than
//!   silently ignored);
//! * otherwise an identity string `name[;graph_id=…]` → that solver (graph id checked when given).

use super::error::{ErrorKind, SapiError};
use super::solver::SolverRecord;
use serde_json::Value;

/// How the configured solver value is to be interpreted.
#[derive(Clone, Debug, PartialEq)]
pub enum SolverSpec {
    /// No solver configured: best online QPU.
    Any,
    /// A feature filter (JSON object).
    Filter(serde_json::Map<String, Value>),
    /// A solver name, optionally pinned to a graph id.
    Name {
        name: String,
        graph_id: Option<String>,
    },
}

impl SolverSpec {
    /// Parses the configured value (§7): valid JSON object → filter; else identity string.
    pub fn parse(s: Option<&str>) -> SolverSpec {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return SolverSpec::Any;
        };
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(s) {
            return SolverSpec::Filter(m);
        }
        let mut parts = s.split(';');
        let name = parts.next().unwrap_or("").trim().to_string();
        let graph_id = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim() == "graph_id")
            .map(|(_, v)| v.trim().to_string());
        SolverSpec::Name { name, graph_id }
    }
}

fn cmp_num(actual: Option<f64>, op: &str, want: &Value, key: &str) -> Result<bool, SapiError> {
    let w = want.as_f64().ok_or_else(|| {
        SapiError::new(
            ErrorKind::Config,
            format!("solver filter {key}: expected a number, got {want}"),
        )
    })?;
    let Some(a) = actual else { return Ok(false) };
    Ok(match op {
        "" | "eq" => a == w,
        "gte" => a >= w,
        "lte" => a <= w,
        "gt" => a > w,
        "lt" => a < w,
        _ => {
            return Err(SapiError::new(
                ErrorKind::Config,
                format!("solver filter {key}: unsupported operator"),
            ))
        }
    })
}

fn matches(s: &SolverRecord, filter: &serde_json::Map<String, Value>) -> Result<bool, SapiError> {
    for (key, want) in filter {
        let (field, op) = key.split_once("__").unwrap_or((key.as_str(), ""));
        let ok = match field {
            "name" if op.is_empty() || op == "eq" => want.as_str() == Some(s.name.as_str()),
            "qpu" => want.as_bool() == Some(s.is_qpu()),
            "online" => want.as_bool() == Some(s.is_online()),
            "num_qubits" => cmp_num(s.num_qubits().map(f64::from), op, want, key)?,
            "num_active_qubits" => cmp_num(Some(s.qubits().len() as f64), op, want, key)?,
            "topology" if op == "type" => want.as_str() == s.topology().map(|t| t.kind.as_str()),
            _ => {
                return Err(SapiError::new(
                    ErrorKind::Config,
                    format!(
                    "solver filter key '{key}' is not supported by qasa; use a solver name instead"
                ),
                ))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Picks a solver from a list according to the spec (online solvers only, most working qubits first).
pub fn select(list: &[SolverRecord], spec: &SolverSpec) -> Result<SolverRecord, SapiError> {
    let mut candidates: Vec<&SolverRecord> = match spec {
        SolverSpec::Any => list
            .iter()
            .filter(|s| s.is_online() && s.is_qpu())
            .collect(),
        SolverSpec::Filter(f) => {
            let mut out = Vec::new();
            for s in list.iter().filter(|s| s.is_online()) {
                if matches(s, f)? {
                    out.push(s);
                }
            }
            out
        }
        SolverSpec::Name { name, graph_id } => list
            .iter()
            .filter(|s| {
                &s.name == name
                    && graph_id
                        .as_ref()
                        .is_none_or(|g| s.graph_id.as_ref() == Some(g))
            })
            .collect(),
    };
    candidates.sort_by_key(|s| std::cmp::Reverse(s.qubits().len()));
    candidates.first().map(|s| (*s).clone()).ok_or_else(|| {
        let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
        SapiError::new(
            ErrorKind::NotFound,
            format!(
                "no online solver matches {spec:?}; available: {}",
                names.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, n: usize, status: &str, cat: &str, topo: &str) -> SolverRecord {
        SolverRecord::from_json(&serde_json::json!({
            "identity": {"name": name, "version": {"graph_id": format!("g-{name}")}},
            "status": status,
            "properties": {"num_qubits": n + 10, "qubits": (0..n as u32).collect::<Vec<_>>(), "couplers": [],
                           "category": cat, "topology": {"type": topo, "shape": [1]}}
        }))
        .unwrap()
    }

    #[test]
    fn parse_and_select() {
        let list = vec![
            rec("Small", 100, "ONLINE", "qpu", "zephyr"),
            rec("Big", 5000, "ONLINE", "qpu", "pegasus"),
            rec("Down", 9000, "OFFLINE", "qpu", "pegasus"),
            rec("Hybrid", 0, "ONLINE", "hybrid", "none"),
        ];
        assert_eq!(select(&list, &SolverSpec::parse(None)).unwrap().name, "Big");
        let f = SolverSpec::parse(Some(r#"{"qpu": true, "topology__type": "zephyr"}"#));
        assert_eq!(select(&list, &f).unwrap().name, "Small");
        let f = SolverSpec::parse(Some(r#"{"num_qubits__lte": 200}"#));
        assert_eq!(select(&list, &f).unwrap().name, "Small");
        assert_eq!(
            SolverSpec::parse(Some("Big;graph_id=g-Big")),
            SolverSpec::Name {
                name: "Big".into(),
                graph_id: Some("g-Big".into())
            }
        );
        assert_eq!(
            select(&list, &SolverSpec::parse(Some("Big;graph_id=g-Big")))
                .unwrap()
                .name,
            "Big"
        );
        assert_eq!(
            select(&list, &SolverSpec::parse(Some("Big;graph_id=other")))
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );
        let bad = SolverSpec::parse(Some(r#"{"lower_noise": true}"#));
        assert_eq!(select(&list, &bad).unwrap_err().kind, ErrorKind::Config);
    }
}
