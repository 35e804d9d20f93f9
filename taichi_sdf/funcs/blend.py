"""Compositing of coverage and colour at one pixel."""

import taichi as ti


@ti.func
def blend_mean(total_coverage, weighted_colour, background):
    """Order-free composite-then-shade blend (as in Diff2DRaster.jl).

    ``total_coverage`` is ``W = Σ cov_i`` and ``weighted_colour`` is ``Σ cov_i · colour_i``
    over every primitive at the pixel. Where shapes overlap (W > 1) the colours are averaged
    by coverage; where they leave part of the pixel uncovered (W < 1) the background fills
    exactly that part. Coverage is area, never transparency, so two shapes meeting along an
    edge (coverages adding to one) leave no background seam.
    """
    return weighted_colour / ti.max(1.0, total_coverage) + background * ti.max(0.0, 1.0 - total_coverage)
