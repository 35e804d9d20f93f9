"""Rendering scenes: a :class:`Frame` per forward pass, and the :class:`Renderer` façade.

:meth:`Renderer.forward` renders a :class:`~taichi_sdf.scene.Scene`, or a batch of scenes
of the same structure in one binned pass, and returns a :class:`Frame` holding the images
and what their backward needs; :meth:`Frame.backward` turns an image gradient into
gradient scenes. Frames are independent: forward A, forward B, backward A, backward B
works. ``Renderer.render`` / ``Renderer.backward`` are a convenience over the last frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taichi_sdf.buffers import to_numpy
from taichi_sdf.config import RenderConfig
from taichi_sdf.raster import rasterize
from taichi_sdf.scene import Scene
from taichi_sdf.table import kind_codes, outline, pack, pack_segments, unpack_grad

__all__ = ["Frame", "RenderConfig", "Renderer", "stack_parameters"]

_HINT = " (a shape group draws inside a scene: Scene(width, height, background, (group,)))"


def stack_parameters(scenes: Sequence[Scene]) -> dict[str, np.ndarray]:
    """The parameters of scenes of one structure, each stacked along a new batch axis."""
    first = scenes[0]
    structure = first.structure()
    for index, scene in enumerate(scenes[1:], start=1):
        if scene.structure() != structure:
            raise ValueError(
                f"scene {index} of the batch differs from scene 0 in size, groups, counts, index arrays or "
                "which optional parameters it has; a batch renders scenes of one structure"
            )
    return {key: np.stack([scene.parameters()[key] for scene in scenes]) for key in first.parameters()}


class Frame:
    """One forward pass of a scene or a batch of scenes.

    ``image`` is (height, width, 3) for a single scene and (B, height, width, 3) for a
    batch, unclipped, in the render's dtype (float32 unless ``RenderConfig(dtype="f64")``).
    """

    def __init__(self, scenes: Sequence[Scene], single: bool, config: RenderConfig):
        self.scenes, self.single = list(scenes), single
        template = self.scenes[0]
        values = stack_parameters(self.scenes)
        background = values.pop("background")
        structure = outline(template)
        self._raster = rasterize(
            config, kind_codes(template), pack(template, values), background, template.width, template.height,
            linear=template.fill == "linear", segments=None if structure is None else pack_segments(template, values),
            outline=structure,
        )  # fmt: skip
        image = to_numpy(self._raster.image)
        self.image = image[0] if single else image

    def backward(self, image_grad: np.ndarray) -> Scene | list[Scene]:
        """Gradients of ``sum(image_grad * image)``: a Scene (a list of them for a batch)
        whose parameter arrays hold the gradients of the matching parameters."""
        grads = self.parameter_grads(image_grad)
        scenes = [
            scene.with_parameters({key: value[b] for key, value in grads.items()})
            for b, scene in enumerate(self.scenes)
        ]
        return scenes[0] if self.single else scenes

    def parameter_grads(self, image_grad: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of ``sum(image_grad * image)`` by parameter key (``"background"``,
        ``"0.centres"``, ...), each stacked along a batch axis, (B, ...) float64 (B = 1 for
        a single scene): what :meth:`backward` puts into scenes, for callers that keep
        parameters stacked (a batched fit)."""
        image_grad = np.asarray(image_grad)
        if image_grad.shape != self.image.shape:
            raise ValueError(f"image_grad must have shape {self.image.shape}, got {image_grad.shape}")
        table_grad, background_grad, segment_grad = self._raster.backward(
            image_grad[None] if self.single else image_grad
        )
        template = self.scenes[0]
        present = {key: np.shape(value) for key, value in template.parameters().items() if key != "background"}
        if segment_grad is not None:
            segment_grad = to_numpy(segment_grad).astype(np.float64)
        grads = unpack_grad(template, to_numpy(table_grad).astype(np.float64), present, segment_grad)
        return {"background": to_numpy(background_grad).astype(np.float64), **grads}

    def tile_lists(self) -> list[np.ndarray] | list[list[np.ndarray]]:
        """Per tile (row-major), the primitive indices binned there (counting through the
        scene's groups in order); per image of a batch, such a list."""
        lists = self._raster.tile_lists()
        return lists[0] if self.single else lists


class Renderer:
    """Renders scenes with one :class:`RenderConfig`; requires ``ti.init`` to have been called.

    ``forward`` returns a :class:`Frame`; ``render`` its image, keeping the frame so that
    ``backward`` can differentiate it (the convenient form for one scene at a time).
    """

    def __init__(self, config: RenderConfig = RenderConfig()):
        if not isinstance(config, RenderConfig):
            raise TypeError(f"Renderer takes a RenderConfig, got {type(config).__name__}")
        self.config = config
        self._last: Frame | None = None

    def forward(self, scenes: Scene | Sequence[Scene]) -> Frame:
        """Render a scene, or a non-empty sequence of scenes of the same structure."""
        single = isinstance(scenes, Scene)
        if not single and not isinstance(scenes, Sequence):
            raise TypeError(f"expected a Scene or a sequence of scenes, got {type(scenes).__name__}{_HINT}")
        scenes = [scenes] if single else list(scenes)
        if not scenes:
            raise ValueError("no scenes to render")
        for scene in scenes:
            if not isinstance(scene, Scene):
                raise TypeError(f"expected a Scene, got {type(scene).__name__}{_HINT}")
            scene.check_values()
        return Frame(scenes, single, self.config)

    def render(self, scenes: Scene | Sequence[Scene]) -> np.ndarray:
        """The image (height, width, 3) of a scene, or (B, height, width, 3) of a batch."""
        self._last = self.forward(scenes)
        return self._last.image

    def backward(self, image_grad: np.ndarray) -> Scene | list[Scene]:
        """:meth:`Frame.backward` of the last :meth:`render`."""
        if self._last is None:
            raise RuntimeError("call render() before backward()")
        return self._last.backward(image_grad)

    def tile_lists(self):
        """:meth:`Frame.tile_lists` of the last :meth:`render`."""
        if self._last is None:
            raise RuntimeError("call render() before tile_lists()")
        return self._last.tile_lists()
