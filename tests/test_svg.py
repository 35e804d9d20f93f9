"""SVG export, checked by an independent renderer (resvg) against our own raster, and SVG
import: round trips, foreign documents, and errors."""

import io
import warnings
from xml.etree import ElementTree

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import mixed_scene
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.transform import downscale_local_mean

from taichi_sdf import (
    Circles,
    CubicCurves,
    Ellipses,
    QuadraticCurves,
    Rectangles,
    RenderConfig,
    Renderer,
    Scene,
    Strokes,
    Triangles,
)
from taichi_sdf.drawing import drawing_target, init_pen
from taichi_sdf.init import init_circles, init_mesh
from taichi_sdf.io import load_image
from taichi_sdf.losses import psnr
from taichi_sdf.optim import fit, rank_one
from taichi_sdf.reference import render_reference
from taichi_sdf.svg import SvgError, SvgWarning, load_svg, save_svg, scene_to_svg, svg_to_scene

resvg_py = pytest.importorskip("resvg_py")


def rasterise_svg(svg: str) -> np.ndarray:
    """resvg's drawing of ``svg`` on white paper (as an import reads it), RGB in [0, 1]."""
    rgba = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg)))) / 255.0
    return rgba[..., :3] * rgba[..., 3:] + 1.0 - rgba[..., 3:]


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


FOREIGN_SHAPES = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="90">
  <defs>
    <linearGradient id="box" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#e03020"/><stop offset="1" stop-color="#2040c0"/>
    </linearGradient>
    <linearGradient id="user" gradientUnits="userSpaceOnUse" x1="88" y1="35" x2="116" y2="60">
      <stop offset="0" stop-color="#ffd040"/><stop offset="1" stop-color="#208060"/>
    </linearGradient>
    <linearGradient id="turned" href="#user" gradientTransform="rotate(-25 102 48)"/>
  </defs>
  <rect width="120" height="90" fill="#f4f0e8"/>
  <ellipse cx="20" cy="16" rx="14" ry="8" fill="#3060a0"/>
  <ellipse cx="55" cy="18" rx="14" ry="7" transform="rotate(35 55 18)" fill="url(#box)" opacity="0.8"/>
  <circle r="9" transform="translate(95 18) skewX(30)" fill="#a03060" fill-opacity="0.7"/>
  <ellipse cx="15" cy="48" ry="8" fill="green"/>
  <g transform="rotate(-20 45 50)"><rect x="30" y="40" width="30" height="18" rx="5" fill="#806020"/></g>
  <rect x="35" y="62" width="10" height="20" rx="2" ry="4" transform="scale(2 1)" fill="#204040" opacity="0.6"/>
  <rect x="90" y="40" width="24" height="16" rx="4" transform="rotate(25 102 48)" fill="url(#turned)"/>
  <rect x="2" y="2" width="18" height="20" rx="3" transform="translate(118 86) scale(-1 -1)" fill="#5040a0"/>
  <circle cx="10" r="6" transform="translate(15 70) rotate(40)" fill="#c08000"/>
