"""Signed distance functions, negative inside, in pixel units."""

import taichi as ti


@ti.func
def sdf_circle(p, centre, radius):
    """Signed distance from point ``p`` to a circle (negative inside)."""
    return (p - centre).norm() - radius
