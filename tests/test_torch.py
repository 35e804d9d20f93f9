"""The PyTorch op: gradcheck in float64 for every parameter and mode, equality with the numpy
API image by image, and its errors. Skipped without the torch extra."""

import numpy as np
import pytest
from conftest import mixed_scene

torch = pytest.importorskip("torch")

from taichi_sdf import RenderConfig, Renderer  # noqa: E402
from taichi_sdf.config import MODES  # noqa: E402
from taichi_sdf.losses import MSSSIM  # noqa: E402
from taichi_sdf.torch import parameters, render  # noqa: E402


def small_scene():
    return mixed_scene(np.random.default_rng(0), width=23, height=17, fill="linear", opacity=True)


def batch_parameters(scene, batch: int = 2):
    """``batch`` different variants of the scene's parameters, float64, requiring gradients."""
    params = parameters(scene, batch=batch, dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for key, value in params.items():
            if key.endswith(("centres", "vertices", "points")):
                value[1:] += torch.randn(value[1:].shape, generator=generator, dtype=torch.float64)
            elif key.endswith(("colours", "opacities")) or key == "background":
                # Inside (0, 1): at a bound finite differences would straddle the clamp.
                noise = 0.1 * torch.randn(value[1:].shape, generator=generator, dtype=torch.float64)
                value[1:] = (value[1:] + noise).clamp(0.05, 0.95)
    return {key: value.requires_grad_(True) for key, value in params.items()}


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_every_parameter(mode):
    scene = small_scene()
    params = batch_parameters(scene)
    config = RenderConfig(dtype="f64", mode=mode)
    for key in params:

        def rendered(value, key=key):
            return render(scene, {**params, key: value}, config)

        assert torch.autograd.gradcheck(rendered, (params[key],), eps=1e-6, atol=1e-6, rtol=1e-5, fast_mode=True), key


@pytest.mark.parametrize("mode", MODES)
def test_torch_op_equals_the_numpy_api_image_by_image(mode):
    scene = small_scene()
    params = batch_parameters(scene, batch=3)
    config = RenderConfig(dtype="f64", mode=mode)
    images = render(scene, params, config).detach().numpy()
    assert images.shape == (3, 17, 23, 3)
    renderer = Renderer(config)
    for b in range(3):
        one = scene.with_parameters({key: value[b].detach().numpy() for key, value in params.items()})
        np.testing.assert_array_equal(images[b], renderer.render(one))


def test_float32_batch_and_left_out_parameters():
    scene = small_scene()
    centres = torch.tensor(scene.shapes[0].centres, dtype=torch.float32).expand(4, -1, -1).clone().requires_grad_()
    images = render(scene, {"0.centres": centres})  # the rest keeps the scene's values
    assert images.shape == (4, 17, 23, 3) and images.dtype == torch.float32
    images.square().mean().backward()
    assert centres.grad.shape == centres.shape and torch.isfinite(centres.grad).all()
    np.testing.assert_allclose(images[0].detach().numpy(), Renderer().render(scene), atol=1e-5)


def test_ms_ssim_differentiates_through_the_op():
    pytest.importorskip("pytorch_msssim")
    scene = small_scene().scaled(2.0)  # 46 x 34: room for MS-SSIM's windows
    params = batch_parameters(scene)
    target = torch.rand(2, scene.height, scene.width, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    config = RenderConfig(dtype="f64", mode="over")

    def loss(centres):
        return MSSSIM()(render(scene, {**params, "0.centres": centres}, config), target)

    assert torch.autograd.gradcheck(loss, (params["0.centres"],), eps=1e-6, atol=1e-6, rtol=1e-5)


def changed(tensor, index, value):
    """A copy of ``tensor`` with one element changed."""
    tensor = tensor.detach().clone()
    tensor[index] = value
    return tensor


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda p: {**p, "0.centres": p["0.centres"][:, :3]}, r"0.centres must have shape \(B, 10, 2\)"),
        (lambda p: {**p, "0.radii": -p["0.radii"]}, "0.radii: circle radii must be positive"),
        (lambda p: {**p, "2.opacities": p["2.opacities"] + 1}, r"opacities must lie in \[0, 1\]"),
        (lambda p: {**p, "2.slopes": p["0.slopes"]}, "unknown parameter '2.slopes'"),
        (lambda p: {**p, "background": p["background"][:1]}, "the same B as the others"),
        (lambda p: {}, "params is empty"),
        # NaN and infinities would make a shape vanish with a zero gradient, or the pixels NaN:
        (lambda p: {**p, "0.centres": changed(p["0.centres"], (1, 4, 0), float("nan"))}, r"0.centres\[1, 4, 0\] is NaN"),
        (lambda p: {**p, "0.radii": p["0.radii"] * float("inf")}, r"0.radii\[0, 0\] is infinite"),
        (lambda p: {**p, "0.colours": p["0.colours"] * float("nan")}, r"0.colours\[0, 0, 0\] is NaN"),
        (lambda p: {**p, "background": changed(p["background"], (1, 2), 3e6)}, r"background\[1, 2\] is 3e\+06, beyond"),
    ],
)
def test_bad_tensors_are_named(change, message):
    scene = small_scene()
    with pytest.raises(ValueError, match=message):
        render(scene, change(parameters(scene, batch=2)))