</svg>
"""


def test_import_of_foreign_ellipses_and_rectangles_matches_resvg():
    scene = svg_to_scene(FOREIGN_SHAPES)
    assert [type(g).__name__ for g in scene.shapes] == ["Ellipses", "Rectangles", "Circles"]
    ellipses, rectangles, circles = scene.shapes
    # The skewed circle: semi-axes the singular values of its map times r, about its centre.
    skew = np.array([[1.0, np.tan(np.radians(30))], [0.0, 1.0]])
    np.testing.assert_allclose(ellipses.radii[2], 9 * np.linalg.svd(skew)[1], rtol=1e-12)
    np.testing.assert_allclose(ellipses.centres[2], [95, 18], atol=1e-12)
    np.testing.assert_allclose(ellipses.angles[1], np.radians(35), atol=1e-12)
    np.testing.assert_allclose(ellipses.radii[3], [8, 8])  # rx missing: it takes ry (SVG 2)
    np.testing.assert_allclose(rectangles.sizes, [[30, 18], [20, 20], [24, 16], [18, 20]], atol=1e-12)
    turns = np.exp(1j * rectangles.angles)  # the flipped rect's angle is pi or -pi
    np.testing.assert_allclose(turns, np.exp(1j * np.radians([-20, 0, 25, 180])), atol=1e-12)
    np.testing.assert_allclose(rectangles.centres[3], [107, 74], atol=1e-12)
    np.testing.assert_allclose(rectangles.corner_radii, [5, 4, 4, 3], atol=1e-12)  # the scaled rect's 2 x 4: 4 x 4
    np.testing.assert_allclose(circles.centres, [[15 + 10 * np.cos(np.radians(40)), 70 + 10 * np.sin(np.radians(40))]])
    assert ellipses.slopes is not None and rectangles.slopes is not None
    np.testing.assert_allclose(ellipses.opacities, [1, 0.8, 0.7, 1])
    assert psnr(rasterise_svg(FOREIGN_SHAPES), alpha_render(scene)) >= 35.0


def ellipses_and_rectangles(fill: str, opacity: bool) -> Scene:
    """Rotated ellipses (one round) and rectangles (sharp, rounded, a stadium), with rank-one
    linear fills, some saturating, or flat ones; then a circle, so that each kind is a group."""
    rng = np.random.default_rng(11)
    n = 5

    def fills():
        slopes = rank_one(rng.normal(0, 0.6, (n, 3, 2))) if fill == "linear" else None
        return rng.uniform(0.1, 0.9, (n, 3)), slopes, rng.uniform(0.4, 1.0, n) if opacity else None

    radii = rng.uniform(4, 20, (n, 2))
    radii[0, 1] = radii[0, 0]
    ellipses = Ellipses(rng.uniform(15, 75, (n, 2)), radii, rng.uniform(-3, 3, n), *fills())
    sizes = rng.uniform(6, 30, (n, 2))
    corner_radii = np.array([0.0, 1.5, 3.0, 0.5 * sizes[3].min(), 0.0])
    rectangles = Rectangles(rng.uniform(15, 75, (n, 2)), sizes, rng.uniform(-3, 3, n), *fills(), corner_radii)
    circle = Circles([[30.5, 20.25]], [7.5], [[0.2, 0.7, 0.3]])
    return Scene(90, 70, [0.9, 0.95, 1.0], (ellipses, rectangles, circle))


@pytest.mark.parametrize("fill,opacity", [("linear", True), ("flat", False)])
def test_import_of_exported_ellipses_and_rectangles_is_exact(fill, opacity):
    scene = ellipses_and_rectangles(fill, opacity)
    svg = scene_to_svg(scene)
    assert svg.count("<ellipse") == 5 and svg.count("<rect") == 5 + 1 and svg.count('transform="rotate(') == 10
    back = svg_to_scene(svg)
    assert_same_scene(scene, back, tolerance=1e-9)
    assert np.abs(render_reference(back, mode="alpha") - render_reference(scene, mode="alpha")).max() <= 1e-9


def test_exported_ellipses_and_rectangles_by_resvg_match_their_import():
    svg = scene_to_svg(ellipses_and_rectangles("linear", True))
    assert psnr(rasterise_svg(svg), alpha_render(svg_to_scene(svg))) >= 35.0


@pytest.mark.parametrize(
    "body",
    [
        '<rect x="2" y="3" width="8" height="4" transform="skewX(20)" fill="#336699"/>',
        '<rect x="3" y="4" width="14" height="7" rx="5" fill="#336699"/>',  # ry clamped to 3.5
        '<rect x="1" y="2" width="8" height="6" rx="2" transform="scale(2 1)" fill="#336699"/>',
        '<rect x="8" y="-6" width="8" height="6" rx="2" transform="rotate(30) scale(1 2)" fill="#336699"/>',
    ],
)
def test_rects_that_are_no_rectangles_are_paths(body):
    svg = document(body)
    scene, line = skip_warning(svg)
    assert line is None and [type(group).__name__ for group in scene.shapes] == ["Paths"]
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 35.0


def test_radii_in_percent_are_named():
    assert_one_line_error(document('<ellipse rx="10%" ry="2"/>'), '<ellipse> rx="10%": radii in percent are not read')


def test_shapes_that_draw_nothing_and_a_turned_rect_that_is_no_background():
    # The square's box covers the picture, the square not: a shape, not the background.
    svg = document(
        '<rect x="-2" y="-2" width="24" height="24" transform="rotate(45 10 10)" fill="#336699"/>'
        '<ellipse cx="5" cy="5" rx="0" ry="3"/><circle cx="5" cy="5"/><rect width="0" height="5"/>'  # SVG: nothing
        '<ellipse cx="9" cy="8" rx="auto" ry="4" fill="#e0a020"/><rect x="4" y="12" width="12" height="4" ry="2"/>'
    )
    scene = svg_to_scene(svg)
    assert [type(g).__name__ for g in scene.shapes] == ["Rectangles", "Ellipses", "Rectangles"]
    np.testing.assert_allclose(scene.background, [1, 1, 1])
    np.testing.assert_allclose(scene.shapes[1].radii, [[4, 4]])
    np.testing.assert_allclose(scene.shapes[2].corner_radii, [2])
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 35.0


def document(body: str, size: str = 'width="20" height="20"') -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" {size}>{body}</svg>'


def assert_one_line_error(svg: str, message: str, strict: bool = False) -> None:
    with pytest.raises(SvgError, match=message) as error:
        svg_to_scene(svg, strict)
    assert "\n" not in str(error.value)


def skip_warning(svg: str) -> tuple[Scene, str | None]:
    """The scene read from ``svg`` and its one SvgWarning line (None without); fails on more."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scene = svg_to_scene(svg)
    lines = [str(w.message) for w in caught if issubclass(w.category, SvgWarning)]
    assert len(lines) <= 1 and all("\n" not in line for line in lines), lines
    return scene, (lines[0] if lines else None)


