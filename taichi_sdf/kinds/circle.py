"""Circles: disks with an area-exact anti-aliased edge.

Geometry columns: centre x, centre y, radius. A linear fill is anchored at the centre and
its slope is given per radius, so the gradient scales with the circle.

The coverage is a smooth step of the signed distance corrected by the area element,
``d = (|p - c|^2 - r^2) / 2r`` (equal to the true distance at the edge to first order),
which makes the coverage summed over the pixel grid exactly the disk's area, pi r^2,
instead of adding ~1 px^2 of curvature bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import smooth_step, smooth_step_slope
from taichi_sdf.groups import ShapeGroup, as_array, set_fill
from taichi_sdf.kinds import reference_sdf
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import fill_attributes, point, rect_distance


@dataclass(frozen=True)
class Circles(ShapeGroup):
    """N disks. centres (N, 2), radii (N,), colours (N, 3) at the centre; optional slopes
    (N, 3, 2) for a linear fill ``colour + slopes @ (p - centre) / radius`` and opacities (N,).
    """

    centres: np.ndarray
    radii: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("centres", "radii", "colours", "slopes", "opacities")
    POSITIVE: ClassVar = {"radii": "circle radii"}
    LENGTHS: ClassVar = ("centres", "radii")
    LEARNING_RATES: ClassVar = {"centres": 2.0, "radii": 1.0}
    BOUNDS: ClassVar = {"radii": (0.5, np.inf)}

    def __post_init__(self):
        n = len(np.atleast_1d(self.radii))
        object.__setattr__(self, "centres", as_array(self.centres, (n, 2), "centres"))
        object.__setattr__(self, "radii", as_array(self.radii, (n,), "radii"))
        set_fill(self, n)

    def __len__(self) -> int:
        return len(self.radii)

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (N, 2) and size (N,) of each linear fill: centres and radii."""
        return self.centres, self.radii

    def fill_extent(self, i: int, anchor: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
        """Least and greatest (p - anchor) . direction over circle ``i`` (anchor: its centre)."""
        return -self.radii[i], self.radii[i]


# The guide: the footprint disk (centre x, y and reach), then k = 1 / (4 r aa_width) and
# k / r. The coverage is smooth_step(0.5 - d / (2 aa_width)) = smooth_step(0.5 - (|q|^2 -
# r^2) k). The forward pass reads the guide from memory, so its pixel loop multiplies by
# these reciprocals: computed beside the loop, Taichi's fast math folds them back into a
# division per pixel (LLVM rewrites x * (0.5 / r) as (x * 0.5) / r).
GUIDE_SIZE = 5


@ti.func
def coverage_grad(geometry, guide, row, p, aa_width):
    """Coverage at ``p`` and its gradient with respect to (cx, cy, r)."""
    q = p - point(geometry, 0)
    radius, k, k_per_radius = geometry[2], guide[3], guide[4]
    step = 0.5 - (q.dot(q) - radius * radius) * k
    slope = smooth_step_slope(step)
    grad = geometry * 0.0
    grad[0] = 2.0 * k * slope * q[0]
    grad[1] = 2.0 * k * slope * q[1]
    grad[2] = (q.dot(q) + radius * radius) * k_per_radius * slope
    return smooth_step(step), grad


@ti.func
def fill_frame(geometry):
    """A circle's linear fill is anchored at its centre, per radius."""
    return point(geometry, 0), geometry[2]


@ti.func
def fill_frame_vjp(geometry, d_anchor, d_scale):
    grad = geometry * 0.0
    grad[0], grad[1], grad[2] = d_anchor[0], d_anchor[1], d_scale
    return grad


@ti.func
def _reach(geometry, aa_width):
    """Distance from the centre beyond which the coverage is zero: where the corrected
    distance (|q|^2 - r^2) / 2r reaches the band's half-width."""
    radius = geometry[2]
    return ti.sqrt(radius * radius + 2.0 * radius * aa_width)


@ti.func
def footprint(geometry, aa_width):
    reach = _reach(geometry, aa_width)
    return point(geometry, 0) - reach, point(geometry, 0) + reach


@ti.func
def guide(geometry, aa_width):
    """The footprint disk and the coverage's reciprocals (see GUIDE_SIZE)."""
    radius = geometry[2]
    k = 0.25 / (radius * aa_width)
    return ti.Vector([geometry[0], geometry[1], _reach(geometry, aa_width), k, k / radius])


@ti.func
def row_span(guide, y):
    """The chord of the footprint disk on the line at height ``y`` (empty: lo > hi)."""
    across = guide[2] * guide[2] - (y - guide[1]) * (y - guide[1])
    half = ti.sqrt(ti.max(across, 0.0))
    lo, hi = guide[0] - half, guide[0] + half
    if across <= 0.0:
        lo, hi = 1.0, 0.0
    return lo, hi, ti.Vector([y])


@ti.func
def touches(geometry, aa_width, lo, hi):
    return rect_distance(point(geometry, 0), lo, hi) < _reach(geometry, aa_width)


def reference_coverage(group: Circles, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of circle ``i`` at (..., 2) pixel positions, in numpy."""
    offset = points - group.centres[i]
    radius = group.radii[i]
    return reference_sdf.coverage((np.sum(offset * offset, axis=-1) - radius * radius) / (2.0 * radius), aa_width)


def svg_element(group: Circles, i: int, paint: str, number) -> str:
    (cx, cy), r = group.centres[i], group.radii[i]
    return f'<circle cx="{number(cx)}" cy="{number(cy)}" r="{number(r)}" {fill_attributes(group, i, paint, number)}/>'


KIND = Kind.from_functions("circle", 0, Circles, (Take("centres"), Take("radii", width=1)), globals())
