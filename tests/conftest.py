"""One Taichi runtime per test session: CPU, float64 by default (for finite differences)."""

import numpy as np
import pytest
import taichi as ti

from taichi_sdf import Circles, Scene


@pytest.fixture(scope="session", autouse=True)
def taichi_runtime():
    ti.init(arch=ti.cpu, default_fp=ti.f64, log_level=ti.WARN)
    yield
    ti.reset()


def random_scene(rng: np.random.Generator, n: int, width: int, height: int, fill: str, margin: float = 6.0) -> Scene:
    """Overlapping circles of radius 2-12 px, some crossing tile borders or the image edge."""
    circles = Circles(
        centres=rng.uniform(-margin, 1.0, (n, 2)) * [1, 1] + rng.uniform(0, 1, (n, 2)) * [width + margin, height + margin],
        radii=rng.uniform(2.0, 12.0, n),
        colours=rng.uniform(0.0, 1.0, (n, 3)),
        slopes=rng.normal(0.0, 0.3, (n, 3, 2)) if fill == "linear" else None,
    )
    return Scene(width, height, rng.uniform(0.0, 1.0, 3), circles)
