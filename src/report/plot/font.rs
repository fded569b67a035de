//! The embedded font: DejaVu Sans (the `dejavu` crate) registered with plotters' ab_glyph text renderer as
//! `sans-serif`, so PNG plots draw text without system fonts or fontconfig, and SVG plots measure their
//! text with the same metrics (the browser then draws it with its own sans-serif font).

use plotters::style::FontStyle;
use std::sync::OnceLock;

/// The family name every plot uses.
pub const FAMILY: &str = "sans-serif";

/// Registers the font once; `false` if the embedded font could not be read (never expected).
pub fn ensure() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        let regular =
            plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
                .is_ok();
        let bold =
            plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok();
        regular && bold
    })
}
