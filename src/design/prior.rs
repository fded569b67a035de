//! What the design assumes about the chip before measuring it: a sample of qubits with their parameters
//! (β, b, γ, η) and the noise law (docs/design.md, "the prior").
//!
//! - **Family defaults** (no `--prior`): a virtual chip of the plan's family drawn on the plan's own graph
//!   (the virtual QPU's generator without outliers: its spread of β, b, γ, η across the chip), β at the
//!   plan's anneal time, and **β vague**: the sampled qubits are split into scenarios, β × each of
//!   [`BETA_FACTORS`], because the family's β is a guess for a chip never measured (a design good for
//!   β = 6 only could be poor for a chip at β = 8). Targets hold in every scenario. The noise law is the
//!   two-point law of the qasa model (see [`NoiseLaw`]).
//! - **A fit** (`--prior fit.json`, e.g. from a pilot run): the fitted parameters of a sample of its
//!   converged qubits (those on the plan's graph), and the noise law the fit chose (`noise` in fit.json:
//!   per-call with the qasa model → two-point, per-call gaussian → Gaussian, per-read after a comparison
//!   → per read). A fit that made no comparison (pooled counts) leaves the law unknown: two-point is assumed
//!   and the design says so.
//!
//! The design uses [`PRIOR_QUBITS`] qubits, evenly spread over the candidates sorted by qubit index.
//! γ and η enter the model through γ² and η², so their information vanishes at 0: prior values are kept at
//! least [`GAMMA_FLOOR`] and [`ETA_FLOOR`] (a fitted 0 means "below resolution", not "exactly 0").

use super::error::DesignError;
pub use crate::collect::design_record::PriorRecord;
use crate::collect::information::NoiseLaw;
use crate::collect::plan::Plan;
use crate::device::truth::{generate, DeviceConfig};
use crate::model::Params;
use serde_json::Value;
use std::path::Path;

/// Seed of the virtual chip of a family-default prior (fixed: the design does not depend on the gauge
/// seed).
pub const PRIOR_SEED: u64 = 1;
/// Qubits of the prior sample.
pub const PRIOR_QUBITS: usize = 32;
/// Multipliers of β spread over the family-default prior (β is unknown before the first measurement).
pub const BETA_FACTORS: [f64; 3] = [0.75, 1.0, 1.3];
/// Smallest γ of a prior qubit.
pub const GAMMA_FLOOR: f64 = 0.005;
/// Smallest η of a prior qubit, h units.
pub const ETA_FLOOR: f64 = 0.002;

/// One qubit of the prior sample.
#[derive(Clone, Debug, PartialEq)]
pub struct PriorQubit {
    /// Column of the qubit in the plan.
    pub col: usize,
    pub qubit: u32,
    /// β in 1/h at the plan's anneal time, b and η in h units.
    pub params: Params,
    /// Scenario of the prior the qubit belongs to (the β factor of a family-default prior; 0 for a fit).
    pub scenario: usize,
}

/// A sample of qubits and the noise law.
#[derive(Clone, Debug, PartialEq)]
pub struct Prior {
    pub qubits: Vec<PriorQubit>,
    pub law: NoiseLaw,
    pub summary: PriorRecord,
    /// Names of the scenarios the qubits belong to (`β×0.75`, …; one for a fit).
    pub scenarios: Vec<String>,
}

fn floored(p: Params) -> Params {
    Params::new(
        p.beta,
        p.b,
        p.gamma.abs().max(GAMMA_FLOOR),
        p.eta.abs().max(ETA_FLOOR),
    )
}

/// `n` indices spread evenly over `0..len`.
fn spread(len: usize, n: usize) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    (0..n).map(|i| (2 * i + 1) * len / (2 * n)).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn median_params(q: &[PriorQubit]) -> Params {
    let m = |f: fn(&Params) -> f64| median(q.iter().map(|x| f(&x.params)).collect());
    Params::new(m(|p| p.beta), m(|p| p.b), m(|p| p.gamma), m(|p| p.eta))
}

