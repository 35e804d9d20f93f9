"""The optimiser and the fit loop."""

import numpy as np
import pytest

from taichi_sdf import Circles, RenderConfig, Renderer, Scene
from taichi_sdf.drawing import Reseeder, drawing_target, init_pen
from taichi_sdf.init import init_circles, init_mesh, starting_scene
from taichi_sdf.optim import Adam, fit
from taichi_sdf.reference import render_reference


def small_target() -> np.ndarray:
    """Two soft-edged blobs on grey, 24x32: something circles can fit."""
    circles = Circles([[10.0, 12.0], [22.0, 9.0]], [6.0, 4.0], [[0.9, 0.1, 0.1], [0.1, 0.2, 0.9]])
    scene = Scene(32, 24, [0.5, 0.5, 0.5], (circles,))
    return render_reference(scene)


def test_adam_minimises_a_quadratic():
    adam = Adam((2,))
    x = np.array([3.0, -2.0])
    for _ in range(500):
        x = adam.step(x, 2 * x, lr=0.05)
    assert np.all(np.abs(x) < 0.05)


@pytest.mark.parametrize("fill", ["flat", "linear"])
def test_fit_lowers_the_loss(fill):
    target = small_target()
    scene = init_circles(target, 6, fill=fill, seed=1)
    result = fit(target, scene, 60, renderer=Renderer(RenderConfig(dtype="f64")))
    assert len(result.losses) == 60
    assert result.loss < 0.5 * result.losses[0]
    assert result.loss == min(result.losses)
    assert np.mean((render_reference(result.scene) - target) ** 2) == pytest.approx(result.loss, rel=1e-9)


def test_init_circles_places_circles_on_the_image_with_target_colours():
    target = small_target()
    scene = init_circles(target, 50, seed=0)
    circles = scene.shapes[0]
    assert len(circles) == 50 and scene.fill == "linear"
    assert np.all((circles.centres >= 0) & (circles.centres <= [32, 24]))
    assert np.all(circles.radii >= 2.0)
    assert np.all((circles.colours >= 0) & (circles.colours <= 1))
    np.testing.assert_allclose(scene.background, target.reshape(-1, 3).mean(axis=0))


def test_fit_rejects_bad_arguments():
    target = small_target()
    scene = init_circles(target, 3, seed=0)
    with pytest.raises(ValueError, match="steps"):
        fit(target, scene, 0)
    with pytest.raises(ValueError, match="shape"):
        fit(target[:10], scene, 5)
    with pytest.raises(ValueError, match="positive"):
        init_circles(target, 0)


def test_init_mesh_covers_the_image_with_shared_vertices():
    target = small_target()
    scene = init_mesh(target, 40, seed=0)
    mesh = scene.shapes[0]
    assert 30 <= len(mesh) <= 50
    assert len(mesh.vertices) < 3 * len(mesh)  # vertices are shared between faces
    image = Renderer(RenderConfig(dtype="f64")).render(scene.replace(background=[9.0, 9.0, 9.0]))
    assert np.abs(image[2:-2, 2:-2]).max() <= 1.0 + 1e-9  # no background (9.0) shows through


def test_fit_lowers_the_loss_of_a_mesh_and_of_strokes():
    target = small_target()
    mesh = init_mesh(target, 12, seed=0)
    result = fit(target, mesh, 40, renderer=Renderer(RenderConfig(dtype="f64")))
    assert result.loss < 0.7 * result.losses[0]
    sketch = drawing_target(target)
    strokes = init_pen(target, 20, kind="segment", seed=0)
    renderer = Renderer(RenderConfig(dtype="f64", mode="softor"))
    result = fit(sketch, strokes, 40, renderer=renderer, learning_rates={"colours": 0.0, "background": 0.0})
    assert result.loss < 0.9 * result.losses[0]
    np.testing.assert_array_equal(result.scene.shapes[0].colours, 0.0)  # frozen at lr 0


def test_fit_rejects_targets_it_cannot_use():
    target = small_target()
    scene = init_circles(target, 3, seed=0)
    with pytest.raises(ValueError, match="float image in \\[0, 1\\], got uint8"):
        fit((target * 255).astype(np.uint8), scene, 5)
    with pytest.raises(ValueError, match="looks like 0-255"):
        fit(target * 255.0, scene, 5)
    with pytest.raises(ValueError, match="NaN"):
        fit(np.where(target > 0.5, np.nan, target), scene, 5)
    with pytest.raises(ValueError, match="does not match"):
        fit(target[..., :2], scene, 5)


