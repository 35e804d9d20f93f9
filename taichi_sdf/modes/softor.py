"""Soft-or: order-free ink, DifferentiableSketching's ``1 - prod(1 - a)``, for drawings.

Per pixel, over its entries ``a = o cov`` in any order: the transmittance
``T = prod(1 - a)``, ``S = sum a`` and ``C = sum a colour``; ``image = (1 - T) C / S + T bg``:
the covered share takes the coverage-weighted mean colour (black ink on white gives
exactly ``T``). An entry with ``a >= OPAQUE`` (see :class:`~taichi_sdf.modes.base.Precision`)
is a zero factor, counted apart in ``events``, so the product holds only the factors that
are not zero and the backward pass never divides by a factor below ``1 - OPAQUE``. State:
that product, S, C.

Backward: the image gives dL/dT, dL/dS and dL/dC once per pixel; an entry has
``dL/da = -dL/dT prod_others(1 - a) + dL/dS + dL/dC . colour``, where the product of the
other factors is the stored product / (1 - a) (both products of the same factors, so it
stays exact), or, where one factor is zero, the stored product for that entry and zero for
the others.
"""

import numpy as np
import taichi as ti

from taichi_sdf.modes.base import Mode, accepts_all


@ti.func
def start(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x):
    state[b, y, x, 0] = 1.0
    for k in ti.static(range(1, 5)):
        state[b, y, x, k] = 0.0
    events[b, y, x] = 0


@ti.func
def composite(state: ti.template(), events: ti.template(), image: ti.template(), entry, b, y, x, cov, opacity, colour,
              precision: ti.template()):  # fmt: skip
    alpha = opacity * cov
    if alpha < precision.real(precision.opaque):
        state[b, y, x, 0] = state[b, y, x, 0] * (1.0 - alpha)
    else:
        events[b, y, x] = events[b, y, x] + 1  # a factor of zero, counted apart
    state[b, y, x, 1] = state[b, y, x, 1] + alpha
    for c in ti.static(range(3)):
        state[b, y, x, 2 + c] = state[b, y, x, 2 + c] + alpha * colour[c]


@ti.func
def finish(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x, bg):
    transmittance = state[b, y, x, 0]
    if events[b, y, x] > 0:
        transmittance = 0.0
    ink = state[b, y, x, 1]
    for c in ti.static(range(3)):
        mean_colour = state[b, y, x, 2 + c] / ti.max(ink, 1e-30)
        image[b, y, x, c] = (1.0 - transmittance) * mean_colour + transmittance * bg[c]
    return transmittance


@ti.func
def start_adjoint(state: ti.template(), events: ti.template(), scratch: ti.template(), b, y, x, g, bg):
    """dL/dT, dL/dS and dL/dC."""
    product, ink = state[b, y, x, 0], state[b, y, x, 1]
    transmittance = product if events[b, y, x] == 0 else 0.0 * product
    mean_colour = ti.Vector([state[b, y, x, 2 + c] for c in ti.static(range(3))]) / ti.max(ink, 1e-30)
    d_transmittance, d_ink, d_colour = g.dot(bg - mean_colour), 0.0 * ink, g * 0.0
    if ink > 0.0:
        d_ink = -(1.0 - transmittance) * g.dot(mean_colour) / ink
        d_colour = (1.0 - transmittance) * g / ink
    scratch[b, y, x, 0] = d_transmittance
    scratch[b, y, x, 1] = d_ink
    for c in ti.static(range(3)):
        scratch[b, y, x, 2 + c] = d_colour[c]


@ti.func
def entry_adjoints(state: ti.template(), events: ti.template(), scratch: ti.template(), entry, b, y, x, g, cov,
                   opacity, colour, precision: ti.template()):  # fmt: skip
    alpha = opacity * cov
    zeros = events[b, y, x]
    others = 0.0 * alpha  # the product of the other entries' factors
    if zeros == 0:
        others = state[b, y, x, 0] / (1.0 - alpha)
    elif zeros == 1 and alpha >= precision.real(precision.opaque):
        others = state[b, y, x, 0]
    d_colour = ti.Vector([scratch[b, y, x, 2 + c] for c in ti.static(range(3))])
    d_alpha = -scratch[b, y, x, 0] * others + scratch[b, y, x, 1] + d_colour.dot(colour)
    return opacity * d_alpha, cov * d_alpha, alpha * d_colour


def reference(layers, background: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    transmittance, ink, weighted = np.ones(shape), np.zeros(shape), np.zeros(shape + (3,))
    for cov, colour, opacity in layers:
        transmittance = transmittance * (1.0 - opacity * cov)
        ink += opacity * cov
        weighted += (opacity * cov)[..., None] * colour
    mean_colour = weighted / np.maximum(ink, 1e-300)[..., None]
    return (1.0 - transmittance)[..., None] * mean_colour + transmittance[..., None] * background


MODE = Mode(
    name="softor", state_width=5, layered=False, start=start, accepts=accepts_all, composite=composite,
    finish=finish, start_adjoint=start_adjoint, entry_adjoints=entry_adjoints, reference=reference,
)  # fmt: skip