impl Prior {
    /// The family-default prior on the plan's graph (see the module docs); `seed` draws the virtual chip.
    pub fn family_defaults(
        plan: &Plan,
        law: Option<NoiseLaw>,
        seed: u64,
    ) -> Result<Prior, DesignError> {
        let graph = plan.working_graph()?;
        let config = DeviceConfig {
            anneal_time_us: plan.anneal_time_us,
            seed,
            outlier_fraction: 0.0,
            ..DeviceConfig::default()
        };
        let truth = generate(&graph, &config);
        let mut cands: Vec<(usize, u32, Params)> = Vec::new();
        for t in &truth.qubits {
            if let Ok(col) = plan.qubits.binary_search(&t.qubit) {
                let beta = truth.beta_at(t, plan.anneal_time_us);
                cands.push((col, t.qubit, Params::new(beta, t.b, t.gamma, t.eta)));
            }
        }
        cands.sort_by_key(|c| c.1);
        let qubits: Vec<PriorQubit> = spread(cands.len(), PRIOR_QUBITS)
            .into_iter()
            .enumerate()
            .map(|(i, k)| {
                let (col, qubit, p) = cands[k];
                let f = BETA_FACTORS[i % BETA_FACTORS.len()];
                PriorQubit {
                    col,
                    qubit,
                    params: floored(Params::new(p.beta * f, p.b, p.gamma, p.eta)),
                    scenario: i % BETA_FACTORS.len(),
                }
            })
            .collect();
        if qubits.is_empty() {
            return Err(DesignError::EmptyPrior {
                reason: "the plan has no qubits".into(),
            });
        }
        let law = law.unwrap_or(NoiseLaw::TwoPoint);
        Ok(Prior {
            summary: PriorRecord {
                source: "family_defaults".into(),
                file: None,
                qubits: qubits.len(),
                median: median_params(&qubits),
                note: format!(
                    "a virtual {} chip's spread of parameters, β at {} µs spread over ×{:?} (β is unknown before a first measurement), noise law {} (assumed)",
                    plan.solver.topology.kind,
                    plan.anneal_time_us,
                    BETA_FACTORS,
                    law.name()
                ),
            },
            qubits,
            law,
            scenarios: BETA_FACTORS.iter().map(|f| format!("β×{f}")).collect(),
        })
    }

    /// A prior from a fit file (`qasa fit -o fit.json`); `law` overrides the fit's noise choice.
    pub fn from_fit_file(
        path: &Path,
        plan: &Plan,
        law: Option<NoiseLaw>,
    ) -> Result<Prior, DesignError> {
        let bad = |reason: String| DesignError::Prior {
            path: path.to_path_buf(),
            reason,
        };
        let raw = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
                .map_err(|e| bad(format!("bad gzip data: {e}")))?;
            out
        } else {
            raw
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        let mut prior = Prior::from_fit_value(&v, plan, law).map_err(bad)?;
        prior.summary.file = Some(path.display().to_string());
        Ok(prior)
    }

    /// A prior from a parsed fit file.
    pub fn from_fit_value(v: &Value, plan: &Plan, law: Option<NoiseLaw>) -> Result<Prior, String> {
        let list = v
            .get("qubits")
            .and_then(Value::as_array)
            .ok_or("not a qasa fit file (no \"qubits\" list)")?;
        let (fit_law, law_note) = fit_noise_law(v);
        let mut cands: Vec<(usize, u32, Params)> = Vec::new();
        let mut off_graph = 0usize;
        for q in list {
            let failed = q.pointer("/status/kind").and_then(Value::as_str) == Some("failed");
            let num = |k: &str| q.get(k).and_then(Value::as_f64);
            let (Some(id), Some(beta), Some(b)) = (
                q.get("qubit").and_then(Value::as_u64),
                num("beta"),
                num("b"),
            ) else {
                continue;
            };
            if failed || !(beta.is_finite() && beta > 0.0 && b.is_finite()) {
                continue;
            }
            let Ok(id) = u32::try_from(id) else { continue };
            match plan.qubits.binary_search(&id) {
                Ok(col) => cands.push((
                    col,
                    id,
                    Params::new(
                        beta,
                        b,
                        num("gamma").unwrap_or(0.0),
                        num("eta").unwrap_or(0.0),
                    ),
                )),
                Err(_) => off_graph += 1,
            }
        }
        if cands.is_empty() {
            return Err(format!(
                "none of its {} qubits has a usable fit on the plan's graph ({off_graph} are not on it)",
                list.len()
            ));
        }
        cands.sort_by_key(|c| c.1);
        let qubits: Vec<PriorQubit> = spread(cands.len(), PRIOR_QUBITS)
            .into_iter()
            .map(|k| {
                let (col, qubit, p) = cands[k];
                PriorQubit {
                    col,
                    qubit,
                    params: floored(p),
                    scenario: 0,
                }
            })
            .collect();
        let law_used = law.or(fit_law).unwrap_or(NoiseLaw::TwoPoint);
        let note = match (law, fit_law) {
            (Some(l), _) => format!("noise law {} (given)", l.name()),
            (None, Some(_)) => format!("noise law {} ({law_note})", law_used.name()),
            (None, None) => format!("noise law two_point (assumed: {law_note})"),
        };
        Ok(Prior {
            summary: PriorRecord {
                source: "fit".into(),
                file: None,
                qubits: qubits.len(),
                median: median_params(&qubits),
                note: format!(
                    "fitted values of {} of the fit's {} usable qubits on the plan's graph; {note}",
                    qubits.len(),
                    cands.len()
                ),
            },
            qubits,
            law: law_used,
            scenarios: vec!["fit".into()],
        })
    }
}

