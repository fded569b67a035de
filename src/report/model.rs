//! The report model: everything a renderer needs, as plain serde values with units on every field
//! (`report.json`, schema `schemas/report.schema.json`). Built once by [`super::build`]; the renderers
//! (JSON, Markdown, HTML, the plots) only format and draw it and never compute statistics.

use serde::{Deserialize, Serialize};

/// `format` of the report file.
pub const FORMAT: &str = "qasa-report";
/// Version of the report file.
pub const VERSION: u64 = 1;

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub version: u64,
    /// qasa version that built the report.
    pub tool_version: String,
    /// One line: what chip, what run.
    pub title: String,
    /// RFC 3339 time the report was made (set by the caller; `None` keeps a report reproducible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    pub provenance: Provenance,
    pub protocol: Protocol,
    pub model: ModelInfo,
    /// Fit outcome counts.
    pub fits: FitCounts,
    /// Chip summary: parameters and scores with their uncertainties.
    pub summary: Vec<SummaryRow>,
    /// dwave-system's single pooled temperature, beside the per-qubit distribution (needs the sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_temperature: Option<PooledTemperature>,
    /// Flagged qubits with their reasons (worst first).
    pub flagged: Vec<FlaggedRow>,
    /// Flagged qubits in all (the table may be cut).
    pub n_flagged: usize,
    /// Qubits per flag reason (`outlier:beta`, `over_dispersed`, ...), most frequent first.
    pub flag_reasons: Vec<(String, usize)>,
    /// Definitions of every score.
    pub score_definitions: Vec<ScoreDefinition>,
    /// How every number was made.
    pub methods: Vec<Method>,
    pub figures: Figures,
    /// Spatial structure per quantity (Moran's I, Geary's C with permutation p-values).
    pub spatial: Vec<SpatialRow>,
    /// Crosstalk summary when the sweep has pair counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosstalk: Option<CrosstalkInfo>,
    /// Comparison with another fit of the same chip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// What was skipped and why, and other remarks for the reader.
    pub notes: Vec<String>,
}

/// Where the data came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `simulated`, `collected` or `qasa_csv`.
    pub source: String,
    pub solver: Option<String>,
    /// Working-graph id (`identity.version.graph_id`).
    pub graph_id: Option<String>,
    /// `pegasus [16]`.
    pub topology: Option<String>,
    /// RFC 3339 time stamps of the first and last call.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Versions of qasa that wrote the sweep and the fit.
    pub sweep_tool_version: String,
    pub fit_tool_version: String,
    /// Solver parameters sent with every call.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// `true`: random spin-reversal gauges, counts mapped to the physical frame; `false`: none; `None`:
    /// unknown (e.g. a QASA csv).
    pub gauges: Option<bool>,
    /// Seed of a simulation.
    pub seed: Option<u64>,
    /// Input files as given (names only).
    pub inputs: Vec<String>,
}

/// How the data were taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// Qubits in the sweep.
    pub n_qubits: usize,
    /// h values, range and step (h units).
    pub n_h: usize,
    pub h_min: f64,
    pub h_max: f64,
    /// Median spacing of the h grid (h units).
    pub h_step: Option<f64>,
    /// Median reads per (h, qubit).
    pub reads_per_h: Option<f64>,
    /// Reads per call (programming cycle), from the parameters sent.
    pub reads_per_call: Option<f64>,
    /// Anneal time, µs.
    pub anneal_time_us: Option<f64>,
    /// Per-call blocks recorded (block bootstrap).
    pub n_blocks: usize,
    /// Couplers with pair counts (crosstalk), 0 when none were recorded.
    pub n_pair_couplers: usize,
    /// Reads over all h values and qubits.
    pub total_reads: f64,
    /// QPU access time of the sweep, seconds, and where the number comes from (`charged` by the
    /// service, `estimated` from the solver's timing model); `None` when not recorded.
    pub qpu_time_s: Option<f64>,
    pub qpu_time_kind: Option<String>,
}

/// The model that was fitted and what the data cannot tell apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Qubits per fitted model, `(model, count)`.
    pub models: Vec<(String, usize)>,
    /// The response function in plain text.
    pub formula: Vec<String>,
    /// Identifiability caveats that apply to this data, each with the number of qubits concerned.
    pub caveats: Vec<Caveat>,
    /// Error method of the fit in words (binomial, dispersion-scaled, bootstrap, ...).
    pub errors: String,
}

/// One identifiability caveat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Caveat {
    /// Stable code (the fit warning, or a chip-level code).
    pub code: String,
    /// Qubits concerned (0 for chip-level caveats).
    pub n_qubits: usize,
    pub text: String,
}

/// Fit outcomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitCounts {
    pub n_qubits: usize,
    pub converged: usize,
    pub on_bound: usize,
    pub failed: usize,
    /// Failure reasons with counts.
    pub failures: Vec<(String, usize)>,
    /// Median dispersion (Pearson χ²/dof).
    pub median_dispersion: Option<f64>,
}

