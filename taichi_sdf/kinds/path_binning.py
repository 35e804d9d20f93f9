"""Binning a filled path: its (tile, path) entries, each entry's segments and winding base.

A path's tiles are those of its box (its control points grown by the reach, the
anti-aliasing band's width), and each is one of three: a *band* tile, which some segment's
pieces (their control points' hulls grown by the reach) come near, an entry listing those
segments; an *interior* tile, which no segment comes near and whose winding number is
filled, an entry with no segments (a flat fill); or an empty one, no entry. Nothing that
is covered is dropped: a pixel the path covers is within the reach of a segment or has a
filled winding number.

The winding number at each tile's top-left corner (its *backdrop*, as Vello and WebRender
carry it) comes without visiting pixels: every part of a piece that crosses a tile row's
top line (by the half-open rule of :mod:`taichi_sdf.funcs.winding`) at x adds its sign to
every tile of that row whose left side lies right of x, a step at one column that a sum
along the row spreads. An entry's winding base is its backdrop less what its own segments
add at the corner (their crossings left of it, taken from the same crossings, and their
:func:`~taichi_sdf.funcs.winding.end_steps`), so that the winding number anywhere in the
tile's reach is the base plus what its segments add there (see
:mod:`taichi_sdf.kinds.path_entry`).

The work is one thread per path, over a grid of the path's box in tiles (``GRID_FIELDS``
integers a tile, from ``grid_offsets[row]`` on): a counting pass (:func:`count_path`) sizes
the entries and segment lists, and an emitting pass (:func:`emit_path`) writes them; both
walk the segments in order, so an entry's segments are listed in segment order. The grid
is the thread's own, so it adds by load and store, never ``+=``: an atomic add there, in
loops and branches, made Taichi 1.7.4's SPIR-V (Vulkan, lavapipe) leave the thread's
remaining code unrun (paths came out empty).
"""

import taichi as ti

from taichi_sdf.funcs.winding import end_steps, filled, load_piece, load_turn, piece_crossings, segment_piece_count
from taichi_sdf.kinds.pen import hull_near_rect

BACKDROP, REFS, STAMP, CORRECTION, CURSOR = 0, 1, 2, 3, 4  # a grid tile's integers
GRID_FIELDS = 5
FAR = 1e30


@ti.func
def segments_box(pieces: ti.template(), first, end, reach):
    """The box (lo, hi) of the pieces of segments first .. end - 1 (global rows of the
    pieces table), grown by ``reach``."""
    lo, hi = ti.Vector([FAR, FAR]) + 0.0 * reach, ti.Vector([-FAR, -FAR]) + 0.0 * reach
    for s in range(first, end):
        segment_lo, segment_hi = _segment_box(pieces, s)
        lo, hi = ti.min(lo, segment_lo), ti.max(hi, segment_hi)
    return lo - reach, hi + reach


@ti.func
def _segment_box(pieces: ti.template(), s):
    """The box (lo, hi) of the control points of segment ``s``'s pieces."""
    lo, hi = ti.Vector([FAR, FAR]) + 0.0 * pieces[s, 0], ti.Vector([-FAR, -FAR]) + 0.0 * pieces[s, 0]
    for j in range(segment_piece_count(pieces, s)):
        a, b, c = load_piece(pieces, s, j)
        lo, hi = ti.min(lo, a, b, c), ti.max(hi, a, b, c)
    return lo, hi


@ti.func
def tile_box(lo, hi, tile_size, width, height):
    """The tiles (tx0, ty0, tx1, ty1, inclusive) whose area meets the box [lo, hi], within
    the image (empty, tx0 > tx1 or ty0 > ty1, where none)."""
    tiles_x, tiles_y = (width + tile_size - 1) // tile_size, (height + tile_size - 1) // tile_size
    tx0 = ti.cast(ti.floor(ti.math.clamp(lo[0] / tile_size, 0.0, tiles_x)), ti.i32)
    ty0 = ti.cast(ti.floor(ti.math.clamp(lo[1] / tile_size, 0.0, tiles_y)), ti.i32)
    tx1 = ti.cast(ti.floor(ti.math.clamp(hi[0] / tile_size, -1.0, tiles_x - 1.0)), ti.i32)
    ty1 = ti.cast(ti.floor(ti.math.clamp(hi[1] / tile_size, -1.0, tiles_y - 1.0)), ti.i32)
    return ti.Vector([tx0, ty0, tx1, ty1])


