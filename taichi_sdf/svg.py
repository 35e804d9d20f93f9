"""SVG export and import: vector output to view, edit or print at any size, and SVG input
to start a fit from.

SVG paints shapes in order with alpha compositing, so an exported scene looks like the
renderer's ``mode="alpha"`` (and, for opaque shapes that do not share edges, like ``over``).
Each shape group becomes a ``<g>`` and each primitive the element its kind writes
(:mod:`taichi_sdf.kinds`): circles ``<circle>``, triangles ``<polygon>``, strokes ``<line>``
and Bézier strokes ``<path d="M ... Q ...">`` / ``C``, with round caps. A linear fill becomes a ``<linearGradient>`` in user space with
stops where a channel saturates, which is exact when every channel changes along the same
direction (slopes of rank one, what :func:`taichi_sdf.optim.fit` produces); otherwise the
direction of largest change is kept. Numbers are written in full precision and colours as
``rgb(r%, g%, b%)`` with decimals, so that ``svg_to_scene(scene_to_svg(s))`` gives ``s`` back.

Import reads the same subset from any SVG (parsed by svgelements, which applies transforms
and styles): circles, ellipses (a ``<circle>`` or ``<ellipse>`` under any transform: an
ellipse's image is one; a circle that stays one is a circle), rectangles (a ``<rect>`` whose
transform keeps it one, rounded corners when rx and ry, resolved and clamped as SVG does, are
equal once transformed; else a path), filled triangles (``<polygon>`` or a ``<path>`` of
straight lines with three corners), other filled polygons, polylines and paths as paths
(with their fill-rule), the strokes of ``<line>``/``<polyline>``/``<path>`` (lines, quadratic
and cubic Béziers; arcs become cubics), of rects and polygons (a stroke per side) and of
circles and ellipses (four cubic quarter arcs), a fill under its stroke, solid and
linear-gradient paints (any CSS colour form; its alpha joins the opacity; ``href``
inheritance and ``gradientTransform`` read), opacity, and a first ``<rect>`` that holds the
whole image as background (over white paper). What has no counterpart is skipped and named
in one :class:`SvgWarning` line, counted per reason, with the caps and joins drawn round
where SVG draws them otherwise (``strict=True`` refuses the first skipped thing instead);
what paints nothing is dropped. Within a group, corners and points at identical positions
become shared vertices (polylines and polycurves). The image is the ``<svg>``'s width x
height in absolute units, else its viewBox's size (user units as pixels). Before svgelements reads
anything, the document is checked where svgelements would fail or guess: nesting (and ``<use>``
expansion) it cannot walk, numbers that are none, NaN, infinite or beyond float64 (it reads them
as 0), an unknown size (it takes 1000 px); colours are read here (it paints unknown ones black).
Every refusal is one :class:`SvgError` line naming the element and attribute.
"""

from __future__ import annotations

import colorsys
import io
import math
import re
import warnings
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
from PIL import ImageColor

from taichi_sdf.kinds import kind_of
from taichi_sdf.kinds.path import FILL_RULES, Paths
from taichi_sdf.kinds.rect import box_distance
from taichi_sdf.scene import (
    Circles,
    CubicCurves,
    Ellipses,
    QuadraticCurves,
    Rectangles,
    Scene,
    ShapeGroup,
    Strokes,
    Triangles,
)


class SvgError(ValueError):
    """An SVG document outside the subset taichi_sdf reads; the message names the problem."""


