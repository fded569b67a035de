//! The crosstalk section from the analysis' per-coupler results (docs/physics.md §5): each coupler placed
//! between its two qubits' sites and coloured by J_eff on a scale symmetric about zero that reaches the
//! 99.5 % quantile of |J_eff| (so that the few strong couplers saturate and the null ones stay pale), the
//! histogram of the z-scores in [−6, 6] with the standard normal density they follow under independence
//! (`n · width · φ(z)` per bin), and the strongest detected couplers.

use super::model::*;
use super::stats::histogram_in;
use crate::analysis::stats::{quantile_sorted, sorted_finite};
use crate::analysis::Analysis;
use std::collections::{HashMap, HashSet};

/// Rows of the strongest-coupler table.
pub const STRONGEST_ROWS: usize = 20;

/// Standard normal density.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Crosstalk numbers, the coupler map (needs a layout) and the z histogram.
pub fn crosstalk(
    a: &Analysis,
    layout: Option<&ChipLayout>,
) -> (Option<CrosstalkInfo>, Option<CouplerMap>, Option<Histogram>) {
    let (Some(cs), Some(summary)) = (&a.crosstalk, &a.crosstalk_summary) else {
        return (None, None, None);
    };
    let mut strongest: Vec<&crate::analysis::CouplerCrosstalk> =
        cs.iter().filter(|c| c.detected).collect();
    strongest.sort_by(|x, y| {
        y.j_eff
            .map(f64::abs)
            .unwrap_or(0.0)
            .total_cmp(&x.j_eff.map(f64::abs).unwrap_or(0.0))
    });
    let info = CrosstalkInfo {
        definition: summary.definition.clone(),
        h: summary.h.clone(),
        fdr: summary.fdr,
        n_tested: summary.n_tested,
        n_detected: summary.n_detected,
        ks_uniform_d: summary.ks_uniform_d,
        ks_uniform_p: summary.ks_uniform_p,
        strongest: strongest
            .iter()
            .take(STRONGEST_ROWS)
            .map(|c| CouplerRow {
                u: c.u,
                v: c.v,
                class: c.class.clone(),
                j_eff: c.j_eff,
                j_eff_se: c.j_eff_se,
                z: c.z,
                q: c.q,
            })
            .collect(),
        noise_law: noise_law_agreement(a, cs),
    };
    let map = layout.map(|l| {
        let site: HashMap<u32, u32> = l
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.spin, i as u32))
            .collect();
        let mut couplers: Vec<CouplerMark> = cs
            .iter()
            .filter_map(|c| {
                Some(CouplerMark {
                    a: *site.get(&c.u)?,
                    b: *site.get(&c.v)?,
                    j_eff: c.j_eff.filter(|j| j.is_finite()),
                    detected: c.detected,
                })
            })
            .collect();
        couplers.sort_by(|x, y| {
            let key = |c: &CouplerMark| (c.detected, c.j_eff.map_or(0.0, f64::abs));
            let (a, b) = (key(x), key(y));
            a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))
        });
        let abs = sorted_finite(couplers.iter().filter_map(|c| c.j_eff.map(f64::abs)));
        let top = quantile_sorted(&abs, 0.995)
            .filter(|t| *t > 0.0)
            .unwrap_or(1.0);
        let max = abs.last().copied().unwrap_or(0.0);
        CouplerMap {
            scale: ColourScale {
                palette: "diverging".into(),
                lo: -top,
                hi: top,
                clipped: max > top,
            },
            couplers,
            fdr: summary.fdr,
        }
    });
    let z: Vec<f64> = cs.iter().map(|c| c.z).filter(|z| z.is_finite()).collect();
    let mut h = histogram_in("crosstalk_z", "coupler z-score", "1", &z, (-6.0, 6.0), 48);
    h.counted = "couplers".into();
    let n = z.len() as f64;
    h.reference = h
        .edges
        .windows(2)
        .flat_map(|w| {
            let width = w[1] - w[0];
            (0..=4).map(move |k| {
                let x = w[0] + width * f64::from(k) / 4.0;
                [x, n * width * phi(x)]
            })
        })
        .collect();
    h.reference_label = Some("N(0, 1) under independence".into());
    (Some(info), map, Some(h))
}

/// Qubits flagged `gaussian_noise` against the qubits of the detected couplers; `None` when none is
/// flagged.
fn noise_law_agreement(
    a: &Analysis,
    cs: &[crate::analysis::CouplerCrosstalk],
) -> Option<NoiseLawAgreement> {
    let flagged: HashSet<u32> = a
        .flagged
        .iter()
        .filter(|f| f.reasons.iter().any(|r| r == "gaussian_noise"))
        .map(|f| f.spin)
        .collect();
    if flagged.is_empty() {
        return None;
    }
    let detected: HashSet<u32> = cs
        .iter()
        .filter(|c| c.detected)
        .flat_map(|c| [c.u, c.v])
        .collect();
    let on_detected = detected.intersection(&flagged).count();
    let both = cs
        .iter()
        .filter(|c| c.detected && flagged.contains(&c.u) && flagged.contains(&c.v))
        .count();
    Some(NoiseLawAgreement {
        detected_qubits: detected.len(),
        flagged_on_detected: on_detected,
        flagged_elsewhere: flagged.len() - on_detected,
        couplers_both_flagged: both,
    })
}

#[cfg(test)]
mod tests {
    use super::phi;

    #[test]
    fn normal_density_at_known_points() {
        assert!((phi(0.0) - 0.398_942_280_401_432_7).abs() < 1e-15);
        assert!((phi(1.0) - 0.241_970_724_519_143_37).abs() < 1e-15);
    }
}
