"""Rotated ellipses and rectangles: gradients against finite differences in every mode, the
tiled renderer against the numpy reference, binning, areas, degenerate shapes, SVG export
against resvg, the torch op, fitting and the command line."""

import io
import math

import numpy as np
import pytest
from conftest import assert_every_covered_pixel_binned, assert_matches, directional_check, taichi_sdf

from taichi_sdf import Circles, Ellipses, Rectangles, RenderConfig, Renderer, Scene
from taichi_sdf.config import MODES
from taichi_sdf.kinds import kind_of
from taichi_sdf.kinds.ellipse import ellipse_distance
from taichi_sdf.kinds.rect import box_distance
from taichi_sdf.reference import render_reference

WIDTH, HEIGHT = 45, 35


def random_ellipses(rng, n: int, fill: str = "linear", opacity: bool = True) -> Ellipses:
    """Ellipses of semi-axes 0.4-14 px at random angles, some crossing the image's edge, and
    the awkward ones: a circle, a hairline (0.3 px), axis-aligned, upright, one far larger
    than the image. (Centres off the pixel grid: a pixel centre on a kink of the distance,
    or on a sharp corner, has no derivative for finite differences to find.)"""
    centres = rng.uniform(-5, 1, (n, 2)) + rng.uniform(0, 1, (n, 2)) * [WIDTH + 10, HEIGHT + 10]
    radii = rng.uniform(0.4, 14.0, (n, 2))
    angles = rng.uniform(-4, 4, n)
    centres[:5] = [[12.3, 9.7], [30.1, 25.2], [22.63, 17.38], [8.2, 26.3], [20.3, 60.2]]
    radii[:5] = [[6.3, 6.3], [11.2, 0.3], [9.0, 4.0], [3.0, 7.0], [300.0, 40.0]]
    angles[:5] = [0.4, 0.7, 0.0, 0.5 * math.pi, 0.05]
    return Ellipses(
        centres, radii, angles, rng.uniform(0.1, 0.9, (n, 3)),
        rng.normal(0, 0.3, (n, 3, 2)) if fill == "linear" else None,
        rng.uniform(0.3, 1.0, n) if opacity else None,
    )  # fmt: skip


def random_rects(rng, n: int, fill: str = "linear", opacity: bool = True, sharp: bool = True) -> Rectangles:
    """Rectangles of sides 0.8-25 px at random angles, with corner radii from 0.3 past half
    the shorter side (projected), some crossing the image's edge, and the awkward ones: a
    hairline (0.4 px), axis-aligned, upright, one beyond its largest radius (a stadium),
    one far larger than the image. With ``sharp`` a third and the first three have sharp
    corners (radius 0, where the radius's gradient is one-sided)."""
    centres = rng.uniform(-5, 1, (n, 2)) + rng.uniform(0, 1, (n, 2)) * [WIDTH + 10, HEIGHT + 10]
    sizes = rng.uniform(0.8, 25.0, (n, 2))
    angles = rng.uniform(-4, 4, n)
    radii = rng.uniform(0.3, 8.0, n)
    centres[:5] = [[30.3, 9.7], [12.1, 25.2], [22.63, 17.38], [36.2, 26.3], [-100.3, 10.1]]
    sizes[:5] = [[14.0, 0.4], [9.0, 6.0], [8.0, 12.0], [10.0, 10.4], [250.0, 60.0]]
    angles[:5] = [0.3, 0.0, 0.5 * math.pi, 0.2, -0.1]
    radii[:5] = [0.1, 2.0, 0.7, 5.3, 12.0]
    if sharp:
        radii[:3] = 0.0
        radii[rng.uniform(0, 1, n) < 0.3] = 0.0
    return Rectangles(
        centres, sizes, angles, rng.uniform(0.1, 0.9, (n, 3)),
        rng.normal(0, 0.3, (n, 3, 2)) if fill == "linear" else None,
        rng.uniform(0.3, 1.0, n) if opacity else None, radii,
    )  # fmt: skip


