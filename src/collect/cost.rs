//! QPU access time of a call, estimated from the solver's timing model (docs/sapi-protocol.md §6.3; D-Wave's
//! "Estimating Access Time"), exactly as dwave-cloud-client's `StructuredSolver.estimate_qpu_access_time`
//! computes it (checked to 1e-9 relative by `scripts/estimate_official.py` in CI). All times in µs; m is
//! the number of qubits the problem uses:
//!
//! ```text
//! programming = typical_programming_time + (programming_thermalization or default_programming_thermalization)
//! anneal      = annealing_time or default_annealing_time
//! readout     = 10^interp(log10 m, q, t)   (pwl_log_log)   |   interp(m, q, t)   (pwl_linear)
//! decor       = reduce_intersample_correlation ? anneal / decorrelation_max_nominal_anneal_time · (r1 − r0) + r0 : 0
//! per_read    = anneal + readout + qpu_delay_time_per_sample + max(readout_thermalization or default, decor)
//! access      = programming + num_reads · per_read
//! ```
//!
//! `interp` is `numpy.interp` (piecewise linear, clamped at the ends) over the halves `q`, `t` of
//! `readout_time_model_parameters`. As in the official client, a zero `annealing_time` or thermalization
//! counts as "not given". Reverse annealing (which campaigns never use) is not modelled.
//!
//! **Fallback.** A record without `problem_timing_data` (older 2000Q records such as DW_2000Q_5) cannot be
//! costed by the official client. qasa then uses the timing model D-Wave published for DW_2000Q_6 (the
//! `qpu_problem_timing_data('2000q')` of dwave-cloud-client's testing mocks): programming 10536.81 µs,
//! delay 20.54 µs per read, readout 10^2.2975 ≈ 198.40 µs per read for any m ≥ 1, and says so
//! ([`TimingModel::from_record`] is false).
//!
//! **Wall time.** QPU access time is a lower bound of the wall time. The plan adds
//! [`SERVICE_S_PER_CALL`] of service and network time per call, shared by the calls in flight; queue waits
//! on a busy solver come on top and cannot be predicted.

use serde_json::{Map, Value};

/// Service and network time per call assumed by the wall-time estimate, seconds (overlapped by the calls
/// kept in flight).
pub const SERVICE_S_PER_CALL: f64 = 0.25;

/// A solver's timing model (`problem_timing_data`, version 1.0.x).
#[derive(Clone, Debug, PartialEq)]
pub struct TimingModel {
    /// True when the model is the record's own `problem_timing_data`; false for the fallback.
    pub from_record: bool,
    pub typical_programming_time_us: f64,
    pub default_programming_thermalization_us: f64,
    pub default_annealing_time_us: f64,
    /// `pwl_log_log` (true) or `pwl_linear` (false).
    pub log_log: bool,
    /// First half of `readout_time_model_parameters`.
    pub readout_q: Vec<f64>,
    /// Second half of `readout_time_model_parameters`.
    pub readout_t: Vec<f64>,
    pub qpu_delay_time_per_sample_us: f64,
    pub default_readout_thermalization_us: f64,
    pub decorrelation_max_nominal_anneal_time_us: f64,
    pub decorrelation_time_range_us: (f64, f64),
}

/// The parameters of one call that enter its cost.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CallTiming {
    /// Qubits the problem uses (m).
    pub num_qubits: usize,
    pub num_reads: u64,
    pub annealing_time_us: Option<f64>,
    pub programming_thermalization_us: Option<f64>,
    pub readout_thermalization_us: Option<f64>,
    pub reduce_intersample_correlation: bool,
}

/// The published DW_2000Q_6 model (see the module docs).
fn fallback() -> TimingModel {
    TimingModel {
        from_record: false,
        typical_programming_time_us: 10536.81,
        default_programming_thermalization_us: 1000.0,
        default_annealing_time_us: 20.0,
        log_log: true,
        readout_q: vec![0.0, 3.30984300471607],
        readout_t: vec![2.2975416678181597, 2.2975416678181597],
        qpu_delay_time_per_sample_us: 20.54,
        default_readout_thermalization_us: 0.0,
        decorrelation_max_nominal_anneal_time_us: 2000.0,
        decorrelation_time_range_us: (500.0, 10000.0),
    }
}

