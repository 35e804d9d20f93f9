"""What a compositing mode contributes to the pipeline: :class:`Mode` and :class:`Precision`.

A mode decides how the entries listed at a pixel (coverage ``cov`` in [0, 1], opacity ``o``,
colour) combine with the background into the pixel's colour. The forward kernel walks each
tile's list, front to back (descending table row) for a ``layered`` mode and in list order
for the others, and keeps per pixel ``state_width`` floats in ``state`` (B, H, W,
state_width), one integer in ``events`` (B, H, W) and the colour in ``image`` (B, H, W, 3);
the backward kernel walks the list back to front with ``state_width`` floats per pixel of
its own in ``scratch``. The mode's Taichi functions, at pixel (b, y, x):

* ``start(state, events, image, b, y, x)``: the pixel before the walk;
* ``accepts(state, b, y, x, precision) -> bool``: whether an entry can still change the
  pixel (tested before its coverage is computed);
* ``composite(state, events, image, entry, b, y, x, cov, opacity, colour, precision)``:
  add tile entry ``entry``;
* ``finish(state, events, image, b, y, x, bg) -> weight``: the pixel's colour into
  ``image``; returns the background's weight (the image's derivative by the background);
* ``start_adjoint(state, events, scratch, b, y, x, g, bg)``: what the backward walk
  starts from, given the image's gradient ``g`` there;
* ``entry_adjoints(state, events, scratch, entry, b, y, x, g, cov, opacity, colour,
  precision) -> (dL/dcov, dL/do, dL/dcolour)``: one entry's adjoints at the pixel
  (updating the walk's scratch);

and, in numpy, ``reference(layers, background, shape) -> image``: the (H, W, 3) image of
``layers``, (coverage (H, W), colour (H, W, 3), opacity) bottom first, over a (3,)
background, for the brute-force reference renderer that the tests compare against.
"""

from collections.abc import Callable
from dataclasses import dataclass

import taichi as ti


@dataclass(frozen=True)
class Precision:
    """A render's float type and the thresholds that depend on it (used as ``real(tiny)``
    in Taichi: a bare literal takes ``default_fp``, and 1e-280 is 0.0 in f32)."""

    real: object  # ti.f32 or ti.f64
    tiny: float  # remaining area under which a layered pixel is full: far above the smallest normal number
    opaque: float  # o cov from which an entry is opaque (see the modes that divide by 1 - o cov)


PRECISION = {"f32": Precision(ti.f32, 1e-30, 1.0 - 1e-4), "f64": Precision(ti.f64, 1e-280, 1.0 - 1e-10)}


@dataclass(frozen=True, eq=False)
class Mode:
    """One compositing mode: its name, the floats it keeps per pixel (forward state and
    backward scratch alike), whether it walks entries in depth order, and the functions
    described in this module's docstring."""

    name: str
    state_width: int
    layered: bool
    start: Callable
    accepts: Callable
    composite: Callable
    finish: Callable
    start_adjoint: Callable
    entry_adjoints: Callable
    reference: Callable


@ti.func
def accepts_all(state: ti.template(), b, y, x, precision: ti.template()):
    """``accepts`` of the order-free modes: every entry changes the pixel."""
    return True
