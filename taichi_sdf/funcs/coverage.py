"""Anti-aliased coverage of a shape at a pixel, computed from its signed distance.

The profile is a smooth step of the signed distance over a band of half-width ``aa_width``
pixels around the edge. It has compact support (exactly 0 beyond ``+aa_width``, exactly 1
inside ``-aa_width``) and is point-symmetric, ``coverage(d) + coverage(-d) == 1``, so two
shapes whose edges coincide with opposite orientation add up to exactly one.
"""

import taichi as ti

from taichi_sdf.funcs.sdf import segment_distance


@ti.func
def smooth_step(t):
    """Cubic Hermite step on [0, 1]: 0 below, 1 above, C1 everywhere."""
    s = ti.min(ti.max(t, 0.0), 1.0)
    return s * s * (3.0 - 2.0 * s)


@ti.func
def smooth_step_slope(t):
    """Derivative of :func:`smooth_step`: ``6 t (1 - t)`` on (0, 1), 0 elsewhere."""
    s = ti.min(ti.max(t, 0.0), 1.0)
    return 6.0 * s * (1.0 - s)


@ti.func
def coverage(signed_distance, aa_width):
    """Coverage in [0, 1] of a pixel whose centre lies ``signed_distance`` pixels from the edge."""
    return smooth_step(0.5 - signed_distance * (0.5 / aa_width))


@ti.func
def coverage_slope(signed_distance, aa_width):
    """Derivative of :func:`coverage` with respect to the signed distance (per pixel, <= 0)."""
    return -(0.5 / aa_width) * smooth_step_slope(0.5 - signed_distance * (0.5 / aa_width))


@ti.func
def circle_coverage(p, centre, radius, aa_width):
    """Anti-aliased coverage of a disk whose sum over the pixel grid is its area, πr².

    A plain ``coverage(sdf_circle(...))`` adds a curvature bias: the band outside the edge
    is longer than the band inside, which inflates the total by a constant ~1 px² and
    makes small circles visibly too big. Using ``d + d²/(2r) = (|p-c|² - r²) / (2r)``,
    the signed distance corrected by the area element ``(1 + d/r)``, removes the bias
    exactly for ``radius >= 2 * aa_width``; near the edge it equals the signed distance
    to first order, so the edge stays where the circle is.
    """
    q = p - centre
    return coverage((q.dot(q) - radius * radius) * (0.5 / radius), aa_width)


@ti.func
def stroke_coverage(p, a, b, half_width, aa_width):
    """Anti-aliased coverage of the capsule of ``half_width`` around segment ``a``-``b``.

    The band is the intersection of two edges, ``coverage(t - w) - coverage(t + w)`` at
    distance ``t`` from the segment, so its ink across the stroke is exactly ``2w`` even for
    hairlines thinner than the anti-aliasing band (a plain ``coverage(t - w)`` inks them
    too heavily, as if they were ``aa_width`` wide)."""
    t = segment_distance(p, a, b)
    return coverage(t - half_width, aa_width) - coverage(t + half_width, aa_width)


@ti.func
def band_coverage_grad(distance, half_width, aa_width):
    """Coverage of a stroke ``half_width`` wide each side at ``distance`` from its centre
    line (see :func:`stroke_coverage`), with its derivatives with respect to the distance
    and to the half-width."""
    inner, outer = coverage_slope(distance - half_width, aa_width), coverage_slope(distance + half_width, aa_width)
    value = coverage(distance - half_width, aa_width) - coverage(distance + half_width, aa_width)
    return value, inner - outer, -inner - outer
