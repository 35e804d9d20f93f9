"""The tiled renderer against the numpy brute-force reference, and its binning."""

import math

import numpy as np
import pytest
from conftest import random_scene

from taichi_sdf import Circles, RenderConfig, Renderer, Scene
from taichi_sdf.reference import circle_coverage, pixel_centres, render_reference


@pytest.mark.parametrize("fill", ["flat", "linear"])
@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_tiled_render_equals_reference(fill, tile_size):
    scene = random_scene(np.random.default_rng(tile_size), 60, width=53, height=37, fill=fill)
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", fill=fill)).render(scene)
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


def test_float32_render_close_to_reference():
    scene = random_scene(np.random.default_rng(1), 40, width=53, height=37, fill="linear")
    image = Renderer(RenderConfig(dtype="f32", fill="linear")).render(scene)
    assert np.abs(image - render_reference(scene)).max() <= 1e-4


def brute_force_pairs(scene: Scene, tile_size: int, aa_width: float = 1.0) -> set[tuple[int, int]]:
    """(tile, circle) pairs whose tile's pixel-centre rectangle meets the circle's footprint."""
    tiles_x = math.ceil(scene.width / tile_size)
    tiles_y = math.ceil(scene.height / tile_size)
    pairs = set()
    for i, (centre, radius) in enumerate(zip(scene.circles.centres, scene.circles.radii)):
        reach = math.sqrt(radius * radius + 2 * radius * aa_width)
        for ty in range(tiles_y):
            for tx in range(tiles_x):
                x0, x1 = tx * tile_size + 0.5, min((tx + 1) * tile_size, scene.width) - 0.5
                y0, y1 = ty * tile_size + 0.5, min((ty + 1) * tile_size, scene.height) - 0.5
                nearest = np.clip(centre, [x0, y0], [x1, y1])
                if np.sum((nearest - centre) ** 2) < reach * reach:
                    pairs.add((ty * tiles_x + tx, i))
    return pairs


@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_binning_equals_brute_force(tile_size):
    scene = random_scene(np.random.default_rng(7), 80, width=53, height=37, fill="flat", margin=20.0)
    renderer = Renderer(RenderConfig(tile_size=tile_size, dtype="f64"))
    renderer.render(scene)
    lists = renderer.tile_lists()
    binned = {(tile, int(i)) for tile, prims in enumerate(lists) for i in prims}
    assert binned == brute_force_pairs(scene, tile_size)
    for prims in lists:  # depth order, no repeats
        assert np.all(np.diff(prims) > 0)


def test_every_covered_pixel_is_binned():
    scene = random_scene(np.random.default_rng(3), 50, width=53, height=37, fill="flat")
    renderer = Renderer(RenderConfig(tile_size=8, dtype="f64"))
    renderer.render(scene)
    lists = renderer.tile_lists()
    points = pixel_centres(scene.width, scene.height)
    tiles_x = math.ceil(scene.width / 8)
    for i, (centre, radius) in enumerate(zip(scene.circles.centres, scene.circles.radii)):
        rows, cols = np.nonzero(circle_coverage(points, centre, radius, 1.0) > 0)
        for row, col in zip(rows, cols):
            assert i in lists[(row // 8) * tiles_x + col // 8]


def test_two_thousand_circles_on_one_tile_none_dropped():
    rng = np.random.default_rng(5)
    n = 2000
    circles = Circles(rng.uniform(2, 14, (n, 2)), rng.uniform(1.0, 4.0, n), rng.uniform(0, 1, (n, 3)))
    scene = Scene(16, 16, [0.2, 0.3, 0.4], circles)
    renderer = Renderer(RenderConfig(tile_size=16, dtype="f64"))
    image = renderer.render(scene)
    assert len(renderer.tile_lists()[0]) == n
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


@pytest.mark.parametrize("radius", [3.0, 4.5, 10.0, 25.3])
def test_circle_coverage_sums_to_its_area(radius):
    size = int(2 * radius + 8)
    centre = np.array([size / 2 + 0.31, size / 2 - 0.17])
    circles = Circles(centre[None], [radius], [[1.0, 1.0, 1.0]])
    image = Renderer(RenderConfig(dtype="f64")).render(Scene(size, size, [0.0, 0.0, 0.0], circles))
    area = image[..., 0].sum()
    assert abs(area - math.pi * radius**2) <= 1e-3 * math.pi * radius**2


def test_image_smaller_than_a_tile():
    scene = random_scene(np.random.default_rng(2), 5, width=5, height=3, fill="linear")
    image = Renderer(RenderConfig(dtype="f64", fill="linear")).render(scene)
    assert image.shape == (3, 5, 3)
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


def test_edges_that_meet_leave_no_seam():
    # Two huge circles tangent along x = 20 are, on screen, two half-planes sharing an edge.
    big = 1e5
    circles = Circles([[20 - big, 10.0], [20 + big, 10.0]], [big, big], [[0.8, 0.2, 0.1]] * 2)
    image = Renderer(RenderConfig(dtype="f64")).render(Scene(40, 20, [0.0, 0.0, 1.0], circles))
    assert np.abs(image - [0.8, 0.2, 0.1]).max() <= 1e-3


def test_bad_scene_values_are_rejected():
    renderer = Renderer(RenderConfig(dtype="f64"))
    good = Circles([[5.0, 5.0]], [3.0], [[0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="NaN"):
        renderer.render(Scene(10, 10, [0, 0, 0], Circles([[np.nan, 5.0]], [3.0], [[0.5] * 3])))
    with pytest.raises(ValueError, match="positive"):
        renderer.render(Scene(10, 10, [0, 0, 0], Circles([[5.0, 5.0]], [0.0], [[0.5] * 3])))
    with pytest.raises(ValueError, match="fill"):
        Renderer(RenderConfig(dtype="f64", fill="linear")).render(Scene(10, 10, [0, 0, 0], good))
    with pytest.raises(ValueError, match="shape"):
        Circles([[5.0, 5.0]], [3.0, 4.0], [[0.5] * 3])


def test_scene_save_load_round_trip(tmp_path):
    scene = random_scene(np.random.default_rng(4), 7, width=20, height=10, fill="linear")
    scene.save(tmp_path / "scene.npz")
    loaded = Scene.load(tmp_path / "scene.npz")
    assert (loaded.width, loaded.height) == (20, 10)
    np.testing.assert_array_equal(loaded.circles.pack(), scene.circles.pack())
    np.testing.assert_array_equal(loaded.background, scene.background)
