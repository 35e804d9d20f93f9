"""What the pen kinds (straight segments and Bézier curves) share: a flat fill, and the row
spans and bins of a stroke from its chords and the hull of its points.

A pen stroke's geometry is its points (2 columns each) followed by its half-width.
"""

import taichi as ti

from taichi_sdf.kinds.footprints import point, points_box


@ti.func
def fill_frame(geometry):
    """Pen strokes have flat fills; the frame is the first point at unit scale."""
    return point(geometry, 0), 1.0 + 0.0 * geometry[0]


@ti.func
def fill_frame_vjp(geometry, d_anchor, d_scale):
    grad = geometry * 0.0
    grad[0], grad[1] = d_anchor[0], d_anchor[1]
    return grad


@ti.func
def footprint(geometry, n: ti.template(), aa_width):
    """Box of the first ``n`` points grown by the half-width and the band (a Bézier curve
    lies in the hull of its points)."""
    return points_box(geometry, n, geometry[2 * n] + aa_width)


# The rectangle around a capsule (its reach beyond the ends and across), as what its row
# spans need: the start point, the band of rows it meets, and for each pair of its sides
# (across the segment, along it) the offsets from a's x of their crossings of the row at
# a's height and their slope in x per row. A pair of sides within STEEP of the rows'
# direction is left out: the row band bounds the rectangle there.
CAPSULE_SIZE = 9  # x, y of a; first, last row height; across: slope, half-width; along: slope, lo, hi
STEEP = 0.05
FAR = 1e30  # no bound


@ti.func
def capsule_rows(a, b, reach):
    """The row spans' description (CAPSULE_SIZE values, see above) of the rectangle of
    ``reach`` around segment a-b."""
    rows = ti.Vector([0.0] * CAPSULE_SIZE) + 0.0 * a[0]
    rows[0], rows[1] = a[0], a[1]
    rows[2], rows[3] = ti.min(a[1], b[1]) - reach, ti.max(a[1], b[1]) + reach
    rows[5], rows[7], rows[8] = reach, -FAR, FAR  # a point: x within reach of a
    length = (b - a).norm()
    if length > 0.0:
        along = (b - a) / length
        if ti.abs(along[1]) >= STEEP:  # across: |n . (p - a)| <= reach with n = (-along_y, along_x)
            rows[4], rows[5] = along[0] / along[1], reach / ti.abs(along[1])
        else:
            rows[5] = FAR
        if ti.abs(along[0]) >= STEEP:  # along: -reach <= along . (p - a) <= length + reach
            first, last = -reach / along[0], (length + reach) / along[0]
            rows[6], rows[7], rows[8] = -along[1] / along[0], ti.min(first, last), ti.max(first, last)
    return rows


@ti.func
def capsule_span(rows, y):
    """The line at height ``y`` cut to the rectangle that ``rows`` (from
    :func:`capsule_rows`) describes; (FAR, -FAR) where it misses the rectangle (no branch:
    :func:`merge_span` takes it as it is)."""
    dy = y - rows[1]
    across, along = rows[4] * dy, rows[6] * dy
    meets = rows[2] <= y <= rows[3]
    lo = ti.select(meets, rows[0] + ti.max(across - rows[5], along + rows[7]), FAR)
    hi = ti.select(meets, rows[0] + ti.min(across + rows[5], along + rows[8]), -FAR)
    return lo, hi


@ti.func
def merge_span(lo, hi, other_lo, other_hi):
    """The smallest span holding both, where an empty span is (FAR, -FAR)."""
    return ti.min(lo, other_lo), ti.max(hi, other_hi)


@ti.func
def hull_near_rect(geometry, n: ti.template(), reach, lo, hi):
    """Whether the hull of the first ``n`` points, grown by ``reach``, may meet the
    rectangle [lo, hi]: no separating axis among x, y and the normals of every pair of
    points. The hull's edges are among those pairs, so this is exact for the hull itself;
    for the hull grown by a disc it may say yes near a corner where the answer is no."""
    separated = False
    for axis_index in ti.static(range(2 + n * (n - 1) // 2)):
        axis = ti.Vector([1.0, 0.0]) + 0.0 * geometry[0]
        if ti.static(axis_index == 1):
            axis = ti.Vector([0.0, 1.0]) + 0.0 * geometry[0]
        elif ti.static(axis_index >= 2):
            i, j = ti.static([(i, j) for i in range(n) for j in range(i + 1, n)][axis_index - 2])
            edge = point(geometry, j) - point(geometry, i)
            axis = ti.Vector([-edge[1], edge[0]]) / ti.max(edge.norm(), 1e-12)
        low, high = 1e30 + 0.0 * geometry[0], -1e30 + 0.0 * geometry[0]
        for k in ti.static(range(n)):
            along = point(geometry, k).dot(axis)
            low, high = ti.min(low, along), ti.max(high, along)
        corners_low, corners_high = 1e30 + 0.0 * geometry[0], -1e30 + 0.0 * geometry[0]
        for corner in ti.static(range(4)):
            c = ti.Vector([lo[0] if corner % 2 == 0 else hi[0], lo[1] if corner < 2 else hi[1]])
            along = c.dot(axis)
            corners_low, corners_high = ti.min(corners_low, along), ti.max(corners_high, along)
        separated = separated or high + reach < corners_low or corners_high + reach < low
    return not separated


def stroke_attributes(group, i: int, paint: str, number) -> str:
    """SVG attributes drawing a pen stroke: its paint, width, round caps and any opacity."""
    opacity = "" if group.opacities is None else f' stroke-opacity="{number(group.opacities[i])}"'
    return (f'fill="none" stroke="{paint}" stroke-width="{number(group.widths[i])}" stroke-linecap="round"'
            f'{opacity}')  # fmt: skip