SERVERS = (
    '<defs><radialGradient id="rg"><stop offset="0" stop-color="red"/></radialGradient><filter id="f"/>'
    '<pattern id="pt" width="2" height="2"><rect width="1" height="1"/></pattern><clipPath id="cp"><rect width="9" '
    'height="9"/></clipPath><mask id="mk"><rect width="9" height="9" fill="white"/></mask><marker id="mr"/></defs>'
)


@pytest.mark.parametrize(
    "body,warning,refusal",
    [
        ('<text x="1 3" y="4">a<tspan>b</tspan></text>' * 3, "skipped 3 <text>", "unsupported SVG element <text>"),
        ('<image id="im" href="a.png" width="4" height="4"/>', "skipped 1 <image>", 'element <image id="im">'),
        ('<foreignObject width="4" height="4"><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>',
         "skipped 1 <foreignObject>", "unsupported SVG element <foreignObject>"),
        ('<g filter="url(#f)"><rect x="12" y="12" width="4" height="3"/></g>',
         "skipped the filter of 1 element (drawn unfiltered)", "<g>: its filter is not read"),
        ('<rect x="12" y="12" width="4" height="3" style="clip-path: url(#cp)"/>' * 2,
         "skipped the clip-path of 2 elements (drawn unclipped)", "<rect>: its clip-path is not read"),
        ('<rect x="12" y="12" width="4" height="3" mask="url(#mk)"/>', "the mask of 1 element (drawn unmasked)",
         "its mask is not read"),
        ('<line x2="9" y2="9" stroke="red" stroke-linecap="round" marker-end="url(#mr)"/>',
         "the marker of 1 element (drawn without markers)", "<line>: its marker is not read"),
        ('<circle cx="14" cy="14" r="3" fill="url(#rg)"/><rect x="2" y="12" width="3" height="3" fill="url(#rg)"/>',
         "skipped 2 fills by a <radialGradient> (only linear gradients are read)",
         "<circle> fill refers to #rg, a <radialGradient>"),
        ('<circle cx="14" cy="14" r="3" fill="url(#pt)"/>', "skipped 1 fill by a <pattern>", "#pt, a <pattern>"),
    ],
)  # fmt: skip
def test_what_has_no_counterpart_is_skipped_with_one_warning_or_refused_when_strict(body, warning, refusal):
    svg = document(SERVERS + '<circle cx="5" cy="15" r="3" fill="#336699"/>' + body)
    scene, line = skip_warning(svg)
    assert line is not None and warning in line
    drawn = [type(group).__name__ for group in scene.shapes]
    assert drawn[0] == "Circles" and len(scene.shapes[0]) == 1  # what was skipped is not drawn, the rest is
    if "drawn un" not in warning and "markers" not in warning:
        assert drawn == ["Circles"]
    assert_one_line_error(svg, refusal, strict=True)


def test_the_warning_counts_per_reason_on_one_line():
    svg = document(
        SERVERS + "<text>a</text>" + '<path d="M1 1 L5 1 L5 5 Z" stroke="url(#pt)"/>' + '<circle cx="5" cy="5" r="3"/>'
        + "<g><text>b</text><text>c</text></g>"
    )  # fmt: skip
    assert skip_warning(svg)[1] == "skipped 3 <text>, 1 stroke by a <pattern> (only linear gradients are read)"


@pytest.mark.parametrize(
    "body,message",
    [
        ("", "nothing drawable: the SVG has no circles, ellipses, rectangles, triangles, paths, lines or curves"),
        ("<text>a</text><image width='2' height='2'/>", "nothing drawable: skipped 1 <text>, 1 <image>"),
        ('<circle cx="5" cy="5" r="3" fill="url(#nowhere)"/>', "#nowhere, which is not a linearGradient"),
    ],
)
def test_nothing_drawable_and_broken_references_are_errors(body, message):
    assert_one_line_error(document(body), message)
    assert_one_line_error(document(body), message if "skipped" not in message else "unsupported", strict=True)


