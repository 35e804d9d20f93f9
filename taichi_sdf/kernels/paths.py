"""The segmented kind (filled paths) in the kernels: what the binning, the forward and the
backward pass do with a path's table row and its (tile, path) entries, and how its
segments' gradients are summed.

A path row's geometry lives in the segment table (:class:`~taichi_sdf.kernels.arrays.OutlineArrays`):
its segments are ``row_segments[m]:row_segments[m + 1]`` of each image's Q (global rows
``b Q + q``), drawn as the quadratic pieces in ``pieces``. Per row the binning sizes and
fills a grid of the path's box in tiles and emits its entries
(:mod:`taichi_sdf.kinds.path_binning`); each entry lists its segments
(``refs[entry_refs[e]:entry_refs[e + 1]]``) and carries a winding base, from which the
forward pass takes each pixel's coverage (:mod:`taichi_sdf.kinds.path_entry`). An entry
without segments is an interior tile: coverage 1 at every pixel, a flat fill.

The forward keeps, per row of an entry's pixels, which are filled and which lie within the
band (near), and per near pixel its nearest boundary point
(:class:`~taichi_sdf.kernels.arrays.BoundaryArrays`); the backward reads them and sets up
no row again (the rows' setup is about 40 % of a path's forward pass). The records of a row
are placed by an atomic count (see :func:`packs_records`), in any order of rows; what they
hold, and so every sum of the backward, is the same on any number of threads.

The backward pass sums each entry's gradient of its segments' control points over its
pixels into the entry's own slots (``ref_grads``, one per listed segment), and a last loop
sums each path's slots into its segments in entry order and adds what its linear fill's
frame (the mean and RMS of the segments' start points, kept in the row's guide) gives
them: bitwise the same on any number of threads, as the rows' sums are. Each slot and
segment is one thread's, so the sums load and store (see
:mod:`taichi_sdf.kinds.path_binning` for why not ``+=``).
"""

import taichi as ti

from taichi_sdf.buffers import on_cpu
from taichi_sdf.funcs.coverage import coverage
from taichi_sdf.funcs.winding import PIECES_SIZE, SEGMENT_SIZE, load_piece, segment_piece_count, segment_pieces
from taichi_sdf.kernels.rows import fill_at, pixel_centre, store_values
from taichi_sdf.kinds.path import FRAME_FLOOR
from taichi_sdf.kinds.path_binning import count_path, emit_path, segments_box, tile_box
from taichi_sdf.kinds.path_entry import MEETING, NONE, coverage_grad, path_row, pixel_coverage, pixel_state
from taichi_sdf.table import COLOUR

KIND_CODES = 4  # a record packs its piece and what its point is (NONE...) as piece * KIND_CODES + kind


def packs_records() -> bool:
    """Whether the forward packs its records by an atomic count of them (on the CPU and CUDA)
    or gives each row of an entry's tile a record per pixel (on other GPU archs: in the tile
    loop, Mesa's Vulkan miscompiled the count, which dropped the whole loop)."""
    return on_cpu() or ti.lang.impl.current_cfg().arch == ti.cuda


def record_room(near_pixels: int, entries: int, tile_size: int) -> int:
    """The records a frame of ``entries`` entries makes room for, given a bound on its paths'
    near pixels (see :func:`prepare_row`)."""
    return max(near_pixels if packs_records() else entries * tile_size * tile_size, 1)


@ti.func
def segment_range(row, n_prims, outline: ti.template()):
    """Global rows first .. end - 1 of the segment table that table row ``row``'s path draws."""
    segment_points, row_segments = ti.static(outline.segment_points, outline.row_segments)
    m, base = row % n_prims, row // n_prims * segment_points.shape[0]
    return base + row_segments[m], base + row_segments[m + 1]


@ti.func
def _box(footprints: ti.template(), row, tile_size, width, height):
    """The path row's grid: the tiles its footprint box meets."""
    lo, hi = ti.Vector([footprints[row, 0], footprints[row, 1]]), ti.Vector([footprints[row, 2], footprints[row, 3]])
    return tile_box(lo, hi, tile_size, width, height)


