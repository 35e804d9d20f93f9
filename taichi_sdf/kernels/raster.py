"""Forward raster over the tile lists, and the backward pass.

Per pixel the forward walks its tile's list once. Two compositing families:

* ``mean`` (order-free composite-then-shade): ``W = Σ o_i·cov_i``, ``C = Σ o_i·cov_i·colour_i``,
  ``image = blend_mean(W, C, background)``. The backward needs no list walk: ``blend.grad``
  gives dL/dW and dL/dC per pixel, and ``splat.grad`` (one thread per tile entry and run of
  pixels, ``W += w, C += w·colour``) pushes them to the primitive table.
* ``over`` / ``alpha`` (depth-ordered, front to back): ``w_i = weight(cov_i, o_i, R_i)``,
  ``C += w_i·colour_i``, ``R -= w_i``, ``image = C + R·background``. The forward stores each
  entry's incoming ``R_i``; ``reverse_walk`` (hand-written) walks back to front computing
  ``λ = dL/dR`` after every entry, ``λ_i = λ_{i+1} + ∂w_i/∂R_i · (g·colour_i − λ_{i+1})``;
  then ``splat.grad`` differentiates, per entry and pixel, the loop-free surrogate
  ``g·(w_i·colour_i) − λ_{i+1}·w_i`` (R_i, λ_{i+1}, g held fixed), whose gradient with
  respect to the primitive is exactly its share of dL.

Taichi autodiff only ever sees loop-free per-thread code (blend, splat and the gather
kernels; a splat's run of pixels is unrolled at compile time); the one loop with a carried
value, the list walk, has its adjoint written by hand.
"""

import functools

import taichi as ti

from taichi_sdf.funcs import alpha_weight, alpha_weight_slope, blend_mean, over_weight, over_weight_slope
from taichi_sdf.kernels.primitives import (
    CIRCLE,
    KINDS,
    SEGMENT,
    TRIANGLE,
    colour_at,
    coverage_at,
    load,
    within_edge_lines,
)

MODES = ("mean", "over", "alpha")

# Pixels (along a tile row) per thread of the backward splats, by primitive kind. The body
# is unrolled over the run, so autodiff sums a primitive's gradient over the run in
# registers and adds it to the table with one atomic per column instead of one per pixel.
# Longer runs compile slowly for the bulkier SDFs (8 triangle pixels took ~40 s).
RUNS = {CIRCLE: 8, TRIANGLE: 2, SEGMENT: 4}