GROUPS = {"ellipse": random_ellipses, "rect": random_rects}
KEYS = {
    "ellipse": ["centres", "radii", "angles", "colours", "slopes", "opacities"],
    "rect": ["centres", "sizes", "angles", "corner_radii", "colours", "slopes", "opacities"],
}


def scene_of(kind: str, seed: int, n: int = 14, **options) -> Scene:
    rng = np.random.default_rng(seed)
    return Scene(WIDTH, HEIGHT, rng.uniform(0, 1, 3), (GROUPS[kind](rng, n, **options),))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind,key", [(kind, key) for kind in GROUPS for key in KEYS[kind] + ["background"]])
def test_gradients_equal_finite_differences(kind, key, mode):
    scene = scene_of(kind, seed=len(key), **({"sharp": False} if key == "corner_radii" else {}))
    keys = [key if key == "background" else f"0.{key}"]
    assert_matches(*directional_check(scene, keys, RenderConfig(dtype="f64", mode=mode), seed=2))


@pytest.mark.parametrize("mode", ["mean", "over"])
@pytest.mark.parametrize("tile_size", [8, 16, 32])
@pytest.mark.parametrize("kind", GROUPS)
def test_tiled_equals_reference(kind, tile_size, mode):
    rng = np.random.default_rng(tile_size)
    scene = Scene(53, 37, rng.uniform(0, 1, 3), (GROUPS[kind](rng, 20),))  # odd sizes: partial tiles
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", mode=mode)).render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= 1e-9


def both_kinds(seed: int, fill: str = "linear") -> Scene:
    rng = np.random.default_rng(seed)
    return Scene(WIDTH, HEIGHT, rng.uniform(0, 1, 3), (random_ellipses(rng, 10, fill), random_rects(rng, 10, fill)))


@pytest.mark.parametrize("mode", ["alpha", "softor"])
def test_both_kinds_in_one_scene_equal_reference(mode):
    scene = both_kinds(3)
    image = Renderer(RenderConfig(tile_size=16, dtype="f64", mode=mode)).render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= 1e-9


@pytest.mark.parametrize("tile_size", [8, 16])
def test_binning_holds_every_covered_pixel(tile_size):
    assert_every_covered_pixel_binned(both_kinds(4), tile_size)


@pytest.mark.parametrize("kind", GROUPS)
def test_binning_is_tight(kind):
    # A tile is listed exactly where the coverage reaches the rectangle of its pixel
    # centres: brute force on a 0.1 px grid of those rectangles, with a band 0.06 px wider
    # for the points between the grid's (the corrected distance moves ~1 px per px).
    tile_size, step = 8, 0.1
    scene = scene_of(kind, seed=5, n=10)
    renderer = Renderer(RenderConfig(tile_size=tile_size, dtype="f64"))
    renderer.render(scene)
    binned = {(tile, int(i)) for tile, listed in enumerate(renderer.tile_lists()) for i in listed}
    offsets = np.arange(0.0, tile_size - 1 + 1e-9, step)  # within a tile, from its first pixel centre
    xs = (np.arange(0, WIDTH, tile_size)[:, None] + 0.5 + offsets).ravel()
    ys = (np.arange(0, HEIGHT, tile_size)[:, None] + 0.5 + offsets).ravel()
    points = np.stack(np.meshgrid(xs[xs < WIDTH], ys[ys < HEIGHT]), axis=-1)
    tile_of = (points[..., 1] // tile_size) * math.ceil(WIDTH / tile_size) + points[..., 0] // tile_size
    group = scene.shapes[0]
    surely, maybe = set(), set()
    for i in range(len(group)):
        for band, found in ((1.0, surely), (1.06, maybe)):
            covered = kind_of(group).reference_coverage(group, i, points, band) > 0
            found |= {(int(tile), i) for tile in np.unique(tile_of[covered])}
    assert surely <= binned <= maybe
