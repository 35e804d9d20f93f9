"""How a circle reads its packed parameters: footprint, coverage and colour at a pixel.

Row ``i`` of the (N, P) ``params`` field is ``cx, cy, r, red, green, blue`` followed, for
linear fills, by the 3x2 slope matrix row by row (see ``Circles.pack``).
"""

import taichi as ti

from taichi_sdf.funcs import circle_coverage, linear_fill


@ti.func
def circle_geometry(params: ti.template(), i):
    """Centre (vec2) and radius of circle ``i``."""
    return ti.Vector([params[i, 0], params[i, 1]]), params[i, 2]


@ti.func
def circle_reach(radius, aa_width):
    """Distance from the centre beyond which coverage is exactly zero."""
    return ti.sqrt(radius * radius + 2.0 * radius * aa_width)


@ti.func
def circle_coverage_at(params: ti.template(), i, p, aa_width: ti.template()):
    centre, radius = circle_geometry(params, i)
    return circle_coverage(p, centre, radius, aa_width)


@ti.func
def circle_colour_at(params: ti.template(), i, p, linear: ti.template()):
    """Fill colour of circle ``i`` at pixel position ``p``."""
    base = ti.Vector([params[i, 3], params[i, 4], params[i, 5]])
    colour = base
    if ti.static(linear):
        centre, radius = circle_geometry(params, i)
        slope = ti.Matrix(
            [[params[i, 6], params[i, 7]], [params[i, 8], params[i, 9]], [params[i, 10], params[i, 11]]]
        )
        colour = linear_fill(p, centre, radius, base, slope)
    return colour
