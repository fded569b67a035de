//! The methods section: how every number of the report was made, with formulas (docs/physics.md §1–6).

use super::model::Method;

fn m(title: &str, text: &str, formulas: &[&str]) -> Method {
    Method {
        title: title.into(),
        text: text.into(),
        formulas: formulas.iter().map(|f| f.to_string()).collect(),
    }
}

/// Every method of the report, in reading order.
pub fn methods() -> Vec<Method> {
    vec![
        m(
            "Experiment",
            "Every qubit is programmed with the same field h and no couplings (J = 0); each qubit is read many \
             times per h and the reads with s = −1 are counted, in the physical frame (the field the qubit saw, \
             the spin it returned). A positive h favours s = −1. Reads of one call (programming cycle) share \
             its quasi-static noise.",
            &["k(h) = reads with s = −1 out of N(h)"],
        ),
        m(
            "Model",
            "Per qubit: effective inverse temperature β (1/h units), static field bias b (h units), saturation γ \
             (dimensionless) and field noise η (h units; σ of the Gaussian variant). The response is an equal \
             mixture of two single-qubit quantum Gibbs states, one per noise branch.",
            &[
                "p_down(h) = (1 + m(h))/2,  m(h) = ½ Σ± (a±/r±) tanh(β r±)",
                "a± = h + b ± η,  c = γ h,  r± = sqrt(a±² + c²)",
                "wrong-state floor = (1 − 1/sqrt(1 + γ²))/2",
            ],
        ),
        m(
            "Fit",
            "Maximum likelihood on the counts, per qubit, with γ and η free in sign (reported as |γ|, |η|) so \
             that no fit stops on a saddle at γ = 0 or η = 0; several starting points; every qubit reports why \
             its fit stopped (converged, on a bound, or failed with a reason).",
            &["ℓ(θ) = Σ_h [k ln p(h; θ) + (N − k) ln(1 − p(h; θ))]"],
        ),
        m(
            "Uncertainties",
            "Standard errors from the observed information (binomial), scaled by sqrt(φ) where counts are \
             over-dispersed, or from a block bootstrap over calls when asked for; 95 % intervals from the \
             profile likelihood (deviance 3.841). The chip summary gives the median with its standard error and \
             the quartiles, and the median of the per-qubit standard errors.",
            &[
                "φ = Pearson χ² / dof",
                "se(median) = 1.2533 · 1.4826 · MAD / sqrt(n)",
            ],
        ),
        m(
            "Response curves",
            "Measured k/N per h with its 68 % Wilson interval (binomial only: over-dispersion makes the true \
             scatter larger), the fitted curve, and the ideal Gibbs qubit at the chip median β̃. The lower panel \
             shows Pearson residuals against the fit; |r| > 2 at many h means the model or the binomial errors \
             do not describe the qubit.",
            &[
                "r(h) = (k − N p)/sqrt(N p (1 − p))",
                "Wilson: (p + 1/2N ± sqrt(p(1−p)/N + 1/4N²)) / (1 + 1/N)",
            ],
        ),
        m(
            "Chip maps",
            "Each qubit at its position in D-Wave's standard 2D layout of the topology (dwave-networkx \
             chimera/pegasus/zephyr_layout of the perfect graph). Colour scales span the 2 %–98 % quantiles \
             (viridis) or a range symmetric about zero (diverging, for signed values); values beyond take the \
             end colour. Grey rings are qubits missing from the working graph, black crosses failed fits.",
            &[],
        ),
    ]
}
