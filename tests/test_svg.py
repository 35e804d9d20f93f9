"""SVG export, checked by an independent renderer (resvg) against our own raster, and SVG
import: round trips, foreign documents, and errors."""

import io

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import mixed_scene
from skimage.transform import downscale_local_mean

from taichi_sdf import Circles, CubicCurves, QuadraticCurves, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.io import load_image
from taichi_sdf.losses import psnr
from taichi_sdf.drawing import drawing_target, init_pen
from taichi_sdf.init import init_circles, init_mesh
from taichi_sdf.optim import fit, rank_one
from taichi_sdf.reference import render_reference
from taichi_sdf.svg import SvgError, load_svg, save_svg, scene_to_svg, svg_to_scene

resvg_py = pytest.importorskip("resvg_py")


def rasterise_svg(svg: str) -> np.ndarray:
    return iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))[..., :3] / 255.0


SVG_LIKE = {"mode": "alpha", "aa_width": 0.6, "dtype": "f64"}  # compositing and edge width of SVG viewers


def alpha_render(scene: Scene) -> np.ndarray:
    """Our raster drawn as an SVG viewer draws: in order, alpha compositing, crisp edges."""
    return np.clip(Renderer(RenderConfig(**SVG_LIKE)).render(scene), 0, 1)


def hand_made_scene() -> Scene:
    rng = np.random.default_rng(0)
    # Rank-one slopes (every channel changes along one direction), some channels saturating.
    directions = rng.normal(size=(4, 1, 2))
    circles = Circles(
        centres=[[40.3, 42.1], [75.6, 55.2], [120.4, 30.7], [30.2, 85.9]],
        radii=[26.1, 21.7, 15.3, 12.2],
        colours=rng.uniform(0.2, 0.8, (4, 3)),
        slopes=0.4 * rng.normal(size=(4, 3, 1)) * directions,
        opacities=[1.0, 0.7, 0.9, 0.5],
    )
    mesh = Triangles(
        vertices=[[95.2, 10.3], [150.7, 12.1], [148.2, 70.6], [97.1, 68.4]],
        faces=[[0, 1, 2], [0, 2, 3]],
        colours=[[0.9, 0.8, 0.2], [0.2, 0.8, 0.4]],
        slopes=[np.outer([0.3, -0.2, 0.1], [0.6, 0.8]), np.zeros((3, 2))],
        opacities=[0.8, 1.0],
    )
    pen = Strokes(
        points=[[15.5, 95.2], [60.3, 82.7], [105.8, 100.1], [150.2, 85.4]],
        segments=[[0, 1], [1, 2], [2, 3]],
        widths=[4.0, 3.0, 5.0],
        colours=[[0.1, 0.1, 0.1], [0.5, 0.1, 0.1], [0.1, 0.1, 0.5]],
    )
    return Scene(160, 110, [0.95, 0.95, 0.9], (circles, mesh, pen))


@pytest.fixture(scope="module")
def small_cat() -> np.ndarray:
    return downscale_local_mean(load_image("chelsea.png")[0], (4, 4, 1))  # 75 x 113


def fitted(scene: Scene, target: np.ndarray, mode: str) -> Scene:
    return fit(target, scene, 40, renderer=Renderer(RenderConfig(mode=mode, dtype="f64"))).scene


def test_hand_made_scene_by_resvg_matches_our_raster():
    scene = hand_made_scene()
    assert psnr(rasterise_svg(scene_to_svg(scene)), alpha_render(scene)) >= 35.0


@pytest.mark.parametrize("shape", ["circles", "mesh", "free triangles", "strokes"])
def test_fitted_scene_by_resvg_matches_our_raster(shape, small_cat):
    if shape == "circles":
        scene = fitted(init_circles(small_cat, 40), small_cat, "alpha")
    elif shape == "strokes":
        scene = fitted(init_pen(small_cat, 60, kind="segment"), drawing_target(small_cat), "over")
    else:
        scene = init_mesh(small_cat, 60)
        if shape == "free triangles":
            scene = scene.replace(shapes=(scene.shapes[0].unshared(),))
        scene = fitted(scene, small_cat, "mean")
    ours, theirs = alpha_render(scene), rasterise_svg(scene_to_svg(scene))
    assert theirs.shape == ours.shape
    assert psnr(theirs, ours) >= 35.0


def test_svg_has_the_elements_and_size(tmp_path):
    scene = hand_made_scene()
    save_svg(scene, tmp_path / "scene.svg")
    text = (tmp_path / "scene.svg").read_text()
    assert 'width="160" height="110" viewBox="0 0 160 110"' in text
    assert text.count("<circle") == 4 and text.count("<polygon") == 2 and text.count("<line ") == 3
    assert text.count("<linearGradient") == 6 and 'stroke-linecap="round"' in text
    assert text.count("<g>") == 3


