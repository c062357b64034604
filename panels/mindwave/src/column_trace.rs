//! A dense trace drawn the way oscilloscopes and logic analysers draw one: one filled bar per
//! pixel column from the column's minimum to its maximum, all in one mesh.
//!
//! A min/max-decimated trace drawn as a line is a zig-zag of near-vertical segments, each
//! tessellated with anti-aliased edges into several long thin triangles; under software GL
//! those cost more than everything else in the MindWave tab together. Bars on pixel columns
//! look the same at this density (the line's segments overlap into a band anyway), need two
//! triangles a column and no feathering. Neighbouring bars are stretched to meet, so the
//! trace stays unbroken where the signal jumps between columns; a column without samples
//! leaves a gap, as the line did.

use std::ops::RangeInclusive;

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Shape, Ui};
use egui_plot::{PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotPoint, PlotTransform};

use crate::history::Column;

/// Bars narrower or shorter than this (px) are widened: a flat signal stays visible.
const MIN_PX: f32 = 1.2;

/// Min/max columns over `[t0, t0 + dt * columns.len())`, drawn as bars.
pub(crate) struct ColumnTrace<'a> {
    base: PlotItemBase,
    columns: &'a [Column],
    /// The trace as points (each column's min and max), for hover and bounds.
    points: &'a [PlotPoint],
    t0: f64,
    dt: f64,
    color: Color32,
}

impl<'a> ColumnTrace<'a> {
    /// `columns[i]` covers `[t0 + i·dt, t0 + (i+1)·dt)`; `points` is the same trace as points.
    pub(crate) fn new(
        name: &str,
        columns: &'a [Column],
        points: &'a [PlotPoint],
        t0: f64,
        dt: f64,
        color: Color32,
    ) -> Self {
        Self {
            base: PlotItemBase::new(name.to_owned()),
            columns,
            points,
            t0,
            dt,
            color,
        }
    }
}

/// The bars' y extents (value units) after stretching each to meet its left neighbour.
fn joined(columns: &[Column]) -> impl Iterator<Item = (usize, f32, f32)> + '_ {
    let mut prev: Option<(f32, f32)> = None;
    columns.iter().enumerate().filter_map(move |(i, c)| {
        let Some((lo, hi)) = *c else {
            prev = None;
            return None;
        };
        let (a, b) = match prev {
            Some((plo, phi)) => (lo.min(phi), hi.max(plo)),
            None => (lo, hi),
        };
        prev = Some((lo, hi));
        Some((i, a, b))
    })
}

impl PlotItem for ColumnTrace<'_> {
    fn shapes(&self, _ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let color = if self.highlighted() {
            self.color.gamma_multiply(1.3)
        } else {
            self.color
        };
        let mut mesh = Mesh::default();
        mesh.reserve_triangles(self.columns.len() * 2);
        mesh.reserve_vertices(self.columns.len() * 4);
        for (i, lo, hi) in joined(self.columns) {
            let x0 = self.t0 + i as f64 * self.dt;
            let a = transform.position_from_point(&PlotPoint::new(x0, f64::from(hi)));
            let b = transform.position_from_point(&PlotPoint::new(x0 + self.dt, f64::from(lo)));
            let (mut l, mut r) = (a.x.min(b.x), a.x.max(b.x));
            let (mut t, mut btm) = (a.y.min(b.y), a.y.max(b.y));
            if r - l < MIN_PX {
                let c = (l + r) * 0.5;
                (l, r) = (c - MIN_PX * 0.5, c + MIN_PX * 0.5);
            }
            if btm - t < MIN_PX {
                let c = (t + btm) * 0.5;
                (t, btm) = (c - MIN_PX * 0.5, c + MIN_PX * 0.5);
            }
            let base = mesh.vertices.len() as u32;
            for pos in [
                Pos2::new(l, t),
                Pos2::new(r, t),
                Pos2::new(r, btm),
                Pos2::new(l, btm),
            ] {
                mesh.vertices.push(Vertex {
                    pos,
                    uv: WHITE_UV,
                    color,
                });
            }
            mesh.add_triangle(base, base + 1, base + 2);
            mesh.add_triangle(base, base + 2, base + 3);
        }
        if !mesh.is_empty() {
            shapes.push(Shape::mesh(mesh));
        }
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> Color32 {
        self.color
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        PlotGeometry::Points(self.points)
    }

    fn bounds(&self) -> PlotBounds {
        let mut b = PlotBounds::NOTHING;
        for p in self.points {
            b.extend_with(p);
        }
        b
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_bars_meet_and_gaps_stay_gaps() {
        let cols = [Some((0.0, 1.0)), Some((5.0, 6.0)), None, Some((2.0, 3.0))];
        let bars: Vec<_> = joined(&cols).collect();
        assert_eq!(bars, vec![(0, 0.0, 1.0), (1, 1.0, 6.0), (3, 2.0, 3.0)]);
        let down = [Some((5.0, 6.0)), Some((0.0, 1.0))];
        assert_eq!(joined(&down).nth(1), Some((1, 0.0, 5.0)));
    }
}
