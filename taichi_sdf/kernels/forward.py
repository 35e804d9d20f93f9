"""The forward pass: binning, then one thread per tile walks its list and composites.

For each entry of a tile's list, the thread visits only the pixels of the tile inside the
entry's footprint box, where the entry's kind gives its coverage and the compositing mode
(see :mod:`taichi_sdf.modes`) updates the pixel's running state, kept per pixel (never per
entry). Layered modes walk the list front to back, the others in list order.
"""

import functools

import taichi as ti

from taichi_sdf.kernels import paths
from taichi_sdf.kernels.arrays import Boundary, Outline, ndarray_types, view_of
from taichi_sdf.kernels.binning import bin_entries
from taichi_sdf.kernels.rows import (
    entry_pixels,
    fill_at,
    load_guide,
    load_row,
    pixel_centre,
    row_columns,
    tile_pixels,
    with_kind,
)
from taichi_sdf.kinds.path_entry import TOLERANCES
from taichi_sdf.modes import PRECISION, Mode


@functools.cache
def forward_kernel(kinds_present: tuple, mode: Mode, dtype: str, linear: bool, culling: bool):
    """The forward kernel of one static configuration (``kinds_present``: the Kind objects
    that the scene uses; ``linear``: whether any fill is a linear gradient)."""
    precision = PRECISION[dtype]
    real = precision.real

    @ti.func
    def composite_entry(kind: ti.template(), entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1,
                        aa_width, guides: ti.template(), state: ti.template(), events: ti.template(),
                        image: ti.template(), n_prims, x0, y0, x1, y1, outline: ti.template(),
                        boundary: ti.template()):  # fmt: skip
        """Composite tile entry ``entry`` (table row ``row``, a ``kind``, loaded by
        :func:`load_row`) into image b's pixels [px0, px1] x [py0, py1] that it covers (a
        path's entry: of its tile [x0, x1) x [y0, y1))."""
        if ti.static(kind.segmented):
            paths.composite_entry(mode, precision, TOLERANCES[dtype], linear, entry, row, n_prims, b, base, slope,
                                  opacity, x0, y0, x1, px0, px1, py0, py1, aa_width, guides, outline, boundary, state,
                                  events, image)  # fmt: skip
        else:
            _composite_pixels(kind, entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1, aa_width,
                              guides, state, events, image)  # fmt: skip

    @ti.func
    def _composite_pixels(kind: ti.template(), entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1,
                          aa_width, guides: ti.template(), state: ti.template(), events: ti.template(),
                          image: ti.template()):  # fmt: skip
        anchor, scale = kind.fill_frame(geometry)
        guide = load_guide(guides, row, kind.guide_size)
        for y in range(py0, py1 + 1):
            sx0, sx1, on_row = row_columns(kind, culling, geometry, guide, y, px0, px1, real, aa_width)
            for x in range(sx0, sx1 + 1):
                if mode.accepts(state, b, y, x, precision):
                    p = pixel_centre(x, y, real)
                    cov, _cov_grad = kind.coverage_grad(geometry, guide, on_row, p, aa_width)
                    if cov > 0.0:
                        colour, _inside, _offset = fill_at(base, slope, anchor, scale, p, linear)
                        mode.composite(state, events, image, entry, b, y, x, cov, opacity, colour, precision)

    segmented = any(kind.segmented for kind in kinds_present)
    t = ndarray_types(dtype, segmented)

    @ti.kernel
    def forward(
        table: t.table,
        kind_codes: t.kind_codes,
        background: t.background,
        guides: t.guides,
        footprints: t.footprints,
        row_offsets: t.row_offsets,
        entry_tiles: t.entry_tiles,
        entry_rows: t.entry_rows,
        tile_offsets: t.tile_offsets,
        tile_fill: t.tile_fill,
        tile_lists: t.tile_lists,
        state: t.state,
        events: t.events,
        background_weight: t.background_weight,
        image: t.image,
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
        record_count: t.record_count,
        aa_width: real,
        tile_size: ti.i32,
        spread: ti.i32,
    ):
        outline = ti.static(view_of(Outline, segmented, segments, segment_points, row_segments, row_rules, pieces,
                                    grid_offsets, grid, row_refs, entry_bases, entry_refs, refs))  # fmt: skip
        boundary = ti.static(view_of(Boundary, segmented, row_masks, records, record_points, record_count))
        if ti.static(segmented):
            record_count[0] = 0
        _, height, width, _ = image.shape
        n_prims = kind_codes.shape[0]
        bin_entries(
            kinds_present, culling, tile_size, aa_width, width, height, table=table, kind_codes=kind_codes,
            footprints=footprints, row_offsets=row_offsets, entry_tiles=entry_tiles, entry_rows=entry_rows,
            tile_offsets=tile_offsets, tile_fill=tile_fill, tile_lists=tile_lists, outline=outline,
        )  # fmt: skip
        for slot in range(tile_fill.shape[0] * spread):
            if slot % spread == 0:
                tile = slot // spread
                b, x0, y0, x1, y1 = tile_pixels(tile, width, height, tile_size)
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        mode.start(state, events, image, b, y, x)
                start, end = tile_offsets[tile], tile_offsets[tile + 1]
                for n in range(end - start):
                    # Depth order is ascending row; the layered modes walk front to back.
                    entry = tile_lists[end - 1 - n] if ti.static(mode.layered) else tile_lists[start + n]
                    row = entry_rows[entry]
                    geometry, base, slope, opacity = load_row(table, row)
                    px0, px1, py0, py1 = entry_pixels(culling, footprints, row, x0, y0, x1, y1)
                    with_kind(
                        kinds_present, kind_codes[row % n_prims], composite_entry,
                        (entry, row, b, geometry, base, slope, opacity, px0, px1, py0, py1, aa_width, guides, state,
                         events, image, n_prims, x0, y0, x1, y1, outline, boundary),
                    )  # fmt: skip
                bg = ti.Vector([background[b, c] for c in ti.static(range(3))])
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        background_weight[b, y, x] = mode.finish(state, events, image, b, y, x, bg)

    return forward
