"""What the depth-ordered modes (over, alpha) share: a walk front to back over the area
that remains.

From remaining area ``R = 1``, each entry takes a weight ``w`` of it (the mode's ``step``),
``C += w colour``, and ``R`` shrinks, multiplicatively wherever it can, so that the backward
pass, walking back to front, recovers each entry's incoming ``R`` by undoing the steps with
the same factors, exactly relative to R. Where ``R`` first falls below ``tiny`` (an opaque
shape took all of it), the pixel records that entry in ``events`` and its incoming ``R``:
the backward restarts from there, and the forward skips the rest of the list for that
pixel (the area left, under ``tiny``, is below rounding). ``image = C + R bg``. State: the
final R (the background's weight), and the record.

Backward, with ``q = g . colour - lam``: ``lam = dL/dR`` after the entry, starting from
``g . bg`` behind the last entry, and ``lam += q dw/dR`` going forward. Behind the record
(the pixel's remaining area was gone) ``R`` is zero, and the entries only carry ``lam``
forward. An entry has ``dL/dcov = q dw/dcov``, ``dL/do = q dw/do`` and
``dL/dcolour = w g``.
"""

import numpy as np
import taichi as ti

from taichi_sdf.modes.base import Mode

NO_EVENT = -1  # a pixel whose remaining area never fell below tiny (below every entry)


@ti.func
def start(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x):
    state[b, y, x, 0] = 1.0
    state[b, y, x, 1] = 0.0
    for c in ti.static(range(3)):
        image[b, y, x, c] = 0.0
    events[b, y, x] = NO_EVENT


@ti.func
def accepts(state: ti.template(), b, y, x, precision: ti.template()):
    return state[b, y, x, 0] >= precision.real(precision.tiny)


@ti.func
def finish(state: ti.template(), events: ti.template(), image: ti.template(), b, y, x, bg):
    remaining = state[b, y, x, 0]
    for c in ti.static(range(3)):
        image[b, y, x, c] = image[b, y, x, c] + remaining * bg[c]
    return remaining


@ti.func
def start_adjoint(state: ti.template(), events: ti.template(), scratch: ti.template(), b, y, x, g, bg):
    """lam behind the last entry, and R there (zero behind a record)."""
    scratch[b, y, x, 0] = g.dot(bg)
    scratch[b, y, x, 1] = state[b, y, x, 0] if events[b, y, x] == NO_EVENT else 0.0


def layered_mode(name: str, step, step_adjoint, empty_adjoint, reference_weight) -> Mode:
    """The mode whose entries take their weight of the remaining area by these functions:

    * ``step(remaining, cov, opacity, precision) -> (w, R after)`` (Taichi);
    * ``step_adjoint(recorded, after, remaining, cov, opacity) -> (R, w, dw/dcov, dw/do,
      dw/dR)`` (Taichi): the entry's incoming ``R``, recovered from the area ``after`` it
      unless ``recorded`` (then ``remaining`` holds it), and its weight's derivatives;
    * ``empty_adjoint(q, cov, opacity) -> q dw/dR`` at ``R = 0`` (Taichi);
    * ``reference_weight(remaining, cov, opacity) -> w`` (numpy).
    """

    @ti.func
    def composite(state: ti.template(), events: ti.template(), image: ti.template(), entry, b, y, x, cov, opacity,
                  colour, precision: ti.template()):  # fmt: skip
        remaining = state[b, y, x, 0]
        weight, after = step(remaining, cov, opacity, precision)
        for c in ti.static(range(3)):
            image[b, y, x, c] = image[b, y, x, c] + weight * colour[c]
        if after < precision.real(precision.tiny):
            events[b, y, x] = entry
            state[b, y, x, 1] = remaining
        state[b, y, x, 0] = after

    @ti.func
    def entry_adjoints(state: ti.template(), events: ti.template(), scratch: ti.template(), entry, b, y, x, g, cov,
                       opacity, colour, precision: ti.template()):  # fmt: skip
        a_cov, a_opacity, a_colour = cov * 0.0, cov * 0.0, g * 0.0
        adjoint = scratch[b, y, x, 0]
        q = g.dot(colour) - adjoint
        event = events[b, y, x]
        if entry < event:  # behind the point where the remaining area ran out: R = 0
            adjoint += empty_adjoint(q, cov, opacity)
        else:
            # R after this entry, or the R recorded where the area ran out
            remaining, weight, d_cov, d_opacity, d_remaining = step_adjoint(
                entry == event, scratch[b, y, x, 1], state[b, y, x, 1], cov, opacity
            )
            a_cov, a_opacity, a_colour = q * d_cov, q * d_opacity, weight * g
            adjoint += q * d_remaining
            scratch[b, y, x, 1] = remaining
        scratch[b, y, x, 0] = adjoint
        return a_cov, a_opacity, a_colour

    def reference(layers, background: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        remaining, weighted = np.ones(shape), np.zeros(shape + (3,))
        for cov, colour, opacity in reversed(layers):  # front to back
            weight = reference_weight(remaining, cov, opacity)
            weighted += weight[..., None] * colour
            remaining = remaining - weight
        return weighted + remaining[..., None] * background

    return Mode(
        name=name, state_width=2, layered=True, start=start, accepts=accepts, composite=composite, finish=finish,
        start_adjoint=start_adjoint, entry_adjoints=entry_adjoints, reference=reference,
    )  # fmt: skip
