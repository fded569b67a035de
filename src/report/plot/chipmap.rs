//! Chip maps: one quantity per qubit on the hardware layout (dnx positions of the perfect graph, so missing
//! qubits keep their place and are drawn as grey rings), failed fits as black crosses, and the coupler map
//! of the crosstalk analysis (each coupler a line between its qubits coloured by J_eff on a diverging scale
//! centred on 0, weakest first; detected couplers thicker). Colour bars carry the quantity and
//! its unit; values beyond a clipped scale take the end colour.

use super::colour::{level, level_colour, Palette, LEVELS};
use super::histogram::axis_label;
use super::marks::{Marks, Prim};
use super::{bold, text, tick, DrawResult, Figure, INK, TICK_PX, TITLE_PX};
use crate::report::model::{ChipLayout, ChipMap, ColourScale, CouplerMap};
use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH: u32 = 620;
const HEIGHT: u32 = 620;
const TITLE_H: i32 = 34;
const MAP_X0: i32 = 12;
const MAP_SIZE: i32 = 500;
/// Top of the map: below the title and the colour bar's label.
const MAP_Y0: i32 = TITLE_H + 28;
const BAR_X: i32 = MAP_X0 + MAP_SIZE + 18;
const LEGEND_H: i32 = 36;
const MISSING: RGBColor = RGBColor(0x90, 0x90, 0x90);
const GROUND: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// Pixel placement of the layout.
struct Frame {
    x0: i32,
    y0: i32,
    size: f64,
}

impl Frame {
    fn new() -> Self {
        Frame {
            x0: MAP_X0,
            y0: MAP_Y0,
            size: f64::from(MAP_SIZE),
        }
    }
    /// Layout (x ∈ [0, 1], y ∈ [−1, 0]) to pixels.
    fn at(&self, x: f64, y: f64) -> (i32, i32) {
        (
            self.x0 + (x * self.size).round() as i32,
            self.y0 + (-y * self.size).round() as i32,
        )
    }
    /// Side of a qubit's square in pixels.
    fn side(&self, pitch: f64) -> i32 {
        // At least 3 px, so that a full chip's colours read; neighbours closer than that touch.
        ((0.9 * pitch * self.size).round() as i32).clamp(3, 14)
    }
}

fn palette(scale: &ColourScale) -> Palette {
    if scale.palette == "diverging" {
        Palette::Diverging
    } else {
        Palette::Viridis
    }
}

/// Vertical colour bar with five ticks and the quantity's label above it.
fn colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
    label: &str,
) -> DrawResult<DB> {
    let pal = palette(scale);
    let (top, bottom) = (MAP_Y0 + 12, MAP_Y0 + MAP_SIZE - 12);
    let step = f64::from(bottom - top) / LEVELS as f64;
    for l in 0..LEVELS {
        let y1 = bottom - (l as f64 * step).round() as i32;
        let y0 = bottom - ((l + 1) as f64 * step).round() as i32;
        root.draw(&Rectangle::new(
            [(BAR_X, y0), (BAR_X + 18, y1)],
            level_colour(pal, l).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(BAR_X, top), (BAR_X + 18, bottom)],
        INK.stroke_width(1),
    ))?;
    let span = scale.hi - scale.lo;
    for v in super::nice_ticks(scale.lo, scale.hi, 4) {
        let t = (v - scale.lo) / span;
        let y = bottom - (t * f64::from(bottom - top)).round() as i32;
        root.draw(&PathElement::new(
            vec![(BAR_X + 18, y), (BAR_X + 23, y)],
            INK.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            tick(v),
            (BAR_X + 26, y),
            text(TICK_PX - 1.0).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        ))?;
    }
    root.draw(&Text::new(
        label.to_string(),
        (WIDTH as i32 - 8, TITLE_H + 4),
        text(TICK_PX).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Right,
            plotters::style::text_anchor::VPos::Top,
        )),
    ))?;
    if scale.clipped {
        // Values beyond the scale take its end colours.
        root.draw(&PathElement::new(
            vec![
                (BAR_X, top - 3),
                (BAR_X + 9, top - 9),
                (BAR_X + 18, top - 3),
            ],
            INK.stroke_width(1),
        ))?;
        root.draw(&PathElement::new(
            vec![
                (BAR_X, bottom + 3),
                (BAR_X + 9, bottom + 9),
                (BAR_X + 18, bottom + 3),
            ],
            INK.stroke_width(1),
        ))?;
    }
    Ok(())
}

fn legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, items: &[String]) -> DrawResult<DB> {
    let y = HEIGHT as i32 - LEGEND_H + 10;
    let mut x = MAP_X0;
    let style = text(TICK_PX - 1.0);
    for item in items {
        root.draw(&Text::new(item.clone(), (x, y), style.clone()))?;
        let w = root
            .estimate_text_size(item, &style)
            .map_or(150, |(w, _)| w as i32);
        x += w + 24;
    }
    Ok(())
}

/// The figure of one [`ChipMap`] on its layout.
pub struct ChipMapFigure<'a> {
    pub layout: &'a ChipLayout,
    pub map: &'a ChipMap,
    /// File-name prefix (`map`, `drift`).
    pub prefix: &'a str,
}

