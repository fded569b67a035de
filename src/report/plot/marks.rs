//! Dense marks (the thousands of qubit squares and coupler lines of a chip map), collected in pixel
//! coordinates and drawn after the rest of a figure: on a bitmap one by one with plotters, in SVG as one
//! `<path>` per colour and layer, which keeps a full-chip map at tens instead of hundreds of kilobytes.
//! Layers are drawn in order; within a layer, marks of one colour are drawn together, in the order their
//! colours first appear.

use plotters::prelude::*;
use std::fmt::Write;

/// One primitive, in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prim {
    /// Filled rectangle from (x0, y0) to (x1, y1).
    Rect(i32, i32, i32, i32),
    /// Line segment.
    Line(i32, i32, i32, i32),
    /// Circle outline: centre and radius.
    Ring(i32, i32, i32),
}

/// Marks of one layer share a stroke width (filled rectangles ignore it).
#[derive(Clone, Debug, Default)]
pub struct Layer {
    pub stroke_width: u32,
    pub items: Vec<(RGBColor, Prim)>,
}

/// All dense marks of a figure.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    pub layers: Vec<Layer>,
}

impl Marks {
    /// Starts a new layer and returns it.
    pub fn layer(&mut self, stroke_width: u32) -> &mut Layer {
        self.layers.push(Layer {
            stroke_width,
            items: Vec::new(),
        });
        let last = self.layers.len() - 1;
        &mut self.layers[last]
    }

    /// Draws every mark on a plotters drawing area (bitmaps).
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        for layer in &self.layers {
            let w = layer.stroke_width.max(1);
            for &(c, p) in &layer.items {
                match p {
                    Prim::Rect(x0, y0, x1, y1) => {
                        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], c.filled()))?
                    }
                    Prim::Line(x0, y0, x1, y1) => root.draw(&PathElement::new(
                        vec![(x0, y0), (x1, y1)],
                        c.stroke_width(w),
                    ))?,
                    Prim::Ring(x, y, r) => root.draw(&Circle::new((x, y), r, c.stroke_width(w)))?,
                }
            }
        }
        Ok(())
    }

    /// The marks as SVG elements (one `<path>` per colour and layer).
    pub fn svg(&self) -> String {
        let mut out = String::new();
        for layer in &self.layers {
            let mut groups: Vec<(RGBColor, bool, String)> = Vec::new();
            for &(c, p) in &layer.items {
                let filled = matches!(p, Prim::Rect(..));
                let d = match groups.iter_mut().find(|g| g.0 == c && g.1 == filled) {
                    Some(g) => &mut g.2,
                    None => {
                        groups.push((c, filled, String::new()));
                        let last = groups.len() - 1;
                        &mut groups[last].2
                    }
                };
                let _ = match p {
                    Prim::Rect(x0, y0, x1, y1) => {
                        write!(d, "M{x0} {y0}h{}v{}h{}z", x1 - x0, y1 - y0, x0 - x1)
                    }
                    Prim::Line(x0, y0, x1, y1) => write!(d, "M{x0} {y0}L{x1} {y1}"),
                    Prim::Ring(x, y, r) => write!(
                        d,
                        "M{} {y}a{r} {r} 0 1 0 {} 0a{r} {r} 0 1 0 {} 0",
                        x - r,
                        2 * r,
                        -2 * r
                    ),
                };
            }
            for (c, filled, d) in groups {
                let colour = super::colour::hex(c);
                let _ = if filled {
                    writeln!(out, r#"<path fill="{colour}" d="{d}"/>"#)
                } else {
                    writeln!(
                        out,
                        r#"<path fill="none" stroke="{colour}" stroke-width="{}" d="{d}"/>"#,
                        layer.stroke_width.max(1)
                    )
                };
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_groups_marks_by_colour_in_first_seen_order() {
        let mut m = Marks::default();
        let red = RGBColor(255, 0, 0);
        let blue = RGBColor(0, 0, 255);
        let l = m.layer(1);
        l.items.push((red, Prim::Rect(0, 0, 2, 2)));
        l.items.push((blue, Prim::Rect(3, 0, 5, 2)));
        l.items.push((red, Prim::Rect(6, 0, 8, 2)));
        m.layer(2).items.push((blue, Prim::Line(0, 0, 9, 9)));
        let svg = m.svg();
        let lines: Vec<&str> = svg.lines().collect();
        assert_eq!(lines.len(), 3, "{svg}");
        assert!(
            lines[0].starts_with(r##"<path fill="#ff0000" d="M0 0h2v2h-2zM6 0"##),
            "{svg}"
        );
        assert!(lines[1].contains("#0000ff"));
        assert!(
            lines[2].contains(r#"stroke-width="2" d="M0 0L9 9""#),
            "{svg}"
        );
    }
}
