"""Mean: order-free composite-then-shade (as in Diff2DRaster.jl).

Per pixel, over its entries in any order: ``W = sum o cov``, ``C = sum o cov colour``;
``image = C / max(1, W) + bg max(0, 1 - W)``. Coverage is area, never transparency, so two
shapes meeting along an edge (coverages adding to one) leave no seam. State: W, C.

Backward: the image gives dL/dW and dL/dC once per pixel; an entry's weight ``a = o cov``
then has ``dL/da = dL/dW + dL/dC . colour``.
"""

import numpy as np
import taichi as ti

from taichi_sdf.funcs import blend_mean
from taichi_sdf.modes.base import Mode, accepts_all


@ti.func
def start(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x):
    for k in ti.static(range(4)):
        state[b, y, x, k] = 0.0


@ti.func
def composite(state: ti.template(), events: ti.template(), image: ti.template(), entry, b, y, x, cov, opacity, colour,
              precision: ti.template()):  # fmt: skip
    # Plain read-modify-writes: this tile's thread owns the pixel (a `+=` on a global
    # array would compile to an atomic add, a compare-and-swap loop on the CPU).
    weight = opacity * cov
    state[b, y, x, 0] = state[b, y, x, 0] + weight
    for c in ti.static(range(3)):
        state[b, y, x, 1 + c] = state[b, y, x, 1 + c] + weight * colour[c]


@ti.func
def finish(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x, bg):
    total = state[b, y, x, 0]
    colour = blend_mean(total, ti.Vector([state[b, y, x, 1 + c] for c in ti.static(range(3))]), bg)
    for c in ti.static(range(3)):
        image[b, y, x, c] = colour[c]
    return ti.max(0.0, 1.0 - total)


@ti.func
def start_adjoint(state: ti.template(), events: ti.template(), scratch: ti.template(), b, y, x, g, bg):
    """dL/dW and dL/dC."""
    total = state[b, y, x, 0]
    colour = ti.Vector([state[b, y, x, 1 + c] for c in ti.static(range(3))])
    d_total, d_colour = -g.dot(bg), g
    if total > 1.0:
        d_colour = g / total
        d_total = -g.dot(colour) / (total * total)
    scratch[b, y, x, 0] = d_total
    for c in ti.static(range(3)):
        scratch[b, y, x, 1 + c] = d_colour[c]


@ti.func
def entry_adjoints(state: ti.template(), events: ti.template(), scratch: ti.template(), entry, b, y, x, g, cov,
                   opacity, colour, precision: ti.template()):  # fmt: skip
    d_colour = ti.Vector([scratch[b, y, x, 1 + c] for c in ti.static(range(3))])
    d_weight = scratch[b, y, x, 0] + d_colour.dot(colour)
    return opacity * d_weight, cov * d_weight, opacity * cov * d_colour


def reference(layers, background: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    total, weighted = np.zeros(shape), np.zeros(shape + (3,))
    for cov, colour, opacity in layers:
        total += opacity * cov
        weighted += (opacity * cov)[..., None] * colour
    return weighted / np.maximum(1.0, total)[..., None] + background * np.maximum(0.0, 1.0 - total)[..., None]


MODE = Mode(
    name="mean", state_width=4, layered=False, start=start, accepts=accepts_all, composite=composite, finish=finish,
    start_adjoint=start_adjoint, entry_adjoints=entry_adjoints, reference=reference,
)  # fmt: skip
