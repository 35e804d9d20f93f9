"""Rotated ellipses and rectangles: gradients against finite differences in every mode, the
tiled renderer against the numpy reference, binning, areas, degenerate shapes, SVG export
against resvg, the torch op, fitting and the command line."""

import io
import math
import re

import numpy as np
import pytest
from conftest import assert_every_covered_pixel_binned, assert_matches, directional_check, taichi_sdf

from taichi_sdf import Circles, Ellipses, Rectangles, RenderConfig, Renderer, Scene
from taichi_sdf.config import MODES
from taichi_sdf.densify import Densifier
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
    # centres: brute force on a 0.15 px grid of those rectangles, with a band 0.12 px wider
    # for the points between the grid's (the corrected distance moves ~1 px per px).
    tile_size, step = 8, 0.15
    scene = scene_of(kind, seed=5, n=8)
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
        for band, found in ((1.0, surely), (1.12, maybe)):
            covered = kind_of(group).reference_coverage(group, i, points, band) > 0
            found |= {(int(tile), i) for tile in np.unique(tile_of[covered])}
    assert surely <= binned <= maybe


def ink(shape, size=(120, 100), offsets=4, seed=0) -> float:
    """Coverage summed over the pixels of one white shape on black, averaged over
    ``offsets`` random sub-pixel placements (the grid's sampling spreads a single
    placement's sum by ~0.1 px^2)."""
    rng = np.random.default_rng(seed)
    renderer, total = Renderer(RenderConfig(dtype="f64")), 0.0
    for _ in range(offsets):
        moved = shape.with_parameters({"centres": shape.centres + rng.uniform(0, 1, 2)})
        total += renderer.render(Scene(*size, [0.0, 0.0, 0.0], (moved,)))[..., 0].sum()
    return total / offsets


def ellipse_perimeter(a: float, b: float) -> float:
    """The perimeter of an ellipse by its elliptic integral (numerically, to 1e-10)."""
    t = np.linspace(0, 2 * np.pi, 200001)
    return float(np.trapezoid(np.hypot(a * np.sin(t), b * np.cos(t)), t))


@pytest.mark.parametrize("a,b", [(10.0, 7.0), (20.0, 5.0), (25.0, 25.0), (6.0, 2.5), (12.0, 4.0)])
def test_ellipse_coverage_sums_to_pi_a_b(a, b):
    # Within 0.005 px per unit of outline length (about 0.3 px^2 here), where the plain
    # distance's curvature bias (~0.6 px^2) would not be.
    ellipse = Ellipses([[59.7, 50.2]], [[a, b]], [0.3], [[1.0, 1.0, 1.0]])
    assert abs(ink(ellipse) - math.pi * a * b) <= 0.005 * ellipse_perimeter(a, b)


@pytest.mark.parametrize("w,h,r", [(30.0, 20.0, 0.0), (30.0, 20.0, 4.0), (30.0, 20.0, 10.0), (9.0, 14.0, 2.0)])
def test_rectangle_coverage_sums_to_its_area(w, h, r):
    rect = Rectangles([[59.7, 50.2]], [[w, h]], [0.4], [[1.0, 1.0, 1.0]], corner_radii=[r])
    area, perimeter = w * h - (4 - math.pi) * r * r, 2 * (w + h) - 2 * (4 - math.pi) * r
    assert abs(ink(rect) - area) <= 0.005 * perimeter


@pytest.mark.parametrize("fill", ["flat", "linear"])
def test_a_circular_ellipse_draws_as_the_circle(fill):
    slopes = [[[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]]] if fill == "linear" else None
    circle = Circles([[20.3, 18.7]], [7.3], [[0.8, 0.3, 0.5]], slopes)
    ellipse = Ellipses([[20.3, 18.7]], [[7.3, 7.3]], [0.7], [[0.8, 0.3, 0.5]], slopes)
    renderer = Renderer(RenderConfig(dtype="f64"))
    images = [renderer.render(Scene(40, 36, [0.1, 0.1, 0.1], (shape,))) for shape in (circle, ellipse)]
    assert np.abs(images[0] - images[1]).max() <= 1e-9


