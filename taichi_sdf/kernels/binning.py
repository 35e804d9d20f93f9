"""Tile binning: for every screen tile, the exact list of primitives whose anti-aliased
footprint touches it, in depth (index) order.

Sizes come from a counting pass, so no tile has a fixed capacity and nothing is dropped:

1. ``count_entries``: per primitive, the number of tiles its footprint touches;
2. ``exclusive_scan``: offsets of each primitive's entries in one flat array;
3. ``emit_entries``: each primitive writes its (tile, primitive) entries;
4. ``count_tile_entries``, ``exclusive_scan`` over tiles, ``scatter_entries`` into per-tile slices and
   ``sort_tiles`` to restore depth order inside each slice (atomics scramble it).

A tile "touches" a primitive when the rectangle spanned by the tile's pixel centres meets
the primitive's footprint, the region where its coverage is non-zero.
"""

import functools

import taichi as ti

from taichi_sdf.kernels.primitives import GEOMETRY, bounding_circle, touches_rect


@ti.func
def tile_pixel_rect(tx, ty, tile_size: ti.template(), width, height):
    """Corners (lo, hi) of the rectangle spanned by the pixel centres of tile (tx, ty)."""
    lo = ti.Vector([tx * tile_size + 0.5, ty * tile_size + 0.5])
    hi = ti.Vector([ti.min((tx + 1) * tile_size, width) - 0.5, ti.min((ty + 1) * tile_size, height) - 0.5])
    return lo, hi


@functools.cache
def binning_kernels(tile_size: int, aa_width: float, culling: bool, fields: bool):
    """Kernels binning the primitive table into ``tile_size`` tiles.

    With ``culling=False`` every primitive is listed in every tile: the dense baseline that
    benchmarks compare against. ``fields`` says whether the table is a field (see
    ``raster_kernels``).
    """
    Buffer = ti.template() if fields else ti.types.ndarray()

    @ti.func
    def tiles_across(extent):
        return (extent + tile_size - 1) // tile_size

    @ti.func
    def tile_index(x, last):
        """Tile column (or row) holding coordinate ``x``, clamped to [0, last]."""
        return ti.cast(ti.floor(ti.math.clamp(x / tile_size, 0.0, last * 1.0)), ti.i32)

    @ti.func
    def candidate_tiles(centre, reach, width, height):
        """Inclusive tile range (tx0, ty0, tx1, ty1) of a footprint's bounding box."""
        last_x = tiles_across(width) - 1
        last_y = tiles_across(height) - 1
        # Pixel column j has its centre at j + 0.5. Clamping in float before the cast
        # keeps far off-screen circles from overflowing; `touches` then rejects them.
        lo = centre - reach - 0.5
        hi = centre + reach - 0.5
        if ti.static(not culling):
            lo, hi = ti.Vector([0.0, 0.0]), ti.Vector([width, height])
        return (
            tile_index(lo[0], last_x),
            tile_index(lo[1], last_y),
            tile_index(hi[0], last_x),
            tile_index(hi[1], last_y),
        )

    @ti.func
    def touches(table: ti.template(), kinds: ti.template(), i, tx, ty, width, height):
        """Whether primitive ``i``'s footprint reaches the pixel centres of tile (tx, ty)."""
        result = True
        if ti.static(culling):
            geometry = ti.Vector([table[i, GEOMETRY + c] for c in ti.static(range(6))])
            lo, hi = tile_pixel_rect(tx, ty, tile_size, width, height)
            result = touches_rect(kinds[i], geometry, aa_width, lo, hi)
        return result

    @ti.kernel
    def count_entries(
        table: Buffer,
        kinds: ti.types.ndarray(),
        width: ti.i32,
        height: ti.i32,
        footprints: ti.types.ndarray(),
        counts: ti.types.ndarray(),
    ):
        """Per primitive: a bounding circle (cx, cy, reach) of its footprint followed by a
        copy of its geometry (for non-differentiated tests), and the number of tiles the
        footprint touches."""
        for i in range(table.shape[0]):
            geometry = ti.Vector([table[i, GEOMETRY + c] for c in ti.static(range(6))])
            centre, reach = bounding_circle(kinds[i], geometry, aa_width)
            footprints[i, 0] = centre[0]
            footprints[i, 1] = centre[1]
            footprints[i, 2] = reach
            for c in ti.static(range(6)):
                footprints[i, 3 + c] = geometry[c]
            tx0, ty0, tx1, ty1 = candidate_tiles(centre, reach, width, height)
            n = 0
            for ty in range(ty0, ty1 + 1):
                for tx in range(tx0, tx1 + 1):
                    if touches(table, kinds, i, tx, ty, width, height):
                        n += 1
            counts[i] = n

    @ti.kernel
    def emit_entries(
        table: Buffer,
        kinds: ti.types.ndarray(),
        width: ti.i32,
        height: ti.i32,
        footprints: ti.types.ndarray(),
        offsets: ti.types.ndarray(),
        entry_tile: ti.types.ndarray(),
        entry_prim: ti.types.ndarray(),
    ):
        tiles_x = tiles_across(width)
        for i in range(table.shape[0]):
            centre = ti.Vector([footprints[i, 0], footprints[i, 1]])
            tx0, ty0, tx1, ty1 = candidate_tiles(centre, footprints[i, 2], width, height)
            n = 0
            for ty in range(ty0, ty1 + 1):
                for tx in range(tx0, tx1 + 1):
                    if touches(table, kinds, i, tx, ty, width, height):
                        entry_tile[offsets[i] + n] = ty * tiles_x + tx
                        entry_prim[offsets[i] + n] = i
                        n += 1

    return count_entries, emit_entries


