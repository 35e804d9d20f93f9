"""A PyTorch op: render batches of scenes from tensors, differentiably (extra ``torch``).

Three layers, as in gsplat and nvdiffrast: :func:`render` checks and tidies its inputs
and builds the primitive table from the parameter tensors with differentiable torch
operations (so autograd sums the gradients of shared mesh vertices); a private
``torch.autograd.Function`` runs the binned kernels of :mod:`taichi_sdf.raster` on the
table, keeping the frame in its context for the backward pass; the kernels read and write
the tensors in place (CPU tensors, or CUDA tensors when Taichi runs on CUDA).

    import taichi as ti, torch
    import taichi_sdf as tsdf
    from taichi_sdf.torch import parameters, render

    ti.init(arch=ti.cpu)
    scene = tsdf.Scene(64, 48, [1, 1, 1], (tsdf.Circles([[20, 20], [40, 30]], [8, 6], [[1, 0, 0], [0, 0, 1]]),))
    params = parameters(scene, batch=4, requires_grad=True)   # {"0.centres": (4, 2, 2), ...}
    images = render(scene, params)                           # (4, 48, 64, 3)
    images.mean().backward()                                 # params["0.centres"].grad, ...
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import taichi as ti
import torch

from taichi_sdf.config import RenderConfig
from taichi_sdf.groups import MAX_VALUE, describe_bad
from taichi_sdf.raster import rasterize
from taichi_sdf.scene import Scene
from taichi_sdf.table import kind_codes, outline, pack, pack_segments

__all__ = ["parameters", "render"]

_DTYPES = {"f32": torch.float32, "f64": torch.float64}


def parameters(
    scene: Scene, batch: int = 1, device=None, dtype=torch.float32, requires_grad: bool = False
) -> dict[str, torch.Tensor]:
    """``scene.parameters()`` as tensors with a leading batch axis of ``batch`` copies."""
    return {
        key: torch.tensor(np.broadcast_to(value, (batch, *np.shape(value))), dtype=dtype, device=device)
        .contiguous()
        .requires_grad_(requires_grad)
        for key, value in scene.parameters().items()
    }


class _Rasterize(torch.autograd.Function):
    """The kernels as an autograd Function: (B, M, COLUMNS) table, (B, 3) background and
    (B, Q, SEGMENT_SIZE) segment table (None without paths) to (B, H, W, 3) images, and back."""

    @staticmethod
    def forward(ctx, table, background, segments, config, codes, structure, width, height, linear):
        ctx.frame = rasterize(config, codes, table, background, width, height, linear, segments, structure)
        return ctx.frame.image

    @staticmethod
    def backward(ctx, image_grad):
        table_grad, background_grad, segment_grad = ctx.frame.backward(image_grad.contiguous())
        return table_grad, background_grad, segment_grad, None, None, None, None, None, None


def _check(scene: Scene, values: dict[str, torch.Tensor]) -> int:
    """The batch size of ``values`` (tensors named like ``scene.parameters()``), or a
    ValueError naming the first tensor that does not fit the scene, or the first value
    that is NaN, infinite or beyond what a render holds (tensor and index)."""
    shapes = {"background": (3,)}
    for index, group in enumerate(scene.shapes):
        shapes.update({f"{index}.{name}": group.parameter_shape(name) for name in group.PARAMETERS})
    batch = None
    for key, value in values.items():
        if key not in shapes:
            raise ValueError(f"unknown parameter {key!r}; the scene takes {', '.join(shapes)}")
        if not isinstance(value, torch.Tensor) or not torch.is_floating_point(value):
            raise ValueError(f"{key} must be a floating-point tensor")
        if value.ndim == 0 or tuple(value.shape[1:]) != shapes[key] or value.shape[0] != (batch or value.shape[0]):
            raise ValueError(f"{key} must have shape (B, {', '.join(map(str, shapes[key]))}) with the same B as the "
                             f"others, got {tuple(value.shape)}")  # fmt: skip
        batch = value.shape[0]
        bad = ~(value.detach().abs() <= MAX_VALUE)  # one reduction per tensor; NaN compares false
        if bool(bad.any()):
            index = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(describe_bad(key, index, float(value.detach()[index])))
        if value.is_cuda and ti.lang.impl.current_cfg().arch != ti.cuda:
            raise ValueError(f"{key} is a CUDA tensor but Taichi does not run on CUDA: ti.init(arch=ti.cuda)")
    for index, group in enumerate(scene.shapes):
        for name, what in group.POSITIVE.items():
            key = f"{index}.{name}"
            if key in values and bool((values[key] <= 0).any()):
                raise ValueError(f"{key}: {what} must be positive (a softplus keeps a network's output so)")
        key = f"{index}.opacities"
        if key in values and bool(((values[key] < 0) | (values[key] > 1)).any()):
            raise ValueError(f"{key}: opacities must lie in [0, 1] (a sigmoid keeps a network's output so)")
    if not batch:
        raise ValueError("the batch is empty")
    return batch


def render(scene: Scene, params: dict[str, torch.Tensor], config: RenderConfig = RenderConfig()) -> torch.Tensor:
    """Render a batch of scenes shaped like ``scene`` into (B, H, W, 3) images.

    ``params`` maps names of ``scene.parameters()`` (``"0.centres"``, ``"background"``,
    ...) to tensors with a leading batch axis B, e.g. (B, N, 2) centres; parameters left
    out keep ``scene``'s values for every image, and an optional one the scene lacks (such
    as ``"0.opacities"``) may be given. ``scene`` fixes the rest: the size, the groups,
    their counts and index arrays (a network's output has one structure). Gradients flow to
    every tensor given (positions and sizes in pixels, colours in [0, 1]). Images are
    unclipped, in ``config.dtype``.

    Every value is checked before rendering (one reduction per tensor): a NaN, an
    infinity or a value beyond +-1e6 (which a float32 render cannot hold) is a ValueError
    naming the tensor and the first bad index, as a non-positive radius or width and an
    opacity outside [0, 1] are. A NaN would otherwise make its shape vanish with a zero
    gradient, and a training run would go on without it.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must map parameter names to tensors, got {type(params).__name__}")
    if not params:
        raise ValueError("params is empty: give at least one tensor (its first axis is the batch)")
    if not isinstance(scene, Scene):
        raise TypeError(f"render takes a template Scene, got {type(scene).__name__}")
    if not isinstance(config, RenderConfig):
        raise TypeError(f"render takes a RenderConfig, got {type(config).__name__}")
    scene.check_values()
    batch = _check(scene, params)
    some = next(iter(params.values()))
    dtype, device = _DTYPES[config.dtype], some.device
    values = {key: torch.as_tensor(value, dtype=dtype, device=device).expand(batch, *np.shape(value))
              for key, value in scene.parameters().items()}  # fmt: skip
    values.update({key: value.to(dtype) for key, value in params.items()})
    background = values.pop("background")
    linear = any(key.endswith(".slopes") for key in values)
    structure = outline(scene)
    segments = None if structure is None else pack_segments(scene, values)
    return _Rasterize.apply(pack(scene, values), background, segments, config, kind_codes(scene), structure,
                            scene.width, scene.height, linear)  # fmt: skip