impl TimingModel {
    /// From solver `properties`: `problem_timing_data` when it is complete (version 1.0.x), else the
    /// fallback model.
    pub fn from_properties(props: &Map<String, Value>) -> TimingModel {
        props
            .get("problem_timing_data")
            .and_then(Value::as_object)
            .and_then(parse)
            .unwrap_or_else(fallback)
    }

    /// Readout time per read for `m` qubits, µs.
    pub fn readout_us(&self, m: usize) -> f64 {
        if self.log_log {
            let x = if m == 0 {
                f64::NEG_INFINITY
            } else {
                (m as f64).log10()
            };
            10f64.powf(interp(x, &self.readout_q, &self.readout_t))
        } else {
            interp(m as f64, &self.readout_q, &self.readout_t)
        }
    }

    /// Estimated QPU access time of one call, µs.
    pub fn access_time_us(&self, c: &CallTiming) -> f64 {
        let given = |x: Option<f64>| x.filter(|&v| v != 0.0);
        let programming = self.typical_programming_time_us
            + given(c.programming_thermalization_us)
                .unwrap_or(self.default_programming_thermalization_us);
        let anneal = given(c.annealing_time_us).unwrap_or(self.default_annealing_time_us);
        let readout = self.readout_us(c.num_qubits);
        let thermalization =
            given(c.readout_thermalization_us).unwrap_or(self.default_readout_thermalization_us);
        let decorrelation = if c.reduce_intersample_correlation {
            let (r0, r1) = self.decorrelation_time_range_us;
            anneal / self.decorrelation_max_nominal_anneal_time_us * (r1 - r0) + r0
        } else {
            0.0
        };
        let per_read = anneal
            + readout
            + self.qpu_delay_time_per_sample_us
            + thermalization.max(decorrelation);
        c.num_reads as f64 * per_read + programming
    }
}

fn parse(p: &Map<String, Value>) -> Option<TimingModel> {
    if !p.get("version")?.as_str()?.starts_with("1.0.") {
        return None;
    }
    let f = |k: &str| p.get(k).and_then(Value::as_f64);
    let params: Vec<f64> = p
        .get("readout_time_model_parameters")?
        .as_array()?
        .iter()
        .map(Value::as_f64)
        .collect::<Option<_>>()?;
    if params.is_empty() || params.len() % 2 != 0 {
        return None;
    }
    let n = params.len() / 2;
    let log_log = match p.get("readout_time_model")?.as_str()? {
        "pwl_log_log" => true,
        "pwl_linear" => false,
        _ => return None,
    };
    let decor = p.get("decorrelation_time_range")?.as_array()?;
    Some(TimingModel {
        from_record: true,
        typical_programming_time_us: f("typical_programming_time")?,
        default_programming_thermalization_us: f("default_programming_thermalization")?,
        default_annealing_time_us: f("default_annealing_time")?,
        log_log,
        readout_q: params[..n].to_vec(),
        readout_t: params[n..].to_vec(),
        qpu_delay_time_per_sample_us: f("qpu_delay_time_per_sample")?,
        default_readout_thermalization_us: f("default_readout_thermalization")?,
        decorrelation_max_nominal_anneal_time_us: f("decorrelation_max_nominal_anneal_time")?,
        decorrelation_time_range_us: (decor.first()?.as_f64()?, decor.get(1)?.as_f64()?),
    })
}

