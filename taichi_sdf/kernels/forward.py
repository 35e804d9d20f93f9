"""The forward pass: binning, then one thread per tile walks its list and composites.

For each entry of a tile's list, the thread visits only the pixels of the tile inside the
entry's footprint box and updates their running state, kept per pixel (never per entry):

* ``mean`` (order-free composite-then-shade): ``W += o cov``, ``C += o cov colour``;
  ``image = C / max(1, W) + background max(0, 1 - W)``. State: W, C.
* ``softor`` (order-free ink, DifferentiableSketching's ``1 - prod(1 - a)``): the pixel's
  transmittance ``T = prod(1 - o cov)`` and ``S = sum o cov``, ``C = sum o cov colour``;
  ``image = (1 - T) C / S + T background``: the covered share takes the coverage-weighted
  mean colour (black ink on white gives exactly ``T``). State: the product of the factors
  that are not zero, S, C, and (in the pixel's record) how many factors are zero.
* ``over`` (seam-free depth order) and ``alpha`` (classic alpha compositing), front to
  back from remaining area ``R = 1``: weight ``w = o min(cov, R)`` (over) or ``R o cov``
  (alpha), ``C += w colour``, and ``R`` shrinks, multiplicatively wherever it can:
  ``R (1 - o)`` when over takes all that remains (``R < cov``), ``R - o cov`` when it
  takes its coverage, ``R (1 - o cov)`` in alpha mode. The backward pass walks back to
  front and recovers each entry's incoming ``R`` by undoing these steps with the same
  factors, so they stay exact relative to R. Where ``R`` first falls below ``TINY`` (an
  opaque shape took all of it), the pixel records that entry and its incoming ``R``: the
  backward restarts from there, and the forward skips the rest of the list for that
  pixel (the area left, under ``TINY``, is below rounding). State: the final R (the
  background's weight), and the record.

Undoing a factor ``1 - a`` divides by it, which is ill-conditioned as ``a`` nears 1, and
the backward pass recomputes ``a`` in another kernel, where it may round an ulp apart.
So an entry whose ``a = o cov`` is at least ``OPAQUE`` is opaque in ``alpha`` and
``softor``: it keeps its weight ``R a`` (alpha), but what remains behind it, at most
``1 - OPAQUE`` of R, is dropped (R = 0 after it; in softor it is a zero factor). No
division then meets a factor below ``1 - OPAQUE``; the gradients stay those of the
formula without the threshold.
"""

import functools

import taichi as ti

from taichi_sdf.funcs import blend_mean
from taichi_sdf.kernels.binning import bin_entries
from taichi_sdf.kernels.rows import (
    entry_pixels, fill_at, load_guide, load_row, pixel_centre, row_columns, tile_pixels,
)  # fmt: skip

NO_EVENT = -1  # a pixel whose remaining area never fell below TINY (below every entry)
TINY = {"f32": 1e-30, "f64": 1e-280}  # far above the smallest normal number of the type
OPAQUE = {"f32": 1.0 - 1e-4, "f64": 1.0 - 1e-10}  # an entry's o cov from which it is opaque
STATE_WIDTH = {"mean": 4, "over": 2, "alpha": 2, "softor": 5}  # floats kept per pixel


