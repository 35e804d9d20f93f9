"""Fill colours of a primitive at a pixel."""

import taichi as ti


@ti.func
def unit_clamp(colour):
    """``colour`` clamped to [0, 1] per channel. Written with selects so that a value
    exactly at a bound keeps its gradient (an optimiser's box constraint puts it there)."""
    return ti.select(colour > 1.0, 1.0, ti.select(colour < 0.0, 0.0, colour))


@ti.func
def linear_fill(p, centre, scale, base, slope):
    """Linear-gradient colour ``clamp(base + slope @ (p - centre) / scale, 0, 1)``.

    ``base`` is the colour at ``centre``; each row of ``slope`` is one channel's change per
    ``scale`` pixels (for a circle, ``scale`` is its radius, so the gradient scales with it).
    Like paint (and an SVG gradient), the colour saturates at black and white.
    """
    return unit_clamp(base + slope @ ((p - centre) / scale))