@ti.func
def prepare_row(row, n_prims, aa_width, tile_size, width, height, outline: ti.template(), guides: ti.template(),
                footprints: ti.template()):  # fmt: skip
    """A path row's pieces, its linear fill's frame (its guide: anchor x, y and size), its
    footprint box (its pieces grown by the band) and its grid's size into
    ``grid_offsets[row + 1]``; returns a bound on its near pixels (the records its entries
    keep, see :func:`composite_entry`)."""
    segments, pieces, segment_points = ti.static(outline.segments, outline.pieces, outline.segment_points)
    first, end = segment_range(row, n_prims, outline)
    anchor = ti.Vector([0.0, 0.0]) + 0.0 * aa_width
    for s in range(first, end):
        segment = ti.Vector([segments[s, i] for i in ti.static(range(SEGMENT_SIZE))])
        store_values(pieces, s, segment_pieces(segment, segment_points[s % segment_points.shape[0]]), PIECES_SIZE)
        anchor += ti.Vector([segment[0], segment[1]])
    anchor /= end - first
    spread = 0.0 * aa_width
    for s in range(first, end):
        spread += (ti.Vector([segments[s, 0], segments[s, 1]]) - anchor).norm_sqr()
    guides[row, 0], guides[row, 1] = anchor[0], anchor[1]
    guides[row, 2] = ti.sqrt(spread / (end - first) + FRAME_FLOOR)
    lo, hi = segments_box(pieces, first, end, aa_width)
    footprints[row, 0], footprints[row, 1], footprints[row, 2], footprints[row, 3] = lo[0], lo[1], hi[0], hi[1]
    box = tile_box(lo, hi, tile_size, width, height)
    outline.grid_offsets[row + 1] = ti.max(0, box[2] - box[0] + 1) * ti.max(0, box[3] - box[1] + 1)
    return _near_pixels_bound(pieces, first, end, aa_width, lo, hi, width, height)


@ti.func
def _near_pixels_bound(pieces: ti.template(), first, end, cutoff, lo, hi, width, height):
    """A bound on the pixels within ``cutoff`` of the pieces of segments first .. end - 1
    (their box grown by the cutoff is [lo, hi]): the unit squares about such pixels'
    centres do not overlap and lie within r = cutoff + sqrt(1/2) of a piece, so a piece
    no longer than L (its control polygon's length) has at most 2 r L + pi r^2 of them;
    and there are no more than the pixels of the image that the box holds."""
    r = cutoff + 0.7072
    total = 0.0 * cutoff
    for s in range(first, end):
        for j in range(segment_piece_count(pieces, s)):
            a, b, c = load_piece(pieces, s, j)
            total += 2.0 * r * ((b - a).norm() + (c - b).norm()) + ti.math.pi * r * r
    across = ti.math.clamp(hi[0] - lo[0] + 1.0, 0.0, width) * ti.math.clamp(hi[1] - lo[1] + 1.0, 0.0, height)
    return ti.cast(ti.ceil(ti.min(total, across)), ti.i32) + 1


@ti.func
def count_row(row, n_prims, aa_width, tile_size, width, height, outline: ti.template(), footprints: ti.template(),
              row_offsets: ti.template()):  # fmt: skip
    """A path row's entries into ``row_offsets[row + 1]`` and segment references into
    ``row_refs[row + 1]``, counted on its grid (see :func:`~taichi_sdf.kinds.path_binning.count_path`)."""
    first, end = segment_range(row, n_prims, outline)
    box = _box(footprints, row, tile_size, width, height)
    entries, refs = 0, 0
    if box[0] <= box[2] and box[1] <= box[3]:
        entries, refs = count_path(outline.pieces, first, end, outline.row_rules[row % n_prims], aa_width, tile_size,
                                   box, outline.grid, outline.grid_offsets[row])  # fmt: skip
    row_offsets[row + 1] = entries
    outline.row_refs[row + 1] = refs


