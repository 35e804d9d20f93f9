"""Ellipses: rotated, with an exact signed distance and an area-exact anti-aliased edge.

Geometry columns: centre x, y, semi-axes a, b (pixels) and the angle (radians from the x
axis to a's axis). A linear fill is anchored at the centre, its slope given per sqrt(a b)
(the radius of the circle of the same area).

The distance is exact (:mod:`taichi_sdf.funcs.ellipse`: the nearest point by a bracketed
Halley solve, to rounding in float64 and in float32). The
coverage is the smooth step of the area-corrected distance ``d + K d^2`` with
``K = pi / P`` (see :func:`~taichi_sdf.kinds.rotated.corrected_grad`), P the perimeter
by Ramanujan's ``pi (3 (a + b) - sqrt((3a + b)(a + 3b)))``, exact for a circle (the
circle kind's coverage then, to rounding) and at most 0.4 % short otherwise.

Error bound of the coverage summed over the pixels against the area pi a b: none from
the distance (exact). Steiner's formula, and so the correction, is exact inside down to
the smallest radius of curvature, b^2 / a (b the shorter semi-axis); deeper, the inner
parallel curve folds near the ends of the major axis, over areas too small to show, and
the interior reaches full coverage where b >= 2 aa. Ramanujan's perimeter adds at most
0.004 * 0.2 pi aa^2 (0.003 px^2 at aa 1). Measured at aa 1 (the mean over 64 sub-pixel
placements and angles; one placement's sum scatters by ~0.1 px^2 on the pixel grid):
a, b = 10, 3: +0.015 +- 0.014 px^2; 20, 2.5: +0.016 +- 0.021; thinner ellipses ink more
than their area where the band overlaps itself (as every kind's coverage of a sliver
does): 20, 1.5: +0.18 px^2 (0.2 %); 30, 1: +1.2 px^2 (1.3 %); 3, 1: +0.10 px^2 (1.1 %).

Pixels are solved only in the band: cheap bounds decide the rest. Outside, the distance
is at least ``rho (rho - 1) / |grad rho|`` for the ellipse's gauge rho (a convex function
that is 1 on the outline); inside, two smaller ellipses lie the band's depth inside the
outline (by the gauge's Lipschitz constant, and by support functions), where the
coverage is 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import coverage, coverage_slope
from taichi_sdf.funcs.ellipse import ellipse_distance_grad
from taichi_sdf.groups import ShapeGroup, as_array, set_fill
from taichi_sdf.kinds import reference_sdf, rotated
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import point
from taichi_sdf.kinds.rotated import ANGLE, SIZES, corrected_grad


@dataclass(frozen=True)
class Ellipses(ShapeGroup):
    """N rotated ellipses. centres (N, 2), radii (N, 2) the semi-axes a, b in pixels,
    angles (N,) in radians from the x axis to a's axis, colours (N, 3) at the centre;
    optional slopes (N, 3, 2) for a linear fill ``colour + slopes @ (p - centre) /
    sqrt(a b)`` and opacities (N,)."""

    centres: np.ndarray
    radii: np.ndarray
    angles: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("centres", "radii", "angles", "colours", "slopes", "opacities")
    POSITIVE: ClassVar = {"radii": "ellipse semi-axes"}
    LENGTHS: ClassVar = ("centres", "radii")
    LEARNING_RATES: ClassVar = {"centres": 2.0, "radii": 1.0, "angles": 0.1}
    BOUNDS: ClassVar = {"radii": (0.5, np.inf)}

    def __post_init__(self):
        n = len(np.atleast_1d(self.angles))
        object.__setattr__(self, "centres", as_array(self.centres, (n, 2), "centres"))
        object.__setattr__(self, "radii", as_array(self.radii, (n, 2), "radii"))
        object.__setattr__(self, "angles", as_array(self.angles, (n,), "angles"))
        set_fill(self, n)

    def __len__(self) -> int:
        return len(self.angles)

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (N, 2) and size (N,) of each linear fill: centres and sqrt(a b)."""
        return self.centres, np.sqrt(self.radii[:, 0] * self.radii[:, 1])

    def fill_extent(self, i: int, anchor: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
        """Least and greatest (p - anchor) . direction over ellipse ``i`` (anchor: its
        centre): minus and plus its support, |diag(a, b) R^T direction|."""
        along = rotated.frame_points(direction, np.zeros(2), self.angles[i])
        support = float(np.hypot(*(self.radii[i] * along)))
        return -support, support


# The guide: the centre and the frame, the area correction and the reach, the bounds that
# spare pixels the solve, and two ellipses holding the coverage's reach, for the row spans.
CENTRE_X, CENTRE_Y, FRAME_COS, FRAME_SIN = 0, 1, 2, 3
CORRECTION, CORRECTION_A, CORRECTION_B = 4, 5, 6  # K and its derivatives in a and b
REACH = 7  # the distance outside at which the coverage ends
GAUGE_A, GAUGE_B = 8, 9  # 1 / a^2, 1 / b^2
INNER_GAUGE = 10  # gauge^2 under which the coverage is 1 (Lipschitz; -1: none)
INNER_A, INNER_B = 11, 12  # 1 / axes^2 of an ellipse where the coverage is 1 (-1: none)
SPANS = 13  # two ellipses of the row spans, 3 values each (see _chord_guide)
GUIDE_SIZE = SPANS + 6


@ti.func
def _correction_grad(a, b):
    """K = pi / P and its derivatives in a and b, P Ramanujan's perimeter."""
    root = ti.sqrt((3.0 * a + b) * (a + 3.0 * b))
    k = 1.0 / (3.0 * (a + b) - root)
    return k, -k * k * (3.0 - (3.0 * a + 5.0 * b) / root), -k * k * (3.0 - (5.0 * a + 3.0 * b) / root)


@ti.func
def _chord_guide(cos, sin, a, b):
    """What the row spans of the ellipse of semi-axes a, b at the guide's angle need: the
    quadratic form ``m11 x^2 + 2 m12 x y + m22 y^2 <= 1`` of its offsets from the centre
    holds, at height y, x in ``slope y +- sqrt(half0 - shrink y^2)``; returns (slope,
    half0, shrink)."""
    ia, ib = 1.0 / (a * a), 1.0 / (b * b)
    m11, m12 = cos * cos * ia + sin * sin * ib, cos * sin * (ia - ib)
    return -m12 / m11, 1.0 / m11, ia * ib / (m11 * m11)


@ti.func
def _half_extents(geometry, spread):
    """Half-width and half-height of the ellipse's box, grown by ``spread``."""
    cos, sin = ti.cos(geometry[ANGLE]), ti.sin(geometry[ANGLE])
    a, b = geometry[SIZES], geometry[SIZES + 1]
    return ti.Vector([ti.sqrt((a * cos) ** 2 + (b * sin) ** 2), ti.sqrt((a * sin) ** 2 + (b * cos) ** 2)]) + spread


@ti.func
def guide(geometry, aa_width):
    """The frame, the area correction and the bounds of the coverage (see GUIDE_SIZE)."""
    a, b = geometry[SIZES], geometry[SIZES + 1]
    cos, sin = ti.cos(geometry[ANGLE]), ti.sin(geometry[ANGLE])
    k, k_a, k_b = _correction_grad(a, b)
    outer = rotated.reach(k, aa_width)
    guide = ti.Vector([0.0] * GUIDE_SIZE) + 0.0 * a
    guide[CENTRE_X], guide[CENTRE_Y], guide[FRAME_COS], guide[FRAME_SIN] = geometry[0], geometry[1], cos, sin
    guide[CORRECTION], guide[CORRECTION_A], guide[CORRECTION_B], guide[REACH] = k, k_a, k_b, outer
    guide[GAUGE_A], guide[GAUGE_B] = 1.0 / (a * a), 1.0 / (b * b)
    # Coverage 1 where d + K d^2 <= -aa, i.e. d <= -inner (none where the area correction
    # never gets that deep, 1 - 4 K aa < 0). A point of gauge rho lies at least (1 - rho)
    # min(a, b) inside (the gauge is Lipschitz with 1 / min(a, b)); the ellipse of axes
    # major - inner and sqrt(minor^2 - 2 major inner + inner^2) grown by inner lies inside
    # (support functions: h'^2 = h^2 - c for its axes^2 = axes^2 - c, c = inner (2 major - inner)).
    guide[INNER_GAUGE], guide[INNER_A], guide[INNER_B] = -1.0, -1.0, -1.0
    room = 1.0 - 4.0 * k * aa_width
    major, minor = ti.max(a, b), ti.min(a, b)
    if room >= 0.0:
        inner = (1.0 - ti.sqrt(room)) / (2.0 * k)
        if inner < minor:
            guide[INNER_GAUGE] = (1.0 - inner / minor) ** 2
        across = minor * minor - inner * (2.0 * major - inner)
        if across > 0.0 and inner < major:
            inner_major, inner_minor = 1.0 / (major - inner) ** 2, 1.0 / across
            guide[INNER_A] = ti.select(a >= b, inner_major, inner_minor)
            guide[INNER_B] = ti.select(a >= b, inner_minor, inner_major)
    # Two ellipses holding every point within ``outer`` of it: scaled by 1 + outer / minor
    # (support h + outer <= (1 + outer / minor) h), and of axes^2 + outer (2 major + outer).
    grow = 1.0 + outer / minor
    spans_a = _chord_guide(cos, sin, a * grow, b * grow)
    wider = outer * (2.0 * major + outer)
    spans_b = _chord_guide(cos, sin, ti.sqrt(a * a + wider), ti.sqrt(b * b + wider))
    for i in ti.static(range(3)):
        guide[SPANS + i], guide[SPANS + 3 + i] = spans_a[i], spans_b[i]
    return guide


@ti.func
def row_span(guide, y):
    """The chords of the guide's two ellipses on the line at height ``y``, intersected
    (empty: lo > hi)."""
    height = y - guide[CENTRE_Y]
    lo, hi = -1e30 + 0.0 * y, 1e30 + 0.0 * y
    for k in ti.static(range(2)):
        slope, half0, shrink = guide[SPANS + 3 * k], guide[SPANS + 3 * k + 1], guide[SPANS + 3 * k + 2]
        across = half0 - shrink * height * height
        half = ti.sqrt(ti.max(across, 0.0))
        middle = guide[CENTRE_X] + slope * height
        lo, hi = ti.max(lo, middle - half), ti.min(hi, middle + half)
        if across < 0.0:
            lo, hi = 1.0, 0.0
    return lo, hi, ti.Vector([y])


@ti.func
def coverage_grad(geometry, guide, row, p, aa_width):
    """Coverage at ``p`` and its gradient with respect to (cx, cy, a, b, angle)."""
    cos, sin = guide[FRAME_COS], guide[FRAME_SIN]
    q = rotated.to_frame(p, geometry, cos, sin)
    gauge_sq = q[0] * q[0] * guide[GAUGE_A] + q[1] * q[1] * guide[GAUGE_B]
    cov = 0.0 * p[0]
    grad = geometry * 0.0
    # Outside by at least the reach: rho (rho - 1) >= (rho^2 - 1) / 2 >= reach |grad rho| rho
    # (|grad rho| rho = normal below); inside by the band's depth: see the guide.
    normal_sq = (q[0] * guide[GAUGE_A]) ** 2 + (q[1] * guide[GAUGE_B]) ** 2
    outside = gauge_sq > 1.0 and (gauge_sq - 1.0) ** 2 >= 4.0 * guide[REACH] ** 2 * normal_sq
    inside = gauge_sq <= guide[INNER_GAUGE] or (
        guide[INNER_A] > 0.0 and q[0] * q[0] * guide[INNER_A] + q[1] * q[1] * guide[INNER_B] <= 1.0
    )
    if inside:
        cov = 1.0 + 0.0 * p[0]
    elif not outside:
        radii = ti.Vector([geometry[SIZES], geometry[SIZES + 1]])
        distance, d_q, d_radii = ellipse_distance_grad(q, radii)
        d_correction = ti.Vector([guide[CORRECTION_A], guide[CORRECTION_B]])
        corrected, along, through = corrected_grad(distance, guide[CORRECTION], d_correction)
        cov = coverage(corrected, aa_width)
        slope = coverage_slope(corrected, aa_width)
        grad = rotated.frame_grad(grad, slope * along * d_q, q, cos, sin)
        grad[SIZES] = slope * (along * d_radii[0] + through[0])
        grad[SIZES + 1] = slope * (along * d_radii[1] + through[1])
    return cov, grad


@ti.func
def footprint(geometry, aa_width):
    k, _k_a, _k_b = _correction_grad(geometry[SIZES], geometry[SIZES + 1])
    extents = _half_extents(geometry, rotated.reach(k, aa_width))
    return point(geometry, 0) - extents, point(geometry, 0) + extents


@ti.func
def touches(geometry, aa_width, lo, hi):
    """Whether the coverage reaches the rectangle [lo, hi]: no axis separates it from the
    ellipse grown by the reach. The axes tried hold the best one (that of the closest
    pair): x and y, where the rectangle's closest point lies inside a side, and the normal
    at the ellipse's nearest point to each corner, where a corner is the closest point."""
    cos, sin = ti.cos(geometry[ANGLE]), ti.sin(geometry[ANGLE])
    a, b = geometry[SIZES], geometry[SIZES + 1]
    k, _k_a, _k_b = _correction_grad(a, b)
    outer = rotated.reach(k, aa_width)
    centre = point(geometry, 0)
    extents = _half_extents(geometry, outer)
    separated = lo[0] > centre[0] + extents[0] or lo[1] > centre[1] + extents[1]
    separated = separated or hi[0] < centre[0] - extents[0] or hi[1] < centre[1] - extents[1]
    middle, half = 0.5 * (lo + hi) - centre, 0.5 * (hi - lo)
    for corner in range(4):  # not unrolled: the solve compiles once
        if not separated:
            c = ti.Vector([ti.select(corner % 2 == 0, lo[0], hi[0]), ti.select(corner < 2, lo[1], hi[1])])
            _distance, d_q, _d_radii = ellipse_distance_grad(rotated.to_frame(c, geometry, cos, sin), ti.Vector([a, b]))
            normal = rotated.turned(d_q, cos, sin)
            nearest = normal.dot(middle) - ti.abs(normal[0]) * half[0] - ti.abs(normal[1]) * half[1]
            support = ti.sqrt((a * d_q[0]) ** 2 + (b * d_q[1]) ** 2)
            separated = nearest - support >= outer
    return not separated


def ellipse_distance(points: np.ndarray, centre: np.ndarray, radii: np.ndarray, angle: float) -> np.ndarray:
    """Exact signed distance from (..., 2) points to an ellipse, in numpy: the nearest point
    (a cos t, b sin t) of the point reflected into the first quadrant by bisection of
    (e(t) - q) . e'(t) on [0, pi/2], where it changes sign once."""
    q = np.abs(rotated.frame_points(points, centre, angle))
    a, b = radii
    lo, hi = np.zeros(q.shape[:-1]), np.full(q.shape[:-1], 0.5 * np.pi)
    for _ in range(64):
        t = 0.5 * (lo + hi)
        below = (b * b - a * a) * np.sin(t) * np.cos(t) + a * q[..., 0] * np.sin(t) - b * q[..., 1] * np.cos(t) <= 0
        lo, hi = np.where(below, t, lo), np.where(below, hi, t)
    t = 0.5 * (lo + hi)
    distance = np.hypot(q[..., 0] - a * np.cos(t), q[..., 1] - b * np.sin(t))
    return np.where((q[..., 0] / a) ** 2 + (q[..., 1] / b) ** 2 < 1.0, -distance, distance)


def reference_coverage(group: Ellipses, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of ellipse ``i`` at (..., 2) pixel positions, in numpy."""
    a, b = group.radii[i]
    distance = ellipse_distance(points, group.centres[i], group.radii[i], group.angles[i])
    correction = 1.0 / (3.0 * (a + b) - math.sqrt((3.0 * a + b) * (a + 3.0 * b)))  # pi / Ramanujan's perimeter
    return reference_sdf.coverage(distance + correction * distance * distance, aa_width)


def svg_element(group: Ellipses, i: int, paint: str, number) -> str:
    (cx, cy), (rx, ry) = group.centres[i], group.radii[i]
    attributes = f'cx="{number(cx)}" cy="{number(cy)}" rx="{number(rx)}" ry="{number(ry)}"'
    return rotated.svg_element("ellipse", attributes, group, i, paint, number)


# The fill is anchored at the centre, per sqrt(a b).
KIND = Kind.from_functions(
    "ellipse",
    5,
    Ellipses,
    (Take("centres"), Take("radii"), Take("angles", width=1)),
    {**globals(), **rotated.fill_functions(1.0)},
)