impl Figure for ChipMapFigure<'_> {
    fn name(&self) -> String {
        format!("{}-{}", self.prefix, self.map.name)
    }

    fn title(&self) -> String {
        format!(
            "Chip map of {} on {} ({} qubit sites)",
            axis_label(&self.map.label, &self.map.unit),
            self.layout.topology,
            self.layout.sites.len()
        )
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        marks: &mut Marks,
    ) -> DrawResult<DB> {
        let (layout, map) = (self.layout, self.map);
        root.draw(&Text::new(
            format!("{} — {}", map.label, layout.topology),
            (MAP_X0, 8),
            bold(TITLE_PX),
        ))?;
        let frame = Frame::new();
        // A light grey ground under a diverging scale, so that values near its white middle stay visible.
        if map.scale.palette == "diverging" {
            let pad = 6;
            root.draw(&Rectangle::new(
                [
                    (frame.x0 - pad, frame.y0 - pad),
                    (frame.x0 + MAP_SIZE + pad, frame.y0 + MAP_SIZE + pad),
                ],
                GROUND.filled(),
            ))?;
        }
        let side = frame.side(layout.pitch);
        let half = side / 2;
        let pal = palette(&map.scale);
        let (mut n_missing, mut n_failed) = (0usize, 0usize);
        let mut missing = Vec::new();
        let mut failed = Vec::new();
        let cells = marks.layer(1);
        for (site, value) in layout.sites.iter().zip(&map.values) {
            let (x, y) = frame.at(site.x, site.y);
            match (site.present, value) {
                (false, _) => {
                    n_missing += 1;
                    missing.push((MISSING, Prim::Ring(x, y, half.max(2))));
                }
                (true, None) => {
                    n_failed += 1;
                    let r = half.max(2);
                    failed.push((INK, Prim::Line(x - r, y - r, x + r, y + r)));
                    failed.push((INK, Prim::Line(x - r, y + r, x + r, y - r)));
                }
                (true, Some(v)) => {
                    let c = level_colour(pal, level(*v, map.scale.lo, map.scale.hi));
                    cells.items.push((
                        c,
                        Prim::Rect(x - half, y - half, x - half + side, y - half + side),
                    ));
                }
            }
        }
        marks.layer(1).items = missing;
        marks.layer(1).items = failed;
        if !map.marked.is_empty() {
            let by_spin: std::collections::HashMap<u32, (f64, f64)> =
                layout.sites.iter().map(|s| (s.spin, (s.x, s.y))).collect();
            let ring = marks.layer(1);
            for spin in &map.marked {
                if let Some(&(x, y)) = by_spin.get(spin) {
                    let (x, y) = frame.at(x, y);
                    ring.items.push((INK, Prim::Ring(x, y, half + 3)));
                }
            }
        }
        colour_bar(root, &map.scale, &axis_label(&map.label, &map.unit))?;
        let mut items = vec![
            format!("○ missing qubit ({n_missing})"),
            format!("× failed fit ({n_failed})"),
        ];
        if !map.marked.is_empty() {
            items.push(format!("◯ marked ({})", map.marked.len()));
        }
        legend(root, &items)
    }
}

/// The crosstalk map: couplers coloured by J_eff.
pub struct CouplerMapFigure<'a> {
    pub layout: &'a ChipLayout,
    pub map: &'a CouplerMap,
}

impl Figure for CouplerMapFigure<'_> {
    fn name(&self) -> String {
        "crosstalk-map".into()
    }

    fn title(&self) -> String {
        format!(
            "Couplers of {} coloured by the equivalent spurious coupling J_eff; {} detected at FDR {}",
            self.layout.topology,
            self.map.couplers.iter().filter(|c| c.detected).count(),
            tick(self.map.fdr)
        )
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        marks: &mut Marks,
    ) -> DrawResult<DB> {
        let (layout, map) = (self.layout, self.map);
        root.draw(&Text::new(
            format!("Crosstalk J_eff per coupler — {}", layout.topology),
            (MAP_X0, 8),
            bold(TITLE_PX),
        ))?;
        let frame = Frame::new();
        let dots = marks.layer(1);
        for s in layout.sites.iter().filter(|s| s.present) {
            let (x, y) = frame.at(s.x, s.y);
            dots.items
                .push((RGBColor(0xc8, 0xc8, 0xc8), Prim::Rect(x, y, x + 1, y + 1)));
        }
        let site = |i: u32| layout.sites.get(i as usize).map(|s| frame.at(s.x, s.y));
        let line = |c: &crate::report::model::CouplerMark| -> Option<(RGBColor, Prim)> {
            let ((x0, y0), (x1, y1)) = (site(c.a)?, site(c.b)?);
            let v = c.j_eff?;
            let colour = level_colour(Palette::Diverging, level(v, map.scale.lo, map.scale.hi));
            Some((colour, Prim::Line(x0, y0, x1, y1)))
        };
        let weak: Vec<_> = map
            .couplers
            .iter()
            .filter(|c| !c.detected)
            .filter_map(line)
            .collect();
        marks.layer(1).items = weak;
        let strong: Vec<_> = map
            .couplers
            .iter()
            .filter(|c| c.detected)
            .filter_map(line)
            .collect();
        marks.layer(3).items = strong;
        colour_bar(root, &map.scale, "J_eff (h)")?;
        let n_det = map.couplers.iter().filter(|c| c.detected).count();
        legend(
            root,
            &[
                format!("{} couplers", map.couplers.len()),
                format!("thick: detected ({n_det}, FDR {})", tick(map.fdr)),
                "J > 0 anti-aligns".into(),
            ],
        )
    }
}
