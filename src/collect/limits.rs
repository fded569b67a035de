//! What a plan needs from a solver record, read in one place (docs/sapi-protocol.md §5, §6): the ranges a
//! campaign must respect and the timing model of its cost. Everything else in this module reads solver
//! properties only through [`SolverLimits`].
//!
//! Ranges missing from a record are not enforced (a record without `h_range` limits nothing); a record
//! without `problem_timing_data` is costed with the fallback model of [`super::cost`] and says so.

use super::cost::TimingModel;
use crate::sapi::SolverRecord;
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

impl SolverLimits {
    /// From a solver record (v2 `id` or v3 `identity.name`, with `properties`).
    pub fn from_record(record: &SolverRecord) -> SolverLimits {
        let p = &record.properties;
        let empty = Map::new();
        let props = record
            .raw
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        SolverLimits {
            solver: record.name.clone(),
            h_range: record.h_range().map(|r| (r.min, r.max)),
            num_reads_range: record.num_reads_range().map(|r| (r.min, r.max)),
            annealing_time_range: record.annealing_time_range_us().map(|r| (r.min, r.max)),
            max_run_duration_us: record.problem_run_duration_range_us().map(|r| r.max),
            default_programming_thermalization_us: p
                .default_programming_thermalization_us
                .unwrap_or(1000.0),
            default_readout_thermalization_us: p.default_readout_thermalization_us.unwrap_or(0.0),
            parameters: p.parameters.as_ref().map(|m| m.keys().cloned().collect()),
            timing: TimingModel::from_properties(props),
        }
    }

    /// No limits at all (a graph without a record), costed with the fallback model.
    pub fn unlimited(solver: &str) -> SolverLimits {
        SolverLimits {
            solver: solver.to_string(),
            h_range: None,
            num_reads_range: None,
            annealing_time_range: None,
            max_run_duration_us: None,
            default_programming_thermalization_us: 1000.0,
            default_readout_thermalization_us: 0.0,
            parameters: None,
            timing: TimingModel::from_properties(&Map::new()),
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
        let l = SolverLimits::from_record(&SolverRecord::from_value(r).unwrap());
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
