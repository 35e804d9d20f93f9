"""Densify and prune: what a circle is worth, where a new one gains, and the fit hook."""

import numpy as np
import pytest

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.densify import Densifier, best_places, insertion_gains, removal_costs
from taichi_sdf.optim import Relocated, fit
from taichi_sdf.reference import render_reference


def layered_scene() -> Scene:
    """Eight overlapping circles of partial opacity; the last hides a small one (the first)
    under an opaque disk."""
    rng = np.random.default_rng(5)
    centres = np.vstack([[[12.0, 12.0]], rng.uniform([4, 4], [36, 28], (6, 2)), [[12.0, 12.0]]])
    radii = np.concatenate([[3.0], rng.uniform(4.0, 9.0, 6), [7.0]])
    opacities = np.concatenate([[0.8], rng.uniform(0.4, 0.9, 6), [1.0]])
    circles = Circles(centres, radii, rng.uniform(0, 1, (8, 3)), None, opacities)
    return Scene(40, 32, [0.5, 0.5, 0.5], (circles,))


def test_removal_costs_match_removing_each_circle():
    # In alpha mode the image is affine in each opacity: removing circle i changes it by
    # exactly D = -o_i dI/do_i. The cost's first term (2 e.D / n) is then exact, and its
    # squared term (|D|^2 / n) a Hutchinson estimate (200 probes: ~10 % spread).
    scene = layered_scene()
    target = np.random.default_rng(6).uniform(0, 1, (32, 40, 3))
    frame = Renderer(RenderConfig(mode="alpha", dtype="f64")).forward(scene)
    first = removal_costs(frame, target, probes=0, rng=np.random.default_rng(7))
    squared = removal_costs(frame, target, probes=200, rng=np.random.default_rng(7)) - first
    group, error = scene.shapes[0], frame.image - target
    for i in range(len(group)):
        opacities = group.opacities.copy()
        opacities[i] = 0.0
        change = render_reference(scene.replace(shapes=(group.with_parameters({"opacities": opacities}),)), mode="alpha")
        change -= frame.image
        assert first[i] == pytest.approx(2 * np.mean(error * change), rel=1e-9, abs=1e-15), i
        assert squared[i] == pytest.approx(np.mean(change**2), rel=0.3, abs=1e-15), i
    assert first[0] == squared[0] == 0.0  # hidden under the opaque last circle


def test_insertion_gains_find_a_missing_disk():
    target = np.full((30, 50, 3), 0.5)
    yy, xx = np.mgrid[0:30, 0:50] + 0.5
    target[(xx - 31.5) ** 2 + (yy - 12.5) ** 2 <= 25.0] = [0.9, 0.1, 0.1]
    gains, radii = insertion_gains(np.full_like(target, 0.5) - target)
    centres, chosen_radii, chosen_gains = best_places(gains, radii, 3)
    assert np.linalg.norm(centres[0] - [31.5, 12.5]) <= 1.0
    assert chosen_radii[0] in (3.0, 5.0)  # the box filter's square sits inside or around the disk
    assert chosen_gains[0] > 5 * chosen_gains[1]  # the rest is the disk's fringe, two radii away


def useless_pair(kind: str):
    """Shape 0 hidden under shape 1, which matches the grey it sits on."""
    if kind == "circle":
        return Circles([[10.0, 10.0], [10.0, 10.0]], [3.0, 6.0], [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]], None, [1.0, 1.0])
    corners = np.array([[0.0, -1.0], [0.87, 0.5], [-0.87, 0.5]])
    vertices = np.vstack([[10.0, 10.0] + 3 * corners, [10.0, 10.0] + 9 * corners])
    return Triangles(vertices, [[0, 1, 2], [3, 4, 5]], [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]], None, [1.0, 1.0])


def blob_target(*blobs) -> np.ndarray:
    """Grey 40x32 with disks (x, y, radius, colour) painted on."""
    target = np.full((32, 40, 3), 0.5)
    yy, xx = np.mgrid[0:32, 0:40] + 0.5
    for x, y, radius, colour in blobs:
        target[(xx - x) ** 2 + (yy - y) ** 2 <= radius**2] = colour
    return target


def mse(scene, target, mode="over") -> float:
    return float(np.mean((render_reference(scene, mode=mode) - target) ** 2))