@ti.kernel
def exclusive_scan(counts: ti.types.ndarray(), offsets: ti.types.ndarray()) -> ti.i32:
    """offsets[k] = sum(counts[:k]) for k in 0..n; returns the total. Serial: n is small."""
    total = 0
    ti.loop_config(serialize=True)
    for k in range(counts.shape[0]):
        offsets[k] = total
        total += counts[k]
    offsets[counts.shape[0]] = total
    return total


@ti.kernel
def count_tile_entries(n_entries: ti.i32, entry_tile: ti.types.ndarray(), tile_counts: ti.types.ndarray()):
    """tile_counts[t] += number of entries in tile t.

    A kernel of its own: the atomic add inside ``emit_entries``' loop miscompiled on
    Vulkan (Mesa lavapipe), dropping iterations.
    """
    for k in range(n_entries):
        ti.atomic_add(tile_counts[entry_tile[k]], 1)


@ti.kernel
def scatter_entries(
    n_entries: ti.i32,
    entry_tile: ti.types.ndarray(),
    entry_prim: ti.types.ndarray(),
    tile_offsets: ti.types.ndarray(),
    tile_fill: ti.types.ndarray(),
    tile_lists: ti.types.ndarray(),
    list_tiles: ti.types.ndarray(),
):
    """Move each (tile, primitive) entry into its tile's slice of ``tile_lists``, and
    record in ``list_tiles`` the tile of every slot."""
    for k in range(n_entries):
        tile = entry_tile[k]
        slot = tile_offsets[tile] + ti.atomic_add(tile_fill[tile], 1)
        tile_lists[slot] = entry_prim[k]
        list_tiles[slot] = tile


@ti.kernel
def sort_tiles(tile_offsets: ti.types.ndarray(), tile_lists: ti.types.ndarray()):
    """Insertion-sort each tile's slice by primitive index (depth order)."""
    for tile in range(tile_offsets.shape[0] - 1):
        start = tile_offsets[tile]
        for a in range(start + 1, tile_offsets[tile + 1]):
            value = tile_lists[a]
            b = a
            while b > start and tile_lists[b - 1] > value:
                tile_lists[b] = tile_lists[b - 1]
                b -= 1
            tile_lists[b] = value
