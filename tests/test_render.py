"""The tiled renderer against the numpy brute-force reference, its binning, and the
properties of the image model (areas, seams, depth order)."""

import math

import numpy as np
import pytest
from conftest import assert_every_covered_pixel_binned, mixed_scene, random_scene

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.config import MODES
from taichi_sdf.kinds.reference_sdf import segment_distance, triangle_sdf
from taichi_sdf.reference import render_reference


@pytest.mark.parametrize("fill", ["flat", "linear"])
@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_tiled_circles_equal_reference(fill, tile_size):
    scene = random_scene(np.random.default_rng(tile_size), 60, width=53, height=37, fill=fill)
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64")).render(scene)
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_tiled_mixed_scene_equals_reference(mode, tile_size):
    scene = mixed_scene(np.random.default_rng(tile_size + 1), width=53, height=37, fill="linear", opacity=True)
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", mode=mode)).render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= 1e-9


def test_float32_render_close_to_reference():
    scene = mixed_scene(np.random.default_rng(1), width=53, height=37, fill="linear")
    image = Renderer(RenderConfig(dtype="f32")).render(scene)
    assert np.abs(image - render_reference(scene)).max() <= 1e-4


def footprint_distances(scene: Scene, tile_size: int) -> np.ndarray:
    """(tiles, primitives): how far each primitive's coverage > 0 region is from each tile's
    pixel-centre rectangle, measured by brute force on a 0.05 px sampling of the rectangle."""
    tiles_x, tiles_y = math.ceil(scene.width / tile_size), math.ceil(scene.height / tile_size)
    n = len(scene)
    distances = np.full((tiles_x * tiles_y, n), np.inf)
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            x0, x1 = tx * tile_size + 0.5, min((tx + 1) * tile_size, scene.width) - 0.5
            y0, y1 = ty * tile_size + 0.5, min((ty + 1) * tile_size, scene.height) - 0.5
            xs, ys = np.meshgrid(np.arange(x0, x1 + 1e-9, 0.05), np.arange(y0, y1 + 1e-9, 0.05))
            samples = np.stack([xs, ys], axis=-1)
            for i, distance in enumerate(_signed_distances(scene, samples)):
                distances[ty * tiles_x + tx, i] = distance.min()
    return distances


def _signed_distances(scene: Scene, points: np.ndarray):
    """Per primitive, the distance that its coverage is a function of, at each point."""
    for group in scene.shapes:
        for i in range(len(group)):
            if isinstance(group, Circles):
                offset = points - group.centres[i]
                r = group.radii[i]
                yield (np.sum(offset * offset, axis=-1) - r * r) / (2 * r)
            elif isinstance(group, Triangles):
                yield triangle_sdf(points, group.vertices[group.faces[i]])
            else:
                a, b = group.points[group.segments[i]]
                yield segment_distance(points, a, b) - 0.5 * group.widths[i]


@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_binning_equals_brute_force(tile_size):
    rng = np.random.default_rng(7)
    scene = mixed_scene(rng, width=53, height=37, fill="flat")
    renderer = Renderer(RenderConfig(tile_size=tile_size, dtype="f64"))
    renderer.render(scene)
    lists = renderer.tile_lists()
    binned = {(tile, int(i)) for tile, prims in enumerate(lists) for i in prims}
    distances = footprint_distances(scene, tile_size)
    surely_in = {tuple(pair) for pair in np.argwhere(distances < 1.0 - 0.05)}
    maybe_in = {tuple(pair) for pair in np.argwhere(distances < 1.0 + 0.05)}
    assert surely_in <= binned <= maybe_in
    for prims in lists:  # depth order, no repeats
        assert np.all(np.diff(prims) > 0)


def test_every_covered_pixel_is_binned():
    scene = mixed_scene(np.random.default_rng(3), width=53, height=37, fill="flat")
    assert_every_covered_pixel_binned(scene)


def test_two_thousand_circles_on_one_tile_none_dropped():
    rng = np.random.default_rng(5)
    n = 2000
    circles = Circles(rng.uniform(2, 14, (n, 2)), rng.uniform(1.0, 4.0, n), rng.uniform(0, 1, (n, 3)))
    scene = Scene(16, 16, [0.2, 0.3, 0.4], (circles,))
    renderer = Renderer(RenderConfig(tile_size=16, dtype="f64"))
    image = renderer.render(scene)
    assert len(renderer.tile_lists()[0]) == n
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


