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
use crate::sapi::qp::{QpGraph, QpProblem};
use crate::sapi::solver::Range;
use serde_json::{Map, Value};
use std::collections::HashSet;

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
    /// `h_range` (default [-4, 4]).
    pub h_range: Range<f64>,
    /// `num_reads_range` (default [1, 10000]; a lower end of 0 counts as 1).
    pub num_reads_range: Range<u64>,
    /// `annealing_time_range`, µs (default [0.5, 2000]).
    pub annealing_time_range: Range<f64>,
    pub parameters: HashSet<String>,
    /// The working graph for the `qp` codec.
    pub graph: QpGraph,
}

impl Limits {
    pub fn of(record: &SolverDefinition) -> Limits {
        let props = &record.record.properties;
        let nr = props
            .num_reads_range
            .unwrap_or(Range { min: 1, max: 10000 });
        Limits {
            timing: TimingModel::from_properties(props),
            h_range: props.h_range.unwrap_or(Range {
                min: -4.0,
                max: 4.0,
            }),
            num_reads_range: Range {
                min: nr.min.max(1),
                max: nr.max.max(1),
            },
            annealing_time_range: props.annealing_time_range.unwrap_or(Range {
                min: 0.5,
                max: 2000.0,
            }),
            parameters: props
                .parameters
                .as_ref()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            graph: QpGraph::new(record.qubits(), record.couplers()),
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

/// The run parameters of a problem, read and range-checked.
struct Params {
    run: RunParams,
    answer_mode: AnswerMode,
    auto_scale: bool,
}

/// Validate one job object against the served solvers. The error is SAPI's item `error_msg`.
pub fn validate(
    item: &Value,
    solvers: &[(&SolverDefinition, &Limits)],
) -> Result<Accepted, String> {
    let obj = item
        .as_object()
        .ok_or("each problem must be a JSON object")?;
    let solver_idx = solver_of(obj, solvers)?;
    let (record, limits) = solvers[solver_idx];
    let problem_type = problem_type(obj)?;
    let data = obj
        .get("data")
        .and_then(Value::as_object)
        .ok_or("missing 'data' object")?;
    let qp = decode_data(data, record, limits)?;
    let params = obj
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let pmap = params.as_object().ok_or("'params' must be an object")?;
    let p = read_params(pmap, record, limits)?;
    let fields = programmed_fields(&qp.lin, problem_type, p.auto_scale, limits, record)?;
    let active_count = qp.lin.iter().filter(|x| !x.is_nan()).count();
    let timing = limits.timing.timing(&p.run, active_count);
    if timing.run_duration_us > limits.timing.max_run_duration_us {
        return Err(format!(
            "Upper limit on user-specified timing related parameters exceeded: {} > {}",
            timing.run_duration_us.round(),
            limits.timing.max_run_duration_us.round()
        ));
    }
    Ok(Accepted {
        solver_idx,
        problem_type,
        lin_bytes: qp.lin.iter().flat_map(|x| x.to_le_bytes()).collect(),
        lin: qp.lin,
        fields,
        active_count,
        num_reads: p.run.num_reads,
        answer_mode: p.answer_mode,
        timing,
        label: obj.get("label").and_then(Value::as_str).map(str::to_string),
        solver_json: record.identity(),
        data: Value::Object(data.clone()),
        params,
    })
}

/// The served solver the job names (`{"name", "version": {"graph_id"}}`, §0.3), by index.
fn solver_of(
    obj: &Map<String, Value>,
    solvers: &[(&SolverDefinition, &Limits)],
) -> Result<usize, String> {
    const SHAPE: &str = "{\"name\": …, \"version\": {\"graph_id\": …}}";
    let (name, graph_id) = match obj.get("solver") {
        None => return Err(format!("missing 'solver' (an object {SHAPE})")),
        Some(Value::Object(s)) => (
            s.get("name")
                .and_then(Value::as_str)
                .ok_or("solver.name missing")?,
            s.get("version")
                .and_then(|v| v.get("graph_id"))
                .and_then(Value::as_str),
        ),
        Some(Value::String(_)) => {
            return Err(format!(
                "'solver' as a string is the retired version-2.1 form; send an object {SHAPE}"
            ))
        }
        Some(_) => return Err(format!("'solver' must be an object {SHAPE}")),
    };
    let idx = solvers
        .iter()
        .position(|(r, _)| r.name() == name)
        .ok_or("Solver does not exist or apitoken does not have access")?;
    let record = solvers[idx].0;
    match graph_id {
        Some(g) if g != record.graph_id => Err(format!(
            "Solver does not exist or apitoken does not have access: {name} has graph_id {}, not {g}",
            record.graph_id
        )),
        _ => Ok(idx),
    }
}

fn problem_type(obj: &Map<String, Value>) -> Result<ProblemType, String> {
    match obj.get("type").and_then(Value::as_str) {
        None => Err("missing 'type' (\"ising\" or \"qubo\")".into()),
        Some("ising") => Ok(ProblemType::Ising),
        Some("qubo") => Ok(ProblemType::Qubo),
        Some(other) => Err(format!(
            "Problem type ({other}) is not supported by the solver."
        )),
    }
}

/// `data`: format `qp`, `lin`/`quad` decoded against the working graph (`sapi::qp`), couplings all zero.
fn decode_data(
    data: &Map<String, Value>,
    record: &SolverDefinition,
    limits: &Limits,
) -> Result<QpProblem, String> {
    let format = data.get("format").and_then(Value::as_str).unwrap_or("");
    if format != "qp" {
        return Err(format!(
            "Problem data format ({format}) is not supported by the solver; QPU problems use \"qp\""
        ));
    }
    let lin = data
        .get("lin")
        .and_then(Value::as_str)
        .ok_or("data.lin missing (base64 of float64 LE)")?;
    let quad = data
        .get("quad")
        .and_then(Value::as_str)
        .ok_or("data.quad missing (base64 of float64 LE, \"\" if none)")?;
    let qp = limits
        .graph
        .decode_problem(lin.trim(), quad.trim())
        .map_err(|e| format!("solver {}: {e}", record.name()))?;
    if let Some(k) = qp.quad.iter().position(|&j| j != 0.0) {
        let (u, v) = limits
            .graph
            .active_couplers(&qp.lin)
            .get(k)
            .copied()
            .unwrap_or_default();
        return Err(format!(
            "non-zero coupling J = {} on coupler ({u}, {v}): this virtual QPU samples fields only (J = 0); send quad values of 0",
            qp.quad[k]
        ));
    }
    Ok(qp)
}

/// `params`: known names only, `num_reads` and `annealing_time` in range, the anneal schedule, the answer
/// mode and the timing parameters.
fn read_params(
    pmap: &Map<String, Value>,
    record: &SolverDefinition,
    limits: &Limits,
) -> Result<Params, String> {
    if let Some(k) = pmap
        .keys()
        .find(|k| !limits.parameters.contains(*k) && !k.starts_with("x_"))
    {
        return Err(format!(
            "Unknown parameter '{k}': not in properties.parameters of {}",
            record.name()
        ));
    }
    let num_reads = match pmap.get("num_reads") {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("num_reads must be a positive integer, got {v}"))?,
    };
    let nr = limits.num_reads_range;
    if !nr.contains(num_reads) {
        return Err(format!(
            "num_reads {num_reads} is outside num_reads_range [{}, {}]",
            nr.min, nr.max
        ));
    }
    let schedule = anneal_schedule(pmap)?;
    let annealing_time = number(pmap, "annealing_time")?;
    if annealing_time.is_some() && schedule.is_some() {
        return Err("annealing_time and anneal_schedule are mutually exclusive".into());
    }
    let anneal_us = annealing_time
        .or_else(|| schedule.as_ref().and_then(|s| s.last().map(|p| p.0)))
        .unwrap_or(limits.timing.default_annealing_time_us);
    let at = limits.annealing_time_range;
    if annealing_time.is_some() && !at.contains(anneal_us) {
        return Err(format!(
            "annealing_time {anneal_us} µs is outside annealing_time_range [{}, {}]",
            at.min, at.max
        ));
    }
    let reverse = match &schedule {
        Some(s) if s.first().is_some_and(|p| p.1 == 1.0) => {
            Some(flag(pmap, "reinitialize_state", true)?)
        }
        _ => None,
    };
    let answer_mode = match pmap.get("answer_mode").and_then(Value::as_str) {
        None if pmap.contains_key("initial_state") => AnswerMode::Raw,
        None | Some("histogram") => AnswerMode::Histogram,
        Some("raw") => AnswerMode::Raw,
        Some(other) => {
            return Err(format!(
                "answer_mode must be \"histogram\" or \"raw\", got {other:?}"
            ))
        }
    };
    Ok(Params {
        run: RunParams {
            num_reads: num_reads as usize,
            anneal_us,
            reverse,
            programming_thermalization_us: number(pmap, "programming_thermalization")?,
            readout_thermalization_us: number(pmap, "readout_thermalization")?,
            reduce_intersample_correlation: flag(pmap, "reduce_intersample_correlation", false)?,
        },
        answer_mode,
        auto_scale: flag(pmap, "auto_scale", true)?,
    })
}

fn number(pmap: &Map<String, Value>, k: &str) -> Result<Option<f64>, String> {
    match pmap.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{k} must be a number, got {v}")),
    }
}

fn flag(pmap: &Map<String, Value>, k: &str, default: bool) -> Result<bool, String> {
    match pmap.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("{k} must be a boolean, got {v}")),
    }
}

