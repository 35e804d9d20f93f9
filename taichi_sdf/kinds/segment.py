"""Strokes: straight segments with round caps (capsules), sharing their end points by index
so that a polyline is a chain of segments.

Geometry columns: x0, y0, x1, y1 and the half-width. The coverage is the difference of two
edges, ``cov(t - w) - cov(t + w)`` at distance ``t`` from the segment, so the ink across a
stroke is exactly ``2w`` even for hairlines thinner than the anti-aliasing band. Fills are
flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import band_coverage_grad, segment_distance_grad
from taichi_sdf.groups import PenGroup
from taichi_sdf.kinds import pen, reference_sdf
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import point, polygon_rect_distance
from taichi_sdf.kinds.pen import fill_frame, fill_frame_vjp  # noqa: F401 (the kind's functions)


@dataclass(frozen=True)
class Strokes(PenGroup):
    """Line segments with round caps (capsules): points (Q, 2) shared by segments (S, 2) of
    point indices, so a polyline is a chain of segments sharing its points. widths (S,) is
    the full stroke width in pixels; colours (S, 3) flat; optional opacities (S,).
    """

    points: np.ndarray
    segments: np.ndarray
    widths: np.ndarray
    colours: np.ndarray
    opacities: np.ndarray | None = None

    INDEX: ClassVar = "segments"
    CORNERS: ClassVar = 2


@ti.func
def coverage_grad(geometry, guide, row, p, aa_width):
    """Coverage at ``p`` and its gradient with respect to (x0, y0, x1, y1, half-width)."""
    distance, d_start, d_end = segment_distance_grad(p, point(geometry, 0), point(geometry, 1))
    cov, along, d_half_width = band_coverage_grad(distance, geometry[4], aa_width)
    grad = geometry * 0.0
    for j in ti.static(range(2)):
        grad[j] = along * d_start[j]
        grad[2 + j] = along * d_end[j]
    grad[4] = d_half_width
    return cov, grad


@ti.func
def footprint(geometry, aa_width):
    return pen.footprint(geometry, 2, aa_width)


GUIDE_SIZE = pen.CAPSULE_SIZE


@ti.func
def guide(geometry, aa_width):
    """The row spans of the reach of the coverage about the segment."""
    return pen.capsule_rows(point(geometry, 0), point(geometry, 1), geometry[4] + aa_width)


@ti.func
def row_span(guide, y):
    lo, hi = pen.capsule_span(guide, y)
    return lo, hi, ti.Vector([y])


@ti.func
def touches(geometry, aa_width, lo, hi):
    return polygon_rect_distance(geometry, 2, lo, hi) < geometry[4] + aa_width


def reference_coverage(group: Strokes, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of segment ``i`` at (..., 2) pixel positions, in numpy."""
    a, b = group.points[group.segments[i]]
    return reference_sdf.band_coverage(reference_sdf.segment_distance(points, a, b), 0.5 * group.widths[i], aa_width)


def svg_element(group: Strokes, i: int, paint: str, number) -> str:
    (x1, y1), (x2, y2) = group.points[group.segments[i]]
    ends = f'x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}"'
    return f"<line {ends} {pen.stroke_attributes(group, i, paint, number)}/>"


KIND = Kind.from_functions(
    "segment",
    2,
    Strokes,
    (
        Take("points", index="segments", corner=0),
        Take("points", index="segments", corner=1),
        Take("widths", width=1, scale=0.5),
    ),
    globals(),
)
