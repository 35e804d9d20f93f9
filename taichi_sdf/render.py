"""The renderer: owns the Taichi buffers and runs gather, binning, forward and backward."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import taichi as ti

from taichi_sdf.kernels.binning import (
    binning_kernels,
    count_tile_entries,
    exclusive_scan,
    scatter_entries,
    sort_tiles,
)
from taichi_sdf.kernels.gather import gather_kernels
from taichi_sdf.kernels.primitives import CIRCLE, COLUMNS, SEGMENT, TRIANGLE
from taichi_sdf.kernels.raster import MODES, raster_kernels
from taichi_sdf.scene import Circles, Scene, ShapeGroup, Strokes, Triangles

DTYPES = {"f32": ti.f32, "f64": ti.f64}
FILLS = ("flat", "linear")


@dataclass(frozen=True)
class RenderConfig:
    """Static settings of a :class:`Renderer` (each combination compiles its own kernels).

    tile_size: screen tile edge in pixels (8, 16 or 32).
    aa_width: half-width in pixels of the anti-aliasing band around every edge.
    dtype: 'f32' or 'f64' for parameters, images and gradients.
    fill: 'flat' renders flat fills only; 'linear' also linear-gradient fills.
    mode: 'mean' (order-free blend), 'over' (seam-free depth order) or 'alpha' (classic
        alpha compositing, which leaves seams along shared edges).
    culling: False lists every primitive in every tile (the dense baseline for benchmarks).
    """

    tile_size: int = 16
    aa_width: float = 1.0
    dtype: str = "f32"
    fill: str = "flat"
    mode: str = "mean"
    culling: bool = True

    def __post_init__(self):
        if self.tile_size not in (8, 16, 32):
            raise ValueError(f"tile_size must be 8, 16 or 32, got {self.tile_size}")
        if not self.aa_width > 0:
            raise ValueError(f"aa_width must be positive, got {self.aa_width}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {self.fill!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")


@functools.cache
def _scalars(dtype) -> SimpleNamespace:
    """0-D fields shared by every renderer of a dtype (so kernels compile once for all).

    Fields, not ndarrays: Taichi reduces into a 0-D field thread-locally, where an ndarray
    element takes one contended atomic add per pixel. Renderers upload ``background``
    before every pass that reads it; ``loss`` and ``surrogate`` live within one call.
    """
    builder = ti.FieldsBuilder()
    scalars = SimpleNamespace(
        background=ti.Vector.field(3, dtype, needs_grad=True),
        loss=ti.field(dtype, needs_grad=True),
        surrogate=ti.field(dtype, needs_grad=True),
    )
    for field in vars(scalars).values():
        builder.place(field, field.grad)
    builder.finalize()
    return scalars


class _Storage:
    """Allocates the differentiable buffers: ndarrays where Taichi can differentiate them
    (CPU, CUDA), so one compilation serves every size, else fields (Vulkan, Metal, OpenGL),
    which kernels take as templates and compile for once per allocation."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.fields = ti.lang.impl.current_cfg().arch not in (ti.x64, ti.arm64, ti.cuda)

    def array(self, shape: tuple, grad: bool = True, vector: int = 0):
        element = ti.types.vector(vector, self.dtype) if vector else self.dtype
        if not self.fields:
            return ti.ndarray(element, shape, needs_grad=grad)
        field = (
            ti.Vector.field(vector, self.dtype, needs_grad=grad) if vector else ti.field(self.dtype, needs_grad=grad)
        )
        builder = ti.FieldsBuilder()
        builder.dense(ti.axes(*range(len(shape))), shape).place(field, *([field.grad] if grad else []))
        builder.finalize()
        return field


# Per group type: its table kind, its integer index array, and its parameter arrays in the
# gather kernel's order with their width and the default used when a group omits an
# optional one (a flat fill has zero slopes; no opacities means opaque).
_GROUP_LAYOUT = {
    Circles: (CIRCLE, None, (("centres", 2, None), ("radii", 1, None))),
    Triangles: (TRIANGLE, "faces", (("vertices", 2, None),)),
    Strokes: (SEGMENT, "segments", (("points", 2, None), ("widths", 1, None))),
}
_FILL_PARAMETERS = (("colours", 3, None), ("slopes", 6, 0.0), ("opacities", 1, 1.0))