@pytest.mark.parametrize("shape", ["circle", "triangle", "mesh", "segment", "curve"])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (9, 1)])
def test_every_shape_fits_a_one_pixel_wide_image(shape, size):
    target = np.full(size + (3,), 0.4)
    start = starting_scene(shape, target, 4, mode="over")
    renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
    result = fit(
        start.target, start.scene, 3, renderer=renderer, learning_rates=start.learning_rates,
        anneal=2.0, relocate=start.relocate, relocate_every=1,
    )  # fmt: skip
    assert len(result.losses) == 3 and np.isfinite(result.loss)


@pytest.mark.parametrize("loss", ["l1", "pyramid"])
def test_fit_lowers_any_loss(loss):
    target = small_target()
    scene = init_circles(target, 6, seed=1)
    result = fit(target, scene, 40, renderer=Renderer(RenderConfig(dtype="f64")), loss=loss)
    assert result.loss < 0.7 * result.losses[0]
    assert result.mse == pytest.approx(np.mean((render_reference(result.scene) - target) ** 2), rel=1e-9)


def test_adam_restart_forgets_only_the_moved_elements():
    adam = Adam((3,))
    values = np.zeros(3)
    for _ in range(20):
        values = adam.step(values, np.array([1.0, -2.0, 3.0]), 0.1)
    adam.restart(np.array([False, True, False]))
    stepped = adam.step(values, np.array([5.0, 5.0, 5.0]), 0.1)
    assert stepped[1] - values[1] == pytest.approx(-0.1)  # a first step again: lr * sign(grad)
    assert abs(stepped[0] - values[0]) < 0.1 and stepped[2] - values[2] == pytest.approx(-0.1, rel=0.2)


def test_adam_state_follows_reordered_values():
    gradients = np.array([1.0, -2.0, 3.0])
    plain, reordered = Adam((3,)), Adam((3,))
    for _ in range(5):
        plain.step(np.zeros(3), gradients, 0.1)
        reordered.step(np.zeros(3), gradients, 0.1)
    reordered.reorder(np.array([2, 0, 1]))
    order = np.array([2, 0, 1])
    np.testing.assert_array_equal(
        reordered.step(np.zeros(3), gradients[order], 0.1), plain.step(np.zeros(3), gradients, 0.1)[order]
    )


def test_reseeder_moves_faded_strokes_where_ink_is_missing():
    photo = small_target()
    scene = init_pen(photo, 12, kind="curve", seed=0)
    group = scene.shapes[0]
    faded = group.opacity_array().copy()
    faded[:3] = 0.05
    scene = scene.replace(shapes=(group.with_parameters({"opacities": faded}),))
    target = drawing_target(photo)
    moved = Reseeder(photo, seed=1, share=1.0)(scene, np.ones_like(target), target).shapes[0]
    points, before = moved.points.reshape(12, 4, 2), group.points.reshape(12, 4, 2)
    assert np.all(np.any(points[:3] != before[:3], axis=(1, 2)))  # the faded ones moved
    np.testing.assert_array_equal(points[3:], before[3:])  # the others did not
    np.testing.assert_array_equal(moved.opacities, np.where(np.arange(12) < 3, 0.9, faded))


def test_a_loss_that_turns_nan_stops_the_fit_with_the_best_scene_so_far():
    from taichi_sdf.losses import MSE

    class NanAfterThree(MSE):
        calls = 0

        def value_and_grad(self, image, target):
            value, grad = super().value_and_grad(image, target)
            NanAfterThree.calls += 1
            return value, grad * (np.nan if NanAfterThree.calls > 3 else 1.0)

    target = small_target()
    scene = init_circles(target, 6, seed=1)
    result = fit(target, scene, 20, renderer=Renderer(RenderConfig(dtype="f64")), loss=NanAfterThree())
    assert result.stopped == "at step 4 the gradient of background is not finite"  # the first key
    assert len(result.losses) == 4 and np.isfinite(result.loss)
    result.scene.check_values()  # the best scene holds no NaN
