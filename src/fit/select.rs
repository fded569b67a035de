//! Model comparison per qubit: likelihood ratio against the next smaller nested model
//! (gibbs ⊂ bias ⊂ noise ⊂ qasa), AIC = 2k - 2ℓ/φ and BIC = k ln(n) - 2ℓ/φ with n the total number of
//! reads (Bernoulli observations) and φ ≥ 1 the dispersion of the pooled counts (quasi-likelihood: an
//! over-dispersed pooled likelihood overstates every difference by φ; φ = 1 for the per-call likelihood).
//! `--model auto` keeps the model with the smallest BIC; models within [`INDISTINGUISHABLE_BIC`] of it
//! are reported as indistinguishable and the simplest of them is kept (fewest parameters, then the
//! two-point `qasa` before `gaussian`: with η̂ = 0 the two are the same model).

use super::result::ModelScore;
use crate::model::Model;

/// The nested parent of a model, if any.
pub fn parent(m: Model) -> Option<Model> {
    match m {
        Model::Gibbs | Model::Gaussian => None,
        Model::Bias => Some(Model::Gibbs),
        Model::Noise => Some(Model::Bias),
        Model::Qasa => Some(Model::Noise),
    }
}

/// Scores for fitted `(model, ℓ)` pairs.
pub fn score(fits: &[(Model, f64)], total_reads: f64, dispersion: f64) -> Vec<ModelScore> {
    let ln_n = total_reads.max(1.0).ln();
    let phi = if dispersion.is_finite() {
        dispersion.max(1.0)
    } else {
        1.0
    };
    fits.iter()
        .map(|&(model, ll)| {
            let k = model.n_params();
            let (lr_vs, lr_stat, lr_p_value) =
                match parent(model).and_then(|p| fits.iter().find(|f| f.0 == p)) {
                    Some(&(p, llp)) => {
                        let stat = (2.0 * (ll - llp) / phi).max(0.0);
                        (Some(p), Some(stat), Some(chi2_sf(stat, k - p.n_params())))
                    }
                    None => (None, None, None),
                };
            ModelScore {
                model,
                n_params: k,
                ll,
                aic: 2.0 * k as f64 - 2.0 * ll / phi,
                bic: k as f64 * ln_n - 2.0 * ll / phi,
                lr_vs,
                lr_stat,
                lr_p_value,
            }
        })
        .collect()
}

/// BIC differences below this do not distinguish two models.
pub const INDISTINGUISHABLE_BIC: f64 = 2.0;

/// The chosen model: the simplest of those within [`INDISTINGUISHABLE_BIC`] of the smallest BIC, and
/// all of those when there are several (sorted by preference).
pub fn best_by_bic(scores: &[ModelScore]) -> Option<(Model, Vec<Model>)> {
    let best = scores
        .iter()
        .filter(|s| s.bic.is_finite())
        .map(|s| s.bic)
        .min_by(f64::total_cmp)?;
    let mut alike: Vec<&ModelScore> = scores
        .iter()
        .filter(|s| s.bic.is_finite() && s.bic - best < INDISTINGUISHABLE_BIC)
        .collect();
    let rank = |m: Model| Model::ALL.iter().position(|&x| x == m).unwrap_or(0);
    alike.sort_by_key(|s| (s.n_params, rank(s.model)));
    let chosen = alike.first()?.model;
    let list = if alike.len() > 1 {
        alike.iter().map(|s| s.model).collect()
    } else {
        Vec::new()
    };
    Some((chosen, list))
}

/// Survival function of χ² with `df` degrees of freedom (closed forms by recursion in df).
pub fn chi2_sf(x: f64, df: usize) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let h = x / 2.0;
    if df % 2 == 0 {
        // e^{-h} Σ_{i<df/2} h^i / i!
        let (mut term, mut sum) = (1.0, 1.0);
        for i in 1..df / 2 {
            term *= h / i as f64;
            sum += term;
        }
        (-h).exp() * sum
    } else {
        // erfc(√h) + e^{-h} Σ_{i=1}^{(df-1)/2} h^{i-1/2}/Γ(i+1/2)
        let mut sum = statrs::function::erf::erfc(h.sqrt());
        let mut term = (h / std::f64::consts::PI).sqrt() * 2.0 * (-h).exp(); // h^{1/2}/Γ(3/2) e^{-h}
        for i in 1..=(df - 1) / 2 {
            sum += term;
            term *= h / (i as f64 + 0.5);
        }
        sum.min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2_known_values() {
        // scipy.stats.chi2.sf
        assert!((chi2_sf(3.841458820694124, 1) - 0.05).abs() < 1e-6);
        assert!((chi2_sf(5.991464547107979, 2) - 0.05).abs() < 1e-12);
        assert!((chi2_sf(7.814727903251178, 3) - 0.05).abs() < 1e-6);
        assert!((chi2_sf(1.0, 4) - 0.9097959895689501).abs() < 1e-12);
        assert_eq!(chi2_sf(0.0, 1), 1.0);
    }

    #[test]
    fn bic_prefers_the_smaller_model_on_ties() {
        let s = score(&[(Model::Gibbs, -100.0), (Model::Bias, -99.9)], 1e5, 1.0);
        assert_eq!(best_by_bic(&s).map(|b| b.0), Some(Model::Gibbs));
        assert_eq!(s[1].lr_vs, Some(Model::Gibbs));
        // η̂ = 0: qasa and gaussian reach the same ℓ; the two-point model is kept, both reported
        let s = score(
            &[(Model::Qasa, -50.0), (Model::Gaussian, -50.0 + 1e-9)],
            1e5,
            1.0,
        );
        assert_eq!(
            best_by_bic(&s),
            Some((Model::Qasa, vec![Model::Qasa, Model::Gaussian]))
        );
        // a clear difference is not flattened, but an over-dispersion of 30 makes 20 nats indistinguishable
        let s = score(&[(Model::Qasa, -50.0), (Model::Gaussian, -30.0)], 1e5, 1.0);
        assert_eq!(best_by_bic(&s), Some((Model::Gaussian, vec![])));
        let s = score(&[(Model::Qasa, -50.0), (Model::Gaussian, -30.0)], 1e5, 30.0);
        assert_eq!(best_by_bic(&s).map(|b| b.0), Some(Model::Qasa));
    }
}
