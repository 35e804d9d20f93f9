"""Glyph outlines of DejaVu Sans (the font matplotlib ships, read with fontTools) as filled
paths: their coverage against their outline's area (Green's theorem) and against resvg's
drawing of the same outlines, letters with holes among them; fonts and text that cannot be
drawn are one-line errors."""

import io

import imageio.v3 as iio
import numpy as np
import pytest

from taichi_sdf import RenderConfig, Renderer, Scene
from taichi_sdf.fonts import FontError, bundled_font, text_paths
from taichi_sdf.kinds import reference_path
from taichi_sdf.losses import psnr
from taichi_sdf.reference import render_reference

resvg_py = pytest.importorskip("resvg_py")
pytest.importorskip("matplotlib")  # ships the font

HOLED = "oB8@&%"  # letters with holes, one or several
SIZE, HEIGHT, WIDTH = 40.0, 52, 44  # pixels to the em; a glyph's image


def glyph(character: str, scale: float = 1.0):
    """The character's path, its baseline placed so that it fits in a HEIGHT x WIDTH image
    (``scale`` times that size)."""
    return text_paths(character, size=SIZE * scale, origin=(4.3 * scale, 40.6 * scale))


def samples(height: int, width: int, step: float = 1.0) -> np.ndarray:
    """(H / step, W / step, 2) points ``step`` pixels apart at the centres of their cells."""
    xs, ys = np.meshgrid(np.arange(0, width, step) + step / 2, np.arange(0, height, step) + step / 2)
    return np.stack([xs, ys], axis=-1)


def outline_area_and_length(contours) -> tuple[float, float]:
    """The area a glyph's contours enclose under nonzero (a font's holes wind against its
    outer contours, so the signed areas add up), by Green's theorem on the line and
    quadratic segments, exact with Gauss-Legendre's 4 nodes; and the outline's length."""
    nodes, weights = np.polynomial.legendre.leggauss(8)
    t = (nodes + 1.0)[:, None] / 2.0
    area = length = 0.0
    for contour in contours:
        for controls in contour:
            if len(controls) == 2:
                a, c = controls
                b = (a + c) / 2.0
            else:
                a, b, c = controls
            point = a * (1 - t) ** 2 + 2 * b * t * (1 - t) + c * t * t
            tangent = 2 * (b - a) * (1 - t) + 2 * (c - b) * t
            area += np.sum(weights / 2 * (point[:, 0] * tangent[:, 1] - point[:, 1] * tangent[:, 0])) / 2
            length += np.sum(weights / 2 * np.linalg.norm(tangent, axis=1))
    return abs(area), length


@pytest.mark.parametrize("character", list(HOLED + "kaM"))
def test_glyph_coverage_integrates_to_its_outline_area(character):
    # The integral of the coverage (on a grid of 1/4 px) is the area, plus the band's corner
    # and bend terms of order aa^2 / 10 each (see test_paths): a small fraction of a pixel
    # per pixel of outline.
    group, step = glyph(character), 0.25
    area, length = outline_area_and_length(group.contours(0))
    covered = reference_path.path_coverage(group, 0, samples(HEIGHT, WIDTH, step), 1.0).sum() * step * step
    assert abs(covered - area) < 0.01 * length, (covered, area, length)


def svg_of(group, height: int, width: int) -> str:
    """The group's outlines as SVG path data written here (not by the library), black on white."""
    paths = []
    for i in range(len(group.colours)):
        commands = []
        for contour in group.contours(i):
            commands.append("M {:.9f} {:.9f}".format(*contour[0][0]))
            for controls in contour:
                commands.append("LQC"[len(controls) - 2] + " " + " ".join(f"{x:.9f} {y:.9f}" for x, y in controls[1:]))
            commands.append("Z")
        paths.append(f'<path d="{" ".join(commands)}" fill="black" fill-rule="nonzero"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<rect width="{width}" height="{height}" fill="white"/>{"".join(paths)}</svg>')  # fmt: skip


@pytest.mark.parametrize("character", list(HOLED))
def test_letters_with_holes_match_resvg(character):
    # Drawn at 4x (a glyph's strokes are 3-4 px wide at 1x, where the two renderers' edge
    # filters differ on most of its pixels: 30-34 dB; at 4x 35.7-38.2 dB).
    scale = 4
    group, height, width = glyph(character, scale), HEIGHT * scale, WIDTH * scale
    ours = 1.0 - reference_path.path_coverage(group, 0, samples(height, width), 0.6)
    theirs = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg_of(group, height, width)))))
    theirs = theirs[..., :3].mean(axis=-1) / 255.0
    assert theirs.min() < 0.1 and ours[height // 2].max() == 1.0  # ink, and paper (the hole's too) across the middle
    assert psnr(ours, theirs) >= 35.0


def test_text_lays_glyphs_out_along_the_baseline():
    line = text_paths("oo o", size=SIZE, origin=(3.0, 45.0))
    one = glyph("o")
    assert len(line.colours) == 3  # the space has no outline, only its advance
    firsts = [line.contours(i)[0][0][0] for i in range(3)]
    advance = firsts[1][0] - firsts[0][0]
    assert advance > 0 and np.isclose(firsts[1][1], firsts[0][1])
    assert firsts[2][0] - firsts[1][0] > advance  # the space's advance between them
    shape = [len(contour) for contour in one.contours(0)]
    assert [len(contour) for contour in line.contours(2)] == shape


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: text_paths("a\u4e00"), "the font has no glyph for '\u4e00' (U+4E00)"),
        (lambda: text_paths("   "), "'   ' has no visible glyph"),
        (lambda: text_paths("a", size=float("nan")), "size must be a positive number of pixels, got nan"),
        (lambda: text_paths("a", font="/no/such.ttf"), "/no/such.ttf: no such font file"),
        (lambda: bundled_font("NoSuchFont.ttf"), "NoSuchFont.ttf: matplotlib ships no such font"),
    ],
)
def test_what_cannot_be_drawn_is_one_line(call, message):
    with pytest.raises(FontError) as raised:
        call()
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_a_file_that_is_no_font_is_one_line(tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_bytes(b"not a font at all" * 10)
    with pytest.raises(FontError, match=r"fake.ttf: not a font fontTools reads"):
        text_paths("a", font=fake)


def test_a_word_through_the_renderer_equals_the_reference():
    # Real outlines (many quadratics, holes, tiles inside the ink) through the tiled pipeline.
    word = text_paths("B8@", size=SIZE, origin=(2.4, 40.6), colour=(0.1, 0.2, 0.6), opacity=0.9)
    scene = Scene(int(WIDTH * 2.6), HEIGHT, [1.0, 1.0, 1.0], (word,))
    config = RenderConfig(dtype="f64", mode="alpha", aa_width=0.6)
    image = Renderer(config).render(scene)
    assert np.abs(image - render_reference(scene, mode="alpha", aa_width=0.6)).max() <= 1e-9
    assert image.min() < 0.3  # ink
