"""Over: seam-free depth order (see :mod:`taichi_sdf.modes.layered`).

An entry takes ``w = o min(cov, R)`` of the remaining area ``R``: ``R - o cov`` remains
when it takes its coverage, ``R (1 - o)`` when it takes all that remains (``R < cov``). Two
opaque shapes sharing an edge cover the pixels along it exactly, leaving no seam.
"""

import numpy as np
import taichi as ti

from taichi_sdf.modes.layered import layered_mode


@ti.func
def step(remaining, cov, opacity, precision: ti.template()):
    weight, after = remaining * 0.0, remaining
    if cov <= remaining:
        weight = opacity * cov
        after = remaining - weight
    else:
        weight = opacity * remaining
        after = remaining * (1.0 - opacity)
    return weight, after


@ti.func
def step_adjoint(recorded, after, remaining, cov, opacity):
    # Which way the entry went is decided from the area left after it, not from the area
    # recovered by a division (the branch then waits on no division).
    d_cov, d_opacity, d_remaining, weight = cov * 0.0, cov * 0.0, cov * 0.0, cov * 0.0
    took_all = cov > remaining  # all that remained (R < cov), where it was recorded
    if not recorded:
        took_all = after < (1.0 - opacity) * cov
        remaining = after / (1.0 - opacity) if took_all else after + opacity * cov
    if took_all:
        weight, d_opacity, d_remaining = opacity * remaining, remaining, opacity
    else:
        weight, d_cov, d_opacity = opacity * cov, opacity, cov
    return remaining, weight, d_cov, d_opacity, d_remaining


@ti.func
def empty_adjoint(q, cov, opacity):
    return q * opacity  # w = o R where the coverage exceeds R = 0


def reference_weight(remaining: np.ndarray, cov: np.ndarray, opacity: float) -> np.ndarray:
    return opacity * np.minimum(cov, remaining)


MODE = layered_mode("over", step, step_adjoint, empty_adjoint, reference_weight)