class _GroupBuffers:
    """Taichi copies of one shape group's parameters, and its gather into the table."""

    def __init__(self, group: ShapeGroup, storage: _Storage):
        self.kind, self._index_name, geometry = _GROUP_LAYOUT[type(group)]
        self._gather = gather_kernels(storage.fields)[type(group).__name__]
        self._layout = geometry + _FILL_PARAMETERS
        self.signature = self.signature_of(group)
        self.fields = {name: storage.array(array.shape) for name, array in self._arrays(group).items()}
        self.index = None
        if self._index_name:
            self.index = ti.ndarray(ti.i32, getattr(group, self._index_name).shape)

    @staticmethod
    def signature_of(group: ShapeGroup) -> tuple:
        """What decides the buffers' shapes: reuse them while it stays the same."""
        return (type(group), len(group)) + tuple(np.shape(v) for v in group.parameters().values())

    def _arrays(self, group: ShapeGroup) -> dict[str, np.ndarray]:
        arrays = {}
        for name, width, default in self._layout:
            value = getattr(group, name, None)
            arrays[name] = np.full((len(group), width), default) if value is None else np.reshape(value, (-1, width))
        return arrays

    def upload(self, group: ShapeGroup, numpy_dtype) -> None:
        for name, array in self._arrays(group).items():
            self.fields[name].from_numpy(array.astype(numpy_dtype))
        if self.index is not None:
            self.index.from_numpy(getattr(group, self._index_name))

    def _arguments(self, offset: int, table) -> list:
        fields = [self.fields[name] for name, _, _ in self._layout]
        if self.index is not None:
            fields.insert(1, self.index)
        return [offset, *fields, table]

    def gather(self, offset: int, table) -> None:
        self._gather(*self._arguments(offset, table))

    def gather_grad(self, offset: int, table) -> None:
        for name, _, _ in self._layout:
            self.fields[name].grad.fill(0)
        self._gather.grad(*self._arguments(offset, table))

    def gradients(self, group: ShapeGroup) -> ShapeGroup:
        """A copy of ``group`` whose parameter arrays hold their gradients."""
        grads = {}
        for name, value in group.parameters().items():
            grads[name] = self.fields[name].grad.to_numpy().astype(np.float64).reshape(value.shape)
        return group.with_parameters(grads)