def assert_same_scene(a: Scene, b: Scene, tolerance: float = 1e-6):
    """Equal sizes, background and groups; meshes and polylines compared by their corner
    coordinates and how many points they share."""
    assert (a.width, a.height) == (b.width, b.height)
    np.testing.assert_allclose(b.background, a.background, atol=tolerance)
    assert [type(g) for g in a.shapes] == [type(g) for g in b.shapes]
    for x, y in zip(a.shapes, b.shapes):
        for name in x.PARAMETERS:
            u, v = getattr(x, name), getattr(y, name)
            if name in ("vertices", "points"):  # shared points: compare through the index arrays
                u, v = u[getattr(x, x.INDICES[0])], v[getattr(y, y.INDICES[0])]
                assert len(getattr(x, name)) == len(getattr(y, name))
            assert (u is None) == (v is None), name
            if u is not None:
                np.testing.assert_allclose(v, u, atol=tolerance, rtol=0, err_msg=name)


def test_import_of_export_is_exact():
    assert_same_scene(hand_made_scene(), svg_to_scene(scene_to_svg(hand_made_scene())))


@pytest.mark.parametrize("fill,opacity", [("linear", True), ("flat", False)])
def test_import_of_export_is_exact_for_mixed_scenes(fill, opacity):
    scene = mixed_scene(np.random.default_rng(3), 41, 29, fill, opacity)
    if fill == "linear":
        scene = scene.with_parameters({key: rank_one(v) for key, v in scene.parameters().items() if "slopes" in key})
    assert_same_scene(scene, svg_to_scene(scene_to_svg(scene)))


def test_saturating_gradient_is_exact_in_svg():
    # Red runs from -1 to 2 across the circle and blue from 1.5 to 0.3: the renderer clamps
    # them, the SVG needs a stop where each saturates.
    circle = Circles([[30.0, 20.0]], [18.0], [[0.5, 0.2, 0.9]], [np.outer([1.5, 0.0, -0.6], [1.0, 0.0])])
    scene = Scene(60, 40, [0.0, 0.0, 0.0], (circle,))
    svg = scene_to_svg(scene)
    # Both ends, red reaching 0 and 1, blue reaching 1 inside and 0 beyond the circle.
    assert svg.count("<stop") == 6
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 40.0


@pytest.mark.parametrize("spread", [(0.0, 1.0), (-0.4, 1.4)])
def test_saturating_fills_come_back_rendering_identically(spread):
    # Large rank-one slopes saturate channels part of the way across most shapes; where a
    # channel reaches 0 or 1 the export writes a stop at exactly that bound (a colour
    # computed there rounds to a hair off it, and the import would fit the clamped stretch
    # beyond into the line). Bases outside [0, 1] may come back as other parameters, but
    # the scene must render the same.
    rng = np.random.default_rng(7)
    n = 120
    circles = Circles(
        rng.uniform(5, 95, (n, 2)), rng.uniform(3, 15, n), rng.uniform(*spread, (n, 3)),
        rank_one(rng.normal(0, 1.0, (n, 3, 2))), rng.uniform(0.2, 1, n),
    )  # fmt: skip
    mesh = init_mesh(rng.uniform(0, 1, (60, 100, 3)), 40, seed=1).shapes[0]
    mesh = mesh.with_parameters({"slopes": rank_one(rng.normal(0, 1.5, mesh.slopes.shape))})
    scene = Scene(100, 60, [0.5, 0.5, 0.5], (circles, mesh))
    back = svg_to_scene(scene_to_svg(scene))
    assert np.abs(render_reference(back, mode="alpha") - render_reference(scene, mode="alpha")).max() <= 1e-9
    if spread == (0.0, 1.0):
        assert_same_scene(scene, back, tolerance=1e-9)


def curve_scene() -> Scene:
    """A polycurve of two quadratics and a polycurve of two cubics, some translucent."""
    quadratics = QuadraticCurves(
        [[10.5, 80.2], [40.1, 10.7], [70.3, 75.8], [100.9, 20.4], [140.2, 60.6]], [[0, 1, 2], [2, 3, 4]],
        [4.0, 2.5], [[0.1, 0.1, 0.4], [0.6, 0.1, 0.1]], [1.0, 0.7],
    )  # fmt: skip
    cubics = CubicCurves(
        [[15.2, 20.3], [60.4, 95.1], [90.8, -10.2], [120.6, 50.5], [140.1, 90.7], [150.3, 100.2], [155.9, 70.4]],
        [[0, 1, 2, 3], [3, 4, 5, 6]], [3.0, 5.0], [[0.0, 0.3, 0.0], [0.2, 0.2, 0.2]],
    )  # fmt: skip
    return Scene(160, 110, [0.95, 0.95, 0.9], (quadratics, cubics))


