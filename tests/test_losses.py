"""The losses: their gradients against finite differences, numpy against torch, and through
the renderer to the scene parameters."""

import numpy as np
import pytest
from conftest import mixed_scene

from taichi_sdf import RenderConfig, Renderer
from taichi_sdf.losses import LOSSES, MSE, PyramidMSE, get_loss, psnr


def available(name: str):
    """The loss called ``name``; the test is skipped for MS-SSIM without the torch extra."""
    if name == "msssim":
        pytest.importorskip("pytorch_msssim")
    return get_loss(name)


def central_difference(loss, image, target, direction, eps=1e-6):
    up, _ = loss.value_and_grad(image + eps * direction, target)
    down, _ = loss.value_and_grad(image - eps * direction, target)
    return (up - down) / (2 * eps)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("shape", [(37, 45, 3), (2, 20, 26, 3), (200, 176, 3)])
def test_loss_gradient_matches_finite_differences(name, shape):
    loss = available(name)
    rng = np.random.default_rng(0)
    image, target = rng.uniform(0, 1, shape), rng.uniform(0, 1, shape)
    direction = rng.normal(size=shape)
    value, grad = loss.value_and_grad(image, target)
    assert np.isfinite(value) and grad.shape == shape
    numeric = central_difference(loss, image, target, direction)
    assert np.sum(grad * direction) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("name", list(LOSSES))
def test_numpy_and_torch_values_agree(name):
    torch = pytest.importorskip("torch")
    loss = available(name)
    rng = np.random.default_rng(1)
    image, target = rng.uniform(0, 1, (2, 40, 44, 3)), rng.uniform(0, 1, (2, 40, 44, 3))
    value, _ = loss.value_and_grad(image, target)
    assert float(loss(torch.tensor(image), torch.tensor(target))) == pytest.approx(value, rel=1e-12)


def test_mse_and_pyramid_know_their_values():
    target = np.zeros((16, 16, 3))
    assert MSE().value_and_grad(target + 0.1, target)[0] == pytest.approx(0.01)
    # A constant offset survives blurring only away from the zero-padded border.
    value, _ = PyramidMSE(levels=1).value_and_grad(target + 0.1, target)
    assert 0.005 < value < 0.01


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_of_a_render_differentiates_to_the_scene(name):
    loss = available(name)
    rng = np.random.default_rng(2)
    scene = mixed_scene(rng, width=36, height=28, fill="linear", opacity=True)
    target = rng.uniform(0, 1, (28, 36, 3))
    renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
    frame = renderer.forward(scene)
    _, image_grad = loss.value_and_grad(frame.image, target)
    grads = frame.backward(image_grad).parameters()
    values = scene.parameters()
    direction = {key: rng.normal(size=np.shape(value)) for key, value in values.items()}

    def objective(eps):
        moved = scene.with_parameters({key: values[key] + eps * direction[key] for key in values})
        return loss.value_and_grad(renderer.render(moved), target)[0]

    numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
    analytic = sum(np.sum(grads[key] * direction[key]) for key in values)
    assert analytic == pytest.approx(numeric, rel=1e-5)


def test_unknown_loss_is_named():
    with pytest.raises(ValueError, match="unknown loss 'psnr'"):
        get_loss("psnr")


def test_psnr_of_a_known_error():
    target = np.zeros((4, 4, 3))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert psnr(target, target) == float("inf")