class _TileBins:
    """Integer ndarrays of the binning pass (and per-entry state of the layered modes),
    grown, never shrunk, as the lists get longer."""

    def __init__(self, n_prims: int, n_tiles: int, dtype, entry_pixels: int):
        self.footprints = ti.ndarray(dtype, (n_prims, 9))  # bounding circle, then geometry
        self.prim_counts = ti.ndarray(ti.i32, n_prims)
        self.prim_offsets = ti.ndarray(ti.i32, n_prims + 1)
        self.tile_counts = ti.ndarray(ti.i32, n_tiles)
        self.tile_offsets = ti.ndarray(ti.i32, n_tiles + 1)
        self._dtype = dtype
        self._entry_pixels = entry_pixels
        self.capacity = 0
        self.n_entries = 0
        self.reserve(max(n_prims, n_tiles))

    def reserve(self, n_entries: int) -> None:
        if n_entries <= self.capacity:
            return
        self.capacity = max(n_entries, self.capacity + self.capacity // 2)
        self.entry_tile = ti.ndarray(ti.i32, self.capacity)
        self.entry_prim = ti.ndarray(ti.i32, self.capacity)
        self.tile_lists = ti.ndarray(ti.i32, self.capacity)
        self.list_tiles = ti.ndarray(ti.i32, self.capacity)
        # Layered modes keep, per (entry, pixel of its tile), the remaining area in front
        # and the adjoint behind; the mean mode needs neither (one-row placeholders).
        rows = self.capacity if self._entry_pixels else 1
        self.entry_remaining = ti.ndarray(self._dtype, (rows, max(self._entry_pixels, 1)))
        self.entry_adjoint = ti.ndarray(self._dtype, (rows, max(self._entry_pixels, 1)))


class Renderer:
    """Renders :class:`Scene` s and back-propagates image gradients to their parameters.

    Requires ``ti.init`` to have been called. Buffers are sized for the last scene rendered
    and re-allocated only when the image size or the scene's structure changes.
    """

    def __init__(self, config: RenderConfig = RenderConfig()):
        self.config = config
        self._dtype = DTYPES[config.dtype]
        self._numpy_dtype = np.float32 if config.dtype == "f32" else np.float64
        self._storage = _Storage(self._dtype)
        fields = self._storage.fields
        self._count, self._emit = binning_kernels(config.tile_size, config.aa_width, config.culling, fields)
        (self._forward, self._blend, self._splats, self._reverse_walk, self._mse) = raster_kernels(
            config.tile_size, config.aa_width, config.fill == "linear", config.mode, self._dtype, fields
        )
        self._layered = config.mode != "mean"
        self._scalars = _scalars(self._dtype)
        self._pixels: SimpleNamespace | None = None
        self._groups: list[_GroupBuffers] = []
        self._table = None
        self._bins: _TileBins | None = None
        self._scene: Scene | None = None
        self._target_shape: tuple | None = None

    # ------------------------------------------------------------------ buffers
    def _prepare(self, scene: Scene) -> None:
        scene.check_values()
        if scene.fill == "linear" and self.config.fill != "linear":
            raise ValueError(
                "the scene has linear fills but the renderer has fill='flat'; use RenderConfig(fill='linear')"
            )
        self._ensure_pixels(scene.height, scene.width)
        dtype = self._dtype
        if [g.signature for g in self._groups] != [_GroupBuffers.signature_of(g) for g in scene.shapes]:
            self._groups = [_GroupBuffers(group, self._storage) for group in scene.shapes]
        n_prims = len(scene)
        if self._table is None or self._table.shape != (n_prims, COLUMNS):
            self._table = self._storage.array((n_prims, COLUMNS))
            self._kinds = ti.ndarray(ti.i32, n_prims)
        self._kinds.from_numpy(
            np.concatenate([np.full(len(g), b.kind, np.int32) for g, b in zip(scene.shapes, self._groups)])
        )
        n_tiles = int(np.prod(self.tile_grid(scene.width, scene.height)))
        bins = self._bins
        if bins is None or bins.prim_counts.shape[0] != n_prims or bins.tile_counts.shape[0] != n_tiles:
            entry_pixels = self.config.tile_size**2 if self._layered else 0
            self._bins = _TileBins(n_prims, n_tiles, dtype, entry_pixels)
        offset = 0
        for group, buffers in zip(scene.shapes, self._groups):
            buffers.upload(group, self._numpy_dtype)
            buffers.gather(offset, self._table)
            offset += len(group)
        self._scene = scene

    def _ensure_pixels(self, height: int, width: int) -> None:
        size = (height, width)
        if self._pixels is not None and self._pixels.image.shape == size:
            return
        array = self._storage.array
        self._pixels = SimpleNamespace(
            coverage_sum=array(size),
            colour_sum=array(size, vector=3),
            image=array(size, vector=3),
            target=array(size, grad=False, vector=3),
            pixel_grad=ti.ndarray(self._dtype, (height, width, 3) if self._layered else (1, 1, 3)),
        )
        self._target_shape = None

    def tile_grid(self, width: int, height: int) -> tuple[int, int]:
        """Number of tiles across and down for an image of this size."""
        t = self.config.tile_size
        return (width + t - 1) // t, (height + t - 1) // t

    # ------------------------------------------------------------------ passes
    def _bin(self) -> None:
        scene, bins, table = self._scene, self._bins, self._table
        self._count(table, self._kinds, scene.width, scene.height, bins.footprints, bins.prim_counts)
        total = exclusive_scan(bins.prim_counts, bins.prim_offsets)
        bins.reserve(total)
        bins.n_entries = total
        self._emit(
            table,
            self._kinds,
            scene.width,
            scene.height,
            bins.footprints,
            bins.prim_offsets,
            bins.entry_tile,
            bins.entry_prim,
        )
        bins.tile_counts.fill(0)
        count_tile_entries(total, bins.entry_tile, bins.tile_counts)
        exclusive_scan(bins.tile_counts, bins.tile_offsets)
        bins.tile_counts.fill(0)  # reused as each tile's fill cursor
        scatter_entries(
            total,
            bins.entry_tile,
            bins.entry_prim,
            bins.tile_offsets,
            bins.tile_counts,
            bins.tile_lists,
            bins.list_tiles,
        )
        sort_tiles(bins.tile_offsets, bins.tile_lists)

    def _render(self, scene: Scene) -> None:
        self._prepare(scene)
        self._bin()
        px, bins = self._pixels, self._bins
        self._scalars.background.from_numpy(scene.background.astype(self._numpy_dtype))
        self._forward(
            self._table,
            self._kinds,
            self._scalars.background,
            bins.tile_offsets,
            bins.tile_lists,
            bins.entry_remaining,
            px.coverage_sum,
            px.colour_sum,
            px.image,
        )

    def render(self, scene: Scene) -> np.ndarray:
        """Render ``scene``; returns a (height, width, 3) float64 image (unclipped)."""
        self._render(scene)
        return self._pixels.image.to_numpy().astype(np.float64)

    def _backpropagate(self) -> Scene:
        px, table, scalars, bins, scene = self._pixels, self._table, self._scalars, self._bins, self._scene
        px.coverage_sum.grad.fill(0)
        px.colour_sum.grad.fill(0)
        table.grad.fill(0)
        scalars.background.from_numpy(scene.background.astype(self._numpy_dtype))  # shared: may be stale
        scalars.background.grad.fill(0)
        self._blend.grad(px.coverage_sum, px.colour_sum, scalars.background, px.image)
        if self._layered:
            self._reverse_walk(
                table,
                self._kinds,
                bins.tile_offsets,
                bins.tile_lists,
                bins.entry_remaining,
                bins.entry_adjoint,
                px.pixel_grad,
                px.coverage_sum.grad,
                px.colour_sum.grad,
            )
            scalars.surrogate.grad.fill(1)
        for kind in {buffers.kind for buffers in self._groups}:
            self._splats[kind].grad(
                bins.n_entries,
                bins.list_tiles,
                bins.tile_lists,
                bins.footprints,
                bins.entry_remaining,
                bins.entry_adjoint,
                px.pixel_grad,
                table,
                self._kinds,
                px.coverage_sum,
                px.colour_sum,
                scalars.surrogate,
            )
        offset, shapes = 0, []
        for group, buffers in zip(scene.shapes, self._groups):
            buffers.gather_grad(offset, table)
            shapes.append(buffers.gradients(group))
            offset += len(group)
        background = scalars.background.grad.to_numpy().astype(np.float64)
        return scene.replace(background=background, shapes=tuple(shapes))

    def backward(self, image_grad: np.ndarray) -> Scene:
        """Gradients of ``sum(image_grad * image)`` for the scene last passed to :meth:`render`.

        ``image_grad`` has the image's (height, width, 3) shape. Returns a Scene whose
        parameter arrays hold the gradients of the matching parameters.
        """
        if self._scene is None:
            raise RuntimeError("call render() before backward()")
        expected = (self._scene.height, self._scene.width, 3)
        if np.shape(image_grad) != expected:
            raise ValueError(f"image_grad must have shape {expected}, got {np.shape(image_grad)}")
        self._pixels.image.grad.from_numpy(np.asarray(image_grad, dtype=self._numpy_dtype))
        return self._backpropagate()

    def set_target(self, target: np.ndarray) -> None:
        """Target image for :meth:`loss_and_grad`, (height, width, 3) in [0, 1]."""
        if np.ndim(target) != 3 or np.shape(target)[2] != 3:
            raise ValueError(f"target must have shape (height, width, 3), got {np.shape(target)}")
        self._ensure_pixels(*np.shape(target)[:2])
        self._pixels.target.from_numpy(np.asarray(target, dtype=self._numpy_dtype))
        self._target_shape = self._pixels.image.shape

    def loss_and_grad(self, scene: Scene) -> tuple[float, Scene]:
        """Mean squared error against the target, and its gradient as a Scene."""
        self._render(scene)
        if self._pixels.image.shape != self._target_shape:
            raise ValueError("call set_target() with an image of the scene's size first")
        px, scalars = self._pixels, self._scalars
        scalars.loss.fill(0)
        self._mse(px.image, px.target, scalars.loss)
        loss = float(scalars.loss[None])
        px.image.grad.fill(0)
        scalars.loss.grad.fill(1)
        self._mse.grad(px.image, px.target, scalars.loss)
        return loss, self._backpropagate()

    def tile_lists(self) -> list[np.ndarray]:
        """Per tile (row-major), the primitive indices binned there by the last render
        (indices count through the scene's groups in order)."""
        offsets = self._bins.tile_offsets.to_numpy()
        lists = self._bins.tile_lists.to_numpy()
        return [lists[offsets[t] : offsets[t + 1]] for t in range(len(offsets) - 1)]