/// The noise law a fit chose, and why (None when it made no comparison).
fn fit_noise_law(v: &Value) -> (Option<NoiseLaw>, String) {
    let noise = v.get("noise");
    let likelihood = noise
        .and_then(|n| n.get("likelihood"))
        .and_then(Value::as_str);
    let compared = noise
        .and_then(|n| n.get("candidates"))
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    // The law of most qubits: with `per_qubit_law` each qubit kept its own (its `model`).
    let models: Vec<&str> = v
        .get("qubits")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|q| q.get("model").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let gaussian = models.iter().filter(|&&m| m == "gaussian").count();
    match (likelihood, compared) {
        (Some("per_call"), _) if 2 * gaussian > models.len() => (
            Some(NoiseLaw::Gaussian),
            "the fit chose the per-call likelihood with Gaussian noise".into(),
        ),
        (Some("per_call"), _) => (
            Some(NoiseLaw::TwoPoint),
            "the fit chose the per-call likelihood with two-point noise".into(),
        ),
        (Some("per_read"), true) => (
            Some(NoiseLaw::PerRead),
            "the fit found per-read noise more likely than per-call noise".into(),
        ),
        _ => (
            None,
            "the fit did not compare per-read and per-call noise (its sweep had no per-call blocks)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_even_and_complete() {
        assert_eq!(spread(3, 32), vec![0, 1, 2]);
        assert_eq!(spread(10, 2), vec![2, 7]);
        let s = spread(1000, 32);
        assert_eq!(s.len(), 32);
        assert!(s.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn noise_law_of_a_fit() {
        let v = serde_json::json!({"noise": {"likelihood": "per_call", "candidates": [1]}, "qubits": [{"model": "gaussian"}]});
        assert_eq!(fit_noise_law(&v).0, Some(NoiseLaw::Gaussian));
        let v = serde_json::json!({"noise": {"likelihood": "per_call", "candidates": [1]}, "qubits": [{"model": "qasa"}]});
        assert_eq!(fit_noise_law(&v).0, Some(NoiseLaw::TwoPoint));
        // a law per qubit: the law of most qubits
        let v = serde_json::json!({"noise": {"likelihood": "per_call", "candidates": [1], "per_qubit_law": true},
            "qubits": [{"model": "gaussian"}, {"model": "qasa"}, {"model": "qasa"}]});
        assert_eq!(fit_noise_law(&v).0, Some(NoiseLaw::TwoPoint));
        let v = serde_json::json!({"noise": {"likelihood": "per_read", "candidates": [1]}, "qubits": []});
        assert_eq!(fit_noise_law(&v).0, Some(NoiseLaw::PerRead));
        let v = serde_json::json!({"noise": {"likelihood": "per_read", "candidates": []}, "qubits": []});
        assert_eq!(fit_noise_law(&v).0, None);
        assert_eq!(fit_noise_law(&serde_json::json!({"qubits": []})).0, None);
    }
}
