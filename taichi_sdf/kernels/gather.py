"""Gather kernels: scene parameters -> rows of the primitive table.

Each shape group has its parameters in (n, k) arrays and writes its rows of the table.
These kernels are loop-free per thread, so Taichi's autodiff differentiates them: their
``.grad`` scatters the table's gradient back onto the parameters, summing it over every
face that shares a mesh vertex and every segment that shares a polyline point.
"""

import functools

import taichi as ti

from taichi_sdf.kernels.primitives import BASE, GEOMETRY, OPACITY, SLOPE


@ti.func
def write_fill(table: ti.template(), row, colours: ti.template(), slopes: ti.template(), opacities: ti.template(), i):
    for c in ti.static(range(3)):
        table[row, BASE + c] = colours[i, c]
    for c in ti.static(range(6)):
        table[row, SLOPE + c] = slopes[i, c]
    table[row, OPACITY] = opacities[i, 0]


@ti.func
def write_corners(table: ti.template(), row, points: ti.template(), index: ti.template(), i, count: ti.template()):
    """Geometry columns of ``row``: the ``count`` points that row ``i`` of ``index`` names."""
    for k in ti.static(range(count)):
        v = index[i, k]
        table[row, GEOMETRY + 2 * k] = points[v, 0]
        table[row, GEOMETRY + 2 * k + 1] = points[v, 1]


@functools.cache
def gather_kernels(fields: bool):
    """The gather kernel of each group type, for ndarray or field buffers (see raster_kernels)."""
    Buffer = ti.template() if fields else ti.types.ndarray()

    @ti.kernel
    def gather_circles(
        offset: ti.i32,
        centres: Buffer,
        radii: Buffer,
        colours: Buffer,
        slopes: Buffer,
        opacities: Buffer,
        table: Buffer,
    ):
        for i in range(radii.shape[0]):
            row = offset + i
            table[row, GEOMETRY + 0] = centres[i, 0]
            table[row, GEOMETRY + 1] = centres[i, 1]
            table[row, GEOMETRY + 2] = radii[i, 0]
            for c in ti.static(range(3, 6)):
                table[row, GEOMETRY + c] = 0.0
            write_fill(table, row, colours, slopes, opacities, i)

    @ti.kernel
    def gather_triangles(
        offset: ti.i32,
        vertices: Buffer,
        faces: ti.types.ndarray(),
        colours: Buffer,
        slopes: Buffer,
        opacities: Buffer,
        table: Buffer,
    ):
        for f in range(colours.shape[0]):
            row = offset + f
            write_corners(table, row, vertices, faces, f, 3)
            write_fill(table, row, colours, slopes, opacities, f)

    @ti.kernel
    def gather_strokes(
        offset: ti.i32,
        points: Buffer,
        segments: ti.types.ndarray(),
        widths: Buffer,
        colours: Buffer,
        slopes: Buffer,
        opacities: Buffer,
        table: Buffer,
    ):
        for s in range(colours.shape[0]):
            row = offset + s
            write_corners(table, row, points, segments, s, 2)
            table[row, GEOMETRY + 4] = 0.5 * widths[s, 0]
            table[row, GEOMETRY + 5] = 0.0
            write_fill(table, row, colours, slopes, opacities, s)

    return {"Circles": gather_circles, "Triangles": gather_triangles, "Strokes": gather_strokes}
