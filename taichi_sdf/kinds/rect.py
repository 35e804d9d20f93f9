"""Rectangles: rotated, optionally with rounded corners, with an exact signed distance and
an area-exact anti-aliased edge.

Geometry columns: centre x, y, full width and height (pixels), the angle (radians from
the x axis to the width's side) and the corner radius. The corner radius is projected
onto [0, half the shorter side] where it is used (a larger one draws, and exports, as
that: a stadium or a disk); 0 gives sharp corners. A linear fill is anchored at the
centre, its slope given per sqrt(width height) / 2 (the half-side of the square of the
same area).

The distance is the exact one of a rounded box (:mod:`taichi_sdf.funcs.box`). The
coverage is the smooth step of the area-corrected distance ``(A(d) - A) / P``, where
A(s) is the area within s of the rectangle (A its area, P its perimeter): ``d + pi d^2
/ P`` outside and inside down to the corners' radius (Steiner's formula, see
:func:`~taichi_sdf.kinds.rotated.corrected_grad`), and ``((w + 2d)(h + 2d) - A) / P``
deeper, where the inner parallel rectangles have sharp corners. A step of it sums over
the pixel grid to the area ``w h - (4 - pi) r^2`` exactly (to the grid's sampling, ~0.1
px^2 for one placement) wherever the interior reaches full coverage, ``A / P >= aa``,
and nearly so a little below (measured at aa 1 over 64 placements: 10 x 3, -0.024 +-
0.011 px^2; 20 x 2, where A / P = 0.9, -0.003 +- 0.012); thinner rectangles ink more
than their area where the band overlaps itself: 30 x 1, +1.85 px^2 (6 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import coverage, coverage_slope
from taichi_sdf.funcs.box import box_distance_grad
from taichi_sdf.groups import ShapeGroup, as_array, set_fill
from taichi_sdf.kinds import reference_sdf, rotated
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import clip_span, point, rect_distance
from taichi_sdf.kinds.rotated import ANGLE, SIZES, corrected_grad

RADIUS = 5  # geometry column of the corner radius
SHARP_CORNERS = 4.0 - math.pi  # the area a corner's rounding takes, per radius^2, times 4


@dataclass(frozen=True)
class Rectangles(ShapeGroup):
    """N rotated rectangles. centres (N, 2), sizes (N, 2) the full width and height in
    pixels, angles (N,) in radians from the x axis to the width's side, colours (N, 3) at
    the centre; optional slopes (N, 3, 2) for a linear fill ``colour + slopes @ (p -
    centre) / (sqrt(width height) / 2)``, opacities (N,) and corner_radii (N,) in pixels
    (zeros, sharp corners, when not given; used up to half the shorter side)."""

    centres: np.ndarray
    sizes: np.ndarray
    angles: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None
    corner_radii: np.ndarray | None = None

    PARAMETERS: ClassVar = ("centres", "sizes", "angles", "corner_radii", "colours", "slopes", "opacities")
    POSITIVE: ClassVar = {"sizes": "rectangle sizes"}
    LENGTHS: ClassVar = ("centres", "sizes", "corner_radii")
    LEARNING_RATES: ClassVar = {"centres": 2.0, "sizes": 2.0, "angles": 0.1, "corner_radii": 0.5}
    BOUNDS: ClassVar = {"sizes": (1.0, np.inf), "corner_radii": (0.0, np.inf)}

    def __post_init__(self):
        n = len(np.atleast_1d(self.angles))
        object.__setattr__(self, "centres", as_array(self.centres, (n, 2), "centres"))
        object.__setattr__(self, "sizes", as_array(self.sizes, (n, 2), "sizes"))
        object.__setattr__(self, "angles", as_array(self.angles, (n,), "angles"))
        radii = np.zeros(n) if self.corner_radii is None else self.corner_radii
        object.__setattr__(self, "corner_radii", as_array(radii, (n,), "corner_radii"))
        set_fill(self, n)

    def __len__(self) -> int:
        return len(self.angles)

    def used_radii(self) -> np.ndarray:
        """(N,) the corner radii as drawn: projected onto [0, half the shorter side]."""
        return np.clip(self.corner_radii, 0.0, 0.5 * self.sizes.min(axis=1))

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (N, 2) and size (N,) of each linear fill: centres and sqrt(w h) / 2."""
        return self.centres, 0.5 * np.sqrt(self.sizes[:, 0] * self.sizes[:, 1])

    def fill_extent(self, i: int, anchor: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
        """Least and greatest (p - anchor) . direction over rectangle ``i`` (anchor: its centre)."""
        along = np.abs(rotated.frame_points(direction, np.zeros(2), self.angles[i]))
        radius = self.used_radii()[i]
        support = float((0.5 * self.sizes[i] - radius) @ along + radius)
        return -support, support

    def check_values(self, name: str) -> None:
        super().check_values(name)
        if np.any(self.corner_radii < 0):
            raise ValueError(f"{name}: corner radii must not be negative")


@ti.func
def _radius_grad(geometry):
    """The corner radius as used, min(radius, w / 2, h / 2) (>= 0), and its gradient
    with respect to (w, h, radius)."""
    width, height, radius = geometry[SIZES], geometry[SIZES + 1], ti.max(geometry[RADIUS], 0.0)
    used, d_used = radius, ti.Vector([0.0, 0.0, 1.0]) + 0.0 * radius
    if 0.5 * width < used:
        used, d_used = 0.5 * width, ti.Vector([0.5, 0.0, 0.0]) + 0.0 * radius
    if 0.5 * height < used:
        used, d_used = 0.5 * height, ti.Vector([0.0, 0.5, 0.0]) + 0.0 * radius
    return used, d_used


@ti.func
def _area_perimeter(geometry, radius):
    """Area and perimeter of the rectangle with corners of ``radius``."""
    width, height = geometry[SIZES], geometry[SIZES + 1]
    return width * height - SHARP_CORNERS * radius * radius, 2.0 * (width + height) - 2.0 * SHARP_CORNERS * radius


@ti.func
def _reach(geometry, aa_width):
    radius, _radius_sizes = _radius_grad(geometry)
    _area, perimeter = _area_perimeter(geometry, radius)
    return rotated.reach(math.pi / perimeter, aa_width)


GUIDE_SIZE = 16  # cos, sin of the angle; x-range; four side lines grown by the reach (normal x, y, offset)


@ti.func
def guide(geometry, aa_width):
    """The frame, then the x-range of the footprint and the four sides of the rectangle
    grown by the reach (which hold the footprint, as their corners hold a rounded one)."""
    cos, sin = ti.cos(geometry[ANGLE]), ti.sin(geometry[ANGLE])
    lo, hi = footprint(geometry, aa_width)
    grown = 0.5 * ti.Vector([geometry[SIZES], geometry[SIZES + 1]]) + _reach(geometry, aa_width)
    guide = ti.Vector([0.0] * GUIDE_SIZE) + 0.0 * geometry[0]
    guide[0], guide[1], guide[2], guide[3] = cos, sin, lo[0], hi[0]
    centre = point(geometry, 0)
    for k in ti.static(range(4)):
        axis = ti.Vector([cos, sin]) if k % 2 == 0 else ti.Vector([-sin, cos])
        outward = axis if k < 2 else -axis
        guide[4 + 3 * k], guide[5 + 3 * k] = outward[0], outward[1]
        guide[6 + 3 * k] = outward.dot(centre) + grown[k % 2]
    return guide


@ti.func
def row_span(guide, y):
    """Where the line at height ``y`` lies within the guide's four lines."""
    lo, hi = guide[2], guide[3]
    for k in ti.static(range(4)):
        lo, hi = clip_span(lo, hi, ti.Vector([guide[4 + 3 * k], guide[5 + 3 * k]]), guide[6 + 3 * k], y)
    return lo, hi, ti.Vector([y])


@ti.func
def _corrected_grad(geometry, distance, radius):
    """The corrected distance (see the module docstring) at ``distance`` from the
    rectangle with corners of ``radius``, its derivative in the distance, and its gradient
    with respect to (w, h, radius) at a fixed distance."""
    width, height = geometry[SIZES], geometry[SIZES + 1]
    area, perimeter = _area_perimeter(geometry, radius)
    corrected, along, direct = distance * 0.0, distance * 0.0, ti.Vector([0.0, 0.0, 0.0]) + 0.0 * distance
    if distance >= -radius:
        k = math.pi / perimeter
        d_k = -k / perimeter * ti.Vector([2.0, 2.0, -2.0 * SHARP_CORNERS])
        corrected, along, direct = corrected_grad(distance, k, d_k)
    else:
        corrected = ((width + 2.0 * distance) * (height + 2.0 * distance) - area) / perimeter
        along = 2.0 * (width + height + 4.0 * distance) / perimeter
        through_sizes = 2.0 * (distance - corrected) / perimeter
        direct = ti.Vector([through_sizes, through_sizes, 2.0 * SHARP_CORNERS * (radius + corrected) / perimeter])
    return corrected, along, direct


@ti.func
def coverage_grad(geometry, guide, row, p, aa_width):
    """Coverage at ``p`` and its gradient with respect to (cx, cy, w, h, angle, radius)."""
    cos, sin = guide[0], guide[1]
    q = rotated.to_frame(p, geometry, cos, sin)
    radius, d_radius_sizes = _radius_grad(geometry)
    half = 0.5 * ti.Vector([geometry[SIZES], geometry[SIZES + 1]])
    distance, d_q, d_half, d_radius = box_distance_grad(q, half, radius)
    corrected, along, direct = _corrected_grad(geometry, distance, radius)
    grad = geometry * 0.0
    if ti.abs(corrected) < aa_width:  # in the band: elsewhere the coverage is 0 or 1, flat
        slope = coverage_slope(corrected, aa_width)
        grad = rotated.frame_grad(grad, slope * along * d_q, q, cos, sin)
        # (w, h) at a fixed used radius, then the used radius's gradient through its projection.
        d_shape = ti.Vector([along * 0.5 * d_half[0] + direct[0], along * 0.5 * d_half[1] + direct[1], 0.0])
        d_shape += (along * d_radius + direct[2]) * d_radius_sizes
        grad[SIZES], grad[SIZES + 1], grad[RADIUS] = slope * d_shape[0], slope * d_shape[1], slope * d_shape[2]
    return coverage(corrected, aa_width), grad


@ti.func
def footprint(geometry, aa_width):
    cos, sin = ti.abs(ti.cos(geometry[ANGLE])), ti.abs(ti.sin(geometry[ANGLE]))
    radius, _radius_sizes = _radius_grad(geometry)
    inner = 0.5 * ti.Vector([geometry[SIZES], geometry[SIZES + 1]]) - radius
    extents = ti.Vector([cos * inner[0] + sin * inner[1], sin * inner[0] + cos * inner[1]])
    extents += radius + _reach(geometry, aa_width)
    return point(geometry, 0) - extents, point(geometry, 0) + extents


@ti.func
def touches(geometry, aa_width, lo, hi):
    """Whether the coverage reaches the rectangle [lo, hi]: whether it comes within the
    radius and the reach of the rectangle with sharp corners inside the rounded one. Two
    rectangles overlap unless one of their four side directions separates them; apart,
    their nearest points include a corner of one of them."""
    cos, sin = ti.cos(geometry[ANGLE]), ti.sin(geometry[ANGLE])
    radius, _radius_sizes = _radius_grad(geometry)
    inner = 0.5 * ti.Vector([geometry[SIZES], geometry[SIZES + 1]]) - radius
    centre = point(geometry, 0)
    middle, half = 0.5 * (lo + hi) - centre, 0.5 * (hi - lo)
    separated = False
    for k in ti.static(range(4)):
        axis = ti.Vector([[1.0, 0.0], [0.0, 1.0], [cos, sin], [-sin, cos]][k]) + 0.0 * cos
        along_box = ti.abs(axis[0] * cos + axis[1] * sin) * inner[0] + ti.abs(-axis[0] * sin + axis[1] * cos) * inner[1]
        along_rect = ti.abs(axis[0]) * half[0] + ti.abs(axis[1]) * half[1]
        separated = separated or ti.abs(axis.dot(middle)) > along_box + along_rect
    distance = 0.0 * cos
    if separated:
        distance = 1e30 + 0.0 * cos
        for corner in ti.static(range(4)):
            sign = ti.Vector([1.0 if corner % 2 == 0 else -1.0, 1.0 if corner < 2 else -1.0])
            c = ti.Vector([lo[0] if corner % 2 == 0 else hi[0], lo[1] if corner < 2 else hi[1]])
            q = rotated.to_frame(c, geometry, cos, sin)
            to_box, _d_q, _d_half, _d_radius = box_distance_grad(q, inner, 0.0 * cos)
            box_corner = centre + rotated.turned(inner * sign, cos, sin)
            distance = ti.min(distance, ti.max(to_box, 0.0), rect_distance(box_corner, lo, hi))
    return distance < radius + _reach(geometry, aa_width)


def box_distance(points: np.ndarray, centre: np.ndarray, size: np.ndarray, angle: float, radius: float) -> np.ndarray:
    """Exact signed distance from (..., 2) points to a rounded rectangle, in numpy."""
    past = np.abs(rotated.frame_points(points, centre, angle)) - (0.5 * size - radius)
    outside = np.linalg.norm(np.maximum(past, 0.0), axis=-1)
    return outside + np.minimum(past.max(axis=-1), 0.0) - radius


def reference_coverage(group: Rectangles, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of rectangle ``i`` at (..., 2) pixel positions, in numpy."""
    (width, height), radius = group.sizes[i], group.used_radii()[i]
    d = box_distance(points, group.centres[i], group.sizes[i], group.angles[i], radius)
    area = width * height - SHARP_CORNERS * radius**2
    perimeter = 2.0 * (width + height) - 2.0 * SHARP_CORNERS * radius
    # (area within d of the rectangle - area) / perimeter: Steiner's down to the corners' radius
    deeper = ((width + 2 * d) * (height + 2 * d) - area) / perimeter
    corrected = np.where(d >= -radius, d + math.pi * d * d / perimeter, deeper)
    return reference_sdf.coverage(corrected, aa_width)


def svg_element(group: Rectangles, i: int, paint: str, number) -> str:
    (cx, cy), (width, height), radius = group.centres[i], group.sizes[i], group.used_radii()[i]
    attributes = (f'x="{number(cx - 0.5 * width)}" y="{number(cy - 0.5 * height)}" width="{number(width)}" '
                  f'height="{number(height)}"')  # fmt: skip
    if radius > 0.0:
        attributes += f' rx="{number(radius)}" ry="{number(radius)}"'
    return rotated.svg_element("rect", attributes, group, i, paint, number)


# The fill is anchored at the centre, per sqrt(w h) / 2.
KIND = Kind.from_functions(
    "rect",
    6,
    Rectangles,
    (Take("centres"), Take("sizes"), Take("angles", width=1), Take("corner_radii", width=1)),
    {**globals(), **rotated.fill_functions(0.5)},
)
