"""Filled paths in SVG: `<path>`, `<polygon>` and `<polyline>` fills read as paths (holes, both
fill rules, arcs, curves, transforms) and drawn against resvg; glyph outlines written and read
back exactly; a file of glyphs rendered by the command line."""

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import taichi_sdf
from test_svg import alpha_render, rasterise_svg

from taichi_sdf import Paths, Scene, Triangles
from taichi_sdf.losses import psnr
from taichi_sdf.svg import SvgError, save_svg, scene_to_svg, svg_to_scene

pytest.importorskip("fontTools")
pytest.importorskip("matplotlib")  # ships the DejaVu fonts

FILLED = """<svg xmlns="http://www.w3.org/2000/svg" width="90" height="64">
<rect width="90" height="64" fill="#f4f0e8"/>
<path d="M6 6 h34 v26 h-34 z M13 12 v14 h20 v-14 z" fill="#c03020" fill-rule="evenodd"/>
<path d="M6 36 h34 v24 h-34 z M13 42 v12 h20 v-12 z" fill="#2040a0"/>
<path d="M13 42 h20 v12 h-20 z" fill="#208040" opacity="0.7"/>
<g transform="rotate(15 64 20)"><path d="M64 6 a14 12 0 1 0 0.01 0 z M64 13 q6 7 0 13 q-6 -7 0 -13 z"
   fill="#806020" fill-rule="nonzero"/></g>
<path d="M48 58 C 52 36, 76 36, 84 58 S 60 50, 48 58 z" fill="#209080" fill-opacity="0.8"/>
<polygon points="50,28 58,28 62,34 54,40 46,34" fill="#7030a0"/>
<polyline points="70,40 86,40 86,50" fill="#a08000"/>
<polygon points="44,2 52,2 48,5" fill="#303030"/>
</svg>"""


def test_filled_paths_polygons_and_polylines_match_resvg():
    scene = svg_to_scene(FILLED)
    # Runs of paths before and after the group (a new run at each group), then the two
    # triangles (the polyline's fill has three corners).
    assert [(type(group), len(group)) for group in scene.shapes] == [(Paths, 3), (Paths, 3), (Triangles, 2)]
    first, second = scene.shapes[:2]
    assert first.fill_rules.tolist() == [1, 0, 0] and second.fill_rules.tolist() == [0, 0, 0]
    assert len(first.contours(0)) == 2 and len(first.contours(1)) == 2 and len(second.contours(0)) == 2  # holes
    assert psnr(rasterise_svg(FILLED), alpha_render(scene)) >= 35.0


def test_glyph_outlines_come_back_exactly(tmp_path):
    from taichi_sdf.fonts import text_paths

    glyphs = text_paths("B8@%", size=30.0, origin=(3.0, 34.0), colour=(0.2, 0.1, 0.5), opacity=0.9)
    scene = Scene(96, 42, [1.0, 1.0, 1.0], (glyphs,))
    back = svg_to_scene(scene_to_svg(scene))
    group = back.shapes[0]
    assert isinstance(group, Paths)
    for key in ("points", "segments", "contour_ends", "path_ends", "fill_rules"):
        np.testing.assert_array_equal(getattr(group, key), getattr(glyphs, key), err_msg=key)
    np.testing.assert_allclose(group.colours, glyphs.colours, atol=1e-12)
    np.testing.assert_allclose(group.opacities, glyphs.opacities, atol=1e-12)
    assert psnr(rasterise_svg(scene_to_svg(scene)), alpha_render(scene)) >= 30.0  # 1x: strokes of 2-3 px

    save_svg(scene, tmp_path / "glyphs.svg")
    result = taichi_sdf("render", tmp_path / "glyphs.svg", "--width", 192, "-o", tmp_path / "big.png")
    assert result.returncode == 0, result.stderr
    big = iio.imread(tmp_path / "big.png")
    assert big.shape == (84, 192, 3) and big.min() < 80  # twice the size, with ink


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ('<path d="M1 1 h5 v5 h-5 z" fill="red" fill-rule="winding"/>', "fill-rule 'winding' is neither nonzero nor evenodd"),
    ],
)
def test_what_a_filled_path_cannot_be_is_one_line(element, message):
    document = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{element}</svg>'
    with pytest.raises(SvgError, match=message) as raised:
        svg_to_scene(document)
    assert "\n" not in str(raised.value)


def test_a_fill_without_segments_draws_nothing():
    document = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M1 1" fill="red"/>'
                '<path d="M1 1 h5 v5 z" fill="red"/></svg>')  # fmt: skip
    scene = svg_to_scene(document)
    assert len(scene.shapes) == 1 and len(scene.shapes[0]) == 1
