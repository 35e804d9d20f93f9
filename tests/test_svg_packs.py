"""Real SVG files from PyPI packs (the ``test`` extra): a fixed sample of Font Awesome Free icons
(compound filled paths whose holes wind the other way, arcs) and KanjiVG kanji (round-capped
cubic strokes under a group style, stroke-number ``<text>``) import with no warnings but the
expected ones and render within 30 dB of resvg at 4x. benchmarks/svg_packs.py runs the whole
packs."""

import io
import warnings
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

import imageio.v3 as iio
import pytest
from test_svg import alpha_render

from taichi_sdf.losses import psnr
from taichi_sdf.svg import SvgWarning, svg_to_scene

resvg_py = pytest.importorskip("resvg_py")

ZOOM = 4.0
ICONS = [  # by name: holes (circles, rings, faces), arcs, a non-square viewBox (docker)
    "solid/circle-half-stroke", "solid/gear", "regular/circle-check", "regular/face-smile", "brands/github",
    "solid/yin-yang", "regular/clock", "regular/compass", "solid/peace", "regular/life-ring", "solid/atom",
    "brands/docker",
]  # fmt: skip
KANJI = [  # 一, 水, 愛, 龍, 且 (a Kaisho variant), 字, 語, 鬱 (29 strokes)
    "04e00", "06c34", "0611b", "09f8d", "04e14-Kaisho", "05b57", "08a9e", "09b31",
]  # fmt: skip


def pack_file(distribution: str, folder: str, name: str) -> Path:
    """The installed ``folder/name.svg`` of a PyPI distribution; skips if it is not installed."""
    try:
        return Path(metadata.distribution(distribution).locate_file(folder)) / f"{name}.svg"
    except metadata.PackageNotFoundError:
        pytest.skip(f"{distribution} is not installed (pip install -e .[test])")


def resvg_zoomed(text: str, zoom: float):
    """resvg's drawing at ``zoom`` times the document's size, on white; no fonts, so it draws
    no ``<text>`` either, as the import skips it."""
    rgba = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text, zoom=zoom, skip_system_fonts=True))))
    rgba = rgba / 255.0
    return rgba[..., :3] * rgba[..., 3:] + 1.0 - rgba[..., 3:]


def imported(text: str):
    """The scene read from ``text`` and its SvgWarning lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SvgWarning)
        scene = svg_to_scene(text)
    return scene, [str(w.message) for w in caught if issubclass(w.category, SvgWarning)]


def assert_close_to_resvg(text: str, scale: float) -> None:
    """Ours and resvg's drawings at ZOOM x ``scale`` times the document's size within 30 dB."""
    scene, _ = imported(text)
    ours, theirs = alpha_render(scene.scaled(ZOOM * scale)), resvg_zoomed(text, ZOOM * scale)
    assert ours.shape == theirs.shape
    assert psnr(ours, theirs) >= 30.0


@pytest.mark.parametrize("name", ICONS)
def test_font_awesome_icons_import_cleanly_and_match_resvg(name):
    text = pack_file("fontawesomefree", "fontawesomefree/static/fontawesomefree/svgs", name).read_text("utf-8")
    scene, lines = imported(text)
    assert lines == []
    assert [type(group).__name__ for group in scene.shapes] == ["Paths"]
    assert_close_to_resvg(text, scale=64 / 512)  # 64 px tall, drawn 256 px tall


@pytest.mark.parametrize("name", KANJI)
def test_kanji_import_with_their_stroke_numbers_skipped_and_match_resvg(name):
    text = pack_file("kanjivg", "kanji", name).read_text("utf-8")
    numbers = sum(1 for node in ElementTree.fromstring(text.encode()).iter() if node.tag.endswith("}text"))
    strokes = text.count("<path ")
    assert numbers == strokes > 0  # a number per stroke, the file as KanjiVG writes it
    scene, lines = imported(text)
    assert lines == [f"skipped {numbers} <text>"]  # round caps and joins: drawn as SVG draws them
    assert {type(group).__name__ for group in scene.shapes} == {"CubicCurves"}
    assert_close_to_resvg(text, scale=1.0)  # 109 px, drawn 436 px
