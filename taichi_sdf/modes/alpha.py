"""Alpha: classic alpha compositing in depth order (see :mod:`taichi_sdf.modes.layered`),
which leaves seams along shared edges.

An entry takes ``w = R o cov`` of the remaining area ``R``, and ``R (1 - o cov)`` remains.
Undoing a factor ``1 - a`` divides by it, which is ill-conditioned as ``a = o cov`` nears 1,
and the backward pass recomputes ``a`` in another kernel, where it may round an ulp apart:
so an entry with ``a >= OPAQUE`` (see :class:`~taichi_sdf.modes.base.Precision`) is opaque.
It keeps its weight ``R a``, but what remains behind it, at most ``1 - OPAQUE`` of R, is
dropped (R = 0 after it); the gradients stay those of the formula without the threshold.
"""

import numpy as np
import taichi as ti

from taichi_sdf.modes.layered import layered_mode


@ti.func
def step(remaining, cov, opacity, precision: ti.template()):
    alpha = opacity * cov
    weight = remaining * alpha
    after = remaining * (1.0 - alpha) if alpha < precision.real(precision.opaque) else 0.0 * remaining
    return weight, after


@ti.func
def step_adjoint(recorded, after, remaining, cov, opacity):
    alpha = opacity * cov
    if not recorded:
        remaining = after / (1.0 - alpha)
    return remaining, remaining * alpha, remaining * opacity, remaining * cov, alpha


@ti.func
def empty_adjoint(q, cov, opacity):
    return q * opacity * cov


def reference_weight(remaining: np.ndarray, cov: np.ndarray, opacity: float) -> np.ndarray:
    return remaining * opacity * cov


MODE = layered_mode("alpha", step, step_adjoint, empty_adjoint, reference_weight)