def degenerate_scene() -> Scene:
    """Shapes at the edges of what the kinds draw, many centred on pixel centres or pixel
    corners: circles as ellipses, hairlines, axis-aligned and upright shapes, zero and
    largest corner radii, tiny shapes, shapes far larger than the image."""
    ellipses = Ellipses(
        centres=[[10.5, 10.5], [20.0, 8.0], [30.5, 20.5], [12.5, 24.0], [22.5, 22.5], [-400.0, 15.0], [35.0, 8.5]],
        radii=[[6.0, 6.0], [12.0, 0.05], [0.05, 9.0], [0.02, 0.02], [7.0, 3.0], [1e5, 3e4], [4.0, 1e-3]],
        angles=[0.0, 0.0, 0.5 * math.pi, 1.0, -math.pi, 0.0, 2 * math.pi],
        colours=np.full((7, 3), 0.5), opacities=np.full(7, 0.6),
    )  # fmt: skip
    rects = Rectangles(
        centres=[[10.5, 10.5], [20.0, 28.0], [30.5, 20.5], [12.5, 24.0], [22.5, 12.5], [20.0, -5e4], [38.0, 30.0]],
        sizes=[[8.0, 8.0], [30.0, 0.05], [12.0, 6.0], [0.03, 0.03], [10.0, 6.0], [2e5, 1e5 + 30.0], [6.0, 6.0]],
        angles=[0.0, 0.5 * math.pi, math.pi, 0.3, 0.0, 0.0, 1.5 * math.pi],
        colours=np.full((7, 3), 0.5), opacities=np.full(7, 0.6),
        corner_radii=[4.0, 0.0, 3.0, 0.0, 40.0, 0.0, 0.0],
    )  # fmt: skip
    return Scene(41, 35, [0.2, 0.4, 0.6], (ellipses, rects))


@pytest.mark.parametrize("dtype,mode", [("f64", mode) for mode in MODES] + [("f32", "mean"), ("f32", "over")])
def test_degenerate_shapes_render_and_differentiate_without_nan(dtype, mode):
    scene = degenerate_scene()
    renderer = Renderer(RenderConfig(dtype=dtype, mode=mode))
    image = renderer.render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= (1e-9 if dtype == "f64" else 1e-4)
    grads = renderer.backward(np.random.default_rng(0).normal(size=image.shape)).parameters()
    for key, grad in grads.items():
        assert np.all(np.isfinite(grad)), key


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="radii must have shape"):
        Ellipses([[1, 2]], [3.0], [0.0], [[1, 1, 1]])
    with pytest.raises(ValueError, match="corner radii must not be negative"):
        Scene(8, 8, [0, 0, 0], (Rectangles([[1, 2]], [[3, 4]], [0], [[1, 1, 1]], corner_radii=[-1]),)).check_values()
    for group in (Ellipses([[1, 2]], [[3, 0]], [0], [[1, 1, 1]]), Rectangles([[1, 2]], [[0, 4]], [0], [[1, 1, 1]])):
        with pytest.raises(ValueError, match="must be positive"):
            Scene(8, 8, [0, 0, 0], (group,)).check_values()
    with pytest.raises(ValueError, match="angles"):
        Scene(8, 8, [0, 0, 0], (Ellipses([[1, 2]], [[3, 4]], [np.nan], [[1, 1, 1]]),)).check_values()


def test_save_load_and_scaled(tmp_path):
    scene = both_kinds(6)
    scene.save(tmp_path / "params.npz")
    loaded = Scene.load(tmp_path / "params.npz")
    for key, value in scene.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[key], value)
    # Twice as large: sizes and corners double, angles and fills stay; the picture is the
    # same one at twice the resolution (its 2x2 means close to the original's pixels).
    double = scene.scaled(2.0)
    np.testing.assert_array_equal(double.shapes[1].corner_radii, 2 * scene.shapes[1].corner_radii)
    np.testing.assert_array_equal(double.shapes[0].angles, scene.shapes[0].angles)
    small = Renderer(RenderConfig(dtype="f64")).render(scene)
    large = Renderer(RenderConfig(dtype="f64", aa_width=2.0)).render(double)
    assert np.abs(large.reshape(HEIGHT, 2, WIDTH, 2, 3).mean(axis=(1, 3)) - small).mean() <= 0.01


def svg_scene() -> Scene:
    """Rotated ellipses and rectangles (sharp and rounded) with rank-one linear fills (as a
    fit leaves them), some saturating, and opacities."""
    rng = np.random.default_rng(7)
    n = 6
    slopes = 0.5 * rng.normal(size=(n, 3, 1)) * rng.normal(size=(n, 1, 2))
    ellipses = Ellipses(
        rng.uniform([20, 20], [140, 90], (n, 2)), rng.uniform(4, 30, (n, 2)), rng.uniform(-3, 3, n),
        rng.uniform(0.1, 0.9, (n, 3)), slopes, rng.uniform(0.5, 1.0, n),
    )  # fmt: skip
    rects = Rectangles(
        rng.uniform([20, 20], [140, 90], (n, 2)), rng.uniform(6, 50, (n, 2)), rng.uniform(-3, 3, n),
        rng.uniform(0.1, 0.9, (n, 3)), slopes[::-1], rng.uniform(0.5, 1.0, n), [0, 0, 3, 8, 20, 1.5],
    )  # fmt: skip
    return Scene(160, 110, [0.95, 0.95, 0.9], (ellipses, rects))


