"""Brute-force numpy renderer: every primitive at every pixel, in float64.

An independent, obviously-correct implementation of the same image model, used by the
tests (tiled renderer == reference) and as a readable statement of the model.
"""

import numpy as np

from taichi_sdf.scene import Scene


def smooth_step(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def circle_coverage(points: np.ndarray, centre: np.ndarray, radius: float, aa_width: float) -> np.ndarray:
    """Coverage of one circle at (..., 2) pixel positions (area-exact corrected distance)."""
    offset = points - centre
    distance = (np.sum(offset * offset, axis=-1) - radius * radius) / (2.0 * radius)
    return smooth_step(0.5 - 0.5 * distance / aa_width)


def pixel_centres(width: int, height: int) -> np.ndarray:
    """(height, width, 2) array of (x, y) pixel centres."""
    xs, ys = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    return np.stack([xs, ys], axis=-1)


def render_reference(scene: Scene, aa_width: float = 1.0) -> np.ndarray:
    """(height, width, 3) float64 image of ``scene`` with the order-free blend."""
    points = pixel_centres(scene.width, scene.height)
    total = np.zeros(points.shape[:2])
    weighted = np.zeros(points.shape[:2] + (3,))
    circles = scene.circles
    for i in range(len(circles)):
        centre, radius = circles.centres[i], circles.radii[i]
        cov = circle_coverage(points, centre, radius, aa_width)
        colour = np.broadcast_to(circles.colours[i], weighted.shape)
        if circles.slopes is not None:
            colour = colour + (points - centre) @ circles.slopes[i].T / radius
        total += cov
        weighted += cov[..., None] * colour
    return weighted / np.maximum(1.0, total)[..., None] + scene.background * np.maximum(0.0, 1.0 - total)[..., None]
