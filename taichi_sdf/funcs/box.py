"""Exact signed distance to a rectangle with rounded corners, and its gradient."""

import taichi as ti


@ti.func
def box_distance_grad(q, half, radius):
    """Exact signed distance (pixels, negative inside) from ``q``, given in the box's frame
    (its centre at the origin, its sides along x and y), to the box of half-sizes ``half``
    whose corners are rounded with ``radius`` (0 <= radius <= min(half)), and its
    gradients with respect to q (2), the half-sizes (2) and the radius.

    The box is the rectangle of half-sizes ``half - radius`` grown by ``radius``: beyond
    a corner of that rectangle (both offsets past its sides) the distance is the
    distance to the corner less the radius; elsewhere the largest offset past a side
    less the radius, inside as outside (where two sides are equally near, inside on the
    diagonals, the distance has a kink and its gradient takes one side).
    """
    reflected = ti.abs(q)
    past = reflected - (half - radius)  # offsets past the inner rectangle's sides
    sign = ti.select(q < 0.0, -1.0, 1.0)
    d_past = past * 0.0
    distance = 0.0 * q[0]
    if past[0] > 0.0 and past[1] > 0.0:
        length = past.norm()
        distance = length - radius
        d_past = past / length
    elif past[0] >= past[1]:
        distance = past[0] - radius
        d_past[0] = 1.0
    else:
        distance = past[1] - radius
        d_past[1] = 1.0
    # d past / d half = -1 and d past / d radius = +1 (each side's), then the radius's own -1.
    return distance, d_past * sign, -d_past, d_past[0] + d_past[1] - 1.0


@ti.func
def sdf_box(p, centre, size, angle, radius):
    """Exact signed distance from ``p`` to the rectangle of full width and height ``size``
    turned by ``angle`` radians about its ``centre``, its corners rounded with ``radius``
    (0 for sharp corners; at most half the shorter side)."""
    cos, sin = ti.cos(angle), ti.sin(angle)
    offset = p - centre
    q = ti.Vector([cos * offset[0] + sin * offset[1], -sin * offset[0] + cos * offset[1]])
    distance, _d_q, _d_half, _d_radius = box_distance_grad(q, 0.5 * size, radius)
    return distance