@ti.func
def emit_row(row, n_prims, aa_width, tile_size, width, height, outline: ti.template(), footprints: ti.template(),
             row_offsets: ti.template(), entry_tiles: ti.template(), entry_rows: ti.template()):  # fmt: skip
    """Write a path row's entries, their winding bases and segment lists (see
    :func:`~taichi_sdf.kinds.path_binning.emit_path`)."""
    first, end = segment_range(row, n_prims, outline)
    box = _box(footprints, row, tile_size, width, height)
    tiles_x, tiles_y = (width + tile_size - 1) // tile_size, (height + tile_size - 1) // tile_size
    if box[0] <= box[2] and box[1] <= box[3]:
        emit_path(outline.pieces, first, end, outline.row_rules[row % n_prims], aa_width,
                  tile_size, box, outline.grid, outline.grid_offsets[row], row // n_prims * tiles_x * tiles_y,
                  tiles_x, row, row_offsets[row], outline.row_refs[row], entry_tiles, entry_rows,
                  outline.entry_bases, outline.entry_refs, outline.refs)  # fmt: skip


@ti.func
def composite_entry(mode: ti.template(), precision: ti.template(), tolerances: ti.template(), linear: ti.template(),
                    entry, row, n_prims, b, base, slope, opacity, x0, y0, x1, px0, px1, py0, py1, aa_width,
                    guides: ti.template(), outline: ti.template(), boundary: ti.template(), state: ti.template(),
                    events: ti.template(), image: ti.template()):  # fmt: skip
    """Composite path entry ``entry`` (table row ``row``, its fill loaded) into image b's
    pixels [px0, px1] x [py0, py1] (where its footprint box meets its tile, whose corner is
    (x0, y0) and columns [x0, x1)), and keep what the backward needs of them in
    ``boundary`` (see :class:`~taichi_sdf.kernels.arrays.BoundaryArrays`): every near
    pixel's nearest boundary point, also where the mode no longer takes the entry (the
    backward carries its adjoint through there)."""
    anchor, scale = ti.Vector([guides[row, 0], guides[row, 1]]), guides[row, 2]
    lines = ti.static((outline.pieces, outline.segment_points, outline.refs))  # as kinds.path_entry reads them
    first, end, winding_base = outline.entry_refs[entry], outline.entry_refs[entry + 1], outline.entry_bases[entry]
    rule = outline.row_rules[row % n_prims]
    left = ti.cast(x0, precision.real)
    for y in range(py0, py1 + 1):
        if first == end:  # an interior tile: covered everywhere
            for x in range(px0, px1 + 1):
                if mode.accepts(state, b, y, x, precision):
                    colour, _inside, _offset = fill_at(
                        base, slope, anchor, scale, pixel_centre(x, y, precision.real), linear
                    )
                    mode.composite(state, events, image, entry, b, y, x, 1.0 + 0.0 * scale, opacity, colour, precision)
        else:
            winding, steps, found, c_first, c_last = path_row(
                lines, first, end, winding_base, left, ti.cast(y, precision.real) + 0.5, px0 - x0, x1 - x0, rule,
                aa_width,
            )  # fmt: skip
            last = ti.min(px1 - x0, c_last)
            record = 0
            if ti.static(packs_records()):
                near_count = 0
                for c in range(c_first, last + 1):
                    near, _inside = pixel_state(found, c, winding, rule)
                    near_count += ti.select(near, 1, 0)
                if near_count > 0:  # (a row with none needs no place)
                    record = ti.atomic_add(boundary.record_count[0], near_count)
            else:  # the row's own slots
                tile_size = boundary.row_masks.shape[1]
                record = (entry * tile_size + y - y0) * tile_size
            boundary.row_masks[entry, y - y0, 0] = record
            filled_mask, near_mask = 0, 0
            for c in range(c_first, last + 1):
                x = x0 + c
                p = pixel_centre(x, y, precision.real)
                winding += steps[c]
                near, inside = pixel_state(found, c, winding, rule)
                cov = 1.0 + 0.0 * scale
                if near:
                    cov, signed, kind, piece, t, other, s = pixel_coverage(
                        lines, first, end, winding_base, left, rule, found, c, winding, p, aa_width, tolerances
                    )
                    _store_record(boundary, record, signed, kind, piece, t, other, s)
                    record += 1
                    near_mask |= 1 << c
                if inside:
                    filled_mask |= 1 << c
                if (near or inside) and cov > 0.0 and mode.accepts(state, b, y, x, precision):
                    colour, _inside, _offset = fill_at(base, slope, anchor, scale, p, linear)
                    mode.composite(state, events, image, entry, b, y, x, cov, opacity, colour, precision)
            boundary.row_masks[entry, y - y0, 1] = filled_mask
            boundary.row_masks[entry, y - y0, 2] = near_mask


