"""The functional core: rasterize a batch of primitive tables into images, and back.

:func:`rasterize` takes a (B, M, COLUMNS) primitive table (see :mod:`taichi_sdf.table`),
the kind of each of the M primitives and a (B, 3) background, runs the binning and the
forward kernel, and returns a :class:`RasterFrame`: the (B, H, W, 3) images and
everything their backward pass needs. :meth:`RasterFrame.backward` takes the images'
gradient and returns the table's and the background's. A frame owns all its buffers, so
any number of frames can be alive and differentiated in any order.

Arrays are numpy arrays or torch tensors, passed to the kernels without copies: a frame
allocates its buffers of the same type, on the same device, as its table (numpy arrays
become Taichi ndarrays on a GPU arch; see :mod:`taichi_sdf.buffers`). Nothing here is
differentiated by Taichi: the kernels' backward is written by hand (see
:mod:`taichi_sdf.kernels.backward`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taichi_sdf.buffers import Buffers, to_numpy
from taichi_sdf.config import RenderConfig, check_image_size
from taichi_sdf.kernels.backward import backward_kernel
from taichi_sdf.kernels.binning import count_kernel
from taichi_sdf.kernels.forward import forward_kernel
from taichi_sdf.kernels.rows import spread_for
from taichi_sdf.kinds import KINDS
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
    arrays: dict

    @property
    def image(self):
        return self.arrays["image"]

    def tile_lists(self) -> list[list[np.ndarray]]:
        """Per image, per tile (row-major), the primitive indices listed there (0 .. M-1)."""
        offsets, lists = to_numpy(self.arrays["tile_offsets"]), to_numpy(self.arrays["tile_lists"])
        rows = to_numpy(self.arrays["entry_rows"])
        n_prims = self.arrays["kinds"].shape[0]
        batch = self.image.shape[0]
        per_image = (len(offsets) - 1) // batch
        return [
            [rows[lists[offsets[t] : offsets[t + 1]]] % n_prims for t in range(b * per_image, (b + 1) * per_image)]
            for b in range(batch)
        ]

    def backward(self, image_grad):
        """Gradients of ``sum(image_grad * image)``: the table's (B, M, COLUMNS) and the
        background's (B, 3), of the frame's array type. ``image_grad``: (B, H, W, 3)."""
        a, buffers, config = self.arrays, self.buffers, self.config
        if tuple(image_grad.shape) != tuple(self.image.shape):
            raise ValueError(f"image_grad must have shape {tuple(self.image.shape)}, got {tuple(image_grad.shape)}")
        batch, height, width, _ = self.image.shape
        rows, n_tiles = a["table"].shape[0], a["tile_fill"].shape[0]
        table_grad = buffers.output((rows, COLUMNS), config.dtype)
        background_grad = buffers.output((batch, 3), config.dtype)
        scratch = Buffers(a["table"])  # this pass's working buffers, free again when it returns
        mode = MODES[config.mode]
        kernel = backward_kernel(self.kinds_present, mode, config.dtype, self.linear, config.culling)
        kernel(
            a["table"], a["kinds"], a["background"], config.aa_width, self.tile_size,
            spread_for(n_tiles), a["footprints"], a["row_offsets"],
            a["entry_rows"], a["tile_offsets"], a["tile_lists"], a["state"], a["events"], a["background_weight"],
            buffers.put(image_grad, config.dtype),
            scratch.working((batch, height, width, mode.state_width), config.dtype),
            scratch.working((a["entry_rows"].shape[0], COLUMNS), config.dtype),
            scratch.working((n_tiles, 3), config.dtype),
            table_grad, background_grad,
        )  # fmt: skip
        if buffers.taichi:  # Taichi ndarrays: hand numpy arrays back
            table_grad, background_grad = table_grad.to_numpy(), background_grad.to_numpy()
        return table_grad.reshape(batch, rows // batch, COLUMNS), background_grad


def rasterize(
    config: RenderConfig, kind_codes: np.ndarray, table, background, width: int, height: int, linear: bool
) -> RasterFrame:
    """Render a batch: ``table`` (B, M, COLUMNS), ``kind_codes`` (M,) the kind of each
    primitive, ``background`` (B, 3), into (B, H, W, 3) images (``frame.image``).
    ``linear`` compiles the linear-gradient fill (else slopes are ignored)."""
    batch, n_prims, columns = table.shape
    if columns != COLUMNS or tuple(background.shape) != (batch, 3) or len(kind_codes) != n_prims:
        raise ValueError(f"table {tuple(table.shape)}, background {tuple(background.shape)} and "
                         f"{len(kind_codes)} kinds do not fit together")  # fmt: skip
    check_image_size(batch, width, height)
    buffers = Buffers(table)
    dtype, tile = config.dtype, config.tile()
    codes = np.asarray(kind_codes, np.int32)
    kinds_present = tuple(kind for kind in KINDS if np.any(codes == kind.code))
    n_tiles = batch * (-(-width // tile)) * (-(-height // tile))
    a = {
        "table": buffers.put(table.reshape(batch * n_prims, COLUMNS), dtype),
        "kinds": buffers.put(codes, "i32"),
        "background": buffers.put(background, dtype),
        "guides": buffers.working((batch * n_prims, max(kind.guide_size for kind in kinds_present or KINDS)), dtype),
        "footprints": buffers.working((batch * n_prims, 4), dtype),
        "row_offsets": buffers.working((batch * n_prims + 1,), "i32"),
    }
    count = count_kernel(kinds_present, config.culling, dtype)
    entries = count(
        a["table"], a["kinds"], config.aa_width, tile, width, height, a["guides"], a["footprints"], a["row_offsets"]
    )
    a.update(
        entry_tiles=buffers.working((max(entries, 1),), "i32"),
        entry_rows=buffers.working((max(entries, 1),), "i32"),
        tile_offsets=buffers.working((n_tiles + 1,), "i32"),
        tile_fill=buffers.working((n_tiles,), "i32"),
        tile_lists=buffers.working((max(entries, 1),), "i32"),
        state=buffers.working((batch, height, width, MODES[config.mode].state_width), dtype),
        events=buffers.working((batch, height, width), "i32"),
        background_weight=buffers.working((batch, height, width), dtype),
        image=buffers.output((batch, height, width, 3), dtype),
    )
    forward = forward_kernel(kinds_present, MODES[config.mode], dtype, linear, config.culling)
    forward(
        a["table"], a["kinds"], a["background"], config.aa_width, tile,
        spread_for(n_tiles), a["guides"], a["footprints"], a["row_offsets"],
        a["entry_tiles"], a["entry_rows"], a["tile_offsets"], a["tile_fill"], a["tile_lists"], a["state"],
        a["events"], a["background_weight"], a["image"],
    )  # fmt: skip
    return RasterFrame(config, tile, kinds_present, linear, buffers, a)
