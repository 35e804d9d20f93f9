"""Forward raster over the tile lists, and the small loop-free kernels whose Taichi
autodiff gives the backward pass.

Order-free composite-then-shade: per pixel ``W = Σ cov_i`` and ``C = Σ cov_i · colour_i``,
then ``image = blend_mean(W, C, background)``. Because W and C are plain sums, the backward
needs no reverse walk over the lists:

* ``blend.grad``  turns dL/d image into dL/dW, dL/dC (per pixel) and dL/d background;
* ``splat.grad``  runs one thread per (tile entry, pixel of that tile) and pushes dL/dW and
  dL/dC through that primitive's coverage and colour to its parameters.

``splat``'s forward is never needed: it is the same sum as ``forward`` written as scattered
adds, which is the shape Taichi's reverse-mode AD differentiates reliably.
"""

import functools

import taichi as ti

from taichi_sdf.funcs import blend_mean
from taichi_sdf.kernels.circle import circle_sample, load_circle


@functools.cache
def raster_kernels(tile_size: int, aa_width: float, fill: str):
    """Forward, blend, splat and loss kernels for one static configuration."""
    linear = fill == "linear"
    tile_pixels = tile_size * tile_size

    @ti.func
    def tile_pixel(tile, q, tiles_x):
        """Row and column of pixel ``q`` (row-major inside the tile) of tile ``tile``."""
        return (tile // tiles_x) * tile_size + q // tile_size, (tile % tiles_x) * tile_size + q % tile_size

    @ti.func
    def pixel_centre(row, col, dtype: ti.template()):
        return ti.Vector([ti.cast(col, dtype) + 0.5, ti.cast(row, dtype) + 0.5])

    @ti.kernel
    def forward(
        params: ti.template(),
        background: ti.template(),
        tile_offsets: ti.types.ndarray(),
        tile_lists: ti.types.ndarray(),
        coverage_sum: ti.template(),
        colour_sum: ti.template(),
        image: ti.template(),
    ):
        height, width = image.shape
        tiles_x = (width + tile_size - 1) // tile_size
        tiles_y = (height + tile_size - 1) // tile_size
        for tile, q in ti.ndrange(tiles_x * tiles_y, tile_pixels):
            row, col = tile_pixel(tile, q, tiles_x)
            if row < height and col < width:
                p = pixel_centre(row, col, params.dtype)
                total = ti.cast(0.0, params.dtype)
                weighted = ti.Vector.zero(params.dtype, 3)
                for k in range(tile_offsets[tile], tile_offsets[tile + 1]):
                    centre, radius, base, slope = load_circle(params, tile_lists[k], linear)
                    cov, colour = circle_sample(centre, radius, base, slope, p, aa_width, linear)
                    total += cov
                    weighted += cov * colour
                coverage_sum[row, col] = total
                colour_sum[row, col] = weighted
                image[row, col] = blend_mean(total, weighted, background[None])

    @ti.kernel
    def blend(coverage_sum: ti.template(), colour_sum: ti.template(), background: ti.template(), image: ti.template()):
        for row, col in image:
            image[row, col] = blend_mean(coverage_sum[row, col], colour_sum[row, col], background[None])

    @ti.kernel
    def splat(
        n_entries: ti.i32,
        entry_tile: ti.types.ndarray(),
        entry_prim: ti.types.ndarray(),
        footprints: ti.types.ndarray(),
        params: ti.template(),
        coverage_sum: ti.template(),
        colour_sum: ti.template(),
    ):
        for k, q in ti.ndrange(n_entries, tile_pixels):
            # Autodiff wants nothing outside the top-level loop, so the shape is read here.
            height, width = coverage_sum.shape
            tiles_x = (width + tile_size - 1) // tile_size
            row, col = tile_pixel(entry_tile[k], q, tiles_x)
            prim = entry_prim[k]
            p = pixel_centre(row, col, params.dtype)
            # Test the footprint on the binning's non-differentiated copy first: reading
            # `params` costs an atomic add per parameter in the reverse pass.
            offset = p - ti.Vector([footprints[prim, 0], footprints[prim, 1]])
            if row < height and col < width and offset.norm_sqr() < footprints[prim, 2] ** 2:
                centre, radius, base, slope = load_circle(params, prim, linear)
                cov, colour = circle_sample(centre, radius, base, slope, p, aa_width, linear)
                coverage_sum[row, col] += cov
                colour_sum[row, col] += cov * colour

    @ti.kernel
    def mean_squared_error(image: ti.template(), target: ti.template(), loss: ti.template()):
        for row, col in image:
            height, width = image.shape
            scale = 1.0 / (height * width * 3)
            diff = image[row, col] - target[row, col]
            loss[None] += scale * diff.dot(diff)

    return forward, blend, splat, mean_squared_error