@ti.func
def _store_record(boundary: ti.template(), record, signed, kind, piece, t, other, s):
    """A near pixel's nearest boundary point (see :func:`pixel_coverage`) as record ``record``."""
    boundary.records[record, 0], boundary.records[record, 1], boundary.records[record, 2] = signed, t, s
    boundary.record_points[record, 0], boundary.record_points[record, 1] = KIND_CODES * piece + kind, other


@ti.func
def _load_record(boundary: ti.template(), record):
    """What :func:`_store_record` stored: signed distance, kind, piece, t, other, s."""
    signed, t, s = boundary.records[record, 0], boundary.records[record, 1], boundary.records[record, 2]
    packed = boundary.record_points[record, 0]
    return signed, packed % KIND_CODES, packed // KIND_CODES, t, boundary.record_points[record, 1], s


@ti.func
def entry_gradient(mode: ti.template(), precision: ti.template(), linear: ti.template(), entry, row, n_prims, b, base,
                   slope, opacity, x0, y0, px0, px1, py0, py1, aa_width, guides: ti.template(),
                   outline: ti.template(), boundary: ti.template(), state: ti.template(), events: ti.template(),
                   scratch: ti.template(), image_grad: ti.template(), ref_grads: ti.template()):  # fmt: skip
    """Path entry ``entry``'s gradient over image b's pixels [px0, px1] x [py0, py1] (in its
    tile, whose corner is (x0, y0)), from what its forward kept in ``boundary``: of its
    segments' control points into their slots of ``ref_grads``, and of its fill (base,
    slope, opacity) and its fill frame's anchor and size (d_anchor, d_scale), returned to
    be written as the other kinds' entries are."""
    anchor, scale = ti.Vector([guides[row, 0], guides[row, 1]]), guides[row, 2]
    lines = ti.static((outline.pieces, outline.segment_points, outline.refs))  # as kinds.path_entry reads them
    first, end = outline.entry_refs[entry], outline.entry_refs[entry + 1]
    for r in range(first, end):
        for i in ti.static(range(SEGMENT_SIZE)):
            ref_grads[r, i] = 0.0
    d_base, d_slope, d_opacity = base * 0.0, slope * 0.0, opacity * 0.0
    # The gradient of the segment the last pixels' nearest boundary lay on, summed in
    # registers and added to its slot when another segment's turn comes (and at the end).
    held, d_held = first, ti.Vector([0.0] * SEGMENT_SIZE) + 0.0 * scale
    for y in range(py0, py1 + 1):
        record, filled_mask, near_mask = 0, -1, 0  # an interior tile: all filled, none near
        if first < end:
            record = boundary.row_masks[entry, y - y0, 0]
            filled_mask, near_mask = boundary.row_masks[entry, y - y0, 1], boundary.row_masks[entry, y - y0, 2]
        for x in range(px0, px1 + 1):
            near, inside = (near_mask >> (x - x0)) & 1 != 0, (filled_mask >> (x - x0)) & 1 != 0
            if near or inside:
                cov, signed, kind, piece, other = 1.0 + 0.0 * scale, 0.0 * scale, NONE, 0, 0
                t, s = signed, signed
                if near:
                    signed, kind, piece, t, other, s = _load_record(boundary, record)
                    record += 1
                    cov = coverage(signed, aa_width)
                if cov > 0.0:
                    p = pixel_centre(x, y, precision.real)
                    colour, within, offset = fill_at(base, slope, anchor, scale, p, linear)
                    g = ti.Vector([image_grad[b, y, x, c] for c in ti.static(range(3))])
                    a_cov, a_opacity, a_colour = mode.entry_adjoints(
                        state, events, scratch, entry, b, y, x, g, cov, opacity, colour, precision
                    )
                    d_opacity += a_opacity
                    d_unclamped = a_colour * within
                    d_base += d_unclamped
                    if ti.static(linear):
                        d_slope += d_unclamped.outer_product(offset)
                    if kind != NONE:
                        ref, grad, ref2, grad2 = coverage_grad(lines, first, p, signed, kind, piece, t, other, s,
                                                               aa_width)  # fmt: skip
                        if ref != held:
                            for i in ti.static(range(SEGMENT_SIZE)):
                                ref_grads[held, i] = ref_grads[held, i] + d_held[i]
                            held, d_held = ref, d_held * 0.0
                        d_held += a_cov * grad
                        if kind == MEETING:
                            for i in ti.static(range(SEGMENT_SIZE)):
                                ref_grads[ref2, i] = ref_grads[ref2, i] + a_cov * grad2[i]
    if first < end:
        for i in ti.static(range(SEGMENT_SIZE)):
            ref_grads[held, i] = ref_grads[held, i] + d_held[i]
    d_anchor, d_scale = anchor * 0.0, scale * 0.0
    if ti.static(linear):  # as the other kinds' entries (see kernels/backward.py)
        d_anchor = -(slope.transpose() @ d_base) / scale
        d_scale = -(slope * d_slope).sum() / scale
    return d_base, d_slope, d_opacity, d_anchor, d_scale


