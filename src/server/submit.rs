//! Validation of one submitted problem (docs/sapi-protocol.md §3.2, §4.1–4.3, §6.1, §6.3).
//!
//! Checks, each failing with an item error `{"error_code": 400, "error_msg": …}`: the solver identity (an
//! object `{name, version: {graph_id}}`), `type` ∈ {ising, qubo}, `data.format == "qp"`, `lin` has one
//! float64 per working qubit (`properties.qubits`; NaN = unused), `quad` one per coupler with both ends
//! active (no NaN), every parameter a key of `properties.parameters` (or `x_…`), `num_reads` and
//! `annealing_time` in range, h in `h_range` when `auto_scale` is false, and the run-duration limit.
//! This virtual QPU samples fields only: any non-zero coupling is rejected with a clear message.

use super::timing::{RunParams, Timing, TimingModel};
use super::SolverDefinition;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    Ising,
    Qubo,
}

impl ProblemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemType::Ising => "ising",
            ProblemType::Qubo => "qubo",
        }
    }
}

/// `answer_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerMode {
    Histogram,
    Raw,
}

/// What the server needs of a solver to validate problems, precomputed from its record.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timing: TimingModel,
    pub h_range: (f64, f64),
    pub num_reads_range: (u64, u64),
    pub annealing_time_range: (f64, f64),
    pub parameters: HashSet<String>,
    /// Couplers as positions in `lin` order.
    pub coupler_pos: Vec<(usize, usize)>,
}

fn range(props: &Map<String, Value>, key: &str, default: (f64, f64)) -> (f64, f64) {
    props
        .get(key)
        .and_then(Value::as_array)
        .and_then(|a| Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?)))
        .unwrap_or(default)
}

impl Limits {
    pub fn of(record: &SolverDefinition) -> Limits {
        let props = record.properties();
        let pos: HashMap<u32, usize> = record
            .qubits
            .iter()
            .enumerate()
            .map(|(i, &q)| (q, i))
            .collect();
        let coupler_pos = record
            .couplers
            .iter()
            .filter_map(|(u, v)| Some((*pos.get(u)?, *pos.get(v)?)))
            .collect();
        let nr = range(props, "num_reads_range", (1.0, 10000.0));
        Limits {
            timing: TimingModel::from_properties(props),
            h_range: range(props, "h_range", (-4.0, 4.0)),
            num_reads_range: (nr.0.max(1.0) as u64, nr.1.max(1.0) as u64),
            annealing_time_range: range(props, "annealing_time_range", (0.5, 2000.0)),
            parameters: props
                .get("parameters")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            coupler_pos,
        }
    }
}

/// A validated problem.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub solver_idx: usize,
    pub problem_type: ProblemType,
    /// Submitted `lin` values (lin order; NaN = unused).
    pub lin: Vec<f64>,
    /// Decoded `lin` bytes (for the ledger's `lin_sha256`).
    pub lin_bytes: Vec<u8>,
    /// Ising fields programmed on the QPU (after QUBO → Ising and auto_scale); NaN = unused.
    pub fields: Vec<f64>,
    pub active_count: usize,
    pub num_reads: usize,
    pub answer_mode: AnswerMode,
    pub timing: Timing,
    pub label: Option<String>,
    pub solver_json: Value,
    pub data: Value,
    pub params: Value,
}