def test_what_paints_nothing_is_dropped_silently():
    svg = document(
        '<circle cx="5" cy="5" r="3" fill="none" stroke="none"/><line x2="9" y2="9" stroke="none"/>'
        '<line x2="9" y2="9" stroke="red" stroke-opacity="0"/><rect width="5" height="5" opacity="0" stroke="red"/>'
        '<ellipse cx="5" cy="5" rx="4" ry="2" fill-opacity="0"/><circle r="3" fill="transparent"/>'
        '<rect width="0" height="5" stroke="red"/><circle cx="5" cy="5" r="0" stroke="red"/>'
        '<polygon points="1,1 5,5" fill="blue"/><path d="M1 1 L8 8" fill="red" stroke="none"/>'
        '<circle cx="5" cy="5" r="3" stroke="red" transform="scale(0)"/><path d="M1 1" stroke="red"/>'
        '<path d="M1 1 L1 9" stroke="red" transform="scale(0 1)"/>'
        '<circle cx="5" cy="5" r="3" visibility="hidden"/><g visibility="collapse"><circle r="5"/></g>'
        '<mask id="m"><rect width="20" height="20"/></mask>'  # never drawn where it stands
        '<circle cx="10" cy="10" r="4" fill="#336699"/>'
    )
    scene, line = skip_warning(svg)
    assert line is None
    assert [(type(group).__name__, len(group)) for group in scene.shapes] == [("Circles", 1)]


def test_a_stroke_of_zero_length_with_round_caps_is_a_dot_as_svg_draws_it():
    # SVG strokes a subpath of zero length as a dot where its caps are round or square
    # (square drawn round, and said), not where they are butt, nor a lone move.
    svg = document(
        '<line x1="5" y1="5" x2="5" y2="5" stroke="black" stroke-width="4" stroke-linecap="round"/>'
        '<path d="M12 6 Z M12 14 L12 14 M16 16" stroke="#336699" stroke-width="3" stroke-linecap="round"/>'
        '<line x1="5" y1="15" x2="5" y2="15" stroke="red" stroke-width="4"/>'  # butt caps: nothing
    )
    scene, line = skip_warning(svg)
    assert line is None and [(type(group), len(group)) for group in scene.shapes] == [(Strokes, 3)]
    zoomed = svg.replace('width="20" height="20"', 'width="80" height="80" viewBox="0 0 20 20"')
    assert psnr(rasterise_svg(zoomed), alpha_render(scene.scaled(4))) >= 35.0
    square, line = skip_warning(document('<line x1="5" y1="5" x2="5" y2="5" stroke="red" stroke-linecap="square"/>'))
    assert len(square.shapes[0]) == 1 and line == "drew square caps as round on 1 element"


def test_the_stroke_of_a_skipped_fill_is_drawn():
    svg = document(
        SERVERS + '<polygon points="2,2 18,3 17,17 3,16" fill="url(#rg)" stroke="#204080" stroke-width="2" '
        'stroke-linejoin="round"/>'
    )
    scene, line = skip_warning(svg)
    assert line == "skipped 1 fill by a <radialGradient> (only linear gradients are read)"
    (strokes,) = scene.shapes
    assert isinstance(strokes, Strokes) and len(strokes) == 4 and len(strokes.points) == 4  # closed: corners shared


FILLED_AND_STROKED = document(
    '<circle cx="22" cy="22" r="14" fill="#e0a020" stroke="#204080" stroke-width="4"/>'
    '<rect x="28" y="20" width="30" height="22" rx="4" fill="#3080c0" fill-opacity="0.7" stroke="#802020" '
    'stroke-width="3"/><ellipse cx="60" cy="55" rx="18" ry="10" transform="rotate(-20 60 55)" fill="#40a060" '
    'stroke="#202020" stroke-width="2.5"/><polygon points="10,70 35,45 40,75" fill="#c04080" fill-opacity="0.8" '
    'stroke="#404000" stroke-width="3" stroke-linejoin="round"/><rect x="62" y="8" width="20" height="16" '
    'fill="#806040" stroke="#2040a0" stroke-width="3" stroke-linejoin="round"/>',
    'width="90" height="80"',
)


def test_a_filled_and_stroked_element_is_its_fill_under_its_stroke():
    scene, line = skip_warning(FILLED_AND_STROKED)
    assert line is None  # round joins, closed outlines (no caps), a rounded rect's joins are smooth
    kinds = [type(group).__name__ for group in scene.shapes]
    # In document order, each fill followed by its stroke: the rounded rect's sides and (cubic) corners alternate.
    assert kinds == ["Circles", "CubicCurves", "Rectangles", *["Strokes", "CubicCurves"] * 4, "Ellipses", "CubicCurves",
                     "Triangles", "Strokes", "Rectangles", "Strokes"]  # fmt: skip
    assert psnr(rasterise_svg(FILLED_AND_STROKED), alpha_render(scene)) >= 35.0  # 35.05 dB