@functools.cache
def raster_kernels(tile_size: int, aa_width: float, linear: bool, mode: str, dtype, fields: bool):
    """Forward, blend, splat, reverse-walk and loss kernels for one static configuration.

    The differentiable buffers (``Buffer`` arguments) are ndarrays, so that one compilation
    serves every image size and scene, or, with ``fields=True``, Taichi fields: Taichi 1.7
    differentiates ndarrays only on CPU and CUDA. Integer and state arrays are ndarrays.
    """
    Buffer = ti.template() if fields else ti.types.ndarray()
    layered = mode != "mean"
    weight = over_weight if mode == "over" else alpha_weight
    weight_slope = over_weight_slope if mode == "over" else alpha_weight_slope
    tile_pixels = tile_size * tile_size

    @ti.func
    def tile_pixel(tile, q, tiles_x):
        """Row and column of pixel ``q`` (row-major inside the tile) of tile ``tile``."""
        return (tile // tiles_x) * tile_size + q // tile_size, (tile % tiles_x) * tile_size + q % tile_size

    @ti.func
    def pixel_centre(row, col):
        return ti.Vector([ti.cast(col, dtype) + 0.5, ti.cast(row, dtype) + 0.5])

    @ti.func
    def covers(kind: ti.template(), footprints: ti.template(), prim, copy, p):
        """Whether the primitive's coverage at ``p`` is non-zero, on non-differentiated data."""
        result = False
        if ti.static(kind == CIRCLE):
            offset = p - ti.Vector([footprints[prim, 0], footprints[prim, 1]])
            result = offset.norm_sqr() < footprints[prim, 2] * footprints[prim, 2]
        elif ti.static(kind == TRIANGLE):
            result = within_edge_lines(copy, p, aa_width)
        else:
            result = coverage_at(kind, copy, p, aa_width) > 0.0
        return result

    @ti.kernel
    def forward(
        table: Buffer,
        kinds: ti.types.ndarray(),
        background: ti.template(),
        tile_offsets: ti.types.ndarray(),
        tile_lists: ti.types.ndarray(),
        entry_remaining: ti.types.ndarray(),
        coverage_sum: Buffer,
        colour_sum: Buffer,
        image: Buffer,
    ):
        height, width = image.shape
        tiles_x = (width + tile_size - 1) // tile_size
        tiles_y = (height + tile_size - 1) // tile_size
        for tile, q in ti.ndrange(tiles_x * tiles_y, tile_pixels):
            row, col = tile_pixel(tile, q, tiles_x)
            if row < height and col < width:
                p = pixel_centre(row, col)
                start, end = tile_offsets[tile], tile_offsets[tile + 1]
                total = ti.cast(0.0 if ti.static(mode == "mean") else 1.0, dtype)
                weighted = ti.Vector.zero(dtype, 3)
                for n in range(end - start):
                    # Depth order is ascending index; layered modes walk front to back.
                    k = end - 1 - n if ti.static(layered) else start + n
                    prim = tile_lists[k]
                    geometry, base, slope, opacity = load(table, prim)
                    cov = coverage_at(kinds[prim], geometry, p, aa_width)
                    if ti.static(layered):
                        entry_remaining[k, q] = total
                    if cov > 0.0:
                        w = opacity * cov
                        if ti.static(layered):
                            w = weight(cov, opacity, total)
                            total -= w
                        else:
                            total += w
                        weighted += w * colour_at(kinds[prim], geometry, base, slope, p, linear)
                coverage_sum[row, col] = total
                colour_sum[row, col] = weighted
                if ti.static(layered):
                    image[row, col] = weighted + total * background[None]
                else:
                    image[row, col] = blend_mean(total, weighted, background[None])

    @ti.kernel
    def blend(coverage_sum: Buffer, colour_sum: Buffer, background: ti.template(), image: Buffer):
        """The forward's last step alone (``coverage_sum`` is W, or R for layered modes)."""
        for row, col in image:
            if ti.static(layered):
                image[row, col] = colour_sum[row, col] + coverage_sum[row, col] * background[None]
            else:
                image[row, col] = blend_mean(coverage_sum[row, col], colour_sum[row, col], background[None])

    @ti.func
    def run_start(list_tiles: ti.template(), k, run, run_length: ti.template(), width):
        """Row and first column of pixel run ``run`` of entry ``k``'s tile."""
        return tile_pixel(list_tiles[k], run * run_length, (width + tile_size - 1) // tile_size)

    @ti.func
    def run_near_footprint(footprints: ti.template(), prim, row, col, run_length: ti.template()):
        """Whether any pixel of the run starting at (row, col) can be in the footprint."""
        centre = ti.Vector([footprints[prim, 0], footprints[prim, 1]])
        nearest = ti.Vector([ti.math.clamp(centre[0], col + 0.5, col + run_length - 0.5), row + 0.5])
        return (nearest - centre).norm_sqr() < footprints[prim, 2] * footprints[prim, 2]

    def make_splat(kind: int):
        """Backward splat for the primitives of ``kind``, one thread per (entry, run of
        pixels); only its .grad is used. Mean mode: ``W += w, C += w·colour``. Layered
        modes: ``surrogate += g·(w·colour) − λ·w`` with R, λ and g from the reverse walk."""
        run_length = RUNS[kind]

        @ti.kernel
        def splat(
            n_entries: ti.i32,
            list_tiles: ti.types.ndarray(),
            tile_lists: ti.types.ndarray(),
            footprints: ti.types.ndarray(),
            entry_remaining: ti.types.ndarray(),
            entry_adjoint: ti.types.ndarray(),
            pixel_grad: ti.types.ndarray(),
            table: Buffer,
            kinds: ti.types.ndarray(),
            coverage_sum: Buffer,
            colour_sum: Buffer,
            surrogate: ti.template(),
        ):
            for k, run in ti.ndrange(n_entries, tile_pixels // run_length):
                # Autodiff wants nothing outside the top-level loop, so the shape is read here.
                height, width = coverage_sum.shape
                row, col0 = run_start(list_tiles, k, run, run_length, width)
                prim = tile_lists[k]
                # Reading `table` costs an atomic add per column in the reverse pass, so runs
                # clear of the footprint are rejected on a non-differentiated copy first.
                near = False
                if kinds[prim] == kind and row < height and col0 < width:
                    near = run_near_footprint(footprints, prim, row, col0, run_length)
                if near:
                    # Which pixels of the run the primitive covers, tested on the binning's
                    # copy (a circle's reach is exact; other kinds evaluate their coverage):
                    # only those are differentiated, and a run it misses never reads `table`.
                    copy = ti.Vector([footprints[prim, 3 + c] for c in ti.static(range(6))])
                    covered = [
                        col0 + j < width and covers(kind, footprints, prim, copy, pixel_centre(row, col0 + j))
                        for j in ti.static(range(run_length))
                    ]
                    any_covered = False
                    for j in ti.static(range(run_length)):
                        any_covered = any_covered or covered[j]
                    if any_covered:
                        geometry, base, slope, opacity = load(table, prim)
                        for j in ti.static(range(run_length)):
                            col = col0 + j
                            if covered[j]:
                                p = pixel_centre(row, col)
                                cov = coverage_at(kind, geometry, p, aa_width)
                                colour = colour_at(kind, geometry, base, slope, p, linear)
                                if ti.static(layered):
                                    q = run * run_length + j
                                    w = weight(cov, opacity, entry_remaining[k, q])
                                    g = ti.Vector([pixel_grad[row, col, c] for c in ti.static(range(3))])
                                    surrogate[None] += w * (g.dot(colour) - entry_adjoint[k, q])
                                else:
                                    coverage_sum[row, col] += opacity * cov
                                    colour_sum[row, col] += opacity * cov * colour

        return splat

    @ti.kernel
    def reverse_walk(
        table: Buffer,
        kinds: ti.types.ndarray(),
        tile_offsets: ti.types.ndarray(),
        tile_lists: ti.types.ndarray(),
        entry_remaining: ti.types.ndarray(),
        entry_adjoint: ti.types.ndarray(),
        pixel_grad: ti.types.ndarray(),
        coverage_grad: Buffer,
        colour_grad: Buffer,
    ):
        """Layered modes: λ = dL/dR after each entry, back to front (hand-written adjoint).

        ``coverage_grad`` and ``colour_grad`` are dL/dR and dL/dC per pixel (from blend.grad).
        """
        height, width = colour_grad.shape
        tiles_x = (width + tile_size - 1) // tile_size
        tiles_y = (height + tile_size - 1) // tile_size
        for tile, q in ti.ndrange(tiles_x * tiles_y, tile_pixels):
            row, col = tile_pixel(tile, q, tiles_x)
            if row < height and col < width:
                p = pixel_centre(row, col)
                g = colour_grad[row, col]
                for c in ti.static(range(3)):
                    pixel_grad[row, col, c] = g[c]
                adjoint = coverage_grad[row, col]
                for k in range(tile_offsets[tile], tile_offsets[tile + 1]):
                    entry_adjoint[k, q] = adjoint
                    prim = tile_lists[k]
                    geometry, base, slope, opacity = load(table, prim)
                    cov = coverage_at(kinds[prim], geometry, p, aa_width)
                    if cov > 0.0:
                        colour = colour_at(kinds[prim], geometry, base, slope, p, linear)
                        rate = weight_slope(cov, opacity, entry_remaining[k, q])
                        adjoint += rate * (g.dot(colour) - adjoint)

    @ti.kernel
    def mean_squared_error(image: Buffer, target: Buffer, loss: ti.template()):
        for row, col in image:
            height, width = image.shape
            diff = image[row, col] - target[row, col]
            loss[None] += diff.dot(diff) / (height * width * 3)

    splats = {kind: make_splat(kind) for kind in KINDS}
    return forward, blend, splats, reverse_walk, mean_squared_error
