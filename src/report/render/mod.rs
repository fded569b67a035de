//! Renderers of the report, each into bytes: [`json()`], [`markdown()`] (with its PNG files) and [`html()`]
//! (one self-contained page). Markdown and HTML render the same outline, [`document::document`]: headings,
//! paragraphs, tables, formulas and figures, in reading order.

pub mod document;
pub mod format;
pub mod html;
pub mod markdown;

use super::model::Report;
use super::plot::chipmap::{ChipMapFigure, CouplerMapFigure};
use super::plot::curve::CurveFigure;
use super::plot::heatmap::HeatmapFigure;
use super::plot::histogram::HistogramFigure;
use super::plot::{self, Figure, PlotError};

/// One figure of the report.
pub enum Fig<'a> {
    Curve(CurveFigure<'a>),
    Histogram(HistogramFigure<'a>),
    Map(ChipMapFigure<'a>),
    Couplers(CouplerMapFigure<'a>),
    Heatmap(HeatmapFigure<'a>),
}

macro_rules! each {
    ($self:ident, $f:ident => $e:expr) => {
        match $self {
            Fig::Curve($f) => $e,
            Fig::Histogram($f) => $e,
            Fig::Map($f) => $e,
            Fig::Couplers($f) => $e,
            Fig::Heatmap($f) => $e,
        }
    };
}

impl Fig<'_> {
    pub fn name(&self) -> String {
        each!(self, f => f.name())
    }
    pub fn title(&self) -> String {
        each!(self, f => f.title())
    }
    pub fn svg(&self) -> Result<String, PlotError> {
        each!(self, f => plot::to_svg(f))
    }
    pub fn png(&self) -> Result<Vec<u8>, PlotError> {
        each!(self, f => plot::to_png(f))
    }
    /// Wide figures take a whole row of the page.
    pub fn wide(&self) -> bool {
        matches!(self, Fig::Map(_) | Fig::Couplers(_) | Fig::Heatmap(_))
    }
}

/// The report as compact JSON (with a final newline): the figure data of a full chip hold hundreds of
/// thousands of numbers, which indentation would double.
pub fn json(report: &Report) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec(report)?;
    out.push(b'\n');
    Ok(out)
}

/// Every file of a report folder: `report.html`, `report.md`, `report.json` and the PNG figures, as
/// (file name, bytes).
pub fn folder(report: &Report) -> Result<Vec<(String, Vec<u8>)>, RenderError> {
    let mut files = vec![
        ("report.html".to_string(), html(report)?),
        ("report.json".to_string(), json(report)?),
    ];
    let (md, pngs) = markdown(report)?;
    files.push(("report.md".to_string(), md));
    files.extend(pngs);
    Ok(files)
}

/// Errors of rendering.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("cannot render report.json: {0}")]
    Json(#[from] serde_json::Error),
}

pub use html::html;
pub use markdown::markdown;