@functools.cache
def forward_kernel(kinds_present: tuple, mode: str, dtype: str, linear: bool, culling: bool):
    """The forward kernel of one static configuration (``kinds_present``: the Kind objects
    that the scene uses; ``linear``: whether any fill is a linear gradient)."""
    real = {"f32": ti.f32, "f64": ti.f64}[dtype]
    # Used as real(...): a bare literal takes default_fp (1e-280 is 0.0 in f32).
    tiny, opaque = TINY[dtype], OPAQUE[dtype]
    layered = mode in ("over", "alpha")

    @ti.func
    def composite(entry, state: ti.template(), events: ti.template(), image: ti.template(), b, x, y, cov, opacity, colour):
        """Add one primitive's coverage to pixel (b, y, x)."""
        # Plain read-modify-writes: this tile's thread owns the pixel (a `+=` on a global
        # array would compile to an atomic add, a compare-and-swap loop on the CPU).
        if ti.static(mode == "mean"):
            weight = opacity * cov
            state[b, y, x, 0] = state[b, y, x, 0] + weight
            for c in ti.static(range(3)):
                state[b, y, x, 1 + c] = state[b, y, x, 1 + c] + weight * colour[c]
        elif ti.static(mode == "softor"):
            alpha = opacity * cov
            if alpha < real(opaque):
                state[b, y, x, 0] = state[b, y, x, 0] * (1.0 - alpha)
            else:
                events[b, y, x] = events[b, y, x] + 1  # a factor of zero, counted apart
            state[b, y, x, 1] = state[b, y, x, 1] + alpha
            for c in ti.static(range(3)):
                state[b, y, x, 2 + c] = state[b, y, x, 2 + c] + alpha * colour[c]
        else:
            remaining = state[b, y, x, 0]
            weight, after = remaining * 0.0, remaining
            if ti.static(mode == "over"):
                if cov <= remaining:
                    weight = opacity * cov
                    after = remaining - weight
                else:
                    weight = opacity * remaining
                    after = remaining * (1.0 - opacity)
            else:
                alpha = opacity * cov
                weight = remaining * alpha
                after = remaining * (1.0 - alpha) if alpha < real(opaque) else 0.0 * remaining
            for c in ti.static(range(3)):
                image[b, y, x, c] = image[b, y, x, c] + weight * colour[c]
            if after < real(tiny):
                events[b, y, x] = entry
                state[b, y, x, 1] = remaining
            state[b, y, x, 0] = after

    @ti.kernel
    def forward(
        table: ti.types.ndarray(),
        kinds: ti.types.ndarray(),
        background: ti.types.ndarray(),
        aa_width: real,
        tile_size: ti.i32,
        spread: ti.i32,
        guides: ti.types.ndarray(),
        footprints: ti.types.ndarray(),
        row_offsets: ti.types.ndarray(),
        entry_tiles: ti.types.ndarray(),
        entry_rows: ti.types.ndarray(),
        tile_offsets: ti.types.ndarray(),
        tile_fill: ti.types.ndarray(),
        tile_lists: ti.types.ndarray(),
        state: ti.types.ndarray(),
        events: ti.types.ndarray(),
        background_weight: ti.types.ndarray(),
        image: ti.types.ndarray(),
    ):
        _, height, width, _ = image.shape
        n_prims = kinds.shape[0]
        bin_entries(
            kinds_present, culling, tile_size, table, kinds, aa_width, width, height, footprints, row_offsets,
            entry_tiles, entry_rows, tile_offsets, tile_fill, tile_lists,
        )  # fmt: skip
        for slot in range(tile_fill.shape[0] * spread):
            if slot % spread == 0:
                tile = slot // spread
                b, x0, y0, x1, y1 = tile_pixels(tile, width, height, tile_size)
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        for k in ti.static(range(STATE_WIDTH[mode])):
                            state[b, y, x, k] = 1.0 if ti.static(mode != "mean" and k == 0) else 0.0
                        for c in ti.static(range(3)):
                            image[b, y, x, c] = 0.0
                        events[b, y, x] = 0 if ti.static(mode == "softor") else NO_EVENT
                start, end = tile_offsets[tile], tile_offsets[tile + 1]
                for n in range(end - start):
                    # Depth order is ascending row; the layered modes walk front to back.
                    entry = tile_lists[end - 1 - n] if ti.static(layered) else tile_lists[start + n]
                    row = entry_rows[entry]
                    geometry, base, slope, opacity = load_row(table, row)
                    px0, px1, py0, py1 = entry_pixels(culling, footprints, row, x0, y0, x1, y1)
                    for kind in ti.static(kinds_present):
                        if kinds[row % n_prims] == kind.code:
                            anchor, scale = kind.fill_frame(geometry)
                            guide = load_guide(guides, row, kind.guide_size)
                            for y in range(py0, py1 + 1):
                                sx0, sx1, on_row = row_columns(kind, culling, geometry, guide, y, px0, px1, real, aa_width)
                                for x in range(sx0, sx1 + 1):
                                    if ti.static(not layered) or state[b, y, x, 0] >= real(tiny):
                                        p = pixel_centre(x, y, real)
                                        cov, _cov_grad = kind.coverage_grad(geometry, guide, on_row, p, aa_width)
                                        if cov > 0.0:
                                            colour, _inside, _offset = fill_at(base, slope, anchor, scale, p, linear)
                                            composite(entry, state, events, image, b, x, y, cov, opacity, colour)
                bg = ti.Vector([background[b, c] for c in ti.static(range(3))])
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        weight = state[b, y, x, 0]
                        if ti.static(mode == "mean"):
                            total = ti.Vector([state[b, y, x, 1 + c] for c in ti.static(range(3))])
                            colour = blend_mean(weight, total, bg)
                            weight = ti.max(0.0, 1.0 - weight)
                            for c in ti.static(range(3)):
                                image[b, y, x, c] = colour[c]
                        elif ti.static(mode == "softor"):
                            if events[b, y, x] > 0:
                                weight = 0.0
                            ink = state[b, y, x, 1]
                            for c in ti.static(range(3)):
                                mean_colour = state[b, y, x, 2 + c] / ti.max(ink, 1e-30)
                                image[b, y, x, c] = (1.0 - weight) * mean_colour + weight * bg[c]
                        else:
                            for c in ti.static(range(3)):
                                image[b, y, x, c] = image[b, y, x, c] + weight * bg[c]
                        background_weight[b, y, x] = weight

    return forward