def test_svg_by_resvg_matches_our_raster():
    resvg_py = pytest.importorskip("resvg_py")
    import imageio.v3 as iio

    from taichi_sdf.losses import psnr
    from taichi_sdf.svg import scene_to_svg

    scene = svg_scene()
    svg = scene_to_svg(scene)
    assert svg.count("<ellipse") == 6 and svg.count("<rect") == 6 + 1  # and the background
    assert svg.count('transform="rotate(') == 12 and len(re.findall(r'<rect [^>]* rx="', svg)) == 4
    theirs = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))[..., :3] / 255.0
    # Drawn as an SVG viewer draws: in order, alpha compositing, crisp edges.
    ours = np.clip(Renderer(RenderConfig(mode="alpha", aa_width=0.6, dtype="f64")).render(scene), 0, 1)
    assert psnr(theirs, ours) >= 35.0


@pytest.mark.parametrize("mode", ["mean", "over"])
def test_torch_gradcheck(mode):
    torch = pytest.importorskip("torch")
    from taichi_sdf.torch import parameters, render

    rng = np.random.default_rng(8)
    scene = Scene(WIDTH, HEIGHT, [0.3, 0.5, 0.7], (random_ellipses(rng, 6), random_rects(rng, 6, sharp=False)))
    params = parameters(scene, batch=2, dtype=torch.float64)
    with torch.no_grad():  # a second, different scene in the batch
        for key in ("0.centres", "1.centres", "0.angles", "1.angles"):
            params[key][1] += torch.from_numpy(rng.normal(0, 0.5, params[key][1].shape))
    config = RenderConfig(dtype="f64", mode=mode)
    for key, value in params.items():
        value.requires_grad_(True)

        def rendered(value, key=key):
            return render(scene, {**params, key: value}, config)

        assert torch.autograd.gradcheck(rendered, (value,), eps=1e-6, atol=1e-6, rtol=1e-5, fast_mode=True), key


def test_distance_functions_equal_numpy():
    import taichi as ti

    from taichi_sdf.funcs import sdf_box
    from taichi_sdf.funcs.ellipse import ellipse_distance_grad

    @ti.kernel
    def distances(points: ti.types.ndarray(), shape: ti.types.ndarray(), out: ti.types.ndarray()):
        for i in range(points.shape[0]):
            p, centre = ti.Vector([points[i, 0], points[i, 1]]), ti.Vector([shape[0], shape[1]])
            size, cos, sin = ti.Vector([shape[2], shape[3]]), ti.cos(shape[4]), ti.sin(shape[4])
            offset = p - centre
            q = ti.Vector([cos * offset[0] + sin * offset[1], -sin * offset[0] + cos * offset[1]])
            out[i, 0], _d_q, _d_radii = ellipse_distance_grad(q, size)
            out[i, 1] = sdf_box(p, centre, 2.0 * size, shape[4], shape[5])

    rng = np.random.default_rng(9)
    for shape in ([10.3, 8.1, 12.0, 3.0, 0.7, 1.5], [0.2, -3.1, 2.0, 9.0, -2.0, 0.0], [5.0, 5.0, 4.0, 4.0, 0.0, 4.0]):
        points = rng.uniform(-20, 30, (2000, 2))
        out = np.zeros((2000, 2))
        distances(points, np.array(shape), out)
        centre, size, angle, radius = np.array(shape[:2]), np.array(shape[2:4]), shape[4], shape[5]
        np.testing.assert_allclose(out[:, 0], ellipse_distance(points, centre, size, angle), rtol=0, atol=1e-11)
        np.testing.assert_allclose(out[:, 1], box_distance(points, centre, 2 * size, angle, radius), rtol=0, atol=1e-11)


def blob_target() -> np.ndarray:
    """Grey 40x32 with a blue disk of radius 4 at (30.5, 20.5)."""
    target = np.full((32, 40, 3), 0.5)
    yy, xx = np.mgrid[0:32, 0:40] + 0.5
    target[(xx - 30.5) ** 2 + (yy - 20.5) ** 2 <= 16.0] = [0.1, 0.2, 0.9]
    return target


