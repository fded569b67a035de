//! The hardware report (design.md "report"; issue 13): one [`Report`] model built from a sweep, its fit
//! and the analysis (plus, optionally, a second fit of the same chip to compare with), rendered without
//! further computation into JSON ([`render::json`], schema `schemas/report.schema.json`), Markdown with
//! PNG plots beside it ([`render::markdown`]) and one self-contained HTML page with inline SVG plots
//! ([`render::html`]: no network, no external fonts or scripts).
//!
//! - [`model`]: the report's plain serde types (units on every field);
//! - [`build`]: the one place that turns fits, sweeps and analyses into the model (with [`stats`],
//!   [`provenance`], [`curves`], [`chip`], [`methods`]);
//! - [`plot`]: the figures, drawn with plotters on SVG and bitmap backends;
//! - [`render`]: the renderers, each into bytes.

pub mod build;
pub mod chip;
pub mod crosstalk;
pub mod curves;
pub mod demo;
pub mod drift;
pub mod methods;
pub mod model;
pub mod plot;
pub mod provenance;
pub mod render;
pub mod sections;
pub mod stats;

pub use build::{build, check_same_chip, ReportInput};
pub use model::Report;

/// Errors that stop a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the fit and the sweep do not belong to the same chip: {reason}; give the sweep the fit was made from, or leave the fit out to fit the sweep")]
    Mismatch { reason: String },
    #[error("the comparison fit is not of the same chip: {reason}; compare two fits of one chip")]
    CompareMismatch { reason: String },
    #[error("the fit has no qubits: nothing to report")]
    Empty,
    #[error("the analysis is not of this fit (its qubits differ); give the analysis made from this fit, or leave it out")]
    AnalysisMismatch,
    #[error(transparent)]
    Analysis(#[from] crate::analysis::AnalysisError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
}
