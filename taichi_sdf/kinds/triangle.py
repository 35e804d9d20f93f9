"""Triangles and triangle meshes: corners shared between faces by index.

Geometry columns: the three corners x0, y0, x1, y1, x2, y2 (either winding). The coverage
is a smooth step of the exact signed distance. A linear fill is anchored at the centroid,
with its slope given per RMS distance of the corners from the centroid.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import taichi as ti

from taichi_sdf.funcs import coverage, coverage_slope, sdf_triangle_grad
from taichi_sdf.groups import ShapeGroup, set_fill, set_indexed_points
from taichi_sdf.kinds import reference_sdf
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.footprints import clip_span, fill_attributes, point, points_box, polygon_rect_distance


def triangle_frames(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear-fill anchors (centroids, (F, 2)) and sizes (RMS vertex distance from the
    centroid, (F,)) of triangles given as (F, 3, 2) corner arrays."""
    centroids = corners.mean(axis=1)
    return centroids, np.sqrt(np.mean(np.sum((corners - centroids[:, None]) ** 2, axis=2), axis=1))


def doubled_signed_areas(corners: np.ndarray) -> np.ndarray:
    """Twice the signed area of triangles given as (F, 3, 2) corner arrays."""
    ab, ac = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    return ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]


@dataclass(frozen=True)
class Triangles(ShapeGroup):
    """A triangle mesh: vertices (V, 2) shared by faces (F, 3) of vertex indices.

    colours (F, 3) per face at its centroid; optional slopes (F, 3, 2) for a linear fill
    ``colour + slopes @ (p - centroid) / size`` (size: RMS distance of the vertices from the
    centroid) and opacities (F,). Free triangles are a mesh whose faces share no vertices.
    Either winding is fine.
    """

    vertices: np.ndarray
    faces: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("vertices", "colours", "slopes", "opacities")
    INDICES: ClassVar = ("faces",)
    LENGTHS: ClassVar = ("vertices",)
    LEARNING_RATES: ClassVar = {"vertices": 1.0}

    def __post_init__(self):
        set_indexed_points(self, "vertices", "faces", 3)
        set_fill(self, len(self.faces))

    def __len__(self) -> int:
        return len(self.faces)

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (F, 2) and size (F,) of each linear fill: centroids and RMS vertex distances."""
        return triangle_frames(self.vertices[self.faces])

    def fill_extent(self, i: int, anchor: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
        """Least and greatest (p - anchor) . direction over face ``i``'s corners."""
        along = (self.vertices[self.faces[i]] - anchor) @ direction
        return along.min(), along.max()

    def unshared(self) -> Triangles:
        """The same triangles, each with its own three vertices (free to move apart)."""
        return dataclasses.replace(
            self, vertices=self.vertices[self.faces].reshape(-1, 2), faces=np.arange(3 * len(self)).reshape(-1, 3)
        )

    def check_values(self, name: str) -> None:
        super().check_values(name)
        doubled_area = np.abs(doubled_signed_areas(self.vertices[self.faces]))
        if np.any(doubled_area <= 1e-9):
            raise ValueError(f"{name}: degenerate triangle (zero area) at face {int(np.argmin(doubled_area))}")


@ti.func
def _within_edge_lines(geometry, p, aa_width):
    """Whether ``p`` lies within ``aa_width`` of all three edge lines: a cheap test that
    holds wherever the coverage is non-zero (the signed distance to a triangle is at least
    its largest signed edge-line distance)."""
    a, b, c = point(geometry, 0), point(geometry, 1), point(geometry, 2)
    ab, ac = b - a, c - a
    orientation = ti.math.sign(ab[0] * ac[1] - ab[1] * ac[0])
    result = True
    for k in ti.static(range(3)):
        start = point(geometry, k)
        edge = point(geometry, (k + 1) % 3) - start
        v = p - start
        outward = -orientation * (edge[0] * v[1] - edge[1] * v[0])  # signed distance * |edge|
        result = result and (outward < 0.0 or outward * outward < aa_width * aa_width * edge.norm_sqr())
    return result