@ti.func
def _within(lo, hi, tile_size, box):
    """The tiles of the grid ``box`` (tx0, ty0, tx1, ty1) whose area meets [lo, hi]."""
    tx0 = ti.max(box[0], ti.cast(ti.floor(ti.math.clamp(lo[0] / tile_size, box[0], box[2] + 1.0)), ti.i32))
    ty0 = ti.max(box[1], ti.cast(ti.floor(ti.math.clamp(lo[1] / tile_size, box[1], box[3] + 1.0)), ti.i32))
    tx1 = ti.min(box[2], ti.cast(ti.floor(ti.math.clamp(hi[0] / tile_size, box[0] - 1.0, box[2])), ti.i32))
    ty1 = ti.min(box[3], ti.cast(ti.floor(ti.math.clamp(hi[1] / tile_size, box[1] - 1.0, box[3])), ti.i32))
    return ti.Vector([tx0, ty0, tx1, ty1])


@ti.func
def _cell(at, box, tx, ty):
    """The grid row of tile (tx, ty) of a grid from ``at`` covering ``box``."""
    return at + (ty - box[1]) * (box[2] - box[0] + 1) + tx - box[0]


@ti.func
def _piece_touches(a, b, c, reach, tile_size, tx, ty):
    """Whether the hull of the piece's control points, grown by ``reach``, meets the area of
    tile (tx, ty)."""
    hull = ti.Vector([a[0], a[1], b[0], b[1], c[0], c[1]])
    lo = ti.Vector([tx * tile_size, ty * tile_size]) + 0.0 * a[0]
    return hull_near_rect(hull, 3, reach, lo, lo + tile_size)


@ti.func
def _segment_tiles(pieces: ti.template(), s, reach, tile_size, box):
    """The grid tiles that the box of segment ``s``'s pieces, grown by ``reach``, meets."""
    lo, hi = _segment_box(pieces, s)
    return _within(lo - reach, hi + reach, tile_size, box)


@ti.func
def _mark(grid: ti.template(), at, box, pieces: ti.template(), s, reach, tile_size, stamp):
    """Stamp with ``stamp`` each grid tile that a piece of segment ``s`` comes near, once;
    how many it newly stamped."""
    marked = 0
    for j in range(segment_piece_count(pieces, s)):
        a, b, c = load_piece(pieces, s, j)
        near = _within(ti.min(a, b, c) - reach, ti.max(a, b, c) + reach, tile_size, box)
        for ty in range(near[1], near[3] + 1):
            for tx in range(near[0], near[2] + 1):
                cell = _cell(at, box, tx, ty)
                if grid[cell, STAMP] != stamp and _piece_touches(a, b, c, reach, tile_size, tx, ty):
                    grid[cell, STAMP] = stamp
                    marked += 1
    return marked


