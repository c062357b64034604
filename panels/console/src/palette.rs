//! ANSI colours for the terminal view (the 16 classic colours, the 256-colour cube and the
//! grey ramp; 24-bit colours pass through).

use benchtop_redboot::terminal::Color;
use egui::Color32;

/// The 16 classic colours, tuned to read on a dark and on a light background.
const BASE: [Color32; 16] = [
    Color32::from_rgb(0x1e, 0x1e, 0x1e),
    Color32::from_rgb(0xe0, 0x55, 0x55),
    Color32::from_rgb(0x3c, 0xc0, 0x7c),
    Color32::from_rgb(0xd8, 0xb4, 0x3c),
    Color32::from_rgb(0x4a, 0x8c, 0xe0),
    Color32::from_rgb(0xc0, 0x6c, 0xd0),
    Color32::from_rgb(0x30, 0xb8, 0xc8),
    Color32::from_rgb(0xd0, 0xd0, 0xd0),
    Color32::from_rgb(0x76, 0x76, 0x76),
    Color32::from_rgb(0xf4, 0x70, 0x70),
    Color32::from_rgb(0x5c, 0xdc, 0x98),
    Color32::from_rgb(0xf0, 0xd8, 0x5c),
    Color32::from_rgb(0x70, 0xa8, 0xf0),
    Color32::from_rgb(0xdc, 0x8c, 0xe8),
    Color32::from_rgb(0x5c, 0xd8, 0xe8),
    Color32::from_rgb(0xf8, 0xf8, 0xf8),
];

/// The colour an SGR colour stands for.
pub fn color(c: Color) -> Color32 {
    match c {
        Color::Rgb(r, g, b) => Color32::from_rgb(r, g, b),
        Color::Indexed(i) if i < 16 => BASE[usize::from(i)],
        Color::Indexed(i) if i < 232 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Color32::from_rgb(level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        Color::Indexed(i) => {
            let v = 8 + (i - 232) * 10;
            Color32::from_rgb(v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_and_greys() {
        assert_eq!(color(Color::Indexed(16)), Color32::from_rgb(0, 0, 0));
        assert_eq!(color(Color::Indexed(231)), Color32::from_rgb(255, 255, 255));
        assert_eq!(color(Color::Indexed(196)), Color32::from_rgb(255, 0, 0));
        assert_eq!(color(Color::Indexed(255)), Color32::from_rgb(238, 238, 238));
        assert_eq!(color(Color::Rgb(1, 2, 3)), Color32::from_rgb(1, 2, 3));
    }
}
