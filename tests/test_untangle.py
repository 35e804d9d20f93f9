"""Tangled paths redrawn as the outline of what they fill, during a fit and after it."""

import numpy as np
import pytest

from taichi_sdf import Paths, RenderConfig, Renderer, Scene
from taichi_sdf.densify import circle_contours
from taichi_sdf.init import contour_cubics, shoelace, starting_scene
from taichi_sdf.untangle import (
    Untangling,
    crossings,
    filled_area,
    filled_samples,
    reoutlined,
    same_fills,
    simplified,
    tangled,
)


def _straight_cubics(corners: np.ndarray) -> np.ndarray:
    """(3 k, 2) points of straight cubics along the closed polygon ``corners`` (k, 2)."""
    ends = np.roll(corners, -1, axis=0)
    return np.stack([corners, (2 * corners + ends) / 3, (corners + 2 * ends) / 3], axis=1).reshape(-1, 2)


# A quadrilateral whose outline is drawn as a bow tie: it crosses itself near the
# square's centre line, so its two triangles wind opposite ways; under nonzero both fill.
BOW_TIE = np.array([[10.0, 10.0], [40.0, 37.0], [40.0, 10.0], [10.0, 41.0]])
SQUARE = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]])
# A square whose lower side crosses itself once, making a small loop below it.
TWISTED = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [16.0, 44.0], [20.0, 48.0], [25.0, 38.0], [10.0, 40.0]])


def test_crossings_counts_proper_crossings():
    assert crossings(SQUARE) == 0
    assert crossings(BOW_TIE) == 1
    assert crossings(SQUARE, SQUARE + [15.0, 15.0]) == 2
    assert crossings(SQUARE, SQUARE + [100.0, 0.0]) == 0


@pytest.mark.parametrize("offset", [0.0, 0.3, 0.77])
def test_filled_area_is_the_shoelace_area_and_follows_the_fill_rule(offset):
    # Samples 4 a pixel each way: an edge misses by at most an eighth of a pixel along it.
    square = SQUARE + offset
    assert filled_area([square], 0) == pytest.approx(900.0, abs=120 / 8)
    ring = [square, (SQUARE - 25.0) * 0.4 + 25.0 + offset]  # a hole turning the same way: even-odd only
    hole = 900.0 - 144.0
    assert filled_area(ring, 1) == pytest.approx(hole, abs=168 / 8)
    assert filled_area([ring[0], ring[1][::-1]], 0) == pytest.approx(hole, abs=168 / 8)
    assert filled_area(ring, 0) == pytest.approx(900.0, abs=120 / 8)
    assert filled_area([square, square], 1) == 0.0  # wound twice: even-odd fills nothing


def test_a_twisted_path_is_tangled_and_redrawn_as_the_outline_of_its_fill():
    # The bow tie under even-odd: two triangles meeting at a point (its crossing), each a region.
    group = Paths.from_contours([[contour_cubics(_straight_cubics(BOW_TIE))]], [[1, 0, 0]], "evenodd")
    assert tangled(group, 0)
    boundaries = reoutlined(group, 0, 64, 64)
    assert boundaries and all(crossings(b) == 0 for b in boundaries)
    enclosed = sum(abs(shoelace(b)) for b in boundaries)
    perimeter = np.linalg.norm(np.diff(np.vstack([BOW_TIE, BOW_TIE[:1]]), axis=0), axis=1).sum()
    assert enclosed == pytest.approx(filled_area([BOW_TIE], 1), abs=perimeter / 8)


