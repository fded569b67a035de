//! Plots of the report with plotters: every figure draws on any plotters backend, so one drawing gives
//! the inline SVG of the HTML page and the PNG beside the Markdown (bitmap backend, PNG encoded with the
//! `png` crate, text drawn with the embedded DejaVu Sans of [`font`]). Figures draw the report model as it
//! is; they compute no statistics. Colours: [`colour`] (viridis, RdBu) and the Okabe–Ito colours for
//! lines, all readable by colour-blind readers.

pub mod chipmap;
pub mod colour;
pub mod curve;
pub mod font;
pub mod heatmap;
pub mod histogram;
pub mod marks;

use marks::Marks;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Text sizes in pixels on screen at 100 % zoom (the height of one em).
pub const TITLE_PX: f64 = 17.0;
pub const LABEL_PX: f64 = 15.0;
pub const TICK_PX: f64 = 14.0;
/// plotters sizes text by its line height, 1.24 em (its SVG backend writes `font-size = size / 1.24`).
const EM_TO_PLOTTERS: f64 = 1.24;

/// Okabe–Ito colours (colour-blind safe) for lines and points.
pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xb2);
pub const ORANGE: RGBColor = RGBColor(0xe6, 0x9f, 0x00);
pub const VERMILLION: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
pub const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);
pub const LIGHT_GREY: RGBColor = RGBColor(0xd0, 0xd0, 0xd0);
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// Errors of drawing or encoding a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot draw the figure {figure:?}: {reason}")]
    Draw { figure: String, reason: String },
    #[error("cannot encode the figure {figure:?} as PNG: {reason}")]
    Png { figure: String, reason: String },
    #[error("the embedded font could not be loaded")]
    Font,
}

/// Result of drawing on a backend.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure of the report.
pub trait Figure {
    /// File stem of the PNG (`curve-best`, `map-beta`).
    fn name(&self) -> String;
    /// One line saying what the figure shows (alt text, caption).
    fn title(&self) -> String;
    /// Size in pixels at 100 % zoom.
    fn size(&self) -> (u32, u32);
    /// Draws on `root`; dense marks go to `marks`, drawn afterwards.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        marks: &mut Marks,
    ) -> DrawResult<DB>;
}

fn draw_error(fig: &impl Figure, e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        figure: fig.name(),
        reason: e.to_string(),
    }
}

/// The figure as an SVG element for inline use in HTML (no XML namespace attribute, `role="img"` and a
/// `<title>`), scaled by the page through its `viewBox`.
pub fn to_svg(fig: &impl Figure) -> Result<String, PlotError> {
    if !font::ensure() {
        return Err(PlotError::Font);
    }
    let size = fig.size();
    let mut s = String::new();
    let mut marks = Marks::default();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(fig, e))?;
        fig.draw(&root, &mut marks)
            .map_err(|e| draw_error(fig, e))?;
        root.present().map_err(|e| draw_error(fig, e))?;
    }
    let s = s.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1);
    let s = match s.find('>') {
        Some(i) if s.starts_with("<svg ") => {
            format!(
                "<svg role=\"img\" {}>\n<title>{}</title>{}",
                &s[5..i],
                escape(&fig.title()),
                &s[i + 1..]
            )
        }
        _ => s,
    };
    let end = s.rfind("</svg>").unwrap_or(s.len());
    Ok(format!("{}{}{}", &s[..end], marks.svg(), &s[end..]))
}

/// The figure as a PNG file.
pub fn to_png(fig: &impl Figure) -> Result<Vec<u8>, PlotError> {
    if !font::ensure() {
        return Err(PlotError::Font);
    }
    let (w, h) = fig.size();
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(fig, e))?;
        let mut marks = Marks::default();
        fig.draw(&root, &mut marks)
            .map_err(|e| draw_error(fig, e))?;
        marks.draw(&root).map_err(|e| draw_error(fig, e))?;
        root.present().map_err(|e| draw_error(fig, e))?;
    }
    let png_error = |e: png::EncodingError| PlotError::Png {
        figure: fig.name(),
        reason: e.to_string(),
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(png_error)?;
        writer.write_image_data(&buf).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
    }
    Ok(out)
}

/// Escapes text for XML/HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A tick label: few significant digits, no trailing zeros, a minus sign rather than a hyphen.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    s.replace('-', "−")
}

/// "Nice" tick values (1, 2, 2.5 or 5 × 10^k steps) inside `[lo, hi]`, about `n` of them.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) || n == 0 {
        return vec![lo];
    }
    let raw = span / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            if v.abs() < 1e-9 * step {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// A tick formatter for an axis spanning `[lo, hi]`: values within 1e-9 of the span of zero print as 0.
pub fn ticker(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let eps = 1e-9 * (hi - lo).abs();
    move |v: &f64| if v.abs() <= eps { "0".into() } else { tick(*v) }
}

/// Text of `px` pixels per em on screen.
pub fn text(px: f64) -> TextStyle<'static> {
    (font::FAMILY, px * EM_TO_PLOTTERS).into_font().color(&INK)
}

/// Bold text of `px` pixels per em.
pub fn bold(px: f64) -> TextStyle<'static> {
    (font::FAMILY, px * EM_TO_PLOTTERS)
        .into_font()
        .style(FontStyle::Bold)
        .color(&INK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_use_a_minus_sign() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-0.0125), "−0.0125");
        assert_eq!(tick(6.0), "6");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(2.0e-5), "2.0e−5");
        assert_eq!(ticker(-1.0, 1.0)(&3.5e-18), "0");
    }

    #[test]
    fn nice_ticks_are_round_and_inside() {
        assert_eq!(nice_ticks(0.0, 1.0, 4), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(-0.0165, 0.0165, 4), [-0.01, 0.0, 0.01]);
        assert_eq!(nice_ticks(9.3, 12.0, 4), [10.0, 11.0, 12.0]);
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}