def test_a_filled_and_stroked_path_is_its_fill_under_its_stroke():
    svg = document(
        '<path d="M22 22 C30 10 46 16 44 28 Q40 38 26 36 Z M30 26 L38 24 L36 31 Z" fill="#e06030" '
        'fill-rule="evenodd" stroke="#102030" stroke-width="2" stroke-linejoin="round"/>', 'width="60" height="50"'
    )  # fmt: skip
    scene, line = skip_warning(svg)
    assert line is None  # closed contours with round joins: drawn as SVG draws them
    assert [type(group).__name__ for group in scene.shapes] == ["Paths", "CubicCurves", "QuadraticCurves", "Strokes"]
    assert len(scene.shapes[3]) == 4  # the outer contour's closing side and the hole's three
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 35.0  # 35.6 dB (the fill alone: 43.9)


STROKED_OUTLINES = document(
    '<circle cx="25" cy="25" r="14.3" fill="none" stroke="#204080" stroke-width="3"/>'
    '<ellipse cx="75" cy="25" rx="16" ry="8" transform="rotate(30 75 25)" fill="none" stroke="#a03020" '
    'stroke-width="2.5"/><ellipse cx="25" cy="70" rx="14" ry="10" fill="none" stroke="black" stroke-width="1.5"/>'
    '<g transform="translate(75 70) scale(1.5)"><circle r="9" fill="none" stroke="#208040" stroke-width="2"/></g>',
    'width="100" height="95"',
)


def test_stroked_circles_and_ellipses_are_four_cubic_quarter_arcs():
    scene, line = skip_warning(STROKED_OUTLINES)
    assert line is None  # closed and smooth: no caps, no corners
    curves, grouped = scene.shapes  # the <g>'s circle is a group of its own
    assert isinstance(curves, CubicCurves) and len(curves) == 12 and isinstance(grouped, CubicCurves)
    handle = 4 * (np.sqrt(2) - 1) / 3
    controls = curves.points[curves.curves]  # (12, 4, 2)
    np.testing.assert_allclose(controls[0], [[39.3, 25], [39.3, 25 + 14.3 * handle], [25 + 14.3 * handle, 39.3],
                                             [25, 39.3]], atol=1e-12)  # fmt: skip
    turn = np.array([[np.cos(np.pi / 6), -np.sin(np.pi / 6)], [np.sin(np.pi / 6), np.cos(np.pi / 6)]])
    np.testing.assert_allclose(controls[4, 1], [75, 25] + turn @ [16, 8 * handle], atol=1e-12)  # the affine image
    np.testing.assert_allclose(grouped.points[grouped.curves][:, 0], [[88.5, 70], [75, 83.5], [61.5, 70], [75, 56.5]])
    np.testing.assert_allclose(curves.widths, [3] * 4 + [2.5] * 4 + [1.5] * 4)
    np.testing.assert_allclose(grouped.widths, [3] * 4)
    assert psnr(rasterise_svg(STROKED_OUTLINES), alpha_render(scene)) >= 30.0  # 35.2 dB


PEN = 'fill="none" stroke="black" stroke-width="2"'


@pytest.mark.parametrize(
    "body,warning",
    [
        (f'<polyline points="2,2 10,10 18,2" {PEN}/>', "drew butt caps as round on 1 element, miter joins as round on 1 element"),
        (f'<line x1="2" y1="2" x2="9" y2="9" {PEN}/><line x1="9" y1="2" x2="2" y2="9" {PEN}/>',
         "drew butt caps as round on 2 elements"),
        (f'<line x1="2" y1="2" x2="9" y2="9" stroke-linecap="square" {PEN}/>', "drew square caps as round on 1 element"),
        (f'<rect x="3" y="3" width="12" height="9" stroke-linejoin="bevel" {PEN}/>', "drew bevel joins as round on 1 element"),
        (f'<path d="M2 10 L10 10 L10 18" stroke-linecap="round" {PEN}/>', "drew miter joins as round on 1 element"),
        (f'<circle cx="10" cy="10" r="5" transform="translate(0 5) scale(1 0.5)" {PEN}/>',
         "drew strokes that a skew or an uneven scale thins as even on 1 element"),
        # No difference shows: round ones, no corner, closed outlines (no caps), smooth joins.
        (f'<polyline points="2,2 10,2 18,2" stroke-linecap="round" {PEN}/>', None),
        (f'<path d="M2 10 C5 2 8 2 10 10 S15 18 18 10" stroke-linecap="round" {PEN}/>', None),
        (f'<rect x="3" y="3" width="12" height="9" rx="3" {PEN}/><circle cx="10" cy="10" r="5" {PEN}/>', None),
        (f'<polygon points="2,2 18,2 10,15" stroke-linejoin="round" {PEN}/>', None),
        (f'<circle cx="10" cy="10" r="2.5" transform="scale(2) rotate(10)" {PEN}/>', None),  # an even scale
    ],
)  # fmt: skip
def test_caps_and_joins_drawn_round_are_named_where_they_show(body, warning):
    assert skip_warning(document(body))[1] == warning
    with warnings.catch_warnings(record=True) as caught:  # they are drawn, so strict only warns
        warnings.simplefilter("always")
        svg_to_scene(document(body), strict=True)
    assert [str(w.message) for w in caught if w.category is SvgWarning] == ([warning] if warning else [])