class _Skip(Exception):
    """Something in an SVG document without a counterpart here: ``reason`` counts it in the
    warning (a template of ``{n}``, its count), ``message`` names it when strict refuses it."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class SvgWarning(UserWarning):
    """What an import left out or drew differently (one per document, on one line): the
    elements and effects it skipped, counted per reason, and caps and joins drawn round."""


# ----------------------------------------------------------------------------- export


def _number(value: float) -> str:
    return np.format_float_positional(float(value), trim="-")


def _colour(rgb) -> str:
    return "rgb({}%, {}%, {}%)".format(*(_number(100 * float(np.clip(c, 0.0, 1.0))) for c in rgb))


def _gradient(gid: str, group: ShapeGroup, i: int, anchor: np.ndarray, scale: float) -> str:
    """A userSpaceOnUse linearGradient of primitive ``i``'s linear fill (anchored at
    ``anchor``, per ``scale`` pixels) over its extent."""
    base, slope = group.colours[i], group.slopes[i]
    _, _, directions = np.linalg.svd(slope)
    direction = directions[0]
    rate = slope @ direction / scale  # colour change per pixel along the direction
    start, end = group.fill_extent(i, anchor, direction)
    # The fill is clamp(base + rate * t): piecewise linear in t, with corners where a channel
    # reaches 0 or 1. A stop at each corner makes the gradient exact. At its own corner a
    # channel is written as the bound itself: base + rate * t rounds to a hair off it, and an
    # importer would then take the clamped stretch beyond for part of the line. Corners a
    # little beyond the shape are kept too (the gradient then reaches past the shape, which
    # SVG does not mind): a channel saturated across the shape may still change in the
    # renderer's anti-aliasing band around it, and the import needs its line for that.
    reach = max(end - start, 16.0)
    corners = {}
    for channel in range(3):
        if rate[channel] != 0.0:
            for bound in (0.0, 1.0):
                t = (bound - base[channel]) / rate[channel]
                if start - reach < t < end + reach:
                    corners.setdefault(t, {})[channel] = bound
    # A corner beyond the shape needs a stop beyond it too, where its channel has moved on.
    start = start - reach if corners and min(corners) <= start else start
    end = end + reach if corners and max(corners) >= end else end
    corners.setdefault(start, {})
    corners.setdefault(end, {})
    length = end - start
    stops = []
    for t in sorted(corners):
        colour = np.clip(base + rate * t, 0.0, 1.0)
        for channel, bound in corners[t].items():
            colour[channel] = bound
        stops.append(f'<stop offset="{_number((t - start) / length)}" stop-color="{_colour(colour)}"/>')
    stops = "".join(stops)
    p0, p1 = anchor + start * direction, anchor + end * direction
    return (
        f'<linearGradient id="{gid}" gradientUnits="userSpaceOnUse" x1="{_number(p0[0])}" y1="{_number(p0[1])}" '
        f'x2="{_number(p1[0])}" y2="{_number(p1[1])}">{stops}</linearGradient>'
    )


def scene_to_svg(scene: Scene) -> str:
    """The scene as an SVG document of its width x height: background, then one ``<g>`` per
    shape group in drawing order."""
    definitions, groups = [], []
    for g, group in enumerate(scene.shapes):
        elements = []
        anchors, scales = group.fill_frames() if group.fill == "linear" else (None, None)
        for i in range(len(group)):
            paint = _colour(group.colours[i])
            if group.fill == "linear":
                definitions.append(_gradient(f"g{g}_{i}", group, i, anchors[i], scales[i]))
                paint = f"url(#g{g}_{i})"
            elements.append(kind_of(group).svg_element(group, i, paint, _number))
        groups.append("<g>\n" + "\n".join(elements) + "\n</g>")
    width, height = scene.width, scene.height
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
            f"<defs>{''.join(definitions)}</defs>" if definitions else "",
            f'<rect width="{width}" height="{height}" fill="{_colour(scene.background)}"/>',
            *groups,
            "</svg>\n",
        ]
    )


def save_svg(scene: Scene, path) -> None:
    """Write :func:`scene_to_svg` to ``path``."""
    Path(path).write_text(scene_to_svg(scene), encoding="utf-8")


# ----------------------------------------------------------------------------- import

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# svgelements walks the document recursively, each <use> through its target: deeper nesting ends
# in a RecursionError, and <use> of <use> multiplies elements. Drawings nest a few tens deep.
MAX_NESTING = 200
MAX_ELEMENTS = 1_000_000  # after <use> references are expanded
TEXT_ELEMENTS = {"text", "tspan", "textPath"}  # skipped as a whole: their x, y are lists
UNREAD_ELEMENTS = {"text", "image", "foreignObject"}  # skipped, named in the warning
# Never drawn where they stand; their contents are read only by reference (<use> of a symbol).
NON_RENDERING = {"defs", "clipPath", "mask", "marker", "pattern", "symbol", "filter", "linearGradient", "radialGradient"}
EFFECTS = {"clip-path": "unclipped", "mask": "unmasked", "filter": "unfiltered", "marker": "without markers"}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SINGLE = {  # a length (with a unit) or a number (an opacity or offset may be a percentage)
    "length": re.compile(rf"\s*({_NUMBER})(?:px|pt|pc|mm|cm|in|q|%)?\s*", re.IGNORECASE),
    "number": re.compile(rf"\s*({_NUMBER})%?\s*"),
}
_TOKEN = re.compile(rf"({_NUMBER})|([A-Za-z]+)|([()])|[\s,]+|(.)", re.DOTALL)
_WORDS = {  # besides numbers, what a list of numbers, path data or a transform holds
    "list": set(),
    "path": set("MmZzLlHhVvCcSsQqTtAa"),
    "transform": {"matrix", "translate", "scale", "rotate", "skewX", "skewY"},
}
# The attributes (or style properties) that hold numbers, and their grammar.
_NUMERIC = {
    **dict.fromkeys(("x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr"), "length"),
    **dict.fromkeys(("x1", "y1", "x2", "y2", "stroke-width"), "length"),
    **dict.fromkeys(("opacity", "fill-opacity", "stroke-opacity", "stop-opacity", "offset"), "number"),
    **dict.fromkeys(("stroke-miterlimit", "pathLength"), "number"),
    **dict.fromkeys(("points", "viewBox"), "list"),
    "d": "path",
    **dict.fromkeys(("transform", "gradientTransform", "patternTransform"), "transform"),
}
_NON_NEGATIVE = {"width", "height", "r", "rx", "ry", "fr", "stroke-width"}
_AUTO = {"width", "height", "rx", "ry"}  # may be "auto" (SVG 2)
_ABSOLUTE_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


def _tag(node: ElementTree.Element) -> str:
    return node.tag.split("}")[-1] if isinstance(node.tag, str) else ""


def _node_name(node: ElementTree.Element) -> str:
    """``<tag id="...">`` of an XML element, for messages."""
    return _named(_tag(node), node.get("id"))


def _element_name(element) -> str:
    """``<tag id="...">`` of an svgelements element, for messages."""
    return _named(element.values.get("tag", type(element).__name__), element.values.get("id"))


def _named(tag: str, ident: str | None) -> str:
    return f'<{tag} id="{_excerpt(ident, 24)}">' if ident else f"<{tag}>"


def _excerpt(text: str, size: int = 40) -> str:
    """``text`` on one line, shortened to about ``size`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 3] + "..."


def _read_document(source) -> ElementTree.Element:
    """The XML root of an SVG document given as a path, or as its text or bytes."""
    try:
        if isinstance(source, (str, Path)) and not str(source).lstrip().startswith("<"):
            data = Path(source).read_bytes()
        else:
            data = source.encode() if isinstance(source, str) else bytes(source)
    except OSError as error:
        raise SvgError(f"{source}: cannot be read ({error.strerror or type(error).__name__})") from None
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise SvgError(f"not an SVG document ({error})") from None
    if _tag(root) != "svg":
        raise SvgError(f"not an SVG document (its root element is <{_tag(root)}>)")
    return root


def _check_structure(root: ElementTree.Element) -> None:
    """SvgError if svgelements could not walk the document: elements nested deeper than
    MAX_NESTING, ``<use>`` references that loop, or that expand to more than MAX_ELEMENTS
    (svgelements inlines each ``<use>``'s target, as here)."""
    ids = {node.get("id"): node for node in root.iter() if node.get("id") is not None}

    def inside(node):  # the elements svgelements walks inside ``node``
        href = node.get("href", node.get(XLINK_HREF)) if _tag(node) == "use" else None
        target = ids.get(href[1:]) if href else None  # svgelements reads "#id" as href[1:]
        return [*node, target] if target is not None else list(node)

    depth, count = {}, {}  # of each element's expanded subtree
    stack, walking = [(root, False)], set()  # walking: the elements from the root down to the current one
    while stack:  # depth first without recursion: the document may be as deep as it likes
        node, finished = stack.pop()
        if finished:
            walking.discard(node)
            depth[node] = 1 + max((depth[kid] for kid in inside(node)), default=0)
            count[node] = 1 + sum(count[kid] for kid in inside(node))
            if depth[node] > MAX_NESTING:
                raise SvgError(f"the SVG nests elements more than {MAX_NESTING} deep (counting <use> targets)")
            if count[node] > MAX_ELEMENTS:
                raise SvgError(f"the SVG's <use> references expand it to more than {MAX_ELEMENTS} elements")
        elif node not in depth:
            walking.add(node)
            stack.append((node, True))
            for kid in inside(node):
                if kid in walking:
                    raise SvgError(f"{_node_name(node)} refers to {_node_name(kid)}, which contains it: a <use> loop")
                stack.append((kid, False))


def _number_problem(grammar: str, text: str) -> str | None:
    """What is wrong with ``text`` as an SVG value of ``grammar`` (see _NUMERIC), or None."""
    if grammar in _SINGLE:
        match = _SINGLE[grammar].fullmatch(text)
        if match is None:
            font_relative = re.fullmatch(rf"\s*{_NUMBER}(em|ex)\s*", text, re.IGNORECASE)
            return "units relative to a font (em, ex) are not read" if font_relative else "not a number"
        numbers = [match.group(1)]
    else:
        numbers = []
        for match in _TOKEN.finditer(text):
            number, word, parenthesis, other = match.groups()
            if word is not None and not (word in _WORDS[grammar] or set(word) <= _WORDS[grammar]):
                return f"{_excerpt(word, 12)!r} is not a number"
            if other is not None or (parenthesis is not None and grammar != "transform"):
                return f"{(other or parenthesis)!r} is not a number"
            if number is not None:
                numbers.append(number)
    for number in numbers:
        if not math.isfinite(float(number)):
            return f"{number} is beyond float64's range"
    return None


def _check_numbers(root: ElementTree.Element) -> None:
    """SvgError naming the element and attribute (or style property, or ``<style>`` rule) of
    the first number that is not one, is NaN or infinite, overflows float64, or is negative
    where SVG forbids it. svgelements would read those as 0, or not at all."""
    for node in root.iter():
        if ("}" in node.tag and not node.tag.startswith(SVG_NAMESPACE)) or _tag(node) in TEXT_ELEMENTS:
            continue  # another vocabulary (inkscape:, sodipodi:), or text (refused as a whole)
        declarations = [(k, v) for k, v in node.attrib.items() if "}" not in k and k != "style"]
        declarations += _declarations(node.get("style", ""))
        if _tag(node) == "style":
            declarations += _declarations(re.sub(r"/\*.*?\*/", "", node.text or "", flags=re.DOTALL))
        for name, value in declarations:
            grammar = _NUMERIC.get(name)
            if grammar is None or (name in _AUTO and value.strip() == "auto"):
                continue
            problem = _number_problem(grammar, value)
            if problem is None and name in _NON_NEGATIVE and float(_SINGLE[grammar].fullmatch(value)[1]) < 0:
                problem = "must not be negative"
            if problem is not None:
                raise SvgError(f'{_node_name(node)} {name}="{_excerpt(value)}": {problem}')


def _declarations(css: str) -> list[tuple[str, str]]:
    """The ``name: value`` pairs of a style attribute or of a style sheet's rules."""
    pairs = []
    for block in re.findall(r"\{([^}]*)\}", css) if "{" in css else [css]:
        for item in block.split(";"):
            if ":" in item:
                name, value = item.split(":", 1)
                pairs.append((name.strip(), value.strip()))
    return pairs


def _document_size(root: ElementTree.Element) -> tuple[float, float]:
    """The image size in pixels: the ``<svg>``'s width and height in absolute units, else (one
    or both missing, percentages or ``auto``) from its viewBox, whose user units are then pixels.
    SvgError if neither gives it, or if it is not a scene's size."""
    values = _style(root)
    size = [_absolute_length(values.get(key)) for key in ("width", "height")]
    box = [float(v) for v in re.findall(_NUMBER, values.get("viewBox", ""))]
    if len(box) not in (0, 4):
        raise SvgError(f'<svg> viewBox="{_excerpt(values["viewBox"])}": needs four numbers')
    if box and (box[2] <= 0 or box[3] <= 0):
        raise SvgError(f'<svg> viewBox="{_excerpt(values["viewBox"])}": its width and height must be positive')
    if None in size:
        if not box:
            raise SvgError(
                f"the SVG's size is unknown: its <svg> has no viewBox, and no width and height in absolute units "
                f"({_size_attributes(values)})"
            )
        ratio = box[3] / box[2]  # as a browser sizes an image with one side given, keeping the viewBox's shape
        if size[0] is not None:
            size[1] = size[0] * ratio
        elif size[1] is not None:
            size[0] = size[1] / ratio
        else:
            size = box[2:]
    width, height = size
    try:  # the scene's own rule for its size (a side of 1e308 px stays a float: as an int it has 309 digits)
        Scene(*(round(side) if side < 2**53 else side for side in size), np.ones(3), ())
    except ValueError as error:
        raise SvgError(f"the SVG's size {width:g} x {height:g} px ({_size_attributes(values)}): {error}") from None
    return width, height


def _size_attributes(values: dict[str, str]) -> str:
    """The ``<svg>``'s width and height as written, for messages."""
    return ", ".join(f'{key}="{_excerpt(values[key])}"' if key in values else f"no {key}" for key in ("width", "height"))


def _absolute_length(text: str | None) -> float | None:
    """A length in pixels (96 per inch), or None if it has none (missing, a percentage, auto,
    or relative to a font)."""
    match = re.fullmatch(rf"\s*({_NUMBER})\s*([a-z]*)\s*", text or "", re.IGNORECASE)
    if match is None or match[2].lower() not in _ABSOLUTE_UNITS:
        return None
    return float(match[1]) * _ABSOLUTE_UNITS[match[2].lower()]


def _parse_colour(text: str, current: str = "black") -> tuple[np.ndarray, float]:
    """An SVG (CSS) colour as RGB in [0, 1] and its alpha: a colour keyword, ``transparent``,
    ``currentColor`` (the ``current`` colour), ``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa``,
    ``rgb()``/``rgba()`` of numbers (0-255) or percentages (all their decimals kept), or
    ``hsl()``/``hsla()``. SvgError naming anything else."""
    key = text.strip().lower()
    if key == "currentcolor":
        return _parse_colour(current) if current.strip().lower() != "currentcolor" else (np.zeros(3), 1.0)
    if key == "transparent":
        return np.zeros(3), 0.0
    key = ImageColor.colormap.get(key, key)
    if re.fullmatch(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})", key):
        digits = key[1:] if len(key) > 5 else "".join(2 * c for c in key[1:])
        channels = [int(digits[i : i + 2], 16) / 255.0 for i in range(0, len(digits), 2)]
        return np.array(channels[:3]), (channels[3] if len(channels) == 4 else 1.0)
    match = re.fullmatch(r"(rgb|hsl)a?\(([^()]*)\)", key)
    parts = re.split(r"[\s,/]+", match[2].strip()) if match else []
    if match and match[1] == "hsl" and parts:
        parts[0] = parts[0].removesuffix("deg")  # the hue's unit
    numbers = [re.fullmatch(rf"({_NUMBER})(%?)", part) for part in parts]
    if len(parts) not in (3, 4) or None in numbers or not all(math.isfinite(float(n[1])) for n in numbers):
        raise SvgError(f"unknown colour {_excerpt(text)!r}")

    def channel(number, full: float) -> float:  # a percentage or a number of ``full``, clamped as CSS does
        return min(max(float(number[1]) / (100.0 if number[2] else full), 0.0), 1.0)

    alpha = channel(numbers[3], 1.0) if len(numbers) == 4 else 1.0
    if match[1] == "rgb":
        return np.array([channel(n, 255.0) for n in numbers[:3]]), alpha
    hue, saturation, lightness = float(numbers[0][1]) / 360.0 % 1.0, channel(numbers[1], 100), channel(numbers[2], 100)
    return np.array(colorsys.hls_to_rgb(hue, lightness, saturation)), alpha


def _style(node: ElementTree.Element) -> dict[str, str]:
    """Presentation attributes of an XML node, its ``style`` winning."""
    values = {key.split("}")[-1]: value for key, value in node.attrib.items()}
    for name, value in _declarations(values.pop("style", "")):
        values[name] = value
    return values


class _Fill:
    """A solid or linear-gradient paint in user space: colour(p) = clamp(base + rate·(p-origin)·axis)."""

    def __init__(self, colour, axis=(0.0, 0.0), origin=(0.0, 0.0), rate=(0.0, 0.0, 0.0), opacity=1.0):
        self.colour, self.axis, self.origin = np.asarray(colour), np.asarray(axis), np.asarray(origin)
        self.rate, self.opacity = np.asarray(rate), opacity

    @property
    def linear(self) -> bool:
        return bool(np.any(self.axis != 0.0))

    def at(self, anchor: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Base colour at ``anchor`` and the (3, 2) slope per ``scale`` pixels."""
        base = self.colour + self.rate * ((anchor - self.origin) @ self.axis)
        return base, np.outer(self.rate, self.axis) * scale


def _fraction(text: str, what: str) -> float:
    """An SVG number, length in absolute units (as pixels) or percentage (``"50%"`` -> 0.5)
    that :func:`_check_numbers` has let through; SvgError naming ``what`` for lengths relative
    to a font."""
    text = str(text).strip()
    value = float(text[:-1]) / 100.0 if text.endswith("%") else _absolute_length(text)
    if value is None:
        raise SvgError(f'{what}="{_excerpt(text)}": only numbers, pixels, absolute units and percentages are read')
    return value


def _unit_interval(text: str, what: str) -> float:
    """An opacity or offset, clamped to [0, 1] as SVG does."""
    return min(max(_fraction(text, what), 0.0), 1.0)


def _gradient_chain(node: ElementTree.Element, gradients: dict) -> list[ElementTree.Element]:
    """The gradient ``node`` and those it inherits from through ``href`` (SVG: attributes it
    does not set, and its stops if it has none, come from there), nearest first; an href to
    anything but a gradient of the document is ignored, as SVG does. SvgError for a loop."""
    chain = [node]
    while True:
        href = chain[-1].get("href", chain[-1].get(XLINK_HREF)) or ""
        target = gradients.get(href[1:]) if href.startswith("#") else None
        if target is None or _tag(target) == "pattern":
            return chain
        if target in chain:
            raise SvgError(f"gradient #{_excerpt(node.get('id', ''), 24)}: its href references loop")
        chain.append(target)


def _gradient_fill(
    node: ElementTree.Element, gradients: dict, box: tuple[np.ndarray, np.ndarray], to_user: np.ndarray
) -> _Fill:
    """A linearGradient (with what it inherits through href) as a _Fill in image
    coordinates. ``to_user`` (2x3 affine) maps them to the shape's own user space, where
    ``box`` (min, size) is its bounding box."""
    import svgelements as se

    name = f"gradient #{_excerpt(node.get('id', ''), 24)}"
    chain = _gradient_chain(node, gradients)

    def inherited(key: str, default: str) -> str:
        return next((n.get(key) for n in chain if n.get(key) is not None), default)

    stops = next(([_style(s) for s in n if _tag(s) == "stop"] for n in chain if any(_tag(s) == "stop" for s in n)), [])
    if not stops:
        raise SvgError(f"{name} has no stops")

    f1, f2 = (np.array([_fraction(inherited(k, default), f"{name} {k}") for k, default in ends]) for ends in (
        (("x1", "0%"), ("y1", "0%")), (("x2", "100%"), ("y2", "0%"))
    ))  # fmt: skip
    low, size = (np.zeros(2), np.ones(2)) if inherited("gradientUnits", "") == "userSpaceOnUse" else box
    # Image position p -> user space u = to_user(p) -> the gradient's target space f (u
    # itself, or (u - low) / size in the bounding box) -> gradient space g, from which its
    # gradientTransform maps to f. t = (g - f1).(f2 - f1) / |f2 - f1|^2: affine in p.
    to_target = np.diag([*(1.0 / size), 1.0]) @ np.vstack([to_user - np.c_[np.zeros((2, 2)), low], [0.0, 0.0, 1.0]])
    transform = se.Matrix(inherited("gradientTransform", ""))
    try:
        from_gradient = np.array([[transform.a, transform.c, transform.e], [transform.b, transform.d, transform.f]])
        to_gradient = np.linalg.solve(np.vstack([from_gradient, [0.0, 0.0, 1.0]]), to_target)[:2]
    except np.linalg.LinAlgError:
        raise SvgError(f"{name}: its gradientTransform is singular") from None
    span = f2 - f1
    if not np.any(span):
        raise SvgError(f"{name} has zero length")
    linear, shift = to_gradient[:, :2], to_gradient[:, 2]
    axis = linear.T @ (span / np.dot(span, span))
    origin = np.linalg.solve(linear, f1 - shift)
    offsets = np.maximum.accumulate([_unit_interval(stop.get("offset", "0"), f"{name} offset") for stop in stops])
    colours, alphas = zip(*(_parse_colour(s.get("stop-color", "black"), s.get("color", "black")) for s in stops))
    colours = np.array(colours)
    opacities = [alpha * _unit_interval(s.get("stop-opacity", "1"), f"{name} stop-opacity") for s, alpha in zip(stops, alphas)]
    opacity = float(np.mean(opacities))
    # Stops between which a channel changes lie on its line (a clamped stretch is constant):
    # fit each channel's line through the ends of its changing stretches.
    base, rate = colours[0].copy(), np.zeros(3)
    for channel in range(3):
        changes = [
            j
            for j in range(len(stops) - 1)
            if colours[j + 1, channel] != colours[j, channel] and offsets[j + 1] > offsets[j]
        ]
        ends = sorted(set(changes) | {j + 1 for j in changes})
        if ends:
            rate[channel], base[channel] = np.polyfit(offsets[ends], colours[ends, channel], 1)
    return _Fill(base, axis, origin, rate, opacity)


def _paint(element, key: str, gradients: dict) -> _Fill | None:
    """The element's ``fill`` or ``stroke`` paint with its opacities, None for 'none' or
    opacity 0; _Skip for a radial gradient or a pattern. A reference ``url(#id)`` may be followed by a fallback colour, which is not needed."""
    values = element.values
    text = str(values.get(key, "black" if key == "fill" else "none")).strip()
    if text == "none":
        return None
    what = _element_name(element)
    opacity = _unit_interval(values.get("opacity", "1"), f"{what} opacity")
    opacity *= _unit_interval(values.get(f"{key}-opacity", "1"), f"{what} {key}-opacity")
    reference = re.fullmatch(r"url\(\s*(['\"]?)(.*?)\1\s*\)(.*)", text, re.DOTALL)
    if reference:
        if not reference[2].startswith("#"):
            raise SvgError(f'{what} {key}="{_excerpt(text)}": only references to this document (url(#id)) are read')
        gid = reference[2][1:]
        if gid in gradients and _tag(gradients[gid]) in ("radialGradient", "pattern"):
            server = _tag(gradients[gid])
            raise _Skip(
                f"{{n}} {key}{{s}} by a <{server}> (only linear gradients are read)",
                f"{what} {key} refers to #{_excerpt(gid, 24)}, a <{server}> (only linear gradients are read)",
            )
        if gid not in gradients:
            raise SvgError(f"{what} {key} refers to #{_excerpt(gid, 24)}, which is not a linearGradient of the document")
        fill = _gradient_fill(gradients[gid], gradients, *_user_space(element))
        fill.opacity *= opacity
        return fill if fill.opacity > 0.0 else None
    try:
        colour, alpha = _parse_colour(text, str(values.get("color", "black")))
    except SvgError as error:
        raise SvgError(f"{what} {key}: {error}") from None
    return _Fill(colour, opacity=opacity * alpha) if opacity * alpha > 0.0 else None



def _user_space(element) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The element's bounding box (min, size) in its own user space, and the 2x3 affine map
    from image coordinates (where svgelements put the element) to that space."""
    import svgelements as se

    try:
        to_user = ~se.Matrix(element.values.get("transform", ""))
    except ZeroDivisionError:
        raise SvgError(f"{_element_name(element)}: its transform is singular, so its gradient has no place") from None
    to_user = np.array([[to_user.a, to_user.c, to_user.e], [to_user.b, to_user.d, to_user.f]])
    # The box of the shape as svgelements holds it (a transform it could not apply, such as
    # a rotation, left on the element), taken to user space: exact, as its remaining map to
    # there scales and moves along the axes only.
    linear, shift = _affine(element)
    x0, y0, x1, y1 = element.bbox(transformed=False, with_stroke=False) or (0.0, 0.0, 1.0, 1.0)
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ linear.T + shift
    corners = np.c_[corners, np.ones(4)] @ to_user.T
    low, high = corners.min(axis=0), corners.max(axis=0)
    return (low, np.maximum(high - low, 1e-12)), to_user


def _affine(element) -> tuple[np.ndarray, np.ndarray]:
    """The (2, 2) linear part and (2,) shift of the transform svgelements left on ``element``
    (reify applies translations and scales to its coordinates; a rotation, skew or
    reflection stays)."""
    m = element.transform
    return np.array([[m.a, m.c], [m.b, m.d]], dtype=np.float64), np.array([m.e, m.f], dtype=np.float64)


def _coordinates(element, *names: str) -> np.ndarray:
    """The element's attributes ``names`` as svgelements holds them (scaled by reify);
    SvgError if one overflowed float64 there."""
    values = np.array([float(getattr(element, name)) for name in names])
    if not np.all(np.isfinite(values)):
        raise SvgError(f"{_element_name(element)}: its {', '.join(names)} overflow float64 once transformed")
    return values


def _perpendicular_axes(columns: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Lengths (2,) of the two columns of ``columns`` (images of a shape's axes) and the
    angle of the first, when they are perpendicular (to 1e-9); None when they are not."""
    lengths = np.hypot(*columns)
    if abs(columns[:, 0] @ columns[:, 1]) > 1e-9 * lengths[0] * lengths[1]:
        return None
    return lengths, float(np.arctan2(columns[1, 0], columns[0, 0]))


def _round_shape(element) -> tuple[type, dict] | None:
    """A filled ``<circle>`` or ``<ellipse>`` as (kind, geometry): the image of an ellipse
    under an affine map is one, of semi-axes the singular values of ``linear @ diag(rx,
    ry)``. A circle that stays one is a circle. None when it draws nothing (a zero radius,
    a singular transform)."""
    import svgelements as se

    linear, shift = _affine(element)
    cx, cy, rx, ry = _coordinates(element, "cx", "cy", "rx", "ry")
    centre = linear @ np.array([cx, cy]) + shift
    axes = linear * np.array([rx, ry])  # columns: the semi-axes' images
    perpendicular = _perpendicular_axes(axes)
    if perpendicular is not None:  # keeps the axes' order and the angle as written
        radii, angle = perpendicular
    else:
        turn, radii, _ = np.linalg.svd(axes)
        angle = float(np.arctan2(turn[1, 0], turn[0, 0]))
    if radii.min() == 0.0:
        return None
    if isinstance(element, se.Circle) and perpendicular is not None and np.isclose(*radii, rtol=1e-9, atol=0.0):
        return Circles, {"centres": centre, "radii": radii[0]}
    return Ellipses, {"centres": centre, "radii": radii, "angles": angle}


def _rectangle(element) -> tuple[type, dict | tuple] | None:
    """A filled ``<rect>`` as (kind, geometry): a rectangle when its transform keeps it one
    with circular corners (rx and ry, as SVG resolves and clamps them, equal once
    transformed), else (skewed, elliptical corners) a path; None when it draws nothing."""
    linear, shift = _affine(element)
    x, y, width, height, rx, ry = _coordinates(element, "x", "y", "width", "height", "rx", "ry")
    sides = linear * np.array([width, height])  # columns: the sides' images
    perpendicular = _perpendicular_axes(sides)
    if perpendicular is None:  # a parallelogram
        return _filled_path(element)
    sizes, angle = perpendicular
    if sizes.min() == 0.0:
        return None
    stretch = np.hypot(*linear)  # along its width and its height
    # abs: reify turns a scale of -1 along both axes into negative sizes and radii.
    rx, ry = abs(rx) * stretch[0], abs(ry) * stretch[1]
    if not np.isclose(rx, ry, rtol=1e-9, atol=0.0):  # elliptical corners
        return _filled_path(element)
    centre = linear @ np.array([x + 0.5 * width, y + 0.5 * height]) + shift
    return Rectangles, {"centres": centre, "sizes": sizes, "angles": angle, "corner_radii": rx}


def _filled_path(element) -> tuple[type, tuple] | None:
    """A filled shape as (Paths, (contours, fill rule)): its outline with the transform
    applied (arcs as cubics); None when it encloses nothing (no segment, or all its points
    on one line)."""
    contours = _contours(element)
    points = np.array([point for contour in contours for segment in contour for point in segment]).reshape(-1, 2)
    if len(points) < 3 or np.linalg.matrix_rank(points - points[0]) < 2:
        return None
    return Paths, (contours, _fill_rule(element))


def _corners(element) -> list[tuple[float, float]] | None:
    """The corners of a filled polygon, polyline or path of one contour of straight lines
    (a repeated closing point dropped); None for curves or several contours."""
    import svgelements as se

    if isinstance(element, se.Path):
        points = []
        for k, segment in enumerate(element):
            if isinstance(segment, se.Move) and k > 0 or not isinstance(segment, (se.Move, se.Line, se.Close)):
                return None
            if not isinstance(segment, se.Close):
                points.append((segment.end.x, segment.end.y))
    else:
        points = [(p.x, p.y) for p in element.points]
    if len(points) > 2 and points[-1] == points[0]:
        points.pop()
    return [(float(x), float(y)) for x, y in points]


def _contours(path) -> list[list[list[tuple[float, float]]]]:
    """A filled path (an svgelements Path) as the contours :meth:`Paths.from_contours` takes:
    per subpath with segments (each closed, as a fill closes it), its segments' control
    points, read as a stroke's outline is (:func:`_subpaths`), each segment starting exactly
    where the one before it ends."""
    contours = [[list(controls) for _, controls in pieces] for pieces, _ in _subpaths(path)]
    for contour in contours:
        for before, segment in pairwise(contour):
            segment[0] = before[-1]
    return contours


def _fill_rule(element) -> str:
    """The element's fill-rule (inherited, as svgelements passes it down), nonzero by default."""
    rule = str(element.values.get("fill-rule", "nonzero")).strip()
    if rule not in FILL_RULES:
        raise SvgError(f"{_element_name(element)}: fill-rule {_excerpt(rule)!r} is neither nonzero nor evenodd")
    return rule


Piece = tuple[type, Any]  # a part of what an element draws: (group type, its geometry)
QUARTER_HANDLE = 4.0 * (math.sqrt(2.0) - 1.0) / 3.0  # of a cubic quarter circle, per radius


def _subpaths(element, dots: bool = False) -> list[tuple[list[Piece], bool]]:
    """The outline of a stroked shape as its subpaths, each (pen pieces, closed): straight
    segments, quadratic and cubic Béziers (arcs become cubics); a circle's or an ellipse's
    is four cubic quarter arcs (handles ``QUARTER_HANDLE`` times the semi-axes, the affine
    image of the circle's). Nothing for one that draws nothing. With ``dots`` (round or
    square caps), a subpath of zero length (a line or a close back to its start, not a
    lone move) is a straight segment of zero length: SVG strokes it as a dot."""
    import svgelements as se

    def xy(point) -> tuple[float, float]:
        return float(point.x), float(point.y)

    if isinstance(element, (se.Circle, se.Ellipse)):
        linear, shift = _affine(element)
        cx, cy, rx, ry = _coordinates(element, "cx", "cy", "rx", "ry")
        if rx == 0.0 or ry == 0.0:
            return []
        centre, u, v = linear @ [cx, cy] + shift, linear @ [rx, 0.0], linear @ [0.0, ry]
        ends = [centre + u, centre + v, centre - u, centre - v, centre + u]
        pieces = []
        for k in range(4):  # the quarter from one axis end to the next: ends[k] = c + a, ends[k+1] = c + b
            a, b = ends[k] - centre, ends[k + 1] - centre
            controls = [ends[k], ends[k] + QUARTER_HANDLE * b, ends[k + 1] + QUARTER_HANDLE * a, ends[k + 1]]
            pieces.append((CubicCurves, [(float(x), float(y)) for x, y in controls]))
        return [(pieces, True)]
    path = se.Path(element)
    path.reify()  # a rect or polygon keeps a rotation on itself: apply it to the points
    path.approximate_arcs_with_cubics()
    subpaths = []  # each [pieces, closed, its dot: a zero-length segment, where dots are drawn]
    for segment in path:
        if isinstance(segment, se.Move) or not subpaths or subpaths[-1][1]:
            subpaths.append([[], False, []])
        pieces = subpaths[-1][0]
        if isinstance(segment, (se.Line, se.Close)) and segment.start is not None and segment.start == segment.end:
            subpaths[-1][2] = [(Strokes, [xy(segment.start), xy(segment.end)])] if dots else []
        elif isinstance(segment, (se.Line, se.Close)) and segment.start is not None:
            pieces.append((Strokes, [xy(segment.start), xy(segment.end)]))
        elif isinstance(segment, se.QuadraticBezier):
            pieces.append((QuadraticCurves, [xy(segment.start), xy(segment.control), xy(segment.end)]))
        elif isinstance(segment, se.CubicBezier):
            pieces.append((CubicCurves, [xy(segment.start), xy(segment.control1), xy(segment.control2), xy(segment.end)]))
        if isinstance(segment, se.Close):
            subpaths[-1][1] = True
    return [(pieces or dot, closed) for pieces, closed, dot in subpaths if pieces or dot]


def _stretches(element) -> np.ndarray:
    """The largest and smallest stretch (2,) of the element's whole transform (singular
    values of its linear part, as written: reify has applied part of it to the points)."""
    import svgelements as se

    m = se.Matrix(element.values.get("transform", ""))
    return np.linalg.svd([[m.a, m.c], [m.b, m.d]], compute_uv=False)


def _zero_size(element) -> bool:
    """Whether SVG draws neither fill nor stroke of the element: a circle, ellipse or rect
    of zero size, or any shape under a singular transform."""
    import svgelements as se

    if _stretches(element)[1] == 0.0:
        return True
    sizes = {se.Circle: ("rx", "ry"), se.Ellipse: ("rx", "ry"), se.Rect: ("width", "height")}.get(type(element), ())
    return bool(sizes) and not np.all(_coordinates(element, *sizes))


def _round_differs(subpaths: list[tuple[list[Piece], bool]]) -> tuple[bool, bool]:
    """Whether the outline has ends (where a cap shows) and corners (joints where the
    direction turns, where a join shows): where round caps and joins differ from others."""

    def direction(points) -> np.ndarray:  # the first nonzero step along the control points
        steps = np.diff(np.array(points), axis=0)
        moving = steps[np.any(steps != 0.0, axis=1)]
        return moving[0] / np.hypot(*moving[0]) if len(moving) else np.zeros(2)

    ends = any(not closed for _, closed in subpaths)
    corners = False
    for pieces, closed in subpaths:
        joints = list(pairwise(pieces)) + ([(pieces[-1], pieces[0])] if closed else [])
        for (_, before), (_, after) in joints:
            turn = direction(before[::-1]) + direction(after)  # zero when the direction goes straight on
            corners |= bool(np.hypot(*turn) > 1e-6)
    return ends, corners


class _Run:
    """Consecutive elements of one kind inside one SVG group, the first named ``first``:
    becomes one shape group."""

    def __init__(self, kind: type, first: str):
        self.kind, self.first = kind, first
        self.geometry, self.fills, self.explicit_opacity = [], [], False
        self.points: dict[tuple[float, float], int] = {}

    def index(self, point) -> int:
        return self.points.setdefault(point, len(self.points))

    def add(self, geometry, fill: _Fill, explicit_opacity: bool) -> None:
        self.geometry.append(geometry)
        self.fills.append(fill)
        self.explicit_opacity |= explicit_opacity

    def build(self) -> ShapeGroup:
        """The shape group; SvgError naming the run's first element if the group's own check
        refuses its values (numbers that overflow once transformed, or out of range)."""
        with np.errstate(all="ignore"):  # what overflows is named by the check
            group = self._group()
        try:
            group.check_values(type(group).__name__)
        except ValueError as error:
            raise SvgError(f"the elements from {self.first} on: {error}") from None
        return group

    def _group(self) -> ShapeGroup:
        points = np.array(list(self.points), dtype=np.float64).reshape(-1, 2)
        opacities = np.array([fill.opacity for fill in self.fills]) if self.explicit_opacity else None
        if self.kind in (Strokes, QuadraticCurves, CubicCurves):
            index = np.array([corners for corners, _ in self.geometry])
            middles = points[index].mean(axis=1)
            colours = np.array([fill.at(m, 1.0)[0] for fill, m in zip(self.fills, middles)])
            widths = np.array([width for _, width in self.geometry])
            return self.kind(points, index, widths, np.clip(colours, 0.0, 1.0), opacities)
        if self.kind is Triangles:
            shapes = Triangles(points, np.array(self.geometry), np.zeros((len(self.geometry), 3)))
        elif self.kind is Paths:
            contours, rules = zip(*self.geometry)
            shapes = Paths.from_contours(contours, np.zeros((len(contours), 3)), list(rules))
        else:  # circles, ellipses, rectangles: a geometry of named parameters per element
            columns = {key: np.array([geometry[key] for geometry in self.geometry]) for key in self.geometry[0]}
            shapes = self.kind(**columns, colours=np.zeros((len(self.geometry), 3)))
        # Each kind anchors its linear fill in its own frame.
        anchors, scales = shapes.fill_frames()
        bases, slopes = zip(*(fill.at(a, s) for fill, a, s in zip(self.fills, anchors, scales)))
        slopes = np.array(slopes) if any(fill.linear for fill in self.fills) else None
        return shapes.with_parameters({"colours": np.array(bases), "slopes": slopes, "opacities": opacities})


def svg_to_scene(source, strict: bool = False) -> Scene:
    """Read an SVG document (a path, or its text or bytes) into a :class:`Scene`.

    What has no counterpart here (``<text>``, ``<image>``, ``<foreignObject>``, clip paths,
    masks, filters, markers, radial gradients and patterns, filled shapes other than
    circles, ellipses, rectangles and triangles) is skipped, and one :class:`SvgWarning`
    line names it with its count per reason, with caps and joins drawn round where SVG
    draws them otherwise; ``strict=True`` refuses the first skipped thing with an SvgError
    instead (caps and joins are drawn, so they still only warn). An element that paints
    nothing (no paint, opacity 0, zero size) is dropped silently.

    Raises :class:`SvgError`, one line naming the first problem: a number that is none or
    overflows, a colour that is none, an unknown size, nesting too deep for svgelements,
    nothing drawable left.
    """
    import svgelements as se

    root = _read_document(source)
    _check_structure(root)
    _check_numbers(root)
    width, height = _document_size(root)
    servers = ("linearGradient", "radialGradient", "pattern")
    gradients = {node.get("id"): node for node in root.iter() if _tag(node) in servers}
    reader = _Reader((width, height), gradients, strict)
    _skip_effects(root, reader)
    # svgelements reads the size as we do (a missing or percentage width would be 1000 px to it).
    root.set("width", repr(width))
    root.set("height", repr(height))
    for node in root.iter():
        if _tag(node) == "path" and node.get("d") is None:
            node.set("d", "")  # as SVG: a path without data draws nothing (svgelements fails on it)
        _resolve_radii(node)
    with _arithmetic_named("the SVG"):
        document = se.SVG.parse(io.BytesIO(ElementTree.tostring(root)), reify=True)
    for element in document.elements() if document is not None else ():  # None: <svg display="none">
        if isinstance(element, se.Group):
            reader.new_group = True
            continue
        tag = element.values.get("tag")
        if tag in UNREAD_ELEMENTS:  # a <tspan> is its <text>'s
            reader.skip(_Skip(f"{{n}} <{tag}>", f"unsupported SVG element {_element_name(element)}"))
        elif isinstance(element, se.Shape):
            with _arithmetic_named(_element_name(element)):
                reader.shape(element)
    warning = reader.warning()
    if not reader.runs:
        raise SvgError(
            "nothing drawable: " + (warning or "the SVG has no circles, ellipses, rectangles, triangles, paths, lines or curves")
        )
    if warning is not None:
        warnings.warn(warning, SvgWarning, stacklevel=2)
    return Scene(round(width), round(height), reader.background, tuple(run.build() for run in reader.runs))


def _skip_effects(root: ElementTree.Element, reader: _Reader) -> None:
    """Count the clip paths, masks, filters and markers of the drawn elements (each drawn
    without it) for the reader's warning, and move masks, markers and symbols outside
    ``<defs>`` into one: svgelements would draw their contents where they stand."""
    stack = [(root, None)]
    hidden = []  # non-rendering containers outside <defs>, with their parents
    while stack:
        node, parent = stack.pop()
        if _tag(node) in NON_RENDERING:
            if _tag(node) in ("mask", "marker", "symbol") and _tag(parent) != "defs":
                hidden.append((node, parent))
            continue
        values = _style(node)
        for effect, done in EFFECTS.items():
            names = [effect] if effect != "marker" else ["marker", "marker-start", "marker-mid", "marker-end"]
            if any(values.get(name, "none").strip() not in ("none", "") for name in names):
                reader.skip(_Skip(
                    f"the {effect} of {{n}} element{{s}} (drawn {done})",
                    f"{_node_name(node)}: its {effect} is not read",
                ))  # fmt: skip
        stack.extend((kid, node) for kid in reversed(node))
    for node, parent in hidden:
        parent.remove(node)
        ElementTree.SubElement(root, "defs").append(node)


def _resolve_radii(node: ElementTree.Element) -> None:
    """Set the radii of a ``<circle>``, ``<ellipse>`` or ``<rect>`` as SVG 2 reads them, where
    svgelements would not: a circle without ``r`` draws nothing (it takes 1), and a missing or
    ``auto`` rx or ry takes the other's value (svgelements takes 1 for an ellipse's, and drops
    an ellipse or loses a rect's corners for ``auto``); neither given, an ellipse draws
    nothing and a rect has sharp corners. SvgError for a radius in percent: SVG takes it of
    the viewport, svgelements of the shape."""
    tag = _tag(node)
    keys = {"circle": ("r",), "ellipse": ("rx", "ry"), "rect": ("rx", "ry")}.get(tag, ())
    for key in keys:
        if "%" in node.get(key, ""):
            raise SvgError(f'{_node_name(node)} {key}="{_excerpt(node.get(key))}": radii in percent are not read')
    if tag == "circle" and node.get("r") is None:
        node.set("r", "0")
    elif tag in ("ellipse", "rect"):
        given = {key: node.get(key) for key in keys if node.get(key, "auto").strip() != "auto"}
        for key, other in (("rx", "ry"), ("ry", "rx")):
            node.set(key, given.get(key, given.get(other, "0")))


@contextmanager
def _arithmetic_named(what: str):
    """Arithmetic that svgelements or numpy cannot do in float64 (numbers that overflow once
    multiplied, arcs between points 1e300 apart) as one SvgError naming ``what``."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield
    except SvgError:
        raise
    except (ArithmeticError, ValueError) as error:
        raise SvgError(f"{what}: cannot be computed in float64 ({type(error).__name__}: {_excerpt(str(error))})") from None


class _Reader:
    """What the shapes of an SVG document draw, read in order: runs of one kind (a new one at
    each group), the background (a first, full-size rect, painted over white paper), and
    what was skipped or drawn round (counted per reason, for the one warning)."""

    def __init__(self, size: tuple[float, float], gradients: dict, strict: bool):
        self.size, self.gradients, self.strict = size, gradients, strict
        self.background, self.runs, self.new_group = np.ones(3), [], True
        self.skipped: dict[str, int] = {}  # reason template -> count, in document order
        self.approximated: dict[str, int] = {}  # "butt caps as round" -> elements

    def skip(self, skip: _Skip) -> None:
        """Count what ``skip`` names; SvgError naming it when strict."""
        if self.strict:
            raise SvgError(skip.message)
        self.skipped[skip.reason] = self.skipped.get(skip.reason, 0) + 1

    def warning(self) -> str | None:
        """The one line saying what was skipped and drawn round, or None if nothing was."""
        parts = []
        if self.skipped:
            parts.append("skipped " + ", ".join(reason.format(n=n, s="s" * (n > 1)) for reason, n in self.skipped.items()))
        if self.approximated:
            parts.append(
                "drew "
                + ", ".join(f"{what} on {n} element{'s' * (n > 1)}" for what, n in self.approximated.items())
            )
        return "; ".join(parts) or None

    def _covers(self, rectangle: dict) -> bool:
        """Whether the rectangle's geometry holds the whole image."""
        image = np.array([[0.0, 0.0], [self.size[0], 0.0], [0.0, self.size[1]], self.size])
        args = (rectangle[key] for key in ("centres", "sizes", "angles", "corner_radii"))
        return bool(np.all(box_distance(image, *args) <= 0.0))

    def _paint(self, element, key: str) -> _Fill | None:
        """The element's fill or stroke paint, None if it paints nothing or is skipped."""
        try:
            return _paint(element, key, self.gradients)
        except _Skip as skip:
            self.skip(skip)
            return None

    @staticmethod
    def _filled(element) -> list[Piece]:
        """What a filled shape draws as (kind, geometry) pieces; none if nothing."""
        import svgelements as se

        if isinstance(element, (se.Circle, se.Ellipse, se.Rect)):
            shape = _rectangle(element) if isinstance(element, se.Rect) else _round_shape(element)
            return [] if shape is None else [shape]
        corners = _corners(element)
        if corners is not None and len(corners) == 3:  # a triangle stays one (round trips exact)
            return [(Triangles, corners)]
        shape = _filled_path(element)
        return [] if shape is None else [shape]

    def shape(self, element) -> None:
        """Add what the svgelements shape ``element`` draws: its fill, then its stroke on top."""
        import svgelements as se

        fill, stroke = self._paint(element, "fill"), self._paint(element, "stroke")
        if stroke is not None and element.implicit_stroke_width == 0:  # SVG draws no stroke of width 0
            stroke = None
        if isinstance(element, se.SimpleLine):  # a line has no inside to fill
            fill = None
        hidden = str(element.values.get("visibility", "visible")).strip() in ("hidden", "collapse")
        if (fill is None and stroke is None) or hidden or _zero_size(element):  # draws nothing
            return
        if fill is not None:
            pieces = self._filled(element)
            if pieces and pieces[0][0] is Rectangles and not self.runs and self._covers(pieces[0][1]) and not fill.linear:
                # a background, painted over white paper
                self.background = fill.opacity * fill.colour + (1.0 - fill.opacity) * self.background
                pieces = []
            self._add(element, pieces, fill, None)
        if stroke is not None:
            subpaths = _subpaths(element, str(element.values.get("stroke-linecap", "butt")).strip() != "butt")
            self._note_approximations(element, subpaths)
            width = float(element.implicit_stroke_width)
            self._add(element, [piece for pieces, _ in subpaths for piece in pieces], stroke, width)

    def _note_approximations(self, element, subpaths) -> None:
        """Count where the element's stroke is drawn otherwise than SVG draws it, when that
        shows: caps and joins drawn round (an outline without ends has no caps), and a
        stroke of even width under a transform that stretches it unevenly."""
        if not subpaths:
            return
        ends, corners = _round_differs(subpaths)
        cap = str(element.values.get("stroke-linecap", "butt")).strip()
        join = str(element.values.get("stroke-linejoin", "miter")).strip()
        stretches = _stretches(element)
        for shows, what in (
            (ends and cap != "round", f"{cap} caps as round"),
            (corners and join != "round", f"{join} joins as round"),
            (stretches[0] > (1.0 + 1e-9) * stretches[1], "strokes that a skew or an uneven scale thins as even"),
        ):
            if shows:
                self.approximated[what] = self.approximated.get(what, 0) + 1

    def _add(self, element, pieces: list[Piece], paint: _Fill, width: float | None) -> None:
        """Add pieces painted with ``paint`` (a stroke's of pen ``width``) to the runs."""
        explicit = any(key in element.values for key in ("opacity", "fill-opacity", "stroke-opacity"))
        explicit |= paint.opacity != 1.0
        for piece_kind, piece in pieces:
            if self.new_group or self.runs[-1].kind is not piece_kind:
                self.runs.append(_Run(piece_kind, _element_name(element)))
                self.new_group = False
            run = self.runs[-1]
            if piece_kind is Triangles:
                piece = [run.index(p) for p in piece]
            elif piece_kind in (Strokes, QuadraticCurves, CubicCurves):  # its points, shared, and its width
                piece = ([run.index(p) for p in piece], width)
            run.add(piece, paint, explicit)


def load_svg(path, strict: bool = False) -> Scene:
    """:func:`svg_to_scene` of the file at ``path``, with a one-line error if it is missing."""
    if not Path(path).is_file():
        raise SvgError(f"{path}: no such file")
    return svg_to_scene(Path(path), strict)
