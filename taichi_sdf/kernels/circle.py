"""How a circle reads its packed parameters: footprint, coverage and colour at a pixel.

Row ``i`` of the (N, P) ``params`` field is ``cx, cy, r, red, green, blue`` followed, for
linear fills, by the 3x2 slope matrix row by row (see ``Circles.pack``). Kernels read a
row once into a :data:`Circle` and evaluate it at many pixels: in the backward pass this
lets Taichi's autodiff sum a primitive's gradient in registers and write it once.
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
def load_circle(params: ti.template(), i, linear: ti.template()):
    """Centre, radius, base colour and 3x2 colour slope (zero for flat fills) of circle ``i``."""
    centre, radius = circle_geometry(params, i)
    base = ti.Vector([params[i, 3], params[i, 4], params[i, 5]])
    slope = ti.Matrix.zero(params.dtype, 3, 2)
    if ti.static(linear):
        slope = ti.Matrix(
            [[params[i, 6], params[i, 7]], [params[i, 8], params[i, 9]], [params[i, 10], params[i, 11]]]
        )
    return centre, radius, base, slope


@ti.func
def circle_sample(centre, radius, base, slope, p, aa_width: ti.template(), linear: ti.template()):
    """Coverage and fill colour of a circle at pixel position ``p``."""
    cov = circle_coverage(p, centre, radius, aa_width)
    colour = base
    if ti.static(linear):
        colour = linear_fill(p, centre, radius, base, slope)
    return cov, colour
