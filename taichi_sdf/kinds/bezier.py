"""Bézier pen strokes: quadratic and cubic curves with round caps, sharing end points by index
so that chains of curves form polycurves (as polylines share their points).

Geometry columns: the control points (3 or 4, 2 columns each), then the half-width. The
coverage is a stroke's band (see :mod:`taichi_sdf.kinds.segment`) about the curve: the exact
distance for quadratics, and for cubics the distance to four quadratic pieces within
``sqrt(3)/2304 |P0 - 3 P1 + 3 P2 - P3|`` pixels of the cubic (see
:mod:`taichi_sdf.funcs.bezier`). A curve lies in the hull of its control points, which
bins it; rows are visited along its chords.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import band_coverage_grad, quadratic_distance_grad
from taichi_sdf.funcs.bezier import CUBIC_PIECES, PIECE_VALUES, cubic_pieces, piece_grad_to_cubic, pieces_distance_grad
from taichi_sdf.groups import PenGroup
from taichi_sdf.kinds import pen, reference_sdf
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import point

CHORDS = 8  # pieces of the polyline along which a curve's rows are visited
PIECE_ERROR = math.sqrt(3.0) / 36.0 / CUBIC_PIECES**3  # times |P0 - 3 P1 + 3 P2 - P3|


@dataclass(frozen=True)
class BezierCurves(PenGroup):
    """Bézier strokes with round caps: points (Q, 2) shared by curves (N, CORNERS) of point
    indices (start, controls, end), so curves sharing ends form polycurves. widths (N,)
    full stroke width in pixels; colours (N, 3) flat; optional opacities (N,)."""

    points: np.ndarray
    curves: np.ndarray
    widths: np.ndarray
    colours: np.ndarray
    opacities: np.ndarray | None = None

    INDEX: ClassVar = "curves"


@dataclass(frozen=True)
class QuadraticCurves(BezierCurves):
    """Quadratic Bézier strokes: curves (N, 3) of (start, control, end) point indices (see
    :class:`BezierCurves`)."""

    CORNERS: ClassVar = 3


@dataclass(frozen=True)
class CubicCurves(BezierCurves):
    """Cubic Bézier strokes: curves (N, 4) of (start, control, control, end) point indices
    (see :class:`BezierCurves`)."""

    CORNERS: ClassVar = 4


def _curve_kind(name: str, code: int, group: type) -> Kind:
    """The kind of ``group``'s curves (3 control points: quadratic; 4: cubic)."""
    n = group.CORNERS
    half_width = 2 * n  # geometry column of the half-width
    binomials = [math.comb(n - 1, m) for m in range(n)]

    reach_at = 2 * CHORDS + 2  # guide: chord points, the reach, then a cubic's pieces
    pieces_at = reach_at + 1

    @ti.func
    def coverage_grad(geometry, guide, p, aa_width):
        """Coverage at ``p`` and its gradient with respect to the control points and the half-width."""
        grad = geometry * 0.0
        distance = 0.0 * p[0]
        reach = geometry[half_width] + aa_width  # no ink at or beyond it
        if ti.static(n == 3):
            distance, d0, d1, d2 = quadratic_distance_grad(
                p, point(geometry, 0), point(geometry, 1), point(geometry, 2), reach
            )
            for j in ti.static(range(2)):
                grad[j], grad[2 + j], grad[4 + j] = d0[j], d1[j], d2[j]
        else:
            pieces = ti.Vector([guide[pieces_at + i] for i in ti.static(range(PIECE_VALUES))])
            distance, piece, d_a, d_b, d_c = pieces_distance_grad(p, pieces, reach)
            d0, d1, d2, d3 = piece_grad_to_cubic(piece, d_a, d_b, d_c)
            for j in ti.static(range(2)):
                grad[j], grad[2 + j], grad[4 + j], grad[6 + j] = d0[j], d1[j], d2[j], d3[j]
        cov, along, d_half_width = band_coverage_grad(distance, geometry[half_width], aa_width)
        grad *= along
        grad[half_width] = d_half_width
        return cov, grad

    @ti.func
    def slack(geometry):
        """How far the drawn curve may stray from its chords (the curve's second derivative
        bounds a chord's sagitta) and, for a cubic, from the cubic."""
        bend = (point(geometry, 0) - 2.0 * point(geometry, 1) + point(geometry, 2)).norm()
        extra = 0.0 * geometry[0]
        if ti.static(n == 4):
            bend = ti.max(bend, (point(geometry, 1) - 2.0 * point(geometry, 2) + point(geometry, 3)).norm())
            third = point(geometry, 0) - 3.0 * point(geometry, 1) + 3.0 * point(geometry, 2) - point(geometry, 3)
            extra = PIECE_ERROR * third.norm()
        return (n - 1) * (n - 2) * bend / (8.0 * CHORDS * CHORDS) + extra

    @ti.func
    def footprint(geometry, aa_width):
        return pen.footprint(geometry, n, aa_width)

    @ti.func
    def on_curve(geometry, t):
        """The curve's point at parameter ``t`` (Bernstein form)."""
        result = point(geometry, 0) * 0.0
        for m in ti.static(range(n)):
            weight = binomials[m] * ti.pow(t, m) * ti.pow(1.0 - t, n - 1 - m)
            result += weight * point(geometry, m)
        return result

    @ti.func
    def guide(geometry, aa_width):
        """The points of the chord polyline, the reach of the coverage about it and, for a
        cubic, the control points of its quadratic pieces."""
        guide = ti.Vector([0.0] * (pieces_at + (PIECE_VALUES if n == 4 else 0))) + 0.0 * geometry[0]
        for k in ti.static(range(CHORDS + 1)):
            a = on_curve(geometry, k / CHORDS)
            guide[2 * k], guide[2 * k + 1] = a[0], a[1]
        guide[reach_at] = geometry[half_width] + aa_width + slack(geometry)
        if ti.static(n == 4):
            pieces = cubic_pieces(point(geometry, 0), point(geometry, 1), point(geometry, 2), point(geometry, 3))
            for i in ti.static(range(PIECE_VALUES)):
                guide[pieces_at + i] = pieces[i]
        return guide

    @ti.func
    def row_span(guide, y):
        reach = guide[reach_at]
        lo, hi = 1.0 + 0.0 * y, 0.0 * y
        for k in range(CHORDS):  # not unrolled: the loop body compiles once
            a = ti.Vector([guide[2 * k], guide[2 * k + 1]])
            b = ti.Vector([guide[2 * k + 2], guide[2 * k + 3]])
            if ti.min(a[1], b[1]) - reach <= y <= ti.max(a[1], b[1]) + reach:  # else it misses the row
                chord_lo, chord_hi = pen.capsule_span(a, b, reach, y)
                lo, hi = pen.merge_span(lo, hi, chord_lo, chord_hi)
        return lo, hi

    @ti.func
    def touches(geometry, aa_width, lo, hi):
        extra = 0.0 * geometry[0]
        if ti.static(n == 4):
            third = point(geometry, 0) - 3.0 * point(geometry, 1) + 3.0 * point(geometry, 2) - point(geometry, 3)
            extra = PIECE_ERROR * third.norm()
        return pen.hull_near_rect(geometry, n, geometry[half_width] + aa_width + extra, lo, hi)

    def reference_coverage(curves, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
        """Coverage of curve ``i`` at (..., 2) pixel positions, in numpy."""
        controls = curves.points[curves.curves[i]]
        if n == 3:
            distance = reference_sdf.quadratic_distance(points, *controls)
        else:
            distance = reference_sdf.cubic_distance(points, controls)
        return reference_sdf.band_coverage(distance, 0.5 * curves.widths[i], aa_width)

    def svg_element(curves, i: int, paint: str, number) -> str:
        (x0, y0), *rest = curves.points[curves.curves[i]]
        path = f"M {number(x0)},{number(y0)} {'Q' if n == 3 else 'C'} " + " ".join(f"{number(x)},{number(y)}" for x, y in rest)
        return f'<path d="{path}" {pen.stroke_attributes(curves, i, paint, number)}/>'

    geometry = tuple(Take("points", index="curves", corner=k) for k in range(n)) + (
        Take("widths", width=1, scale=0.5),
    )
    functions = dict(locals(), fill_frame=pen.fill_frame, fill_frame_vjp=pen.fill_frame_vjp)
    return Kind.from_functions(name, code, group, geometry, functions)


QUADRATIC = _curve_kind("quadratic", 3, QuadraticCurves)
CUBIC = _curve_kind("cubic", 4, CubicCurves)
