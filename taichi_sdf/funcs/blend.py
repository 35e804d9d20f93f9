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


@ti.func
def over_weight(coverage, opacity, remaining):
    """Seam-free depth-ordered compositing, one primitive, front to back.

    ``remaining`` is the pixel area not yet taken by primitives in front. The primitive
    takes ``min(coverage, remaining)`` of it as *area*, weighted by its opacity; the caller
    adds ``weight * colour`` and subtracts ``weight`` from ``remaining``. Two opaque shapes
    whose coverages add to one fill the pixel exactly, so shared edges leave no seam.
    """
    return opacity * ti.min(coverage, remaining)


@ti.func
def alpha_weight(coverage, opacity, remaining):
    """Classic alpha compositing (as diffvg and painterly tools do), front to back.

    Coverage is treated as transparency, ``alpha = opacity * coverage``, and the weight is
    ``remaining * alpha`` with ``remaining`` the transmittance. Two shapes sharing an edge
    each half-cover the edge pixels and let the background show through there: a seam.
    """
    return remaining * opacity * coverage


@ti.func
def over_weight_slope(coverage, opacity, remaining):
    """d over_weight / d remaining (for the hand-written backward of the list walk)."""
    slope = 0.0
    if remaining < coverage:
        slope = opacity
    return slope


@ti.func
def alpha_weight_slope(coverage, opacity, remaining):
    """d alpha_weight / d remaining."""
    return opacity * coverage