/// Validate one job object against the served solvers.
pub fn validate(
    item: &Value,
    solvers: &[(&SolverDefinition, &Limits)],
) -> Result<Accepted, String> {
    let obj = item
        .as_object()
        .ok_or("each problem must be a JSON object")?;
    // Solver identity.
    let solver_v = obj
        .get("solver")
        .ok_or("missing 'solver' (an object {\"name\": …, \"version\": {\"graph_id\": …}})")?;
    let (name, graph_id) = match solver_v {
        Value::Object(s) => (
            s.get("name").and_then(Value::as_str).ok_or("solver.name missing")?.to_string(),
            s.get("version").and_then(|v| v.get("graph_id")).and_then(Value::as_str).map(str::to_string),
        ),
        Value::String(_) => {
            return Err("'solver' as a string is the retired version-2.1 form; send an object {\"name\": …, \"version\": {\"graph_id\": …}}".into())
        }
        _ => return Err("'solver' must be an object {\"name\": …, \"version\": {\"graph_id\": …}}".into()),
    };
    let not_found = || "Solver does not exist or apitoken does not have access".to_string();
    let solver_idx = solvers
        .iter()
        .position(|(r, _)| r.name == name)
        .ok_or_else(not_found)?;
    let (record, limits) = solvers[solver_idx];
    if let Some(g) = &graph_id {
        if *g != record.graph_id {
            return Err(format!(
                "Solver does not exist or apitoken does not have access: {name} has graph_id {}, not {g}",
                record.graph_id
            ));
        }
    }
    // Type and data.
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or("missing 'type' (\"ising\" or \"qubo\")")?;
    let problem_type = match ty {
        "ising" => ProblemType::Ising,
        "qubo" => ProblemType::Qubo,
        other => {
            return Err(format!(
                "Problem type ({other}) is not supported by the solver."
            ))
        }
    };
    let data = obj
        .get("data")
        .and_then(Value::as_object)
        .ok_or("missing 'data' object")?;
    let format = data.get("format").and_then(Value::as_str).unwrap_or("");
    if format != "qp" {
        return Err(format!("Problem data format ({format}) is not supported by the solver; QPU problems use \"qp\""));
    }
    let lin_s = data
        .get("lin")
        .and_then(Value::as_str)
        .ok_or("data.lin missing (base64 of float64 LE)")?;
    let quad_s = data
        .get("quad")
        .and_then(Value::as_str)
        .ok_or("data.quad missing (base64 of float64 LE, \"\" if none)")?;
    let lin = super::codec::decode_f64(lin_s, "lin")?;
    let lin_bytes: Vec<u8> = lin.iter().flat_map(|x| x.to_le_bytes()).collect();
    if lin.len() != record.qubits.len() {
        return Err(format!(
            "lin has {} values but solver {} has {} working qubits; lin needs one float64 per entry of properties.qubits (NaN for unused qubits)",
            lin.len(),
            record.name,
            record.qubits.len()
        ));
    }
    if let Some(i) = lin.iter().position(|x| x.is_infinite()) {
        return Err(format!(
            "lin value for qubit {} is infinite",
            record.qubits[i]
        ));
    }
    let quad = super::codec::decode_f64(quad_s, "quad")?;
    let active_couplers: Vec<(usize, usize)> = limits
        .coupler_pos
        .iter()
        .copied()
        .filter(|&(a, b)| !lin[a].is_nan() && !lin[b].is_nan())
        .collect();
    if quad.len() != active_couplers.len() {
        return Err(format!(
            "quad has {} values but {} couplers of properties.couplers have both qubits active; quad needs one float64 per such coupler, in properties.couplers order",
            quad.len(),
            active_couplers.len()
        ));
    }
    if let Some(k) = quad.iter().position(|j| !j.is_finite() || *j != 0.0) {
        let (a, b) = active_couplers[k];
        let (u, v) = (record.qubits[a], record.qubits[b]);
        if !quad[k].is_finite() {
            return Err(format!("quad value for coupler ({u}, {v}) is not finite"));
        }
        return Err(format!(
            "non-zero coupling J = {} on coupler ({u}, {v}): this virtual QPU samples fields only (J = 0); send quad values of 0",
            quad[k]
        ));
    }
    // Parameters.
    let params = obj
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let pmap = params.as_object().ok_or("'params' must be an object")?;
    for k in pmap.keys() {
        if !limits.parameters.contains(k) && !k.starts_with("x_") {
            return Err(format!(
                "Unknown parameter '{k}': not in properties.parameters of {}",
                record.name
            ));
        }
    }
    let num_reads = match pmap.get("num_reads") {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("num_reads must be a positive integer, got {v}"))?,
    };
    let (lo, hi) = limits.num_reads_range;
    if num_reads < lo || num_reads > hi {
        return Err(format!(
            "num_reads {num_reads} is outside num_reads_range [{lo}, {hi}]"
        ));
    }
    let number = |k: &str| -> Result<Option<f64>, String> {
        match pmap.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| format!("{k} must be a number, got {v}")),
        }
    };
    let flag = |k: &str, default: bool| -> Result<bool, String> {
        match pmap.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("{k} must be a boolean, got {v}")),
        }
    };
    let schedule: Option<Vec<(f64, f64)>> = match pmap.get("anneal_schedule") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_array()
                .ok_or("anneal_schedule must be a list of [t, s] pairs")?
                .iter()
                .map(|p| {
                    let a = p
                        .as_array()
                        .filter(|a| a.len() == 2)
                        .ok_or("anneal_schedule points must be [t, s] pairs")?;
                    Ok::<_, String>((
                        a[0].as_f64().ok_or("anneal_schedule t must be a number")?,
                        a[1].as_f64().ok_or("anneal_schedule s must be a number")?,
                    ))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let annealing_time = number("annealing_time")?;
    if annealing_time.is_some() && schedule.is_some() {
        return Err("annealing_time and anneal_schedule are mutually exclusive".into());
    }
    let anneal_us = annealing_time
        .or_else(|| schedule.as_ref().and_then(|s| s.last().map(|p| p.0)))
        .unwrap_or(limits.timing.default_annealing_time_us);
    let (alo, ahi) = limits.annealing_time_range;
    if annealing_time.is_some() && !(alo..=ahi).contains(&anneal_us) {
        return Err(format!(
            "annealing_time {anneal_us} µs is outside annealing_time_range [{alo}, {ahi}]"
        ));
    }
    let reverse = match &schedule {
        Some(s) if s.first().map(|p| p.1 == 1.0).unwrap_or(false) => {
            Some(flag("reinitialize_state", true)?)
        }
        _ => None,
    };
    let answer_mode = match pmap.get("answer_mode").and_then(Value::as_str) {
        None => {
            if pmap.contains_key("initial_state") {
                AnswerMode::Raw
            } else {
                AnswerMode::Histogram
            }
        }
        Some("histogram") => AnswerMode::Histogram,
        Some("raw") => AnswerMode::Raw,
        Some(other) => {
            return Err(format!(
                "answer_mode must be \"histogram\" or \"raw\", got {other:?}"
            ))
        }
    };
    let auto_scale = flag("auto_scale", true)?;
    let run = RunParams {
        num_reads: num_reads as usize,
        anneal_us,
        reverse,
        programming_thermalization_us: number("programming_thermalization")?,
        readout_thermalization_us: number("readout_thermalization")?,
        reduce_intersample_correlation: flag("reduce_intersample_correlation", false)?,
    };
    // Fields programmed on the QPU.
    let mut fields: Vec<f64> = match problem_type {
        ProblemType::Ising => lin.clone(),
        ProblemType::Qubo => lin.iter().map(|q| q / 2.0).collect(),
    };
    let (hlo, hhi) = limits.h_range;
    if auto_scale {
        let factor = fields
            .iter()
            .filter(|h| !h.is_nan())
            .map(|&h| {
                if h > 0.0 {
                    h / hhi
                } else if h < 0.0 {
                    h / hlo
                } else {
                    0.0
                }
            })
            .fold(0.0f64, f64::max);
        if factor > 0.0 {
            fields.iter_mut().for_each(|h| *h /= factor);
        }
    } else if let Some(i) = fields
        .iter()
        .position(|h| !h.is_nan() && (*h < hlo || *h > hhi))
    {
        return Err(format!(
            "h = {} on qubit {} is outside h_range [{hlo}, {hhi}] (auto_scale is false)",
            fields[i], record.qubits[i]
        ));
    }
    let active_count = lin.iter().filter(|x| !x.is_nan()).count();
    let timing = limits.timing.timing(&run, active_count);
    if timing.run_duration_us > limits.timing.max_run_duration_us {
        return Err(format!(
            "Upper limit on user-specified timing related parameters exceeded: {} > {}",
            timing.run_duration_us.round(),
            limits.timing.max_run_duration_us.round()
        ));
    }
    let label = obj.get("label").and_then(Value::as_str).map(str::to_string);
    Ok(Accepted {
        solver_idx,
        problem_type,
        lin,
        lin_bytes,
        fields,
        active_count,
        num_reads: num_reads as usize,
        answer_mode,
        timing,
        label,
        solver_json: record.identity(),
        data: Value::Object(data.clone()),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    fn b64(xs: &[f64]) -> String {
        let bytes: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn mock8() -> SolverDefinition {
        // The transcript's Mock8Q solver (docs/sapi-protocol.md §4.5).
        let path = crate::server::tests_support::shared_data().join("sapi/mock-solver-Mock8Q.json");
        SolverDefinition::from_file(&path).unwrap().remove(0)
    }

    fn job(lin: &str, quad: &str, params: Value) -> Value {
        json!({"solver": {"name": "Mock8Q_system1.1", "version": {"graph_id": "0a1b2c3d4e"}},
               "data": {"format": "qp", "lin": lin, "quad": quad, "offset": 0}, "type": "ising", "params": params})
    }

    #[test]
    fn accepts_the_worked_example_shape_with_zero_couplings() {
        let r = mock8();
        let l = Limits::of(&r);
        let n = f64::NAN;
        let lin = b64(&[-1.0, n, n, n, 0.5, n, 0.0]);
        // Active {0, 4, 7}: couplers [0,4] and [0,7] → two zeros.
        let a = validate(
            &job(
                &lin,
                &b64(&[0.0, 0.0]),
                json!({"num_reads": 10, "auto_scale": false}),
            ),
            &[(&r, &l)],
        )
        .unwrap();
        assert_eq!(a.active_count, 3);
        assert_eq!(a.num_reads, 10);
        assert_eq!(a.fields[0], -1.0);
        assert_eq!(a.answer_mode, AnswerMode::Histogram);
        // auto_scale (default) scales the largest |h| to the range edge.
        let a = validate(&job(&lin, &b64(&[0.0, 0.0]), json!({})), &[(&r, &l)]).unwrap();
        assert_eq!(a.fields[0], -4.0);
        assert_eq!(a.fields[4], 2.0);
    }

    #[test]
    fn rejects_bad_problems_with_clear_messages() {
        let r = mock8();
        let l = Limits::of(&r);
        let s = [(&r, &l)];
        let n = f64::NAN;
        let lin = b64(&[-1.0, n, n, n, 0.5, n, n]);
        let err = |j: Value| validate(&j, &s).unwrap_err();
        assert!(err(job(&b64(&[1.0; 3]), "", json!({}))).contains("lin has 3 values"));
        assert!(err(job("@@@", "", json!({}))).contains("invalid base64"));
        assert!(err(job(&lin, "", json!({}))).contains("quad has 0 values but 1"));
        assert!(err(job(&lin, &b64(&[-1.0]), json!({})))
            .contains("non-zero coupling J = -1 on coupler (0, 4)"));
        assert!(
            err(job(&lin, &b64(&[0.0]), json!({"bogus": 1}))).contains("Unknown parameter 'bogus'")
        );
        assert!(err(job(&lin, &b64(&[0.0]), json!({"num_reads": 0}))).contains("num_reads 0"));
        assert!(
            err(job(&lin, &b64(&[0.0]), json!({"annealing_time": 5000.0})))
                .contains("annealing_time_range")
        );
        let big = b64(&[9.0, n, n, n, 0.5, n, n]);
        assert!(
            err(job(&big, &b64(&[0.0]), json!({"auto_scale": false}))).contains("outside h_range")
        );
        // 10000 reads × 2000 µs > 1 s run-duration limit.
        assert!(err(job(
            &lin,
            &b64(&[0.0]),
            json!({"num_reads": 10000, "annealing_time": 2000.0})
        ))
        .starts_with("Upper limit on user-specified timing related parameters exceeded"));
        let mut j = job(&lin, &b64(&[0.0]), json!({}));
        j["solver"] = json!("Mock8Q_system1.1");
        assert!(err(j).contains("retired"));
        let mut j = job(&lin, &b64(&[0.0]), json!({}));
        j["solver"]["version"]["graph_id"] = json!("ffffffffff");
        assert!(err(j).contains("graph_id"));
        let mut j = job(&lin, &b64(&[0.0]), json!({}));
        j["type"] = json!("cqm");
        assert_eq!(err(j), "Problem type (cqm) is not supported by the solver.");
        assert!(err(json!([1])).contains("object"));
    }
}
