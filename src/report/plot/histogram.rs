//! Histogram of one quantity over the chip: equal bins from the report model, the chip median as a dashed
//! line, an optional reference curve (N(0, 1) for z-scores), and the number of values beyond the range.

use super::colour::Palette;
use super::marks::Marks;
use super::{bold, text, tick, DrawResult, Figure, INK, LABEL_PX, TICK_PX, TITLE_PX, VERMILLION};
use crate::report::model::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The figure of one [`Histogram`].
pub struct HistogramFigure<'a>(pub &'a Histogram);

/// Axis label with its unit: `β (1/h)`; no unit for dimensionless quantities.
pub fn axis_label(label: &str, unit: &str) -> String {
    if unit.is_empty() || unit == "1" {
        label.to_string()
    } else {
        format!("{label} ({unit})")
    }
}

impl Figure for HistogramFigure<'_> {
    fn name(&self) -> String {
        format!("hist-{}", self.0.name)
    }

    fn title(&self) -> String {
        format!(
            "Histogram of {} over {} {}",
            axis_label(&self.0.label, &self.0.unit),
            self.0.n,
            self.0.counted
        )
    }

    fn size(&self) -> (u32, u32) {
        (420, 320)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _marks: &mut Marks,
    ) -> DrawResult<DB> {
        let hst = self.0;
        let area = root.titled(&hst.label, bold(TITLE_PX))?.margin(12, 0, 0, 0);
        let (lo, hi) = match (hst.edges.first(), hst.edges.last()) {
            (Some(&a), Some(&b)) if b > a => (a, b),
            _ => (0.0, 1.0),
        };
        let peak = hst
            .counts
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(
                hst.reference
                    .iter()
                    .map(|p| p[1].ceil() as u64)
                    .max()
                    .unwrap_or(0),
            )
            .max(1) as f64;
        let xfmt = super::ticker(lo, hi);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(6)
            .margin_right(14)
            .margin_top(4)
            .y_label_area_size(58)
            .x_label_area_size(46)
            .build_cartesian_2d(lo..hi, 0.0..peak * 1.12)?;
        chart
            .configure_mesh()
            .x_desc(axis_label(&hst.label, &hst.unit))
            .y_desc(hst.counted.as_str())
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&|v| tick(*v))
            .label_style(text(TICK_PX))
            .axis_desc_style(text(LABEL_PX))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe8, 0xe8, 0xe8))
            .draw()?;
        let fill = Palette::Viridis.at(0.35);
        chart.draw_series(
            hst.counts
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .filter_map(|(i, &n)| {
                    let (a, b) = (*hst.edges.get(i)?, *hst.edges.get(i + 1)?);
                    Some(Rectangle::new([(a, 0.0), (b, n as f64)], fill.filled()))
                }),
        )?;
        if !hst.reference.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    hst.reference.iter().map(|p| (p[0], p[1])),
                    VERMILLION.stroke_width(2),
                ))?
                .label(hst.reference_label.clone().unwrap_or_default())
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], VERMILLION.stroke_width(2))
                });
        }
        if let Some(m) = hst.median.filter(|m| (lo..=hi).contains(m)) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(m, 0.0), (m, peak * 1.12)],
                    5,
                    4,
                    INK.stroke_width(1),
                ))?
                .label(format!("median {}", tick(m)))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], INK.stroke_width(1)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(6)
            .label_font(text(TICK_PX - 1.0))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(0xbb, 0xbb, 0xbb))
            .draw()?;
        if hst.below + hst.above > 0 {
            let note = format!("not shown: {} below, {} above", hst.below, hst.above);
            let (w, _) = self.size();
            root.draw(&Text::new(
                note,
                (w as i32 - 8, 26),
                text(TICK_PX - 3.0).pos(Pos::new(HPos::Right, VPos::Top)),
            ))?;
        }
        Ok(())
    }
}