def test_unreadable_svg_files(tmp_path):
    with pytest.raises(SvgError, match="no such file"):
        load_svg(tmp_path / "missing.svg")
    (tmp_path / "bad.svg").write_text("<svg><circle")
    with pytest.raises(SvgError, match="not an SVG document"):
        load_svg(tmp_path / "bad.svg")


CIRCLE = '<circle cx="5" cy="5" r="3"/>'
# Each level uses the one below ten times: 10^7 circles, which svgelements would inline one by one.
USE_BOMB = document(
    f'<defs><g id="l0">{CIRCLE}</g>'
    + "".join(f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, 8))
    + '</defs><use href="#l7"/>'
)
GRADIENT = '<linearGradient id="g1"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient>'


@pytest.mark.parametrize(
    "svg,message",
    [
        (document("<g>" * 3000 + CIRCLE + "</g>" * 3000), "nests elements more than 200 deep"),
        (document('<g id="a"><use href="#a"/>' + CIRCLE + "</g>"), '<use> refers to <g id="a">, which contains it'),
        (USE_BOMB, "<use> references expand it to more than 1000000 elements"),
    ],
)
def test_documents_svgelements_cannot_walk_are_refused(svg, message):
    assert_one_line_error(svg, message)


def test_nesting_drawings_use_is_read():
    scene = svg_to_scene(document('<g transform="translate(1 0)">' * 150 + CIRCLE + "</g>" * 150))
    np.testing.assert_allclose(scene.shapes[0].centres, [[155.0, 5.0]])


@pytest.mark.parametrize(
    "attributes,message",
    [
        ('cx="nan" cy="5" r="3"', '<circle> cx="nan": not a number'),
        ('cx="5" cy="inf" r="3"', '<circle> cy="inf": not a number'),
        ('cx="1e400" cy="5" r="3"', '<circle> cx="1e400": 1e400 is beyond float64\'s range'),
        ('cx="abc" cy="5" r="3"', '<circle> cx="abc": not a number'),
        ('cx="2em" cy="5" r="3"', "cx=\"2em\": units relative to a font"),
        ('cx="5" cy="5" r="-3"', '<circle> r="-3": must not be negative'),
        ('id="c1" cx="5" cy="5" r="3" opacity="nan"', '<circle id="c1"> opacity="nan": not a number'),
        ('cx="5" cy="5" r="3" style="fill-opacity: inf"', '<circle> fill-opacity="inf": not a number'),
        ('cx="5" cy="5" r="3" transform="translate(nan 1)"', "transform=\"translate\\(nan 1\\)\": 'nan' is not a number"),
    ],
)
def test_numbers_that_are_none_or_overflow_are_named(attributes, message):
    assert_one_line_error(document(f"<circle {attributes}/>"), message)


@pytest.mark.parametrize(
    "body,message",
    [
        ('<line x1="nan" y1="1" x2="5" y2="5" stroke="black"/>', '<line> x1="nan"'),
        ('<line x1="1" y1="1" x2="5" y2="5" stroke="black" stroke-width="nan"/>', 'stroke-width="nan"'),
        ('<polygon points="1,1 nan,2 3,4"/>', "points=\"1,1 nan,2 3,4\": 'nan' is not a number"),
        ('<path d="M1,1 L 1e999,5" stroke="black"/>', "d=\"M1,1 L 1e999,5\": 1e999 is beyond"),
        ('<path d="M1,1 L inf,5" stroke="black"/>', "'inf' is not a number"),
        ("<style>circle { stroke-width: nan }</style>" + CIRCLE, '<style> stroke-width="nan"'),
        (GRADIENT.replace('offset="0"', 'offset="nan"') + '<circle cx="5" cy="5" r="3" fill="url(#g1)"/>',
         '<stop> offset="nan"'),
        (GRADIENT.replace('id="g1"', 'id="g1" x1="1e999"') + '<circle cx="5" cy="5" r="3" fill="url(#g1)"/>',
         '<linearGradient id="g1"> x1="1e999"'),
        # Finite numbers whose products overflow: named at the element.
        ('<circle cx="1e300" cy="5" r="3" transform="scale(1e10)"/>', "<circle>: its cx, cy, rx, ry overflow float64"),
        ('<rect width="1e300" height="5" transform="rotate(30) scale(1e10)"/>', "<rect>: cannot be computed in float64"),
        ('<ellipse rx="1e300" ry="5" transform="rotate(30) scale(1e8)"/>', "<ellipse>: cannot be computed in float64"),
        ('<path d="M1,1 A 5 5 0 1 1 1e300 1" fill="none" stroke="black"/>', "<path>: cannot be computed in float64"),
    ],
)  # fmt: skip
def test_numbers_in_lines_paths_styles_and_gradients_are_named(body, message):
    assert_one_line_error(document(body), message)


