"""Gradients from the binned backward pass against central finite differences, in float64."""

import numpy as np
import pytest
from conftest import random_scene

from taichi_sdf import Circles, RenderConfig, Renderer

GROUPS = {"flat": ["centres", "radii", "colours", "background"], "linear": ["centres", "radii", "colours", "slopes", "background"]}


def directional_check(fill: str, group: str, tile_size: int = 16, seed: int = 0):
    """Return <v, J u> from backward() and from central differences of <v, render>."""
    rng = np.random.default_rng(seed)
    scene = random_scene(rng, 30, width=45, height=35, fill=fill)
    renderer = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", fill=fill))
    cotangent = rng.normal(size=(scene.height, scene.width, 3))
    packed = scene.circles.pack()
    direction = np.zeros_like(packed)
    background_direction = np.zeros(3)
    if group == "background":
        background_direction = rng.normal(size=3)
    else:
        columns = Circles.param_groups(fill)[group]
        direction[:, columns] = rng.normal(size=direction[:, columns].shape)

    renderer.render(scene)
    grad = renderer.backward(cotangent)
    analytic = np.sum(grad.circles.pack() * direction) + grad.background @ background_direction

    def objective(eps: float) -> float:
        moved = scene.replace(
            circles=Circles.unpack(packed + eps * direction, fill),
            background=scene.background + eps * background_direction,
        )
        return float(np.sum(cotangent * renderer.render(moved)))

    eps = 1e-6
    numeric = (objective(eps) - objective(-eps)) / (2 * eps)
    return analytic, numeric


@pytest.mark.parametrize("fill,group", [(fill, group) for fill in GROUPS for group in GROUPS[fill]])
def test_gradient_matches_finite_differences(fill, group):
    analytic, numeric = directional_check(fill, group)
    assert abs(numeric) > 1e-3  # the direction really moves the image
    assert abs(analytic - numeric) <= 1e-6 * abs(numeric)


@pytest.mark.parametrize("tile_size", [8, 32])
def test_gradient_independent_of_tile_size(tile_size):
    analytic, numeric = directional_check("linear", "centres", tile_size=tile_size, seed=3)
    assert abs(analytic - numeric) <= 1e-6 * abs(numeric)


def test_loss_and_grad_is_gradient_of_mse():
    rng = np.random.default_rng(11)
    scene = random_scene(rng, 20, width=30, height=20, fill="linear")
    target = rng.uniform(size=(20, 30, 3))
    renderer = Renderer(RenderConfig(dtype="f64", fill="linear"))
    renderer.render(scene)
    renderer.set_target(target)
    loss, grad = renderer.loss_and_grad(scene)
    assert loss == pytest.approx(np.mean((renderer.render(scene) - target) ** 2), rel=1e-12)
    direction = rng.normal(size=scene.circles.pack().shape)

    def mse(eps):
        moved = scene.replace(circles=Circles.unpack(scene.circles.pack() + eps * direction, "linear"))
        return np.mean((renderer.render(moved) - target) ** 2)

    numeric = (mse(1e-6) - mse(-1e-6)) / 2e-6
    assert np.sum(grad.circles.pack() * direction) == pytest.approx(numeric, rel=1e-6)
