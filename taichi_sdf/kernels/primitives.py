"""Every primitive kind behind one interface, for the kernels.

The renderer flattens a scene into a primitive table, a (M, COLUMNS) field with one row per
primitive in depth order, plus an integer ``kinds`` array. Row layout:

    0..5   geometry: circle cx, cy, r | triangle x0, y0, x1, y1, x2, y2 | segment x0, y0, x1, y1, half-width
    6..8   base colour (at the fill anchor)
    9..14  colour slope, 3x2 row by row (zero for flat fills)
    15     opacity

Kernels ``load`` a row once and ask it for coverage, colour and footprint; adding a kind
means adding a branch here, not another renderer.
"""

import taichi as ti

from taichi_sdf.funcs import circle_coverage, coverage, linear_fill, sdf_triangle, segment_distance, stroke_coverage

CIRCLE, TRIANGLE, SEGMENT = 0, 1, 2
KINDS = (CIRCLE, TRIANGLE, SEGMENT)
GEOMETRY, BASE, SLOPE, OPACITY = 0, 6, 9, 15
COLUMNS = 16


@ti.func
def load(table: ti.template(), i):
    """Geometry (6-vector), base colour, 3x2 slope and opacity of row ``i``."""
    geometry = ti.Vector([table[i, GEOMETRY + c] for c in ti.static(range(6))])
    base = ti.Vector([table[i, BASE + c] for c in ti.static(range(3))])
    slope = ti.Matrix([[table[i, SLOPE + 2 * r + c] for c in ti.static(range(2))] for r in ti.static(range(3))])
    return geometry, base, slope, table[i, OPACITY]


@ti.func
def _point(geometry, k: ti.template()):
    return ti.Vector([geometry[2 * k], geometry[2 * k + 1]])


@ti.func
def coverage_at(kind, geometry, p, aa_width: ti.template()):
    """Anti-aliased coverage in [0, 1] of the primitive at pixel position ``p``."""
    result = 0.0
    if kind == CIRCLE:
        result = circle_coverage(p, _point(geometry, 0), geometry[2], aa_width)
    elif kind == TRIANGLE:
        result = coverage(sdf_triangle(p, _point(geometry, 0), _point(geometry, 1), _point(geometry, 2)), aa_width)
    else:
        result = stroke_coverage(p, _point(geometry, 0), _point(geometry, 1), geometry[4], aa_width)
    return result


@ti.func
def within_edge_lines(geometry, p, aa_width):
    """Whether ``p`` lies within ``aa_width`` of all three edge lines of the triangle: a
    cheap test that holds wherever its coverage is non-zero (the signed distance to a
    triangle is at least its largest signed edge-line distance)."""
    a, b, c = _point(geometry, 0), _point(geometry, 1), _point(geometry, 2)
    ab, ac = b - a, c - a
    orientation = ti.math.sign(ab[0] * ac[1] - ab[1] * ac[0])
    result = True
    for k in ti.static(range(3)):
        start = _point(geometry, k)
        edge = _point(geometry, (k + 1) % 3) - start
        v = p - start
        outward = -orientation * (edge[0] * v[1] - edge[1] * v[0])  # signed distance * |edge|
        result = result and (outward < 0.0 or outward * outward < aa_width * aa_width * edge.norm_sqr())
    return result


@ti.func
def fill_frame(kind, geometry):
    """Anchor point and length scale of a linear fill: a circle's centre and radius; a
    triangle's centroid and the RMS distance of its vertices from it."""
    anchor = _point(geometry, 0)
    scale = geometry[2]
    if kind == TRIANGLE:
        anchor = (_point(geometry, 0) + _point(geometry, 1) + _point(geometry, 2)) / 3.0
        spread = 0.0
        for k in ti.static(range(3)):
            spread += (_point(geometry, k) - anchor).norm_sqr()
        scale = ti.sqrt(spread / 3.0)
    elif kind == SEGMENT:
        scale = 1.0
    return anchor, scale


