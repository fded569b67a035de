//! What a plan needs from a solver record, read in one place (docs/sapi-protocol.md §5, §6): the ranges a
//! campaign must respect and the timing model of its cost. Everything else in this module reads solver
//! properties only through [`SolverLimits`].
//!
//! Ranges missing from a record are not enforced (a record without `h_range` limits nothing); a record
//! without `problem_timing_data` is costed with the fallback model of [`super::cost`] and says so.

use super::cost::TimingModel;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Limits and cost model of one solver.
#[derive(Clone, Debug, PartialEq)]
pub struct SolverLimits {
    /// Solver name, for messages.
    pub solver: String,
    /// `h_range`, h units.
    pub h_range: Option<(f64, f64)>,
    /// `num_reads_range`.
    pub num_reads_range: Option<(u64, u64)>,
    /// `annealing_time_range`, µs.
    pub annealing_time_range: Option<(f64, f64)>,
    /// Upper end of `problem_run_duration_range`, µs.
    pub max_run_duration_us: Option<f64>,
    /// `default_programming_thermalization`, µs (enters the run-duration limit).
    pub default_programming_thermalization_us: f64,
    /// `default_readout_thermalization`, µs.
    pub default_readout_thermalization_us: f64,
    /// Names of `parameters` (None when the record does not list them).
    pub parameters: Option<BTreeSet<String>>,
    /// The record's `problem_timing_data`, or the documented fallback.
    pub timing: TimingModel,
}

fn pair(props: &Map<String, Value>, key: &str) -> Option<(f64, f64)> {
    let a = props.get(key)?.as_array()?;
    Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
}

fn num(props: &Map<String, Value>, key: &str) -> Option<f64> {
    props.get(key).and_then(Value::as_f64)
}

impl SolverLimits {
    /// From a solver record (v2 `id` or v3 `identity.name`, with `properties`).
    pub fn from_record(record: &Value) -> SolverLimits {
        let empty = Map::new();
        let props = record
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let solver = record
            .pointer("/identity/name")
            .or_else(|| record.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("the solver")
            .to_string();
        SolverLimits {
            solver,
            h_range: pair(props, "h_range"),
            num_reads_range: pair(props, "num_reads_range")
                .map(|(lo, hi)| (lo.max(0.0) as u64, hi.max(0.0) as u64)),
            annealing_time_range: pair(props, "annealing_time_range"),
            max_run_duration_us: pair(props, "problem_run_duration_range").map(|(_, hi)| hi),
            default_programming_thermalization_us: num(props, "default_programming_thermalization")
                .unwrap_or(1000.0),
            default_readout_thermalization_us: num(props, "default_readout_thermalization")
                .unwrap_or(0.0),
            parameters: props
                .get("parameters")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect()),
            timing: TimingModel::from_properties(props),
        }
    }

    /// No limits at all (a graph without a record), costed with the fallback model.
    pub fn unlimited(solver: &str) -> SolverLimits {
        SolverLimits {
            solver: solver.to_string(),
            ..SolverLimits::from_record(&Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ranges_and_timing() {
        let r = serde_json::json!({"id": "X", "properties": {"h_range": [-2, 2], "num_reads_range": [1, 10000],
            "annealing_time_range": [1, 2000], "problem_run_duration_range": [0, 1000000],
            "parameters": {"num_reads": "", "auto_scale": ""}}});
        let l = SolverLimits::from_record(&r);
        assert_eq!(l.solver, "X");
        assert_eq!(l.h_range, Some((-2.0, 2.0)));
        assert_eq!(l.num_reads_range, Some((1, 10000)));
        assert_eq!(l.annealing_time_range, Some((1.0, 2000.0)));
        assert_eq!(l.max_run_duration_us, Some(1e6));
        assert!(l.parameters.unwrap().contains("auto_scale"));
        assert!(!l.timing.from_record);
        let u = SolverLimits::unlimited("v");
        assert_eq!((u.h_range, u.parameters), (None, None));
    }
}
