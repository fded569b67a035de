//! The correlation matrix of the fitted parameters and scores: cells coloured by the coefficient on the
//! diverging scale from −1 to 1, the value written in each cell, a star where the Benjamini–Hochberg
//! q-value is at most 0.05.

use super::colour::Palette;
use super::marks::Marks;
use super::{bold, text, DrawResult, Figure, INK, TICK_PX, TITLE_PX};
use crate::report::model::Heatmap;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The figure of a [`Heatmap`].
pub struct HeatmapFigure<'a>(pub &'a Heatmap);

const LEFT: i32 = 150;
const TOP: i32 = 44;
const CELL: i32 = 50;

impl Figure for HeatmapFigure<'_> {
    fn name(&self) -> String {
        format!("correlation-{}", self.0.method)
    }

    fn title(&self) -> String {
        format!(
            "{} correlation matrix of the fitted parameters and scores; a star marks q ≤ 0.05",
            capitalise(&self.0.method)
        )
    }

    fn size(&self) -> (u32, u32) {
        let n = self.0.labels.len() as u32;
        (
            LEFT as u32 + n * CELL as u32 + 24,
            TOP as u32 + n * CELL as u32 + 150,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _marks: &mut Marks,
    ) -> DrawResult<DB> {
        let hm = self.0;
        let n = hm.labels.len() as i32;
        root.draw(&Text::new(
            format!("{} correlation (★ q ≤ 0.05)", capitalise(&hm.method)),
            (12, 10),
            bold(TITLE_PX),
        ))?;
        for (i, row) in hm.r.iter().enumerate() {
            for (j, r) in row.iter().enumerate() {
                let (x, y) = (LEFT + j as i32 * CELL, TOP + i as i32 * CELL);
                let Some(r) = r else {
                    root.draw(&Rectangle::new(
                        [(x, y), (x + CELL, y + CELL)],
                        RGBColor(0xee, 0xee, 0xee).filled(),
                    ))?;
                    continue;
                };
                let fill = Palette::Diverging.at((r + 1.0) / 2.0);
                root.draw(&Rectangle::new(
                    [(x, y), (x + CELL, y + CELL)],
                    fill.filled(),
                ))?;
                let star = hm
                    .significant
                    .get(i)
                    .and_then(|row| row.get(j))
                    .copied()
                    .unwrap_or(false)
                    && i != j;
                let ink = if r.abs() > 0.6 { WHITE } else { INK };
                let label = format!("{r:.2}{}", if star { "★" } else { "" }).replace('-', "−");
                root.draw(&Text::new(
                    label,
                    (x + CELL / 2, y + CELL / 2),
                    text(TICK_PX - 2.0)
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
        root.draw(&Rectangle::new(
            [(LEFT, TOP), (LEFT + n * CELL, TOP + n * CELL)],
            INK.stroke_width(1),
        ))?;
        for (i, l) in hm.labels.iter().enumerate() {
            let y = TOP + i as i32 * CELL + CELL / 2;
            root.draw(&Text::new(
                l.clone(),
                (LEFT - 8, y),
                text(TICK_PX).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            let x = LEFT + i as i32 * CELL + CELL / 2;
            root.draw(&Text::new(
                l.clone(),
                (x, TOP + n * CELL + 8),
                text(TICK_PX)
                    .transform(FontTransform::Rotate90)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
