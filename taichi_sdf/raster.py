"""The functional core: rasterize a batch of primitive tables into images, and back.

:func:`rasterize` takes a (B, M, COLUMNS) primitive table (see :mod:`taichi_sdf.table`),
the kind of each of the M primitives, a (B, 3) background and, where some are filled
paths, their (B, Q, SEGMENT_SIZE) segment table and its structure, runs the binning and
the forward kernel, and returns a :class:`RasterFrame`: the (B, H, W, 3) images and
everything their backward pass needs. :meth:`RasterFrame.backward` takes the images'
gradient and returns the table's, the background's and the segment table's. A frame owns
all its buffers, so any number of frames can be alive and differentiated in any order.

Arrays are numpy arrays or torch tensors, passed to the kernels without copies: a frame
allocates its buffers of the same type, on the same device, as its table (numpy arrays
become Taichi ndarrays on a GPU arch; see :mod:`taichi_sdf.buffers`), here and nowhere
else, in the groups that :mod:`taichi_sdf.kernels.arrays` declares. Nothing here is
differentiated by Taichi: the kernels' backward is written by hand (see
:mod:`taichi_sdf.kernels.backward`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taichi_sdf.buffers import Buffers, to_numpy
from taichi_sdf.config import RenderConfig, check_image_size
from taichi_sdf.funcs.winding import PIECES_SIZE, SEGMENT_SIZE
from taichi_sdf.kernels.arrays import (
    BoundaryArrays,
    GradientArrays,
    OutlineArrays,
    PixelArrays,
    SceneArrays,
    TileArrays,
    launch,
    unused,
)
from taichi_sdf.kernels.backward import backward_kernel
from taichi_sdf.kernels.binning import count_kernel, prepare_kernel
from taichi_sdf.kernels.forward import forward_kernel
from taichi_sdf.kernels.paths import record_room
from taichi_sdf.kernels.rows import spread_for
from taichi_sdf.kinds import KINDS
from taichi_sdf.kinds.path_binning import GRID_FIELDS
from taichi_sdf.modes import MODES
from taichi_sdf.table import COLUMNS


@dataclass
class RasterFrame:
    """A forward pass and what its backward needs. ``image``: (B, H, W, 3)."""

    config: RenderConfig
    tile_size: int
    kinds_present: tuple
    linear: bool
    buffers: Buffers
    scene: SceneArrays
    tiles: TileArrays
    pixels: PixelArrays
    outline: OutlineArrays
    boundary: BoundaryArrays
    segments: int | None  # Q, the segments per image, where there are paths

    @property
    def image(self):
        return self.pixels.image

    def tile_lists(self) -> list[list[np.ndarray]]:
        """Per image, per tile (row-major), the primitive indices listed there (0 .. M-1)."""
        offsets, lists = to_numpy(self.tiles.tile_offsets), to_numpy(self.tiles.tile_lists)
        rows = to_numpy(self.tiles.entry_rows)
        n_prims = self.scene.kind_codes.shape[0]
        batch = self.image.shape[0]
        per_image = (len(offsets) - 1) // batch
        return [
            [rows[lists[offsets[t] : offsets[t + 1]]] % n_prims for t in range(b * per_image, (b + 1) * per_image)]
            for b in range(batch)
        ]

    def backward(self, image_grad):
        """Gradients of ``sum(image_grad * image)``: the table's (B, M, COLUMNS), the
        background's (B, 3) and the segment table's (B, Q, SEGMENT_SIZE; None without
        paths), of the frame's array type. ``image_grad``: (B, H, W, 3)."""
        buffers, config = self.buffers, self.config
        if tuple(image_grad.shape) != tuple(self.image.shape):
            raise ValueError(f"image_grad must have shape {tuple(self.image.shape)}, got {tuple(image_grad.shape)}")
        batch, height, width, _ = self.image.shape
        rows, n_tiles = self.scene.table.shape[0], self.tiles.tile_fill.shape[0]
        mode, dtype = MODES[config.mode], config.dtype
        scratch = Buffers(self.scene.table)  # this pass's working buffers, free again when it returns
        segmented = self.segments is not None
        grads = GradientArrays(
            image_grad=buffers.put(image_grad, dtype),
            scratch=scratch.working((batch, height, width, mode.state_width), dtype),
            entry_grads=scratch.working((self.tiles.entry_rows.shape[0], COLUMNS), dtype),
            tile_background=scratch.working((n_tiles, 3), dtype),
            table_grad=buffers.output((rows, COLUMNS), dtype),
            background_grad=buffers.output((batch, 3), dtype),
            **({
                "ref_grads": scratch.working((self.outline.refs.shape[0], SEGMENT_SIZE), dtype),
                "segment_grad": buffers.output((self.outline.segments.shape[0], SEGMENT_SIZE), dtype),
            } if segmented else unused(GradientArrays)),
        )  # fmt: skip
        kernel = backward_kernel(self.kinds_present, mode, dtype, self.linear, config.culling)
        launch(kernel, self.scene, self.tiles, self.pixels, self.outline, self.boundary, grads,
               aa_width=config.aa_width, tile_size=self.tile_size, spread=spread_for(n_tiles))  # fmt: skip
        table_grad, background_grad = grads.table_grad, grads.background_grad
        segment_grad = grads.segment_grad if segmented else None
        if buffers.taichi:  # Taichi ndarrays: hand numpy arrays back
            table_grad, background_grad = table_grad.to_numpy(), background_grad.to_numpy()
            segment_grad = segment_grad.to_numpy() if segmented else None
        if segmented:
            segment_grad = segment_grad.reshape(batch, self.segments, SEGMENT_SIZE)
        return table_grad.reshape(batch, rows // batch, COLUMNS), background_grad, segment_grad


def rasterize(
    config: RenderConfig,
    kind_codes: np.ndarray,
    table,
    background,
    width: int,
    height: int,
    linear: bool,
    segments=None,
    outline: tuple | None = None,
    image=None,
) -> RasterFrame:
    """Render a batch: ``table`` (B, M, COLUMNS), ``kind_codes`` (M,) the kind of each
    primitive, ``background`` (B, 3), into (B, H, W, 3) images (``frame.image``).
    ``linear`` compiles the linear-gradient fill (else slopes are ignored). Where some
    primitives are filled paths, ``segments`` (B, Q, SEGMENT_SIZE) is their segment table
    and ``outline`` its structure, as :func:`taichi_sdf.table.pack_segments` and
    :func:`taichi_sdf.table.outline` make them. ``image``: a (B, H, W, 3) buffer of the
    table's type and the config's dtype to draw into, for a caller that copies the images
    out at once (else a new one, which the caller owns; the backward does not read it)."""
    batch, n_prims, columns = table.shape
    if columns != COLUMNS or tuple(background.shape) != (batch, 3) or len(kind_codes) != n_prims:
        raise ValueError(f"table {tuple(table.shape)}, background {tuple(background.shape)} and "
                         f"{len(kind_codes)} kinds do not fit together")  # fmt: skip
    if (segments is None) != (outline is None) or (
        segments is not None and tuple(segments.shape) != (batch, len(outline[0]), SEGMENT_SIZE)
    ):
        raise ValueError("segments and outline must come together, segments of shape (B, Q, SEGMENT_SIZE)")
    check_image_size(batch, width, height)
    if image is not None and tuple(image.shape) != (batch, height, width, 3):
        raise ValueError(f"image must have shape {(batch, height, width, 3)}, got {tuple(image.shape)}")
    buffers = Buffers(table)
    mode, dtype, tile = MODES[config.mode], config.dtype, config.tile()
    codes = np.asarray(kind_codes, np.int32)
    kinds_present = tuple(kind for kind in KINDS if np.any(codes == kind.code))
    rows, n_tiles = batch * n_prims, batch * (-(-width // tile)) * (-(-height // tile))
    scene = SceneArrays(
        table=buffers.put(table.reshape(rows, COLUMNS), dtype),
        kind_codes=buffers.put(codes, "i32"),
        background=buffers.put(background, dtype),
        guides=buffers.working((rows, max(kind.guide_size for kind in kinds_present or KINDS)), dtype),
        footprints=buffers.working((rows, 4), dtype),
        row_offsets=buffers.working((rows + 1,), "i32"),
    )
    segmented = any(kind.segmented for kind in kinds_present)
    outlines = (_outline_arrays(buffers, segments, outline, rows, dtype) if segmented
                else OutlineArrays(**unused(OutlineArrays)))  # fmt: skip
    near_pixels = 0  # a bound on the paths' pixels within the band of their outlines
    if segmented:
        prepare = prepare_kernel(kinds_present, dtype)
        grid, near_pixels = (int(n) for n in launch(prepare, scene, outlines, aa_width=config.aa_width,
                                                    tile_size=tile, width=width, height=height))  # fmt: skip
        outlines.grid = buffers.working((max(grid, 1), GRID_FIELDS), "i32")
    count = count_kernel(kinds_present, config.culling, dtype)
    entries = launch(count, scene, outlines, aa_width=config.aa_width, tile_size=tile, width=width, height=height)
    if segmented:
        n_refs = int(to_numpy(outlines.row_refs)[rows])
        outlines.entry_bases = buffers.working((max(entries, 1),), "i32")
        outlines.entry_refs = buffers.working((max(entries, 1) + 1,), "i32")
        outlines.refs = buffers.working((max(n_refs, 1),), "i32")
    tiles = TileArrays(
        entry_tiles=buffers.working((max(entries, 1),), "i32"),
        entry_rows=buffers.working((max(entries, 1),), "i32"),
        tile_offsets=buffers.working((n_tiles + 1,), "i32"),
        tile_fill=buffers.working((n_tiles,), "i32"),
        tile_lists=buffers.working((max(entries, 1),), "i32"),
    )
    pixels = PixelArrays(
        state=buffers.working((batch, height, width, mode.state_width), dtype),
        events=buffers.working((batch, height, width), "i32"),
        background_weight=buffers.working((batch, height, width), dtype),
        image=buffers.output((batch, height, width, 3), dtype) if image is None else image,
    )
    boundary = (BoundaryArrays(
        row_masks=buffers.working((max(entries, 1), tile, 3), "i32"),
        records=buffers.working((record_room(near_pixels, entries, tile), 3), dtype),
        record_points=buffers.working((record_room(near_pixels, entries, tile), 2), "i32"),
        record_count=buffers.working((1,), "i32"),
    ) if segmented else BoundaryArrays(**unused(BoundaryArrays)))  # fmt: skip
    forward = forward_kernel(kinds_present, mode, dtype, linear, config.culling)
    launch(forward, scene, tiles, pixels, outlines, boundary, aa_width=config.aa_width, tile_size=tile,
           spread=spread_for(n_tiles))  # fmt: skip
    count = segments.shape[1] if segmented else None
    return RasterFrame(config, tile, kinds_present, linear, buffers, scene, tiles, pixels, outlines, boundary, count)


def _outline_arrays(buffers: Buffers, segments, outline, rows: int, dtype: str) -> OutlineArrays:
    """The segment table and its structure as the kernels take them, and the count's
    offsets; the binning's arrays that depend on its counts are made after it."""
    segment_points, row_segments, row_rules = outline
    table = buffers.put(segments.reshape(-1, SEGMENT_SIZE), dtype)
    return OutlineArrays(
        segments=table,
        segment_points=buffers.put(segment_points, "i32"),
        row_segments=buffers.put(row_segments, "i32"),
        row_rules=buffers.put(row_rules, "i32"),
        pieces=buffers.working((table.shape[0], PIECES_SIZE), dtype),
        grid_offsets=buffers.working((rows + 1,), "i32"),
        grid=buffers.working((1, GRID_FIELDS), "i32"),
        row_refs=buffers.working((rows + 1,), "i32"),
        entry_bases=buffers.working((1,), "i32"),  # these three made again once the count has sized them
        entry_refs=buffers.working((1,), "i32"),
        refs=buffers.working((1,), "i32"),
    )
