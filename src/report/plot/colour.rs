//! Colour maps readable by colour-blind readers: viridis (sequential; matplotlib's map, 9 anchors
//! interpolated linearly in sRGB) for magnitudes and ColorBrewer RdBu (diverging, 11 anchors, blue for
//! negative and red for positive, white at zero) for signed values. Both keep their order in lightness, so
//! they also read in grey print.

use plotters::style::RGBColor;

/// Sequential or diverging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    Viridis,
    Diverging,
}

const VIRIDIS: [u32; 9] = [
    0x440154, 0x472c7a, 0x3b518b, 0x2c718e, 0x21908d, 0x27ad81, 0x5cc863, 0xaadc32, 0xfde725,
];

/// RdBu from negative (dark blue) to positive (dark red).
const DIVERGING: [u32; 11] = [
    0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d,
    0xb2182b, 0x67001f,
];

fn rgb(c: u32) -> [f64; 3] {
    [
        f64::from((c >> 16) & 0xff),
        f64::from((c >> 8) & 0xff),
        f64::from(c & 0xff),
    ]
}

fn interpolate(anchors: &[u32], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    let last = anchors.len() - 1;
    let x = t * last as f64;
    let i = (x.floor() as usize).min(last.saturating_sub(1));
    let f = x - i as f64;
    let (a, b) = (rgb(anchors[i]), rgb(anchors[(i + 1).min(last)]));
    let mix = |k: usize| (a[k] + (b[k] - a[k]) * f).round().clamp(0.0, 255.0) as u8;
    RGBColor(mix(0), mix(1), mix(2))
}

impl Palette {
    /// The colour at `t ∈ [0, 1]` (clamped; NaN maps to the middle).
    pub fn at(self, t: f64) -> RGBColor {
        match self {
            Palette::Viridis => interpolate(&VIRIDIS, t),
            Palette::Diverging => interpolate(&DIVERGING, t),
        }
    }
}

/// Number of colour levels the maps are quantised to (small SVG files, same colours in PNG and SVG).
pub const LEVELS: usize = 48;

/// The level (0..LEVELS) of a value on a scale from `lo` to `hi`.
pub fn level(value: f64, lo: f64, hi: f64) -> usize {
    let span = hi - lo;
    let t = if span > 0.0 { (value - lo) / span } else { 0.5 };
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    ((t * LEVELS as f64) as usize).min(LEVELS - 1)
}

/// The colour of a level.
pub fn level_colour(palette: Palette, level: usize) -> RGBColor {
    palette.at((level as f64 + 0.5) / LEVELS as f64)
}

/// `#rrggbb`.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_middle_are_the_anchors() {
        assert_eq!(hex(Palette::Viridis.at(0.0)), "#440154");
        assert_eq!(hex(Palette::Viridis.at(1.0)), "#fde725");
        assert_eq!(hex(Palette::Diverging.at(0.5)), "#f7f7f7");
        assert_eq!(hex(Palette::Diverging.at(0.0)), "#053061");
    }

    #[test]
    fn viridis_gets_lighter_monotonically() {
        let luma =
            |c: RGBColor| 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
        let mut prev = -1.0;
        for i in 0..=100 {
            let l = luma(Palette::Viridis.at(f64::from(i) / 100.0));
            assert!(l >= prev - 1e-9, "step {i}");
            prev = l;
        }
    }

    #[test]
    fn levels_cover_the_range_and_clamp() {
        assert_eq!(level(0.0, 0.0, 1.0), 0);
        assert_eq!(level(1.0, 0.0, 1.0), LEVELS - 1);
        assert_eq!(level(5.0, 0.0, 1.0), LEVELS - 1);
        assert_eq!(level(f64::NAN, 0.0, 1.0), LEVELS / 2);
        assert_eq!(level(3.0, 3.0, 3.0), LEVELS / 2);
    }
}