/// `anneal_schedule`: a list of `[t, s]` pairs.
fn anneal_schedule(pmap: &Map<String, Value>) -> Result<Option<Vec<(f64, f64)>>, String> {
    let list = match pmap.get("anneal_schedule") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v
            .as_array()
            .ok_or("anneal_schedule must be a list of [t, s] pairs")?,
    };
    list.iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([t, s]) => Ok((
                t.as_f64().ok_or("anneal_schedule t must be a number")?,
                s.as_f64().ok_or("anneal_schedule s must be a number")?,
            )),
            _ => Err("anneal_schedule points must be [t, s] pairs".to_string()),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The Ising fields programmed on the QPU: QUBO → Ising (h = q / 2), then `auto_scale` (the largest |h|
/// to the edge of `h_range`), or, without it, every h inside `h_range`.
fn programmed_fields(
    lin: &[f64],
    problem_type: ProblemType,
    auto_scale: bool,
    limits: &Limits,
    record: &SolverDefinition,
) -> Result<Vec<f64>, String> {
    let mut fields: Vec<f64> = match problem_type {
        ProblemType::Ising => lin.to_vec(),
        ProblemType::Qubo => lin.iter().map(|q| q / 2.0).collect(),
    };
    let Range { min: hlo, max: hhi } = limits.h_range;
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
            fields[i],
            record.qubits().get(i).copied().unwrap_or_default()
        ));
    }
    Ok(fields)
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
        assert!(err(job(&b64(&[1.0; 3]), "", json!({})))
            .contains("solver Mock8Q_system1.1: qp field `lin`: expected 7 values, found 3"));
        assert!(err(job("@@@", "", json!({}))).contains("invalid base64"));
        assert!(
            err(job(&lin, "", json!({}))).contains("qp field `quad`: expected 1 values, found 0")
        );
        let inf = b64(&[f64::INFINITY, n, n, n, 0.5, n, n]);
        assert!(err(job(&inf, &b64(&[0.0]), json!({})))
            .contains("qubit 0 has bias inf, which is not finite"));
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