/// One row of the chip summary, in the unit of its quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Key (`beta`, `fidelity`, ...), display label and unit.
    pub name: String,
    pub label: String,
    pub unit: String,
    /// Qubits with a value.
    pub n: usize,
    pub median: Option<f64>,
    /// Standard error of the chip median, `1.2533 · 1.4826 MAD / sqrt(n)`.
    pub median_se: Option<f64>,
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    /// Median of the per-qubit standard errors (the typical measurement error of one qubit).
    pub typical_se: Option<f64>,
    /// Robust outliers (|z| > 3.5 in the worse direction).
    pub n_outliers: usize,
    /// `higher`, `lower` or `both` (which side is worse is `worse`).
    pub worse: String,
}

/// One flagged qubit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlaggedRow {
    pub spin: u32,
    pub grade: String,
    pub status: String,
    /// β (1/h), b (h), |γ|, |η| (h), fidelity (probability).
    pub beta: Option<f64>,
    pub b: Option<f64>,
    pub gamma: Option<f64>,
    pub eta: Option<f64>,
    pub fidelity: Option<f64>,
    /// Reason codes and their one-line explanations.
    pub reasons: Vec<String>,
    pub details: Vec<String>,
}

/// What a score means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreDefinition {
    pub name: String,
    pub label: String,
    pub formula: String,
    pub unit: String,
    /// `higher` or `lower` is better; `letter` for the grade.
    pub better: String,
    pub description: String,
}

/// dwave-system's pooled temperature (`fast_effective_temperature`) beside the per-qubit β.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PooledTemperature {
    pub definition: String,
    /// Largest |h| used (h units).
    pub h_max: f64,
    /// Pooled β (1/h) with its robust standard error.
    pub beta: f64,
    pub beta_se: f64,
    /// T = 1/β (h units) with its standard error.
    pub temperature: f64,
    pub temperature_se: f64,
    pub n_qubits: usize,
    /// Per-qubit fitted β: median and quartiles (1/h).
    pub per_qubit_beta_median: Option<f64>,
    pub per_qubit_beta_q25: Option<f64>,
    pub per_qubit_beta_q75: Option<f64>,
}

/// A method description: a title, the text, and formulas (plain text, Unicode).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Method {
    pub title: String,
    pub text: String,
    pub formulas: Vec<String>,
}

/// Spatial statistics of one quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpatialRow {
    pub name: String,
    pub label: String,
    pub morans_i: Option<f64>,
    pub morans_p: Option<f64>,
    pub gearys_c: Option<f64>,
    pub gearys_p: Option<f64>,
    /// Strongest coordinate dependence: `orientation`, `cell_row`, ... with its BH q-value.
    pub strongest_coordinate: Option<String>,
    pub strongest_coordinate_q: Option<f64>,
}

/// Crosstalk analysis in numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrosstalkInfo {
    pub definition: String,
    /// h values used (h units).
    pub h: Vec<f64>,
    pub fdr: f64,
    pub n_tested: usize,
    pub n_detected: usize,
    /// Kolmogorov–Smirnov distance of the p-values from uniform and its p-value.
    pub ks_uniform_d: f64,
    pub ks_uniform_p: f64,
    /// Strongest detected couplers (|J_eff| descending).
    pub strongest: Vec<CouplerRow>,
    /// The fit's per-qubit noise law beside the detection (when some qubits have the `gaussian_noise`
    /// flag): an independent sign of the same couplings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_law: Option<NoiseLawAgreement>,
}

/// Qubits flagged `gaussian_noise` (their per-call noise is not two-point) against the qubits of the
/// detected couplers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseLawAgreement {
    /// Qubits on at least one detected coupler.
    pub detected_qubits: usize,
    /// Of those, qubits flagged `gaussian_noise`.
    pub flagged_on_detected: usize,
    /// Qubits flagged `gaussian_noise` on no detected coupler.
    pub flagged_elsewhere: usize,
    /// Detected couplers whose two qubits are both flagged `gaussian_noise`.
    pub couplers_both_flagged: usize,
}

/// One coupler in a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CouplerRow {
    pub u: u32,
    pub v: u32,
    pub class: Option<String>,
    /// Equivalent spurious coupling, h units (J > 0 favours anti-alignment).
    pub j_eff: Option<f64>,
    pub j_eff_se: Option<f64>,
    pub z: f64,
    pub q: f64,
}

/// The comparison of this fit (B) with another fit of the same chip (A).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Labels of the two runs.
    pub a: String,
    pub b: String,
    pub definition: String,
    pub fdr: f64,
    pub n_compared: usize,
    /// Per parameter: median difference, relative difference for β, qubits changed.
    pub params: Vec<DriftRow>,
    /// Qubits with at least one changed parameter.
    pub changed: Vec<u32>,
    pub only_in_a: Vec<u32>,
    pub only_in_b: Vec<u32>,
    pub failed_in_a: Vec<u32>,
    pub failed_in_b: Vec<u32>,
}

/// Drift of one parameter over the chip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub name: String,
    pub label: String,
    pub unit: String,
    pub n: usize,
    pub median_diff: Option<f64>,
    pub median_relative_diff: Option<f64>,
    pub n_changed: usize,
}

