"""Text as filled paths: glyph outlines of a TrueType or OpenType font, read with fontTools.

A glyph's outline is one or more closed contours of lines and quadratic Béziers (TrueType's
``glyf`` table) or cubics (OpenType's CFF); its holes wind the other way, so the nonzero
rule fills it as the font means. :func:`text_paths` lays out a line of text (advance widths
only: no kerning, ligatures or shaping) and gives one path per visible glyph, in pixels, y
down: a font unit becomes ``size / units_per_em`` pixels and the baseline starts at
``origin``.

The DejaVu fonts that matplotlib ships (``DejaVuSans.ttf``, its bold and oblique faces, the
mono and serif families) are found by :func:`bundled_font`; any other font file may be
given by its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from taichi_sdf.kinds.path import Paths


class FontError(ValueError):
    """A font that cannot be read, or text it cannot draw; its message is one line."""


def bundled_font(name: str = "DejaVuSans.ttf") -> Path:
    """The path of one of the DejaVu fonts matplotlib ships (FontError if matplotlib is not
    installed or has no such file)."""
    try:
        import matplotlib
    except ImportError:
        raise FontError(f"{name}: the bundled DejaVu fonts come with matplotlib, which is not installed") from None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():
        raise FontError(f"{name}: matplotlib ships no such font (its fonts are in {path.parent})")
    return path


def _open(font) -> object:
    try:
        from fontTools.ttLib import TTFont, TTLibError
    except ImportError:
        raise FontError("fonts are read with fontTools, which is not installed (the 'fonts' extra)") from None

    path = bundled_font() if font is None else Path(font)
    if not path.is_file():
        raise FontError(f"{path}: no such font file")
    try:
        return TTFont(str(path), lazy=True)
    except (TTLibError, OSError, ValueError, AssertionError) as error:
        raise FontError(f"{path}: not a font fontTools reads ({type(error).__name__})") from None


class _ContourPen:
    """A fontTools segment pen that keeps contours as lists of segments, each segment its
    2-4 control points in font units (TrueType's runs of off-curve points are split into
    quadratics at their implied on-curve midpoints by BasePen)."""

    def __init__(self, glyph_set):
        from fontTools.pens.basePen import BasePen

        contours: list[list[list[tuple[float, float]]]] = []

        class Pen(BasePen):
            def _moveTo(self, point):
                contours.append([])
                self.start = point

            def _lineTo(self, point):
                contours[-1].append([self._getCurrentPoint(), point])

            def _qCurveToOne(self, control, point):
                contours[-1].append([self._getCurrentPoint(), control, point])

            def _curveToOne(self, first, second, point):
                contours[-1].append([self._getCurrentPoint(), first, second, point])

            def _closePath(self):
                if self._getCurrentPoint() != self.start:
                    contours[-1].append([self._getCurrentPoint(), self.start])

            _endPath = _closePath  # a fill closes every contour

        self.pen, self.contours = Pen(glyph_set), contours


def _outline(font, character: str) -> tuple[list, float]:
    name = font.getBestCmap().get(ord(character))
    if name is None:
        raise FontError(f"the font has no glyph for {character!r} (U+{ord(character):04X})")
    glyph_set = font.getGlyphSet()
    pen = _ContourPen(glyph_set)
    glyph_set[name].draw(pen.pen)
    contours = [contour for contour in pen.contours if contour]
    return contours, float(font["hmtx"][name][0])


def text_paths(
    text: str,
    font=None,
    size: float = 48.0,
    origin=(0.0, 48.0),
    colour=(0.0, 0.0, 0.0),
    opacity: float | None = None,
) -> Paths:
    """One filled path (nonzero rule) per visible glyph of ``text`` in ``font`` (a path, or
    None for DejaVu Sans), ``size`` pixels to the em, the baseline starting at ``origin``
    (x, y) in pixels, all in ``colour`` (3 values in [0, 1]) and, if given, ``opacity``.
    FontError if the font cannot be read, lacks a glyph, or the text has no visible glyph."""
    if not isinstance(text, str) or "\n" in text:
        raise FontError("text_paths draws one line of text (a str without newlines)")
    if not np.isfinite(size) or size <= 0:
        raise FontError(f"size must be a positive number of pixels, got {size!r}")
    font = _open(font)
    scale = size / font["head"].unitsPerEm
    x0, y0 = (float(v) for v in origin)
    glyphs, advance = [], 0.0
    for character in text:
        contours, width = _outline(font, character)
        if contours:
            glyphs.append(
                [[[(x0 + (advance + x) * scale, y0 - y * scale) for x, y in segment] for segment in contour]
                 for contour in contours]  # fmt: skip
            )
        advance += width
    if not glyphs:
        raise FontError(f"{text!r} has no visible glyph")
    colours = np.tile(np.asarray(colour, dtype=np.float64), (len(glyphs), 1))
    opacities = None if opacity is None else np.full(len(glyphs), float(opacity))
    return Paths.from_contours(glyphs, colours, "nonzero", opacities=opacities)
