//! QPU timing from a solver's timing model (docs/sapi-protocol.md §6.3, §6.4; DOCS-TIMING).
//!
//! All times in µs; m = number of qubits used by the problem.
//! ```text
//! programming = typical_programming_time + (reverse ? ra_prog_delta : 0) + programming_thermalization
//! anneal      = annealing_time | anneal_schedule[-1][0] | default_annealing_time
//! readout     = 10^interp(log10 m, q, t)   (pwl_log_log)   |   interp(m, q, t)   (pwl_linear)
//! decor       = reduce_intersample_correlation ? anneal / decorrelation_max_nominal_anneal_time · (r1 − r0) + r0 : 0
//! delay       = qpu_delay_time_per_sample + (reverse ? ra_delay_delta : 0) + max(readout_thermalization, decor)
//! sampling    = num_reads · (anneal + readout + delay)
//! access      = programming + sampling                       (charged: qpu_access_time)
//! duration    = (anneal + readout_thermalization) · num_reads + programming_thermalization
//! ```
//! `duration` must not exceed `problem_run_duration_range[1]` ("QMI runtime limit"). The limit formula is
//! D-Wave's `((P1 + P2) · P3) + P4` (DOCS-TIMING "QMI Runtime Limit": annealing_time, readout_thermalization,
//! num_reads, programming_thermalization; its example `12010000 > 3000000` has no readout term, and
//! dwave-cloud-client's `max_num_reads` uses the same terms). docs/sapi-protocol.md §6.3 adds the readout
//! time, which the source does not; the server follows the source. A record without
//! `problem_timing_data` (older 2000Q records) uses the DW_2000Q_6 model D-Wave published.

use crate::sapi::solver::{ProblemTimingData, SolverProperties};
use serde_json::{json, Value};

/// `problem_timing_data` of Advantage_system4.1 as published (DOCS-PROPS example, CC testing mocks).
pub fn advantage_timing_json() -> Value {
    json!({
        "version": "1.0.0",
        "typical_programming_time": 14072.88,
        "reverse_annealing_with_reinit_prog_time_delta": 0.0,
        "reverse_annealing_without_reinit_prog_time_delta": 5.55,
        "default_programming_thermalization": 1000.0,
        "default_annealing_time": 20.0,
        "readout_time_model": "pwl_log_log",
        "readout_time_model_parameters": [0.0, 0.7699665876947938, 1.7242758696010096, 2.711975459489206,
            3.1639057672764026, 3.750276915153992, 1.539131714800995, 1.8726623164229292, 2.125631787097315,
            2.332672340068556, 2.371606651233025, 2.3716219271760215],
        "qpu_delay_time_per_sample": 20.54,
        "reverse_annealing_with_reinit_delay_time_delta": -4.5,
        "reverse_annealing_without_reinit_delay_time_delta": -1.5,
        "default_readout_thermalization": 0.0,
        "decorrelation_max_nominal_anneal_time": 2000.0,
        "decorrelation_time_range": [500.0, 10000.0]
    })
}

/// `problem_timing_data` of DW_2000Q_6 as published (CC testing mocks, Aug 2022).
fn dw2000q_timing_json() -> Value {
    json!({
        "version": "1.0.0",
        "typical_programming_time": 10536.81,
        "reverse_annealing_with_reinit_prog_time_delta": 0.0,
        "reverse_annealing_without_reinit_prog_time_delta": 359.58,
        "default_programming_thermalization": 1000.0,
        "default_annealing_time": 20.0,
        "readout_time_model": "pwl_log_log",
        "readout_time_model_parameters": [0.0, 3.30984300471607, 2.2975416678181597, 2.2975416678181597],
        "qpu_delay_time_per_sample": 20.54,
        "reverse_annealing_with_reinit_delay_time_delta": 586.38,
        "reverse_annealing_without_reinit_delay_time_delta": -5.0,
        "default_readout_thermalization": 0.0,
        "decorrelation_max_nominal_anneal_time": 2000.0,
        "decorrelation_time_range": [500.0, 10000.0]
    })
}

/// A solver's timing model (`problem_timing_data`, version 1.0.x).
#[derive(Debug, Clone, PartialEq)]
pub struct TimingModel {
    pub typical_programming_time_us: f64,
    pub ra_with_reinit_prog_delta_us: f64,
    pub ra_without_reinit_prog_delta_us: f64,
    pub default_programming_thermalization_us: f64,
    pub default_annealing_time_us: f64,
    /// `true` for `pwl_log_log`, `false` for `pwl_linear`.
    pub log_log: bool,
    /// Readout breakpoints (qubit counts, or their log10) and times (or their log10).
    pub readout_q: Vec<f64>,
    pub readout_t: Vec<f64>,
    pub delay_per_sample_us: f64,
    pub ra_with_reinit_delay_delta_us: f64,
    pub ra_without_reinit_delay_delta_us: f64,
    pub default_readout_thermalization_us: f64,
    pub decorrelation_max_nominal_anneal_time_us: f64,
    pub decorrelation_time_range_us: (f64, f64),
    /// `problem_run_duration_range[1]`.
    pub max_run_duration_us: f64,
}

