"""Exact signed distance to an ellipse, and its gradient (for the ellipse kind; not one of the
public functions of :mod:`taichi_sdf.funcs`: its solve loops until it settles, which Taichi's
autodiff does not differentiate).

In the ellipse's own frame, with its major semi-axis ``A`` along x and its minor ``B``
along y, a point is reflected into the first quadrant, where its nearest point
``e(t) = (A cos t, B sin t)`` lies too. The nearest point is the root in [0, pi/2] of

    G(t) = (e(t) - q) . e'(t) = (B^2 - A^2) sin t cos t + A qx sin t - B qy cos t,

which has ``G(0) = -B qy <= 0 <= G(pi/2) = A qx`` and exactly one root between them for
qy > 0 (Eberly, "Distance from a point to an ellipse": the first quadrant's nearest point
is the one root of a function that is monotone there), so a bracketed search cannot miss
it; on the major axis (qy = 0) a vanishing qy is taken as a tiny positive one, so that
inside the ellipse's evolute the vertex, where G also vanishes, is not mistaken for it.

The solve starts where the ray from the centre through q meets the outline (near the
nearest point for the pixels of the anti-aliasing band, the only ones the kind solves),
then takes Halley's steps on the unit vector (cos t, sin t), turned by atan(step) (no
trigonometric calls), kept inside the bracket (bisection where a step would leave it),
until a step changes the squared distance by less than (TOLERANCE A)^2 (float64: 1e-12;
float32: 1e-6): 2.5 steps on average in the band, more far from the outline and near the
ends of the evolute's cusps, where G has a near-triple root but the distance is flat to
fourth order in t. Measured against a bisection to rounding in float64, the distance is
exact to rounding (6e-16 relative to the size, for sizes of 1e-3 to 1e5 px and aspect
ratios to 2000, near the cusps and on the axes too); in float32 to 4e-7 relative.

The signed distance is ``N . (q - e)`` with ``N`` the outward unit normal at ``e``: equal
to +-|q - e| at the root, smooth across the outline, never a square root of zero. By the
envelope theorem its gradient moves only ``e``: d distance / d (A, B) = -N . d e / d (A, B),
and d distance / d q = N (with the reflection's signs).
"""

import taichi as ti

MOST_STEPS = 40  # Halley, Newton or bisection steps at most (2.5 on average in the band; 40 halve the bracket to 1e-12)
TOLERANCE = {"f32": 1e-6, "f64": 1e-12}  # of the angle, in radians: steps stop below it


@ti.func
def _quadrant_nearest(qx, qy, major, minor, tolerance):
    """(cos t, sin t) of the point (major cos t, minor sin t) nearest to (qx, qy), both
    >= 0, for major >= minor > 0 (see the module docstring)."""
    qy = ti.max(qy, 1e-20 * minor)  # on the major axis: off the vertex's false root
    squeeze = major * major - minor * minor
    a_qx, b_qy = major * qx, minor * qy
    c, s = qx / major, qy / minor  # the start: where the ray from the centre meets the outline
    length = ti.sqrt(c * c + s * s)
    c, s = ti.select(length > 0.0, c / ti.max(length, 1e-30), 1.0), s / ti.max(length, 1e-30)
    lo_c, lo_s, hi_c, hi_s = 1.0 + 0.0 * qx, 0.0 * qx, 0.0 * qx, 1.0 + 0.0 * qx  # G(lo) <= 0 <= G(hi)
    for _ in range(MOST_STEPS):
        g = -squeeze * s * c + a_qx * s - b_qy * c
        slope = -squeeze * (c * c - s * s) + a_qx * c + b_qy * s
        bend = 4.0 * squeeze * s * c - a_qx * s + b_qy * c  # G''
        if g < 0.0:
            lo_c, lo_s = c, s
        else:
            hi_c, hi_s = c, s
        # Halley's step, or Newton's where Halley's denominator is not positive.
        halley = 2.0 * slope * slope - g * bend
        step = ti.select(halley > 0.0, -2.0 * g * slope / ti.select(halley > 0.0, halley, 1.0),
                         -g / ti.select(slope > 0.0, slope, 1.0))  # fmt: skip
        turned_c, turned_s = c - s * step, s + c * step
        length = ti.sqrt(turned_c * turned_c + turned_s * turned_s)
        turned_c, turned_s = turned_c / length, turned_s / length
        done = slope > 0.0 and (ti.abs(step) < tolerance or ti.abs(g * step) < (tolerance * major) ** 2)
        if not (done or (slope > 0.0 and lo_s <= turned_s <= hi_s)):
            turned_c, turned_s = lo_c + hi_c, lo_s + hi_s  # bisect the bracket
            length = ti.sqrt(turned_c * turned_c + turned_s * turned_s)
            turned_c, turned_s = turned_c / length, turned_s / length
        c, s = turned_c, turned_s
        if done:
            break
    return c, s


@ti.func
def ellipse_distance_grad(q, radii):
    """Exact signed distance (pixels, negative inside) from ``q``, given in the ellipse's
    frame (its centre at the origin, its semi-axes ``radii`` = (a, b) along x and y, both
    > 0), and the distance's gradients with respect to q (2) and to (a, b) (2)."""
    tolerance = 0.0 * q[0]
    if ti.static(q[0].ptr.get_rvalue_type() == ti.f32):
        tolerance += TOLERANCE["f32"]
    else:
        tolerance += TOLERANCE["f64"]
    swapped = radii[1] > radii[0]  # solve with the major axis along x
    major, minor = ti.max(radii[0], radii[1]), ti.min(radii[0], radii[1])
    along, across = ti.select(swapped, q[1], q[0]), ti.select(swapped, q[0], q[1])
    c, s = _quadrant_nearest(ti.abs(along), ti.abs(across), major, minor, tolerance)
    normal = ti.Vector([minor * c, major * s])
    normal /= normal.norm()  # never zero: c and s are not both zero
    distance = normal.dot(ti.Vector([ti.abs(along) - major * c, ti.abs(across) - minor * s]))
    d_along = normal[0] * ti.select(along < 0.0, -1.0, 1.0)
    d_across = normal[1] * ti.select(across < 0.0, -1.0, 1.0)
    d_major, d_minor = -normal[0] * c, -normal[1] * s
    d_q = ti.select(swapped, ti.Vector([d_across, d_along]), ti.Vector([d_along, d_across]))
    d_radii = ti.select(swapped, ti.Vector([d_minor, d_major]), ti.Vector([d_major, d_minor]))
    return distance, d_q, d_radii