@ti.func
def count_path(pieces: ti.template(), first, end, rule, reach, tile_size, box, grid: ti.template(), at):
    """Fill the grid (from row ``at``, covering the tiles of ``box``) of the path whose
    segments are first .. end - 1 (global rows of the pieces table) under fill ``rule``:
    per tile its backdrop, its number of segments and the correction that turns its
    backdrop into its entry's winding base. Returns the path's number of entries and of
    segment references."""
    width = box[2] - box[0] + 1
    for cell in range(at, at + width * (box[3] - box[1] + 1)):
        grid[cell, BACKDROP], grid[cell, REFS], grid[cell, STAMP], grid[cell, CORRECTION] = 0, 0, -1, 0
    for s in range(first, end):
        _mark(grid, at, box, pieces, s, reach, tile_size, s)
        near = _segment_tiles(pieces, s, reach, tile_size, box)
        for ty in range(near[1], near[3] + 1):
            for tx in range(near[0], near[2] + 1):
                cell = _cell(at, box, tx, ty)
                if grid[cell, STAMP] == s:
                    grid[cell, REFS] = grid[cell, REFS] + 1
                    corner = ti.Vector([tx, ty]) * tile_size + 0.0 * reach
                    grid[cell, CORRECTION] = grid[cell, CORRECTION] + end_steps(pieces, s, corner[0], corner[1])
        for j in range(segment_piece_count(pieces, s)):
            a, b, c = load_piece(pieces, s, j)
            lines = _within(ti.min(a, b, c), ti.max(a, b, c), tile_size, box)
            # Tile row ty's top line, ty * tile_size, lies in the piece's box iff ty - 1 < y / size <= ty.
            line0 = ti.max(
                box[1], ti.cast(ti.ceil(ti.math.clamp(ti.min(a, b, c)[1] / tile_size, box[1], box[3] + 1.0)), ti.i32)
            )
            for ty in range(line0, lines[3] + 1):
                y0 = ty * tile_size + 0.0 * a[0]
                xs, signs = piece_crossings(a, b, c, *load_turn(pieces, s, j), y0)
                for k in ti.static(range(2)):
                    if signs[k] != 0:
                        # It crosses left of the left side of the tiles from column ``column`` on.
                        column = (
                            ti.cast(ti.floor(ti.math.clamp(xs[k] / tile_size, box[0] - 1.0, box[2] + 1.0)), ti.i32) + 1
                        )
                        if column <= box[2]:
                            step_cell = _cell(at, box, ti.max(column, box[0]), ty)
                            grid[step_cell, BACKDROP] = grid[step_cell, BACKDROP] + signs[k]
                        for tx in range(ti.max(column, near[0]), near[2] + 1):  # its own tiles: its share
                            cell = _cell(at, box, tx, ty)
                            if grid[cell, STAMP] == s:
                                grid[cell, CORRECTION] = grid[cell, CORRECTION] + signs[k]
    entries, refs = 0, 0
    for ty in range(box[1], box[3] + 1):
        backdrop = 0
        for tx in range(box[0], box[2] + 1):
            cell = _cell(at, box, tx, ty)
            backdrop += grid[cell, BACKDROP]
            grid[cell, BACKDROP] = backdrop
            if grid[cell, REFS] > 0 or filled(backdrop, rule):
                entries += 1
                refs += grid[cell, REFS]
    return entries, refs


@ti.func
def emit_path(pieces: ti.template(), first, end, rule, reach, tile_size, box, grid: ti.template(), at, tile_base,
              tiles_x, row, first_entry, first_ref, entry_tiles: ti.template(), entry_rows: ti.template(),
              entry_bases: ti.template(), entry_refs: ti.template(), refs: ti.template()):  # fmt: skip
    """Write the entries that :func:`count_path` counted (from ``first_entry`` on; tile
    numbers from ``tile_base``, ``tiles_x`` a row) with their winding bases and the start
    of their segment lists (from ``first_ref`` on), and the lists (global segment rows)."""
    n, ref = 0, first_ref
    for ty in range(box[1], box[3] + 1):
        for tx in range(box[0], box[2] + 1):
            cell = _cell(at, box, tx, ty)
            if grid[cell, REFS] > 0 or filled(grid[cell, BACKDROP], rule):
                entry = first_entry + n
                entry_tiles[entry], entry_rows[entry] = tile_base + ty * tiles_x + tx, row
                entry_bases[entry], entry_refs[entry] = grid[cell, BACKDROP] - grid[cell, CORRECTION], ref
                grid[cell, CURSOR] = ref
                for slot in range(ref, ref + grid[cell, REFS]):
                    refs[slot] = first  # a segment that exists, should the lists below fall short
                ref += grid[cell, REFS]
                n += 1
    for s in range(first, end):
        _mark(grid, at, box, pieces, s, reach, tile_size, -2 - s)  # the count's stamps are >= -1
        near = _segment_tiles(pieces, s, reach, tile_size, box)
        for ty in range(near[1], near[3] + 1):
            for tx in range(near[0], near[2] + 1):
                cell = _cell(at, box, tx, ty)
                # Its slot, unless the count saw this tile's segments otherwise (they would
                # be the same arithmetic compiled twice): then the list keeps what it has.
                if grid[cell, STAMP] == -2 - s and grid[cell, REFS] > 0:
                    refs[grid[cell, CURSOR]] = s
                    grid[cell, CURSOR] = grid[cell, CURSOR] + 1
                    grid[cell, REFS] = grid[cell, REFS] - 1