def test_untangling_keeps_the_layout_and_the_fill():
    corners = TWISTED
    twisted = Paths.from_contours(
        [[contour_cubics(_straight_cubics(corners))]], [[0.2, 0.5, 0.9]], slopes=[[[0.1, 0.0], [0.0, 0.2], [0.0, 0.0]]]
    )
    scene = Scene(64, 64, [1.0, 1.0, 1.0], (twisted,))
    assert tangled(twisted, 0)
    untangled = Untangling()(scene, None, None).shapes[0]
    assert untangled.points.shape == twisted.points.shape
    np.testing.assert_array_equal(untangled.segments, twisted.segments)
    assert not tangled(untangled, 0)
    box = np.array([0, 0, 64, 64])
    before = filled_samples([p for p in _polylines(twisted)], 0, box)
    after = filled_samples([p for p in _polylines(untangled)], 0, box)
    outline = np.linalg.norm(np.diff(np.vstack([corners, corners[:1]]), axis=0), axis=1).sum()
    assert np.sum(before ^ after) / 16 < 0.5 * outline  # within half a pixel along the outline


def _polylines(group: Paths) -> list[np.ndarray]:
    from taichi_sdf.untangle import contour_polylines

    return contour_polylines(group, 0)


def test_same_fills_keeps_a_linear_fill_where_the_points_move():
    points = circle_contours(np.full(4, 4), np.array([[30.0, 30.0]]), np.array([15.0]), np.array([0.3]))[0]
    hole = np.full((12, 2), 30.0)  # collapsed: it draws nothing, but it moves the fill's anchor
    slopes = [[[0.3, -0.1], [0.0, 0.2], [-0.2, 0.0]]]
    group = Paths.from_contours([[contour_cubics(points), contour_cubics(hole)]], [[0.5, 0.4, 0.6]], slopes=slopes)
    alone = Paths.from_contours([[contour_cubics(points)]], [[0.5, 0.4, 0.6]], slopes=slopes)
    renderer = Renderer(RenderConfig(mode="over", dtype="f64"))
    image = renderer.render(Scene(64, 64, [1.0, 1.0, 1.0], (group,)))
    moved = renderer.render(Scene(64, 64, [1.0, 1.0, 1.0], (alone,)))
    assert np.abs(moved - image).max() > 1e-3  # the anchor moved, so the fill did
    kept = renderer.render(Scene(64, 64, [1.0, 1.0, 1.0], (same_fills(group, [0], alone),)))
    np.testing.assert_allclose(kept, image, atol=1e-12)


def test_simplified_redraws_tangled_paths_and_leaves_out_empty_contours():
    # Path 0: the twisted square; path 1: a disk with a collapsed hole; path 2: a disk that
    # shows nothing (transparent). The picture has them untangled, and below them a black
    # band that no path draws: a fit's error, beside which the redrawn outline's edge costs
    # little (a path costing more keeps its tangle).
    disk = circle_contours(np.full(4, 4), np.array([[60.0, 24.0]]), np.array([8.0]), np.array([0.0]))[0]
    group = Paths.from_contours(
        [[contour_cubics(_straight_cubics(TWISTED))], [contour_cubics(disk), contour_cubics(np.full((12, 2), 60.0))],
         [contour_cubics(disk + 10.0)]],
        [[0.2, 0.5, 0.9], [0.9, 0.1, 0.1], [0.1, 0.9, 0.1]], opacities=[1.0, 1.0, 0.0],
    )  # fmt: skip
    scene = Scene(96, 96, [1.0, 1.0, 1.0], (group,))
    renderer = Renderer(RenderConfig(mode="over"))
    target = renderer.render(scene)
    target[56:] = 0.0
    simple, error = simplified(scene, target, renderer)
    result = simple.shapes[0]
    assert len(result) == 2 and len(result.contours(1)) == 1  # the collapsed hole left out
    assert not any(tangled(result, i) for i in range(2))
    assert error == pytest.approx(np.mean((renderer.render(simple) - target) ** 2))
    assert error <= 1.01 * np.mean((renderer.render(scene) - target) ** 2)
    kept, _ = simplified(scene, renderer.render(scene), renderer)  # a perfect fit: the redraw would cost all
    assert tangled(kept.shapes[0], 0)


def test_a_path_fit_untangles_as_it_goes():
    target = np.ones((32, 32, 3))
    target[8:24, 8:24] = [0.9, 0.2, 0.1]
    start = starting_scene("path", target, 2, mode="over")
    assert isinstance(start.relocate, Untangling)
