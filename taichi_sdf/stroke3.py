"""Stroke sequences in the stroke-3 format of SketchRNN and QuickDraw, to and from scenes.

A stroke-3 sketch is an (N, 3) array of rows ``(dx, dy, pen_lifted)``: each row moves the
pen by ``(dx, dy)`` from the previous point (the first row from the origin) and
``pen_lifted = 1`` ends the current stroke at that point (the last row always does). A
stroke of one point is a dot.

Files: ``.npy`` holding one sketch (or an object array of sketches), ``.npz`` holding one
under the key ``sketch`` or, as QuickDraw's and SketchRNN's datasets do, object arrays of
sketches under ``train``/``valid``/``test``; they are read by :mod:`taichi_sdf.npyfiles`,
which runs no code from them. In a scene a sketch is one pen group: a
polyline of :class:`~taichi_sdf.scene.Strokes` joined at shared points, or a polycurve of
:class:`~taichi_sdf.scene.CubicCurves` through the same points (smooth, with Catmull-Rom
tangents). Writing a scene back keeps the points strokes end at (a curve's inner controls
have no place in stroke-3); the pixel position of sketch point ``q`` is
``origin + scale * q``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from taichi_sdf.drawing import PEN_WIDTH
from taichi_sdf.npyfiles import ArrayFileError, array_names, read_array
from taichi_sdf.scene import CubicCurves, QuadraticCurves, Scene, Strokes

SIZE = 256  # pixels along the longer side of a sketch rendered on its own
MARGIN = 0.05  # of the longer side, around a sketch placed in an image
DATASET_KEYS = ("sketch", "train", "valid", "test")


class Stroke3Error(ValueError):
    """A file or array that is not a stroke-3 sketch; the message is one line."""


def check_sketch(sketch, name: str = "sketch") -> np.ndarray:
    """``sketch`` as a float64 (N, 3) stroke-3 array with a pen state of 0 or 1 per row and
    the last row ending its stroke, whose pen positions and extent are finite in float64;
    Stroke3Error naming the problem otherwise."""
    try:
        array = np.asarray(sketch, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise Stroke3Error(f"{name}: not a numeric stroke-3 array") from None
    if array.ndim != 2 or array.shape[1] != 3 or len(array) == 0:
        raise Stroke3Error(f"{name}: stroke-3 needs rows of (dx, dy, pen_lifted), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise Stroke3Error(f"{name}: contains NaN or infinite values")
    if not np.all((array[:, 2] == 0) | (array[:, 2] == 1)):
        raise Stroke3Error(f"{name}: the pen state (third column) must be 0 or 1")
    with np.errstate(over="ignore", invalid="ignore"):  # named below, not warned about
        points = np.cumsum(array[:, :2], axis=0)
        extent = np.ptp(points, axis=0)
    beyond = np.flatnonzero(~np.all(np.isfinite(points), axis=1))
    if len(beyond):
        raise Stroke3Error(f"{name}: the moves up to row {beyond[0]} carry the pen beyond float64's range")
    if not np.all(np.isfinite(extent)):
        raise Stroke3Error(f"{name}: spans more than float64's range")
    array = array.copy()
    array[-1, 2] = 1.0
    return array


def read_stroke3(path: str | Path, index: int = 0) -> np.ndarray:
    """The sketch (N, 3) in a stroke-3 file; ``index`` picks one of a dataset's sketches
    (from ``sketch`` or else the first of ``train``/``valid``/``test`` in an ``.npz``)."""
    path = Path(path)
    try:
        names = array_names(path)
        key = None if names is None else next((key for key in DATASET_KEYS if key in names), None)
        if names is not None and key is None:
            raise Stroke3Error(f"{path}: no stroke-3 array (keys {', '.join(DATASET_KEYS)})")
        sketches = read_array(path, key)
    except ArrayFileError as error:
        raise Stroke3Error(str(error)) from None
    if sketches.dtype == object:
        if sketches.ndim != 1:
            raise Stroke3Error(f"{path}: holds a {sketches.shape} object array; a dataset of sketches is a list")
        if not 0 <= index < len(sketches):
            raise Stroke3Error(f"{path}: holds {len(sketches)} sketches, there is no number {index}")
        sketches = sketches[index]
    return check_sketch(sketches, str(path))


def write_stroke3(path: str | Path, sketch: np.ndarray) -> None:
    """Write one sketch (N, 3): ``.npy`` as the array itself, ``.npz`` under ``sketch``."""
    sketch = check_sketch(sketch)
    if Path(path).suffix.lower() == ".npz":
        np.savez(path, sketch=sketch)
    else:
        np.save(path, sketch)


def sketch_strokes(sketch: np.ndarray) -> list[np.ndarray]:
    """The strokes of a sketch as absolute point arrays (K, 2) in sketch units."""
    sketch = check_sketch(sketch)
    points = np.cumsum(sketch[:, :2], axis=0)
    ends = np.flatnonzero(sketch[:, 2]) + 1
    return np.split(points, ends[:-1])


def sketch_from_strokes(strokes) -> np.ndarray:
    """The stroke-3 sketch (N, 3) of strokes given as absolute point sequences (each (K, 2),
    K >= 1): the inverse of :func:`sketch_strokes`."""
    strokes = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes]
    if not strokes or any(len(stroke) == 0 for stroke in strokes):
        raise Stroke3Error("a sketch needs at least one stroke, each of at least one point")
    points = np.concatenate(strokes)
    lifted = np.zeros(len(points))
    lifted[np.cumsum([len(stroke) for stroke in strokes]) - 1] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):  # moves beyond float64 are named by check_sketch
        return check_sketch(np.column_stack([np.diff(points, axis=0, prepend=0.0), lifted]))


def placement(sketch: np.ndarray, width: int, height: int, margin: float = MARGIN) -> tuple[float, np.ndarray]:
    """The ``(scale, origin)`` that centres ``sketch`` in a ``width`` x ``height`` image with
    ``margin`` of the longer side free around it (at most a quarter of a side, so that a thin
    image keeps room): the largest scale at which the sketch fits, 1 for a single point."""
    points = np.cumsum(check_sketch(sketch)[:, :2], axis=0)
    low, high = points.min(axis=0), points.max(axis=0)
    size = np.array([width, height], dtype=np.float64)
    room = size - 2 * np.minimum(margin * size.max(), 0.25 * size)
    extent = high - low
    spans = extent > 0  # an axis the sketch does not extend along (a straight line) sets no scale
    with np.errstate(over="ignore", invalid="ignore"):  # named below, not warned about
        scale = float(np.min(room[spans] / extent[spans])) if np.any(spans) else 1.0
        origin = 0.5 * size - scale * (0.5 * low + 0.5 * high)
    if not np.isfinite(scale):
        raise Stroke3Error(f"sketch: spans {extent.max():g} units, too few to scale to a {width}x{height} image")
    if not np.all(np.isfinite(origin)):
        far = np.abs(np.concatenate([low, high])).max()
        raise Stroke3Error(f"sketch: lies {far:g} units from its start, too far to place at {scale:g} pixels a unit")
    return scale, origin


def scene_from_stroke3(
    sketch: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
    origin=None,
    pen_width: float = PEN_WIDTH,
    curves: bool = False,
) -> Scene:
    """A scene of black ink on white drawing ``sketch`` (N, 3). The image is ``width`` x
    ``height`` (by default :data:`SIZE` on the sketch's longer side); the sketch is
    centred in it unless ``scale`` and ``origin`` (pixels) are given. ``curves`` draws each
    stroke as a smooth polycurve of cubic Béziers through its points instead of a polyline."""
    sketch = check_sketch(sketch)
    if not 0 < pen_width < math.inf:
        raise Stroke3Error(f"the pen width must be a positive number of pixels, got {pen_width}")
    if width is None or height is None:
        extent = np.ptp(np.cumsum(sketch[:, :2], axis=0), axis=0)
        if extent.max() > 0:
            width, height = np.maximum(1, np.round(SIZE * (extent / extent.max()))).astype(int)  # no overflow at 1e308
        else:  # a single point
            width = height = SIZE
    if scale is None or origin is None:
        scale, origin = placement(sketch, width, height)
    with np.errstate(over="ignore", invalid="ignore"):  # named below, not warned about
        strokes = [np.asarray(origin, dtype=np.float64) + scale * stroke for stroke in sketch_strokes(sketch)]
    if not all(np.all(np.isfinite(stroke)) for stroke in strokes):
        raise Stroke3Error(f"scale {scale:g} and origin {origin} place the sketch beyond float64's range")
    group = _polycurves(strokes) if curves else _polylines(strokes)
    n = len(getattr(group, group.INDEX))
    group = group.with_parameters({"widths": np.full(n, float(pen_width)), "colours": np.zeros((n, 3))})
    return Scene(int(width), int(height), [1.0, 1.0, 1.0], (group,))


def _polylines(strokes: list[np.ndarray]) -> Strokes:
    """Segments joining consecutive points of each stroke (a dot: one segment of length 0)."""
    segments, first = [], 0
    for stroke in strokes:
        index = np.arange(first, first + len(stroke))
        segments.append(np.stack([index[:-1], index[1:]], axis=1) if len(stroke) > 1 else [[first, first]])
        first += len(stroke)
    n = sum(len(s) for s in segments)
    return Strokes(np.concatenate(strokes), np.concatenate(segments), np.ones(n), np.zeros((n, 3)))


def _polycurves(strokes: list[np.ndarray]) -> CubicCurves:
    """Cubics through consecutive points of each stroke, tangents by Catmull-Rom (the chord
    between a point's neighbours / 6 sets its controls), so each stroke is smooth."""
    points, curves = [], []
    for stroke in strokes:
        first = sum(len(p) for p in points)
        if len(stroke) == 1:  # a dot: all four controls are its one point
            points.append(stroke)
            curves.append([[first] * 4])
            continue
        padded = np.concatenate([stroke[:1], stroke, stroke[-1:]])
        tangent = (padded[2:] - padded[:-2]) / 6.0
        k = len(stroke) - 1
        controls = np.stack([stroke[:-1] + tangent[:-1], stroke[1:] - tangent[1:]], axis=1)
        rows = np.concatenate([np.concatenate([stroke[:-1, None], controls], axis=1).reshape(-1, 2), stroke[-1:]])
        points.append(rows)
        starts = first + 3 * np.arange(k)
        curves.append(np.stack([starts, starts + 1, starts + 2, starts + 3], axis=1))
    n = sum(len(c) for c in curves)
    return CubicCurves(np.concatenate(points), np.concatenate(curves), np.ones(n), np.zeros((n, 3)))


def stroke3_from_scene(scene: Scene, scale: float = 1.0, origin=(0.0, 0.0)) -> np.ndarray:
    """The stroke-3 sketch (N, 3) of a scene's pen group (its only group of
    :class:`~taichi_sdf.scene.Strokes`, quadratic or cubic curves): primitives that start
    where the previous one ended continue its stroke; sketch point = (pixel - origin) / scale."""
    if len(scene.shapes) != 1 or not isinstance(scene.shapes[0], (Strokes, QuadraticCurves, CubicCurves)):
        kinds = ", ".join(type(g).__name__ for g in scene.shapes)
        raise Stroke3Error(f"stroke-3 holds one group of strokes or curves; this scene has {kinds}")
    group = scene.shapes[0]
    index = getattr(group, group.INDEX)
    strokes: list[list[int]] = []  # point indices of each stroke
    for start, end in zip(index[:, 0], index[:, -1]):
        if strokes and strokes[-1][-1] == start:
            strokes[-1].append(end)
        else:
            strokes.append([start] if start == end else [start, end])
    origin = np.asarray(origin, dtype=np.float64)
    if not (0 < scale < math.inf and np.all(np.isfinite(origin))):
        raise Stroke3Error(f"the scale must be a positive number and the origin finite, got {scale} and {origin}")
    with np.errstate(over="ignore"):  # a sketch beyond float64 is named by check_sketch
        return sketch_from_strokes([(group.points[stroke] - origin) / scale for stroke in strokes])