@pytest.mark.parametrize("kind", GROUPS)
def test_densifier_moves_a_useless_shape_on_top_of_the_missing_ink(kind):
    # Shape 0 hides under shape 1, which matches the grey it sits on; the blob wants one.
    colours, opacities = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5]], [1.0, 1.0]
    if kind == "ellipse":
        group = Ellipses([[10.0, 10.0]] * 2, [[3.0, 2.0], [7.0, 6.0]], [0.3, 0.0], colours, None, opacities)
    else:
        group = Rectangles([[10.0, 10.0]] * 2, [[5.0, 4.0], [12.0, 12.0]], [0.3, 0.0], colours, None, opacities)
    scene = Scene(40, 32, [0.5, 0.5, 0.5], (group,))
    target = blob_target()
    result = Densifier(RenderConfig(mode="over", dtype="f64"), share=1.0)(scene, None, target)
    np.testing.assert_array_equal(result.orders["0.colours"], [1, 0])  # the moved one on top
    moved = result.scene.shapes[0]

    def error(scene):
        return np.mean((render_reference(scene, mode="over") - target) ** 2)

    assert error(result.scene) < 0.5 * error(scene)
    np.testing.assert_allclose(moved.colours[1], [0.1, 0.2, 0.9], atol=0.05)
    assert np.linalg.norm(moved.centres[1] - [30.5, 20.5]) <= 1.0
    for key, value in moved.parameters().items():  # the kept shape keeps its values in its new slot
        np.testing.assert_array_equal(value[0], group.parameters()[key][1])


def striped_target(height: int = 48, width: int = 64) -> np.ndarray:
    """Vertical stripes 8 px wide: every edge runs along the y axis."""
    target = np.zeros((height, width, 3))
    target[:, (np.arange(width) // 8) % 2 == 1] = [0.9, 0.8, 0.2]
    target[:, (np.arange(width) // 8) % 2 == 0] = [0.1, 0.2, 0.5]
    return target


@pytest.mark.parametrize("shape", ["ellipse", "rect"])
def test_starting_shapes_follow_the_picture(shape):
    from taichi_sdf.init import DISK_SHAPES

    target = striped_target()
    scene = DISK_SHAPES[shape](target, 40, seed=3)
    group = scene.shapes[0]
    assert len(group) == 40 and group.slopes is not None
    assert np.all((group.centres >= 0) & (group.centres <= [64, 48]))
    np.testing.assert_allclose(scene.background, target.reshape(-1, 3).mean(axis=0))
    # Along the edges: the long axis upright, within a few degrees, where an edge is near.
    near_edge = np.abs((group.centres[:, 0] + 4) % 8 - 4) < 1.5
    long_axis_upright = np.abs(np.cos(group.angles[near_edge])) < 0.1
    assert near_edge.sum() >= 10 and long_axis_upright.all()
    sizes = group.radii if shape == "ellipse" else group.sizes
    assert np.all(sizes[:, 0] > sizes[:, 1])


@pytest.mark.parametrize("shape", ["ellipse", "rect"])
def test_fit_from_the_starting_scene_lowers_the_loss(shape):
    from taichi_sdf.init import starting_scene
    from taichi_sdf.optim import fit

    target = striped_target(24, 32) * 0.8 + 0.1
    start = starting_scene(shape, target, 12, mode="over")
    renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
    result = fit(start.target, start.scene, 40, renderer=renderer, relocate=start.relocate, relocate_every=10)
    assert result.losses[-1] < 0.5 * result.losses[0]
    for size in ((1, 1), (1, 7), (9, 1)):  # any picture, however narrow
        tiny = starting_scene(shape, np.full(size + (3,), 0.4), 4, mode="over")
        assert np.isfinite(fit(tiny.target, tiny.scene, 3, renderer=renderer, relocate=tiny.relocate).loss)


@pytest.mark.parametrize("shape", ["ellipse", "rect"])
def test_fit_command_end_to_end(shape, tmp_path):
    import imageio.v3 as iio

    picture = (striped_target(24, 32) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "stripes.png", picture)
    out = tmp_path / "out"
    done = taichi_sdf("fit", tmp_path / "stripes.png", "--shape", shape, "--n", 16, "--steps", 30, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "PSNR" in done.stdout
    scene = Scene.load(out / "params.npz")
    assert type(scene.shapes[0]) is {"ellipse": Ellipses, "rect": Rectangles}[shape]
    svg = (out / "render.svg").read_text()
    assert svg.count({"ellipse": "<ellipse", "rect": "<rect "}[shape]) >= 16