@pytest.mark.parametrize(
    "size,message",
    [
        ("", 'size is unknown: its <svg> has no viewBox, and no width and height in absolute units \\(no width'),
        ('width="100%" height="100%"', 'size is unknown: .*\\(width="100%", height="100%"\\)'),
        ('width="1e308" height="20"', 'size 1e\\+308 x 20 px \\(width="1e308", height="20"\\): the image width must'),
        ('width="0.4" height="20"', 'size 0.4 x 20 px .*: the image width must be a whole number of pixels from 1'),
        ('viewBox="0 0 nan 40"', "viewBox=\"0 0 nan 40\": 'nan' is not a number"),
        ('viewBox="0 0 0 40"', "its width and height must be positive"),
    ],
)
def test_sizes_that_are_unknown_or_absurd_are_named_first(size, message):
    # The size is checked before anything else is read (the skewed rect would be refused after it).
    assert_one_line_error(document('<rect width="4" height="2" transform="skewX(30)"/>', size), message)


@pytest.mark.parametrize(
    "size,expected",
    [
        ('viewBox="10 10 30 40"', (30, 40)),  # an icon: its user units are pixels
        ('width="100%" height="100%" viewBox="10 10 30 40"', (30, 40)),
        ('width="60" viewBox="10 10 30 40"', (60, 80)),  # one side given: the viewBox's shape
        ('width="auto" height="80" viewBox="10 10 30 40"', (60, 80)),
        ('width="0.25in" height="30pt" viewBox="10 10 30 40"', (24, 40)),  # 96 px an inch, centred
    ],
)
def test_size_comes_from_the_viewbox_when_the_svg_does_not_give_it(size, expected):
    svg = document('<circle cx="25" cy="30" r="4" fill="#336699"/><polygon points="12,12 38,15 20,48"/>', size)
    scene = svg_to_scene(svg)
    assert (scene.width, scene.height) == expected
    explicit = svg.replace(size, f'width="{expected[0]}" height="{expected[1]}" viewBox="10 10 30 40"')
    assert psnr(rasterise_svg(explicit), alpha_render(scene)) >= 35.0  # resvg, told the size


@pytest.mark.parametrize(
    "fill,message",
    [
        ("notacolour", "<circle> fill: unknown colour 'notacolour'"),
        ("#12345", "unknown colour '#12345'"),
        ("ff0000", "unknown colour 'ff0000'"),  # hex without '#'
        ("rgb(1, 2)", "unknown colour"),
        ("rgb(nan, 0, 0)", "unknown colour"),
        ("url(g1)", 'fill="url\\(g1\\)": only references to this document \\(url\\(#id\\)\\) are read'),
        ("url(#nowhere)", "#nowhere, which is not a linearGradient"),
    ],
)
def test_paints_that_are_not_colours_are_named(fill, message):
    assert_one_line_error(document(f'<defs>{GRADIENT}</defs><circle cx="5" cy="5" r="3" fill="{fill}"/>'), message)


@pytest.mark.parametrize(
    "defs,message",
    [
        ('<linearGradient id="g1" href="#g2"/><linearGradient id="g2" href="#g1"/>', "#g1: its href references loop"),
        (GRADIENT.replace('id="g1"', 'id="g1" gradientTransform="scale(0 1)"'), "#g1: its gradientTransform is singular"),
        ('<linearGradient id="g1" href="#g2"/><radialGradient id="g2"/>', "#g1 has no stops"),
    ],
)
def test_gradients_that_inherit_nothing_or_cannot_be_placed_are_named(defs, message):
    assert_one_line_error(document(f'<defs>{defs}</defs><ellipse cx="5" cy="5" rx="3" ry="2" fill="url(#g1)"/>'), message)