/// Problem parameters that enter the timing.
#[derive(Debug, Clone, PartialEq)]
pub struct RunParams {
    pub num_reads: usize,
    /// Resolved anneal time (annealing_time, or the last anneal_schedule point, or the default).
    pub anneal_us: f64,
    /// Reverse anneal (`anneal_schedule[0][1] == 1`) and `reinitialize_state`.
    pub reverse: Option<bool>,
    pub programming_thermalization_us: Option<f64>,
    pub readout_thermalization_us: Option<f64>,
    pub reduce_intersample_correlation: bool,
}

/// The timing of one problem, µs.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub programming_us: f64,
    pub anneal_us: f64,
    pub readout_us: f64,
    /// Per-sample delay including thermalization / decorrelation.
    pub delay_us: f64,
    pub sampling_us: f64,
    pub access_us: f64,
    /// The run duration checked against `problem_run_duration_range`: `(anneal + readout_thermalization) ·
    /// num_reads + programming_thermalization`.
    pub run_duration_us: f64,
}

impl TimingModel {
    /// From typed solver `properties` (falls back to the published DW_2000Q_6 model without
    /// `problem_timing_data`).
    pub fn from_properties(props: &SolverProperties) -> TimingModel {
        let fallback;
        let p = match &props.problem_timing_data {
            Some(p) => p,
            None => {
                fallback = serde_json::from_value::<ProblemTimingData>(dw2000q_timing_json())
                    .unwrap_or_default();
                &fallback
            }
        };
        let params = p.readout_time_model_parameters.as_deref().unwrap_or(&[]);
        let n = params.len() / 2;
        let (readout_q, readout_t) = if n > 0 {
            (params[..n].to_vec(), params[n..2 * n].to_vec())
        } else {
            (vec![0.0], vec![(46.72f64).log10()])
        };
        let decor = p
            .decorrelation_time_range_us
            .map_or((0.0, 0.0), |r| (r.min, r.max));
        TimingModel {
            typical_programming_time_us: p.typical_programming_time_us.unwrap_or(14072.88),
            ra_with_reinit_prog_delta_us: p.ra_with_reinit_prog_delta_us.unwrap_or(0.0),
            ra_without_reinit_prog_delta_us: p.ra_without_reinit_prog_delta_us.unwrap_or(0.0),
            default_programming_thermalization_us: p
                .default_programming_thermalization_us
                .or(props.default_programming_thermalization_us)
                .unwrap_or(1000.0),
            default_annealing_time_us: p
                .default_annealing_time_us
                .or(props.default_annealing_time_us)
                .unwrap_or(20.0),
            log_log: p.readout_time_model.as_deref() != Some("pwl_linear"),
            readout_q,
            readout_t,
            delay_per_sample_us: p.qpu_delay_time_per_sample_us.unwrap_or(20.54),
            ra_with_reinit_delay_delta_us: p.ra_with_reinit_delay_delta_us.unwrap_or(0.0),
            ra_without_reinit_delay_delta_us: p.ra_without_reinit_delay_delta_us.unwrap_or(0.0),
            default_readout_thermalization_us: p
                .default_readout_thermalization_us
                .or(props.default_readout_thermalization_us)
                .unwrap_or(0.0),
            decorrelation_max_nominal_anneal_time_us: p
                .decorrelation_max_nominal_anneal_time_us
                .unwrap_or(2000.0),
            decorrelation_time_range_us: decor,
            max_run_duration_us: props
                .problem_run_duration_range
                .map_or(1_000_000.0, |r| r.max),
        }
    }

    /// Readout time per sample for `m` qubits used.
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

    /// The timing of a problem with `m` active qubits.
    pub fn timing(&self, p: &RunParams, m: usize) -> Timing {
        let prog_therm = p
            .programming_thermalization_us
            .unwrap_or(self.default_programming_thermalization_us);
        let read_therm = p
            .readout_thermalization_us
            .unwrap_or(self.default_readout_thermalization_us);
        let (prog_delta, delay_delta) = match p.reverse {
            Some(true) => (
                self.ra_with_reinit_prog_delta_us,
                self.ra_with_reinit_delay_delta_us,
            ),
            Some(false) => (
                self.ra_without_reinit_prog_delta_us,
                self.ra_without_reinit_delay_delta_us,
            ),
            None => (0.0, 0.0),
        };
        let programming = self.typical_programming_time_us + prog_delta + prog_therm;
        // Per-sample times are reported to 0.01 µs, and totals are built from the reported values.
        let readout = round2(self.readout_us(m));
        let decor = if p.reduce_intersample_correlation
            && self.decorrelation_max_nominal_anneal_time_us > 0.0
        {
            let (r0, r1) = self.decorrelation_time_range_us;
            p.anneal_us / self.decorrelation_max_nominal_anneal_time_us * (r1 - r0) + r0
        } else {
            0.0
        };
        let delay = round2(self.delay_per_sample_us + delay_delta + read_therm.max(decor));
        let reads = p.num_reads as f64;
        let sampling = reads * (p.anneal_us + readout + delay);
        Timing {
            programming_us: round2(programming),
            anneal_us: p.anneal_us,
            readout_us: round2(readout),
            delay_us: round2(delay),
            sampling_us: round2(sampling),
            access_us: round2(programming + sampling),
            run_duration_us: (p.anneal_us + read_therm) * reads + prog_therm,
        }
    }
}

