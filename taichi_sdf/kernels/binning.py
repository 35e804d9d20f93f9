"""Tile binning: for every tile of every image of a batch, the exact list of primitives whose
anti-aliased footprint touches it, in depth (row) order.

Sizes come from a counting pass, so no tile has a fixed capacity and nothing is dropped:

1. :func:`count_kernel` (its own launch, as the entry arrays are sized from its total):
   per table row, its kind's guide (stored for the raster kernels), a footprint box and
   the number of tiles of its image that it touches; a scan turns the counts into each
   row's first entry;
2. :func:`bin_entries`, the first loops of the forward kernel: each row writes its (tile,
   row) entries; entries are counted per tile, scanned, scattered into per-tile slices of
   ``tile_lists`` and sorted there into depth order (the scatter's atomics scramble it).

Rows of a segmented kind (filled paths) bin as :mod:`taichi_sdf.kernels.paths` does: a
:func:`prepare_kernel` of their own before the count sizes their grids, the count and the
emit fill them, and their entries carry segment lists (``row_refs`` and ``entry_refs``
are their offsets, empty for the other kinds' rows and entries).

An entry is identified by its index in row-major emit order, so a row's entries are the
contiguous range ``row_offsets[row]:row_offsets[row + 1]``: the backward pass sums a
row's gradient over that range in a fixed order. A tile "touches" a row when the
rectangle spanned by the tile's pixel centres meets the row's footprint, the region where
its coverage is non-zero. Images of a batch are tiled one after the other; table row
``row`` belongs to image ``row // M`` (M primitives per scene, ``kind_codes.shape[0]``).
"""

import functools

import taichi as ti

from taichi_sdf.kernels import paths
from taichi_sdf.kernels.arrays import Outline, ndarray_types, view_of
from taichi_sdf.kernels.rows import load_geometry, store_values, tiles_across, with_kind


@ti.func
def _tile_index(x, last, tile_size):
    """Tile column (or row) of pixel coordinate ``x``, clamped to [0, last] in float
    before the cast, so that far off-screen primitives do not overflow."""
    return ti.cast(ti.floor(ti.math.clamp((x - 0.5) / tile_size, 0.0, last)), ti.i32)