/// `numpy.interp`: `slope · (x − x_j) + y_j` on the segment holding x, clamped to the end values.
pub fn interp(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().min(ys.len());
    let (Some(&x0), Some(&y0)) = (xs.first(), ys.first()) else {
        return f64::NAN;
    };
    if x.is_nan() {
        return f64::NAN;
    }
    if x < x0 {
        return y0;
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    let j = xs[..n].partition_point(|&v| v <= x).saturating_sub(1);
    let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
    slope * (x - xs[j]) + ys[j]
}

/// Wall time of a campaign, s: QPU time plus [`SERVICE_S_PER_CALL`] per call over the calls in flight.
pub fn wall_time_s(qpu_s: f64, calls: usize, in_flight: usize) -> f64 {
    qpu_s + calls as f64 * SERVICE_S_PER_CALL / in_flight.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advantage() -> TimingModel {
        let ptd = serde_json::json!({"version": "1.0.0", "typical_programming_time": 14072.88,
            "reverse_annealing_with_reinit_prog_time_delta": 0.0, "reverse_annealing_without_reinit_prog_time_delta": 5.55,
            "default_programming_thermalization": 1000.0, "default_annealing_time": 20.0,
            "readout_time_model": "pwl_log_log",
            "readout_time_model_parameters": [0.0, 0.7699665876947938, 1.7242758696010096, 2.711975459489206,
                3.1639057672764026, 3.750276915153992, 1.539131714800995, 1.8726623164229292, 2.125631787097315,
                2.332672340068556, 2.371606651233025, 2.3716219271760215],
            "qpu_delay_time_per_sample": 20.54, "reverse_annealing_with_reinit_delay_time_delta": -4.5,
            "reverse_annealing_without_reinit_delay_time_delta": -1.5, "default_readout_thermalization": 0.0,
            "decorrelation_max_nominal_anneal_time": 2000.0, "decorrelation_time_range": [500.0, 10000.0]});
        let mut props = Map::new();
        props.insert("problem_timing_data".into(), ptd);
        TimingModel::from_properties(&props)
    }

    #[test]
    fn documented_example() {
        // docs/sapi-protocol.md §6.3 (observed S17): m = 2, 100 reads, defaults → ≈ 23799.18 µs.
        let m = advantage();
        assert!(m.from_record);
        let t = m.access_time_us(&CallTiming {
            num_qubits: 2,
            num_reads: 100,
            ..Default::default()
        });
        assert!((t - 23799.18).abs() < 0.01, "{t}");
        // The official client's value for the full Advantage_system4.1 record, 100 reads at 5 µs
        // (StructuredSolver.estimate_qpu_access_time, dwave-cloud-client 0.14.8).
        let t = m.access_time_us(&CallTiming {
            num_qubits: 5627,
            num_reads: 100,
            annealing_time_us: Some(5.0),
            ..Default::default()
        });
        assert!((t / 41156.88000000001 - 1.0).abs() < 1e-12, "{t}");
    }

    #[test]
    fn fallback_without_timing_data() {
        let m = TimingModel::from_properties(&Map::new());
        assert!(!m.from_record);
        let t = m.access_time_us(&CallTiming {
            num_qubits: 2030,
            num_reads: 1,
            annealing_time_us: Some(20.0),
            ..Default::default()
        });
        let readout = 10f64.powf(2.2975416678181597);
        assert!(
            (t - (11536.81 + 20.0 + readout + 20.54)).abs() < 1e-9,
            "{t}"
        );
        assert!((readout - 198.40).abs() < 0.01);
    }

    #[test]
    fn interp_like_numpy() {
        assert_eq!(interp(-1.0, &[0.0, 1.0], &[5.0, 7.0]), 5.0);
        assert_eq!(interp(0.5, &[0.0, 1.0], &[5.0, 7.0]), 6.0);
        assert_eq!(interp(1.0, &[0.0, 1.0], &[5.0, 7.0]), 7.0);
        assert_eq!(interp(f64::NEG_INFINITY, &[0.0, 1.0], &[5.0, 7.0]), 5.0);
        assert_eq!(interp(2.0, &[0.0, 1.0, 3.0], &[0.0, 1.0, 2.0]), 1.5);
    }
}