SVG_COLOURS = [  # (fill, RGB 0-255, alpha): the forms of SVG 1.1 and CSS 3, which resvg draws too
    ("aliceblue", (240, 248, 255), 1.0),
    ("#f80", (255, 136, 0), 1.0),
    ("#F808", (255, 136, 0), 0x88 / 255),
    ("#12ab9f", (0x12, 0xAB, 0x9F), 1.0),
    ("#12ab9f80", (0x12, 0xAB, 0x9F), 0x80 / 255),
    ("rgb(20, 160, 60)", (20, 160, 60), 1.0),
    ("rgb(10%, 50%, 100%)", (25.5, 127.5, 255), 1.0),
    ("rgba(255, 0, 0, 0.25)", (255, 0, 0), 0.25),
    ("hsl(120, 100%, 25%)", (0, 127.5, 0), 1.0),
    ("currentColor", (0, 128, 128), 1.0),  # the element's color: teal
    ("transparent", (0, 0, 0), 0.0),
]
CSS4_COLOURS = [("rgb(0 128 255 / 50%)", (0, 128, 255), 0.5), ("hsla(240deg, 50%, 50%, 0.4)", (63.75, 63.75, 191.25), 0.4)]


def colour_circles(colours) -> str:
    return document(
        '<rect width="100" height="60" fill="white"/>' + "".join(
            f'<circle cx="{10 + 20 * (i % 5)}" cy="{10 + 20 * (i // 5)}" r="8" fill="{fill}" color="teal"/>'
            for i, (fill, _, _) in enumerate(colours)
        ), 'width="100" height="60"',
    )  # fmt: skip


@pytest.mark.parametrize("colours", [SVG_COLOURS, CSS4_COLOURS])
def test_colours_in_every_form_are_read(colours):
    circles = svg_to_scene(colour_circles(colours)).shapes[0]
    painted = [(rgb, alpha) for _, rgb, alpha in colours if alpha > 0]  # transparent paints nothing: dropped
    np.testing.assert_allclose(circles.colours, np.array([rgb for rgb, _ in painted]) / 255, atol=1e-12)
    np.testing.assert_allclose(circles.opacities, [alpha for _, alpha in painted], atol=1e-12)
    if colours is SVG_COLOURS:
        svg = colour_circles(colours)
        assert psnr(rasterise_svg(svg), alpha_render(svg_to_scene(svg))) >= 35.0


def test_translucent_backgrounds_and_invisible_shapes():
    svg = document(
        '<rect width="20" height="20" fill="rgba(0, 0, 255, 0.5)"/>'
        '<line x1="1" y1="1" x2="9" y2="9" stroke="black" stroke-width="0"/>'  # draws nothing
        '<circle cx="5" cy="5" r="3" fill="none"/>'  # draws nothing
        f"<defs>{GRADIENT}</defs>"
        "<circle cx=\"5\" cy=\"5\" r=\"3\" fill=\"url('#g1') red\"/>"  # a fallback colour after the reference
    )
    scene = svg_to_scene(svg)
    np.testing.assert_allclose(scene.background, [0.5, 0.5, 1.0])  # painted over white paper
    assert len(scene.shapes) == 1 and len(scene.shapes[0]) == 1 and scene.shapes[0].slopes is not None
    assert psnr(rasterise_svg(svg), alpha_render(scene)) >= 35.0


FUZZ_VALUES = st.one_of(
    st.sampled_from(
        ["nan", "inf", "-1", "0", "1e308", "-1e308", "1e-320", "", "abc", "50%", "3mm", "2em", "auto", "1e400", "none",
         "url(#box)", "url(box)", "url(", "#zzz", "rgb(300,0,0)", "currentColor", "inherit", "scale(0)", "scale(1e200)",
         "matrix(0 0 0 0 0 0)", "rotate(45)", "M0,0", "M1 1 A 5 5 0 1 1 1e300 1", "0 0 -5 10", "1,2 3,4 5", "display:none"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789.,-+eE %#()MLZza ", max_size=12),
)  # fmt: skip
FUZZ_ATTRIBUTES = st.sampled_from(
    ["cx", "cy", "r", "x", "y", "width", "height", "x1", "y1", "x2", "y2", "points", "d", "fill", "stroke", "stroke-width",
     "opacity", "fill-opacity", "stroke-opacity", "transform", "viewBox", "offset", "stop-color", "stop-opacity", "style",
     "gradientUnits", "href", "color", "display", "rx", "ry", "gradientTransform"]
)  # fmt: skip


@pytest.mark.parametrize("svg", [FOREIGN, FOREIGN_SHAPES], ids=["foreign", "ellipses and rectangles"])
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), FUZZ_ATTRIBUTES, FUZZ_VALUES), min_size=1, max_size=3))
def test_any_attribute_values_give_a_scene_or_one_line(svg, changes):
    # Whatever the values of the attributes the importer reads, it gives a scene the renderer
    # accepts, or one SvgError line; never another exception, nor a numpy warning.
    root = ElementTree.fromstring(svg)
    nodes = list(root.iter())
    for index, name, value in changes:
        nodes[index % len(nodes)].set(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            scene = svg_to_scene(ElementTree.tostring(root))
        except SvgError as error:
            assert "\n" not in str(error)
        else:
            scene.check_values()
