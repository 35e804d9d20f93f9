"""Taichi functions (``@ti.func``) that other Taichi programs can call.

Everything here works in pixel units (pixel ``(row i, column j)`` has its centre at
``x = j + 0.5, y = i + 0.5``) and is plain arithmetic on scalars and ``ti.math`` vectors, so
it can be used inside any kernel, differentiated or not, on any backend. The ``*_grad``
and ``*_slope`` functions give derivatives written out by hand (what the renderer's
backward pass uses).

Every function here differentiates under Taichi's autodiff (``ti.ad.Tape``, ``kernel.grad()``)
when called in a user's kernel, the hand-written derivatives included (their own
derivatives are then second derivatives), and agrees with central differences in float64
(tests/test_user_kernel.py, which also holds each hand-written derivative to Taichi's
autodiff of what it differentiates). Where a function has a kink (a clamp, ``min``/``max``, the
nearest of several edges, pieces or roots) the derivative is the one of the side taken. For
that, :func:`quadratic_distance_grad` and :func:`cubic_distance_grad` solve their single
point with branches and ``pow`` (see :mod:`taichi_sdf.funcs.bezier`): Taichi's autodiff
rejects the bit casts and the run-time indices into local vectors of the renderer's row
solve, which these functions used to share.
"""

from taichi_sdf.funcs.bezier import cubic_distance_grad, quadratic_distance_grad
from taichi_sdf.funcs.blend import alpha_weight, alpha_weight_slope, blend_mean, over_weight, over_weight_slope
from taichi_sdf.funcs.box import box_distance_grad, sdf_box
from taichi_sdf.funcs.coverage import (
    band_coverage_grad,
    circle_coverage,
    coverage,
    coverage_slope,
    smooth_step,
    smooth_step_slope,
    stroke_coverage,
)
from taichi_sdf.funcs.sdf import (
    safe_norm,
    sdf_capsule,
    sdf_circle,
    sdf_triangle,
    sdf_triangle_grad,
    segment_distance,
    segment_distance_grad,
)
from taichi_sdf.funcs.shading import linear_fill, unit_clamp

__all__ = [
    "alpha_weight",
    "alpha_weight_slope",
    "band_coverage_grad",
    "blend_mean",
    "box_distance_grad",
    "circle_coverage",
    "coverage",
    "coverage_slope",
    "cubic_distance_grad",
    "linear_fill",
    "over_weight",
    "over_weight_slope",
    "quadratic_distance_grad",
    "safe_norm",
    "sdf_box",
    "sdf_capsule",
    "sdf_circle",
    "sdf_triangle",
    "sdf_triangle_grad",
    "segment_distance",
    "segment_distance_grad",
    "smooth_step",
    "smooth_step_slope",
    "stroke_coverage",
    "unit_clamp",
]