def test_curves_by_resvg_match_our_raster_and_come_back_exactly():
    scene = curve_scene()
    svg = scene_to_svg(scene)
    assert svg.count(" Q ") == 2 and svg.count(" C ") == 2 and 'stroke-linecap="round"' in svg
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 35.0
    back = svg_to_scene(svg)
    assert_same_scene(scene, back, tolerance=1e-12)  # polycurves keep their shared points


FOREIGN_CURVES = """<svg xmlns="http://www.w3.org/2000/svg" width="90" height="70">
  <style>path { stroke-linecap: round; stroke-linejoin: round }</style>
  <rect width="90" height="70" fill="white"/>
  <path d="M5,60 Q25,5 45,60 T85,60" fill="none" stroke="#303080" stroke-width="3"/>
  <path d="M10,20 C20,0 40,40 50,15 L80,10" fill="none" stroke="black" stroke-width="2" stroke-opacity="0.8"/>
  <path d="M60,35 A12,8 0 0 1 84,35" fill="none" stroke="#a02020" stroke-width="2.5"/>
</svg>
"""


def test_import_of_foreign_curves_matches_resvg():
    scene = svg_to_scene(FOREIGN_CURVES)
    kinds = [type(g).__name__ for g in scene.shapes]
    assert kinds[:3] == ["QuadraticCurves", "CubicCurves", "Strokes"] and kinds[3] == "CubicCurves"
    assert len(scene.shapes[0]) == 2 and len(scene.shapes[0].points) == 5  # the T segment shares its start
    assert psnr(rasterise_svg(FOREIGN_CURVES), alpha_render(scene)) >= 30.0


FOREIGN = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="80" height="60">
  <defs>
    <linearGradient id="box" x1="0%" y1="0%" x2="100%" y2="100%">
      <stop offset="0" style="stop-color:#ff0000"/><stop offset="1" stop-color="blue"/>
    </linearGradient>
    <linearGradient id="user" gradientUnits="userSpaceOnUse" x1="50" y1="20" x2="70" y2="30">
      <stop offset="0.2" stop-color="#ffff00"/><stop offset="0.9" stop-color="#008080"/>
    </linearGradient>
  </defs>
  <rect x="0" y="0" width="80" height="60" style="fill:#e0e0d0"/>
  <g transform="translate(10 5) scale(2)">
    <circle cx="8" cy="8" r="6" fill="url(#box)" opacity="0.8"/>
  </g>
  <path d="M40,5 L75,10 L50,40 Z" fill="rgb(20,160,60)" fill-opacity="0.6"/>
  <polygon points="5,55 30,35 35,58" fill="orange"/>
  <polygon points="45,15 78,25 55,38" fill="url(#user)" transform="rotate(20 60 25)"/>
  <polyline points="40,50 55,45 75,55" fill="none" stroke="#202020" stroke-width="3" stroke-linecap="round"/>
</svg>
"""


def test_import_of_a_foreign_svg_matches_resvg():
    scene = svg_to_scene(FOREIGN)
    assert [type(g).__name__ for g in scene.shapes] == ["Circles", "Triangles", "Strokes"]
    circles, triangles, strokes = scene.shapes
    np.testing.assert_allclose(circles.centres, [[26.0, 21.0]])
    np.testing.assert_allclose(circles.radii, [12.0])
    assert len(triangles) == 3 and circles.opacities[0] == pytest.approx(0.8)
    assert len(strokes) == 2 and len(strokes.points) == 3  # the polyline's segments share a point
    np.testing.assert_allclose(scene.background, np.array([224, 224, 208]) / 255)
    assert psnr(rasterise_svg(FOREIGN), alpha_render(scene)) >= 35.0


@pytest.mark.parametrize(
    "body,message",
    [
        ('<ellipse cx="5" cy="5" rx="4" ry="2"/>', "unsupported SVG element <ellipse>"),
        ('<path d="M1,1 C5,5 1,9 4,4 Z"/>', "filled <path> with a CubicBezier segment: only triangles"),
        ('<polygon points="1,1 9,1 9,9 1,9"/>', "with 4 corners: only triangles"),
        ('<circle cx="5" cy="5" r="3" fill="url(#nowhere)"/>', "#nowhere, which is not a linearGradient"),
        ('<circle cx="5" cy="5" r="3" transform="scale(2 1)"/>', "transformed into an ellipse"),
        ("", "has no circles, triangles, lines or curves"),
    ],
)
def test_svg_outside_the_subset_is_named(body, message):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">{body}</svg>'
    with pytest.raises(SvgError, match=message):
        svg_to_scene(svg)


def test_unreadable_svg_files(tmp_path):
    with pytest.raises(SvgError, match="no such file"):
        load_svg(tmp_path / "missing.svg")
    (tmp_path / "bad.svg").write_text("<svg><circle")
    with pytest.raises(SvgError, match="not an SVG document"):
        load_svg(tmp_path / "bad.svg")
