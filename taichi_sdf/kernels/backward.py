"""The backward pass: from the image's gradient g = dL/d image to every table row's and
every background's gradient, without atomics on floats and in a fixed order.

One thread per tile walks the tile's list back to front. For each entry it visits the
pixels of the tile inside the entry's footprint box, where the compositing mode (see
:mod:`taichi_sdf.modes`) gives the adjoints of the entry's coverage, opacity and colour,
and sums the entry's gradient over those pixels in registers into the entry's own slot; a
last loop sums each row's slots (its entries are a contiguous range) in entry order. The
result is bitwise the same on any number of threads.

The colour's gradient reaches the fill's base, slope and (through its anchor and scale,
summed per entry) the geometry; the coverage's reaches the geometry through the kind's
``coverage_grad``.
"""

import functools

import taichi as ti

from taichi_sdf.kernels import paths
from taichi_sdf.kernels.arrays import Boundary, Outline, ndarray_types, view_of
from taichi_sdf.kernels.rows import (
    entry_pixels,
    fill_at,
    load_row,
    pixel_centre,
    row_columns,
    tile_pixels,
    tiles_across,
    with_kind,
)
from taichi_sdf.modes import PRECISION, Mode
from taichi_sdf.table import COLOUR, COLUMNS, GEOMETRY_SIZE, OPACITY, SLOPE