@ti.func
def segment_grads(row, n_prims, row_offsets: ti.template(), guides: ti.template(), outline: ti.template(),
                  ref_grads: ti.template(), table_grad: ti.template(), segment_grad: ti.template()):  # fmt: skip
    """Sum a path row's segment references' gradients into its segments, entry after entry,
    and add its fill frame's: the row's gradients of the anchor and the size (summed into
    its first geometry columns of ``table_grad``, which a path has none of) reach each
    segment's start point as d anchor / d start = 1 / n and d size / d start = (start -
    anchor) / (n size), n the path's segments."""
    segments, refs, entry_refs = ti.static(outline.segments, outline.refs, outline.entry_refs)
    first, end = segment_range(row, n_prims, outline)
    for s in range(first, end):
        for i in ti.static(range(SEGMENT_SIZE)):
            segment_grad[s, i] = 0.0
    for entry in range(row_offsets[row], row_offsets[row + 1]):
        for r in range(entry_refs[entry], entry_refs[entry + 1]):
            for i in ti.static(range(SEGMENT_SIZE)):
                segment_grad[refs[r], i] = segment_grad[refs[r], i] + ref_grads[r, i]
    anchor, scale = ti.Vector([guides[row, 0], guides[row, 1]]), guides[row, 2]
    d_anchor, d_scale = ti.Vector([table_grad[row, 0], table_grad[row, 1]]), table_grad[row, 2]
    n = (end - first) + 0.0 * scale
    for s in range(first, end):
        start = ti.Vector([segments[s, 0], segments[s, 1]])
        moved = d_anchor / n + d_scale * (start - anchor) / (n * scale)
        segment_grad[s, 0] = segment_grad[s, 0] + moved[0]
        segment_grad[s, 1] = segment_grad[s, 1] + moved[1]
    for c in ti.static(range(COLOUR)):
        table_grad[row, c] = 0.0
