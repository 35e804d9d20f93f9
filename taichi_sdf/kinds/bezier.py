"""Bézier pen strokes: quadratic and cubic curves with round caps, sharing end points by index
so that chains of curves form polycurves (as polylines share their points).

Geometry columns: the control points (3 or 4, 2 columns each), then the half-width. The
coverage is a stroke's band (see :mod:`taichi_sdf.kinds.segment`) about the curve: the exact
distance for quadratics, and for cubics the distance to four quadratic pieces within
``sqrt(3)/2304 |P0 - 3 P1 + 3 P2 - P3|`` pixels of the cubic (see
:mod:`taichi_sdf.funcs.bezier`). A curve lies in the hull of its control points, which
bins it; rows are visited along the chords of its pieces, and each piece is solved, a
row of pixels at a time, at the pixels its chords come near.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import band_coverage_grad
from taichi_sdf.funcs.bezier import (
    CUBIC_PIECES,
    FRAME_ALONG,
    FRAME_BEND,
    FRAME_SAG,
    FRAME_SIZE,
    ROW_COLUMNS,
    cubic_piece,
    cubic_piece_distance_grad,
    frame_vector,
    nearest_at,
    piece_distance_grad,
    piece_frame,
    pieces_nearest,
    quadratic_at,
)
from taichi_sdf.groups import PenGroup
from taichi_sdf.kinds import pen, reference_sdf
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import point
from taichi_sdf.kinds.pen import CAPSULE_SIZE

CHORDS = 8  # chords along which a curve's rows are visited, shared equally by its quadratic pieces
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
    pieces = 1 if n == 3 else CUBIC_PIECES
    splits = CHORDS // pieces  # chords per piece
    frames_at = CHORDS * CAPSULE_SIZE  # the guide: the chords' row spans, then the pieces' frames
    GUIDE_SIZE = frames_at + pieces * FRAME_SIZE  # read by Kind.from_functions, as in the kind modules

    @ti.func
    def coverage_grad(geometry, guide, row: ti.template(), p, aa_width):
        """Coverage at ``p`` and its gradient with respect to the control points and the half-width."""
        grad = geometry * 0.0
        x0, nearest = ti.static(row)  # the caller's values, not copies made at every pixel
        distance, piece, t, offset = nearest_at(nearest, ti.cast(ti.round(p[0] - x0), ti.i32))
        if ti.static(n == 3):
            d_a, d_b, d_c = piece_distance_grad(distance, piece, t, offset)
            for j in ti.static(range(2)):
                grad[j], grad[2 + j], grad[4 + j] = d_a[j], d_b[j], d_c[j]
        else:
            d0, d1, d2, d3 = cubic_piece_distance_grad(distance, piece, t, offset)
            for j in ti.static(range(2)):
                grad[j], grad[2 + j], grad[4 + j], grad[6 + j] = d0[j], d1[j], d2[j], d3[j]
        cov, along, d_half_width = band_coverage_grad(distance, geometry[half_width], aa_width)
        grad *= along
        grad[half_width] = d_half_width
        return cov, grad

    @ti.func
    def footprint(geometry, aa_width):
        return pen.footprint(geometry, n, aa_width)

    @ti.func
    def piece_controls(geometry, j):
        """Control points a, b, c of the curve's quadratic piece ``j`` (a quadratic is its own)."""
        if ti.static(n == 3):
            return point(geometry, 0), point(geometry, 1), point(geometry, 2)
        return cubic_piece(point(geometry, 0), point(geometry, 1), point(geometry, 2), point(geometry, 3), j)

    @ti.func
    def guide(geometry, aa_width):
        """The frames of the quadratic pieces (the curve itself for a quadratic) and the row
        spans (see :func:`~taichi_sdf.kinds.pen.capsule_rows`) of the coverage's reach about
        each piece's ``splits`` chords, grown by how far the piece strays from them: a
        quadratic's chord over a share s of it lies within s^2 |a - 2b + c| / 4 of it."""
        guide = ti.Vector([0.0] * GUIDE_SIZE) + 0.0 * geometry[0]
        for j in range(pieces):  # not unrolled: the loop body compiles once
            a, b, c = piece_controls(geometry, j)
            frame = piece_frame(a, b, c)
            for i in ti.static(range(FRAME_SIZE)):
                guide[frames_at + j * FRAME_SIZE + i] = frame[i]
            along, bend = frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
            reach = geometry[half_width] + aa_width + frame[FRAME_SAG] / (splits * splits)
            for k in range(splits):
                s0, s1 = ti.cast(k, a.element_type()) / splits, ti.cast(k + 1, a.element_type()) / splits
                start, end = quadratic_at(a, along, bend, s0), quadratic_at(a, along, bend, s1)
                rows = pen.capsule_rows(start, end, reach)
                for i in ti.static(range(CAPSULE_SIZE)):
                    guide[(j * splits + k) * CAPSULE_SIZE + i] = rows[i]
        return guide

    @ti.func
    def row_span(guide, y):
        """The row's span about the chords, and each piece's span about its own chords, so
        that a pixel solves only for the pieces that may reach it."""
        lo, hi = pen.FAR + 0.0 * y, -pen.FAR + 0.0 * y
        spans = ti.Vector([pen.FAR, -pen.FAR] * pieces) + 0.0 * y
        for k in range(CHORDS):  # not unrolled: the loop body compiles once
            rows = ti.Vector([guide[k * CAPSULE_SIZE + i] for i in ti.static(range(CAPSULE_SIZE))])
            chord_lo, chord_hi = pen.capsule_span(rows, y)
            lo, hi = pen.merge_span(lo, hi, chord_lo, chord_hi)
            at = 2 * (k // splits)
            spans[at], spans[at + 1] = pen.merge_span(spans[at], spans[at + 1], chord_lo, chord_hi)
        return lo, hi, spans

    @ti.func
    def row_pixels(geometry, guide, spans, y, x0, count, aa_width):
        """The first point's x, and at each of the ``count`` points (x0 + c, y) the nearest
        piece, its t and offset, solved piece by piece (see
        :func:`~taichi_sdf.funcs.bezier.pieces_nearest`)."""
        reach = geometry[half_width] + aa_width  # no ink at or beyond it
        return x0, pieces_nearest(guide, frames_at, pieces, reach, x0, y, count, spans, ROW_COLUMNS)

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
