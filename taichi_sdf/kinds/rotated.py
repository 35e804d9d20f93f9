"""What the rotated shapes (ellipses, rectangles) share: a frame turned by an angle about
their centre, a linear fill anchored at the centre, their exactly area-corrected distance,
and an SVG element turned by a ``rotate`` transform.

Their geometry columns start with the centre x, y, two sizes along the shape's own axes
and the angle (radians from the image's x axis to the shape's first axis). The angle's
cosine and sine keep them to float32 on Vulkan, whose SPIR-V has no 64-bit cos and sin
(as the Bézier curves are kept; lavapipe in float32: within 5e-6 of the float64 reference,
7e-5 for a 1e5 px ellipse).
"""

import math

import numpy as np
import taichi as ti

from taichi_sdf.kinds.footprints import fill_attributes, point

CENTRE, SIZES, ANGLE = 0, 2, 4  # geometry columns


@ti.func
def to_frame(p, geometry, cos, sin):
    """``p`` in the shape's frame: relative to its centre, turned by minus its angle."""
    offset = p - point(geometry, 0)
    return ti.Vector([cos * offset[0] + sin * offset[1], -sin * offset[0] + cos * offset[1]])


@ti.func
def turned(v, cos, sin):
    """A vector given in the shape's frame, in the image's: turned by the shape's angle."""
    return ti.Vector([cos * v[0] - sin * v[1], sin * v[0] + cos * v[1]])


@ti.func
def frame_grad(grad, d_q, q, cos, sin):
    """``grad`` (a geometry-sized vector) with the centre's and the angle's gradients of a
    function of q = to_frame(p, ...) whose gradient with respect to q is ``d_q``."""
    d_centre = -turned(d_q, cos, sin)
    grad[CENTRE], grad[CENTRE + 1] = d_centre[0], d_centre[1]
    grad[ANGLE] = d_q[0] * q[1] - d_q[1] * q[0]  # d q / d angle = (q_y, -q_x)
    return grad


def fill_functions(factor: float) -> dict:
    """A kind's ``fill_frame`` and ``fill_frame_vjp``: the fill is anchored at the centre,
    its slope given per ``factor`` sqrt(size 0 size 1) pixels."""

    @ti.func
    def fill_frame(geometry):
        return point(geometry, 0), factor * ti.sqrt(geometry[SIZES] * geometry[SIZES + 1])

    @ti.func
    def fill_frame_vjp(geometry, d_anchor, d_scale):
        _, scale = fill_frame(geometry)
        grad = geometry * 0.0
        grad[CENTRE], grad[CENTRE + 1] = d_anchor[0], d_anchor[1]
        grad[SIZES] = d_scale * scale / (2.0 * geometry[SIZES])
        grad[SIZES + 1] = d_scale * scale / (2.0 * geometry[SIZES + 1])
        return grad

    return {"fill_frame": fill_frame, "fill_frame_vjp": fill_frame_vjp}


@ti.func
def corrected_grad(distance, correction, d_correction):
    """The area-corrected distance ``d + k d^2`` of a convex shape, with ``k = pi / P`` for
    an outline P pixels long, its derivative with respect to d, and its gradient through k
    (``d_correction``: k's gradient, a vector).

    By Steiner's formula the points within s of a convex shape of area A and perimeter P
    cover ``A + P s + pi s^2`` (outside it, and inside while its inner parallel curve stays
    smooth), so ``d + pi d^2 / P`` is the growth of that area over P: a point-symmetric step
    of it sums over the pixel grid to A exactly, where a step of the plain distance adds
    about 0.6 aa^2 px^2 (the curvature bias). For a circle it is the circle kind's
    ``(|p - c|^2 - r^2) / 2r``.
    """
    corrected = distance + correction * distance * distance
    return corrected, 1.0 + 2.0 * correction * distance, distance * distance * d_correction


@ti.func
def reach(correction, aa_width):
    """How far outside a shape with area correction ``k`` (see :func:`corrected_grad`) its
    coverage reaches: the distance d >= 0 where ``d + k d^2`` is the band's half-width."""
    return 2.0 * aa_width / (1.0 + ti.sqrt(1.0 + 4.0 * correction * aa_width))


def frame_points(points: np.ndarray, centre: np.ndarray, angle: float) -> np.ndarray:
    """(..., 2) points in the frame of a shape at ``centre`` turned by ``angle`` (numpy)."""
    cos, sin = math.cos(angle), math.sin(angle)
    offset = points - centre
    return np.stack([cos * offset[..., 0] + sin * offset[..., 1], -sin * offset[..., 0] + cos * offset[..., 1]], -1)


def svg_element(tag: str, attributes: str, group, i: int, paint: str, number) -> str:
    """The SVG element ``<tag attributes .../>`` of shape ``i`` of ``group``, turned about
    its centre by a ``rotate`` transform.

    A transform turns the user space that a userSpaceOnUse gradient of its paint is given
    in, so a gradient paint (``url(#id)``, in image coordinates) is referenced through a
    gradient that inherits it (``href``) and turns it back (``gradientTransform``)."""
    degrees = math.degrees(float(group.angles[i]))
    if degrees % 360.0 == 0.0:
        return f"<{tag} {attributes} {fill_attributes(group, i, paint, number)}/>"
    about = f"{number(group.centres[i][0])} {number(group.centres[i][1])}"
    derived = ""
    if paint.startswith("url(#"):
        source = paint[len("url(#") : -1]
        back = f'gradientTransform="rotate({number(-degrees)} {about})"'
        derived = f'<linearGradient id="{source}_turned" href="#{source}" {back}/>'
        paint = f"url(#{source}_turned)"
    turn = f'transform="rotate({number(degrees)} {about})"'
    return f"{derived}<{tag} {attributes} {fill_attributes(group, i, paint, number)} {turn}/>"