@ti.func
def colour_at(kind, geometry, base, slope, p, linear: ti.template()):
    """Fill colour at pixel position ``p``."""
    colour = base
    if ti.static(linear):
        anchor, scale = fill_frame(kind, geometry)
        colour = linear_fill(p, anchor, scale, base, slope)
    return colour


@ti.func
def bounding_circle(kind, geometry, aa_width):
    """Centre and radius of a circle containing the primitive's whole footprint (where its
    coverage is non-zero)."""
    centre = _point(geometry, 0)
    reach = 0.0
    if kind == CIRCLE:
        reach = ti.sqrt(geometry[2] * geometry[2] + 2.0 * geometry[2] * aa_width)
    elif kind == TRIANGLE:
        centre = (_point(geometry, 0) + _point(geometry, 1) + _point(geometry, 2)) / 3.0
        for k in ti.static(range(3)):
            reach = ti.max(reach, (_point(geometry, k) - centre).norm())
        reach += aa_width
    else:
        centre = 0.5 * (_point(geometry, 0) + _point(geometry, 1))
        reach = 0.5 * (_point(geometry, 1) - _point(geometry, 0)).norm() + geometry[4] + aa_width
    return centre, reach


@ti.func
def rect_distance(p, lo, hi):
    """Distance from ``p`` to the axis-aligned rectangle [lo, hi] (0 inside)."""
    return (p - ti.math.clamp(p, lo, hi)).norm()


@ti.func
def _separated(points, n: ti.template(), axis, lo, hi):
    """Whether ``axis`` separates the first ``n`` points from the rectangle [lo, hi]."""
    low, high = 1e30, -1e30
    for k in ti.static(range(n)):
        along = _point(points, k).dot(axis)
        low, high = ti.min(low, along), ti.max(high, along)
    rect_low, rect_high = 1e30, -1e30
    for corner in ti.static(range(4)):
        c = ti.Vector([lo[0] if corner % 2 == 0 else hi[0], lo[1] if corner < 2 else hi[1]])
        along = c.dot(axis)
        rect_low, rect_high = ti.min(rect_low, along), ti.max(rect_high, along)
    return high < rect_low or rect_high < low


@ti.func
def _polygon_rect_distance(points, n: ti.template(), lo, hi):
    """Distance between a convex polygon (2 or 3 points in ``points``) and a rectangle.

    Separating-axis test for overlap (axes x, y and the polygon's edge normals); when
    separated, the closest pair involves a vertex of one of the two shapes.
    """
    separated = _separated(points, n, ti.Vector([1.0, 0.0]), lo, hi) or _separated(
        points, n, ti.Vector([0.0, 1.0]), lo, hi
    )
    for k in ti.static(range(n if n > 2 else 1)):
        edge = _point(points, (k + 1) % n) - _point(points, k)
        separated = separated or _separated(points, n, ti.Vector([-edge[1], edge[0]]), lo, hi)
    distance = 0.0
    if separated:
        distance = 1e30
        for k in ti.static(range(n)):
            distance = ti.min(distance, rect_distance(_point(points, k), lo, hi))
        for corner in ti.static(range(4)):
            c = ti.Vector([lo[0] if corner % 2 == 0 else hi[0], lo[1] if corner < 2 else hi[1]])
            if ti.static(n == 2):
                distance = ti.min(distance, segment_distance(c, _point(points, 0), _point(points, 1)))
            else:
                side = sdf_triangle(c, _point(points, 0), _point(points, 1), _point(points, 2))
                distance = ti.min(distance, ti.max(side, 0.0))
    return distance


@ti.func
def touches_rect(kind, geometry, aa_width, lo, hi):
    """Whether the primitive's footprint reaches the rectangle [lo, hi]."""
    result = False
    if kind == CIRCLE:
        centre, reach = bounding_circle(kind, geometry, aa_width)
        result = rect_distance(centre, lo, hi) < reach
    elif kind == TRIANGLE:
        result = _polygon_rect_distance(geometry, 3, lo, hi) < aa_width
    else:
        result = _polygon_rect_distance(geometry, 2, lo, hi) < geometry[4] + aa_width
    return result
