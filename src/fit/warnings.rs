//! Per-qubit warnings (docs/physics.md §3 "identifiability").

use serde::{Deserialize, Serialize};

/// Something the reader of a fit should know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitWarning {
    /// `p(h) + p(-h) ≈ 1` while b ≈ 0 and η is large: gauge-averaged data, η may be a disguised |b| (§3.4).
    /// Only for sweeps whose gauge handling is unknown (`meta.gauges` absent, e.g. a QASA csv).
    GaugeAveraged,
    /// No h with β|h + b| > 4: the plateau is not sampled and γ is not identifiable (§3.3).
    NoPlateau,
    /// η is below its resolution (profile interval reaches 0 or |η| < 2 SE) (§3.2).
    EtaNotResolved,
    /// p_down never crosses 1/2 in the h range (stuck or far-biased qubit): β and b are not identified.
    NoTransition,
    /// Fewer than 100 reads per h on median.
    FewReads,
    /// Starting points reached different maxima (the best one is reported).
    StartsDisagree,
    /// The profile search found a higher ℓ than the fit; the fit was redone from there.
    RefitFromProfile,
    /// Dispersion above 1.5 under the per-read likelihood: over-dispersed counts; model-based
    /// (binomial) errors are too small, the default robust errors account for it (§3.5). Not raised
    /// under the per-call likelihood, which describes the over-dispersion.
    OverDispersed,
    /// More than 10 % of bootstrap replicates failed.
    BootstrapFailures,
}

impl FitWarning {
    pub fn message(self) -> &'static str {
        match self {
            FitWarning::GaugeAveraged => "looks gauge-averaged (p(h)+p(-h)≈1, b≈0, η large): b may be hidden in η; record counts in the physical frame",
            FitWarning::NoPlateau => "no plateau in the h range: γ is not identifiable; extend the h range",
            FitWarning::EtaNotResolved => "η below its resolution: report its upper bound only",
            FitWarning::NoTransition => "p_down never crosses 1/2 in the h range: stuck or strongly biased qubit, β and b unreliable",
            FitWarning::FewReads => "fewer than 100 reads per h: errors are large and asymptotics doubtful",
            FitWarning::StartsDisagree => "starting points reached different maxima; the best is reported",
            FitWarning::RefitFromProfile => "profile search found a better maximum; refitted from it",
            FitWarning::OverDispersed => "over-dispersed counts (φ > 1.5, calls share their noise): binomial *_se_model are too small; the default robust errors account for it",
            FitWarning::BootstrapFailures => "more than 10 % of bootstrap replicates failed",
        }
    }
}
