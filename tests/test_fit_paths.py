"""Fitting filled paths: their starting outlines, densify moving them, and the fit command."""

import math
from dataclasses import replace

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import taichi_sdf
from scipy import ndimage

from taichi_sdf import Paths, RenderConfig, Renderer, Scene
from taichi_sdf.densify import Densifier, circle_contours
from taichi_sdf.fonts import text_paths
from taichi_sdf.init import (
    MAX_SEGMENTS,
    MIN_SEGMENTS,
    colour_regions,
    contour_cubics,
    init_circles,
    init_paths,
    region_contours,
    starting_scene,
)
from taichi_sdf.kinds.path import reference_coverage
from taichi_sdf.losses import psnr
from taichi_sdf.optim import Relocated, fit
from taichi_sdf.reference import render_reference
from taichi_sdf.scene import CubicCurves
from taichi_sdf.svg import scene_to_svg, svg_to_scene

RED, BLUE = [0.9, 0.2, 0.1], [0.1, 0.3, 0.8]
GLYPH_STEPS = 100  # a 44 px "B" from its region: 38.3 dB in 80 steps, 36.0 in 40


def cubic_points(controls: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points (len(t), 2) of the cubic of ``controls`` (4, 2) at parameters ``t``."""
    t = t[:, None]
    weights = np.hstack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3])
    return weights @ controls


def square_and_disk(width: int = 40, height: int = 32) -> tuple[Scene, np.ndarray]:
    """A red square under a blue disk of four cubics on white, and its render (over, 1 px band)."""
    square = [np.array([a, b], dtype=float) for a, b in [([6, 6], [20, 6]), ([20, 6], [20, 22]),
                                                         ([20, 22], [6, 22]), ([6, 22], [6, 6])]]  # fmt: skip
    disk = circle_contours(np.full(4, 4), np.array([[27.0, 17.0]]), np.array([8.0]), np.array([0.3]))[0]
    cubics = [np.vstack([disk[3 * j : 3 * j + 3], disk[(3 * j + 3) % 12]]) for j in range(4)]
    scene = Scene(width, height, [1.0, 1.0, 1.0], (Paths.from_contours([[square], [cubics]], [RED, BLUE]),))
    return scene, render_reference(scene, mode="over")


@pytest.mark.parametrize("counts", [[4, 4, 4, 4], [4, 4, 4], [3, 3, 3, 3, 3], [2, 2, 2, 2, 2, 2]])
def test_circle_contours_lie_on_their_circle(counts):
    centre, radius = np.array([[12.0, -3.0]]), np.array([5.0])
    points = circle_contours(np.array(counts), centre, radius, np.array([0.4]))[0]
    assert len(points) == sum(c - 1 for c in counts)
    on_curve = np.cumsum([0] + [c - 1 for c in counts[:-1]])
    np.testing.assert_allclose(np.linalg.norm(points[on_curve] - centre, axis=1), 5.0, rtol=1e-12)
    if counts[0] == 4:  # a cubic quarter stays within 0.027 % of the circle, a third within 0.16 %
        closed = np.vstack([points, points[:1]])
        t = np.linspace(0, 1, 21)
        for j in range(len(counts)):
            along = np.linalg.norm(cubic_points(closed[3 * j : 3 * j + 4], t) - centre, axis=1)
            np.testing.assert_allclose(along, 5.0, rtol=3e-4 if len(counts) == 4 else 2e-3)
    if counts == [4, 4, 4, 4]:
        handle = np.linalg.norm(points[1] - points[0])
        assert handle == pytest.approx(4 * (math.sqrt(2) - 1) / 3 * 5.0, rel=1e-12)


def test_init_paths_without_regions_draws_init_circles_circles():
    target = np.full((32, 40, 3), 0.3)  # the background's region
    target[10:13, 10:13] = 0.8  # a region, but smaller than a path starts from (12 pixels)
    scene = init_paths(target, 5, seed=2)
    group = scene.shapes[0]
    assert type(group) is Paths and len(group) == 5 and group.slopes is not None
    assert len(group.segments) == 5 * MIN_SEGMENTS and (group.control_counts() == 4).all()
    reference = init_circles(target, 5, seed=2).shapes[0]
    on_curve = group.points.reshape(5, -1, 2)[:, ::3]
    np.testing.assert_allclose(on_curve.mean(axis=1), reference.centres, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(on_curve - reference.centres[:, None], axis=2),
                               np.repeat(reference.radii[:, None], MIN_SEGMENTS, axis=1), rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(group.colours, reference.colours)


def test_colour_regions_trace_the_shapes_of_a_flat_picture():
    target = square_and_disk()[1]
    outlines, colours, background = colour_regions(target, 2)  # more would take the anti-aliased fringes
    assert len(outlines) == 2  # the white around them is left to the background
    np.testing.assert_allclose(background, 1.0, atol=0.02)  # with the palest of the anti-aliased edge
    np.testing.assert_allclose(colours[0], RED, atol=0.05)  # the larger (the square) first, at the back
    np.testing.assert_allclose(colours[1], BLUE, atol=0.05)
    assert [len(contours) for contours in outlines] == [1, 1]  # no holes
    square = np.vstack([outlines[0][0], outlines[0][0][:1]])
    t = np.linspace(0, 1, 41)
    traced = np.vstack([cubic_points(square[3 * j : 3 * j + 4], t) for j in range(len(square) // 3)])
    # Distance of each traced point to the square [6, 20] x [6, 22]'s outline: the region
    # ends where the anti-aliased edge leaves its colour (about a pixel inside; measured
    # median 1.05 px, at most 1.86), and the disk on top bites into one corner.
    outside = np.maximum(np.abs(traced - [13.0, 14.0]) - [7.0, 8.0], 0.0)
    inside = np.min(np.abs(np.abs(traced - [13.0, 14.0]) - [7.0, 8.0]), axis=1)
    distance = np.where(outside.any(axis=1), np.linalg.norm(outside, axis=1), inside)
    assert np.median(distance) < 1.5 and distance.max() < 2.5


def test_a_flat_picture_of_two_paths_is_recovered_by_two_paths():
    # Two paths started from the picture's regions fit it to 44.9 dB in these 150 steps
    # (45.7 in 300); two circles, which cannot take the square's corners, reach 22.0 dB.
    target = square_and_disk()[1]
    renderer = Renderer(RenderConfig(mode="over"))
    fits = {}
    for shape in ("path", "circle"):
        start = starting_scene(shape, target, 2, mode="over")
        fits[shape] = fit(target, start.scene, 150, renderer=renderer, relocate=start.relocate)
    assert fits["path"].losses[-1] < 0.05 * fits["path"].losses[0]
    assert fits["path"].psnr >= 35.0
    assert fits["path"].psnr >= fits["circle"].psnr + 10.0


def test_a_mixed_scene_of_a_path_under_a_stroke_fits_and_comes_back_from_its_svg():
    disk = circle_contours(np.full(4, 4), np.array([[32.0, 32.0]]), np.array([16.0]), np.array([0.2]))[0]
    path = Paths.from_contours([[contour_cubics(disk)]], [[0.8, 0.2, 0.2]], opacities=[1.0])
    stroke = CubicCurves(
        np.array([[8.0, 50], [20, 40], [40, 60], [56, 50]]), np.array([[0, 1, 2, 3]]), np.array([2.0]),
        np.array([[0.1, 0.1, 0.6]]), opacities=[1.0],
    )  # fmt: skip
    renderer = Renderer(RenderConfig(mode="over"))
    target = renderer.render(Scene(64, 64, [1.0, 1.0, 1.0], (path, stroke)))
    moved = (path.with_parameters({"points": path.points + 3.0}), stroke.with_parameters({"points": stroke.points + [0, 4]}))
    result = fit(target, Scene(64, 64, [1.0, 1.0, 1.0], moved), 150, renderer=renderer)
    assert result.psnr >= 40.0  # both moved back (from 13.6 dB)
    back = svg_to_scene(scene_to_svg(result.scene))
    assert [type(group) for group in back.shapes] == [Paths, CubicCurves]
    np.testing.assert_allclose(renderer.render(back), renderer.render(result.scene), atol=1e-6)


def test_densify_moves_a_hidden_path_to_the_missing_disk():
    # Path 0 lies under path 1, which matches the grey it sits on; the target has a red
    # disk elsewhere. The hidden path becomes a circle there, on top, its points reordered.
    target = np.full((32, 40, 3), 0.5)
    yy, xx = np.mgrid[0:32, 0:40] + 0.5
    target[(xx - 30.5) ** 2 + (yy - 20.5) ** 2 <= 16.0] = [0.9, 0.1, 0.1]
    counts = np.full(4, 4)
    points = circle_contours(counts, np.array([[10.0, 10.0], [10.0, 10.0]]), np.array([3.0, 7.0]), np.zeros(2))
    segments = np.vstack([(np.arange(0, 12, 3)[:, None] + np.arange(4)) % 12 + 12 * i for i in range(2)])
    group = Paths(points.reshape(-1, 2), segments, [4, 8], [1, 2], [[0.0, 1.0, 0.0], [0.5, 0.5, 0.5]], opacities=[1, 1])
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (group,))
    relocated = Densifier(RenderConfig(mode="over", dtype="f64"), share=0.5)(scene, None, target)
    assert isinstance(relocated, Relocated)
    moved = relocated.scene.shapes[0]
    np.testing.assert_array_equal(relocated.orders["0.points"], np.r_[12:24, 0:12])
    np.testing.assert_array_equal(moved.points[:12], group.points[12:])  # the grey path, now first
    on_curve = moved.points[12::3]
    centre = on_curve.mean(axis=0)
    assert np.linalg.norm(centre - [30.5, 20.5]) <= 1.0
    np.testing.assert_allclose(np.linalg.norm(on_curve - centre, axis=1), np.linalg.norm(on_curve[0] - centre))
    np.testing.assert_allclose(moved.colours[1], [0.9, 0.1, 0.1], atol=0.05)
    before, after = (np.mean((render_reference(s, mode="over") - target) ** 2) for s in (scene, relocated.scene))
    assert after < 0.5 * before


def test_densify_moves_a_path_with_a_hole_as_a_disk_of_its_own_structure():
    # Path 0, a ring (outer contour of 6 cubics, a hole of 4 turning the other way), lies
    # under path 1 (one contour of 4 cubics), which matches the grey it sits on; the target
    # has a red disk elsewhere. Path 0 becomes a disk there: its outer contour a circle of
    # its 6 cubics, its hole collapsed onto the centre, drawing nothing, its gradient
    # finite. The two paths are laid out differently, so path 0 stays at its depth.
    target = np.full((32, 40, 3), 0.5)
    yy, xx = np.mgrid[0:32, 0:40] + 0.5
    target[(xx - 30.5) ** 2 + (yy - 20.5) ** 2 <= 16.0] = [0.9, 0.1, 0.1]
    centre = np.array([[10.0, 10.0]])
    outer = circle_contours(np.full(6, 4), centre, np.array([6.0]), np.zeros(1))[0]
    hole = circle_contours(np.full(4, 4), centre, np.array([3.0]), np.zeros(1))[0]
    ring = [closed_cubics(outer), [cubic[::-1] for cubic in closed_cubics(hole)[::-1]]]
    cover = [closed_cubics(circle_contours(np.full(4, 4), centre, np.array([7.0]), np.zeros(1))[0])]
    group = Paths.from_contours([ring, cover], [[0.0, 1.0, 0.0], [0.5, 0.5, 0.5]], opacities=[1, 1])
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (group,))
    relocated = Densifier(RenderConfig(mode="over", dtype="f64"), share=0.5)(scene, None, target)
    assert isinstance(relocated, Scene)  # values changed in place, nothing reordered
    moved = relocated.shapes[0]
    (outer_after, hole_after), _ = (moved.contours(i) for i in range(2))
    assert [len(outer_after), len(hole_after)] == [6, 4]
    np.testing.assert_array_equal(moved.points[30:], group.points[30:])  # path 1 stays
    on_curve = np.array([cubic[0] for cubic in outer_after])
    middle = on_curve.mean(axis=0)
    assert np.linalg.norm(middle - [30.5, 20.5]) <= 1.0
    np.testing.assert_allclose(np.linalg.norm(on_curve - middle, axis=1), np.linalg.norm(on_curve[0] - middle))
    np.testing.assert_allclose(np.vstack(hole_after), np.broadcast_to(middle, (16, 2)), atol=1e-12)
    # The collapsed hole draws nothing, under either rule: the path renders as its outer contour alone.
    alone = Paths.from_contours([[outer_after], [moved.contours(1)[0]]], moved.colours, opacities=[1, 1])
    for rule in ("nonzero", "evenodd"):
        with_rule = relocated.replace(shapes=(replace(moved, fill_rules=rule),))
        expected = render_reference(relocated.replace(shapes=(replace(alone, fill_rules=rule),)), mode="over")
        np.testing.assert_allclose(render_reference(with_rule, mode="over"), expected, atol=1e-12)
    frame = Renderer(RenderConfig(mode="over", dtype="f64")).forward(relocated)
    np.testing.assert_allclose(frame.image, render_reference(relocated, mode="over"), atol=1e-9)
    gradient = frame.backward(frame.image - target).shapes[0].points
    assert np.isfinite(gradient).all() and not gradient[18:30].any()  # the collapsed hole's points take none
    before, after = (np.mean((render_reference(s, mode="over") - target) ** 2) for s in (scene, relocated))
    assert after < 0.5 * before


def test_densify_refuses_paths_that_share_points():
    square = [np.array(edge, dtype=float) for edge in ([[0, 0], [9, 0]], [[9, 0], [9, 9]], [[9, 9], [0, 0]])]
    group = Paths.from_contours([[square], [square]], [RED, BLUE], opacities=[1, 1])
    shared = replace(group, segments=np.vstack([group.segments[:3], group.segments[:3]]), points=group.points[:3])
    scene = Scene(12, 12, [1.0, 1.0, 1.0], (shared,))
    with pytest.raises(
        ValueError, match="Densifier moves .* paths; the scene's first group holds Paths that share points"
    ):
        Densifier(RenderConfig(mode="over"))(scene, None, np.ones((12, 12, 3)))
    # A fit resumed from them (an imported SVG's) fits them where they are.
    start = starting_scene("path", np.ones((12, 12, 3)), 2, mode="over", resume=scene)
    assert start.relocate is None and start.scene.shapes[0].segments.shape == shared.segments.shape


def test_fit_command_writes_paths(tmp_path):
    target = square_and_disk()[1]
    iio.imwrite(tmp_path / "small.png", (target * 255 + 0.5).astype(np.uint8))
    out = tmp_path / "out"
    done = taichi_sdf("fit", tmp_path / "small.png", "--shape", "path", "--n", 6, "--steps", 30, "--out", out)
    assert done.returncode == 0, done.stderr
    fitted = Scene.load(out / "params.npz")
    kept = len(fitted.shapes[0])  # of 6: those that show nothing are left out
    assert type(fitted.shapes[0]) is Paths and 2 <= kept <= 6
    assert (out / "render.svg").read_text().count("<path ") == kept
    picture = iio.imread(tmp_path / "small.png") / 255.0
    start = starting_scene("path", picture, 6, mode="over").scene
    started, ended = (psnr(render_reference(s, mode="over"), picture) for s in (start, fitted))
    assert ended > started + 3.0


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (9, 1)])
def test_a_path_fit_takes_any_picture_however_narrow(size):
    for target in (np.full(size + (3,), 0.4), np.random.default_rng(0).uniform(0, 1, size + (3,))):
        start = starting_scene("path", target, 4, mode="over")
        renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
        result = fit(target, start.scene, 3, renderer=renderer, relocate=start.relocate, relocate_every=1, anneal=2.0)
        assert len(result.losses) == 3 and np.isfinite(result.loss)


def closed_cubics(points: np.ndarray) -> list[np.ndarray]:
    """The cubics (4, 2) of a closed contour of (3 k, 2) points in the order of circle_contours."""
    m = len(points)
    return [np.vstack([points[3 * j : 3 * j + 3], points[(3 * j + 3) % m]]) for j in range(m // 3)]


def ring_picture(size: int = 40) -> np.ndarray:
    """A red ring (radii 6 and 14 about (20.3, 19.7)) on white, one pixel per sample (no anti-aliasing)."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    distance = np.hypot(xx - 20.3, yy - 19.7)
    target = np.ones((size, size, 3))
    target[(distance >= 6.0) & (distance <= 14.0)] = RED
    return target


def star_mask(size: int = 40, points: int = 5) -> np.ndarray:
    """A star of ``points`` tips (radii 16 and 7 about the centre), (size, size) bools."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5 - 0.5 * size
    angle, radius = np.arctan2(yy, xx), np.hypot(xx, yy)
    phase = np.abs(((angle * points / (2 * np.pi)) % 1.0) - 0.5) * 2  # 1 at a tip, 0 between
    return radius <= 7.0 + 9.0 * phase


def test_a_ring_starts_as_one_path_with_its_hole():
    group = init_paths(ring_picture(), 1).shapes[0]
    assert list(group.path_ends) == [2] and group.fill_rules[0] == 0  # two contours, nonzero
    outer, hole = group.contours(0)
    # Under nonzero the hole is a hole because it turns the other way (shoelace of the on-curve points).
    x, y = np.array([cubic[0] for cubic in outer]).T
    u, v = np.array([cubic[0] for cubic in hole]).T
    assert np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0 > np.sum(u * np.roll(v, -1) - np.roll(u, -1) * v)
    centre, middle = np.array([[20.3, 19.7]]), np.array([[30.3, 19.7], [20.3, 9.7], [10.3, 19.7]])
    assert reference_coverage(group, 0, centre, 1.0)[0] < 0.01  # the hole is background...
    np.testing.assert_allclose(reference_coverage(group, 0, middle, 1.0), 1.0)  # ...the ring is filled


def test_segment_counts_follow_the_outline():
    yy, xx = np.mgrid[0:40, 0:40] + 0.5
    disk = region_contours(np.hypot(xx - 20, yy - 20) <= 13.0, cubics=12)
    star = region_contours(star_mask(), cubics=6)
    assert len(disk) == 1 and len(star) == 1  # no holes
    assert len(disk[0]) // 3 == MIN_SEGMENTS  # a disk needs no more than the fewest
    assert MIN_SEGMENTS < len(star[0]) // 3 <= 6  # ten corners take more, up to the most
    assert len(region_contours(star_mask())[0]) // 3 == MAX_SEGMENTS == MIN_SEGMENTS  # by default: few, cheap
    # The star's cubics come within 2 px of its boundary pixels (measured 1.61 px; its
    # first four cubics alone miss by 2.43).
    traced = np.argwhere(star_mask() ^ ndimage.binary_erosion(star_mask()))[:, ::-1] + 0.5
    curve = np.vstack([cubic_points(c, np.linspace(0, 1, 21)) for c in closed_cubics(star[0])])
    assert np.min(np.linalg.norm(curve[:, None] - traced[None], axis=2), axis=1).max() <= 2.0


def test_a_glyph_with_holes_is_recovered_by_one_path():
    # "B" drawn as DejaVu Sans draws it (one path of three contours), rasterized by the
    # reference renderer; one path started from its region (its two holes included) fits it.
    glyph = text_paths("B", size=40.0, origin=(8.0, 38.0), colour=BLUE)
    target = render_reference(Scene(44, 44, [1.0, 1.0, 1.0], (glyph,)), mode="over")
    start = starting_scene("path", target, 1, mode="over")
    assert len(start.scene.shapes[0].contour_ends) == 3
    result = fit(
        target, start.scene, GLYPH_STEPS, renderer=Renderer(RenderConfig(mode="over")), relocate=start.relocate
    )
    assert result.psnr >= 35.0


def test_a_path_with_a_hole_is_written_and_resumed(tmp_path):
    # The fit command on a ring writes its path with both contours (params.npz, and the SVG
    # as two subpaths); a fit resumed from params.npz keeps them and densifies as it goes.
    picture = ring_picture()
    iio.imwrite(tmp_path / "ring.png", (picture * 255 + 0.5).astype(np.uint8))
    out = tmp_path / "out"
    done = taichi_sdf("fit", tmp_path / "ring.png", "--shape", "path", "--n", 2, "--steps", 20, "--out", out)
    assert done.returncode == 0, done.stderr
    fitted = Scene.load(out / "params.npz")
    started = starting_scene("path", iio.imread(tmp_path / "ring.png") / 255.0, 2, mode="over").scene.shapes[0]
    for name in ("segments", "contour_ends", "path_ends"):
        np.testing.assert_array_equal(getattr(fitted.shapes[0], name), getattr(started, name))
    assert list(fitted.shapes[0].path_ends) == [2, 3]  # the ring's two contours, then its hole's region
    ring_element = (out / "render.svg").read_text().split("<path ")[1]
    assert ring_element.count("M ") == 2 and 'fill-rule="nonzero"' in ring_element
    start = starting_scene("path", picture, 2, mode="over", resume=fitted)
    assert start.relocate is not None
    result = fit(picture, start.scene, 12, renderer=Renderer(RenderConfig(mode="over")), relocate=start.relocate,
                 relocate_every=5)  # fmt: skip
    assert np.isfinite(result.loss) and result.scene.shapes[0].segments.shape == fitted.shapes[0].segments.shape