/// Every figure's data, ready to draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Response curves of representative qubits.
    pub curves: Vec<ResponseCurve>,
    /// Histograms of the parameters and scores.
    pub histograms: Vec<Histogram>,
    /// Qubit positions of the chip maps (`None` without a known topology).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<ChipLayout>,
    /// One map per parameter and score, values aligned with `layout.sites`.
    pub maps: Vec<ChipMap>,
    /// Couplers coloured by J_eff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosstalk: Option<CouplerMap>,
    /// Histogram of the crosstalk z-scores against N(0, 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosstalk_z: Option<Histogram>,
    /// Parameter/score correlation matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Heatmap>,
    /// Maps of the change of each parameter (B − A) when comparing.
    pub drift_maps: Vec<ChipMap>,
}

/// A representative qubit's data and curves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseCurve {
    pub spin: u32,
    /// Why this qubit is shown: `best`, `median`, `worst`, `flagged`.
    pub role: String,
    /// One line explaining the role (the flag reason for flagged qubits).
    pub why: String,
    pub model: String,
    pub status: String,
    pub grade: String,
    /// β (1/h), b (h), |γ|, |η| (h) and their standard errors.
    pub params: [Option<f64>; 4],
    pub ses: [Option<f64>; 4],
    pub fidelity: Option<f64>,
    /// Measured `k/N` with its 68 % Wilson interval, and the Pearson residual `(k − Np)/sqrt(Np(1−p))`
    /// against the fit, per h.
    pub points: Vec<CurvePoint>,
    /// Fitted `p_down(h)` on a fine grid, `[h, p]`.
    pub fit: Vec<[f64; 2]>,
    /// Ideal Gibbs qubit `(1 + tanh(β̃ h))/2` at the chip median β̃, `[h, p]`.
    pub ideal: Vec<[f64; 2]>,
    /// β̃ of the ideal curve (1/h).
    pub ideal_beta: f64,
}

/// One measured point of a response curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Field, h units.
    pub h: f64,
    /// Reads and fraction of reads with s = −1.
    pub reads: u32,
    pub p: f64,
    /// 68 % Wilson score interval of `p`.
    pub lo: f64,
    pub hi: f64,
    /// Pearson residual against the fitted curve (`None` without a fit).
    pub residual: Option<f64>,
}

/// A histogram with equal bins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub name: String,
    pub label: String,
    pub unit: String,
    /// What is counted (`qubits`, `couplers`).
    pub counted: String,
    /// Bin edges (`counts.len() + 1`), in the unit.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// Values below the first and above the last edge (drawn as a note).
    pub below: u64,
    pub above: u64,
    /// Qubits with a value.
    pub n: usize,
    pub median: Option<f64>,
    /// A reference density to overlay, `[x, expected count per bin]` (e.g. N(0, 1) for z-scores).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_label: Option<String>,
}

/// Qubit positions on the chip: dnx layout of the perfect graph (x to the right in [0, 1], y in [−1, 0]
/// with 0 the top row), so missing qubits have a place too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChipLayout {
    /// `pegasus:16`.
    pub topology: String,
    /// Family name, for the drawing's mark size.
    pub family: String,
    /// Smallest distance between two sites, in layout units (mark size).
    pub pitch: f64,
    pub sites: Vec<Site>,
}

/// One qubit site of the perfect graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub spin: u32,
    pub x: f64,
    pub y: f64,
    /// 0 vertical, 1 horizontal.
    pub orientation: u8,
    /// In the sweep (false: missing from the working graph or not measured).
    pub present: bool,
}

/// Colour scale of a map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColourScale {
    /// `viridis` (sequential) or `diverging` (RdBu, centred on 0).
    pub palette: String,
    /// Values at the ends of the scale (values beyond are drawn at the end colour).
    pub lo: f64,
    pub hi: f64,
    /// Whether the ends clip values (quantile range) rather than span them all.
    pub clipped: bool,
}

/// A map of one quantity on the chip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChipMap {
    pub name: String,
    pub label: String,
    pub unit: String,
    pub scale: ColourScale,
    /// Value per site of the layout (`None`: missing qubit or failed fit).
    pub values: Vec<Option<f64>>,
    /// Sites marked (e.g. changed qubits in a drift map).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marked: Vec<u32>,
}

/// Couplers coloured by their equivalent spurious coupling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CouplerMap {
    pub scale: ColourScale,
    /// Couplers with data, drawn weakest first.
    pub couplers: Vec<CouplerMark>,
    pub fdr: f64,
}

/// One coupler of the crosstalk map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CouplerMark {
    /// Site indices into `layout.sites`.
    pub a: u32,
    pub b: u32,
    /// J_eff in h units (`None` without a β).
    pub j_eff: Option<f64>,
    pub detected: bool,
}

/// A correlation matrix to draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// `spearman` or `pearson`.
    pub method: String,
    pub labels: Vec<String>,
    pub r: Vec<Vec<Option<f64>>>,
    /// BH q-value ≤ 0.05.
    pub significant: Vec<Vec<bool>>,
}