def coverage_area(shape, size: tuple[int, int]) -> float:
    """Sum over pixels of one white shape's coverage on black."""
    image = Renderer(RenderConfig(dtype="f64")).render(Scene(size[0], size[1], [0.0, 0.0, 0.0], (shape,)))
    return image[..., 0].sum()


@pytest.mark.parametrize("radius", [3.0, 4.5, 10.0, 25.3])
def test_circle_coverage_sums_to_its_area(radius):
    size = int(2 * radius + 8)
    circle = Circles([[size / 2 + 0.31, size / 2 - 0.17]], [radius], [[1.0, 1.0, 1.0]])
    assert abs(coverage_area(circle, (size, size)) - math.pi * radius**2) <= 1e-3 * math.pi * radius**2


def test_triangle_coverage_sums_to_its_shoelace_area():
    corners = np.array([[5.3, 4.1], [118.7, 20.2], [40.2, 93.6]])
    (a, b, c) = corners
    area = 0.5 * abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    triangle = Triangles(corners, [[0, 1, 2]], [[1.0, 1.0, 1.0]])
    assert abs(coverage_area(triangle, (124, 100)) - area) <= 1e-3 * area


def test_capsule_coverage_sums_to_its_area():
    a, b, half_width = np.array([10.3, 12.2]), np.array([105.1, 60.7]), 9.0
    length = np.linalg.norm(b - a)
    stroke = Strokes([a, b], [[0, 1]], [2 * half_width], [[1.0, 1.0, 1.0]])
    area = 2 * half_width * length + math.pi * half_width**2
    assert abs(coverage_area(stroke, (120, 80)) - area) <= 1e-3 * area


def test_strokes_along_and_near_the_rows_and_columns_equal_reference():
    # Row spans leave out the sides of a stroke's rectangle that run within 3 degrees of
    # the rows (or the columns); strokes at and near those angles, and one of no length,
    # must still be drawn wherever the reference draws them.
    angles = np.radians([0.0, 0.4, 2.0, 4.0, 45.0, 86.0, 88.5, 89.9, 90.0, 180.3])
    starts = np.stack([6.3 + 5.1 * np.arange(len(angles)) % 40, 8.7 + 3.3 * np.arange(len(angles))], axis=1)
    ends = starts + 17.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = np.concatenate([starts, ends, [[20.5, 20.5]]])
    n = len(angles)
    segments = [[i, n + i] for i in range(n)] + [[2 * n, 2 * n]]
    colours = np.random.default_rng(0).uniform(0, 1, (n + 1, 3))
    strokes = Strokes(points, segments, np.linspace(0.6, 4.0, n + 1), colours)
    scene = Scene(61, 47, [0.9, 0.9, 0.9], (strokes,))
    for tile_size in (8, 32):
        image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", mode="over")).render(scene)
        assert np.abs(image - render_reference(scene, mode="over")).max() <= 1e-9


def test_image_smaller_than_a_tile():
    scene = random_scene(np.random.default_rng(2), 5, width=5, height=3, fill="linear")
    image = Renderer(RenderConfig(dtype="f64")).render(scene)
    assert image.shape == (3, 5, 3)
    assert np.abs(image - render_reference(scene)).max() <= 1e-9


FILL = np.array([0.8, 0.3, 0.1])


def render_mesh(vertices, faces, mode: str) -> np.ndarray:
    mesh = Triangles(vertices, faces, np.tile(FILL, (len(faces), 1)))
    return Renderer(RenderConfig(dtype="f64", mode=mode)).render(Scene(40, 32, [0.0, 0.0, 1.0], (mesh,)))


@pytest.mark.parametrize("mode", ["mean", "over"])
def test_two_triangles_sharing_a_diagonal_leave_no_seam(mode):
    square = [[4.3, 3.7], [35.2, 3.7], [35.2, 28.1], [4.3, 28.1]]
    image = render_mesh(square, [[0, 1, 2], [0, 2, 3]], mode)
    inside = np.zeros(image.shape[:2], bool)
    inside[6:26, 7:33] = True  # well inside the square, across the whole diagonal
    assert np.abs(image[inside] - FILL).max() <= 1e-3