impl Timing {
    /// The answer's `timing` object (§6.4). Overheads are fixed, deterministic stand-ins.
    pub fn answer_json(&self) -> Value {
        json!({
            "qpu_sampling_time": self.sampling_us,
            "qpu_anneal_time_per_sample": self.anneal_us,
            "qpu_readout_time_per_sample": self.readout_us,
            "qpu_access_time": self.access_us,
            "qpu_access_overhead_time": 1000.0,
            "qpu_programming_time": self.programming_us,
            "qpu_delay_time_per_sample": self.delay_us,
            "total_post_processing_time": 100.0,
            "post_processing_overhead_time": 100.0,
        })
    }
}

/// Round to 0.01 µs as SAPI reports.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `numpy.interp`: piecewise linear, clamped at the ends; `xs` ascending.
pub fn interp(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().min(ys.len());
    if n == 0 {
        return 0.0;
    }
    if x.is_nan() || x <= xs[0] {
        return ys[0];
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    for i in 1..n {
        if x <= xs[i] {
            let (x0, x1, y0, y1) = (xs[i - 1], xs[i], ys[i - 1], ys[i]);
            return if x1 > x0 {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            } else {
                y1
            };
        }
    }
    ys[n - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advantage() -> TimingModel {
        let props = SolverProperties {
            problem_timing_data: serde_json::from_value(advantage_timing_json()).ok(),
            ..SolverProperties::default()
        };
        TimingModel::from_properties(&props)
    }

    fn defaults(num_reads: usize) -> RunParams {
        RunParams {
            num_reads,
            anneal_us: 20.0,
            reverse: None,
            programming_thermalization_us: None,
            readout_thermalization_us: None,
            reduce_intersample_correlation: false,
        }
    }

    #[test]
    fn matches_the_documented_estimate() {
        // docs/sapi-protocol.md §6.3: m = 2, 100 reads → readout 46.72, access ≈ 23799.18.
        let t = advantage().timing(&defaults(100), 2);
        assert!((t.readout_us - 46.72).abs() < 0.01, "{t:?}");
        assert!((t.access_us - 23799.18).abs() < 0.5, "{t:?}");
        // Transcript S02: 10 reads, m = 2 → sampling 872.6, programming 15072.88, access 15945.48.
        let t = advantage().timing(&defaults(10), 2);
        assert_eq!(
            (t.sampling_us, t.programming_us, t.access_us),
            (872.6, 15072.88, 15945.48)
        );
        assert_eq!(t.delay_us, 20.54);
    }

    #[test]
    fn thermalization_enters_delay_and_programming() {
        // Transcript S04: anneal 50, readout_thermalization 10, programming_thermalization 500, m = 4.
        let p = RunParams {
            num_reads: 100,
            anneal_us: 50.0,
            reverse: None,
            programming_thermalization_us: Some(500.0),
            readout_thermalization_us: Some(10.0),
            reduce_intersample_correlation: false,
        };
        let t = advantage().timing(&p, 4);
        assert_eq!(t.programming_us, 14572.88);
        assert_eq!(t.delay_us, 30.54);
        assert_eq!(t.readout_us, 63.09);
        assert_eq!(t.sampling_us, 14363.0);
    }

    #[test]
    fn run_duration_matches_the_documented_example() {
        // DOCS-TIMING: "Upper limit … exceeded: 12010000 > 3000000", e.g. anneal 1000 µs, readout
        // thermalization 200 µs, 10000 reads, programming thermalization 10000 µs.
        let p = RunParams {
            num_reads: 10000,
            anneal_us: 1000.0,
            reverse: None,
            programming_thermalization_us: Some(10000.0),
            readout_thermalization_us: Some(200.0),
            reduce_intersample_correlation: false,
        };
        assert_eq!(advantage().timing(&p, 5627).run_duration_us, 12_010_000.0);
    }

    #[test]
    fn interp_clamps_like_numpy() {
        assert_eq!(interp(-1.0, &[0.0, 1.0], &[5.0, 7.0]), 5.0);
        assert_eq!(interp(0.5, &[0.0, 1.0], &[5.0, 7.0]), 6.0);
        assert_eq!(interp(9.0, &[0.0, 1.0], &[5.0, 7.0]), 7.0);
        assert_eq!(interp(f64::NEG_INFINITY, &[0.0, 1.0], &[5.0, 7.0]), 5.0);
    }

    #[test]
    fn missing_timing_data_uses_2000q_model() {
        let m = TimingModel::from_properties(&SolverProperties::default());
        assert_eq!(m.typical_programming_time_us, 10536.81);
        assert_eq!(m.max_run_duration_us, 1_000_000.0);
    }
}
