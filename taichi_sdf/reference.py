"""Brute-force numpy renderer: every primitive at every pixel, in float64.

An independent, obviously-correct implementation of the same image model, used by the
tests (tiled renderer == reference) and as a readable statement of the model.
"""

import numpy as np

from taichi_sdf.scene import Circles, Scene, Strokes, Triangles


def smooth_step(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def coverage(signed_distance: np.ndarray, aa_width: float) -> np.ndarray:
    return smooth_step(0.5 - 0.5 * signed_distance / aa_width)


def circle_coverage(points: np.ndarray, centre: np.ndarray, radius: float, aa_width: float) -> np.ndarray:
    """Coverage of one circle at (..., 2) pixel positions (area-exact corrected distance)."""
    offset = points - centre
    return coverage((np.sum(offset * offset, axis=-1) - radius * radius) / (2.0 * radius), aa_width)


def segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(np.sum((points - a) * ab, axis=-1) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
    return np.linalg.norm(points - a - t[..., None] * ab, axis=-1)


def triangle_sdf(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Exact signed distance to a triangle: distance to the nearest edge, negative inside."""
    distance = np.min([segment_distance(points, corners[k], corners[(k + 1) % 3]) for k in range(3)], axis=0)
    signs = []
    for k in range(3):
        a, b = corners[k], corners[(k + 1) % 3]
        signs.append(np.sign((b[0] - a[0]) * (points[..., 1] - a[1]) - (b[1] - a[1]) * (points[..., 0] - a[0])))
    inside = np.all(np.array(signs) >= 0, axis=0) | np.all(np.array(signs) <= 0, axis=0)
    return np.where(inside, -distance, distance)


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
            if isinstance(group, Circles):
                cov = circle_coverage(points, group.centres[i], group.radii[i], aa_width)
            elif isinstance(group, Triangles):
                cov = coverage(triangle_sdf(points, group.vertices[group.faces[i]]), aa_width)
            elif isinstance(group, Strokes):
                a, b = group.points[group.segments[i]]
                distance, half_width = segment_distance(points, a, b), 0.5 * group.widths[i]
                cov = coverage(distance - half_width, aa_width) - coverage(distance + half_width, aa_width)
            colour = np.broadcast_to(group.colours[i], points.shape[:2] + (3,))
            if anchors is not None:
                colour = np.clip(colour + (points - anchors[i]) @ group.slopes[i].T / scales[i], 0.0, 1.0)
            yield cov, colour, opacities[i]


def render_reference(scene: Scene, aa_width: float = 1.0, mode: str = "mean") -> np.ndarray:
    """(height, width, 3) float64 image of ``scene`` with the given compositing mode."""
    layers = list(primitive_layers(scene, aa_width))
    shape = (scene.height, scene.width)
    weighted = np.zeros(shape + (3,))
    if mode == "mean":
        total = np.zeros(shape)
        for cov, colour, opacity in layers:
            total += opacity * cov
            weighted += (opacity * cov)[..., None] * colour
        return weighted / np.maximum(1.0, total)[..., None] + scene.background * np.maximum(0.0, 1.0 - total)[..., None]
    remaining = np.ones(shape)
    for cov, colour, opacity in reversed(layers):  # front to back
        if mode == "over":
            weight = opacity * np.minimum(cov, remaining)
        elif mode == "alpha":
            weight = remaining * opacity * cov
        else:
            raise ValueError(f"unknown mode {mode!r}")
        weighted += weight[..., None] * colour
        remaining = remaining - weight
    return weighted + remaining[..., None] * scene.background