def test_alpha_mode_does_leave_a_seam():
    square = [[4.3, 3.7], [35.2, 3.7], [35.2, 28.1], [4.3, 28.1]]
    image = render_mesh(square, [[0, 1, 2], [0, 2, 3]], "alpha")
    assert np.abs(image[6:26, 7:33] - FILL).max() > 0.1  # background shows along the diagonal


@pytest.mark.parametrize("mode", ["mean", "over"])
def test_regular_mesh_leaves_no_seam(mode):
    xs, ys = np.meshgrid(np.linspace(3.1, 36.9, 5), np.linspace(2.9, 29.2, 5))
    vertices = np.stack([xs.ravel(), ys.ravel()], axis=1)
    faces = []
    for r in range(4):
        for c in range(4):
            v = r * 5 + c
            faces += [[v, v + 1, v + 6], [v, v + 6, v + 5]]
    image = render_mesh(vertices, faces, mode)
    assert np.abs(image[5:27, 6:35] - FILL).max() <= 1e-3


def test_over_mode_later_shape_is_on_top():
    red, green = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    first = Circles([[12.0, 12.0]], [8.0], [red])
    second = Triangles([[14.0, 4.0], [30.0, 20.0], [10.0, 22.0]], [[0, 1, 2]], [green])
    renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
    overlap = (14, 14)  # inside both shapes
    assert np.allclose(renderer.render(Scene(32, 24, [0, 0, 1], (first, second)))[overlap], green)
    assert np.allclose(renderer.render(Scene(32, 24, [0, 0, 1], (second, first)))[overlap], red)


def test_bad_scene_values_are_rejected():
    renderer = Renderer(RenderConfig(dtype="f64"))
    good = Circles([[5.0, 5.0]], [3.0], [[0.5, 0.5, 0.5]], opacities=[1.0])
    with pytest.raises(ValueError, match="NaN"):
        renderer.render(Scene(10, 10, [0, 0, 0], (Circles([[np.nan, 5.0]], [3.0], [[0.5] * 3]),)))
    with pytest.raises(ValueError, match="radii must be positive"):
        renderer.render(Scene(10, 10, [0, 0, 0], (Circles([[5.0, 5.0]], [0.0], [[0.5] * 3]),)))
    with pytest.raises(ValueError, match="degenerate triangle"):
        renderer.render(Scene(10, 10, [0, 0, 0], (Triangles([[1, 1], [5, 5], [9, 9]], [[0, 1, 2]], [[0.5] * 3]),)))
    with pytest.raises(ValueError, match="widths must be positive"):
        renderer.render(Scene(10, 10, [0, 0, 0], (Strokes([[1, 1], [5, 5]], [[0, 1]], [0.0], [[0.5] * 3]),)))
    with pytest.raises(ValueError, match=r"opacities must lie in \[0, 1\]"):
        renderer.render(Scene(10, 10, [0, 0, 0], (good.with_parameters({"opacities": np.array([1.5])}),)))
    with pytest.raises(ValueError, match="shape"):
        Circles([[5.0, 5.0]], [3.0, 4.0], [[0.5] * 3])
    with pytest.raises(ValueError, match="do not exist"):
        Triangles([[1, 1], [5, 5], [9, 1]], [[0, 1, 3]], [[0.5] * 3])


def test_scene_save_load_round_trip(tmp_path):
    scene = mixed_scene(np.random.default_rng(4), width=20, height=10, fill="linear", opacity=True)
    scene.save(tmp_path / "scene.npz")
    loaded = Scene.load(tmp_path / "scene.npz")
    assert (loaded.width, loaded.height) == (20, 10)
    assert [type(g) for g in loaded.shapes] == [type(g) for g in scene.shapes]
    for key, value in scene.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[key], value)
    np.testing.assert_array_equal(loaded.shapes[1].faces, scene.shapes[1].faces)
    np.testing.assert_array_equal(loaded.shapes[2].segments, scene.shapes[2].segments)
