"""The backward pass: from the image's gradient g = dL/d image to every table row's and
every background's gradient, without atomics on floats and in a fixed order.

One thread per tile walks the tile's list back to front. For each entry it visits the
pixels of the tile inside the entry's footprint box, works out there the adjoints of the
entry's coverage, opacity and colour, and sums the entry's gradient over those pixels in
registers into the entry's own slot; a last loop sums each row's slots (its entries are a
contiguous range) in entry order. The result is bitwise the same on any number of
threads.

Per pixel, with ``q = g . colour - lam``:

* ``mean``: ``image = C / max(1, W) + bg max(0, 1 - W)`` gives dL/dW and dL/dC once per
  pixel; an entry's weight ``a = o cov`` then has ``dL/da = dL/dW + dL/dC . colour``.
* ``softor``: ``image = (1 - T) C / S + T bg`` gives dL/dT, dL/dS and dL/dC once per pixel;
  an entry's ``a = o cov`` has ``dL/da = -dL/dT prod_others(1 - a) + dL/dS + dL/dC . colour``,
  where the product of the other factors is T / (1 - a) (both products of the same
  factors, so it stays exact), or, where one factor is zero (``a >= OPAQUE``, see the
  forward kernel), the stored product for that entry and zero for the others.
* ``over`` and ``alpha``: ``lam = dL/dR`` after the entry, starting from ``g . bg``
  behind the last entry, and ``lam += q dw/dR`` going forward. An entry's ``R`` is
  recovered by undoing its forward step from the ``R`` after it (see the forward
  kernel), or restored where the forward recorded it; behind the record (the pixel's
  remaining area was gone) ``R`` is zero, and the entries only carry ``lam`` forward.
  The entry then has ``dL/dcov = q dw/dcov``, ``dL/do = q dw/do`` and
  ``dL/dcolour = w g``.

The colour's gradient reaches the fill's base, slope and (through its anchor and scale,
summed per entry) the geometry; the coverage's reaches the geometry through the kind's
``coverage_grad``.
"""

import functools

import taichi as ti

from taichi_sdf.kernels.forward import NO_EVENT, OPAQUE
from taichi_sdf.kernels.rows import entry_pixels, fill_at, load_row, pixel_centre, row_columns, tile_pixels, tiles_across
from taichi_sdf.table import COLOUR, COLUMNS, GEOMETRY_SIZE, OPACITY, SLOPE

SCRATCH_WIDTH = {"mean": 4, "over": 2, "alpha": 2, "softor": 5}  # per-pixel floats of the backward pass


