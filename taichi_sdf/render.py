"""The renderer: owns the Taichi buffers and runs binning, forward and backward."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import taichi as ti

from taichi_sdf.kernels.binning import (
    binning_kernels,
    count_tile_entries,
    exclusive_scan,
    scatter_entries,
    sort_tiles,
)
from taichi_sdf.kernels.raster import raster_kernels
from taichi_sdf.scene import FILLS, Circles, Scene

DTYPES = {"f32": ti.f32, "f64": ti.f64}


@dataclass(frozen=True)
class RenderConfig:
    """Static settings of a :class:`Renderer` (each combination compiles its own kernels).

    tile_size: screen tile edge in pixels (8, 16 or 32).
    aa_width: half-width in pixels of the anti-aliasing band around every edge.
    dtype: 'f32' or 'f64' for parameters, images and gradients.
    fill: 'flat' or 'linear'; must match the scenes rendered.
    culling: False lists every primitive in every tile (the dense baseline for benchmarks).
    """

    tile_size: int = 16
    aa_width: float = 1.0
    dtype: str = "f32"
    fill: str = "flat"
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


class _FieldGroup:
    """Fields of one shape allocated in their own SNode tree, so they can be freed together."""

    def __init__(self, shape: tuple, **makers):
        builder = ti.FieldsBuilder()
        for name, make in makers.items():
            field = make()
            node = builder.dense(ti.axes(*range(len(shape))), shape) if shape else builder
            node.place(field, field.grad)
            setattr(self, name, field)
        self.shape = shape
        self._tree = builder.finalize()

    def destroy(self) -> None:
        self._tree.destroy()


class _TileBins:
    """Integer ndarrays of the binning pass, grown (never shrunk) as lists get longer."""

    def __init__(self, n_prims: int, n_tiles: int, dtype):
        self.footprints = ti.ndarray(dtype, (n_prims, 3))
        self.prim_counts = ti.ndarray(ti.i32, n_prims)
        self.prim_offsets = ti.ndarray(ti.i32, n_prims + 1)
        self.tile_counts = ti.ndarray(ti.i32, n_tiles)
        self.tile_offsets = ti.ndarray(ti.i32, n_tiles + 1)
        self.capacity = 0
        self.n_entries = 0
        self.reserve(max(n_prims, n_tiles))

    def reserve(self, n_entries: int) -> None:
        if n_entries > self.capacity:
            self.capacity = max(n_entries, self.capacity + self.capacity // 2)
            self.entry_tile = ti.ndarray(ti.i32, self.capacity)
            self.entry_prim = ti.ndarray(ti.i32, self.capacity)
            self.tile_lists = ti.ndarray(ti.i32, self.capacity)


class Renderer:
    """Renders :class:`Scene` s and back-propagates image gradients to their parameters.

    Requires ``ti.init`` to have been called. Buffers are sized for the last scene rendered
    and re-allocated only when the image size or primitive count changes.
    """

    def __init__(self, config: RenderConfig = RenderConfig()):
        self.config = config
        self._dtype = DTYPES[config.dtype]
        self._count, self._emit = binning_kernels(config.tile_size, config.aa_width, config.culling)
        self._forward, self._blend, self._splat, self._mse = raster_kernels(
            config.tile_size, config.aa_width, config.fill
        )
        self._pixels: _FieldGroup | None = None
        self._params: _FieldGroup | None = None
        self._scalars: _FieldGroup | None = None
        self._bins: _TileBins | None = None
        self._scene: Scene | None = None
        self._target_shape: tuple | None = None

    # ------------------------------------------------------------------ buffers
    def _prepare(self, scene: Scene) -> None:
        scene.check_values()
        if scene.fill != self.config.fill:
            raise ValueError(
                f"the scene has {scene.fill} fills but the renderer was configured with "
                f"fill={self.config.fill!r}; use RenderConfig(fill={scene.fill!r})"
            )
        self._ensure_pixels(scene.height, scene.width)
        dtype = self._dtype
        packed = scene.circles.pack()
        if self._params is None or self._params.shape != packed.shape:
            if self._params is not None:
                self._params.destroy()
            self._params = _FieldGroup(packed.shape, values=lambda: ti.field(dtype, needs_grad=True))
        if self._scalars is None:
            # 0-D fields: Taichi reduces into them thread-locally, an (1,)-shaped field
            # would take one contended atomic add per pixel.
            self._scalars = _FieldGroup(
                (),
                background=lambda: ti.Vector.field(3, dtype, needs_grad=True),
                loss=lambda: ti.field(dtype, needs_grad=True),
            )
        tiles = self.tile_grid(scene.width, scene.height)
        n_tiles = tiles[0] * tiles[1]
        if self._bins is None or self._bins.prim_counts.shape[0] != len(packed) or (
            self._bins.tile_counts.shape[0] != n_tiles
        ):
            self._bins = _TileBins(len(packed), n_tiles, dtype)
        self._params.values.from_numpy(packed.astype(self._numpy_dtype))
        self._scalars.background.from_numpy(scene.background.astype(self._numpy_dtype))
        self._scene = scene

    def _ensure_pixels(self, height: int, width: int) -> None:
        if self._pixels is not None and self._pixels.shape == (height, width):
            return
        if self._pixels is not None:
            self._pixels.destroy()
            self._target_shape = None
        dtype = self._dtype
        self._pixels = _FieldGroup(
            (height, width),
            coverage_sum=lambda: ti.field(dtype, needs_grad=True),
            colour_sum=lambda: ti.Vector.field(3, dtype, needs_grad=True),
            image=lambda: ti.Vector.field(3, dtype, needs_grad=True),
            target=lambda: ti.Vector.field(3, dtype, needs_grad=True),
        )

    @property
    def _numpy_dtype(self):
        return np.float32 if self.config.dtype == "f32" else np.float64

    def tile_grid(self, width: int, height: int) -> tuple[int, int]:
        """Number of tiles across and down for an image of this size."""
        t = self.config.tile_size
        return (width + t - 1) // t, (height + t - 1) // t

    # ------------------------------------------------------------------ passes
    def _bin(self) -> None:
        scene, bins, params = self._scene, self._bins, self._params.values
        self._count(params, scene.width, scene.height, bins.footprints, bins.prim_counts)
        total = exclusive_scan(bins.prim_counts, bins.prim_offsets)
        bins.reserve(total)
        bins.n_entries = total
        self._emit(scene.width, scene.height, bins.footprints, bins.prim_offsets, bins.entry_tile, bins.entry_prim)
        bins.tile_counts.fill(0)
        count_tile_entries(total, bins.entry_tile, bins.tile_counts)
        exclusive_scan(bins.tile_counts, bins.tile_offsets)
        bins.tile_counts.fill(0)  # reused as each tile's fill cursor
        scatter_entries(total, bins.entry_tile, bins.entry_prim, bins.tile_offsets, bins.tile_counts, bins.tile_lists)
        sort_tiles(bins.tile_offsets, bins.tile_lists)

    def _render(self, scene: Scene) -> None:
        self._prepare(scene)
        self._bin()
        px = self._pixels
        self._forward(
            self._params.values,
            self._scalars.background,
            self._bins.tile_offsets,
            self._bins.tile_lists,
            px.coverage_sum,
            px.colour_sum,
            px.image,
        )

    def render(self, scene: Scene) -> np.ndarray:
        """Render ``scene``; returns a (height, width, 3) float64 image (unclipped)."""
        self._render(scene)
        return self._pixels.image.to_numpy().astype(np.float64)

    def _backpropagate(self) -> Scene:
        px, params, scalars = self._pixels, self._params.values, self._scalars
        px.coverage_sum.grad.fill(0)
        px.colour_sum.grad.fill(0)
        params.grad.fill(0)
        scalars.background.grad.fill(0)
        self._blend.grad(px.coverage_sum, px.colour_sum, scalars.background, px.image)
        bins = self._bins
        self._splat.grad(
            bins.n_entries, bins.entry_tile, bins.entry_prim, bins.footprints, params, px.coverage_sum, px.colour_sum
        )
        scene = self._scene
        grads = Circles.unpack(params.grad.to_numpy().astype(np.float64), scene.fill)
        return scene.replace(background=scalars.background.grad.to_numpy().astype(np.float64), circles=grads)

    def backward(self, image_grad: np.ndarray) -> Scene:
        """Gradients of ``sum(image_grad * image)`` for the scene last passed to :meth:`render`.

        ``image_grad`` has the image's (height, width, 3) shape. Returns a Scene whose arrays
        hold the gradients of the matching parameters.
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
        self._target_shape = self._pixels.shape

    def loss_and_grad(self, scene: Scene) -> tuple[float, Scene]:
        """Mean squared error against the target, and its gradient as a Scene."""
        self._render(scene)
        if self._pixels.shape != self._target_shape:
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
        """Per tile (row-major), the primitive indices binned there by the last render."""
        offsets = self._bins.tile_offsets.to_numpy()
        lists = self._bins.tile_lists.to_numpy()
        return [lists[offsets[t] : offsets[t + 1]] for t in range(len(offsets) - 1)]
