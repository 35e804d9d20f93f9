"""Taichi functions (``@ti.func``) that other Taichi programs can call.

Everything here works in pixel units (pixel ``(row i, column j)`` has its centre at
``x = j + 0.5, y = i + 0.5``) and is plain arithmetic on scalars and ``ti.math`` vectors, so
it can be used inside any kernel, differentiated or not, on any backend.
"""

from taichi_sdf.funcs.blend import alpha_weight, alpha_weight_slope, blend_mean, over_weight, over_weight_slope
from taichi_sdf.funcs.coverage import circle_coverage, coverage, smooth_step, stroke_coverage
from taichi_sdf.funcs.sdf import safe_norm, sdf_capsule, sdf_circle, sdf_triangle, segment_distance
from taichi_sdf.funcs.shading import linear_fill

__all__ = [
    "alpha_weight",
    "alpha_weight_slope",
    "blend_mean",
    "circle_coverage",
    "coverage",
    "linear_fill",
    "over_weight",
    "over_weight_slope",
    "safe_norm",
    "sdf_capsule",
    "sdf_circle",
    "sdf_triangle",
    "segment_distance",
    "smooth_step",
    "stroke_coverage",
]