@functools.cache
def backward_kernel(
    kinds_present: tuple, mode: str, dtype: str, linear: bool, culling: bool
):
    """The backward kernel matching :func:`~taichi_sdf.kernels.forward.forward_kernel`."""
    real = {"f32": ti.f32, "f64": ti.f64}[dtype]
    layered = mode in ("over", "alpha")
    opaque = OPAQUE[dtype]

    @ti.func
    def start_pixel(b, y, x, g, bg, state: ti.template(), events: ti.template(), scratch: ti.template()):
        """Per-pixel adjoints before the walk (mean: dL/dW, dL/dC; layered: lam and R)."""
        if ti.static(mode == "softor"):
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
        elif ti.static(mode == "mean"):
            total = state[b, y, x, 0]
            colour = ti.Vector([state[b, y, x, 1 + c] for c in ti.static(range(3))])
            d_total, d_colour = -g.dot(bg), g
            if total > 1.0:
                d_colour = g / total
                d_total = -g.dot(colour) / (total * total)
            scratch[b, y, x, 0] = d_total
            for c in ti.static(range(3)):
                scratch[b, y, x, 1 + c] = d_colour[c]
        else:
            scratch[b, y, x, 0] = g.dot(bg)
            scratch[b, y, x, 1] = state[b, y, x, 0] if events[b, y, x] == NO_EVENT else 0.0

    @ti.func
    def entry_adjoints(entry, b, y, x, g, cov, opacity, colour, state: ti.template(), events: ti.template(), scratch: ti.template()):
        """dL/dcov, dL/do and dL/dcolour of one entry at one pixel (updating the walk's state)."""
        a_cov, a_opacity, a_colour = cov * 0.0, cov * 0.0, g * 0.0
        if ti.static(mode == "softor"):
            alpha = opacity * cov
            zeros = events[b, y, x]
            others = 0.0 * alpha  # the product of the other entries' factors
            if zeros == 0:
                others = state[b, y, x, 0] / (1.0 - alpha)
            elif zeros == 1 and alpha >= real(opaque):
                others = state[b, y, x, 0]
            d_colour = ti.Vector([scratch[b, y, x, 2 + c] for c in ti.static(range(3))])
            d_alpha = -scratch[b, y, x, 0] * others + scratch[b, y, x, 1] + d_colour.dot(colour)
            a_cov, a_opacity, a_colour = opacity * d_alpha, cov * d_alpha, alpha * d_colour
        elif ti.static(mode == "mean"):
            d_colour = ti.Vector([scratch[b, y, x, 1 + c] for c in ti.static(range(3))])
            d_weight = scratch[b, y, x, 0] + d_colour.dot(colour)
            a_cov, a_opacity, a_colour = opacity * d_weight, cov * d_weight, opacity * cov * d_colour
        else:
            adjoint = scratch[b, y, x, 0]
            q = g.dot(colour) - adjoint
            event = events[b, y, x]
            if entry < event:  # behind the point where the remaining area ran out: R = 0
                adjoint += q * opacity * (1.0 if ti.static(mode == "over") else cov)
            else:
                after = scratch[b, y, x, 1]
                remaining = state[b, y, x, 1]  # recorded where the area ran out
                d_cov, d_opacity, d_remaining, weight = cov * 0.0, cov * 0.0, cov * 0.0, cov * 0.0
                if ti.static(mode == "over"):
                    took_all = cov > remaining  # all that remained (R < cov), where it was recorded
                    if entry != event:
                        took_all = after < (1.0 - opacity) * cov
                        remaining = after / (1.0 - opacity) if took_all else after + opacity * cov
                    if took_all:
                        weight, d_opacity, d_remaining = opacity * remaining, remaining, opacity
                    else:
                        weight, d_cov, d_opacity = opacity * cov, opacity, cov
                else:
                    alpha = opacity * cov
                    if entry != event:
                        remaining = after / (1.0 - alpha)
                    weight = remaining * alpha
                    d_cov, d_opacity, d_remaining = remaining * opacity, remaining * cov, alpha
                a_cov, a_opacity, a_colour = q * d_cov, q * d_opacity, weight * g
                adjoint += q * d_remaining
                scratch[b, y, x, 1] = remaining
            scratch[b, y, x, 0] = adjoint
        return a_cov, a_opacity, a_colour

    @ti.kernel
    def backward(
        table: ti.types.ndarray(),
        kinds: ti.types.ndarray(),
        background: ti.types.ndarray(),
        aa_width: real,
        tile_size: ti.i32,
        spread: ti.i32,
        footprints: ti.types.ndarray(),
        row_offsets: ti.types.ndarray(),
        entry_rows: ti.types.ndarray(),
        tile_offsets: ti.types.ndarray(),
        tile_lists: ti.types.ndarray(),
        state: ti.types.ndarray(),
        events: ti.types.ndarray(),
        background_weight: ti.types.ndarray(),
        image_grad: ti.types.ndarray(),
        scratch: ti.types.ndarray(),
        entry_grads: ti.types.ndarray(),
        tile_background: ti.types.ndarray(),
        table_grad: ti.types.ndarray(),
        background_grad: ti.types.ndarray(),
    ):
        n_images, height, width, _ = image_grad.shape
        n_prims = kinds.shape[0]
        n_tiles = tile_background.shape[0]
        for slot in range(n_tiles * spread):
            if slot % spread == 0:
                tile = slot // spread
                b, x0, y0, x1, y1 = tile_pixels(tile, width, height, tile_size)
                bg = ti.Vector([background[b, c] for c in ti.static(range(3))])
                d_background = bg * 0.0
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        g = ti.Vector([image_grad[b, y, x, c] for c in ti.static(range(3))])
                        d_background += g * background_weight[b, y, x]
                        start_pixel(b, y, x, g, bg, state, events, scratch)
                for c in ti.static(range(3)):
                    tile_background[tile, c] = d_background[c]
                for n in range(tile_offsets[tile + 1] - tile_offsets[tile]):
                    entry = tile_lists[tile_offsets[tile] + n]  # back to front: ascending rows
                    row = entry_rows[entry]
                    geometry, base, slope, opacity = load_row(table, row)
                    d_geometry, d_base, d_slope = geometry * 0.0, base * 0.0, slope * 0.0
                    d_opacity = opacity * 0.0
                    px0, px1, py0, py1 = entry_pixels(culling, footprints, row, x0, y0, x1, y1)
                    for kind in ti.static(kinds_present):
                        if kinds[row % n_prims] == kind.code:
                            anchor, scale = kind.fill_frame(geometry)
                            # Computed here, not loaded as the forward pass does: with the
                            # values this loop keeps live, loaded guides measured 2-5 % slower.
                            guide = kind.guide(geometry, aa_width)
                            for y in range(py0, py1 + 1):
                                sx0, sx1, on_row = row_columns(kind, culling, geometry, guide, y, px0, px1, real, aa_width)
                                for x in range(sx0, sx1 + 1):
                                    p = pixel_centre(x, y, real)
                                    cov, d_cov_d_geometry = kind.coverage_grad(geometry, guide, on_row, p, aa_width)
                                    if cov > 0.0:
                                        colour, inside, offset = fill_at(base, slope, anchor, scale, p, linear)
                                        g = ti.Vector([image_grad[b, y, x, c] for c in ti.static(range(3))])
                                        a_cov, a_opacity, a_colour = entry_adjoints(
                                            entry, b, y, x, g, cov, opacity, colour, state, events, scratch
                                        )
                                        d_geometry += a_cov * d_cov_d_geometry
                                        d_opacity += a_opacity
                                        d_unclamped = a_colour * inside
                                        d_base += d_unclamped
                                        if ti.static(linear):
                                            d_slope += d_unclamped.outer_product(offset)
                            if ti.static(linear):
                                # colour = base + slope (p - anchor) / scale: the anchor's and the
                                # scale's gradients are sums over the same pixels as d_base's and
                                # d_slope's, so they follow from those once per entry.
                                d_anchor = -(slope.transpose() @ d_base) / scale
                                d_scale = -(slope * d_slope).sum() / scale
                                d_geometry += kind.fill_frame_vjp(geometry, d_anchor, d_scale)
                    for c in ti.static(range(GEOMETRY_SIZE)):
                        entry_grads[entry, c] = d_geometry[c]
                    for c in ti.static(range(3)):
                        entry_grads[entry, COLOUR + c] = d_base[c]
                        for j in ti.static(range(2)):
                            entry_grads[entry, SLOPE + 2 * c + j] = d_slope[c, j]
                    entry_grads[entry, OPACITY] = d_opacity
        for row in range(table.shape[0]):
            for c in ti.static(range(COLUMNS)):
                total = table_grad[row, c] * 0.0
                for entry in range(row_offsets[row], row_offsets[row + 1]):
                    total += entry_grads[entry, c]
                table_grad[row, c] = total
        per_image = tiles_across(width, tile_size) * tiles_across(height, tile_size)
        for b in range(n_images):
            for c in ti.static(range(3)):
                total = background_grad[b, c] * 0.0
                for t in range(per_image):
                    total += tile_background[b * per_image + t, c]
                background_grad[b, c] = total

    return backward