@ti.func
def coverage_grad(geometry, guide, row, p, aa_width):
    """Coverage at ``p`` and its gradient with respect to the six corner coordinates."""
    cov = 0.0 * p[0]
    grad = geometry * 0.0
    if _within_edge_lines(geometry, p, aa_width):
        distance, corners_grad = sdf_triangle_grad(p, point(geometry, 0), point(geometry, 1), point(geometry, 2))
        cov = coverage(distance, aa_width)
        slope = coverage_slope(distance, aa_width)
        for k in ti.static(range(6)):
            grad[k] = slope * corners_grad[k // 2, k % 2]
    return cov, grad


@ti.func
def fill_frame(geometry):
    """Centroid and RMS distance of the corners from it."""
    anchor = (point(geometry, 0) + point(geometry, 1) + point(geometry, 2)) / 3.0
    spread = 0.0 * anchor[0]
    for k in ti.static(range(3)):
        spread += (point(geometry, k) - anchor).norm_sqr()
    return anchor, ti.sqrt(spread / 3.0)


@ti.func
def fill_frame_vjp(geometry, d_anchor, d_scale):
    """d centroid / d corner = I / 3; d RMS / d corner = (corner - centroid) / (3 RMS)
    (the centroid's own motion cancels, as the offsets sum to zero)."""
    anchor, scale = fill_frame(geometry)
    grad = geometry * 0.0
    for k in ti.static(range(3)):
        offset = point(geometry, k) - anchor
        for j in ti.static(range(2)):
            grad[2 * k + j] = d_anchor[j] / 3.0 + d_scale * offset[j] / (3.0 * scale)
    return grad


@ti.func
def footprint(geometry, aa_width):
    return points_box(geometry, 3, aa_width)


GUIDE_SIZE = 11  # x-range, then three edge lines (normal x, y and offset)


@ti.func
def guide(geometry, aa_width):
    """The x-range of the corners grown by ``aa_width``, then each edge line moved out by
    ``aa_width``: its outward unit normal and offset (the lines hold the footprint, as
    :func:`_within_edge_lines` tests pixel by pixel)."""
    a, b, c = point(geometry, 0), point(geometry, 1), point(geometry, 2)
    ab, ac = b - a, c - a
    orientation = ti.math.sign(ab[0] * ac[1] - ab[1] * ac[0])
    guide = ti.Vector([0.0] * GUIDE_SIZE) + 0.0 * geometry[0]
    guide[0], guide[1] = ti.min(a[0], b[0], c[0]) - aa_width, ti.max(a[0], b[0], c[0]) + aa_width
    for k in ti.static(range(3)):
        start = point(geometry, k)
        edge = point(geometry, (k + 1) % 3) - start
        outward = orientation * ti.Vector([edge[1], -edge[0]]) / edge.norm()
        guide[2 + 3 * k], guide[3 + 3 * k], guide[4 + 3 * k] = outward[0], outward[1], outward.dot(start) + aa_width
    return guide


@ti.func
def row_span(guide, y):
    """Where the line at height ``y`` lies within the guide's three edge lines."""
    lo, hi = guide[0], guide[1]
    for k in ti.static(range(3)):
        outward = ti.Vector([guide[2 + 3 * k], guide[3 + 3 * k]])
        lo, hi = clip_span(lo, hi, outward, guide[4 + 3 * k], y)
    return lo, hi, ti.Vector([y])


@ti.func
def touches(geometry, aa_width, lo, hi):
    return polygon_rect_distance(geometry, 3, lo, hi) < aa_width


def reference_coverage(group: Triangles, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of face ``i`` at (..., 2) pixel positions, in numpy."""
    return reference_sdf.coverage(reference_sdf.triangle_sdf(points, group.vertices[group.faces[i]]), aa_width)


def svg_element(group: Triangles, i: int, paint: str, number) -> str:
    points = " ".join(f"{number(x)},{number(y)}" for x, y in group.vertices[group.faces[i]])
    return f'<polygon points="{points}" {fill_attributes(group, i, paint, number)}/>'


KIND = Kind.from_functions("triangle", 1, Triangles, tuple(Take("vertices", index="faces", corner=k) for k in range(3)), globals())
