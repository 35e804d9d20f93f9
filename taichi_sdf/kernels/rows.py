"""What the raster kernels share: tiles and their pixels, table rows and fill colours."""

import taichi as ti

from taichi_sdf.buffers import on_cpu
from taichi_sdf.funcs.shading import unit_clamp
from taichi_sdf.table import COLOUR, GEOMETRY_SIZE, OPACITY, SLOPE

# Taichi's CPU backend hands a parallel loop to its threads in blocks of 512 iterations
# (whatever the loop's block_dim), so a loop over fewer tiles than that runs on one thread.
# On the CPU a loop over tiles therefore runs over ``spread`` slots per tile and works on
# the first: about CPU_SLOTS slots in all, 16 blocks to balance over the threads. GPUs
# schedule every iteration (spread 1).
CPU_SLOTS = 16 * 512
UNROLL_RUN = 32  # the longest loop Taichi unrolls without a warning


def spread_for(n_tiles: int) -> int:
    """Loop slots per tile for ``n_tiles`` tiles on the current arch (see CPU_SLOTS)."""
    return max(1, -(-CPU_SLOTS // n_tiles)) if on_cpu() else 1


@ti.func
def with_kind(kinds_present: ti.template(), code, body: ti.template(), args: ti.template()):
    """``body(kind, *args)`` for the kind of ``kinds_present`` (the Kind objects a scene
    uses) whose code is ``code``: the test is unrolled over the kinds at compile time, so
    ``body`` is compiled once per kind, with the kind's functions inlined. What ``body``
    returns is dropped: it writes its results into arrays, or into variables of the
    caller that it takes as ``ti.template()`` (Taichi passes those by reference)."""
    for kind in ti.static(kinds_present):
        if code == kind.code:
            body(kind, *args)


@ti.func
def tiles_across(extent, tile_size):
    return (extent + tile_size - 1) // tile_size


@ti.func
def tile_pixels(tile, width, height, tile_size):
    """Image index and pixel range [x0, x1) x [y0, y1) of global tile ``tile`` (tiles are
    numbered image by image, row-major within an image)."""
    tiles_x = tiles_across(width, tile_size)
    per_image = tiles_x * tiles_across(height, tile_size)
    image, local = tile // per_image, tile % per_image
    x0, y0 = (local % tiles_x) * tile_size, (local // tiles_x) * tile_size
    return image, x0, y0, ti.min(x0 + tile_size, width), ti.min(y0 + tile_size, height)


@ti.func
def entry_pixels(culling: ti.template(), footprints: ti.template(), row, x0, y0, x1, y1):
    """The pixels of tile [x0, x1) x [y0, y1) that the row's footprint box may cover,
    (first column, last column, first row, last row) inclusive; with culling off (the
    dense baseline) the whole tile."""
    px0, px1, py0, py1 = x0, x1 - 1, y0, y1 - 1
    if ti.static(culling):
        lo_x = ti.math.clamp(footprints[row, 0] - 0.5, x0, x1)
        lo_y = ti.math.clamp(footprints[row, 1] - 0.5, y0, y1)
        hi_x = ti.math.clamp(footprints[row, 2] - 0.5, x0 - 1, x1 - 1)
        hi_y = ti.math.clamp(footprints[row, 3] - 0.5, y0 - 1, y1 - 1)
        px0, px1 = ti.cast(ti.floor(lo_x), ti.i32), ti.cast(ti.ceil(hi_x), ti.i32)
        py0, py1 = ti.cast(ti.floor(lo_y), ti.i32), ti.cast(ti.ceil(hi_y), ti.i32)
    return px0, px1, py0, py1


@ti.func
def row_columns(kind: ti.template(), culling: ti.template(), geometry, guide, y, px0, px1, dtype: ti.template(),
                aa_width):  # fmt: skip
    """The columns of [px0, px1] (inclusive) on pixel row ``y`` whose centre (j + 0.5) may
    lie in the kind's row span (``guide`` from the kind's ``guide``), with culling off all
    of them, and what the row's pixels share (the kind's ``row_pixels``, see
    :mod:`taichi_sdf.kinds.base`)."""
    first, last = px0, px1
    lo, hi, spans = kind.row_span(guide, ti.cast(y, dtype) + 0.5)
    if ti.static(culling):
        first = ti.cast(ti.floor(ti.math.clamp(lo - 0.5, px0, px1 + 1)), ti.i32)
        last = ti.cast(ti.ceil(ti.math.clamp(hi - 0.5, px0 - 1, px1)), ti.i32)
    start = pixel_centre(first, y, dtype)
    return first, last, kind.row_pixels(geometry, guide, spans, start[1], start[0], last - first + 1, aa_width)


@ti.func
def pixel_centre(x, y, dtype: ti.template()):
    return ti.Vector([ti.cast(x, dtype) + 0.5, ti.cast(y, dtype) + 0.5])


@ti.func
def load_geometry(table: ti.template(), row):
    """The geometry columns of a table row, as a vector."""
    return ti.Vector([table[row, c] for c in ti.static(range(GEOMETRY_SIZE))])


@ti.func
def store_values(array: ti.template(), row, values, size: ti.template()):
    """Store the first ``size`` entries of the vector ``values`` in row ``row`` of the 2-D
    ``array`` (a kind's guide, a path segment's pieces)."""
    # Unrolled in runs of at most UNROLL_RUN (a curve's guide is longer), which Taichi
    # compiles without its warning about long unrolled loops.
    for start in ti.static(range(0, size, UNROLL_RUN)):
        for i in ti.static(range(start, min(start + UNROLL_RUN, size))):
            array[row, i] = values[i]


@ti.func
def load_guide(guides: ti.template(), row, size: ti.template()):
    """The row's guide (a vector of ``size`` values), as :func:`store_values` stored it."""
    return ti.Vector([guides[row, i] for i in ti.static(range(size))])


@ti.func
def load_row(table: ti.template(), row):
    """Geometry (vector), base colour, 3x2 colour slope and opacity of a table row."""
    geometry = load_geometry(table, row)
    base = ti.Vector([table[row, COLOUR + c] for c in ti.static(range(3))])
    slope = ti.Matrix([[table[row, SLOPE + 2 * r + c] for c in ti.static(range(2))] for r in ti.static(range(3))])
    return geometry, base, slope, table[row, OPACITY]


@ti.func
def fill_at(base, slope, anchor, scale, p, linear: ti.template()):
    """Fill colour at ``p`` (clamped to [0, 1]), where each channel is not clamped (1.0)
    or clamped (0.0), and the fill coordinate ``(p - anchor) / scale``."""
    offset = (p - anchor) * (1.0 / scale)  # one reciprocal for all pixels (if fast math keeps it)
    colour = base
    if ti.static(linear):
        colour = base + slope @ offset
    inside = ti.select((colour >= 0.0) & (colour <= 1.0), 1.0, 0.0)
    return unit_clamp(colour), inside, offset
