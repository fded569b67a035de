//! Response curve of one qubit: measured `P(s = −1)` per h with its 68 % interval, the fitted model and the
//! ideal Gibbs qubit at the chip median β (docs/physics.md §2), and below it the Pearson residuals of the
//! data against the fit.

use super::marks::Marks;
use super::{
    bold, text, tick, DrawResult, Figure, BLUE, GREY, INK, LABEL_PX, ORANGE, TICK_PX, TITLE_PX,
};
use crate::report::model::ResponseCurve;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The figure of one [`ResponseCurve`].
pub struct CurveFigure<'a>(pub &'a ResponseCurve);

impl Figure for CurveFigure<'_> {
    fn name(&self) -> String {
        format!("curve-{}-{}", self.0.role, self.0.spin)
    }

    fn title(&self) -> String {
        let c = self.0;
        format!(
            "Qubit {} ({}): measured P(s = −1) against h, fitted {} model, and the ideal Gibbs qubit at the chip median β = {}",
            c.spin,
            c.role,
            c.model,
            tick(c.ideal_beta)
        )
    }

    fn size(&self) -> (u32, u32) {
        (620, 470)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _marks: &mut Marks,
    ) -> DrawResult<DB> {
        let c = self.0;
        let (w, h) = self.size();
        let title_area = root.titled(&heading(c), bold(TITLE_PX))?;
        let (upper, lower) = title_area.split_vertically((h as f64 * 0.66) as u32);
        let (h_lo, h_hi) = h_range(c);
        let mut top = ChartBuilder::on(&upper)
            .margin_left(8)
            .margin_right(16)
            .margin_top(6)
            .y_label_area_size(70)
            .x_label_area_size(8)
            .build_cartesian_2d(h_lo..h_hi, -0.02f64..1.02f64)?;
        top.configure_mesh()
            .y_desc("P(s = −1)")
            .x_labels(9)
            .y_labels(6)
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|v| tick(*v))
            .label_style(text(TICK_PX))
            .axis_desc_style(text(LABEL_PX))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe8, 0xe8, 0xe8))
            .draw()?;
        top.draw_series(DashedLineSeries::new(
            c.ideal.iter().map(|p| (p[0], p[1])),
            8,
            5,
            ORANGE.stroke_width(2),
        ))?
        .label(format!("ideal Gibbs, median β {}", tick(c.ideal_beta)))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], ORANGE.stroke_width(2)));
        top.draw_series(LineSeries::new(
            c.fit.iter().map(|p| (p[0], p[1])),
            BLUE.stroke_width(2),
        ))?
        .label(format!("fit ({})", c.model))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLUE.stroke_width(2)));
        top.draw_series(
            c.points
                .iter()
                .map(|p| PathElement::new(vec![(p.h, p.lo), (p.h, p.hi)], INK.stroke_width(1))),
        )?;
        top.draw_series(
            c.points
                .iter()
                .map(|p| Circle::new((p.h, p.p), 3, INK.filled())),
        )?
        .label("data k/N, 68 % error bars")
        .legend(|(x, y)| Circle::new((x + 11, y), 3, INK.filled()));
        top.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .margin(10)
            .label_font(text(TICK_PX))
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()?;
        let r_max = residual_range(c);
        let xfmt = super::ticker(h_lo, h_hi);
        let mut bottom = ChartBuilder::on(&lower)
            .margin_left(8)
            .margin_right(16)
            .margin_bottom(4)
            .y_label_area_size(70)
            .x_label_area_size(46)
            .build_cartesian_2d(h_lo..h_hi, -r_max..r_max)?;
        bottom
            .configure_mesh()
            .x_desc("field h (solver h units)")
            .y_desc("residual (σ)")
            .x_labels(9)
            .y_labels(5)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&|v| tick(*v))
            .label_style(text(TICK_PX))
            .axis_desc_style(text(LABEL_PX))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe8, 0xe8, 0xe8))
            .draw()?;
        for level in [-2.0, 2.0] {
            bottom.draw_series(DashedLineSeries::new(
                [(h_lo, level), (h_hi, level)],
                4,
                4,
                GREY.stroke_width(1),
            ))?;
        }
        bottom.draw_series(LineSeries::new(
            [(h_lo, 0.0), (h_hi, 0.0)],
            GREY.stroke_width(1),
        ))?;
        bottom.draw_series(c.points.iter().filter_map(|p| {
            p.residual
                .map(|r| Circle::new((p.h, r.clamp(-r_max, r_max)), 3, BLUE.filled()))
        }))?;
        let _ = w;
        Ok(())
    }
}

fn heading(c: &ResponseCurve) -> String {
    let f = c
        .fidelity
        .map(|f| format!(", fidelity {f:.4}"))
        .unwrap_or_default();
    format!("Qubit {} — {}{} (grade {})", c.spin, c.role, f, c.grade)
}

fn h_range(c: &ResponseCurve) -> (f64, f64) {
    let lo = c.points.iter().map(|p| p.h).fold(f64::INFINITY, f64::min);
    let hi = c
        .points
        .iter()
        .map(|p| p.h)
        .fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi > lo {
        let pad = 0.02 * (hi - lo);
        (lo - pad, hi + pad)
    } else {
        (-1.0, 1.0)
    }
}

/// Symmetric residual axis: at least ±3 σ, at most ±50 σ (points beyond sit on the edge).
fn residual_range(c: &ResponseCurve) -> f64 {
    let m = c
        .points
        .iter()
        .filter_map(|p| p.residual)
        .filter(|r| r.is_finite())
        .fold(0.0f64, |a, r| a.max(r.abs()));
    (m * 1.15).clamp(3.0, 50.0)
}
