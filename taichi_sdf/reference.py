"""Brute-force numpy renderer: every primitive at every pixel, in float64.

An independent, obviously-correct implementation of the same image model, used by the
tests (tiled renderer == reference) and as a readable statement of the model. Each kind's
coverage comes from its module's ``reference_coverage``, each mode's compositing from its
module's ``reference``.
"""

import numpy as np

from taichi_sdf.kinds import kind_of
from taichi_sdf.modes import MODES
from taichi_sdf.scene import Scene


def pixel_centres(width: int, height: int) -> np.ndarray:
    """(height, width, 2) array of (x, y) pixel centres."""
    xs, ys = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    return np.stack([xs, ys], axis=-1)


def primitive_layers(scene: Scene, aa_width: float = 1.0):
    """Yield (coverage (H, W), colour (H, W, 3), opacity) for every primitive, bottom first."""
    points = pixel_centres(scene.width, scene.height)
    for group in scene.shapes:
        opacities = group.opacity_array()
        anchors, scales = group.fill_frames() if group.fill == "linear" else (None, None)
        for i in range(len(group)):
            cov = kind_of(group).reference_coverage(group, i, points, aa_width)
            colour = np.broadcast_to(group.colours[i], points.shape[:2] + (3,))
            if anchors is not None:
                colour = colour + (points - anchors[i]) @ group.slopes[i].T / scales[i]
            yield cov, np.clip(colour, 0.0, 1.0), opacities[i]


def render_reference(scene: Scene, aa_width: float = 1.0, mode: str = "mean") -> np.ndarray:
    """(height, width, 3) float64 image of ``scene`` with the given compositing mode."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    layers = list(primitive_layers(scene, aa_width))
    return MODES[mode].reference(layers, scene.background, (scene.height, scene.width))