@pytest.mark.parametrize("kind", ["circle", "free triangle"])
def test_densifier_moves_a_useless_shape_on_top_of_the_missing_ink(kind):
    target = blob_target((30.5, 20.5, 4.0, [0.1, 0.2, 0.9]))
    group = useless_pair(kind)
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (group,))
    result = Densifier(RenderConfig(mode="over", dtype="f64"), share=1.0)(scene, None, target)
    assert isinstance(result, Relocated)  # depth-ordered: the moved shape goes on top
    np.testing.assert_array_equal(result.orders["0.colours"], [1, 0])
    moved = result.scene.shapes[0]
    assert mse(result.scene, target) < 0.5 * mse(scene, target)
    np.testing.assert_allclose(moved.colours[1], [0.1, 0.2, 0.9], atol=0.05)
    np.testing.assert_array_equal(moved.colours[0], group.colours[1])  # worth more than any place
    before = group.parameters()
    for key, value in moved.parameters().items():  # the kept shape keeps its values in its new slot
        if key == "vertices":
            np.testing.assert_array_equal(value[group.faces[0]], before[key][group.faces[1]])
        else:
            np.testing.assert_array_equal(value[0], before[key][1])


def test_densifier_leaves_shapes_worth_more_than_any_place():
    # Two circles that paint what the target has, and a faint blob elsewhere: losing
    # either costs more than the blob could give, so nothing moves.
    target = blob_target((10.5, 10.5, 6.0, [0.9, 0.1, 0.1]), (28.5, 20.5, 6.0, [0.1, 0.9, 0.1]), (30, 6, 3, [0.52] * 3))
    circles = Circles([[10.5, 10.5], [28.5, 20.5]], [6.0, 6.0], [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1]], None, [1.0, 1.0])
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (circles,))
    assert Densifier(RenderConfig(mode="over", dtype="f64"), share=1.0)(scene, None, target) is scene


def test_densifier_moves_one_of_two_shapes_that_stand_in_for_each_other():
    # Two identical circles on one spot: each alone costs nothing to lose (the other
    # paints the same), both together a red disk. Two blobs want circles.
    target = blob_target((12.5, 12.5, 6.0, [0.9, 0.1, 0.1]), (30.5, 8.5, 3.0, [0.1, 0.1, 0.9]), (30.5, 24.5, 3.0, [0.1, 0.9, 0.1]))
    circles = Circles([[12.5, 12.5]] * 2, [6.0, 6.0], [[0.9, 0.1, 0.1]] * 2, None, [1.0, 1.0])
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (circles,))
    result = Densifier(RenderConfig(mode="mean", dtype="f64"), share=1.0)(scene, None, target)
    moved = np.any(result.shapes[0].centres != circles.centres, axis=1)
    assert moved.sum() == 1
    assert mse(result, target, "mean") < mse(scene, target, "mean")


def test_densifier_refuses_what_it_cannot_move():
    mesh = Triangles([[0, 0], [8, 0], [0, 8], [8, 8]], [[0, 1, 2], [1, 3, 2]], [[1, 1, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="sharing vertices"):
        Densifier()(Scene(8, 8, [0, 0, 0], (mesh,)), None, np.zeros((8, 8, 3)))
    strokes = Strokes([[1, 1], [6, 6]], [[0, 1]], [2.0], [[1, 1, 1]])
    with pytest.raises(ValueError, match="holds Strokes"):
        Densifier()(Scene(8, 8, [0, 0, 0], (strokes,)), None, np.zeros((8, 8, 3)))


def test_densified_fit_beats_a_plain_one():
    # Six blobs; the circles all start around the first, so gradients alone cannot reach
    # the others (a circle only feels error under its footprint).
    rng = np.random.default_rng(8)
    blobs = Circles(rng.uniform([6, 6], [58, 42], (6, 2)), rng.uniform(3, 6, 6), rng.uniform(0, 1, (6, 3)))
    target = render_reference(Scene(64, 48, [0.5, 0.5, 0.5], (blobs,)))
    start = Circles(
        blobs.centres[0] + rng.normal(0, 2, (12, 2)), np.full(12, 2.5), np.full((12, 3), 0.5), None, np.ones(12)
    )
    scene = Scene(64, 48, [0.5, 0.5, 0.5], (start,))
    renderer = Renderer(RenderConfig(mode="over", dtype="f64"))
    plain = fit(target, scene, 200, renderer=renderer)
    densified = fit(target, scene, 200, renderer=renderer, relocate=Densifier(renderer.config))
    assert densified.psnr > plain.psnr + 3.0