@functools.cache
def backward_kernel(kinds_present: tuple, mode: Mode, dtype: str, linear: bool, culling: bool):
    """The backward kernel matching :func:`~taichi_sdf.kernels.forward.forward_kernel`."""
    precision = PRECISION[dtype]
    real = precision.real
    segmented = tuple(kind for kind in kinds_present if kind.segmented)

    @ti.func
    def entry_gradient(kind: ti.template(), entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1,
                       aa_width, state: ti.template(), events: ti.template(), scratch: ti.template(),
                       image_grad: ti.template(), d_geometry: ti.template(), d_base: ti.template(),
                       d_slope: ti.template(), d_opacity: ti.template(), n_prims, x0, y0, x1, y1,
                       guides: ti.template(), outline: ti.template(), boundary: ti.template(),
                       ref_grads: ti.template()):  # fmt: skip
        """Add to ``d_geometry``, ``d_base``, ``d_slope`` and ``d_opacity`` (the caller's)
        tile entry ``entry``'s (table row ``row``, a ``kind``, loaded by :func:`load_row`)
        gradient of its row over image b's pixels [px0, px1] x [py0, py1] that it covers.
        A path's entry (over its tile [x0, x1) x [y0, y1)) writes its segments' gradient
        into its slots of ``ref_grads`` and its fill frame's (anchor, size) into the first
        three geometry columns, which a path has none of (see :func:`paths.segment_grads`)."""
        if ti.static(kind.segmented):
            path_base, path_slope, path_opacity, d_anchor, d_scale = paths.entry_gradient(
                mode, precision, linear, entry, row, n_prims, b, base, slope, opacity, x0, y0, px0, px1, py0, py1,
                aa_width, guides, outline, boundary, state, events, scratch, image_grad, ref_grads,
            )  # fmt: skip
            d_base += path_base
            d_slope += path_slope
            d_opacity += path_opacity
            d_geometry[0] += d_anchor[0]
            d_geometry[1] += d_anchor[1]
            d_geometry[2] += d_scale
        else:
            _pixels_gradient(kind, entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1, aa_width, state,
                             events, scratch, image_grad, d_geometry, d_base, d_slope, d_opacity)  # fmt: skip

    @ti.func
    def _pixels_gradient(kind: ti.template(), entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1,
                         aa_width, state: ti.template(), events: ti.template(), scratch: ti.template(),
                         image_grad: ti.template(), d_geometry: ti.template(), d_base: ti.template(),
                         d_slope: ti.template(), d_opacity: ti.template()):  # fmt: skip
        anchor, scale = kind.fill_frame(geometry)
        # Computed here, not loaded as the forward pass does: with the values this loop
        # keeps live, loaded guides measured 2-5 % slower.
        guide = kind.guide(geometry, aa_width)
        for y in range(py0, py1 + 1):
            sx0, sx1, on_row = row_columns(kind, culling, geometry, guide, y, px0, px1, real, aa_width)
            for x in range(sx0, sx1 + 1):
                p = pixel_centre(x, y, real)
                cov, d_cov_d_geometry = kind.coverage_grad(geometry, guide, on_row, p, aa_width)
                if cov > 0.0:
                    colour, inside, offset = fill_at(base, slope, anchor, scale, p, linear)
                    g = ti.Vector([image_grad[b, y, x, c] for c in ti.static(range(3))])
                    a_cov, a_opacity, a_colour = mode.entry_adjoints(
                        state, events, scratch, entry, b, y, x, g, cov, opacity, colour, precision
                    )
                    d_geometry += a_cov * d_cov_d_geometry
                    d_opacity += a_opacity
                    d_unclamped = a_colour * inside
                    d_base += d_unclamped
                    if ti.static(linear):
                        d_slope += d_unclamped.outer_product(offset)
        if ti.static(linear):
            # colour = base + slope (p - anchor) / scale: the anchor's and the scale's
            # gradients are sums over the same pixels as d_base's and d_slope's, so they
            # follow from those once per entry.
            d_anchor = -(slope.transpose() @ d_base) / scale
            d_scale = -(slope * d_slope).sum() / scale
            d_geometry += kind.fill_frame_vjp(geometry, d_anchor, d_scale)

    t = ndarray_types(dtype, bool(segmented))

    @ti.kernel
    def backward(
        table: t.table,
        kind_codes: t.kind_codes,
        background: t.background,
        footprints: t.footprints,
        row_offsets: t.row_offsets,
        entry_rows: t.entry_rows,
        tile_offsets: t.tile_offsets,
        tile_lists: t.tile_lists,
        state: t.state,
        events: t.events,
        background_weight: t.background_weight,
        image_grad: t.image_grad,
        scratch: t.scratch,
        entry_grads: t.entry_grads,
        tile_background: t.tile_background,
        table_grad: t.table_grad,
        background_grad: t.background_grad,
        guides: t.guides,
        segments: t.segments,
        segment_points: t.segment_points,
        row_segments: t.row_segments,
        row_rules: t.row_rules,
        pieces: t.pieces,
        grid_offsets: t.grid_offsets,
        grid: t.grid,
        row_refs: t.row_refs,
        entry_bases: t.entry_bases,
        entry_refs: t.entry_refs,
        refs: t.refs,
        row_masks: t.row_masks,
        records: t.records,
        record_points: t.record_points,
        ref_grads: t.ref_grads,
        segment_grad: t.segment_grad,
        aa_width: real,
        tile_size: ti.i32,
        spread: ti.i32,
    ):
        outline = ti.static(view_of(Outline, bool(segmented), segments, segment_points, row_segments, row_rules,
                                    pieces, grid_offsets, grid, row_refs, entry_bases, entry_refs, refs))  # fmt: skip
        boundary = ti.static(view_of(Boundary, bool(segmented), row_masks, records, record_points, 0))  # no count
        n_images, height, width, _ = image_grad.shape
        n_prims = kind_codes.shape[0]
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
                        mode.start_adjoint(state, events, scratch, b, y, x, g, bg)
                for c in ti.static(range(3)):
                    tile_background[tile, c] = d_background[c]
                for n in range(tile_offsets[tile + 1] - tile_offsets[tile]):
                    entry = tile_lists[tile_offsets[tile] + n]  # back to front: ascending rows
                    row = entry_rows[entry]
                    geometry, base, slope, opacity = load_row(table, row)
                    d_geometry, d_base, d_slope = geometry * 0.0, base * 0.0, slope * 0.0
                    d_opacity = opacity * 0.0
                    px0, px1, py0, py1 = entry_pixels(culling, footprints, row, x0, y0, x1, y1)
                    with_kind(
                        kinds_present, kind_codes[row % n_prims], entry_gradient,
                        (entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1, aa_width, state, events,
                         scratch, image_grad, d_geometry, d_base, d_slope, d_opacity, n_prims, x0, y0, x1, y1, guides,
                         outline, boundary, ref_grads),
                    )  # fmt: skip
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
        for row in range(table.shape[0]):
            for kind in ti.static(segmented):
                if kind_codes[row % n_prims] == kind.code:
                    paths.segment_grads(row, n_prims, row_offsets, guides, outline, ref_grads, table_grad, segment_grad)
        per_image = tiles_across(width, tile_size) * tiles_across(height, tile_size)
        for b in range(n_images):
            for c in ti.static(range(3)):
                total = background_grad[b, c] * 0.0
                for t in range(per_image):
                    total += tile_background[b * per_image + t, c]
                background_grad[b, c] = total

    return backward
