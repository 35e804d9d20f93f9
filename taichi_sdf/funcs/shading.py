"""Fill colours of a primitive at a pixel."""

import taichi as ti


@ti.func
def linear_fill(p, centre, scale, base, slope):
    """Linear-gradient colour ``base + slope @ (p - centre) / scale``.

    ``base`` is the colour at ``centre``; each row of ``slope`` is one channel's change per
    ``scale`` pixels (for a circle, ``scale`` is its radius, so the gradient scales with it).
    """
    return base + slope @ ((p - centre) / scale)