@ti.func
def _row_tiles(
    kind: ti.template(),
    culling: ti.template(),
    emit: ti.template(),
    tile_size,
    row,
    n_prims,
    geometry,
    aa_width,
    width,
    height,
    footprints: ti.template(),
    entry_tiles: ti.template(),
    entry_rows: ti.template(),
    first,
):
    """Number of tiles of its image that the footprint of ``row`` (a ``kind`` of geometry
    ``geometry``) touches; with ``emit``, also writes them as entries ``first, first + 1, ...``."""
    tiles_x, tiles_y = tiles_across(width, tile_size), tiles_across(height, tile_size)
    tx0, ty0, tx1, ty1 = 0, 0, tiles_x - 1, tiles_y - 1
    if ti.static(culling):
        tx0 = _tile_index(footprints[row, 0], tiles_x - 1, tile_size)
        ty0 = _tile_index(footprints[row, 1], tiles_y - 1, tile_size)
        tx1 = _tile_index(footprints[row, 2], tiles_x - 1, tile_size)
        ty1 = _tile_index(footprints[row, 3], tiles_y - 1, tile_size)
    n = 0
    for ty in range(ty0, ty1 + 1):
        for tx in range(tx0, tx1 + 1):
            # The rectangle spanned by the tile's pixel centres.
            lo = ti.Vector([tx * tile_size + 0.5, ty * tile_size + 0.5])
            hi = ti.Vector([ti.min((tx + 1) * tile_size, width) - 0.5, ti.min((ty + 1) * tile_size, height) - 0.5])
            if ti.static(not culling) or kind.touches(geometry, aa_width, lo, hi):
                if ti.static(emit):
                    entry_tiles[first + n] = (row // n_prims * tiles_y + ty) * tiles_x + tx
                    entry_rows[first + n] = row
                n += 1
    return n


@ti.func
def _count_row(kind: ti.template(), culling: ti.template(), tile_size, row, n_prims, geometry, aa_width, width, height,
               guides: ti.template(), footprints: ti.template(), row_offsets: ti.template(),
               outline: ti.template()):  # fmt: skip
    """The guide and footprint box of ``row`` (a ``kind``), and the number of tiles it
    touches into ``row_offsets[row + 1]`` (a path row's were made by the prepare kernel,
    and its entries and segment references are counted on its grid)."""
    if ti.static(kind.segmented):
        paths.count_row(row, n_prims, aa_width, tile_size, width, height, outline, footprints, row_offsets)
    else:
        lo, hi = kind.footprint(geometry, aa_width)
        footprints[row, 0], footprints[row, 1], footprints[row, 2], footprints[row, 3] = lo[0], lo[1], hi[0], hi[1]
        store_values(guides, row, kind.guide(geometry, aa_width), kind.guide_size)
        row_offsets[row + 1] = _row_tiles(
            kind, culling, False, tile_size, row, n_prims, geometry, aa_width, width, height, footprints, row_offsets,
            row_offsets, 0,
        )  # fmt: skip
        if ti.static(outline):  # None without paths
            outline.row_refs[row + 1] = 0


@ti.func
def _emit_row(kind: ti.template(), culling: ti.template(), tile_size, row, n_prims, geometry, aa_width, width, height,
              footprints: ti.template(), row_offsets: ti.template(), entry_tiles: ti.template(),
              entry_rows: ti.template(), outline: ti.template()):  # fmt: skip
    """Write ``row``'s entries (a ``kind``) from ``row_offsets[row]`` on, each with where its
    segment list starts (none but a path's have one; ``outline`` is None in a scene without
    paths)."""
    if ti.static(kind.segmented):
        paths.emit_row(row, n_prims, aa_width, tile_size, width, height, outline, footprints, row_offsets, entry_tiles,
                       entry_rows)  # fmt: skip
    else:
        first = row_offsets[row]
        n = _row_tiles(kind, culling, True, tile_size, row, n_prims, geometry, aa_width, width, height, footprints,
                       entry_tiles, entry_rows, first)  # fmt: skip
        if ti.static(outline):  # None without paths
            for entry in range(first, first + n):
                outline.entry_refs[entry] = outline.row_refs[row]


@functools.cache
def count_kernel(kinds_present: tuple, culling: bool, dtype: str):
    """Kernel: the guide (see :mod:`taichi_sdf.kinds.base`) and footprint box (lo x, lo y,
    hi x, hi y) of every row, the tiles each touches, and their scan into
    ``row_offsets``. Returns the number of entries."""

    segmented = any(kind.segmented for kind in kinds_present)
    t, real = ndarray_types(dtype, segmented), {"f32": ti.f32, "f64": ti.f64}[dtype]

    @ti.kernel
    def count(
        table: t.table,
        kind_codes: t.kind_codes,
        guides: t.guides,
        footprints: t.footprints,
        row_offsets: t.row_offsets,
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
        aa_width: real,
        tile_size: ti.i32,
        width: ti.i32,
        height: ti.i32,
    ) -> ti.i32:
        outline = ti.static(view_of(Outline, segmented, segments, segment_points, row_segments, row_rules, pieces,
                                    grid_offsets, grid, row_refs, entry_bases, entry_refs, refs))  # fmt: skip
        n_prims = kind_codes.shape[0]
        for row in range(table.shape[0]):
            geometry = load_geometry(table, row)
            with_kind(
                kinds_present, kind_codes[row % n_prims], _count_row,
                (culling, tile_size, row, n_prims, geometry, aa_width, width, height, guides, footprints, row_offsets,
                 outline),
            )  # fmt: skip
            if row == 0:
                row_offsets[0] = 0
                if ti.static(segmented):
                    row_refs[0] = 0
        ti.loop_config(serialize=True)
        for row in range(table.shape[0]):
            row_offsets[row + 1] += row_offsets[row]
            if ti.static(segmented):
                row_refs[row + 1] += row_refs[row]
        return row_offsets[table.shape[0]]

    return count


@functools.cache
def prepare_kernel(kinds_present: tuple, dtype: str):
    """Kernel, where a scene has paths, before the count: each path row's pieces, fill
    frame (its guide), footprint box and grid (see :func:`taichi_sdf.kernels.paths.prepare_row`),
    the grids' sizes scanned into ``grid_offsets``. Returns the grids' total size and a
    bound on the paths' near pixels (the records their forward keeps)."""
    t, real = ndarray_types(dtype, True), {"f32": ti.f32, "f64": ti.f64}[dtype]
    segmented = tuple(kind for kind in kinds_present if kind.segmented)

    @ti.kernel
    def prepare(
        kind_codes: t.kind_codes,
        guides: t.guides,
        footprints: t.footprints,
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
        aa_width: real,
        tile_size: ti.i32,
        width: ti.i32,
        height: ti.i32,
    ) -> ti.types.vector(2, ti.i32):
        outline = ti.static(Outline(segments, segment_points, row_segments, row_rules, pieces, grid_offsets,
                                          grid, row_refs, entry_bases, entry_refs, refs))  # fmt: skip
        n_prims = kind_codes.shape[0]
        records = 0
        for row in range(grid_offsets.shape[0] - 1):
            grid_offsets[row + 1] = 0
            for kind in ti.static(segmented):
                if kind_codes[row % n_prims] == kind.code:
                    records += paths.prepare_row(row, n_prims, aa_width, tile_size, width, height, outline, guides,
                                                 footprints)  # fmt: skip
        grid_offsets[0] = 0
        ti.loop_config(serialize=True)
        for row in range(grid_offsets.shape[0] - 1):
            grid_offsets[row + 1] += grid_offsets[row]
        return ti.Vector([grid_offsets[grid_offsets.shape[0] - 1], records])

    return prepare


@ti.func
def bin_entries(
    kinds_present: ti.template(),
    culling: ti.template(),
    tile_size,
    aa_width,
    width,
    height,
    table: ti.template(),
    kind_codes: ti.template(),
    footprints: ti.template(),
    row_offsets: ti.template(),
    entry_tiles: ti.template(),
    entry_rows: ti.template(),
    tile_offsets: ti.template(),
    tile_fill: ti.template(),
    tile_lists: ti.template(),
    outline: ti.template(),
):
    """Emit every row's entries and gather them into depth-ordered per-tile lists:
    ``tile_lists[tile_offsets[t]:tile_offsets[t + 1]]`` are the entries of tile t."""
    n_entries = row_offsets[table.shape[0]]
    n_tiles = tile_fill.shape[0]
    n_prims = kind_codes.shape[0]
    for row in range(table.shape[0]):
        geometry = load_geometry(table, row)
        with_kind(
            kinds_present, kind_codes[row % n_prims], _emit_row,
            (culling, tile_size, row, n_prims, geometry, aa_width, width, height, footprints, row_offsets, entry_tiles,
             entry_rows, outline),
        )  # fmt: skip
    if ti.static(outline):  # None without paths
        outline.entry_refs[n_entries] = outline.row_refs[table.shape[0]]
    for tile in range(n_tiles):
        tile_fill[tile] = 0
    # Counted in a loop of its own: an atomic add inside the emit loop miscompiled on
    # Vulkan (Mesa lavapipe), dropping iterations.
    for entry in range(n_entries):
        ti.atomic_add(tile_fill[entry_tiles[entry]], 1)
    ti.loop_config(serialize=True)
    for tile in range(n_tiles + 1):
        if tile == 0:
            tile_offsets[0] = 0
        else:
            tile_offsets[tile] = tile_offsets[tile - 1] + tile_fill[tile - 1]
    for tile in range(n_tiles):
        tile_fill[tile] = 0  # now each tile's fill cursor
    for entry in range(n_entries):
        tile = entry_tiles[entry]
        tile_lists[tile_offsets[tile] + ti.atomic_add(tile_fill[tile], 1)] = entry
    for tile in range(n_tiles):  # insertion sort: the lists are short and nearly sorted
        start = tile_offsets[tile]
        for a in range(start + 1, tile_offsets[tile + 1]):
            value = tile_lists[a]
            b = a
            while b > start and tile_lists[b - 1] > value:
                tile_lists[b] = tile_lists[b - 1]
                b -= 1
            tile_lists[b] = value
