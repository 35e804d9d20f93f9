"""SVG export, checked by an independent renderer (resvg) against our own raster."""

import io

import imageio.v3 as iio
import numpy as np
import pytest

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.io import psnr
from taichi_sdf.svg import save_svg, scene_to_svg

resvg_py = pytest.importorskip("resvg_py")


def rasterise_svg(svg: str) -> np.ndarray:
    return iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))[..., :3] / 255.0


def hand_made_scene() -> Scene:
    rng = np.random.default_rng(0)
    # Rank-one slopes (every channel changes along one direction) are exact in SVG.
    directions = rng.normal(size=(4, 1, 2))
    circles = Circles(
        centres=[[40.3, 42.1], [75.6, 55.2], [120.4, 30.7], [30.2, 85.9]],
        radii=[26.1, 21.7, 15.3, 12.2],
        colours=rng.uniform(0.2, 0.8, (4, 3)),
        slopes=0.15 * rng.normal(size=(4, 3, 1)) * directions,
        opacities=[1.0, 0.7, 0.9, 0.5],
    )
    mesh = Triangles(
        vertices=[[95.2, 10.3], [150.7, 12.1], [148.2, 70.6], [97.1, 68.4]],
        faces=[[0, 1, 2], [0, 2, 3]],
        colours=[[0.9, 0.8, 0.2], [0.2, 0.8, 0.4]],
        slopes=np.zeros((2, 3, 2)),
        opacities=[0.8, 1.0],
    )
    pen = Strokes(
        points=[[15.5, 95.2], [60.3, 82.7], [105.8, 100.1], [150.2, 85.4]],
        segments=[[0, 1], [1, 2], [2, 3]],
        widths=[4.0, 3.0, 5.0],
        colours=[[0.1, 0.1, 0.1], [0.5, 0.1, 0.1], [0.1, 0.1, 0.5]],
    )
    return Scene(160, 110, [0.95, 0.95, 0.9], (circles, mesh, pen))


def test_svg_export_matches_our_raster_by_resvg():
    scene = hand_made_scene()
    ours = Renderer(RenderConfig(fill="linear", mode="alpha", dtype="f64")).render(scene)
    theirs = rasterise_svg(scene_to_svg(scene))
    assert theirs.shape == ours.shape
    assert psnr(theirs, np.clip(ours, 0, 1)) >= 35.0


def test_svg_has_the_elements_and_size(tmp_path):
    scene = hand_made_scene()
    save_svg(scene, tmp_path / "scene.svg")
    text = (tmp_path / "scene.svg").read_text()
    assert 'width="160" height="110" viewBox="0 0 160 110"' in text
    assert text.count("<circle") == 4 and text.count("<polygon") == 2 and text.count("<line ") == 3
    assert text.count("<linearGradient") == 6 and 'stroke-linecap="round"' in text
